//! Fit control: start values, iteration limit, step size, bounds,
//! tolerances, Jacobian method, printed trace.

use super::RemlError;
use crate::typed::display::num;
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
    /// No factorization: conjugate gradients on the data and stochastic
    /// (Hutchinson) traces, memory `O(n + levels)`, for variance-component
    /// models (`(1|f)` terms, iid residual, REML) whose exact factor does
    /// not fit in memory; estimates carry a Monte Carlo error
    /// ([`RemlFit::mc_standard_errors`](super::RemlFit::mc_standard_errors))
    /// and the log-likelihood is not computed. See
    /// [`IterativeOptions`](super::IterativeOptions). `Auto` chooses it
    /// when the exact sparse factor would not fit in memory.
    Iterative,
}

/// How a REML fit is run: start at the structures' defaults (rescaled, see
/// [`RemlOptions::rescale_start`]), at most 200 iterations, full Newton (AI)
/// steps, no bounds, scale-free tolerances `1e-6` on the score (Newton
/// decrement), `1e-5` on the relative step and `1e-6` on the relative
/// log-likelihood change.
///
/// ```
/// use covreml::reml::RemlOptions;
/// let opts = RemlOptions::default().max_iter(50).tolerance(1e-8).trace(false);
/// assert_eq!(opts.max_iter, 50);
/// assert_eq!(opts.tol_score, 1e-8);
/// assert_eq!(RemlOptions::default().tol_score, 1e-6);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RemlOptions {
    /// Start values on the free scale; `None` uses the structures' defaults.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::opt_floats"))]
    pub start: Option<Vec<f64>>,
    /// Maximum number of iterations (score and AI evaluations).
    pub max_iter: usize,
    /// Multiplier of the AI (Newton) step, in `(0, 1]` typically.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub step_size: f64,
    /// Lower bounds on the free scale (`-∞` for none).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::opt_floats"))]
    pub lower: Option<Vec<f64>>,
    /// Upper bounds on the free scale (`+∞` for none).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::opt_floats"))]
    pub upper: Option<Vec<f64>>,
    /// The lower bound of every parameter that `lower` does not give.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub lower_all: f64,
    /// The upper bound of every parameter that `upper` does not give.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub upper_all: f64,
    /// Converged when the score `s` (over the parameters not held at a
    /// bound) is small: its Newton decrement relative to the log-likelihood,
    /// `sᵀ AI⁻¹ s / (1 + |ℓ|)`, below `tol_score²` — scale-free: replicating
    /// the data changes neither side, so a tolerance means the same on 100
    /// and 10⁷ rows, and it bounds the relative error of the parameters by
    /// about `tol_score` — or its Euclidean norm below `tol_score` …
    /// (On large data, `|ℓ| ≥ 1e5`, where the score carries rounding noise,
    /// a fit whose step promises a gain below ten rounding levels of the
    /// log-likelihood, `1e-11 · |ℓ|`, has converged, and says so in its
    /// warnings.)
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub tol_score: f64,
    /// … and the norm of the proposed step is below `tol_step · (1 + ‖x‖)`
    /// (`x` the free parameters) …
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub tol_step: f64,
    /// … and the change of the log-likelihood is below
    /// `tol_loglik · (1 + |ℓ|)`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
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
    /// Without an explicit [`start`](Self::start): first rescale the
    /// structures' defaults by the profiled common scale (see
    /// [`RemlOptions::rescale_start`]). On by default.
    #[cfg_attr(feature = "serde", serde(default = "crate::serde_support::yes"))]
    pub rescale_start: bool,
    /// Options of the iterative backend (probes, seed, progress).
    #[cfg_attr(feature = "serde", serde(default))]
    pub iterative: super::IterativeOptions,
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
            tol_score: 1e-6,
            tol_step: 1e-5,
            tol_loglik: 1e-6,
            max_halvings: 30,
            jacobian: JacobianMethod::ClosedForm,
            trace: false,
            backend: Backend::Auto,
            method: Method::Reml,
            rescale_start: true,
            iterative: super::IterativeOptions::default(),
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
    /// Options of the iterative backend.
    pub fn iterative(mut self, o: super::IterativeOptions) -> Self {
        self.iterative = o;
        self
    }
    /// Printed trace on or off.
    pub fn trace(mut self, on: bool) -> Self {
        self.trace = on;
        self
    }
    /// Whether a fit without an explicit [`start`](Self::start) first
    /// rescales the structures' defaults (on by default).
    ///
    /// The defaults of variance parameters are 1 whatever the units of the
    /// data. At the defaults, the fit estimates one common scale
    /// `c = yᵀPy / (n − p)` (`/ n` for ML) — the REML estimate of a factor
    /// multiplying every variance, as lme4 profiles `σ²` — and multiplies
    /// the natural value of every parameter by `c` to the power its
    /// [`ParamKind`](crate::ParamKind) carries: variances and covariances by
    /// `c`, loadings and Cholesky entries by `√c`; correlations, ranges and
    /// other parameters keep their defaults. A spatial range starts from the
    /// data instead: its default is the mean distance between the
    /// structure's points. The rescaled point is kept only if its
    /// log-likelihood is higher. It costs one evaluation and saves the
    /// first, step-capped iterations of a fit whose data are far from unit
    /// variance (InstEval and the million-row crossed benchmark: 7
    /// iterations down to 5). `false` starts exactly at the defaults, as
    /// torch-openreml does; an explicit `start` is always used as given.
    ///
    /// ```
    /// use covreml::reml::RemlOptions;
    /// assert!(RemlOptions::default().rescale_start);
    /// assert!(!RemlOptions::default().rescale_start(false).rescale_start);
    /// ```
    pub fn rescale_start(mut self, on: bool) -> Self {
        self.rescale_start = on;
        self
    }
}

/// The start and bounds a fit runs with, after [`RemlOptions::validate`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Validated {
    /// Start values (free scale), projected onto the bounds.
    pub start: Vec<f64>,
    /// Lower bounds (free scale, `-∞` for none).
    pub lower: Vec<f64>,
    /// Upper bounds (free scale, `+∞` for none).
    pub upper: Vec<f64>,
    /// What was changed and why (a start projected onto its bounds).
    pub warnings: Vec<String>,
}

impl RemlOptions {
    /// Checks every option against the model's free parameters `names`
    /// (with their `defaults`, the default start): lengths of `start`,
    /// `lower`, `upper`; finite start; bounds that are not NaN with
    /// `lower ≤ upper`; `max_iter ≥ 1`; a positive finite `step_size`;
    /// tolerances that are not NaN and not negative. A start outside its
    /// bounds is projected onto them, with a warning naming the parameter.
    pub(crate) fn validate(
        &self,
        names: &[String],
        defaults: &[f64],
    ) -> Result<Validated, RemlError> {
        let k = names.len();
        let start = self.start.clone().unwrap_or_else(|| defaults.to_vec());
        check_len("start", &start, names)?;
        let lower = self
            .lower
            .clone()
            .unwrap_or_else(|| vec![self.lower_all; k]);
        let upper = self
            .upper
            .clone()
            .unwrap_or_else(|| vec![self.upper_all; k]);
        check_len("lower", &lower, names)?;
        check_len("upper", &upper, names)?;
        self.check_controls()?;
        let (start, warnings) = project_start(names, start, &lower, &upper)?;
        Ok(Validated {
            start,
            lower,
            upper,
            warnings,
        })
    }

    /// The scalar controls: tolerances not NaN and not negative, a positive
    /// finite `step_size`, `max_iter ≥ 1`.
    fn check_controls(&self) -> Result<(), RemlError> {
        for (option, v) in [
            ("tol_score", self.tol_score),
            ("tol_step", self.tol_step),
            ("tol_loglik", self.tol_loglik),
        ] {
            if v.is_nan() || v < 0.0 {
                return Err(RemlError::InvalidOption {
                    option,
                    reason: format!("must be a number ≥ 0, got {}", num(v)),
                });
            }
        }
        if !(self.step_size > 0.0 && self.step_size.is_finite()) {
            return Err(RemlError::InvalidOption {
                option: "step_size",
                reason: format!("must be positive and finite, got {}", num(self.step_size)),
            });
        }
        if self.max_iter == 0 {
            return Err(RemlError::InvalidOption {
                option: "max_iter",
                reason: "must be at least 1".into(),
            });
        }
        Ok(())
    }
}

/// Checks each parameter's start (finite) and bounds (not NaN, `lower ≤
/// upper` with a finite point between) and projects a start outside its
/// bounds onto them, with a warning naming the parameter.
fn project_start(
    names: &[String],
    mut start: Vec<f64>,
    lower: &[f64],
    upper: &[f64],
) -> Result<(Vec<f64>, Vec<String>), RemlError> {
    let mut warnings = Vec::new();
    for (i, p) in start.iter_mut().enumerate() {
        let (lo, hi, x) = (lower[i], upper[i], *p);
        if !x.is_finite() {
            return Err(RemlError::NotFinite {
                operand: "start".into(),
                position: names[i].clone(),
                value: x,
            });
        }
        if lo.is_nan() || hi.is_nan() || lo > hi || lo == f64::INFINITY || hi == f64::NEG_INFINITY {
            return Err(RemlError::InvalidOption {
                option: "bounds",
                reason: format!(
                    "{}: need lower ≤ upper with a finite point between, got lower {} and upper {}",
                    names[i],
                    num(lo),
                    num(hi)
                ),
            });
        }
        if x < lo || x > hi {
            let to = x.clamp(lo, hi);
            warnings.push(format!(
                "the start of {} ({}) is outside its bounds [{}, {}]: started at {}",
                names[i],
                num(x),
                num(lo),
                num(hi),
                num(to)
            ));
            *p = to;
        }
    }
    Ok((start, warnings))
}

/// `v` has one entry per parameter, or an error naming the parameters.
pub(crate) fn check_len(what: &'static str, v: &[f64], names: &[String]) -> Result<(), RemlError> {
    if v.len() != names.len() {
        return Err(RemlError::WrongLength {
            what,
            expected: names.len(),
            got: v.len(),
            names: names.join(", "),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["a/sigma^2".into(), "residual/sigma^2".into()]
    }

    #[test]
    fn invalid_options_are_named() {
        let d = [0.0, 0.0];
        let e = RemlOptions::default()
            .tolerance(f64::NAN)
            .validate(&names(), &d)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid option `tol_score`: must be a number ≥ 0, got NaN"
        );
        let o = RemlOptions {
            tol_loglik: -1e-300,
            ..RemlOptions::default()
        };
        let e = o.validate(&names(), &d).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid option `tol_loglik`: must be a number ≥ 0, got -1e-300"
        );
        let e = RemlOptions::default()
            .bounds(vec![f64::NAN, 0.0], vec![1.0, 1.0])
            .validate(&names(), &d)
            .unwrap_err();
        assert!(e.to_string().contains("a/sigma^2"), "{e}");
    }

    #[test]
    fn a_start_outside_the_bounds_is_projected_with_a_warning() {
        let v = RemlOptions::default()
            .start(vec![3.0, -2.0])
            .bounds(vec![-1.0, -1.0], vec![1.0, 1.0])
            .validate(&names(), &[0.0, 0.0])
            .unwrap();
        assert_eq!(v.start, [1.0, -1.0]);
        assert_eq!(
            v.warnings,
            [
                "the start of a/sigma^2 (3) is outside its bounds [-1, 1]: started at 1",
                "the start of residual/sigma^2 (-2) is outside its bounds [-1, 1]: started at -1"
            ]
        );
    }
}
