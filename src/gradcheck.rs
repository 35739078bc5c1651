//! Comparing a closed-form Jacobian with the dual-number one.

use nalgebra::DMatrix;
use std::fmt;

/// The largest difference between two Jacobians, per parameter.
///
/// ```
/// use covreml::{Covariance, AR1};
/// let ar1 = Covariance::<AR1>::new(5).unwrap();
/// let check = ar1.check_gradients(&[0.0, 0.0]).unwrap(); // the default start
/// assert!(check.max_abs_diff() < 1e-14, "{check}");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GradientCheck {
    /// `(parameter name, largest |closed − dual| over the matrix entries,
    /// largest |dual| entry)` for each free parameter.
    pub rows: Vec<(String, f64, f64)>,
}

impl GradientCheck {
    /// Compares `closed` with `reference` entry by entry.
    pub fn compare(
        names: Vec<String>,
        closed: &[DMatrix<f64>],
        reference: &[DMatrix<f64>],
    ) -> Self {
        assert_eq!(
            closed.len(),
            reference.len(),
            "Jacobians of different lengths"
        );
        let rows = names
            .into_iter()
            .zip(closed.iter().zip(reference))
            .map(|(n, (a, b))| {
                let diff = if a.shape() == b.shape() {
                    a.iter()
                        .zip(b.iter())
                        .map(|(x, y)| (x - y).abs())
                        .fold(0.0, f64::max)
                } else {
                    f64::INFINITY
                };
                let scale = b.iter().map(|x| x.abs()).fold(0.0, f64::max);
                (n, diff, scale)
            })
            .collect();
        GradientCheck { rows }
    }

    /// The largest absolute difference over all parameters.
    pub fn max_abs_diff(&self) -> f64 {
        self.rows.iter().map(|r| r.1).fold(0.0, f64::max)
    }

    /// Whether every difference is within `atol + rtol·|largest entry|`.
    pub fn passes(&self, atol: f64, rtol: f64) -> bool {
        self.rows.iter().all(|(_, d, s)| *d <= atol + rtol * s)
    }
}

impl fmt::Display for GradientCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<24} {:>12} {:>12}",
            "parameter", "max |diff|", "max |dV|"
        )?;
        for (n, d, s) in &self.rows {
            writeln!(f, "{n:<24} {d:>12.3e} {s:>12.3e}")?;
        }
        Ok(())
    }
}
