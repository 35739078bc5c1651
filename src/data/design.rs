//! Design matrices from categorical columns, like torch-openreml's
//! `DummyMatrix`: one-hot columns in level order ([`sorted_levels`](super::sorted_levels));
//! interactions of several columns with level names joined by `⋈`
//! (first column outermost); options to drop the first column (treatment
//! contrasts) and columns without observations. [`Incidence`] is the
//! compact indicator form the REML engine uses for random terms.

use super::{level_codes, DataError};
use nalgebra::DMatrix;
use std::collections::{BTreeMap, BTreeSet};

/// The separator of interaction level names.
pub const INTERACTION_SEPARATOR: &str = "⋈";

/// Options of [`dummy`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DummyOptions {
    /// Drop the first (level-combination) column: treatment contrasts.
    pub drop_first: bool,
    /// Drop columns without any observation (level combinations that do
    /// not occur).
    pub drop_empty: bool,
}

/// A dense one-hot design with its column names.
#[derive(Clone, Debug, PartialEq)]
pub struct Dummy {
    /// Column names (levels, interaction levels joined by `⋈`).
    pub names: Vec<String>,
    /// The `n × q` 0/1 matrix.
    pub matrix: DMatrix<f64>,
}

fn check_columns(columns: &[&[String]]) -> Result<usize, DataError> {
    let first = columns.first().ok_or_else(|| DataError::InvalidDesign {
        reason: "no columns given".into(),
    })?;
    let n = first.len();
    if let Some(c) = columns.iter().position(|c| c.len() != n) {
        return Err(DataError::InvalidDesign {
            reason: format!(
                "column {c} has {} values, column 0 has {n}",
                columns[c].len()
            ),
        });
    }
    Ok(n)
}

/// The one-hot design of one categorical column or the interaction of
/// several.
///
/// ```
/// use covreml::data::{dummy, DummyOptions};
/// let rep: Vec<String> = ["R2", "R1", "R2"].iter().map(|s| s.to_string()).collect();
/// let blk: Vec<String> = ["B1", "B1", "B2"].iter().map(|s| s.to_string()).collect();
/// let d = dummy(&[&rep, &blk], DummyOptions { drop_first: false, drop_empty: true }).unwrap();
/// assert_eq!(d.names, ["R1⋈B1", "R2⋈B1", "R2⋈B2"]);
/// assert_eq!(d.matrix[(0, 1)], 1.0);
/// let t = dummy(&[&rep], DummyOptions { drop_first: true, drop_empty: false }).unwrap();
/// assert_eq!(t.names, ["R2"]);
/// // with empty combinations dropped, drop-first drops the first that occurs
/// let both = DummyOptions { drop_first: true, drop_empty: true };
/// let d = dummy(&[&rep, &blk], both).unwrap();
/// assert_eq!(d.names, ["R2⋈B1", "R2⋈B2"]);
/// // … even when the first combination in level order does not occur
/// let (r, b) = (["R1", "R2"].map(String::from), ["B2", "B1"].map(String::from));
/// assert_eq!(dummy(&[&r, &b], both).unwrap().names, ["R2⋈B1"]);
/// ```
pub fn dummy(columns: &[&[String]], opts: DummyOptions) -> Result<Dummy, DataError> {
    let n = check_columns(columns)?;
    // Levels of each column in level order (`sorted_levels`); combinations
    // in that order with the first column outermost.
    let coded: Vec<(Vec<usize>, Vec<String>)> = columns.iter().map(|c| level_codes(c)).collect();
    let levels: Vec<&Vec<String>> = coded.iter().map(|(_, l)| l).collect();
    let key_of_row: Vec<Vec<usize>> = (0..n)
        .map(|r| coded.iter().map(|(codes, _)| codes[r]).collect())
        .collect();
    // The columns: the combinations that occur, or all of them.
    let mut combos: Vec<Vec<usize>> = if opts.drop_empty {
        key_of_row
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    } else {
        all_combinations(&levels, n)?
    };
    if opts.drop_first && !combos.is_empty() {
        // The first column that remains (after dropping empty ones), so that
        // treatment contrasts always drop a level that occurs.
        combos.remove(0);
    }
    if combos
        .len()
        .checked_mul(n)
        .is_none_or(|cells| cells > MAX_CELLS)
    {
        return Err(DataError::InvalidDesign {
            reason: format!(
                "{} columns × {n} rows is too large for a dense design; use an Incidence design",
                combos.len()
            ),
        });
    }
    let names: Vec<String> = combos
        .iter()
        .map(|key| {
            key.iter()
                .enumerate()
                .map(|(c, &l)| levels[c][l].as_str())
                .collect::<Vec<_>>()
                .join(INTERACTION_SEPARATOR)
        })
        .collect();
    let column: BTreeMap<&Vec<usize>, usize> =
        combos.iter().enumerate().map(|(j, k)| (k, j)).collect();
    let mut matrix = DMatrix::zeros(n, names.len());
    for (r, key) in key_of_row.iter().enumerate() {
        if let Some(&j) = column.get(key) {
            matrix[(r, j)] = 1.0;
        }
    }
    Ok(Dummy { names, matrix })
}

/// Every combination of the levels of the columns (`levels[c]` for column
/// `c`), first column outermost, as level indices; refused when the dense
/// design over `n` rows would exceed [`MAX_CELLS`].
fn all_combinations(levels: &[&Vec<String>], n: usize) -> Result<Vec<Vec<usize>>, DataError> {
    let total = levels
        .iter()
        .try_fold(1usize, |acc, l| acc.checked_mul(l.len()))
        .filter(|t| t.checked_mul(n).is_some_and(|cells| cells <= MAX_CELLS))
        .ok_or_else(|| DataError::InvalidDesign {
            reason: format!(
                "the interaction has {} level combinations, too many for a dense design of {n} rows; \
                 use drop_empty (only combinations that occur) or an Incidence design",
                levels
                    .iter()
                    .map(|l| l.len().to_string())
                    .collect::<Vec<_>>()
                    .join(" × ")
            ),
        })?;
    Ok((0..total)
        .map(|mut k| {
            let mut key = vec![0; levels.len()];
            for c in (0..levels.len()).rev() {
                key[c] = k % levels[c].len();
                k /= levels[c].len();
            }
            key
        })
        .collect())
}

/// The largest dense design [`dummy`] builds: 2³¹ cells (16 GiB of f64).
const MAX_CELLS: usize = 1 << 31;

/// An indicator design: row `i` has a single 1 in column `levels[i]`.
///
/// ```
/// use covreml::data::Incidence;
/// let g: Vec<String> = ["b", "a", "b"].iter().map(|s| s.to_string()).collect();
/// let z = Incidence::from_columns(&[&g]).unwrap();
/// assert_eq!(z.level_names(), ["a", "b"]);
/// assert_eq!(z.levels(), [1, 0, 1]);
/// assert_eq!(z.to_dense()[(1, 0)], 1.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Incidence {
    levels: Vec<usize>,
    n_levels: usize,
    names: Vec<String>,
}

impl Incidence {
    /// From level indices (each `< n_levels`); level names `0, 1, …`.
    pub fn new(levels: Vec<usize>, n_levels: usize) -> Result<Self, DataError> {
        Self::with_names(levels, (0..n_levels).map(|i| i.to_string()).collect())
    }

    /// From level indices (each `< names.len()`) and the level names, one
    /// per level: a factor's codes and levels, checked once.
    ///
    /// ```
    /// use covreml::data::Incidence;
    /// let z = Incidence::with_names(vec![1, 0, 1], vec!["a".into(), "b".into()]).unwrap();
    /// assert_eq!(z.level_names(), ["a", "b"]);
    /// assert!(Incidence::with_names(vec![2], vec!["a".into(), "b".into()]).is_err());
    /// ```
    pub fn with_names(levels: Vec<usize>, names: Vec<String>) -> Result<Self, DataError> {
        let n_levels = names.len();
        if let Some(row) = levels.iter().position(|&l| l >= n_levels) {
            return Err(DataError::LevelOutOfRange {
                row: row + 1,
                level: levels[row],
                n_levels,
            });
        }
        Ok(Incidence {
            levels,
            n_levels,
            names,
        })
    }

    /// One factor from the label of every row: the levels in the crate's
    /// one level order ([`sorted_levels`](super::sorted_levels)), each
    /// row's code an index into them ([`level_codes`](super::level_codes)).
    /// The same design as [`from_columns`](Self::from_columns) with one
    /// column; [`structures::grouped::Levels`](crate::structures::grouped::Levels)
    /// (the shape of `VarIdent`) holds one.
    ///
    /// ```
    /// use covreml::data::Incidence;
    /// let z = Incidence::from_labels(&["10", "8", "10"]);
    /// assert_eq!(z.level_names(), ["8", "10"]);
    /// assert_eq!(z.levels(), [1, 0, 1]);
    /// let g: Vec<String> = ["10", "8", "10"].iter().map(|s| s.to_string()).collect();
    /// assert_eq!(Incidence::from_columns(&[&g]).unwrap(), z);
    /// ```
    pub fn from_labels<S: AsRef<str>>(labels: &[S]) -> Self {
        let (levels, names) = level_codes(labels);
        Incidence {
            levels,
            n_levels: names.len(),
            names,
        }
    }

    /// From one categorical column or the interaction of several: the
    /// observed level combinations in level order ([`sorted_levels`](super::sorted_levels)
    /// of each column, first column outermost), named with `⋈`. The same columns as
    /// [`dummy`] with `drop_empty` and without `drop_first`.
    pub fn from_columns(columns: &[&[String]]) -> Result<Self, DataError> {
        let n = check_columns(columns)?;
        let coded: Vec<(Vec<usize>, Vec<String>)> =
            columns.iter().map(|c| level_codes(c)).collect();
        let keys: Vec<Vec<usize>> = (0..n)
            .map(|r| coded.iter().map(|(codes, _)| codes[r]).collect())
            .collect();
        let sorted: BTreeMap<&Vec<usize>, usize> = keys
            .iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .enumerate()
            .map(|(i, k)| (k, i))
            .collect();
        let names = sorted
            .keys()
            .map(|k| {
                k.iter()
                    .zip(&coded)
                    .map(|(&l, (_, levels))| levels[l].as_str())
                    .collect::<Vec<_>>()
                    .join(INTERACTION_SEPARATOR)
            })
            .collect::<Vec<_>>();
        let levels = keys.iter().map(|k| sorted[k]).collect();
        Ok(Incidence {
            levels,
            n_levels: names.len(),
            names,
        })
    }

    /// The same design with its levels named `names` (one per level).
    pub fn with_level_names(mut self, names: Vec<String>) -> Result<Self, DataError> {
        if names.len() != self.n_levels {
            return Err(DataError::InvalidDesign {
                reason: format!("{} level names for {} levels", names.len(), self.n_levels),
            });
        }
        self.names = names;
        Ok(self)
    }

    /// The level (column) of each row.
    pub fn levels(&self) -> &[usize] {
        &self.levels
    }
    /// Number of levels (columns).
    pub fn n_levels(&self) -> usize {
        self.n_levels
    }
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.levels.len()
    }
    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }
    /// Level names.
    pub fn level_names(&self) -> &[String] {
        &self.names
    }
    /// The dense `n × q` 0/1 matrix.
    pub fn to_dense(&self) -> DMatrix<f64> {
        let mut m = DMatrix::zeros(self.levels.len(), self.n_levels);
        for (r, &l) in self.levels.iter().enumerate() {
            m[(r, l)] = 1.0;
        }
        m
    }
}

/// A fixed-effect model matrix built column by column.
///
/// ```
/// use covreml::data::{ModelMatrix, dummy, DummyOptions};
/// let rep: Vec<String> = ["R1", "R2", "R3", "R1"].iter().map(|s| s.to_string()).collect();
/// let x = ModelMatrix::new(4)
///     .intercept()
///     .dummy(dummy(&[&rep], DummyOptions { drop_first: true, drop_empty: false }).unwrap())
///     .unwrap()
///     .numeric("t", &[0.0, 1.0, 2.0, 3.0])
///     .unwrap();
/// assert_eq!(x.names(), ["(Intercept)", "R2", "R3", "t"]);
/// assert_eq!(x.matrix().ncols(), 4);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ModelMatrix {
    n: usize,
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
}

impl ModelMatrix {
    /// An empty matrix with `n` rows.
    pub fn new(n: usize) -> Self {
        ModelMatrix {
            n,
            names: Vec::new(),
            columns: Vec::new(),
        }
    }
    /// Adds a column of ones named `(Intercept)`.
    pub fn intercept(mut self) -> Self {
        self.names.push("(Intercept)".into());
        self.columns.push(vec![1.0; self.n]);
        self
    }
    /// Adds a numeric column.
    pub fn numeric(mut self, name: &str, values: &[f64]) -> Result<Self, DataError> {
        if values.len() != self.n {
            return Err(DataError::InvalidDesign {
                reason: format!(
                    "column `{name}` has {} values, expected {}",
                    values.len(),
                    self.n
                ),
            });
        }
        self.check_new_name(name)?;
        self.names.push(name.into());
        self.columns.push(values.to_vec());
        Ok(self)
    }
    /// Adds the columns of a one-hot design.
    pub fn dummy(mut self, d: Dummy) -> Result<Self, DataError> {
        if d.matrix.nrows() != self.n {
            return Err(DataError::InvalidDesign {
                reason: format!("dummy has {} rows, expected {}", d.matrix.nrows(), self.n),
            });
        }
        for name in &d.names {
            self.check_new_name(name)?;
        }
        for (j, name) in d.names.into_iter().enumerate() {
            self.names.push(name);
            self.columns
                .push(d.matrix.column(j).iter().copied().collect());
        }
        Ok(self)
    }
    /// Column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// Refuses a column name that is already used (two factors with the
    /// same level names: give them prefixes with [`LevelCoding::prefix`](super::LevelCoding::prefix)).
    fn check_new_name(&self, name: &str) -> Result<(), DataError> {
        if self.names.iter().any(|n| n == name) {
            return Err(DataError::InvalidDesign {
                reason: format!(
                    "column name `{name}` is already used; prefix the factor's levels with its name"
                ),
            });
        }
        Ok(())
    }
    /// The `n × p` matrix.
    pub fn matrix(&self) -> DMatrix<f64> {
        DMatrix::from_fn(self.n, self.columns.len(), |i, j| self.columns[j][i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i:05}")).collect()
    }

    #[test]
    fn huge_interactions_are_errors_or_built_from_what_occurs() {
        // 2000³ = 8·10⁹ combinations: no allocation of that size is attempted.
        let (a, b, c) = (column("a", 2000), column("b", 2000), column("c", 2000));
        let all = DummyOptions::default();
        let e = dummy(&[&a, &b, &c], all).unwrap_err();
        assert!(e.to_string().contains("2000 × 2000 × 2000"), "{e}");
        // with drop_empty only the 2000 combinations that occur are columns
        let occurring = DummyOptions {
            drop_empty: true,
            drop_first: false,
        };
        let d = dummy(&[&a, &b, &c], occurring).unwrap();
        assert_eq!(d.names.len(), 2000);
        assert_eq!(d.names[1], "a00001⋈b00001⋈c00001");
        assert!((0..2000).all(|i| d.matrix[(i, i)] == 1.0));
    }
}
