//! The seam between the AI-REML driver and the linear algebra: an
//! [`Evaluator`] turns free parameters into the REML log-likelihood (at
//! trial points) and into the score and AI matrix (at accepted points).
//!
//! Two evaluators exist: the dense one ([`super::dense`]), which factors the
//! `n × n` matrix `V`, and the sparse one ([`super::mme`]), which factors
//! Henderson's mixed-model equations. Building an evaluator does the
//! analysis (patterns, orderings, workspaces); a trial point refactors; the
//! score and AI come from a separate call made only at accepted points, so
//! step halvings only refactor.

use super::RemlError;
use crate::{JacobianMethod, ParamKind, Transform};
use nalgebra::DMatrix;

/// The free parameters of a model: names, transforms, default start,
/// kinds, and how many lead the list as parameters of random terms (`G`).
#[derive(Clone, Debug)]
pub(crate) struct ParamInfo {
    pub names: Vec<String>,
    pub transforms: Vec<Transform>,
    pub defaults: Vec<f64>,
    pub kinds: Vec<ParamKind>,
    /// The first `random` parameters belong to random terms, the rest to
    /// the residual (or to the marginal `V`, with `random = 0`).
    pub random: usize,
}

/// The log-likelihood pieces at an evaluated point.
#[derive(Clone, Debug)]
pub(crate) struct Point {
    /// Free parameters.
    pub x: Vec<f64>,
    /// Full REML log-likelihood.
    pub ll: f64,
    /// Without `−(n − p)/2 · log 2π`.
    pub ll_no_constant: f64,
    /// `yᵀPy / (n − p)` (`/ n` for ML): the factor by which every variance
    /// would be multiplied if one common scale were estimated here.
    pub profiled_scale: f64,
    /// GLS estimate of β for the fitted (shifted) `y`.
    pub beta: Vec<f64>,
    /// `(Xᵀ V⁻¹ X)⁻¹`.
    pub beta_cov: DMatrix<f64>,
}

/// Why a point could not be evaluated.
pub(crate) enum EvalFail {
    /// `V` (or `C`) is not positive definite there: halve the step.
    NotPd,
    /// `Xᵀ V⁻¹ X` is singular there.
    SingularC,
    /// A hard error of a structure or of the data.
    Model(RemlError),
}

/// Score and AI matrix on the free scale.
pub(crate) struct ScoreAi {
    pub score: Vec<f64>,
    pub ai: DMatrix<f64>,
}

/// A backend of the REML driver.
pub(crate) trait Evaluator {
    /// Evaluates the log-likelihood at `x`; the evaluator keeps what it
    /// needs (a factor) for a following [`score_and_ai`](Self::score_and_ai)
    /// at the same point.
    fn evaluate(&mut self, x: &[f64]) -> Result<Point, EvalFail>;
    /// Score and AI matrix at `at`, the point of the last successful
    /// [`evaluate`](Self::evaluate) (re-evaluated if it is not).
    fn score_and_ai(&mut self, at: &Point, method: JacobianMethod) -> Result<ScoreAi, RemlError>;
    /// A short description for reports (`dense V (n = 72)`, `sparse MME …`).
    fn describe(&self) -> String;
    /// Whether the evaluator works with every `G⁻¹` (Henderson's
    /// mixed-model equations): it then loses digits where an unstructured
    /// `G` is nearly singular (see [`super::boundary::ill_conditioned_g`]).
    fn inverts_g(&self) -> bool {
        false
    }
    /// The free parameters of the last successful evaluation, if the
    /// evaluator keeps them (for a fit completed from where another
    /// stopped).
    fn last_x(&self) -> Option<Vec<f64>> {
        None
    }
    /// Whether the evaluator can complete a fit at `x` in lme4's `Λ` form
    /// (see `lambda_polish`): every nearly singular unstructured block of
    /// `G` there is a term's `Σ ⊗ K` whose `Λ` form lies on the pattern.
    fn lambda_applies(&self, _x: &[f64]) -> bool {
        false
    }
}

/// `0.5 (A + Aᵀ)` of a `k × k` faer matrix, as nalgebra.
pub(crate) fn symmetric_part(a: faer::MatRef<'_, f64>) -> DMatrix<f64> {
    let k = a.nrows();
    DMatrix::from_fn(k, k, |i, j| 0.5 * (a[(i, j)] + a[(j, i)]))
}
