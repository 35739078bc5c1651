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
    /// Compares `closed` with `reference` entry by entry. A parameter missing
    /// from either list, or matrices of different shapes, count as an
    /// infinite difference.
    pub fn compare(
        names: Vec<String>,
        closed: &[DMatrix<f64>],
        reference: &[DMatrix<f64>],
    ) -> Self {
        let rows = names
            .into_iter()
            .enumerate()
            .map(|(k, n)| match (closed.get(k), reference.get(k)) {
                (Some(a), Some(b)) if a.shape() == b.shape() => {
                    // NaN anywhere (in either Jacobian) is an infinite difference:
                    // `f64::max` alone would drop it.
                    let diff = a
                        .iter()
                        .zip(b.iter())
                        .map(|(x, y)| {
                            let d = (x - y).abs();
                            if d.is_nan() {
                                f64::INFINITY
                            } else {
                                d
                            }
                        })
                        .fold(0.0, f64::max);
                    let scale = b.iter().map(|x| x.abs()).fold(0.0, f64::max);
                    (n, diff, scale)
                }
                _ => (n, f64::INFINITY, 0.0),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatched_jacobians_are_infinite_differences_not_panics() {
        let a = vec![DMatrix::from_element(2, 2, 1.0)];
        let c = GradientCheck::compare(vec!["x".into(), "y".into()], &a, &a);
        assert_eq!(c.rows[0].1, 0.0);
        assert_eq!(c.rows[1].1, f64::INFINITY);
        assert!(!c.passes(1e-12, 1e-12));
        let nan = vec![DMatrix::from_element(2, 2, f64::NAN)];
        let c = GradientCheck::compare(vec!["x".into()], &nan, &a);
        assert_eq!(
            c.max_abs_diff(),
            f64::INFINITY,
            "a NaN closed form must fail"
        );
        assert!(!c.passes(1.0, 1.0));
        let b = vec![DMatrix::from_element(3, 2, 1.0)];
        assert_eq!(
            GradientCheck::compare(vec!["x".into()], &a, &b).max_abs_diff(),
            f64::INFINITY
        );
    }
}
