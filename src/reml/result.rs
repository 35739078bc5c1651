//! The fit result, the per-iteration history and how a fit ended.

use super::RemlError;
use nalgebra::DMatrix;
use std::fmt;

/// How a fit ended.
///
/// [`is_converged`](Termination::is_converged) says whether the estimate is
/// a maximum of the likelihood: `Converged`, `AtBound` and `Singular` are;
/// every other outcome is a fit that stopped short, returned with its last
/// point so that it can be inspected, never as an estimate.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Termination {
    /// An interior maximum: the Newton decrement of the score, the proposed
    /// step and the log-likelihood change were all below their (relative)
    /// tolerances (see [`RemlOptions::tol_score`](super::RemlOptions::tol_score)).
    Converged,
    /// A maximum on the boundary of the parameter space: the parameters
    /// not held at a bound converged, and the score of every held parameter
    /// points out of the parameter space. A variance counts as held at its
    /// boundary 0 once it falls below `1e-10 · var(y)` (a Cholesky diagonal
    /// of an unstructured block below `1e-5 · sd(y)`); held parameters have
    /// NaN standard errors.
    AtBound {
        /// The parameters held at a bound.
        params: Vec<String>,
        /// The bound each is held at, on the natural scale (0 for a
        /// variance at its floor).
        bounds: Vec<f64>,
    },
    /// A maximum on the boundary where a random term's covariance matrix is
    /// singular (lme4's `isSingular`): a variance, relative to the residual
    /// variance, with a square root below `1e-4`, a relative Cholesky
    /// diagonal of an unstructured block below `1e-4`, or a correlation at
    /// ±1. The fit is a valid maximum; the term is degenerate.
    Singular {
        /// The parameters that make the fit singular.
        params: Vec<String>,
    },
    /// A parameter ran towards infinity while the log-likelihood kept
    /// rising: the likelihood has no interior maximum along it (an
    /// exponential range without spatial correlation left to fit, a
    /// variance the data cannot bound). The fit stops at the last point.
    NoInteriorOptimum {
        /// The diverging parameter.
        param: String,
    },
    /// The iteration limit was reached first.
    IterationLimit,
    /// The convergence criteria were met, but the AI matrix at the estimate
    /// is singular in the directions of these parameters: the data do not
    /// identify them (two terms confounded with each other or with the
    /// residual), so their split is arbitrary and their standard errors NaN.
    NotIdentified {
        /// The parameters the AI matrix does not identify.
        params: Vec<String>,
    },
    /// No step raised the log-likelihood: not the AI step with halvings,
    /// not the Levenberg–Marquardt damped steps, not a probe along any
    /// single parameter; or the AI step is zero while the score is not.
    /// The fit stays at the last accepted point.
    Stalled {
        /// What failed, in words.
        reason: String,
    },
}

impl Termination {
    /// Whether the fit reached a maximum of the likelihood and counts as
    /// converged for a user (the CLI exits 0): `Converged`, `AtBound` or
    /// `Singular` (a maximum on the boundary is a maximum), and
    /// `NotIdentified` (the criteria were met; the data do not split some
    /// parameters). Not an iteration limit, a stall or a diverging
    /// parameter.
    pub fn is_converged(&self) -> bool {
        matches!(
            self,
            Termination::Converged
                | Termination::AtBound { .. }
                | Termination::Singular { .. }
                | Termination::NotIdentified { .. }
        )
    }
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Termination::Converged => write!(f, "converged"),
            Termination::IterationLimit => write!(f, "iteration limit"),
            Termination::AtBound { params, bounds } => {
                write!(f, "converged on the boundary (")?;
                for (i, (p, b)) in params.iter().zip(bounds).enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{p} at {}", crate::typed::display::num(*b))?;
                }
                write!(f, ")")
            }
            Termination::Singular { params } => {
                write!(f, "boundary (singular) fit ({})", params.join(", "))
            }
            Termination::NoInteriorOptimum { param } => write!(
                f,
                "no interior optimum: {param} diverges while the log-likelihood rises"
            ),
            Termination::Stalled { reason } => write!(f, "stalled ({reason})"),
            Termination::NotIdentified { params } => write!(
                f,
                "converged to a point where the data do not identify {}",
                params.join(", ")
            ),
        }
    }
}

/// One iteration: the accepted point, its score and AI matrix, and the step
/// taken from it (empty for the last point).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Iteration {
    /// 1-based iteration number.
    pub iter: usize,
    /// Free parameters.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub free: Vec<f64>,
    /// Natural parameters.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub natural: Vec<f64>,
    /// Fixed effects (BLUE) at this point.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub beta: Vec<f64>,
    /// Full REML log-likelihood.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub loglik: f64,
    /// Change of the log-likelihood from the previous iteration (`NaN` for the first).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub loglik_change: f64,
    /// Score (gradient of the log-likelihood) on the optimiser's scale: the
    /// free scale, except the entries of an unstructured block, which the
    /// driver optimises as its Cholesky factor (`L_i_j` in place of
    /// `sigma^2_i_j`).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub score: Vec<f64>,
    /// Euclidean norm of the score over the parameters not held at a bound.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub score_norm: f64,
    /// Average-information matrix on the optimiser's scale (see `score`).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::matrix"))]
    pub ai: DMatrix<f64>,
    /// Step taken from this point after halvings (empty if none was taken),
    /// on the free scale.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub step: Vec<f64>,
    /// Euclidean norm of the proposed step (projected onto the bounds and
    /// capped; optimiser's scale).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub step_norm: f64,
    /// Number of halvings the step needed.
    pub halvings: usize,
}

/// The REML log-likelihood, score and AI matrix at a given point (not
/// necessarily an optimum): torch-openreml's `ai_step` inputs, for profiles,
/// tests and diagnostics.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Evaluation {
    /// Names of the free parameters.
    pub names: Vec<String>,
    /// The free parameters evaluated at.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub free: Vec<f64>,
    /// The same on the natural scale.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub natural: Vec<f64>,
    /// Full REML log-likelihood.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub loglik: f64,
    /// REML log-likelihood without `−(n−p)/2 · log 2π`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub loglik_no_constant: f64,
    /// GLS estimate of β at this point.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub beta: Vec<f64>,
    /// Its standard errors, `sqrt diag (Xᵀ V⁻¹ X)⁻¹`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub beta_se: Vec<f64>,
    /// Its covariance `(Xᵀ V⁻¹ X)⁻¹`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::matrix"))]
    pub beta_cov: DMatrix<f64>,
    /// Score (gradient of the log-likelihood) on the free scale.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub score: Vec<f64>,
    /// Average-information matrix on the free scale.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::matrix"))]
    pub ai: DMatrix<f64>,
    /// The backend that computed it.
    pub backend: String,
}

/// The result of a REML fit.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RemlFit {
    /// Names of the free parameters (`term/param`).
    pub names: Vec<String>,
    /// Estimates on the free scale.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub free: Vec<f64>,
    /// Estimates on the natural scale.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub natural: Vec<f64>,
    /// Standard errors on the natural scale (delta method on the inverse AI);
    /// NaN for parameters held at a bound or not identified by the data.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub natural_se: Vec<f64>,
    /// Standard errors on the free scale: square roots of the diagonal of
    /// the AI matrix inverted over the parameters not held at a bound; NaN
    /// for held or unidentified parameters.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub free_se: Vec<f64>,
    /// Fixed effects (BLUE).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub beta: Vec<f64>,
    /// Standard errors of `beta`: `sqrt diag (Xᵀ V⁻¹ X)⁻¹`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub beta_se: Vec<f64>,
    /// Names of the fixed effects (the columns of `X`; `beta[j]` unless named).
    pub beta_names: Vec<String>,
    /// The full log-likelihood as lme4 and nlme report it: REML, or ML for
    /// a fit with [`Method::Ml`](super::Method::Ml).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub loglik: f64,
    /// The same without its `2π` term, `−(n−p)/2 · log 2π` for REML
    /// (torch-openreml's convention) or `−n/2 · log 2π` for ML.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub loglik_no_constant: f64,
    /// `−2ℓ + 2(p + k)` with `k` free variance parameters (lme4's REML convention).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub aic: f64,
    /// `−2ℓ + (p + k) log n` (lme4's REML convention).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub bic: f64,
    /// Number of observations.
    pub n: usize,
    /// Number of fixed effects.
    pub p: usize,
    /// Number of iterations (score and AI evaluations).
    pub iterations: usize,
    /// How the fit ended.
    pub termination: Termination,
    /// Whether a random term's covariance matrix is singular at the
    /// estimate, by lme4's `isSingular` rule (see
    /// [`Termination::Singular`]); `false` for a marginal model.
    #[cfg_attr(feature = "serde", serde(default))]
    pub singular: bool,
    /// Every iteration.
    pub history: Vec<Iteration>,
    /// AI matrix at the estimate, free scale.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::matrix"))]
    pub ai: DMatrix<f64>,
    /// Inverse AI matrix at the estimate, natural scale.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::matrix"))]
    pub ai_inverse_natural: DMatrix<f64>,
    /// The likelihood maximised: [`Method::Reml`](super::Method::Reml)
    /// (then `loglik` is the REML log-likelihood) or
    /// [`Method::Ml`](super::Method::Ml) (the ML log-likelihood).
    pub method: super::Method,
    /// The backend that computed the fit (`dense V (n = …)` or
    /// `sparse MME (order …, nnz(L) …)`).
    pub backend: String,
    /// What the fit changed or doubts, in words (a start outside its bounds
    /// that was projected onto them); empty when there is nothing to say.
    pub warnings: Vec<String>,
    /// Wall-clock seconds of the fit.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub seconds: f64,
    /// The Monte Carlo standard errors of the variance parameters'
    /// estimates (`natural`, same order) of a fit by the iterative backend,
    /// whose traces are estimated from random probes (0 for a parameter
    /// whose traces were all computed exactly); `None` for the exact
    /// backends. (The fixed effects' Monte Carlo error, through `θ̂`, is
    /// not estimated.)
    #[cfg_attr(feature = "serde", serde(default))]
    pub mc_standard_errors: Option<Vec<f64>>,
}

impl RemlFit {
    /// The natural value of the parameter called `name`.
    pub fn natural(&self, name: &str) -> Option<f64> {
        self.index(name).map(|i| self.natural[i])
    }
    /// The natural-scale standard error of the parameter called `name`.
    pub fn natural_se(&self, name: &str) -> Option<f64> {
        self.index(name).map(|i| self.natural_se[i])
    }
    /// The free value of the parameter called `name`.
    pub fn free(&self, name: &str) -> Option<f64> {
        self.index(name).map(|i| self.free[i])
    }
    /// The natural value of the parameter called `name`, or an error that
    /// lists the parameters there are.
    pub fn natural_of(&self, name: &str) -> Result<f64, RemlError> {
        self.lookup(name).map(|i| self.natural[i])
    }
    /// The natural-scale standard error of the parameter called `name`, or
    /// an error that lists the parameters there are.
    pub fn natural_se_of(&self, name: &str) -> Result<f64, RemlError> {
        self.lookup(name).map(|i| self.natural_se[i])
    }
    /// The free value of the parameter called `name`, or an error that lists
    /// the parameters there are.
    pub fn free_of(&self, name: &str) -> Result<f64, RemlError> {
        self.lookup(name).map(|i| self.free[i])
    }
    /// The fixed effect (BLUE) called `name`, or an error that lists the
    /// fixed effects there are.
    pub fn beta_of(&self, name: &str) -> Result<f64, RemlError> {
        self.beta_names
            .iter()
            .position(|n| n == name)
            .map(|i| self.beta[i])
            .ok_or_else(|| RemlError::UnknownName {
                what: "fixed effect",
                name: name.to_string(),
                available: self.beta_names.join(", "),
            })
    }
    fn lookup(&self, name: &str) -> Result<usize, RemlError> {
        self.index(name).ok_or_else(|| RemlError::UnknownName {
            what: "parameter",
            name: name.to_string(),
            available: self.names.join(", "),
        })
    }
    /// Whether the fit is singular (lme4's `isSingular`): see
    /// [`RemlFit::singular`].
    pub fn is_singular(&self) -> bool {
        self.singular
    }
    /// Seconds per iteration.
    pub fn seconds_per_iteration(&self) -> f64 {
        self.seconds / self.iterations.max(1) as f64
    }
    fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

impl fmt::Display for RemlFit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "REML fit: {} after {} iterations ({:.3} ms)",
            self.termination,
            self.iterations,
            self.seconds * 1e3
        )?;
        writeln!(
            f,
            "  {:<28} {:>16} {:>14}",
            "parameter", "estimate", "std. error"
        )?;
        for i in 0..self.names.len() {
            writeln!(
                f,
                "  {:<28} {:>16.10} {:>14.8}",
                self.names[i], self.natural[i], self.natural_se[i]
            )?;
        }
        writeln!(
            f,
            "  {:<28} {:>16} {:>14}",
            "fixed effect", "estimate", "std. error"
        )?;
        for i in 0..self.beta.len() {
            writeln!(
                f,
                "  {:<28} {:>16.10} {:>14.8}",
                self.beta_names[i], self.beta[i], self.beta_se[i]
            )?;
        }
        writeln!(
            f,
            "  {} log-likelihood {:.9} (as lme4 reports it; {:.9} without the 2π term, torch-openreml's convention); AIC {:.4}, BIC {:.4}",
            match self.method {
                super::Method::Ml => "ML",
                _ => "REML",
            },
            self.loglik,
            self.loglik_no_constant,
            self.aic,
            self.bic
        )?;
        for w in &self.warnings {
            writeln!(f, "  warning: {w}")?;
        }
        Ok(())
    }
}
