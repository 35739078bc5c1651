//! Reading the boundary at the end of a fit: lme4's `isSingular` rule, and
//! parameters that run off to infinity (no interior optimum).

use super::constrain::{min_relative_pivot, tri, Plan};
use super::evaluator::ParamInfo;
use crate::ParamKind;

/// lme4's threshold on a relative Cholesky diagonal (`isSingular(tol = 1e-4)`).
const SINGULAR_TOL: f64 = 1e-4;

/// A parameter whose natural value grew by this factor from the start while
/// the log-likelihood rose has no interior optimum.
pub(crate) const DIVERGED: f64 = 1e6;

/// The parameters that make a fit singular by lme4's rule, applied to every
/// random term (the first `params.random` parameters):
/// - a variance `σ²` with `√(σ²/σ²_ref) < 1e-4`,
/// - an unstructured block whose relative Cholesky factor (of `Σ/σ²_ref`)
///   has a diagonal below `1e-4` (named by that row's variance),
/// - a correlation within `1e-8` of an end of its range;
///
/// `σ²_ref` is the residual variance (the largest residual variance-type
/// parameter), else `var_y`. A specific variance (a factor-analytic `ψ`)
/// at 0 is a Heywood case, not a singular matrix.
pub(crate) fn singular_params(
    params: &ParamInfo,
    x: &[f64],
    natural: &[f64],
    plan: &Plan,
    var_y: f64,
) -> Vec<String> {
    let r = params.random;
    let reference = (r..natural.len())
        .filter(|&i| params.kinds[i] == ParamKind::Variance)
        .map(|i| natural[i])
        .fold(f64::NAN, f64::max);
    let reference = if reference.is_finite() && reference > 0.0 {
        reference
    } else if var_y > 0.0 {
        var_y
    } else {
        1.0
    };
    let mut out = Vec::new();
    let mut in_block = vec![false; natural.len()];
    for b in plan.blocks.iter().filter(|b| b.idx.iter().all(|&k| k < r)) {
        b.idx.iter().for_each(|&k| in_block[k] = true);
        let s = b.sigma(x) / reference;
        // Cholesky with each pivot's square read against the threshold;
        // a vanishing pivot leaves its column out.
        let mut l = nalgebra::DMatrix::<f64>::zeros(b.n, b.n);
        for i in 0..b.n {
            let d2 = s[(i, i)] - (0..i).map(|k| l[(i, k)] * l[(i, k)]).sum::<f64>();
            if d2 < SINGULAR_TOL * SINGULAR_TOL {
                out.push(params.names[b.idx[tri(i, i)]].clone());
                continue;
            }
            let d = d2.sqrt();
            l[(i, i)] = d;
            for j in i + 1..b.n {
                let v = s[(j, i)] - (0..i).map(|k| l[(j, k)] * l[(i, k)]).sum::<f64>();
                l[(j, i)] = v / d;
            }
        }
    }
    for i in (0..r).filter(|&i| !in_block[i]) {
        let v = natural[i];
        let singular = match params.kinds[i] {
            ParamKind::Variance => (v / reference).max(0.0).sqrt() < SINGULAR_TOL,
            ParamKind::Correlation => {
                let (lo, hi) = params.transforms[i].range();
                let w = (hi - lo).abs();
                w.is_finite() && ((v - lo).abs() <= 1e-8 * w || (hi - v).abs() <= 1e-8 * w)
            }
            _ => false,
        };
        if singular {
            out.push(params.names[i].clone());
        }
    }
    out
}

/// The parameter, if any, that has run off towards infinity: a
/// positive-scale parameter without a finite upper bound whose natural
/// value grew more than [`DIVERGED`]-fold from `start` and still moves up.
/// A range is named before anything else (a variance diverging with it, as
/// an exponential kernel's sill does, follows the range).
pub(crate) fn diverging(
    params: &ParamInfo,
    start: &[f64],
    x: &[f64],
    step: &[f64],
    hi: &[f64],
) -> Option<usize> {
    let tr = &params.transforms;
    let ratio = |i: usize| tr[i].forward(x[i]) / tr[i].forward(start[i]).abs().max(1e-300);
    let positive = |i: usize| {
        matches!(
            params.kinds[i],
            ParamKind::Variance | ParamKind::SpecificVariance | ParamKind::Range
        ) && hi[i] == f64::INFINITY
            && tr[i].range() == (0.0, f64::INFINITY)
    };
    let crossed = (0..x.len()).find(|&i| positive(i) && step[i] > 0.0 && ratio(i) > DIVERGED)?;
    let range = (0..x.len())
        .filter(|&i| {
            positive(i) && params.kinds[i] == ParamKind::Range && ratio(i) > DIVERGED.sqrt()
        })
        .max_by(|&a, &b| ratio(a).total_cmp(&ratio(b)));
    Some(range.unwrap_or(crossed))
}

/// The smallest relative Cholesky pivot (`d_i² / Σ_ii`, `1 − R²` of a row
/// on the rows before it) of an unstructured block of `G` at which
/// Henderson's mixed-model equations still give the log-likelihood and
/// score to about `1e-6`: `G⁻¹` then has a direction `1 / pivot` times
/// larger than its others, and `C = WᵀR⁻¹W + G⁻¹` carries its other
/// directions as differences of numbers that much larger, with `ε / pivot`
/// relative error. Measured: at pivots near `1e-10` (a correlation of ±1,
/// a Cholesky diagonal at its floor) the sparse log-likelihood is off by
/// `3.7e-4` (Heywood data, 40 blocks) and the score by a factor `1e6`.
pub(crate) const IMPRECISE_PIVOT: f64 = 1e-6;

/// An unstructured block of a random term's `G` (given by the user's free
/// parameters `x`) so nearly singular that an evaluator working with `G⁻¹`
/// loses the digits the convergence test needs: its operand path and
/// smallest relative pivot (below [`IMPRECISE_PIVOT`]); the worst block.
pub(crate) fn ill_conditioned_g(params: &ParamInfo, x: &[f64]) -> Option<(String, f64)> {
    let k = params.names.len();
    let inf = f64::INFINITY;
    let plan = Plan::new(params, &vec![-inf; k], &vec![inf; k], 1e-10, 1.0);
    plan.blocks
        .iter()
        .filter(|b| b.idx.iter().all(|&i| i < params.random))
        .map(|b| (b.prefix.clone(), min_relative_pivot(&b.sigma(x)).max(0.0)))
        .filter(|(_, p)| p.is_nan() || *p < IMPRECISE_PIVOT)
        .min_by(|a, b| a.1.total_cmp(&b.1))
}
