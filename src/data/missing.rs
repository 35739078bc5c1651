//! Missing values: which texts count as missing, and what model building
//! does with incomplete rows (drop them, as R's `na.omit`, or refuse them).

use super::{DataError, Table};

/// The texts read as a missing value (after trimming whitespace): the empty
/// field, `NA` (R), `N/A` and `NaN`, all case-sensitive.
pub const MISSING_VALUES: &[&str] = &["", "NA", "N/A", "NaN"];

/// Whether a field is one of [`MISSING_VALUES`].
///
/// ```
/// use covreml::data::is_missing_value;
/// assert!(is_missing_value("NA") && is_missing_value(""));
/// assert!(!is_missing_value("0") && !is_missing_value("na"));
/// ```
pub fn is_missing_value(field: &str) -> bool {
    MISSING_VALUES.contains(&field)
}

/// What to do with a row that has a missing value in a column a model uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NaAction {
    /// Refuse: an error naming the column and the 1-based file line of the
    /// first missing value (the default).
    #[default]
    Fail,
    /// Drop the row, as R's `na.omit`; [`CompleteRows::dropped`] tells how
    /// many were dropped.
    Omit,
}

/// The complete rows of a table for a set of columns.
#[derive(Clone, Debug, PartialEq)]
pub struct CompleteRows {
    /// The table without the dropped rows (rows keep their file lines).
    pub table: Table,
    /// How many rows were dropped.
    pub dropped: usize,
    /// The 1-based file lines of the dropped rows.
    pub dropped_lines: Vec<usize>,
}

impl Table {
    /// The rows with no missing value in `columns`, under `action`.
    ///
    /// ```
    /// use covreml::data::{NaAction, Table};
    /// let t = Table::parse("y,g,note\n1.5,a,\nNA,b,x\n2.5,,y\n3.0,b,z\n").unwrap();
    /// let c = t.complete_rows(&["y", "g"], NaAction::Omit).unwrap();
    /// assert_eq!((c.table.n_rows(), c.dropped), (2, 2));
    /// assert_eq!(c.dropped_lines, [3, 4]);
    /// assert_eq!(c.table.numeric("y").unwrap(), [1.5, 3.0]);
    /// // the empty `note` of line 2 does not count: `note` is not used
    /// let e = t.complete_rows(&["y", "g"], NaAction::Fail).unwrap_err();
    /// assert_eq!(e.to_string(), "column `y`, line 3: missing value (`NA`)");
    /// ```
    pub fn complete_rows(
        &self,
        columns: &[&str],
        action: NaAction,
    ) -> Result<CompleteRows, DataError> {
        let (keep, dropped_lines) = self.complete_row_index(columns, action)?;
        let table = if dropped_lines.is_empty() {
            self.clone()
        } else {
            self.select_rows(&keep)?
        };
        Ok(CompleteRows {
            table,
            dropped: dropped_lines.len(),
            dropped_lines,
        })
    }

    /// The 0-based rows with no missing value in `columns`, and the file
    /// lines of the others, under `action` (see
    /// [`complete_rows`](Self::complete_rows), which copies the table).
    pub fn complete_row_index(
        &self,
        columns: &[&str],
        action: NaAction,
    ) -> Result<(Vec<usize>, Vec<usize>), DataError> {
        let cols = columns
            .iter()
            .map(|c| self.column_index(c).map(|i| (*c, i)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut keep = Vec::with_capacity(self.n_rows());
        let mut dropped_lines = Vec::new();
        for (row, &line) in self.lines().iter().enumerate() {
            let missing = cols.iter().find(|(_, i)| self.cell_missing(*i, row));
            match (missing, action) {
                (None, _) => keep.push(row),
                (Some((name, i)), NaAction::Fail) => {
                    return Err(DataError::MissingValue {
                        column: name.to_string(),
                        line,
                        value: self.cell_text(*i, row),
                    })
                }
                (Some(_), NaAction::Omit) => dropped_lines.push(line),
            }
        }
        Ok((keep, dropped_lines))
    }
}
