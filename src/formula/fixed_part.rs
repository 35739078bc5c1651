//! The fixed part of a formula model: the columns of `X`, named as lme4
//! names them, with the recipe of each (which columns, which levels) for
//! prediction. Categorical columns get treatment contrasts whenever the
//! term's margin is in the model, else one column per level (R's rule);
//! the product of a term's codings, first variable fastest; level
//! combinations that no row has are dropped.

use super::ast::Var;
use super::columns::{self, label, Column};
use super::error::FormulaError;
use super::terms::{ExpandedFormula, Interaction};
use super::transform::Recipes;
use crate::data::Table;
use std::collections::HashMap;

/// One factor of a fixed-effect column: a numeric column, or the indicator
/// of one level of a categorical column.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Part {
    Numeric(Var),
    Level(Var, String),
    /// Column `j` of a several-column term (`poly(x, k)`).
    Basis(Var, usize),
}

/// A column of `X`: its lme4 name and how to compute it from a table.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct FixedColumn {
    pub(super) name: String,
    pub(super) parts: Vec<Part>,
}

/// The columns of `X` and their values, and the levels of every
/// categorical fixed effect.
pub(super) type FixedColumns = (Vec<(FixedColumn, Vec<f64>)>, HashMap<String, Vec<String>>);

/// The fixed-effect columns of the terms `ts` on `table`.
pub(super) fn fixed_columns(
    ts: &ExpandedFormula,
    table: &Table,
    text: &str,
    recipes: &mut Recipes,
) -> Result<FixedColumns, FormulaError> {
    let n = table.n_rows();
    let mut fixed: Vec<(FixedColumn, Vec<f64>)> = Vec::new();
    let mut fixed_levels = HashMap::new();
    if ts.intercept {
        fixed.push((
            FixedColumn {
                name: "(Intercept)".into(),
                parts: Vec::new(),
            },
            vec![1.0; n],
        ));
    }
    let mut cache: HashMap<(String, bool), Column> = HashMap::new();
    let mut empty_present = ts.intercept;
    for term in &ts.fixed {
        let mut codings: Vec<Vec<(Part, Vec<f64>)>> = Vec::new();
        let mut full_coded_main = false;
        for (i, v) in term.vars.iter().enumerate() {
            let key = (v.name.clone(), v.as_factor);
            if !cache.contains_key(&key) {
                cache.insert(key.clone(), columns::column(table, v, text, recipes)?);
            }
            match &cache[&key] {
                Column::Numeric(x) => codings.push(vec![(Part::Numeric(v.clone()), x.clone())]),
                Column::Basis(cols) => codings.push(
                    cols.iter()
                        .enumerate()
                        .map(|(j, x)| (Part::Basis(v.clone(), j), x.clone()))
                        .collect(),
                ),
                Column::Categorical { codes, levels } => {
                    fixed_levels.insert(v.name.clone(), levels.clone());
                    let margin = term.without(i);
                    let contrasts = if margin.vars.is_empty() {
                        empty_present
                    } else {
                        ts.fixed.iter().any(|t: &Interaction| t.same(&margin))
                    };
                    full_coded_main |= margin.vars.is_empty() && !contrasts;
                    let skip = usize::from(contrasts);
                    codings.push(
                        levels
                            .iter()
                            .enumerate()
                            .skip(skip)
                            .map(|(l, name)| {
                                let ind =
                                    codes.iter().map(|&c| f64::from(u8::from(c == l))).collect();
                                (Part::Level(v.clone(), name.clone()), ind)
                            })
                            .collect(),
                    );
                }
            }
        }
        empty_present |= full_coded_main;
        product_columns(&codings, n, term, text, &mut fixed)?;
    }
    if fixed.is_empty() {
        return Err(FormulaError::EmptyModel {
            reason: format!(
                "`{text}` has no fixed effects; REML needs at least one column in X (remove `0 +` or `- 1`, or add a column)"
            ),
        });
    }
    Ok((fixed, fixed_levels))
}

/// The columns of one term from the codings of its variables: their
/// Cartesian product, first variable varying fastest, appended to `out`;
/// level combinations that no row has are left out.
fn product_columns(
    codings: &[Vec<(Part, Vec<f64>)>],
    n: usize,
    term: &Interaction,
    text: &str,
    out: &mut Vec<(FixedColumn, Vec<f64>)>,
) -> Result<(), FormulaError> {
    let total: usize = codings
        .iter()
        .try_fold(1usize, |a, c| a.checked_mul(c.len()))
        .unwrap_or(usize::MAX);
    if total.saturating_mul(n) > 1 << 31 {
        let at = term.vars[0].span;
        return Err(FormulaError::unsupported(
            text,
            at,
            format!("the term has {total} columns, too many for a dense design of {n} rows"),
        ));
    }
    for idx in 0..total {
        let mut rem = idx;
        let mut parts = Vec::with_capacity(codings.len());
        let mut values = vec![1.0; n];
        for c in codings {
            let (part, x) = &c[rem % c.len()];
            rem /= c.len();
            parts.push(part.clone());
            values.iter_mut().zip(x).for_each(|(a, b)| *a *= b);
        }
        if values.iter().all(|&v| v == 0.0) {
            continue; // a level combination that does not occur
        }
        let name = parts
            .iter()
            .map(|p| match p {
                Part::Numeric(v) => label(v),
                Part::Basis(v, j) => format!("{}{}", label(v), j + 1),
                Part::Level(v, l) => format!("{}{l}", label(v)),
            })
            .collect::<Vec<_>>()
            .join(":");
        out.push((FixedColumn { name, parts }, values));
    }
    Ok(())
}
