//! [`Levels`]: the level of a factor for every row, the runtime shape of
//! [`VarIdent`](super::VarIdent).

use crate::data::DataError;
use std::collections::{BTreeMap, BTreeSet};

/// The level of a factor for every row, in row order.
///
/// Levels are ordered numerically when every label is a number (`8` before
/// `10`), lexicographically otherwise, so that nothing depends on the order
/// of the rows.
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
        let distinct: BTreeSet<&str> = labels.iter().map(AsRef::as_ref).collect();
        let mut names: Vec<&str> = distinct.into_iter().collect();
        let numbers: Option<Vec<f64>> = names.iter().map(|s| s.trim().parse().ok()).collect();
        if let Some(nums) = numbers {
            if nums.iter().all(|x| x.is_finite()) {
                let mut order: Vec<usize> = (0..names.len()).collect();
                order.sort_by(|&a, &b| nums[a].total_cmp(&nums[b]).then(names[a].cmp(names[b])));
                names = order.into_iter().map(|i| names[i]).collect();
            }
        }
        let index: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let level = labels.iter().map(|l| index[l.as_ref()]).collect();
        Ok(Levels {
            level,
            names: names.into_iter().map(str::to_string).collect(),
        })
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
