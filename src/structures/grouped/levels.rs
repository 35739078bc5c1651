//! [`Levels`]: the level of a factor for every row, the runtime shape of
//! [`VarIdent`](super::VarIdent).

use crate::data::DataError;

/// The level of a factor for every row, in row order.
///
/// Levels are in the one level order of the crate,
/// [`sorted_levels`](crate::data::sorted_levels): numerically when every
/// label is a number (`8` before `10`), by their text otherwise.
///
/// ```
/// use covreml::data::Table;
/// use covreml::structures::grouped::Levels;
/// let t = Table::parse("age,sex\n10,M\n8,F\n14,M\n8,M\n").unwrap();
/// let a = Levels::from_column(&t, "age").unwrap();
/// assert_eq!(a.names(), ["8", "10", "14"]);
/// assert_eq!(a.of_rows(), [1, 0, 2, 0]);
/// let s = Levels::from_column(&t, "sex").unwrap();
/// assert_eq!(s.names(), ["F", "M"]);
/// assert!(Levels::from_column(&t, "Sex").is_err()); // no such column
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Levels {
    level: Vec<usize>,
    names: Vec<String>,
}

impl Levels {
    /// From the label of every row. Errors: no rows.
    pub fn new<S: AsRef<str>>(labels: &[S]) -> Result<Self, DataError> {
        if labels.is_empty() {
            return Err(DataError::InvalidDesign {
                reason: "no rows: a factor needs at least one observation".into(),
            });
        }
        let (level, names) = crate::data::level_codes(labels);
        Ok(Levels { level, names })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.level.len()
    }

    /// Whether there are no rows (never true for a built shape).
    pub fn is_empty(&self) -> bool {
        self.level.is_empty()
    }

    /// The level names, in level order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The level (index into [`names`](Self::names)) of every row.
    pub fn of_rows(&self) -> &[usize] {
        &self.level
    }
}
