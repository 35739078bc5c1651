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
