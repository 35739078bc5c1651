//! Validation of user input: sizes, finiteness, rank of `X`.

use super::fixed::Fixed;
use super::RemlError;
use faer::Mat;
use nalgebra::DMatrix;

/// Errors if any entry is NaN or infinite.
pub(crate) fn check_finite_matrix(operand: &str, m: &DMatrix<f64>) -> Result<(), RemlError> {
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            let v = m[(i, j)];
            if !v.is_finite() {
                return Err(RemlError::NotFinite {
                    operand: operand.to_string(),
                    position: format!("({}, {})", i + 1, j + 1),
                    value: v,
                });
            }
        }
    }
    Ok(())
}

/// Checks `y` and `X` and converts them for the engine.
pub(crate) fn check_fixed(y: &[f64], x: &DMatrix<f64>) -> Result<Fixed, RemlError> {
    let n = y.len();
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(RemlError::NotFinite {
            operand: "y".into(),
            position: format!("row {}", i + 1),
            value: y[i],
        });
    }
    if x.nrows() != n {
        return Err(RemlError::DimensionMismatch {
            operand: "X".into(),
            expected: format!("{n} rows (the length of y)"),
            got: format!("{} × {}", x.nrows(), x.ncols()),
        });
    }
    check_finite_matrix("X", x)?;
    if x.nrows() <= x.ncols() {
        return Err(RemlError::TooFewRows {
            rows: x.nrows(),
            cols: x.ncols(),
        });
    }
    let bad = dependent_columns(x);
    if !bad.is_empty() {
        return Err(RemlError::RankDeficient {
            columns: bad
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(Fixed::new(
        y.to_vec(),
        Mat::from_fn(n, x.ncols(), |i, j| x[(i, j)]),
    ))
}

/// Columns of `x` (0-based) that are numerically in the span of the columns
/// before them (modified Gram–Schmidt with re-orthogonalisation).
pub(crate) fn dependent_columns(x: &DMatrix<f64>) -> Vec<usize> {
    let mut basis: Vec<Vec<f64>> = Vec::new();
    let mut bad = Vec::new();
    for j in 0..x.ncols() {
        let mut v: Vec<f64> = x.column(j).iter().copied().collect();
        let orig = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        for _ in 0..2 {
            for b in &basis {
                let d: f64 = v.iter().zip(b).map(|(a, c)| a * c).sum();
                for (vi, bi) in v.iter_mut().zip(b) {
                    *vi -= d * bi;
                }
            }
        }
        let r = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if orig == 0.0 || r <= 1e-10 * orig {
            bad.push(j);
        } else {
            basis.push(v.iter().map(|a| a / r).collect());
        }
    }
    bad
}
