//! Level control for the one-hot design of one factor, as the seed's
//! `levels=` and R's `factor(x, levels = …)` / `relevel`: an explicit level
//! order (levels absent from the data keep an all-zero column), a chosen
//! reference level dropped for treatment contrasts, and column names that
//! carry the factor's name as a prefix (`trtB`), as lm/lme4 name them.

use super::{DataError, Dummy};
use nalgebra::DMatrix;

/// How the levels of one factor are coded as one-hot columns: their order,
/// the reference level, the name prefix. (Named apart from
/// [`structures::grouped::Levels`](crate::structures::grouped::Levels), the
/// level of every row, the shape of `VarIdent`.)
///
/// ```
/// use covreml::data::LevelCoding;
/// let trt: Vec<String> = ["B", "A", "B", "C"].iter().map(|s| s.to_string()).collect();
/// // R: model.matrix(~ relevel(factor(trt, levels = c("C","B","A","D")), "B"))
/// let d = LevelCoding::new(&["C", "B", "A", "D"])
///     .reference("B")
///     .prefix("trt")
///     .dummy(&trt)
///     .unwrap();
/// assert_eq!(d.names, ["trtC", "trtA", "trtD"]);
/// assert_eq!(d.matrix.row(3).iter().copied().collect::<Vec<_>>(), [1.0, 0.0, 0.0]);
/// assert!(d.matrix.column(2).iter().all(|&x| x == 0.0)); // D does not occur
/// // A value outside the given levels is an error that names it.
/// assert!(LevelCoding::new(&["A", "B"]).dummy(&trt).is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LevelCoding {
    order: Vec<String>,
    reference: Option<String>,
    prefix: String,
}

impl LevelCoding {
    /// The levels in this order (each column of the design is one level).
    pub fn new(order: &[&str]) -> Self {
        LevelCoding {
            order: order.iter().map(|s| s.to_string()).collect(),
            reference: None,
            prefix: String::new(),
        }
    }

    /// The levels that occur in `column`, in the crate's one level order
    /// ([`sorted_levels`](super::sorted_levels): numerically when every
    /// level is a number, by their text otherwise), the default order of
    /// [`dummy`](super::dummy).
    ///
    /// ```
    /// use covreml::data::LevelCoding;
    /// let dose: Vec<String> = ["10", "9", "10"].iter().map(|s| s.to_string()).collect();
    /// let d = LevelCoding::sorted(&dose).dummy(&dose).unwrap();
    /// assert_eq!(d.names, ["9", "10"]);
    /// ```
    pub fn sorted(column: &[String]) -> Self {
        let order = super::sorted_levels(column);
        LevelCoding::new(&order.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// Drops the column of `level`: treatment contrasts against it.
    pub fn reference(mut self, level: &str) -> Self {
        self.reference = Some(level.to_owned());
        self
    }

    /// Prefixes every column name with `prefix` (the factor's name).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_owned();
        self
    }

    /// The one-hot design of `column` with these levels. Fails, naming the
    /// value or level, when a value is not among the levels, a level is
    /// given twice, or the reference is not a level.
    pub fn dummy(&self, column: &[String]) -> Result<Dummy, DataError> {
        let mut index = std::collections::HashMap::new();
        for (i, l) in self.order.iter().enumerate() {
            if index.insert(l.as_str(), i).is_some() {
                return Err(DataError::InvalidDesign {
                    reason: format!("level `{l}` is given twice"),
                });
            }
        }
        let dropped = match &self.reference {
            Some(r) => Some(
                *index
                    .get(r.as_str())
                    .ok_or_else(|| DataError::InvalidDesign {
                        reason: format!(
                            "the reference level `{r}` is not among the levels {}",
                            self.order.join(", ")
                        ),
                    })?,
            ),
            None => None,
        };
        let kept: Vec<usize> = (0..self.order.len())
            .filter(|&i| Some(i) != dropped)
            .collect();
        let mut matrix = DMatrix::zeros(column.len(), kept.len());
        for (r, v) in column.iter().enumerate() {
            let l = *index
                .get(v.as_str())
                .ok_or_else(|| DataError::InvalidDesign {
                    reason: format!(
                        "row {}: `{v}` is not among the levels {}",
                        r + 1,
                        self.order.join(", ")
                    ),
                })?;
            if let Some(j) = kept.iter().position(|&k| k == l) {
                matrix[(r, j)] = 1.0;
            }
        }
        let names = kept
            .iter()
            .map(|&k| format!("{}{}", self.prefix, self.order[k]))
            .collect();
        Ok(Dummy { names, matrix })
    }
}
