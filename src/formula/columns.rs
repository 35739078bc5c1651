//! Reading the table's columns the way a formula sees them: a fixed-effect
//! column whose every value is a number is numeric, any other is
//! categorical; `factor(x)` makes it categorical. Levels of a categorical
//! column are in the crate's one level order, [`sorted_levels`](crate::data::sorted_levels).

use super::ast::Var;
use super::error::{FormulaError, Span};
use super::transform::{self, Recipes};
use crate::data::Table;

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
    exists(table, v, formula)?;
    match table.numbers_or_first_other(&v.name)? {
        Ok(x) => Ok(x),
        Err((row, value)) => Err(FormulaError::NotNumeric {
            at: v.span,
            column: v.span.column(formula),
            name: v.name.clone(),
            reason: reason.into(),
            line: table.lines()[row],
            value,
        }),
    }
}

/// Checks that `v` is a column of the table (the error points at `v`).
pub(crate) fn exists(table: &Table, v: &Var, formula: &str) -> Result<(), FormulaError> {
    if table.has_column(&v.name) {
        Ok(())
    } else {
        Err(unknown(table, v, formula))
    }
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
    exists(table, v, formula)?;
    if !v.as_factor {
        let numbers = table.count_numbers(&v.name)?;
        let n = table.n_rows();
        if numbers == n {
            return plain_numbers(table, v, formula, "").map(Column::Numeric);
        }
        if 2 * numbers > n {
            return numbers_of(table, v, formula).map(Column::Numeric);
        }
    }
    factor(table, v, formula)
}

/// Column `v` as categorical: codes and sorted levels, without a `String`
/// per row.
pub(crate) fn factor(table: &Table, v: &Var, formula: &str) -> Result<Column, FormulaError> {
    exists(table, v, formula)?;
    let (codes, levels) = table.factor(&v.name)?;
    Ok(Column::Categorical { codes, levels })
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
