//! The one check of a symmetric matrix's lower triangle in compressed
//! sparse columns, shared by every layer that takes such arrays (the sparse
//! Cholesky, fixed inverses, structures' sparse inverses, pedigrees' `A⁻¹`).

/// Whether every column must hold its diagonal entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Diagonal {
    /// The first row of column `j` is `j` (a pattern to factor).
    Required,
    /// A column may be empty or start below the diagonal.
    Optional,
}

/// Checks that `col_ptr`/`row_idx` are the lower triangle of an `n × n`
/// matrix: `col_ptr` has `n + 1` non-decreasing entries from 0 to
/// `row_idx.len()`, the rows of column `j` are strictly increasing within
/// `j..n` (and start at `j` when the diagonal is required). The error is the
/// first violation, in words.
pub(crate) fn check_lower_csc(
    n: usize,
    col_ptr: &[usize],
    row_idx: &[usize],
    diagonal: Diagonal,
) -> Result<(), String> {
    if col_ptr.len() != n + 1 {
        return Err(format!(
            "col_ptr has length {}, expected n + 1 = {}",
            col_ptr.len(),
            n + 1
        ));
    }
    if col_ptr[0] != 0 {
        return Err(format!("col_ptr[0] is {}, expected 0", col_ptr[0]));
    }
    if col_ptr[n] != row_idx.len() {
        return Err(format!(
            "col_ptr[n] is {} but row_idx has length {}",
            col_ptr[n],
            row_idx.len()
        ));
    }
    for j in 0..n {
        let (p0, p1) = (col_ptr[j], col_ptr[j + 1]);
        if p1 < p0 || p1 > row_idx.len() {
            return Err(format!(
                "col_ptr decreases or overruns at column {j} ({p0} .. {p1})"
            ));
        }
        let rows = &row_idx[p0..p1];
        if diagonal == Diagonal::Required && rows.first() != Some(&j) {
            return Err(format!(
                "column {j} must start with its diagonal entry (row {j}) and hold only \
                 rows ≥ {j} (lower triangle); its first row is {:?}",
                rows.first()
            ));
        }
        if let Some(&first) = rows.first() {
            if first < j {
                return Err(format!(
                    "row {first} in column {j} is above the diagonal (lower triangle only)"
                ));
            }
        }
        for w in rows.windows(2) {
            if w[1] <= w[0] {
                return Err(format!(
                    "rows of column {j} are not strictly increasing ({} then {})",
                    w[0], w[1]
                ));
            }
        }
        if let Some(&last) = rows.last() {
            if last >= n {
                return Err(format!(
                    "row {last} in column {j} is out of range for n = {n}"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{check_lower_csc, Diagonal};

    #[test]
    fn every_violation_is_named_and_none_panics() {
        let ok = |c: &[usize], r: &[usize], d| check_lower_csc(2, c, r, d).is_ok();
        assert!(ok(&[0, 2, 3], &[0, 1, 1], Diagonal::Required));
        assert!(ok(&[0, 1, 1], &[1], Diagonal::Optional));
        assert!(!ok(&[0, 1, 1], &[1], Diagonal::Required)); // no diagonal
        let bad = [
            (vec![0, 2], vec![0, 1]),       // length
            (vec![1, 2, 3], vec![0, 1, 1]), // col_ptr[0]
            (vec![0, 2, 2], vec![0, 1, 1]), // col_ptr[n]
            (vec![0, 5, 3], vec![0, 1, 1]), // overrun (used to panic)
            (vec![0, 2, 3], vec![1, 0, 1]), // not increasing
            (vec![0, 2, 3], vec![0, 2, 1]), // out of range
            (vec![0, 1, 3], vec![0, 0, 1]), // above the diagonal
        ];
        for (c, r) in bad {
            for d in [Diagonal::Required, Diagonal::Optional] {
                let e = check_lower_csc(2, &c, &r, d).unwrap_err();
                assert!(!e.is_empty(), "{c:?} {r:?}");
            }
        }
    }
}
