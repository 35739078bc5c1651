//! The typed builder of a multi-trait model: responses by trait, fixed
//! terms, random terms with a trait covariance `G0` over `I` or a
//! pedigree's `A`, the residual `R0`; stacked into long format (record by
//! record, the observed traits of each in order) and handed to
//! [`MixedModel`] with a sparse inverse for every covariance.

use super::residual::{TraitDiagonal, TraitRecords, TraitUnstructured};
use crate::data::Incidence;
use crate::ops::{Kron, Label, Named};
use crate::pedigree::Pedigree;
use crate::reml::{MixedModel, RemlError};
use crate::structures::{FixedInverse, InverseData};
use crate::{Covariance, CovarianceModel, Diagonal, Identity, Unconstrained, FA};
use nalgebra::DMatrix;
use std::sync::Arc;

/// The operand label of a trait covariance: its parameters read
/// `term/trait/sigma^2_1_0`.
#[derive(Clone, Copy, Default, Debug)]
pub struct TraitLabel;
impl Label for TraitLabel {
    const NAME: &'static str = "trait";
}

/// The trait × trait covariance `G0` of a random term.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraitCovariance {
    /// Unstructured (`us`): every variance and covariance; parameters
    /// `sigma^2_a_b`, optimised in Cholesky form (a genetic correlation of
    /// ±1 is a boundary the fit can reach).
    Unstructured,
    /// Diagonal (`diag`): a variance per trait, traits independent.
    Diagonal,
    /// Factor analytic with `k` factors (`fa(…, k)`, `k` of 1, 2 or 3):
    /// `ΛΛᵀ + Ψ`.
    FactorAnalytic(usize),
}

/// The trait × trait residual covariance `R0` (records independent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TraitResidual {
    /// Unstructured `R0` (`us(trait)`, the default).
    #[default]
    Unstructured,
    /// A residual variance per trait, residuals independent (`diag(trait)`).
    Diagonal,
}

/// A fixed term of a multi-trait model.
#[derive(Clone, Debug, PartialEq)]
enum FixedTerm {
    /// A slope on `x` for every trait (`trait:x`).
    PerTrait(String, Vec<f64>),
    /// One slope on `x` common to all traits (`x`).
    Common(String, Vec<f64>),
}

/// A random term before stacking.
#[derive(Clone, Debug)]
struct RandomSpec {
    name: String,
    /// The level of every record (an index into `levels`).
    level: Vec<usize>,
    levels: Vec<String>,
    cov: TraitCovariance,
    /// `A⁻¹` of a pedigree term (levels are the pedigree's animals).
    ainv: Option<Arc<InverseData>>,
}

/// Builds a multi-trait mixed model
/// `y_rk = x_rkᵀ β + Σ_terms u_{term, level(r), k} + e_rk` for record `r`
/// and trait `k`, with `Var(u_term) = G0 ⊗ I` (or `G0 ⊗ A`) and
/// `Cov(e_r) = R0` restricted to the traits observed on record `r`.
///
/// Every trait has its own intercept. A record whose traits are all
/// missing (NaN) is dropped and counted; the others keep their observed
/// traits.
///
/// ```
/// use covreml::multi_trait::{MultiTrait, TraitCovariance};
/// use covreml::reml::RemlOptions;
/// let nan = f64::NAN;
/// let y1 = vec![1.0, 2.1, nan, 3.3, 2.2, 1.9, 4.0, 3.1, nan];
/// let y2 = vec![0.5, nan, 1.2, 2.0, 1.1, 0.7, 2.6, 1.9, nan];
/// let g = ["a", "a", "a", "b", "b", "b", "c", "c", "c"];
/// let m = MultiTrait::new(&["y1", "y2"], vec![y1, y2])
///     .unwrap()
///     .random("g", &g, TraitCovariance::Diagonal)
///     .unwrap()
///     .build()
///     .unwrap();
/// assert_eq!(m.n_obs(), 14); // 16 cells, 2 missing; the last record has none
/// assert_eq!(m.dropped_records(), 1);
/// assert_eq!(m.model().fixed_names(), ["traity1", "traity2"]);
/// ```
#[derive(Clone, Debug)]
pub struct MultiTrait {
    traits: Vec<String>,
    y: Vec<Vec<f64>>,
    fixed: Vec<FixedTerm>,
    random: Vec<RandomSpec>,
    residual: TraitResidual,
}

fn invalid(reason: String) -> RemlError {
    RemlError::InvalidModel { reason }
}

impl MultiTrait {
    /// The responses: `y[k]` is trait `traits[k]` over the records (NaN
    /// where missing). Errors: no trait, a repeated trait name, lengths
    /// that differ, or an infinite value.
    pub fn new(traits: &[&str], y: Vec<Vec<f64>>) -> Result<Self, RemlError> {
        if traits.is_empty() || traits.len() != y.len() {
            return Err(invalid(format!(
                "{} trait names for {} response columns (at least one needed)",
                traits.len(),
                y.len()
            )));
        }
        for (i, t) in traits.iter().enumerate() {
            if traits[..i].contains(t) {
                return Err(invalid(format!("trait `{t}` is given twice")));
            }
        }
        let n = y[0].len();
        for (t, col) in traits.iter().zip(&y) {
            if col.len() != n {
                return Err(invalid(format!(
                    "trait `{t}` has {} records, trait `{}` has {n}",
                    col.len(),
                    traits[0]
                )));
            }
            if let Some(r) = col.iter().position(|v| v.is_infinite()) {
                return Err(invalid(format!("trait `{t}`, record {r}: infinite value")));
            }
        }
        Ok(MultiTrait {
            traits: traits.iter().map(|s| s.to_string()).collect(),
            y,
            fixed: Vec::new(),
            random: Vec::new(),
            residual: TraitResidual::default(),
        })
    }

    fn n_records(&self) -> usize {
        self.y[0].len()
    }

    fn covariate(&self, name: &str, x: &[f64]) -> Result<(), RemlError> {
        if x.len() != self.n_records() {
            return Err(invalid(format!(
                "covariate `{name}` has {} values for {} records",
                x.len(),
                self.n_records()
            )));
        }
        if let Some(r) = x.iter().position(|v| !v.is_finite()) {
            return Err(invalid(format!(
                "covariate `{name}`, record {r}: not a finite number (drop the record first)"
            )));
        }
        Ok(())
    }

    /// A slope on `x` for every trait (the formula's `trait:x`).
    pub fn trait_slope(mut self, name: &str, x: Vec<f64>) -> Result<Self, RemlError> {
        self.covariate(name, &x)?;
        self.fixed.push(FixedTerm::PerTrait(name.into(), x));
        Ok(self)
    }

    /// One slope on `x` common to all traits (the formula's plain `x`).
    pub fn common_slope(mut self, name: &str, x: Vec<f64>) -> Result<Self, RemlError> {
        self.covariate(name, &x)?;
        self.fixed.push(FixedTerm::Common(name.into(), x));
        Ok(self)
    }

    fn check_term(&self, name: &str, len: usize) -> Result<(), RemlError> {
        if len != self.n_records() {
            return Err(invalid(format!(
                "random term `{name}` has {len} levels for {} records",
                self.n_records()
            )));
        }
        if self.random.iter().any(|r| r.name == name) || name == "residual" {
            return Err(invalid(format!("a term named `{name}` already exists")));
        }
        Ok(())
    }

    /// A random term: the level of every record in `levels`, with
    /// `Var(u) = G0 ⊗ I` over the levels (in sorted order).
    pub fn random<S: AsRef<str>>(
        mut self,
        name: &str,
        levels: &[S],
        cov: TraitCovariance,
    ) -> Result<Self, RemlError> {
        self.check_term(name, levels.len())?;
        let (level, names) = crate::data::level_codes(levels);
        self.random.push(RandomSpec {
            name: name.into(),
            level,
            levels: names,
            cov,
            ainv: None,
        });
        Ok(self)
    }

    /// A pedigree (animal) term: the animal of every record, with
    /// `Var(u) = G0 ⊗ A` over every animal of `pedigree` (`A⁻¹` built
    /// sparsely). Its diagonal `G0` gives the heritabilities.
    pub fn animal<S: AsRef<str>>(
        mut self,
        name: &str,
        animals: &[S],
        pedigree: &Pedigree,
        cov: TraitCovariance,
    ) -> Result<Self, RemlError> {
        self.check_term(name, animals.len())?;
        let z = pedigree
            .incidence(animals)
            .map_err(|e| invalid(format!("random term `{name}`: {e}")))?;
        let data = pedigree
            .a_inverse()
            .into_inverse_data()
            .map_err(|e| invalid(format!("random term `{name}`: A⁻¹: {e}")))?;
        self.random.push(RandomSpec {
            name: name.into(),
            level: z.levels().to_vec(),
            levels: pedigree.ids().to_vec(),
            cov,
            ainv: Some(data),
        });
        Ok(self)
    }

    /// The residual `R0` (unstructured by default).
    pub fn residual(mut self, r: TraitResidual) -> Self {
        self.residual = r;
        self
    }

    /// Stacks the data into long format and builds the model.
    pub fn build(self) -> Result<MultiTraitModel, RemlError> {
        let t = self.traits.len();
        let stacked = self.stack()?;
        let dropped = self.n_records() - stacked.keep.len();
        let (names, x) = self.fixed_design(&stacked);
        let residual = residual_structure(self.residual, &stacked.shape)?;
        let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let model = MixedModel::new(&stacked.y, x, residual)?.with_fixed_names(&name_refs)?;
        let (model, terms) = self.add_random_terms(model, &stacked)?;
        let start = start_values(&stacked.y, &stacked.trait_of, t, &terms, self.residual);
        Ok(MultiTraitModel {
            model,
            traits: self.traits,
            terms,
            residual: self.residual,
            dropped,
            dropped_missing: 0,
            records: stacked.keep,
            trait_of: stacked.trait_of,
            start,
        })
    }

    /// The long format: the records with a trait observed, and the
    /// observations record by record (observed traits in order).
    fn stack(&self) -> Result<Stacked, RemlError> {
        let keep: Vec<usize> = (0..self.n_records())
            .filter(|&r| self.y.iter().any(|col| !col[r].is_nan()))
            .collect();
        if keep.is_empty() {
            return Err(invalid("no record has any trait observed".into()));
        }
        let observed: Vec<Vec<bool>> = keep
            .iter()
            .map(|&r| self.y.iter().map(|col| !col[r].is_nan()).collect())
            .collect();
        let shape =
            TraitRecords::new(self.traits.len(), &observed).map_err(|e| invalid(e.to_string()))?;
        let trait_of = shape.traits().to_vec();
        let record = shape.record_of_obs();
        let y: Vec<f64> = (0..trait_of.len())
            .map(|i| self.y[trait_of[i]][keep[record[i]]])
            .collect();
        Ok(Stacked {
            keep,
            trait_of,
            record,
            y,
            shape,
        })
    }

    /// The fixed-effect names and `X` over the stacked observations: an
    /// intercept per trait, then the slopes.
    fn fixed_design(&self, s: &Stacked) -> (Vec<String>, DMatrix<f64>) {
        let t = self.traits.len();
        let n = s.trait_of.len();
        // The original record of observation `i`.
        let rec = |i: usize| s.keep[s.record[i]];
        let mut names: Vec<String> = self.traits.iter().map(|k| format!("trait{k}")).collect();
        let mut cols: Vec<Vec<f64>> = (0..t)
            .map(|k| s.trait_of.iter().map(|&a| f64::from(a == k)).collect())
            .collect();
        for f in &self.fixed {
            match f {
                FixedTerm::PerTrait(name, x) => {
                    for (k, tn) in self.traits.iter().enumerate() {
                        names.push(format!("trait{tn}:{name}"));
                        cols.push(
                            (0..n)
                                .map(|i| if s.trait_of[i] == k { x[rec(i)] } else { 0.0 })
                                .collect(),
                        );
                    }
                }
                FixedTerm::Common(name, x) => {
                    names.push(name.clone());
                    cols.push((0..n).map(|i| x[rec(i)]).collect());
                }
            }
        }
        let x = DMatrix::from_fn(n, cols.len(), |i, j| cols[j][i]);
        (names, x)
    }

    /// Adds every random term to `model` (levels trait-major: trait `k`,
    /// level `l` at `k·q + l`) with its description.
    fn add_random_terms(
        &self,
        mut model: MixedModel,
        s: &Stacked,
    ) -> Result<(MixedModel, Vec<TermInfo>), RemlError> {
        let t = self.traits.len();
        let mut terms = Vec::with_capacity(self.random.len());
        for spec in &self.random {
            let q = spec.levels.len();
            let codes: Vec<usize> = (0..s.trait_of.len())
                .map(|i| s.trait_of[i] * q + spec.level[s.keep[s.record[i]]])
                .collect();
            let z = Incidence::new(codes, t * q).map_err(|e| invalid(e.to_string()))?;
            let g = trait_structure(t, q, spec.cov, spec.ainv.clone())
                .map_err(|e| invalid(format!("random term `{}`: {e}", spec.name)))?;
            model = model.random(&spec.name, z, g)?;
            terms.push(TermInfo {
                name: spec.name.clone(),
                cov: spec.cov,
                levels: spec.levels.clone(),
                pedigree: spec.ainv.is_some(),
            });
        }
        Ok((model, terms))
    }
}

/// The data of a multi-trait model in long format.
struct Stacked {
    /// The records kept (a trait observed), as indices into the input.
    keep: Vec<usize>,
    /// The trait of every observation.
    trait_of: Vec<usize>,
    /// The record of every observation, as an index into `keep`.
    record: Vec<usize>,
    /// The observations.
    y: Vec<f64>,
    /// Which traits each kept record has.
    shape: TraitRecords,
}

/// The residual `R0` of the kind `kind` over the records of `shape`.
fn residual_structure(
    kind: TraitResidual,
    shape: &TraitRecords,
) -> Result<Box<dyn CovarianceModel>, RemlError> {
    Ok(match kind {
        TraitResidual::Unstructured => Box::new(
            Covariance::<TraitUnstructured>::new(shape.clone())
                .map_err(|e| invalid(e.to_string()))?,
        ),
        TraitResidual::Diagonal => Box::new(
            Covariance::<TraitDiagonal>::new(shape.clone()).map_err(|e| invalid(e.to_string()))?,
        ),
    })
}

/// `G0 ⊗ I` or `G0 ⊗ A` with `G0` of the kind `cov`.
fn trait_structure(
    t: usize,
    q: usize,
    cov: TraitCovariance,
    ainv: Option<Arc<InverseData>>,
) -> Result<Box<dyn CovarianceModel>, crate::CovError> {
    type T = TraitLabel;
    macro_rules! over {
        ($g:ty, $shape:expr) => {
            match ainv {
                None => Box::new(Covariance::<Kron<Named<$g, T>, Identity>>::new((
                    $shape, q,
                ))?) as Box<dyn CovarianceModel>,
                Some(a) => Box::new(Covariance::<Kron<Named<$g, T>, FixedInverse>>::new((
                    $shape, a,
                ))?),
            }
        };
    }
    Ok(match cov {
        TraitCovariance::Unstructured => over!(Unconstrained, t),
        TraitCovariance::Diagonal => over!(Diagonal, t),
        TraitCovariance::FactorAnalytic(1) => over!(FA<1>, t),
        TraitCovariance::FactorAnalytic(2) => over!(FA<2>, t),
        TraitCovariance::FactorAnalytic(3) => over!(FA<3>, t),
        TraitCovariance::FactorAnalytic(k) => {
            return Err(crate::CovError::InvalidShape {
                structure: "FactorAnalytic",
                reason: format!("fa with {k} factors: 1, 2 or 3 are supported"),
            })
        }
    })
}

/// Start values from moments: half of each trait's variance to every
/// random term's `G0` diagonal (shared equally) and half to `R0`, no
/// covariances.
#[allow(clippy::needless_range_loop)] // triangles by (row, column)
fn start_values(
    y: &[f64],
    trait_of: &[usize],
    t: usize,
    terms: &[TermInfo],
    residual: TraitResidual,
) -> Vec<f64> {
    let var: Vec<f64> = (0..t)
        .map(|k| {
            let v: Vec<f64> = y
                .iter()
                .zip(trait_of)
                .filter(|(_, &a)| a == k)
                .map(|(&v, _)| v)
                .collect();
            let m = v.iter().sum::<f64>() / v.len() as f64;
            let s = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len().max(2) as f64;
            if s > 0.0 && s.is_finite() {
                s
            } else {
                1.0
            }
        })
        .collect();
    let share = 0.5 / terms.len().max(1) as f64;
    let half_log = |v: f64| 0.5 * v.ln();
    let mut x = Vec::new();
    for term in terms {
        match term.cov {
            TraitCovariance::Unstructured => {
                for a in 0..t {
                    for b in 0..=a {
                        x.push(if a == b {
                            half_log(share * var[a])
                        } else {
                            0.0
                        });
                    }
                }
            }
            TraitCovariance::Diagonal => x.extend(var.iter().map(|&v| half_log(share * v))),
            TraitCovariance::FactorAnalytic(k) => {
                // loadings: √(share·var/2)/√k on the free part; ψ: share·var/2
                for j in 0..k {
                    for a in j..t {
                        x.push((share * var[a] / 2.0 / k as f64).sqrt());
                    }
                }
                x.extend(var.iter().map(|&v| half_log(share * v / 2.0)));
            }
        }
    }
    match residual {
        TraitResidual::Unstructured => {
            for a in 0..t {
                for b in 0..=a {
                    x.push(if a == b { half_log(0.5 * var[a]) } else { 0.0 });
                }
            }
        }
        TraitResidual::Diagonal => x.extend(var.iter().map(|&v| half_log(0.5 * v))),
    }
    x
}

/// What the model knows of each random term.
#[derive(Clone, Debug)]
pub(crate) struct TermInfo {
    pub name: String,
    pub cov: TraitCovariance,
    pub levels: Vec<String>,
    pub pedigree: bool,
}

/// A multi-trait model in long format, ready to fit (see [`MultiTrait`]).
#[derive(Debug)]
pub struct MultiTraitModel {
    pub(crate) model: MixedModel,
    pub(crate) traits: Vec<String>,
    pub(crate) terms: Vec<TermInfo>,
    pub(crate) residual: TraitResidual,
    dropped: usize,
    dropped_missing: usize,
    records: Vec<usize>,
    trait_of: Vec<usize>,
    pub(crate) start: Vec<f64>,
}

impl MultiTraitModel {
    /// The underlying mixed model (long format, one row per observed trait
    /// of a record).
    pub fn model(&self) -> &MixedModel {
        &self.model
    }

    /// The trait names, in the order given.
    pub fn traits(&self) -> &[String] {
        &self.traits
    }

    /// Number of observations in long format.
    pub fn n_obs(&self) -> usize {
        self.model.n()
    }

    /// Number of records dropped because none of their traits was observed.
    pub fn dropped_records(&self) -> usize {
        self.dropped
    }

    /// Number of rows dropped before stacking because a covariate or a
    /// grouping level was missing (set by the formula layer).
    pub fn dropped_missing(&self) -> usize {
        self.dropped_missing
    }

    /// Records `n` rows dropped for a missing covariate or grouping level.
    pub fn with_dropped_missing(mut self, n: usize) -> Self {
        self.dropped_missing = n;
        self
    }

    /// The input record of every kept record, in order.
    pub fn records(&self) -> &[usize] {
        &self.records
    }

    /// The trait index of every observation (long format).
    pub fn trait_of_obs(&self) -> &[usize] {
        &self.trait_of
    }

    /// Start values from moments (free scale), used by
    /// [`fit`](Self::fit) unless the options give a start.
    pub fn start(&self) -> &[f64] {
        &self.start
    }
}
