//! Printing matrices the way a user reads them: aligned columns, fixed decimals.

use nalgebra::DMatrix;

/// Formats `m` with `decimals` digits after the point, columns right-aligned,
/// one row per line.
///
/// ```
/// let m = nalgebra::dmatrix![54.598150033, 0.0; 25.230741885, 54.598150033];
/// assert_eq!(
///     covreml::format_matrix(&m, 4),
///     "[[54.5982,  0.0000],\n [25.2307, 54.5982]]"
/// );
/// ```
pub fn format_matrix(m: &DMatrix<f64>, decimals: usize) -> String {
    let cells: Vec<String> = m.iter().map(|x| format!("{x:.decimals$}")).collect();
    let width = cells.iter().map(|c| c.len()).max().unwrap_or(0);
    let (r, c) = m.shape();
    let mut out = String::from("[");
    for i in 0..r {
        out.push_str(if i == 0 { "[" } else { " [" });
        for j in 0..c {
            // nalgebra stores column-major: entry (i, j) is at j * r + i.
            out.push_str(&format!("{:>width$}", cells[j * r + i]));
            if j + 1 < c {
                out.push_str(", ");
            }
        }
        out.push(']');
        if i + 1 < r {
            out.push_str(",\n");
        }
    }
    out.push(']');
    out
}

/// A float as messages print it: shortest round-trip decimal between `1e-4`
/// and `1e6` in magnitude (and 0), scientific notation outside
/// (`1.5e300`, `2e-7`), `NaN`, `inf`, `-inf` as Rust writes them. Every
/// error message formats its numbers with this one helper.
pub(crate) fn num(x: impl std::borrow::Borrow<f64>) -> String {
    let x = *x.borrow();
    let a = x.abs();
    if !x.is_finite() || a == 0.0 || (1e-4..1e6).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::num;

    #[test]
    fn numbers_in_messages_are_short() {
        assert_eq!(num(1e300), "1e300");
        assert_eq!(num(-2.5e-7), "-2.5e-7");
        assert_eq!(num(123456.5), "123456.5");
        assert_eq!(num(1e6), "1e6");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(f64::NAN), "NaN");
        assert_eq!(num(f64::NEG_INFINITY), "-inf");
        let quarter = 0.25;
        assert_eq!(num(quarter), "0.25");
    }
}
