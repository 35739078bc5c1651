//! Average-Information REML (and ML): marginal and mixed models, fit
//! control, fit results with standard errors, evaluation at any point, and
//! post-estimation.
//!
//! One driver (`driver.rs`) runs the AI iteration over a backend seam
//! (`Evaluator`): a trial point refactors and returns the
//! log-likelihood; the score and AI matrix come from a separate call made at
//! accepted points only. Steps are halved until the log-likelihood does not
//! decrease (beyond its rounding level, `1e-12·|ℓ|`, where the predicted gain
//! is itself below it) and the covariance stays positive definite; when no
//! halving helps, a Levenberg–Marquardt step or a single-parameter probe
//! takes over (`step.rs`). Steps are projected onto the bounds, and no step
//! moves a variance by more than a factor e⁴ or a correlation by more than
//! four logits; a variance that falls below `1e-10·var(y)` is held at its
//! boundary 0 while its score points outward (an active set), released when
//! it points inward. Unstructured blocks are optimised in Cholesky form
//! (`constrain.rs`), so `G` stays positive semi-definite. The fit ends
//! `Converged`, `AtBound`, `Singular` (lme4's `isSingular`, `boundary.rs`),
//! `NoInteriorOptimum`, `IterationLimit`, `NotIdentified` or `Stalled`.
//!
//! Backends ([`Backend`]):
//! - **dense** (`dense.rs`): factors `V` (`n × n`) once per point, forms
//!   `P` from the factor at accepted points; every trace `tr(P ∂V_k)` and AI
//!   entry costs `O(k n²)`;
//! - **sparse** (`mme/`): Henderson's mixed-model equations factored by a
//!   sparse Cholesky, traces from a selected inverse, no `n × n` matrix;
//!   `Auto` (the default) uses it whenever every `G` and `R` have a sparse
//!   inverse (`R` diagonal by type, grouped, or on a complete field grid);
//! - **iterative** (`iterative/`): no factor at all — conjugate gradients
//!   on the data and Hutchinson traces for variance-component models, with
//!   a Monte Carlo error per estimate; `Auto` uses it when the exact sparse
//!   factor would not fit in memory.
//!
//! `yᵀPy` is always formed from residuals, and `y` is centred when `X` has a
//! constant column, so that an offset in `y` does not change the estimates.

mod boundary;
mod checks;
mod constrain;
mod dense;
mod describe;
mod driver;
mod error;
mod evaluator;
mod fixed;
mod fixed_effects;
pub(crate) mod forecast;
mod identify;
mod iterative;
mod lambda_polish;
mod linalg;
mod marginal;
mod memory;
mod mixed;
mod mixed_dense;
mod mme;
mod names;
mod options;
mod pev;
mod post;
mod result;
mod singular_g;
mod step;
mod terms;
mod trace;

pub use error::RemlError;
pub use fixed_effects::{Aliased, FixedEffects};
pub use iterative::IterativeOptions;
pub use marginal::MarginalModel;
pub use mixed::MixedModel;
pub use names::UnknownName;
pub use options::{Backend, Method, RemlOptions};
pub use pev::Pev;
pub use post::{Blup, MarginalPost, MixedPost};
pub use result::{Evaluation, Iteration, RemlFit, Termination};
pub use singular_g::{DENSE_COMPLETION_MAX, LAMBDA_MAX_PARAMS};
pub use terms::RandomDesign;
