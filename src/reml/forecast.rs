//! How many more iterations a fit needs, read off its steps: their rate of
//! decrease and its order (linear or faster). The exact and the iterative
//! backends' progress lines both use it.

/// The most iterations a forecast simulates (beyond that it is unknown).
const HORIZON: usize = 1000;

/// Follows the step norms of a fit's iterations.
///
/// With steps `s₀, s₁, s₂` and ratios `r₁ = s₁/s₀`, `r₂ = s₂/s₁`, a
/// sequence converging with order `p` (`eₖ₊₁ ≈ c·eₖᵖ`) has ratios
/// `rₖ₊₁ = rₖᵖ`, so `p = ln r₂ / ln r₁`, taken between 1 (linear, as the AI
/// algorithm far from the optimum) and 2 (quadratic, as near the optimum
/// when the average information is close to the Hessian). The forecast
/// steps `r ← rᵖ`, `s ← s·r` until `s` is below the target. With only one
/// ratio it assumes linear convergence (an upper estimate once the steps
/// fall faster).
#[derive(Debug, Default, Clone)]
pub(crate) struct StepForecast {
    last_step: Option<f64>,
    last_ratio: Option<f64>,
}

impl StepForecast {
    /// Records an iteration's `step` norm and returns how many more
    /// iterations bring a step to `target` or below: 1 when `step` already
    /// is (the next iteration confirms convergence); `None` before two
    /// steps, when the steps do not decrease (ratio ≥ 0.9), or beyond
    /// [`HORIZON`].
    pub(crate) fn record(&mut self, step: f64, target: f64) -> Option<usize> {
        let prev_step = self.last_step.replace(step)?;
        let r = step / prev_step;
        let prev_ratio = self.last_ratio.replace(r);
        if !(step.is_finite() && prev_step > 0.0 && target > 0.0) {
            return None;
        }
        if step <= target {
            return Some(1);
        }
        if !(r > 0.0 && r < 0.9) {
            return None;
        }
        let order = match prev_ratio {
            Some(r1) if r1 > 0.0 && r1 < 1.0 => (r.ln() / r1.ln()).clamp(1.0, 2.0),
            _ => 1.0,
        };
        iterations_to(step, r, order, target)
    }
}

/// How many more steps take `step` below `target` when the ratio of two
/// steps, `r` so far, becomes `rᵖ` at each step (`p = order`); `None`
/// beyond [`HORIZON`].
fn iterations_to(mut step: f64, mut r: f64, order: f64, target: f64) -> Option<usize> {
    for k in 1..=HORIZON {
        r = r.powf(order);
        step *= r;
        if step <= target {
            return Some(k);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_steps_need_the_iterations_to_the_tolerance() {
        let mut f = StepForecast::default();
        assert_eq!(f.record(1.0, 1e-3), None);
        // r = 1/2: 2⁻⁹ < 1e-3 ≤ 2⁻⁸, 9 halvings from 0.5.
        assert_eq!(f.record(0.5, 1e-3), Some(9));
        // Not decreasing: unknown; at the target: one more to confirm.
        let mut f = StepForecast::default();
        f.record(1.0, 1e-3);
        assert_eq!(f.record(1.0, 1e-3), None);
        assert_eq!(f.record(1e-4, 1e-3), Some(1));
    }

    #[test]
    fn quadratic_steps_are_read_as_quadratic() {
        // Steps 1e-1, 1e-2, 1e-4 (ratios 0.1 then 0.01: order 2) go on
        // 1e-8, 1e-16: two more reach 1e-12.
        let mut f = StepForecast::default();
        f.record(1e-1, 1e-12);
        f.record(1e-2, 1e-12);
        assert_eq!(f.record(1e-4, 1e-12), Some(2));
        // The same steps read as linear (r = 0.01 kept) would need 4.
        assert_eq!(iterations_to(1e-4, 1e-2, 1.0, 2e-12), Some(4));
        // A ratio too close to 1 for the horizon: unknown.
        assert_eq!(iterations_to(1.0, 1.0 - 1e-9, 1.0, 1e-12), None);
    }
}
