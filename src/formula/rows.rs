//! The rows a formula model uses: every column the model reads (response,
//! fixed effects, random slopes and groupings, residual columns), checked
//! to exist, and the rows with a missing value in any of them dropped (R's
//! `na.omit`, lme4's default) or refused ([`NaAction::Fail`]).

use super::ast::Var;
use super::columns;
use super::error::FormulaError;
use super::residual::Residual;
use super::terms::{Coef, ExpandedFormula};
use crate::data::{NaAction, Table};
use std::borrow::Cow;

/// The variables a model reads, each once, in formula order (the response
/// first, the residual's columns last).
pub(crate) fn used_vars(response: &Var, ts: &ExpandedFormula, residual: &Residual) -> Vec<Var> {
    let mut out: Vec<Var> = Vec::new();
    let mut add = |v: &Var| {
        for c in v.columns() {
            if !out.iter().any(|o| o.name == c.name) {
                out.push(c);
            }
        }
    };
    add(response);
    ts.fixed.iter().flat_map(|t| &t.vars).for_each(&mut add);
    for r in &ts.random {
        for c in &r.coefs {
            if let Coef::Slope(t) = c {
                t.vars.iter().for_each(&mut add);
            }
        }
        r.group.iter().for_each(&mut add);
    }
    residual.vars().iter().for_each(&mut add);
    out
}

/// The rows a model uses, and the ones it dropped.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct UsedRows<'t> {
    /// The table of the complete rows (rows keep their file lines): the
    /// table itself when no row is dropped.
    pub(crate) table: Cow<'t, Table>,
    /// The 1-based file lines of the rows dropped for a missing value.
    pub(crate) dropped_lines: Vec<usize>,
}

/// Checks that every variable is a column (the error points at the first
/// that is not) and keeps the rows without a missing value in any of them.
/// No row left is an error that says why.
pub(crate) fn complete<'t>(
    table: &'t Table,
    vars: &[Var],
    formula: &str,
    na: NaAction,
) -> Result<UsedRows<'t>, FormulaError> {
    for v in vars {
        columns::exists(table, v, formula)?;
    }
    if table.n_rows() == 0 {
        return Err(FormulaError::NoRows {
            reason: "the data have no rows (only a header line)".into(),
        });
    }
    let names: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
    let (keep, dropped_lines) = table.complete_row_index(&names, na)?;
    if keep.is_empty() {
        return Err(FormulaError::NoRows {
            reason: format!(
                "every one of the {} rows has a missing value in a column the model uses ({})",
                table.n_rows(),
                names.join(", ")
            ),
        });
    }
    let table = if dropped_lines.is_empty() {
        Cow::Borrowed(table)
    } else {
        Cow::Owned(table.select_rows(&keep)?)
    };
    Ok(UsedRows {
        table,
        dropped_lines,
    })
}
