//! The fit of a multi-trait model read as trait × trait matrices: `G0` of
//! every random term and `R0`, each as variances, covariances and
//! correlations with standard errors, and heritabilities
//! `hᵢ² = g_ii / (g_ii + r_ii)` for a pedigree term.
//!
//! Standard errors are by the delta method on the inverse AI matrix over
//! the natural parameters ([`RemlFit::ai_inverse_natural`]): for a function
//! `f(θ)`, `se = √(∇fᵀ Σ ∇f)`; with `r = g_ab/√(g_aa g_bb)`,
//! `∂r/∂g_ab = 1/√(g_aa g_bb)`, `∂r/∂g_aa = −r/(2 g_aa)`; with
//! `h² = g/(g + e)`, `∂h²/∂g = e/(g + e)²`, `∂h²/∂e = −g/(g + e)²`.
//! A parameter held at a bound has no standard error, and neither has
//! anything that depends on it (NaN).

use super::builder::{MultiTraitModel, TraitCovariance, TraitResidual};
use crate::reml::{RemlError, RemlFit, RemlOptions};
use nalgebra::{DMatrix, DVector};

/// A trait × trait covariance matrix with its standard errors.
#[derive(Clone, Debug, PartialEq)]
pub struct TraitMatrix {
    /// The term (`residual` for `R0`).
    pub term: String,
    /// The trait names (rows and columns).
    pub traits: Vec<String>,
    /// Variances and covariances.
    pub covariance: DMatrix<f64>,
    /// Their standard errors.
    pub covariance_se: DMatrix<f64>,
    /// Correlations (1 on the diagonal).
    pub correlation: DMatrix<f64>,
    /// Their standard errors (0 on the diagonal).
    pub correlation_se: DMatrix<f64>,
}

/// The heritability of one trait from a pedigree term.
#[derive(Clone, Debug, PartialEq)]
pub struct Heritability {
    /// The pedigree term.
    pub term: String,
    /// The trait.
    pub trait_name: String,
    /// `g_ii / (g_ii + r_ii)` (other random terms are not in the
    /// denominator).
    pub value: f64,
    /// Its delta-method standard error.
    pub se: f64,
}

/// A fitted multi-trait model: the REML fit and its trait matrices.
#[derive(Clone, Debug)]
pub struct MultiTraitFit {
    /// The fit of the long-format mixed model (parameters named
    /// `term/trait/sigma^2_a_b` and `residual/sigma^2_a_b` by trait index).
    pub fit: RemlFit,
    /// `G0` of every random term, in the order given.
    pub g: Vec<TraitMatrix>,
    /// `R0`.
    pub r: TraitMatrix,
    /// Heritabilities of every trait for every pedigree term.
    pub heritabilities: Vec<Heritability>,
    /// Records dropped because none of their traits was observed.
    pub dropped_records: usize,
}

/// A matrix entry as a value and its gradient over the natural parameters.
type Entry = (f64, DVector<f64>);

fn entries_unstructured(t: usize, off: usize, np: usize, nat: &[f64]) -> Vec<Vec<Entry>> {
    let tri = |a: usize, b: usize| {
        let (a, b) = if a >= b { (a, b) } else { (b, a) };
        a * (a + 1) / 2 + b
    };
    (0..t)
        .map(|a| {
            (0..t)
                .map(|b| {
                    let k = off + tri(a, b);
                    let mut g = DVector::zeros(np);
                    g[k] = 1.0;
                    (nat[k], g)
                })
                .collect()
        })
        .collect()
}

fn entries_diagonal(t: usize, off: usize, np: usize, nat: &[f64]) -> Vec<Vec<Entry>> {
    (0..t)
        .map(|a| {
            (0..t)
                .map(|b| {
                    let mut g = DVector::zeros(np);
                    if a == b {
                        g[off + a] = 1.0;
                        (nat[off + a], g)
                    } else {
                        (0.0, g)
                    }
                })
                .collect()
        })
        .collect()
}

/// `ΛΛᵀ + Ψ`: loadings factor by factor (`λ_ij`, `i ≥ j`), then `ψ`.
#[allow(clippy::needless_range_loop)] // (trait, factor) positions
fn entries_fa(t: usize, k: usize, off: usize, np: usize, nat: &[f64]) -> Vec<Vec<Entry>> {
    let mut pos = vec![vec![None; k]; t];
    let mut c = off;
    for (j, _) in (0..k).enumerate() {
        for row in pos.iter_mut().skip(j) {
            row[j] = Some(c);
            c += 1;
        }
    }
    let psi = c;
    let lam = |i: usize, j: usize| pos[i][j].map_or(0.0, |p| nat[p]);
    (0..t)
        .map(|a| {
            (0..t)
                .map(|b| {
                    let mut g = DVector::zeros(np);
                    let mut v = 0.0;
                    for j in 0..k {
                        v += lam(a, j) * lam(b, j);
                        if let Some(p) = pos[a][j] {
                            g[p] += lam(b, j);
                        }
                        if let Some(p) = pos[b][j] {
                            g[p] += lam(a, j);
                        }
                    }
                    if a == b {
                        v += nat[psi + a];
                        g[psi + a] = 1.0;
                    }
                    (v, g)
                })
                .collect()
        })
        .collect()
}

fn se(g: &DVector<f64>, cov: &DMatrix<f64>) -> f64 {
    // entries that do not depend on a parameter ignore its (NaN) row
    let mut s = 0.0;
    for i in 0..g.len() {
        if g[i] == 0.0 {
            continue;
        }
        for j in 0..g.len() {
            if g[j] != 0.0 {
                s += g[i] * cov[(i, j)] * g[j];
            }
        }
    }
    if s >= 0.0 {
        s.sqrt()
    } else {
        f64::NAN
    }
}

fn matrix(term: &str, traits: &[String], e: &[Vec<Entry>], cov: &DMatrix<f64>) -> TraitMatrix {
    let t = traits.len();
    let v = DMatrix::from_fn(t, t, |a, b| e[a][b].0);
    let vse = DMatrix::from_fn(t, t, |a, b| se(&e[a][b].1, cov));
    let mut r = DMatrix::identity(t, t);
    let mut rse = DMatrix::zeros(t, t);
    for a in 0..t {
        for b in 0..t {
            if a == b {
                continue;
            }
            let (gaa, gbb, gab) = (e[a][a].0, e[b][b].0, e[a][b].0);
            let d = (gaa * gbb).sqrt();
            let rho = gab / d;
            r[(a, b)] = rho;
            let grad = &e[a][b].1 / d
                - &e[a][a].1 * (rho / (2.0 * gaa))
                - &e[b][b].1 * (rho / (2.0 * gbb));
            rse[(a, b)] = se(&grad, cov);
        }
    }
    TraitMatrix {
        term: term.into(),
        traits: traits.to_vec(),
        covariance: v,
        covariance_se: vse,
        correlation: r,
        correlation_se: rse,
    }
}

impl MultiTraitModel {
    /// Fits by AI-REML. Without a start in `opts`, starts from moments
    /// ([`start`](Self::start)). A sparse fit that ends with a singular
    /// `G0` (a genetic correlation of ±1, a common and legitimate optimum)
    /// is completed on the dense backend or not labelled converged, as
    /// every mixed model's ([`MixedModel::fit`](crate::reml::MixedModel::fit)).
    pub fn fit(&self, opts: &RemlOptions) -> Result<MultiTraitFit, RemlError> {
        let mut o = opts.clone();
        if o.start.is_none() {
            o = o.start(self.start.clone());
        }
        let fit = self.model.fit(&o)?;
        Ok(self.read(fit))
    }

    /// Reads a fit of [`model`](Self::model) as trait matrices.
    pub fn read(&self, fit: RemlFit) -> MultiTraitFit {
        let t = self.traits.len();
        let np = fit.natural.len();
        let cov = &fit.ai_inverse_natural;
        let nat = &fit.natural;
        let mut off = 0;
        let mut gs = Vec::new();
        let mut g_entries = Vec::new();
        for term in &self.terms {
            let (e, k) = match term.cov {
                TraitCovariance::Unstructured => {
                    (entries_unstructured(t, off, np, nat), t * (t + 1) / 2)
                }
                TraitCovariance::Diagonal => (entries_diagonal(t, off, np, nat), t),
                TraitCovariance::FactorAnalytic(k) => (
                    entries_fa(t, k, off, np, nat),
                    t * k - k * (k.saturating_sub(1)) / 2 + t,
                ),
            };
            off += k;
            gs.push(matrix(&term.name, &self.traits, &e, cov));
            g_entries.push(e);
        }
        let re = match self.residual {
            TraitResidual::Unstructured => entries_unstructured(t, off, np, nat),
            TraitResidual::Diagonal => entries_diagonal(t, off, np, nat),
        };
        let r = matrix("residual", &self.traits, &re, cov);
        let mut heritabilities = Vec::new();
        for (term, e) in self.terms.iter().zip(&g_entries) {
            if !term.pedigree {
                continue;
            }
            for a in 0..t {
                let (g, gg) = (&e[a][a].0, &e[a][a].1);
                let (s, sg) = (&re[a][a].0, &re[a][a].1);
                let tot = g + s;
                let grad = gg * (s / (tot * tot)) - sg * (g / (tot * tot));
                heritabilities.push(Heritability {
                    term: term.name.clone(),
                    trait_name: self.traits[a].clone(),
                    value: g / tot,
                    se: se(&grad, cov),
                });
            }
        }
        MultiTraitFit {
            fit,
            g: gs,
            r,
            heritabilities,
            dropped_records: self.dropped_records(),
        }
    }
}

/// The BLUPs of one random term, by level and trait.
#[derive(Clone, Debug, PartialEq)]
pub struct TraitBlups {
    /// The term.
    pub term: String,
    /// The levels (rows): the sorted levels of the grouping factor, or every
    /// animal of the pedigree in its order.
    pub levels: Vec<String>,
    /// The traits (columns).
    pub traits: Vec<String>,
    /// `û`, levels × traits.
    pub values: DMatrix<f64>,
    /// `√PEV`, levels × traits (the diagonal of `C⁻¹`, so it includes the
    /// uncertainty of the fixed effects).
    pub se: DMatrix<f64>,
}

impl MultiTraitModel {
    /// The BLUPs of every random term at the estimate of `fit`, by level
    /// and trait, with their standard errors.
    pub fn blups(&self, fit: &MultiTraitFit) -> Result<Vec<TraitBlups>, RemlError> {
        let post = self.model.post(&fit.fit)?;
        let t = self.traits.len();
        Ok(self
            .terms
            .iter()
            .zip(&post.blups)
            .map(|(term, b)| {
                let q = term.levels.len();
                let pev = b.pev.diagonal();
                TraitBlups {
                    term: term.name.clone(),
                    levels: term.levels.clone(),
                    traits: self.traits.clone(),
                    values: DMatrix::from_fn(q, t, |l, k| b.values[k * q + l]),
                    se: DMatrix::from_fn(q, t, |l, k| pev[k * q + l].max(0.0).sqrt()),
                }
            })
            .collect())
    }
}
