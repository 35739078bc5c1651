//! The estimated time left of a fit, for its progress lines: the last
//! iteration's duration times the iterations still needed
//! ([`StepForecast`]).

use crate::reml::forecast::StepForecast;
use crate::reml::Iteration;

/// Follows a fit's iterations.
#[derive(Debug, Default)]
pub(crate) struct TimeLeft {
    /// The previous iteration's elapsed seconds.
    last_elapsed: Option<f64>,
    steps: StepForecast,
}

impl TimeLeft {
    /// The estimated seconds left after `it`, at `elapsed` seconds since
    /// the start, for a fit whose steps must fall below `tol_step · (1 +
    /// ‖x‖)` within `max_iter` iterations; `None` until two steps show a
    /// decrease.
    pub(crate) fn after(
        &mut self,
        it: &Iteration,
        elapsed: f64,
        tol_step: f64,
        max_iter: usize,
    ) -> Option<f64> {
        let prev_elapsed = self.last_elapsed.replace(elapsed);
        let target = tol_step * (1.0 + it.free.iter().map(|v| v * v).sum::<f64>().sqrt());
        let k = self.steps.record(it.step_norm, target)?;
        let per_iteration = elapsed - prev_elapsed?;
        let k = k.min(max_iter.saturating_sub(it.iter)).max(1);
        Some(k as f64 * per_iteration)
    }
}

/// `est. left 90 s` (or `est. left ?`).
pub(crate) fn left_text(left: Option<f64>) -> String {
    match left {
        Some(s) if s < 10.0 => format!("est. left {s:.1} s"),
        Some(s) => format!("est. left {s:.0} s"),
        None => "est. left ?".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    fn iteration(iter: usize, step_norm: f64) -> Iteration {
        Iteration {
            iter,
            free: vec![0.0],
            natural: vec![1.0],
            beta: vec![],
            loglik: -1.0,
            loglik_change: f64::NAN,
            score: vec![0.0],
            score_norm: 0.0,
            ai: DMatrix::zeros(1, 1),
            step: vec![],
            step_norm,
            halvings: 0,
        }
    }

    #[test]
    fn steps_halving_need_the_iterations_to_the_tolerance() {
        let mut t = TimeLeft::default();
        assert_eq!(t.after(&iteration(1, 1.0), 10.0, 1e-3, 50), None);
        // r = 1/2, 10 s per iteration: 2⁻⁹ < 1e-3 ≤ 2⁻⁸ after 9 halvings
        // from 0.5.
        let left = t.after(&iteration(2, 0.5), 20.0, 1e-3, 50).unwrap();
        assert_eq!(left, 90.0);
        // Capped by the iterations left.
        let mut t = TimeLeft::default();
        t.after(&iteration(1, 1.0), 10.0, 1e-3, 4);
        assert_eq!(t.after(&iteration(2, 0.5), 20.0, 1e-3, 4), Some(20.0));
        // Steps not decreasing: unknown.
        let mut t = TimeLeft::default();
        t.after(&iteration(1, 1.0), 10.0, 1e-3, 50);
        assert_eq!(t.after(&iteration(2, 1.0), 20.0, 1e-3, 50), None);
        // Quadratic steps: 1e-1, 1e-2, 1e-4 go on 1e-8, 1e-16.
        let mut t = TimeLeft::default();
        t.after(&iteration(1, 1e-1), 10.0, 1e-12, 50);
        t.after(&iteration(2, 1e-2), 20.0, 1e-12, 50);
        assert_eq!(t.after(&iteration(3, 1e-4), 30.0, 1e-12, 50), Some(20.0));
        assert_eq!(left_text(None), "est. left ?");
        assert_eq!(left_text(Some(90.0)), "est. left 90 s");
    }
}
