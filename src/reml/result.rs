//! The fit result, the per-iteration history and how a fit ended.

use super::RemlError;
use nalgebra::DMatrix;
use std::fmt;

/// How a fit ended.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Termination {
    /// The score norm, the proposed step norm and the log-likelihood change
    /// were all below their tolerances (so never at the first iteration,
    /// which has no change yet).
    Converged,
    /// The iteration limit was reached first.
    IterationLimit,
    /// The parameters not held at a bound converged, or the remaining step
    /// only pushed parameters against their bounds. A variance counts as held
    /// at its boundary 0 once it falls below `1e-10 · var(y)`; held
    /// parameters have NaN standard errors.
    AtBound {
        /// The parameters held at a bound.
        params: Vec<String>,
    },
    /// No step along the AI direction increased the log-likelihood (or kept
    /// `V` positive definite) after the maximum number of halvings; the fit
    /// stays at the last accepted point.
    HalvingLimit,
    /// The convergence criteria were met, but the AI matrix at the estimate
    /// is singular in the directions of these parameters: the data do not
    /// identify them (two terms confounded with each other or with the
    /// residual), so their split is arbitrary and their standard errors NaN.
    NotIdentified {
        /// The parameters the AI matrix does not identify.
        params: Vec<String>,
    },
    /// The AI step is zero while the score is not: the AI matrix is singular,
    /// so the data do not identify some parameters (for example a `y` with
    /// no variation, or a random term whose design has an empty level).
    Stalled,
}

impl Termination {
    /// Whether the fit converged.
    pub fn is_converged(&self) -> bool {
        matches!(self, Termination::Converged)
    }

    /// Whether the fit counts as converged for a user: converged, also with
    /// parameters held at a boundary or not identified by the data (the
    /// criteria were met); not an iteration or halving limit, not stalled.
    pub fn counts_as_converged(&self) -> bool {
        matches!(
            self,
            Termination::Converged
                | Termination::AtBound { .. }
                | Termination::NotIdentified { .. }
        )
    }
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Termination::Converged => write!(f, "converged"),
            Termination::IterationLimit => write!(f, "iteration limit"),
            Termination::AtBound { params } => write!(f, "at bound ({})", params.join(", ")),
            Termination::HalvingLimit => write!(f, "step halving limit"),
            Termination::Stalled => write!(f, "stalled (parameters not identified)"),
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
    /// Score (gradient of the log-likelihood) on the free scale.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub score: Vec<f64>,
    /// Euclidean norm of the score over the parameters not held at a bound.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub score_norm: f64,
    /// Average-information matrix on the free scale.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::matrix"))]
    pub ai: DMatrix<f64>,
    /// Step taken from this point after halvings (empty if none was taken).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub step: Vec<f64>,
    /// Euclidean norm of the proposed (full) step.
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
