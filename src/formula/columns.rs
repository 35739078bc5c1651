//! Reading the table's columns the way a formula sees them: a fixed-effect
//! column whose every value is a number is numeric, any other is
//! categorical; `factor(x)` makes it categorical. Levels of a categorical
//! column are in the crate's one level order, [`sorted_levels`](crate::data::sorted_levels).

use super::ast::Var;
use super::error::{FormulaError, Span};
use super::transform::{self, Recipes};
use crate::data::{level_codes, Table};

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
    /// Several numeric columns from one term: `poly(x, k)`.
    Basis(Vec<Vec<f64>>),
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

/// Numbers of column `v`, or of the function `v` of columns; `reason`
/// says why they must be numbers.
pub(crate) fn numbers(
    table: &Table,
    v: &Var,
    formula: &str,
    reason: &str,
    recipes: &mut Recipes,
) -> Result<Vec<f64>, FormulaError> {
    match function(table, v, formula, recipes)? {
        Some(mut cols) if cols.len() == 1 => Ok(cols.remove(0)),
        Some(_) => Err(FormulaError::unsupported(
            formula,
            v.span,
            format!(
                "`{}` gives several columns, where one is needed ({reason})",
                v.name
            ),
        )),
        None => plain_numbers(table, v, formula, reason),
    }
}

/// The columns of a function of columns (`None` for a plain column).
fn function(
    table: &Table,
    v: &Var,
    formula: &str,
    recipes: &mut Recipes,
) -> Result<Option<Vec<Vec<f64>>>, FormulaError> {
    let Some(e) = &v.expr else {
        return Ok(None);
    };
    let reason = format!("it is used in `{}`", v.name);
    let number = |name: &str, span: Span| {
        let col = Var {
            name: name.to_string(),
            span,
            as_factor: false,
            expr: None,
        };
        plain_numbers(table, &col, formula, &reason)
    };
    transform::eval(e, table, recipes, &number, (formula, v.span)).map(Some)
}

/// Numbers of the plain column `v`.
fn plain_numbers(
    table: &Table,
    v: &Var,
    formula: &str,
    reason: &str,
) -> Result<Vec<f64>, FormulaError> {
    let t = text(table, v, formula)?;
    t.iter()
        .zip(table.lines())
        .map(|(s, &line)| {
            s.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| FormulaError::NotNumeric {
                    at: v.span,
                    column: v.span.column(formula),
                    name: v.name.clone(),
                    reason: reason.into(),
                    line,
                    value: s.clone(),
                })
        })
        .collect()
}

/// Column `v` as numeric or categorical (see the module docs). A column
/// whose values are mostly numbers but not all is an error naming the first
/// value that is not: a typo in a numeric column, not a factor (write
/// `factor(x)` to mean a factor).
pub(crate) fn column(
    table: &Table,
    v: &Var,
    formula: &str,
    recipes: &mut Recipes,
) -> Result<Column, FormulaError> {
    if let Some(mut cols) = function(table, v, formula, recipes)? {
        return Ok(if cols.len() == 1 {
            Column::Numeric(cols.remove(0))
        } else {
            Column::Basis(cols)
        });
    }
    let t = text(table, v, formula)?;
    if !v.as_factor {
        let parsed: Vec<Option<f64>> = t
            .iter()
            .map(|s| s.parse::<f64>().ok().filter(|x| x.is_finite()))
            .collect();
        let numbers = parsed.iter().filter(|x| x.is_some()).count();
        if numbers == t.len() {
            return Ok(Column::Numeric(parsed.into_iter().flatten().collect()));
        }
        if 2 * numbers > t.len() {
            return numbers_of(table, v, formula).map(Column::Numeric);
        }
    }
    Ok(categorical(t))
}

/// The numbers of a mostly numeric column: the error of the first value
/// that is not one.
fn numbers_of(table: &Table, v: &Var, formula: &str) -> Result<Vec<f64>, FormulaError> {
    plain_numbers(
        table,
        v,
        formula,
        "most of its values are numbers; fix the value, write `NA` for a missing one, or `factor(x)` for a factor",
    )
}

/// Codes and sorted levels of a text column.
pub(crate) fn categorical(t: &[String]) -> Column {
    let (codes, levels) = level_codes(t);
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
    fn edit_distance() {
        assert_eq!(distance("blok", "block"), 1);
    }
}
