//! The start of a fit: validated start and bounds, and the start
//! rescaled by the profiled common scale.

use super::*;

/// Checks the start and the bounds, and lifts the lower bound of every
/// positive parameter (variance) to `BOUNDARY · var(y)`: 0 for all practical
/// purposes, and the point where `e^{2x}` would otherwise creep towards
/// underflow with a score and an AI row that vanish with it. A range keeps
/// its bounds.
pub(super) fn setup(
    params: &ParamInfo,
    fx: &FixedPart,
    opts: &RemlOptions,
) -> Result<Setup, RemlError> {
    let tr = &params.transforms;
    let crate::reml::options::Validated {
        start: x0,
        lower: user_lo,
        upper: hi,
        warnings: option_warnings,
    } = opts.validate(&params.names, &params.defaults)?;
    let mut warnings = fx.notes.clone();
    warnings.extend(option_warnings);
    let var_y = fx.var_y();
    let floor = BOUNDARY * if var_y > 0.0 { var_y } else { 1.0 };
    let lo = (0..user_lo.len())
        .map(|i| {
            if tr[i].is_positive() && params.kinds[i] != ParamKind::Range {
                user_lo[i].max(tr[i].inverse(floor).min(x0[i]))
            } else {
                user_lo[i]
            }
        })
        .collect();
    Ok(Setup {
        x0,
        user_lo,
        lo,
        hi,
        warnings,
    })
}

/// The start with every variance-type parameter multiplied by the profiled
/// common scale `c` at `start` (see [`RemlOptions::rescale_start`]): each
/// natural value (on the user's scale, before a Cholesky map) times `c` to
/// the power of its kind ([`ParamKind::scale_power`]: variances and
/// covariances `c`; loadings, correlations, ranges and other parameters
/// unchanged), if that raises the log-likelihood. Skipped when the scale is
/// within 10 % of 1 or no parameter scales.
///
/// [`RemlOptions::rescale_start`]: crate::reml::RemlOptions::rescale_start
pub(super) fn rescaled_start(
    ev: &mut dyn Evaluator,
    start: &Point,
    user: &ParamInfo,
    space: &Space,
) -> Option<Point> {
    let c = start.profiled_scale;
    if !(c.is_finite() && c > 0.0) || c.ln().abs() < 0.1 {
        return None;
    }
    let tr = &user.transforms;
    let x0 = space.plan.to_x(&start.x);
    let mut moved = false;
    let x: Vec<f64> = (0..x0.len())
        .map(|i| {
            let x = x0[i];
            let power = user.kinds[i].scale_power();
            let scalable = tr[i].is_positive() || tr[i] == Transform::Identity;
            if power == 0.0 || !scalable {
                return x;
            }
            let scaled = tr[i].inverse(c.powf(power) * tr[i].forward(x));
            if !scaled.is_finite() {
                return x;
            }
            moved = true;
            if space.plan.in_block(i) {
                scaled
            } else {
                scaled.clamp(space.lo[i], space.hi[i])
            }
        })
        .collect();
    if !moved {
        return None;
    }
    let z = space.plan.to_z(&x);
    ev.evaluate(&z).ok().filter(|p| p.ll > start.ll)
}
