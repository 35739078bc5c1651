//! The convergence test (scale-free: relative to `1 + |ℓ|`).

use super::*;

/// The convergence test: `None` if not converged, `Some(false)` if
/// converged by the tolerances, `Some(true)` if converged only because the
/// remaining score is rounding noise.
///
/// Converged when (a) the score is small — its norm below `tol_score`, or
/// the Newton decrement `sᵀ AI⁻¹ s` relative to `1 + |ℓ|` below
/// `tol_score²` (scale-free: the same on 100 and 10⁷ rows) — and (b) the
/// proposed step is below `tol_step · (1 + ‖x‖)` and (c) the log-likelihood
/// changed by less than `tol_loglik · (1 + |ℓ|)`; on large data
/// (`|ℓ| ≥ 1e5`), (a) also holds when the gain the step promises is below
/// ten rounding levels of `ℓ`: the score is then noise.
#[allow(clippy::too_many_arguments)]
pub(super) fn converged(
    cur: &Point,
    score: &[f64],
    d: &[f64],
    e: &[f64],
    change: f64,
    predicted: f64,
    score_norm: f64,
    opts: &RemlOptions,
) -> Option<bool> {
    let scale = 1.0 + cur.ll.abs();
    let decrement: f64 = score
        .iter()
        .zip(d)
        .map(|(a, b)| a * b)
        .sum::<f64>()
        .max(0.0);
    let score_ok = score_norm <= opts.tol_score || decrement / scale <= opts.tol_score.powi(2);
    let step_ok = norm(e) <= opts.tol_step * (1.0 + norm(&cur.x));
    let change_ok = change.abs() <= opts.tol_loglik * scale;
    if score_ok && step_ok && change_ok {
        return Some(false);
    }
    let noise = ROUNDING * cur.ll.abs().max(1.0);
    let noisy = cur.ll.abs() >= LARGE_LOGLIK
        && predicted.abs() <= CONVERGED_GAIN * noise
        && step_ok
        && change_ok;
    noisy.then_some(true)
}
