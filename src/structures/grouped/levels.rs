//! [`Levels`]: the level of a factor for every row, the runtime shape of
//! [`VarIdent`](super::VarIdent).

use crate::data::{DataError, Incidence};

/// The level of a factor for every row, in row order.
///
/// Levels are in the one level order of the crate,
/// [`sorted_levels`](crate::data::sorted_levels): numerically when every
/// label is a number (`8` before `10`), by their text otherwise. The codes
/// and level names are those of the factor's [`Incidence`] (built by
/// [`Incidence::from_labels`], held here and given by
/// [`factor`](Self::factor)): a `VarIdent` over a factor and a random term
/// on it number the levels alike.
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
    factor: Incidence,
}

impl Levels {
    /// From the label of every row. Errors: no rows.
    pub fn new<S: AsRef<str>>(labels: &[S]) -> Result<Self, DataError> {
        if labels.is_empty() {
            return Err(DataError::InvalidDesign {
                reason: "no rows: a factor needs at least one observation".into(),
            });
        }
        Ok(Levels {
            factor: Incidence::from_labels(labels),
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.factor.len()
    }

    /// Whether there are no rows (never true for a built shape).
    pub fn is_empty(&self) -> bool {
        self.factor.is_empty()
    }

    /// The level names, in level order.
    pub fn names(&self) -> &[String] {
        self.factor.level_names()
    }

    /// The level (index into [`names`](Self::names)) of every row.
    pub fn of_rows(&self) -> &[usize] {
        self.factor.levels()
    }

    /// The factor as an incidence design: the same codes and level names.
    ///
    /// ```
    /// use covreml::structures::grouped::Levels;
    /// let f = Levels::new(&["b", "a", "b"]).unwrap();
    /// assert_eq!(f.factor().levels(), f.of_rows());
    /// assert_eq!(f.factor().level_names(), f.names());
    /// ```
    pub fn factor(&self) -> &Incidence {
        &self.factor
    }
}

impl From<Levels> for Incidence {
    /// The factor of `levels`, its codes and names unchanged.
    fn from(levels: Levels) -> Self {
        levels.factor
    }
}
