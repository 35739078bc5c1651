//! [`GroupedTimes`]: the group and the time of every row, the runtime shape
//! of the repeated-measures structures.

use crate::data::DataError;
use crate::CovError;
use std::collections::BTreeMap;

/// The largest lag between visit indices of one group that the integer-time
/// structures accept (they tabulate `ρ^0 … ρ^lag`).
const MAX_LAG: usize = 1 << 20;

/// The group and the time of every row of the data, in row order.
///
/// Groups are numbered in level order ([`sorted_levels`](crate::data::sorted_levels)) and the
/// distinct times (the *levels*) in increasing order, so that nothing
/// depends on the order of the rows.
///
/// ```
/// use covreml::data::Table;
/// use covreml::structures::grouped::GroupedTimes;
/// let t = Table::parse("id,age\nb,10\na,8\nb,8\na,12\n").unwrap();
/// let s = GroupedTimes::from_columns(&t, "id", "age").unwrap();
/// assert_eq!(s.len(), 4);
/// assert_eq!(s.group_names(), ["a", "b"]);
/// assert_eq!(s.groups(), [1, 0, 1, 0]);
/// assert_eq!(s.levels(), [8.0, 10.0, 12.0]);
/// assert_eq!(s.level_of_rows(), [1, 0, 0, 2]);
/// assert_eq!(s.level_labels(), ["8", "10", "12"]);
/// // unknown columns and non-numeric times are errors naming the column
/// assert!(GroupedTimes::from_columns(&t, "subject", "age").unwrap_err().to_string().contains("subject"));
/// assert!(GroupedTimes::from_columns(&t, "age", "id").unwrap_err().to_string().contains("`b` is not a finite number"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GroupedTimes {
    group: Vec<usize>,
    group_names: Vec<String>,
    time: Vec<f64>,
    levels: Vec<f64>,
    level: Vec<usize>,
    members: Vec<Vec<usize>>,
    /// The 1-based file line of every row, when the shape was read from a
    /// table: messages name rows by it.
    lines: Option<Vec<usize>>,
}

impl GroupedTimes {
    /// From the group label and the time of every row.
    ///
    /// Errors: lengths that differ, no rows, or a time that is NaN or infinite.
    pub fn new<S: AsRef<str>>(groups: &[S], times: &[f64]) -> Result<Self, DataError> {
        Self::build(groups, times, "time")
    }

    pub(crate) fn build<S: AsRef<str>>(
        groups: &[S],
        times: &[f64],
        column: &str,
    ) -> Result<Self, DataError> {
        if groups.len() != times.len() {
            return Err(DataError::InvalidDesign {
                reason: format!("{} group labels but {} times", groups.len(), times.len()),
            });
        }
        if groups.is_empty() {
            return Err(DataError::InvalidDesign {
                reason: "no rows: a grouped structure needs at least one observation".into(),
            });
        }
        if let Some(row) = times.iter().position(|t| !t.is_finite()) {
            return Err(DataError::InvalidDesign {
                reason: format!(
                    "column `{column}`, row {}: time {} is not a finite number",
                    row + 1,
                    times[row]
                ),
            });
        }
        let (group, group_names) = crate::data::level_codes(groups);
        let mut levels = times.to_vec();
        levels.sort_by(f64::total_cmp);
        levels.dedup();
        let level = times
            .iter()
            .map(|t| levels.partition_point(|l| l < t))
            .collect();
        let mut members = vec![Vec::new(); group_names.len()];
        for (row, &g) in group.iter().enumerate() {
            members[g].push(row);
        }
        Ok(GroupedTimes {
            group,
            group_names,
            time: times.to_vec(),
            levels,
            level,
            members,
            lines: None,
        })
    }

    /// Names every row in messages by its 1-based file line `lines[row]`
    /// (ignored unless there is one line per row).
    pub fn with_lines(mut self, lines: &[usize]) -> Self {
        if lines.len() == self.len() {
            self.lines = Some(lines.to_vec());
        }
        self
    }

    /// How a message names row `r`: `line L` of the file, or `row r+1`.
    fn row_name(&self, r: usize) -> String {
        match &self.lines {
            Some(l) => format!("line {}", l[r]),
            None => format!("row {}", r + 1),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.group.len()
    }

    /// Whether there are no rows (never true for a built shape).
    pub fn is_empty(&self) -> bool {
        self.group.is_empty()
    }

    /// Number of groups.
    pub fn n_groups(&self) -> usize {
        self.group_names.len()
    }

    /// The group names, in level order (group `k` is `group_names()[k]`).
    pub fn group_names(&self) -> &[String] {
        &self.group_names
    }

    /// The group of every row.
    pub fn groups(&self) -> &[usize] {
        &self.group
    }

    /// The time of every row.
    pub fn times(&self) -> &[f64] {
        &self.time
    }

    /// The distinct times, increasing.
    pub fn levels(&self) -> &[f64] {
        &self.levels
    }

    /// The level (index into [`levels`](Self::levels)) of every row.
    pub fn level_of_rows(&self) -> &[usize] {
        &self.level
    }

    /// The levels as text (`8`, `10.5`), for parameter names.
    pub fn level_labels(&self) -> Vec<String> {
        self.levels
            .iter()
            .map(|l| super::label(&l.to_string()))
            .collect()
    }

    /// The rows of every group, in row order.
    pub fn members(&self) -> &[Vec<usize>] {
        &self.members
    }

    /// The number of rows of the largest group.
    pub fn max_group_size(&self) -> usize {
        self.members.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// The rows `rows` (of one group) as a shape of their own: one group,
    /// the same levels (so that level-indexed parameters keep their
    /// meaning).
    pub(crate) fn restrict(&self, rows: &[usize]) -> GroupedTimes {
        let g = self.group[rows[0]];
        GroupedTimes {
            group: vec![0; rows.len()],
            group_names: vec![self.group_names[g].clone()],
            time: rows.iter().map(|&r| self.time[r]).collect(),
            levels: self.levels.clone(),
            level: rows.iter().map(|&r| self.level[r]).collect(),
            members: vec![(0..rows.len()).collect()],
            lines: self
                .lines
                .as_ref()
                .map(|l| rows.iter().map(|&r| l[r]).collect()),
        }
    }

    /// Error unless every group has distinct times.
    pub(crate) fn require_distinct_times(&self, structure: &'static str) -> Result<(), CovError> {
        for (g, rows) in self.members.iter().enumerate() {
            let mut seen: BTreeMap<usize, usize> = BTreeMap::new();
            for &r in rows {
                if let Some(first) = seen.insert(self.level[r], r) {
                    return Err(CovError::InvalidShape {
                        structure,
                        reason: format!(
                            "group `{}` has time {} twice ({} and {}); \
                             {structure} needs distinct times within each group",
                            self.group_names[g],
                            self.time[r],
                            self.row_name(first),
                            self.row_name(r)
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// Error unless every time is a whole number (a visit index).
    pub(crate) fn require_integer_times(&self, structure: &'static str) -> Result<(), CovError> {
        match self
            .time
            .iter()
            .position(|t| t.fract() != 0.0 || t.abs() > 2f64.powi(52))
        {
            Some(r) => Err(CovError::InvalidShape {
                structure,
                reason: format!(
                    "{} has time {}; {structure} needs whole-number visit indices \
                     (use CAR1 for continuous times)",
                    self.row_name(r),
                    self.time[r]
                ),
            }),
            None if self.max_lag() > MAX_LAG => Err(CovError::InvalidShape {
                structure,
                reason: format!(
                    "times {} apart within a group; {structure} takes visit indices \
                     at most {MAX_LAG} apart",
                    self.max_lag()
                ),
            }),
            None => Ok(()),
        }
    }

    /// `|tᵢ − tⱼ|` as a whole number (for integer times).
    pub(crate) fn lag(&self, i: usize, j: usize) -> usize {
        (self.time[i] - self.time[j]).abs() as usize
    }

    /// The largest lag within a group (integer times).
    pub(crate) fn max_lag(&self) -> usize {
        self.members
            .iter()
            .map(|rows| {
                let lo = rows
                    .iter()
                    .map(|&r| self.time[r])
                    .fold(f64::INFINITY, f64::min);
                let hi = rows
                    .iter()
                    .map(|&r| self.time[r])
                    .fold(f64::NEG_INFINITY, f64::max);
                (hi - lo) as usize
            })
            .max()
            .unwrap_or(0)
    }
}
