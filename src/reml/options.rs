//! Fit control: start values, iteration limit, step size, bounds,
//! tolerances, Jacobian method, printed trace.

use crate::JacobianMethod;

/// The likelihood that is maximised.
///
/// ```
/// use covreml::reml::{Method, RemlOptions};
/// let opts = RemlOptions::default().method(Method::Ml);
/// assert_eq!(opts.method, Method::Ml);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// Restricted maximum likelihood (the default):
    /// `ℓ = −½[(n − p) log 2π + log|V| + log|XᵀV⁻¹X| + yᵀPy]`.
    #[default]
    Reml,
    /// Maximum likelihood (lme4's `REML = FALSE`), β profiled out:
    /// `ℓ = −½[n log 2π + log|V| + (y − Xβ̂)ᵀV⁻¹(y − Xβ̂)]`; needed to compare
    /// models that differ in their fixed effects.
    Ml,
}

/// Which linear algebra fits a mixed model.
///
/// ```
/// use covreml::reml::{Backend, RemlOptions};
/// let opts = RemlOptions::default().backend(Backend::Sparse);
/// assert_eq!(opts.backend, Backend::Sparse);
/// assert_eq!(RemlOptions::default().backend, Backend::Auto);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// Sparse whenever every `G` has a sparse inverse and `R` is diagonal
    /// by type; dense otherwise.
    #[default]
    Auto,
    /// The dense backend: factors the `n × n` matrix `V` (memory `O(n²)`).
    Dense,
    /// Henderson's mixed-model equations, factored sparsely: memory
    /// `O(nnz(L) + n)`, no `n × n` matrix. An error for a model it cannot
    /// take (a `G` without a sparse inverse, a non-diagonal `R`).
    Sparse,
}

/// How a REML fit is run. The defaults follow torch-openreml: start at the
/// structures' defaults, at most 200 iterations, full Newton (AI) steps,
/// no bounds, tolerances `1e-4` on the score norm, the step norm and the
/// log-likelihood change.
///
/// ```
/// use covreml::reml::RemlOptions;
/// let opts = RemlOptions::default().max_iter(50).tolerance(1e-8).trace(false);
/// assert_eq!(opts.max_iter, 50);
/// assert_eq!(opts.tol_score, 1e-8);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RemlOptions {
    /// Start values on the free scale; `None` uses the structures' defaults.
    pub start: Option<Vec<f64>>,
    /// Maximum number of iterations (score and AI evaluations).
    pub max_iter: usize,
    /// Multiplier of the AI (Newton) step, in `(0, 1]` typically.
    pub step_size: f64,
    /// Lower bounds on the free scale (`-∞` for none).
    pub lower: Option<Vec<f64>>,
    /// Upper bounds on the free scale (`+∞` for none).
    pub upper: Option<Vec<f64>>,
    /// The lower bound of every parameter that `lower` does not give.
    pub lower_all: f64,
    /// The upper bound of every parameter that `upper` does not give.
    pub upper_all: f64,
    /// Converged when the Euclidean norm of the score (over the parameters
    /// not held at a bound) is below this …
    pub tol_score: f64,
    /// … and the norm of the proposed step is below this …
    pub tol_step: f64,
    /// … and the absolute change of the log-likelihood is below this.
    pub tol_loglik: f64,
    /// Maximum number of step halvings per iteration before giving up.
    pub max_halvings: usize,
    /// How the Jacobians of the structures are computed.
    pub jacobian: JacobianMethod,
    /// Print a trace (iteration, score norm, step norm, log-likelihood and
    /// its change) to standard error.
    pub trace: bool,
    /// The backend of a mixed model (a marginal model is always dense).
    pub backend: Backend,
    /// REML (the default) or ML.
    pub method: Method,
}

impl Default for RemlOptions {
    fn default() -> Self {
        RemlOptions {
            start: None,
            max_iter: 200,
            step_size: 1.0,
            lower: None,
            upper: None,
            lower_all: f64::NEG_INFINITY,
            upper_all: f64::INFINITY,
            tol_score: 1e-4,
            tol_step: 1e-4,
            tol_loglik: 1e-4,
            max_halvings: 30,
            jacobian: JacobianMethod::ClosedForm,
            trace: false,
            backend: Backend::Auto,
            method: Method::Reml,
        }
    }
}

impl RemlOptions {
    /// Start values on the free scale.
    pub fn start(mut self, start: Vec<f64>) -> Self {
        self.start = Some(start);
        self
    }
    /// Maximum number of iterations.
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }
    /// Step size multiplier.
    pub fn step_size(mut self, s: f64) -> Self {
        self.step_size = s;
        self
    }
    /// Lower and upper bounds on the free scale.
    pub fn bounds(mut self, lower: Vec<f64>, upper: Vec<f64>) -> Self {
        self.lower = Some(lower);
        self.upper = Some(upper);
        self
    }
    /// One lower and one upper bound (free scale) for every parameter.
    ///
    /// ```
    /// use covreml::reml::RemlOptions;
    /// let opts = RemlOptions::default().bounds_all(-10.0, 10.0);
    /// assert_eq!((opts.lower_all, opts.upper_all), (-10.0, 10.0));
    /// assert!(opts.lower.is_none());
    /// ```
    pub fn bounds_all(mut self, lower: f64, upper: f64) -> Self {
        self.lower = None;
        self.upper = None;
        self.lower_all = lower;
        self.upper_all = upper;
        self
    }
    /// The same tolerance for the score norm, step norm and log-likelihood change.
    pub fn tolerance(mut self, tol: f64) -> Self {
        self.tol_score = tol;
        self.tol_step = tol;
        self.tol_loglik = tol;
        self
    }
    /// Maximum number of step halvings per iteration.
    pub fn max_halvings(mut self, n: usize) -> Self {
        self.max_halvings = n;
        self
    }
    /// Jacobian method.
    pub fn jacobian(mut self, m: JacobianMethod) -> Self {
        self.jacobian = m;
        self
    }
    /// The backend of a mixed model.
    pub fn backend(mut self, b: Backend) -> Self {
        self.backend = b;
        self
    }
    /// REML or ML.
    pub fn method(mut self, m: Method) -> Self {
        self.method = m;
        self
    }
    /// Printed trace on or off.
    pub fn trace(mut self, on: bool) -> Self {
        self.trace = on;
        self
    }
}
