//! The one rule for ordering the levels of a factor, used by every layer
//! that numbers levels (fixed-effect factors, random-term groupings,
//! `diag(f)` residuals, repeated-measures groups, one-hot designs): levels
//! are ordered **numerically when every level is a finite number** (`8`
//! before `10`, ties in value broken by the text: `1` before `1.0`), and
//! **by their text** (byte order) otherwise. Nothing depends on the order
//! of the rows.

use std::collections::{BTreeSet, HashMap};

/// The distinct values of `values`, in level order (see the module docs).
///
/// ```
/// use covreml::data::sorted_levels;
/// assert_eq!(sorted_levels(&["10", "9", "10"]), ["9", "10"]);
/// assert_eq!(sorted_levels(&["10", "9", "x1"]), ["10", "9", "x1"]);
/// assert_eq!(sorted_levels(&["b", "a", "b"]), ["a", "b"]);
/// ```
pub fn sorted_levels<S: AsRef<str>>(values: &[S]) -> Vec<String> {
    let distinct: BTreeSet<&str> = values.iter().map(AsRef::as_ref).collect();
    let mut names: Vec<&str> = distinct.into_iter().collect();
    let numbers: Option<Vec<f64>> = names
        .iter()
        .map(|s| s.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect();
    if let Some(nums) = numbers {
        let mut order: Vec<usize> = (0..names.len()).collect();
        order.sort_by(|&a, &b| nums[a].total_cmp(&nums[b]).then(names[a].cmp(names[b])));
        names = order.into_iter().map(|i| names[i]).collect();
    }
    names.into_iter().map(str::to_string).collect()
}

/// The level index of every value and the levels in level order.
///
/// ```
/// use covreml::data::level_codes;
/// let (codes, levels) = level_codes(&["10", "9", "10"]);
/// assert_eq!((codes, levels), (vec![1, 0, 1], vec!["9".to_string(), "10".to_string()]));
/// ```
pub fn level_codes<S: AsRef<str>>(values: &[S]) -> (Vec<usize>, Vec<String>) {
    let levels = sorted_levels(values);
    let index: HashMap<&str, usize> = levels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let codes = values.iter().map(|v| index[v.as_ref()]).collect();
    (codes, levels)
}
