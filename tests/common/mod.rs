//! Helpers shared by the integration tests: matrix comparisons with
//! tolerances scaled to the magnitude of the expected entries.
#![allow(dead_code)]

use nalgebra::DMatrix;

/// Largest absolute entry (0 for an empty matrix).
pub fn max_abs(m: &DMatrix<f64>) -> f64 {
    m.iter().fold(0.0, |a, x| a.max(x.abs()))
}

/// Largest entry-wise difference, `∞` if the shapes differ or an entry is NaN.
pub fn max_diff(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    if a.shape() != b.shape() {
        return f64::INFINITY;
    }
    a.iter().zip(b.iter()).fold(0.0, |acc, (x, y)| {
        let d = (x - y).abs();
        if d.is_nan() {
            f64::INFINITY
        } else {
            acc.max(d)
        }
    })
}

/// Asserts `|a_ij − b_ij| ≤ atol + rtol·|b_ij|` for every entry.
pub fn assert_close_entries(a: &DMatrix<f64>, b: &DMatrix<f64>, atol: f64, rtol: f64, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes differ");
    for ((i, j), x) in a
        .iter()
        .enumerate()
        .map(|(k, x)| ((k % a.nrows(), k / a.nrows()), x))
    {
        let y = b[(i, j)];
        assert!(
            (x - y).abs() <= atol + rtol * y.abs(),
            "{what}: entry ({i}, {j}) is {x:e}, expected {y:e} (diff {:e})\ngot {a}\nexpected {b}",
            (x - y).abs()
        );
    }
}

/// Asserts `max|a − b| ≤ rtol · max|b| + atol`: a tolerance relative to the
/// magnitude of the expected matrix as a whole.
pub fn assert_close_scaled(a: &DMatrix<f64>, b: &DMatrix<f64>, rtol: f64, atol: f64, what: &str) {
    let d = max_diff(a, b);
    let tol = rtol * max_abs(b) + atol;
    assert!(
        d <= tol,
        "{what}: max |diff| = {d:e} > tol {tol:e}\ngot {a}\nexpected {b}"
    );
}

/// Compares two lists of Jacobian matrices, each matrix with a tolerance
/// relative to its own largest entry (plus `atol`).
pub fn assert_jacobians_close(
    got: &[DMatrix<f64>],
    expected: &[DMatrix<f64>],
    names: &[String],
    rtol: f64,
    atol: f64,
    what: &str,
) {
    assert_eq!(
        got.len(),
        expected.len(),
        "{what}: {} Jacobian matrices, expected {}",
        got.len(),
        expected.len()
    );
    for (k, (g, e)) in got.iter().zip(expected).enumerate() {
        let name = names.get(k).map_or("?", |s| s.as_str());
        assert_close_scaled(g, e, rtol, atol, &format!("{what}: ∂V/∂{name}"));
    }
}
