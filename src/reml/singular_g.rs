//! A fit on Henderson's mixed-model equations that ends at a nearly
//! singular unstructured `G`.
//!
//! The sparse backend works with `G⁻¹`; where a block of `G` is nearly
//! singular (a correlation of ±1, a Cholesky diagonal at its floor: a common
//! and legitimate optimum) `G⁻¹` has a direction `1 / pivot` times larger
//! than the others and the equations lose that many digits: the
//! log-likelihood is off by up to `1e-4` and the score is noise, so the AI
//! iteration stops short of the optimum (see
//! [`ill_conditioned_g`](super::boundary::ill_conditioned_g)).
//!
//! Such a fit is completed in lme4's `Λ` form, which needs no inverse
//! ([`lambda_polish`](super::lambda_polish)), where it applies: a term
//! with `G = Σ ⊗ K`, and more than [`DENSE_COMPLETION_MAX`] rows or at most
//! [`LAMBDA_MAX_PARAMS`] parameters (its Newton steps take `2k²`
//! finite-difference evaluations). Otherwise the marginal form
//! `V = Z G Zᵀ + R` of the dense backend, which does not need `G⁻¹`
//! either, completes it from where the sparse fit ended when the backend
//! was chosen automatically and the data have at most
//! [`DENSE_COMPLETION_MAX`] rows; otherwise it is not labelled converged.

use super::boundary::ill_conditioned_g;
use super::evaluator::ParamInfo;
use super::options::Backend;
use super::{RemlFit, RemlOptions, Termination};

/// The most rows for which a sparse fit that ends at a nearly singular
/// unstructured `G` is completed on the dense backend (`Backend::Auto`
/// only): the dense evaluation costs `O(n³)` per iteration.
pub const DENSE_COMPLETION_MAX: usize = 3000;

/// The most parameters for which a fit on at most [`DENSE_COMPLETION_MAX`]
/// rows is completed in `Λ` form rather than on the dense backend: the
/// `Λ` form's Newton steps take `2k²` evaluations of `ℓ` for `k`
/// parameters (its derivatives are finite differences), the dense
/// backend's iterations `O(n³)`. Larger data are always completed in `Λ`
/// form.
pub const LAMBDA_MAX_PARAMS: usize = 8;

/// What to do with a fit of the sparse backend at a nearly singular `G`.
pub(crate) enum Completion {
    /// Nothing: no block of `G` is nearly singular.
    Keep(RemlFit),
    /// Complete the fit in lme4's `Λ` form
    /// ([`lambda_polish`](super::lambda_polish)), then, if that does not
    /// apply, [`check`] again with its reason.
    Lambda(RemlFit),
    /// Refit on the dense backend from the fit's estimate (then
    /// [`completed`] with the refit); the word for the warnings.
    Dense(RemlFit, String),
}

/// Reads a sparse fit `fit` of a model with `n` rows and parameters
/// `params`: unchanged when no unstructured block of `G` is nearly
/// singular at the estimate; to be completed on the dense backend when the
/// backend was chosen automatically (`opts`) and `n ≤
/// DENSE_COMPLETION_MAX`; otherwise not converged (`Stalled`, naming the
/// block and the dense backend).
pub(crate) fn check(
    mut fit: RemlFit,
    params: &ParamInfo,
    n: usize,
    opts: &RemlOptions,
    lambda_failed: Option<String>,
) -> Completion {
    let Some((block, pivot)) = ill_conditioned_g(params, &fit.free) else {
        return Completion::Keep(fit);
    };
    let small = n <= DENSE_COMPLETION_MAX && params.names.len() > LAMBDA_MAX_PARAMS;
    let Some(why) = lambda_failed.or_else(|| {
        small.then(|| {
            format!(
                "on at most {DENSE_COMPLETION_MAX} rows, a model with more than \
                 {LAMBDA_MAX_PARAMS} parameters is completed on the dense backend, cheaper than \
                 the Λ form's finite-difference Newton steps"
            )
        })
    }) else {
        return Completion::Lambda(fit);
    };
    let block = if block.is_empty() { "G" } else { &block };
    let word = format!(
        "the covariance matrix `{block}` is nearly singular at the estimate (relative Cholesky \
         pivot {pivot:.1e}: a correlation of ±1 or a variance 0), where the sparse \
         mixed-model equations, which need its inverse, lose about {:.0} digits, and lme4's \
         Λ form, which does not, cannot be used here ({why})",
        (1.0 / pivot.max(1e-300)).log10().min(16.0)
    );
    if opts.backend == Backend::Auto && n <= DENSE_COMPLETION_MAX {
        return Completion::Dense(fit, word);
    }
    let reason = format!(
        "{word}: the log-likelihood and score there are not precise enough to confirm the \
         optimum; fit with the dense backend (--backend dense), which does not need the inverse"
    );
    if fit.termination.is_converged() {
        fit.termination = Termination::Stalled { reason };
    } else {
        fit.warnings.push(reason);
    }
    Completion::Keep(fit)
}

/// The fit after the dense completion `dense` of the sparse fit `sparse`
/// (see [`check`]): the dense fit with a word, or the sparse one, not
/// converged, when the dense refit failed.
pub(crate) fn completed(
    sparse: RemlFit,
    dense: Result<RemlFit, super::RemlError>,
    word: String,
    n: usize,
) -> RemlFit {
    match dense {
        Ok(mut d) => {
            d.warnings.push(format!(
                "{word}; the sparse fit ({} iterations, log-likelihood {:.7}) was completed on \
                 the dense backend (n = {n}), which does not need the inverse",
                sparse.iterations, sparse.loglik
            ));
            d.seconds += sparse.seconds;
            d
        }
        Err(e) => {
            let mut s = sparse;
            let reason = format!("{word}, and its completion on the dense backend failed: {e}");
            if s.termination.is_converged() {
                s.termination = Termination::Stalled { reason };
            } else {
                s.warnings.push(reason);
            }
            s
        }
    }
}
