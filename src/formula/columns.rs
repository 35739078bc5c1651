//! Reading the table's columns the way a formula sees them: a fixed-effect
//! column whose every value is a number is numeric, any other is
//! categorical; `factor(x)` makes it categorical. Levels of a categorical
//! column are sorted numerically when every level is a number (`2 < 10`),
//! otherwise by their text (byte order).

use super::ast::Var;
use super::error::FormulaError;
use crate::data::Table;
use std::cmp::Ordering;

/// A column as the model uses it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Column {
    /// Numbers.
    Numeric(Vec<f64>),
    /// Level index of each row, and the sorted level names.
    Categorical {
        codes: Vec<usize>,
        levels: Vec<String>,
    },
}

/// The label of a variable in coefficient names: `x`, or `factor(x)` for a
/// declared factor.
pub(crate) fn label(v: &Var) -> String {
    if v.as_factor {
        format!("factor({})", v.name)
    } else {
        v.name.clone()
    }
}

/// Sorted distinct levels: numerically if all are numbers, else by text.
pub(crate) fn sorted_levels(values: &[String]) -> Vec<String> {
    let mut levels: Vec<String> = values.to_vec();
    levels.sort();
    levels.dedup();
    let nums: Option<Vec<f64>> = levels.iter().map(|l| l.trim().parse().ok()).collect();
    if let Some(nums) = nums {
        let mut idx: Vec<usize> = (0..levels.len()).collect();
        idx.sort_by(|&a, &b| {
            nums[a]
                .partial_cmp(&nums[b])
                .unwrap_or(Ordering::Equal)
                .then_with(|| levels[a].cmp(&levels[b]))
        });
        levels = idx.into_iter().map(|i| levels[i].clone()).collect();
    }
    levels
}

/// The text of column `v`, or an error pointing at `v` listing the columns.
pub(crate) fn text<'t>(
    table: &'t Table,
    v: &Var,
    formula: &str,
) -> Result<&'t [String], FormulaError> {
    table
        .column(&v.name)
        .map_err(|_| unknown(table, v, formula))
}

/// The error for a name that is not a column.
pub(crate) fn unknown(table: &Table, v: &Var, formula: &str) -> FormulaError {
    let suggestion = table
        .names()
        .iter()
        .map(|n| (distance(&n.to_lowercase(), &v.name.to_lowercase()), n))
        .filter(|(d, n)| *d <= 2usize.max(n.chars().count() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n.clone());
    FormulaError::UnknownColumn {
        at: v.span,
        column: v.span.column(formula),
        name: v.name.clone(),
        suggestion,
        available: table.names().join(", "),
    }
}

/// Numbers of column `v`; `reason` says why they must be numbers.
pub(crate) fn numbers(
    table: &Table,
    v: &Var,
    formula: &str,
    reason: &str,
) -> Result<Vec<f64>, FormulaError> {
    let t = text(table, v, formula)?;
    t.iter()
        .enumerate()
        .map(|(row, s)| {
            s.trim()
                .parse::<f64>()
                .map_err(|_| FormulaError::NotNumeric {
                    at: v.span,
                    column: v.span.column(formula),
                    name: v.name.clone(),
                    reason: reason.into(),
                    row: row + 1,
                    value: s.clone(),
                })
        })
        .collect()
}

/// Column `v` as numeric or categorical (see the module docs).
pub(crate) fn column(table: &Table, v: &Var, formula: &str) -> Result<Column, FormulaError> {
    let t = text(table, v, formula)?;
    if !v.as_factor {
        let nums: Option<Vec<f64>> = t.iter().map(|s| s.trim().parse().ok()).collect();
        if let Some(nums) = nums {
            return Ok(Column::Numeric(nums));
        }
    }
    Ok(categorical(t))
}

/// Codes and sorted levels of a text column.
pub(crate) fn categorical(t: &[String]) -> Column {
    let levels = sorted_levels(t);
    let index: std::collections::HashMap<&str, usize> = levels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let codes = t.iter().map(|s| index[s.as_str()]).collect();
    Column::Categorical { codes, levels }
}

/// Levenshtein distance in characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_sort_numerically_when_numbers() {
        let v: Vec<String> = ["10", "9", "10", "x1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(sorted_levels(&v[..3]), ["9", "10"]);
        assert_eq!(sorted_levels(&v), ["10", "9", "x1"]);
        assert_eq!(distance("blok", "block"), 1);
    }
}
