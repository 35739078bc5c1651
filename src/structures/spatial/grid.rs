//! [`Grid`]: the row and column index of every plot, the runtime shape of
//! [`AR1xAR1`](super::AR1xAR1).

use crate::data::DataError;
use std::collections::BTreeMap;

/// The largest distance in rows or columns that [`Grid`] accepts (the
/// structure tabulates `ρ^0 … ρ^lag`).
const MAX_LAG: i64 = 1 << 20;

/// The row and column index (whole numbers) of every plot, in data-row order.
///
/// ```
/// use covreml::data::Table;
/// use covreml::structures::spatial::Grid;
/// let t = Table::parse("row,col,y\n2,1,3.5\n1,1,2.0\n1,3,4.1\n").unwrap();
/// let g = Grid::from_columns(&t, "row", "col").unwrap();
/// assert_eq!(g.len(), 3);
/// assert_eq!(g.rows(), [2, 1, 1]);
/// assert_eq!(g.cols(), [1, 1, 3]);
/// // two rows of the data on one plot are an error naming both
/// let t = Table::parse("row,col\n1,1\n1,2\n1,1\n").unwrap();
/// let e = Grid::from_columns(&t, "row", "col").unwrap_err().to_string();
/// assert!(e.contains("rows 0 and 2 are both on plot (row 1, col 1)"), "{e}");
/// // so is a fractional index
/// let t = Table::parse("row,col\n1,1.5\n").unwrap();
/// assert!(Grid::from_columns(&t, "row", "col").is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    row: Vec<i64>,
    col: Vec<i64>,
}

impl Grid {
    /// From the row and column index of every plot.
    ///
    /// Errors: lengths that differ, no plots, an index that is not a whole
    /// number, two data rows on one plot.
    pub fn new(rows: &[f64], cols: &[f64]) -> Result<Self, DataError> {
        Self::build(rows, cols, ("row", "column"))
    }

    pub(crate) fn build(
        rows: &[f64],
        cols: &[f64],
        names: (&str, &str),
    ) -> Result<Self, DataError> {
        if rows.len() != cols.len() || rows.is_empty() {
            return Err(DataError::InvalidDesign {
                reason: format!(
                    "a grid needs as many row as column indices, at least one: got {} and {}",
                    rows.len(),
                    cols.len()
                ),
            });
        }
        let whole = |v: &[f64], name: &str| -> Result<Vec<i64>, DataError> {
            v.iter()
                .enumerate()
                .map(|(i, &x)| {
                    if x.is_finite() && x.fract() == 0.0 && x.abs() <= MAX_LAG as f64 {
                        Ok(x as i64)
                    } else {
                        Err(DataError::InvalidDesign {
                            reason: format!(
                                "`{name}`, row {}: {x} is not a whole-number index in ±{MAX_LAG}",
                                i + 1
                            ),
                        })
                    }
                })
                .collect()
        };
        let row = whole(rows, names.0)?;
        let col = whole(cols, names.1)?;
        let mut seen = BTreeMap::new();
        for (i, p) in row.iter().zip(&col).enumerate() {
            if let Some(first) = seen.insert(p, i) {
                return Err(DataError::InvalidDesign {
                    reason: format!(
                        "rows {first} and {i} are both on plot ({} {}, {} {}); \
                         a field structure needs one observation per plot",
                        names.0, p.0, names.1, p.1
                    ),
                });
            }
        }
        Ok(Grid { row, col })
    }

    /// Number of plots.
    pub fn len(&self) -> usize {
        self.row.len()
    }

    /// Whether there are no plots (never true for a built shape).
    pub fn is_empty(&self) -> bool {
        self.row.is_empty()
    }

    /// The row index of every plot.
    pub fn rows(&self) -> &[i64] {
        &self.row
    }

    /// The column index of every plot.
    pub fn cols(&self) -> &[i64] {
        &self.col
    }

    /// The largest row and column distances between two plots.
    pub(crate) fn max_lags(&self) -> (usize, usize) {
        let span = |v: &[i64]| {
            let (lo, hi) = v
                .iter()
                .fold((i64::MAX, i64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            (hi - lo) as usize
        };
        (span(&self.row), span(&self.col))
    }
}
