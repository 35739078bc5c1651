//! The mixed model: `V = Σ_i Z_i G_i Z_iᵀ + R` from random terms and a
//! residual structure.
//!
//! Random terms with an indicator design ([`Incidence`]) are never
//! expanded: `Z G Zᵀ` is gathered from `G` into the lower triangle of `V`,
//! `Zᵀ P Z` is gathered from `P` in `O(n²)`, and
//! `tr(P Z ∂G Zᵀ) = Σ (Zᵀ P Z) ∘ ∂G`.

use super::checks::{check_finite_matrix, check_fixed};
use super::engine::{self, Derivatives, Fixed, Problem};
use super::linalg::{self, gemm};
use super::post::{Blup, MarginalPost, MixedPost};
use super::{Iteration, RemlError, RemlFit, RemlOptions};
use crate::data::Incidence;
use crate::model::Checked;
use crate::{Covariance, CovarianceModel, JacobianMethod, Scalar, Transform};
use faer::{Accum, Mat, MatRef};
use nalgebra::{DMatrix, DVector};

/// The design `Z` of a random term.
#[derive(Clone, Debug, PartialEq)]
pub enum RandomDesign {
    /// An indicator matrix: each row has a single 1 (never expanded).
    Incidence(Incidence),
    /// A dense `n × q` matrix.
    Dense(DMatrix<f64>),
}

impl From<Incidence> for RandomDesign {
    fn from(i: Incidence) -> Self {
        RandomDesign::Incidence(i)
    }
}

impl From<DMatrix<f64>> for RandomDesign {
    fn from(m: DMatrix<f64>) -> Self {
        RandomDesign::Dense(m)
    }
}

impl RandomDesign {
    /// `(rows, columns)`.
    pub fn dims(&self) -> (usize, usize) {
        match self {
            RandomDesign::Incidence(i) => (i.len(), i.n_levels()),
            RandomDesign::Dense(m) => (m.nrows(), m.ncols()),
        }
    }
}

struct Term {
    name: String,
    z: RandomDesign,
    z_faer: Option<Mat<f64>>,
    g: Box<dyn CovarianceModel>,
}

/// A linear mixed model `y = Xβ + Σ_i Z_i u_i + e`, `u_i ~ N(0, G_i)`,
/// `e ~ N(0, R)`; REML estimation of the free parameters of every `G_i`
/// and of `R`. Parameter names are `term/param` (`gen/sigma^2`,
/// `residual/sigma^2`).
///
/// ```
/// use covreml::data::Incidence;
/// use covreml::reml::{MixedModel, RemlOptions};
/// use covreml::{Covariance, Scalar};
/// use nalgebra::DMatrix;
/// // Two groups of three observations.
/// let y = [1.0, 1.5, 1.2, 3.0, 2.6, 3.3];
/// let x = DMatrix::from_element(6, 1, 1.0);
/// let z = Incidence::new(vec![0, 0, 0, 1, 1, 1], 2).unwrap();
/// let model = MixedModel::new(&y, &x, Box::new(Covariance::<Scalar>::new(6).unwrap()))
///     .unwrap()
///     .random("group", z, Box::new(Covariance::<Scalar>::new(2).unwrap()))
///     .unwrap();
/// let fit = model.fit(&RemlOptions::default().tolerance(1e-10)).unwrap();
/// assert_eq!(fit.names, ["group/sigma^2", "residual/sigma^2"]);
/// assert!(fit.termination.is_converged());
/// // Balanced one-way ANOVA: σ²_e is the within-group mean square 0.37333/4,
/// // σ²_group = (between mean square − σ²_e) / 3 = (4.5067 − 0.0933) / 3.
/// assert!((fit.natural[1] - 0.0933333333).abs() < 1e-9);
/// assert!((fit.natural[0] - 1.4711111111).abs() < 1e-9);
/// ```
pub struct MixedModel {
    fixed: Fixed,
    terms: Vec<Term>,
    residual: Box<dyn CovarianceModel>,
}

impl std::fmt::Debug for MixedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MixedModel")
            .field("n", &self.fixed.n())
            .field("p", &self.fixed.p())
            .field(
                "terms",
                &self.terms.iter().map(|t| &t.name).collect::<Vec<_>>(),
            )
            .field("params", &self.names())
            .finish()
    }
}

fn cov_err(term: &str) -> impl Fn(crate::CovError) -> RemlError + '_ {
    move |e| RemlError::StructureFailed {
        term: term.to_string(),
        source: e,
    }
}

impl MixedModel {
    /// A model of `y` (length `n`) with fixed-effect design `x` (`n × p`) and
    /// residual covariance `residual` (`n × n`); add random terms with
    /// [`random`](Self::random).
    pub fn new(
        y: &[f64],
        x: &DMatrix<f64>,
        residual: Box<dyn CovarianceModel>,
    ) -> Result<Self, RemlError> {
        let fixed = check_fixed(y, x)?;
        let n = fixed.n();
        if residual.dims() != (n, n) {
            return Err(RemlError::DimensionMismatch {
                operand: "R (residual)".into(),
                expected: format!("{n} × {n} (the length of y)"),
                got: format!("{} × {}", residual.dims().0, residual.dims().1),
            });
        }
        let residual = Checked::new(residual, "residual").map_err(cov_err("residual"))?;
        Ok(MixedModel {
            fixed,
            terms: Vec::new(),
            residual: Box::new(residual),
        })
    }

    /// A model with residual `σ²_e I` (parameter `residual/sigma^2`,
    /// transform `e^{2x}`, default 0): shorthand for a
    /// [`Scalar`](crate::Scalar) residual. Like every residual that is
    /// diagonal by type, it is handled in `O(n)`, never as a dense matrix.
    pub fn with_iid_residual(y: &[f64], x: &DMatrix<f64>) -> Result<Self, RemlError> {
        let n = y.len();
        let r = Covariance::<Scalar>::new(n).map_err(cov_err("residual"))?;
        Self::new(y, x, Box::new(r))
    }

    /// Adds the random term `name` with design `z` (`n × q`) and covariance
    /// `g` (`q × q`).
    pub fn random(
        mut self,
        name: &str,
        z: impl Into<RandomDesign>,
        g: Box<dyn CovarianceModel>,
    ) -> Result<Self, RemlError> {
        let z = z.into();
        let n = self.fixed.n();
        let (zr, q) = z.dims();
        if name == "residual" || self.terms.iter().any(|t| t.name == name) {
            return Err(RemlError::InvalidModel {
                reason: format!("a term named `{name}` already exists"),
            });
        }
        if zr != n {
            return Err(RemlError::DimensionMismatch {
                operand: format!("Z of `{name}`"),
                expected: format!("{n} rows (the length of y)"),
                got: format!("{zr} × {q}"),
            });
        }
        if g.dims() != (q, q) {
            return Err(RemlError::DimensionMismatch {
                operand: format!("G of `{name}`"),
                expected: format!("{q} × {q} (the columns of Z)"),
                got: format!("{} × {}", g.dims().0, g.dims().1),
            });
        }
        let g: Box<dyn CovarianceModel> =
            Box::new(Checked::new(g, &format!("G of `{name}`")).map_err(cov_err(name))?);
        let z_faer = match &z {
            RandomDesign::Dense(m) => {
                check_finite_matrix(&format!("Z of `{name}`"), m)?;
                Some(linalg::to_faer(m))
            }
            RandomDesign::Incidence(_) => None,
        };
        super::identify::check_term(
            &self.fixed,
            &*self.residual,
            self.terms.iter().map(|t| (t.name.as_str(), &t.z, &*t.g)),
            name,
            &z,
            &*g,
        )?;
        self.terms.push(Term {
            name: name.to_string(),
            z,
            z_faer,
            g,
        });
        Ok(self)
    }

    /// Names the fixed effects (the columns of `X`), for the fit's report.
    pub fn with_fixed_names(mut self, names: &[&str]) -> Result<Self, RemlError> {
        self.fixed.set_names(names)?;
        Ok(self)
    }

    /// Number of observations.
    pub fn n(&self) -> usize {
        self.fixed.n()
    }

    /// Names of the free parameters (`term/param`), residual last.
    pub fn param_names(&self) -> Vec<String> {
        self.names()
    }

    /// Fits by AI-REML.
    pub fn fit(&self, opts: &RemlOptions) -> Result<RemlFit, RemlError> {
        engine::fit(self, &self.fixed, opts, &mut |_| {})
    }

    /// Fits by AI-REML, calling `observer` after every iteration.
    pub fn fit_with(
        &self,
        opts: &RemlOptions,
        mut observer: impl FnMut(&Iteration),
    ) -> Result<RemlFit, RemlError> {
        engine::fit(self, &self.fixed, opts, &mut observer)
    }

    /// REML log-likelihood (full) at the free parameters `free`.
    pub fn loglik(&self, free: &[f64]) -> Result<f64, RemlError> {
        Ok(engine::state_at(self, &self.fixed, free)?.0.ll)
    }

    /// Post-estimation at the estimate of `fit`: BLUE, marginal and
    /// conditional predictions and residuals, BLUPs and their
    /// prediction-error variances.
    pub fn post(&self, fit: &RemlFit) -> Result<MixedPost, RemlError> {
        let (ev, ws, py) = engine::state_at(self, &self.fixed, &fit.free)?;
        let marginal = MarginalPost::new(&self.fixed, &ev);
        let mut conditional_fitted = marginal.fitted.clone();
        let mut blups = Vec::new();
        let quantities = self.term_quantities(ws.p.as_ref(), &py);
        for ((t, xs), (ztpz, zpy)) in self.terms.iter().zip(self.split(&fit.free)).zip(quantities) {
            let g = t.g.value_f64(xs).map_err(cov_err(&t.name))?;
            let u = &g * DVector::from_vec(zpy);
            let pev = &g - &g * ztpz * &g;
            let zu = z_times(t, u.as_slice());
            for (c, v) in conditional_fitted.iter_mut().zip(&zu) {
                *c += v;
            }
            blups.push(Blup {
                term: t.name.clone(),
                values: u.as_slice().to_vec(),
                pev,
            });
        }
        let conditional_residuals = self
            .fixed
            .y
            .iter()
            .zip(&conditional_fitted)
            .map(|(a, b)| a - b)
            .collect();
        Ok(MixedPost {
            marginal,
            blups,
            conditional_fitted,
            conditional_residuals,
        })
    }

    /// `Zᵀ P Z` and `Zᵀ P y` of every term; incidence terms are gathered
    /// from the lower triangle of `P`, two terms per pass.
    fn term_quantities(&self, p: MatRef<'_, f64>, py: &[f64]) -> Vec<(DMatrix<f64>, Vec<f64>)> {
        let mut out: Vec<Option<(DMatrix<f64>, Vec<f64>)>> = vec![None; self.terms.len()];
        let inc: Vec<(usize, &Incidence)> = self
            .terms
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match &t.z {
                RandomDesign::Incidence(z) => Some((i, z)),
                RandomDesign::Dense(_) => None,
            })
            .collect();
        for chunk in inc.chunks(2) {
            let zs: Vec<&Incidence> = chunk.iter().map(|c| c.1).collect();
            for ((i, _), m) in chunk.iter().zip(incidence_ztpz(p, &zs)) {
                out[*i] = Some((m, Vec::new()));
            }
        }
        self.terms
            .iter()
            .zip(out)
            .map(|(t, o)| match (&t.z, o) {
                (RandomDesign::Incidence(inc), Some((m, _))) => {
                    let mut zpy = vec![0.0; inc.n_levels()];
                    for (v, &l) in py.iter().zip(inc.levels()) {
                        zpy[l] += v;
                    }
                    (m, zpy)
                }
                _ => dense_quantities(t, p, py),
            })
            .collect()
    }

    fn split<'a>(&self, x: &'a [f64]) -> Vec<&'a [f64]> {
        let mut out = Vec::with_capacity(self.terms.len() + 1);
        let mut off = 0;
        for t in &self.terms {
            let k = t.g.n_free();
            out.push(&x[off..off + k]);
            off += k;
        }
        out.push(&x[off..off + self.residual.n_free()]);
        out
    }
}

/// `Z u`.
fn z_times(t: &Term, u: &[f64]) -> Vec<f64> {
    match &t.z {
        RandomDesign::Incidence(inc) => inc.levels().iter().map(|&l| u[l]).collect(),
        RandomDesign::Dense(z) => linalg::matvec_na(z, u),
    }
}

/// `Zᵀ P Z` of one or two incidence terms in one pass over the lower
/// triangle of `P`: with `S = Σ_{i≥j} P_ij e_{l_i} e_{l_j}ᵀ` and
/// `D = Σ_i P_ii e_{l_i} e_{l_i}ᵀ`, `Zᵀ P Z = S + Sᵀ − D`.
fn incidence_ztpz(p: MatRef<'_, f64>, zs: &[&Incidence]) -> Vec<DMatrix<f64>> {
    let n = p.nrows();
    let col = |j: usize| -> &[f64] {
        p.col(j)
            .try_as_col_major()
            .expect("faer matrices are column major")
            .as_slice()
    };
    let mut s: Vec<DMatrix<f64>> = zs
        .iter()
        .map(|z| DMatrix::zeros(z.n_levels(), z.n_levels()))
        .collect();
    match zs {
        [a, b] => {
            let (la, lb) = (a.levels(), b.levels());
            let (qa, qb) = (a.n_levels(), b.n_levels());
            let (sa, sb) = s.split_at_mut(1);
            let (sa, sb) = (sa[0].as_mut_slice(), sb[0].as_mut_slice());
            for j in 0..n {
                let pc = &col(j)[j..n];
                let ca = &mut sa[la[j] * qa..(la[j] + 1) * qa];
                let cb = &mut sb[lb[j] * qb..(lb[j] + 1) * qb];
                for ((v, &ia), &ib) in pc.iter().zip(&la[j..n]).zip(&lb[j..n]) {
                    ca[ia] += v;
                    cb[ib] += v;
                }
            }
        }
        _ => {
            for (z, m) in zs.iter().zip(s.iter_mut()) {
                let (l, q) = (z.levels(), z.n_levels());
                let ms = m.as_mut_slice();
                for j in 0..n {
                    let pc = &col(j)[j..n];
                    let c = &mut ms[l[j] * q..(l[j] + 1) * q];
                    for (v, &i) in pc.iter().zip(&l[j..n]) {
                        c[i] += v;
                    }
                }
            }
        }
    }
    s.into_iter()
        .zip(zs)
        .map(|(m, z)| {
            let mut full = &m + m.transpose();
            for (i, &l) in z.levels().iter().enumerate() {
                full[(l, l)] -= p[(i, i)];
            }
            full
        })
        .collect()
}

/// `Zᵀ P Z` and `Zᵀ P y` of a dense term.
fn dense_quantities(t: &Term, p: MatRef<'_, f64>, py: &[f64]) -> (DMatrix<f64>, Vec<f64>) {
    let n = py.len();
    let z = match &t.z {
        RandomDesign::Dense(z) => z.clone(),
        RandomDesign::Incidence(inc) => inc.to_dense(),
    };
    let zf = linalg::to_faer(&z);
    let q = z.ncols();
    let mut pz = Mat::<f64>::zeros(n, q);
    gemm(pz.as_mut(), Accum::Replace, p, zf.as_ref(), 1.0);
    let mut m = Mat::<f64>::zeros(q, q);
    gemm(m.as_mut(), Accum::Replace, zf.transpose(), pz.as_ref(), 1.0);
    let m = DMatrix::from_fn(q, q, |i, j| 0.5 * (m[(i, j)] + m[(j, i)]));
    let zpy = z.tr_mul(&DVector::from_column_slice(py));
    (m, zpy.as_slice().to_vec())
}

/// Adds `Z G Zᵀ` of one or two incidence terms to the lower triangle of
/// `v` in one pass.
fn gather_add(v: &mut Mat<f64>, terms: &[(&Incidence, &DMatrix<f64>)]) {
    let n = v.nrows();
    match terms {
        [(a, ga), (b, gb)] => {
            let (la, lb) = (a.levels(), b.levels());
            let (qa, qb) = (a.n_levels(), b.n_levels());
            for j in 0..n {
                let ca = &ga.as_slice()[la[j] * qa..(la[j] + 1) * qa];
                let cb = &gb.as_slice()[lb[j] * qb..(lb[j] + 1) * qb];
                let vc = &mut v.col_as_slice_mut(j)[j..n];
                for ((x, &ia), &ib) in vc.iter_mut().zip(&la[j..n]).zip(&lb[j..n]) {
                    *x += ca[ia] + cb[ib];
                }
            }
        }
        _ => {
            for (z, g) in terms {
                let (l, q) = (z.levels(), z.n_levels());
                for j in 0..n {
                    let c = &g.as_slice()[l[j] * q..(l[j] + 1) * q];
                    let vc = &mut v.col_as_slice_mut(j)[j..n];
                    for (x, &i) in vc.iter_mut().zip(&l[j..n]) {
                        *x += c[i];
                    }
                }
            }
        }
    }
}

impl Problem for MixedModel {
    fn names(&self) -> Vec<String> {
        let mut v = Vec::new();
        for t in &self.terms {
            v.extend(
                t.g.free_names()
                    .into_iter()
                    .map(|p| format!("{}/{p}", t.name)),
            );
        }
        v.extend(
            self.residual
                .free_names()
                .into_iter()
                .map(|p| format!("residual/{p}")),
        );
        v
    }
    fn transforms(&self) -> Vec<Transform> {
        let mut v = Vec::new();
        for t in &self.terms {
            v.extend(t.g.free_transforms());
        }
        v.extend(self.residual.free_transforms());
        v
    }
    fn defaults(&self) -> Vec<f64> {
        let mut v = Vec::new();
        for t in &self.terms {
            v.extend(t.g.free_defaults());
        }
        v.extend(self.residual.free_defaults());
        v
    }
    fn assemble(&self, x: &[f64], v: &mut Mat<f64>) -> Result<(), RemlError> {
        let parts = self.split(x);
        let n = self.fixed.n();
        let xr = parts[self.terms.len()];
        let r = &self.residual;
        match r.diagonal_f64(xr) {
            // A diagonal R (σ²I, Diagonal, I ⊗ Diagonal, …) in O(n).
            Some(d) => {
                let (d, _) = d.map_err(cov_err("residual"))?;
                for (j, dj) in d.iter().enumerate() {
                    let c = &mut v.col_as_slice_mut(j)[j..n];
                    c.fill(0.0);
                    c[0] = *dj;
                }
            }
            None => {
                let r = r.value_f64(xr).map_err(cov_err("residual"))?;
                linalg::copy_into(v, &r);
            }
        }
        let mut gs = Vec::with_capacity(self.terms.len());
        for (t, xs) in self.terms.iter().zip(&parts) {
            gs.push(t.g.value_f64(xs).map_err(cov_err(&t.name))?);
        }
        let mut inc: Vec<(&Incidence, &DMatrix<f64>)> = Vec::new();
        for (t, g) in self.terms.iter().zip(&gs) {
            match &t.z {
                RandomDesign::Incidence(z) => inc.push((z, g)),
                RandomDesign::Dense(z) => {
                    let zg = linalg::to_faer(&(z * g));
                    let zf = t.z_faer.as_ref().expect("dense Z kept in faer form");
                    gemm(v.as_mut(), Accum::Add, zg.as_ref(), zf.transpose(), 1.0);
                }
            }
        }
        for chunk in inc.chunks(2) {
            gather_add(v, chunk);
        }
        Ok(())
    }
    fn derivatives(
        &self,
        x: &[f64],
        p: MatRef<'_, f64>,
        py: &[f64],
        method: JacobianMethod,
    ) -> Result<Derivatives, RemlError> {
        let n = py.len();
        let k = x.len();
        let parts = self.split(x);
        let mut w = Mat::<f64>::zeros(n, k);
        let mut traces = Vec::with_capacity(k);
        let quantities = self.term_quantities(p, py);
        for ((t, xs), (ztpz, zpy)) in self.terms.iter().zip(&parts).zip(&quantities) {
            let (_, dg) =
                t.g.value_and_jacobian_f64(xs, method)
                    .map_err(cov_err(&t.name))?;
            for d in &dg {
                traces.push(ztpz.dot(d));
                let u = linalg::matvec_na(d, zpy);
                let col = traces.len() - 1;
                w.col_as_slice_mut(col).copy_from_slice(&z_times(t, &u));
            }
        }
        let xr = parts[self.terms.len()];
        let r = &self.residual;
        let diagonal = match method {
            JacobianMethod::ClosedForm => r.diagonal_f64(xr),
            JacobianMethod::DualNumbers => None,
        };
        if let Some(d) = diagonal {
            // tr(P ∂R) = Σ P_ii ∂R_ii, and ∂R P y row-wise.
            let (_, dr) = d.map_err(cov_err("residual"))?;
            for d in &dr {
                let col = traces.len();
                let wc = w.col_as_slice_mut(col);
                let mut tr = 0.0;
                for i in 0..n {
                    tr += p[(i, i)] * d[i];
                    wc[i] = d[i] * py[i];
                }
                traces.push(tr);
            }
            return Ok(Derivatives { traces, w });
        }
        let (_, dr) = r
            .value_and_jacobian_f64(xr, method)
            .map_err(cov_err("residual"))?;
        for d in &dr {
            let col = traces.len();
            if linalg::is_diagonal(d) {
                let mut tr = 0.0;
                let wc = w.col_as_slice_mut(col);
                for i in 0..n {
                    let di = d[(i, i)];
                    tr += p[(i, i)] * di;
                    wc[i] = di * py[i];
                }
                traces.push(tr);
            } else {
                traces.push(linalg::frobenius_dot(p, d));
                w.col_as_slice_mut(col)
                    .copy_from_slice(&linalg::matvec_na(d, py));
            }
        }
        Ok(Derivatives { traces, w })
    }
}
