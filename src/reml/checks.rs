//! Validation of user input: sizes, finiteness, rank of `X`.

use super::fixed::{check_names, FixedPart};
use super::fixed_effects::{Aliased, FixedEffects};
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

/// Checks `y` and the fixed effects and converts them for the engine:
/// sizes, finiteness, names, and aliased columns (refused or dropped, as the
/// [`Aliased`] policy says).
pub(crate) fn check_fixed(y: &[f64], fe: FixedEffects) -> Result<FixedPart, RemlError> {
    let FixedEffects { x, names, aliased } = fe;
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
    check_finite_matrix("X", &x)?;
    if aliased == Aliased::Error && x.nrows() <= x.ncols() {
        return Err(RemlError::TooFewRows {
            rows: x.nrows(),
            cols: x.ncols(),
        });
    }
    let names: Vec<String> = match names {
        Some(v) => {
            check_names(&v, x.ncols())?;
            v
        }
        None => (0..x.ncols()).map(|j| format!("beta[{j}]")).collect(),
    };
    let bad = dependent_columns(&x);
    let listed = |cols: &[usize]| {
        cols.iter()
            .map(|&c| format!("`{}`", names[c]))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut notes = Vec::new();
    let (x, names) = if bad.is_empty() {
        (x, names)
    } else if aliased == Aliased::Error {
        return Err(RemlError::RankDeficient {
            columns: listed(&bad),
        });
    } else {
        notes.push(format!(
            "fixed-effect column(s) {} dropped: linear combinations of the columns before them \
             (FixedEffects::drop_aliased)",
            listed(&bad)
        ));
        let keep: Vec<usize> = (0..x.ncols()).filter(|j| !bad.contains(j)).collect();
        let kept = DMatrix::from_fn(n, keep.len(), |i, j| x[(i, keep[j])]);
        let kept_names = keep.iter().map(|&j| names[j].clone()).collect();
        (kept, kept_names)
    };
    if x.nrows() <= x.ncols() {
        return Err(RemlError::TooFewRows {
            rows: x.nrows(),
            cols: x.ncols(),
        });
    }
    let mut fixed = FixedPart::new(y.to_vec(), Mat::from_fn(n, x.ncols(), |i, j| x[(i, j)]));
    fixed.names = names;
    fixed.notes = notes;
    Ok(fixed)
}

/// Columns of `x` (0-based) that are numerically in the span of the columns
/// before them: the distance of column `j` from the span of the kept
/// columns before it is at most `1e-10` of its norm (modified Gram–Schmidt
/// with re-orthogonalisation, `O(n p²)`). For many columns a full rank is
/// first certified in `O(Σ nnz(row)² + p³/3)` (see [`certified_full_rank`]):
/// a fixed factor with thousands of levels is checked in a second, not in
/// minutes.
pub(crate) fn dependent_columns(x: &DMatrix<f64>) -> Vec<usize> {
    if certified_full_rank(x) {
        return Vec::new();
    }
    gram_schmidt_dependent(x)
}

/// Below this many columns Gram–Schmidt is cheap and no certificate is tried.
const CERTIFY_MIN_COLUMNS: usize = 64;

/// Whether every column of `x` is certainly far from the span of the
/// columns before it. With `A = D⁻¹XᵀXD⁻¹` (unit diagonal; `XᵀX` formed from
/// the nonzeros of each row) and `A = LLᵀ`, `L_jj` is the distance of column
/// `j` from the span of the columns before it over its norm, the quantity
/// Gram–Schmidt tests against `1e-10`. The factorization's error on `L_jj²`
/// is `O(p·ε)`, so `L_jj ≥ 1e-5` proves the column independent; anything
/// less (or a failed factorization) is left to Gram–Schmidt, which names
/// the columns.
fn certified_full_rank(x: &DMatrix<f64>) -> bool {
    let (n, p) = x.shape();
    if p < CERTIFY_MIN_COLUMNS {
        return false;
    }
    let mut g = Mat::<f64>::zeros(p, p);
    let mut nz: Vec<(usize, f64)> = Vec::with_capacity(p);
    for i in 0..n {
        nz.clear();
        nz.extend((0..p).map(|j| (j, x[(i, j)])).filter(|(_, v)| *v != 0.0));
        for (a, &(ja, va)) in nz.iter().enumerate() {
            for &(jb, vb) in &nz[..=a] {
                g[(ja, jb)] += va * vb;
            }
        }
    }
    let d: Vec<f64> = (0..p).map(|j| g[(j, j)].sqrt()).collect();
    if d.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
        return false;
    }
    for j in 0..p {
        for i in j..p {
            g[(i, j)] /= d[i] * d[j];
        }
    }
    match g.llt(faer::Side::Lower) {
        Ok(l) => (0..p).all(|j| l.L()[(j, j)] >= 1e-5),
        Err(_) => false,
    }
}

/// [`dependent_columns`] by modified Gram–Schmidt.
fn gram_schmidt_dependent(x: &DMatrix<f64>) -> Vec<usize> {
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
