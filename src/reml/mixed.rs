//! The mixed model: `V = Σ_i Z_i G_i Z_iᵀ + R` from random terms and a
//! residual structure.
//!
//! Random terms with an indicator design ([`Incidence`]) are never
//! expanded: `Z G Zᵀ` is gathered from `G` into the lower triangle of `V`,
//! `Zᵀ P Z` is gathered from `P` in `O(n²)`, and
//! `tr(P Z ∂G Zᵀ) = Σ (Zᵀ P Z) ∘ ∂G`.

use super::checks::{check_finite_matrix, check_fixed};
use super::dense::{self, Dense, Derivatives, Problem};
use super::driver;
use super::error::cov_err;
use super::evaluator::{Evaluator, ParamInfo};
use super::fixed::FixedPart;
use super::fixed_effects::FixedEffects;
use super::lambda_polish;
use super::mixed_dense;
use super::mme::{AnalysisCache, Mme};
use super::options::{self, Backend, Method};
use super::post::MixedPost;
use super::singular_g;
use super::terms::{
    Parts, RandomDesign, Term, Terms, DUAL_UNAVAILABLE, ML_COMPLETED, RESIDUAL_UNAVAILABLE,
};
use super::{Iteration, RemlError, RemlFit, RemlOptions};
use crate::covariance::model::Checked;
use crate::{Covariance, CovarianceModel, JacobianMethod, Scalar};
use faer::{Mat, MatRef};
use nalgebra::DMatrix;

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
    pub(crate) fixed: FixedPart,
    pub(crate) terms: Vec<Term>,
    pub(crate) residual: Box<dyn CovarianceModel>,
    /// The sparse backend's analysis, made once (see `mme/analysis.rs`).
    pub(crate) analysis: AnalysisCache,
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
            .field("params", &self.params().names)
            .finish()
    }
}

impl MixedModel {
    /// A model of `y` (length `n`) with fixed-effect design `x` (`n × p`) and
    /// residual covariance `residual` (`n × n`); add random terms with
    /// [`random`](Self::random).
    pub fn new(
        y: &[f64],
        x: impl Into<FixedEffects>,
        residual: Box<dyn CovarianceModel>,
    ) -> Result<Self, RemlError> {
        let fixed = check_fixed(y, x.into())?;
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
            analysis: AnalysisCache::default(),
        })
    }

    /// A model with residual `σ²_e I` (parameter `residual/sigma^2`,
    /// transform `e^{2x}`, default 0): shorthand for a
    /// [`Scalar`](crate::Scalar) residual. Like every residual that is
    /// diagonal by type, it is handled in `O(n)`, never as a dense matrix.
    pub fn with_iid_residual(y: &[f64], x: impl Into<FixedEffects>) -> Result<Self, RemlError> {
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
        if let RandomDesign::Dense(m) = &z {
            check_finite_matrix(&format!("Z of `{name}`"), m)?;
        }
        super::identify::check_term(
            &self.fixed,
            &*self.residual,
            self.terms.iter().map(|t| (t.name.as_str(), &t.z, &*t.g)),
            name,
            &z,
            &*g,
        )?;
        self.terms.push(Term::new(name, z, g));
        self.analysis = AnalysisCache::default();
        Ok(self)
    }

    /// Names the fixed effects (the columns of `X`), for the fit's report.
    pub fn with_fixed_names(mut self, names: &[&str]) -> Result<Self, RemlError> {
        self.fixed.set_names(names)?;
        Ok(self)
    }

    /// The names of the fixed effects (the columns of `X` the model kept).
    pub fn fixed_names(&self) -> Vec<String> {
        self.fixed.names.clone()
    }

    /// Number of observations.
    pub fn n(&self) -> usize {
        self.fixed.n()
    }

    /// Names of the free parameters (`term/param`), residual last.
    pub fn param_names(&self) -> Vec<String> {
        self.params().names
    }

    /// Fits by AI-REML with the backend chosen in `opts` (see
    /// [`Backend`](crate::reml::Backend)).
    ///
    /// A fit on the sparse backend that reaches a point where an
    /// unstructured block of a random term's `G` is nearly singular (a
    /// relative Cholesky pivot below `1e-6`: a correlation of ±1 or a
    /// variance 0) cannot trust its log-likelihood and score there
    /// (Henderson's equations need `G⁻¹`). It is completed in lme4's `Λ`
    /// form (`G = ΛΛᵀ`, no inverse; finite-difference Newton steps), said in
    /// the warnings, when the term's `G` is `Σ ⊗ K` and the data have more
    /// than [`DENSE_COMPLETION_MAX`] rows or the model at most
    /// [`LAMBDA_MAX_PARAMS`] parameters; otherwise, with `Backend::Auto` and
    /// at most [`DENSE_COMPLETION_MAX`] rows, on the dense backend, and
    /// else it ends `Termination::Stalled`, naming the block and the dense
    /// backend.
    ///
    /// [`DENSE_COMPLETION_MAX`]: crate::reml::DENSE_COMPLETION_MAX
    /// [`LAMBDA_MAX_PARAMS`]: crate::reml::LAMBDA_MAX_PARAMS
    pub fn fit(&self, opts: &RemlOptions) -> Result<RemlFit, RemlError> {
        self.fit_with(opts, |_| {})
    }

    /// Fits by AI-REML, calling `observer` after every iteration.
    pub fn fit_with(
        &self,
        opts: &RemlOptions,
        mut observer: impl FnMut(&Iteration),
    ) -> Result<RemlFit, RemlError> {
        match opts.backend {
            Backend::Iterative => return super::iterative::fit(self, opts, &mut observer, None),
            Backend::Auto if opts.jacobian == JacobianMethod::ClosedForm => {
                if let Some(why) = super::iterative::auto_choice(self, opts) {
                    return super::iterative::fit(self, opts, &mut observer, Some(why));
                }
            }
            _ => {}
        }
        let (params, t0) = (self.params(), std::time::Instant::now());
        // The accepted points, for a fit completed in Λ form after an error.
        let history = std::cell::RefCell::new(Vec::new());
        let mut observer = |it: &Iteration| {
            history.borrow_mut().push(it.clone());
            observer(it)
        };
        let mut ev = self.evaluator(opts.backend, opts.method, opts.jacobian)?;
        let fit = match driver::fit(&params, ev.as_mut(), &self.fixed, opts, &mut observer) {
            Err(RemlError::NearlySingularG { term, detail }) if ev.inverts_g() => {
                // `G` became nearly singular on the way: completed in Λ
                // form from the last point (see `lambda_polish`), else on
                // the dense backend (the marginal form does not need the
                // inverse) for small data, else the error.
                let last = ev.last_x().filter(|x| ev.lambda_applies(x));
                drop(ev);
                let word = format!("the covariance matrix of `{term}` {detail}");
                if let Some(x) = last {
                    let mut mme = Mme::new(self.parts(), &self.analysis)?.with_method(opts.method);
                    let (fx, h) = (&self.fixed, history.take());
                    let mut sk = lambda_polish::skeleton(&params, fx, opts, x, h, mme.describe());
                    sk.seconds = t0.elapsed().as_secs_f64();
                    if let Ok(fit) = lambda_polish::polish(sk, &params, &mut mme, fx, opts) {
                        return Ok(fit);
                    }
                }
                if opts.backend != Backend::Auto || self.n() > singular_g::DENSE_COMPLETION_MAX {
                    return Err(RemlError::NearlySingularG { term, detail });
                }
                let o = opts.clone().backend(Backend::Dense);
                let mut ev = self.evaluator(Backend::Dense, opts.method, opts.jacobian)?;
                let mut fit = driver::fit(&params, ev.as_mut(), &self.fixed, &o, &mut observer)?;
                fit.warnings.push(format!(
                    "{word}; the model was fitted on the dense backend (n = {}), which does not \
                     need its inverse",
                    self.n()
                ));
                return Ok(fit);
            }
            r => r?,
        };
        if !ev.inverts_g() {
            return Ok(fit);
        }
        drop(ev);
        // A nearly singular unstructured G: see `singular_g`.
        let done = match singular_g::check(fit, &params, self.n(), opts, None) {
            singular_g::Completion::Lambda(sparse) => {
                let mut mme = Mme::new(self.parts(), &self.analysis)?.with_method(opts.method);
                match lambda_polish::polish(sparse, &params, &mut mme, &self.fixed, opts) {
                    Ok(fit) => return Ok(fit),
                    Err(e) => {
                        let (sparse, why) = *e;
                        singular_g::check(sparse, &params, self.n(), opts, Some(why))
                    }
                }
            }
            c => c,
        };
        match done {
            singular_g::Completion::Keep(fit) | singular_g::Completion::Lambda(fit) => Ok(fit),
            singular_g::Completion::Dense(sparse, word) => {
                let o = opts
                    .clone()
                    .backend(Backend::Dense)
                    .start(sparse.free.clone());
                let dense = self
                    .evaluator(Backend::Dense, opts.method, opts.jacobian)
                    .and_then(|mut ev| {
                        driver::fit(&params, ev.as_mut(), &self.fixed, &o, &mut observer)
                    });
                Ok(singular_g::completed(sparse, dense, word, self.n()))
            }
        }
    }

    /// REML log-likelihood (full) at the free parameters `free`.
    pub fn loglik(&self, free: &[f64]) -> Result<f64, RemlError> {
        self.check_free(free)?;
        let mut ev = self.evaluator(Backend::Auto, Method::Reml, JacobianMethod::ClosedForm)?;
        Ok(dense::evaluate_or_error(ev.as_mut(), free)?.ll)
    }

    /// The REML log-likelihood, score and AI matrix at the free parameters
    /// `free` (any point, not only an optimum), with the backend and
    /// Jacobian method of `opts`.
    ///
    /// ```
    /// use covreml::datasets::{john_alpha, john_alpha_model};
    /// use covreml::reml::{Backend, RemlOptions};
    /// let m = john_alpha_model(&john_alpha()).unwrap();
    /// let s = m.evaluate(&[0.0, 0.0, 0.0], &RemlOptions::default().backend(Backend::Sparse)).unwrap();
    /// let d = m.evaluate(&[0.0, 0.0, 0.0], &RemlOptions::default().backend(Backend::Dense)).unwrap();
    /// assert!((s.loglik - d.loglik).abs() < 1e-10 * d.loglik.abs());
    /// assert!((s.score[0] - d.score[0]).abs() < 1e-9 * d.score[0].abs());
    /// ```
    pub fn evaluate(
        &self,
        free: &[f64],
        opts: &RemlOptions,
    ) -> Result<crate::reml::Evaluation, RemlError> {
        let params = self.params();
        options::check_len("parameters", free, &params.names)?;
        let mut ev = self.evaluator(opts.backend, opts.method, opts.jacobian)?;
        driver::evaluate_at(&params, ev.as_mut(), &self.fixed, free, opts.jacobian)
    }

    /// Whether the sparse (mixed-model-equations) backend can fit this
    /// model, and if not, why: every `G` and the residual `R` need a sparse
    /// inverse ([`Structure::sparse_inverse`](crate::Structure::sparse_inverse);
    /// a residual that is diagonal by type has one).
    pub fn sparse_support(&self) -> Result<(), String> {
        let x0 = self.residual.free_defaults();
        if self.random_part().residual_inverse(&x0).is_none() {
            return Err(RESIDUAL_UNAVAILABLE.into());
        }
        for t in &self.terms {
            if t.g.sparse_inverse_f64(&t.g.free_defaults()).is_none() {
                return Err(format!(
                    "G of `{}` has no sparse inverse (Structure::sparse_inverse)",
                    t.name
                ));
            }
        }
        Ok(())
    }

    /// Whether the residual reaches the sparse backend only completed to
    /// more cells (a field trial with missing plots).
    fn residual_completed(&self) -> bool {
        let x0 = self.residual.free_defaults();
        matches!(self.random_part().residual_inverse(&x0), Some(Ok((_, m))) if m > 0)
    }

    /// The backend `choice` resolves to: `Auto` is sparse whenever the
    /// model allows it.
    pub fn resolve_backend(&self, choice: Backend) -> Result<Backend, RemlError> {
        if choice == Backend::Iterative {
            return Err(RemlError::BackendUnavailable {
                backend: "iterative",
                reason: "it only fits (MixedModel::fit); evaluations at a point and \
                         post-estimation use the exact backends"
                    .into(),
            });
        }
        if choice != Backend::Dense && self.analysis.is_kept() {
            return Ok(Backend::Sparse);
        }
        match choice {
            Backend::Dense => Ok(Backend::Dense),
            Backend::Sparse => self
                .sparse_support()
                .map(|_| Backend::Sparse)
                .map_err(|reason| RemlError::BackendUnavailable {
                    backend: "sparse",
                    reason,
                }),
            Backend::Auto | Backend::Iterative => Ok(if self.sparse_support().is_ok() {
                Backend::Sparse
            } else {
                Backend::Dense
            }),
        }
    }

    fn evaluator(
        &self,
        choice: Backend,
        method: Method,
        jacobian: JacobianMethod,
    ) -> Result<Box<dyn Evaluator + '_>, RemlError> {
        let mut backend = self.resolve_backend(choice)?;
        if backend == Backend::Sparse && jacobian != JacobianMethod::ClosedForm {
            if choice == Backend::Sparse {
                return Err(RemlError::BackendUnavailable {
                    backend: "sparse",
                    reason: DUAL_UNAVAILABLE.into(),
                });
            }
            backend = Backend::Dense;
        }
        if backend == Backend::Sparse && method == Method::Ml && self.residual_completed() {
            if choice == Backend::Sparse {
                return Err(RemlError::BackendUnavailable {
                    backend: "sparse",
                    reason: ML_COMPLETED.into(),
                });
            }
            backend = Backend::Dense;
        }
        Ok(match backend {
            Backend::Sparse => {
                Box::new(Mme::new(self.parts(), &self.analysis)?.with_method(method))
            }
            _ => Box::new(Dense::new(self, &self.fixed)?.with_method(method)),
        })
    }

    /// How many symbolic analyses of the sparse mixed-model equations this
    /// model has made: one at its first sparse evaluation, reused by every
    /// later `fit`, `evaluate`, `loglik`, `post_at`, `pev_matrix`, formula
    /// `predict` and Satterthwaite test (more only when two evaluations run
    /// at once, from different threads). For tests and diagnostics.
    pub fn sparse_analyses(&self) -> usize {
        self.analysis.count()
    }

    /// The full `q × q` prediction-error variance matrix of the term `term`
    /// at the estimate of `fit` — dense, so its memory is checked first
    /// ([`RemlError::OutOfMemory`] for a term too large): an explicit
    /// request, where [`post`](Self::post) gives the diagonal and the
    /// entries on `G⁻¹`'s pattern ([`Pev`](crate::reml::Pev)) at any size.
    pub fn pev_matrix(&self, fit: &RemlFit, term: &str) -> Result<DMatrix<f64>, RemlError> {
        self.check_free(&fit.free)?;
        let t = self.term_index(term)?;
        match self.resolve_backend(Backend::Auto)? {
            Backend::Sparse => Mme::new(self.parts(), &self.analysis)?.pev_matrix(&fit.free, t),
            _ => Ok(self.dense_post(&fit.free)?.blups[t].pev.fill_dense()),
        }
    }

    /// The BLUPs of every term at the estimate of `fit` (no PEV): one
    /// solve of the mixed-model equations.
    pub(crate) fn blup_values(&self, fit: &RemlFit) -> Result<Vec<Vec<f64>>, RemlError> {
        self.check_free(&fit.free)?;
        match self.resolve_backend(Backend::Auto)? {
            Backend::Sparse => Mme::new(self.parts(), &self.analysis)?.blups(&fit.free),
            _ => Ok(self
                .dense_post(&fit.free)?
                .blups
                .into_iter()
                .map(|b| b.values)
                .collect()),
        }
    }

    /// The index of the term called `name`, or an error listing the terms.
    fn term_index(&self, name: &str) -> Result<usize, RemlError> {
        self.terms
            .iter()
            .position(|t| t.name == name)
            .ok_or_else(|| RemlError::UnknownName {
                what: "random term",
                name: name.to_string(),
                available: self
                    .terms
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Post-estimation at the estimate of `fit`: BLUE, marginal and
    /// conditional predictions and residuals, BLUPs and their
    /// prediction-error variances (with the backend `Auto` picks).
    pub fn post(&self, fit: &RemlFit) -> Result<MixedPost, RemlError> {
        self.post_with(fit, Backend::Auto)
    }

    /// Post-estimation with a chosen backend.
    pub fn post_with(&self, fit: &RemlFit, backend: Backend) -> Result<MixedPost, RemlError> {
        self.post_at(&fit.free, backend)
    }

    /// Post-estimation at any free parameters `free` (not only a fit's
    /// estimate): BLUE, predictions, residuals, BLUPs and PEV given `θ`,
    /// for profiles and diagnostics.
    ///
    /// ```
    /// use covreml::datasets::{john_alpha, john_alpha_model};
    /// use covreml::reml::{Backend, RemlOptions};
    /// let m = john_alpha_model(&john_alpha()).unwrap();
    /// let fit = m.fit(&RemlOptions::default()).unwrap();
    /// // At the estimate, the same as `post`.
    /// let a = m.post_at(&fit.free, Backend::Auto).unwrap();
    /// assert_eq!(a.marginal.beta, m.post(&fit).unwrap().marginal.beta);
    /// // With the genotype variance 100 times smaller, the BLUPs shrink.
    /// let mut x = fit.free.clone();
    /// x[0] -= 0.5 * 100f64.ln();
    /// let b = m.post_at(&x, Backend::Auto).unwrap();
    /// let norm = |v: &[f64]| v.iter().map(|u| u * u).sum::<f64>();
    /// assert!(norm(&b.blups[0].values) < 0.1 * norm(&a.blups[0].values));
    /// ```
    pub fn post_at(&self, free: &[f64], backend: Backend) -> Result<MixedPost, RemlError> {
        self.check_free(free)?;
        match self.resolve_backend(backend)? {
            Backend::Sparse => Mme::new(self.parts(), &self.analysis)?.post(free),
            _ => self.dense_post(free),
        }
    }

    /// The random terms and the residual, with the layout of θ.
    pub(crate) fn random_part(&self) -> Terms<'_> {
        Terms {
            list: &self.terms,
            residual: &*self.residual,
        }
    }

    /// What a backend reads of the model.
    pub(crate) fn parts(&self) -> Parts<'_> {
        Parts {
            fixed: &self.fixed,
            terms: self.random_part(),
        }
    }

    /// Post-estimation on the dense backend.
    fn dense_post(&self, free: &[f64]) -> Result<MixedPost, RemlError> {
        mixed_dense::post(self, self.parts(), free)
    }

    pub(crate) fn params(&self) -> ParamInfo {
        self.random_part().params()
    }

    /// Errors unless `free` has one value per free parameter (the names,
    /// formatted, only for the error).
    fn check_free(&self, free: &[f64]) -> Result<(), RemlError> {
        let k = self.terms.iter().map(|t| t.g.n_free()).sum::<usize>() + self.residual.n_free();
        if free.len() == k {
            return Ok(());
        }
        options::check_len("parameters", free, &self.params().names)
    }
}

/// The dense backend sees the model through its terms (`mixed_dense.rs`).
impl Problem for MixedModel {
    fn params(&self) -> ParamInfo {
        MixedModel::params(self)
    }
    fn assemble(&self, x: &[f64], v: &mut Mat<f64>) -> Result<(), RemlError> {
        mixed_dense::assemble(self.random_part(), x, v)
    }
    fn derivatives(
        &self,
        x: &[f64],
        p: MatRef<'_, f64>,
        py: &[f64],
        method: JacobianMethod,
    ) -> Result<Derivatives, RemlError> {
        mixed_dense::derivatives(self.random_part(), x, p, py, method)
    }
}
