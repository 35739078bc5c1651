//! One random term of a formula model: its grouping (the level
//! combinations of the grouping columns, in the crate's level order), its
//! coefficients, its design and its `G`. `(1 | g)` is an indicator design
//! with `G = σ² I_q`; a term with `k ≥ 2` coefficients has `G = Σ ⊗ I_q`
//! and a coefficient-major design (column `a·q + l` is coefficient `a` for
//! level `l`), labelled `coefficient:level`. `Σ` is unstructured unless a
//! keyword chooses another structure ([`TermStructure`]); a grouping column
//! with a known relationship matrix `A` ([`Relationship`]) has
//! `G = Σ ⊗ A` (`σ² A` for one coefficient), its levels the matrix's ids.
//!
//! **Categorical coefficients.** A categorical column on the left side of
//! a random term, `(0 + f | g)` or `(1 + f | g)`, gives one coefficient per
//! level of `f` (its indicator), coded as R's `model.matrix` codes the
//! left side: all levels when the term's margin is absent (`0 + f`; the
//! margin of `f:x` is `x`), treatment contrasts (the first level dropped)
//! when it is present (`1 + f`). The builder,
//! [`coefficient_columns`], is the one place that expands a left side into
//! coefficient columns; multi-trait models use it for `(0 + trait | g)`.

use super::ast::{TermStructure, Var};
use super::columns::{self, label, Column};
use super::error::FormulaError;
use super::formula_model::{cov, RandomTermInfo};
use super::relationship::Relationship;
use super::terms::{Coef, Interaction, RandomSpec};
use super::transform::Recipes;
use crate::data::{Incidence, SparseDesign, Table};
use crate::ops::Kron;
use crate::reml::RandomDesign;
use crate::structures::FixedInverse;
use crate::{
    CompoundSymmetric, Covariance, CovarianceModel, Diagonal, FactorAnalytic, Identity, Scalar,
    Unconstrained, AR1,
};

/// How one coefficient of a random term is computed from a row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CoefColumn {
    /// The random intercept: 1.
    Intercept,
    /// The product of numeric columns (a random slope).
    Numeric(Vec<Var>),
    /// The indicator of `factor == level`, times the product of the
    /// numeric columns `numeric` (none: the indicator alone).
    Level {
        /// The categorical column.
        factor: Var,
        /// Its level.
        level: String,
        /// Numeric columns multiplying the indicator (`f:x`).
        numeric: Vec<Var>,
    },
}

/// The coefficient names (lme4's: `(Intercept)`, `x`, `MachineB`,
/// `MachineA:x`) and columns of a random term's left side `coefs` on
/// `table`: numeric slopes are one coefficient each, a term with a
/// categorical column one coefficient per level (all levels when the term's
/// margin is not among `coefs`, else all but the first, as R's
/// `model.matrix` codes it). A term with two categorical columns is refused.
///
/// This is the reusable builder of categorical random slopes: `(0 + f | g)`
/// gives one indicator coefficient per level of `f`, the design of
/// `(0 + trait | animal)` in a multi-trait model.
pub(crate) fn coefficient_columns(
    coefs: &[Coef],
    table: &Table,
    text: &str,
    recipes: &mut Recipes,
) -> Result<(Vec<String>, Vec<CoefColumn>), FormulaError> {
    let mut names = Vec::new();
    let mut cols = Vec::new();
    let has_intercept = coefs.iter().any(|c| matches!(c, Coef::Intercept));
    let slopes: Vec<&Interaction> = coefs
        .iter()
        .filter_map(|c| match c {
            Coef::Slope(t) => Some(t),
            Coef::Intercept => None,
        })
        .collect();
    for c in coefs {
        let t = match c {
            Coef::Intercept => {
                names.push("(Intercept)".to_string());
                cols.push(CoefColumn::Intercept);
                continue;
            }
            Coef::Slope(t) => t,
        };
        let factor = categorical_var(t, table, text, recipes)?;
        let numeric: Vec<Var> = t
            .vars
            .iter()
            .enumerate()
            .filter(|(i, _)| factor.as_ref().map(|(f, _)| f) != Some(i))
            .map(|(_, v)| v.clone())
            .collect();
        let Some((fi, levels)) = factor else {
            names.push(t.vars.iter().map(label).collect::<Vec<_>>().join(":"));
            cols.push(CoefColumn::Numeric(numeric));
            continue;
        };
        let margin = t.without(fi);
        let margin_present = if margin.vars.is_empty() {
            has_intercept
        } else {
            slopes.iter().any(|s| s.same(&margin))
        };
        let skip = usize::from(margin_present);
        for level in levels.iter().skip(skip) {
            let name = t
                .vars
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    if i == fi {
                        format!("{}{level}", label(v))
                    } else {
                        label(v)
                    }
                })
                .collect::<Vec<_>>()
                .join(":");
            names.push(name);
            cols.push(CoefColumn::Level {
                factor: t.vars[fi].clone(),
                level: level.clone(),
                numeric: numeric.clone(),
            });
        }
    }
    Ok((names, cols))
}

/// The one categorical variable of the slope `t` (its index and levels), if
/// any; two categorical variables are refused.
fn categorical_var(
    t: &Interaction,
    table: &Table,
    text: &str,
    recipes: &mut Recipes,
) -> Result<Option<(usize, Vec<String>)>, FormulaError> {
    let mut factor: Option<(usize, Vec<String>)> = None;
    for (i, v) in t.vars.iter().enumerate() {
        let categorical = if v.as_factor {
            true
        } else if v.expr.is_none() {
            matches!(
                columns::column(table, v, text, recipes)?,
                Column::Categorical { .. }
            )
        } else {
            false
        };
        if !categorical {
            continue;
        }
        if factor.is_some() {
            return Err(FormulaError::unsupported(
                text,
                v.span,
                "two categorical columns in one coefficient of a random term; write their interaction as one column",
            ));
        }
        let Column::Categorical { levels, .. } = columns::factor(table, v, text)? else {
            unreachable!("categorical() returns a categorical column")
        };
        factor = Some((i, levels));
    }
    Ok(factor)
}

/// The values of each coefficient column on the rows of `table` (`None`
/// for the intercept, whose value is 1).
pub(crate) fn coefficient_values(
    cols: &[CoefColumn],
    table: &Table,
    text: &str,
    recipes: &mut Recipes,
) -> Result<Vec<Option<Vec<f64>>>, FormulaError> {
    let n = table.n_rows();
    let mut out = Vec::with_capacity(cols.len());
    for c in cols {
        let (numeric, indicator) = match c {
            CoefColumn::Intercept => {
                out.push(None);
                continue;
            }
            CoefColumn::Numeric(vars) => (vars, None),
            CoefColumn::Level {
                factor,
                level,
                numeric,
            } => (numeric, Some((factor, level))),
        };
        let mut x = vec![1.0; n];
        if let Some((f, level)) = indicator {
            let t = columns::text(table, f, text)?;
            x.iter_mut()
                .zip(t)
                .for_each(|(a, s)| *a = f64::from(u8::from(s.trim() == level.as_str())));
        }
        for v in numeric {
            let col = columns::numbers(table, v, text, "it is a random slope", recipes)?;
            x.iter_mut().zip(&col).for_each(|(a, b)| *a *= b);
        }
        out.push(Some(x));
    }
    Ok(out)
}

/// The design, `G` and description of the random term `spec`; its name is
/// made unique among the terms `taken` before it (lme4's `g.1`). A term
/// grouped by a column with a known relationship matrix in `known` uses it.
pub(super) fn random_term(
    spec: &RandomSpec,
    table: &Table,
    text: &str,
    recipes: &mut Recipes,
    taken: &[RandomTermInfo],
    known: &[(String, Relationship)],
) -> Result<(RandomDesign, Box<dyn CovarianceModel>, RandomTermInfo), FormulaError> {
    let relationship = match spec.group.as_slice() {
        [g] => known.iter().find(|(c, _)| *c == g.name).map(|(_, r)| r),
        _ => None,
    };
    let inc = match relationship {
        Some(r) => r.incidence(
            columns::text(table, &spec.group[0], text)?,
            &spec.group[0].name,
        )?,
        None => grouping(spec, table, text)?,
    };
    let q = inc.n_levels();
    let base = spec
        .group
        .iter()
        .map(|g| g.name.as_str())
        .collect::<Vec<_>>()
        .join(":");
    let mut name = base.clone();
    let mut k = 0;
    while name == "residual" || taken.iter().any(|t| t.name == name) {
        k += 1;
        name = format!("{base}.{k}");
    }
    let (coefficients, coef_columns) = coefficient_columns(&spec.coefs, table, text, recipes)?;
    let values = coefficient_values(&coef_columns, table, text, recipes)?;
    let kc = values.len();
    // The coefficient-major design (column `a·q + l`: coefficient `a` on
    // the rows of level `l`), made by the data layer.
    let g = term_covariance(spec, kc, q, relationship, &name, text)?;
    let coefs: Vec<(&str, Option<&[f64]>)> = coefficients
        .iter()
        .map(String::as_str)
        .zip(values.iter().map(Option::as_deref))
        .collect();
    let levels = inc.level_names().to_vec();
    let z = if kc == 1 && values[0].is_none() {
        RandomDesign::Incidence(inc)
    } else {
        SparseDesign::coefficients(inc, &coefs)?.into()
    };
    Ok((
        z,
        g,
        RandomTermInfo {
            name,
            group: spec.group.iter().map(|g| g.name.clone()).collect(),
            levels,
            coefficients,
            structure: spec.structure,
            relationship: relationship.map(Relationship::describe),
            relationship_source: relationship.map(|r| (r.kind(), r.source().to_string())),
            slopes: coef_columns,
            group_vars: spec.group.clone(),
        },
    ))
}

/// The incidence of the grouping of `spec`: one column's factor codes
/// (no `String` per row), or the level combinations of several columns.
fn grouping(spec: &RandomSpec, table: &Table, text: &str) -> Result<Incidence, FormulaError> {
    if let [g] = spec.group.as_slice() {
        let columns::Column::Categorical { codes, levels } = columns::factor(table, g, text)?
        else {
            unreachable!("factor() returns a categorical column")
        };
        return Ok(Incidence::with_names(codes, levels)?);
    }
    let mut group_text = Vec::with_capacity(spec.group.len());
    for g in &spec.group {
        group_text.push(columns::text(table, g, text)?);
    }
    Ok(Incidence::from_columns(&group_text)?)
}

/// `Σ ⊗ I_q` (or `Σ ⊗ A`) with `Σ` of structure `$s` over `$kc`
/// coefficients, boxed; the operand is named `cov` when `$named` (a term
/// with several coefficients), so parameters read `term/cov/…`.
macro_rules! with_levels {
    ($s:ty, $kc:expr, $q:expr, $rel:expr, $name:expr, $named:expr) => {{
        let (kc, q, rel, name, named): (usize, usize, Option<&Relationship>, &str, bool) =
            ($kc, $q, $rel, $name, $named);
        let b: Box<dyn CovarianceModel> = match rel {
            Some(r) => {
                let c = Covariance::<Kron<$s, FixedInverse>>::new((kc, r.inverse()));
                if named {
                    Box::new(cov(c.and_then(|c| c.with_operand_names(&["cov"])), name)?)
                } else {
                    Box::new(cov(c, name)?)
                }
            }
            None if !named => Box::new(cov(Covariance::<$s>::new(q), name)?),
            None => Box::new(cov(
                Covariance::<Kron<$s, Identity>>::new((kc, q))
                    .and_then(|c| c.with_operand_names(&["cov"])),
                name,
            )?),
        };
        Ok(b)
    }};
}

/// `G` of a term with `kc` coefficients over `q` levels: `Σ ⊗ I_q`, or
/// `Σ ⊗ A` with a known relationship matrix, `Σ` as the keyword says.
fn term_covariance(
    spec: &RandomSpec,
    kc: usize,
    q: usize,
    relationship: Option<&Relationship>,
    name: &str,
    text: &str,
) -> Result<Box<dyn CovarianceModel>, FormulaError> {
    let need = |min: usize, what: &str| {
        if kc < min {
            Err(FormulaError::unsupported(
                text,
                spec.span,
                format!(
                    "`{}` over {kc} coefficient(s); {what} needs at least {min} (a categorical column gives one per level: `{}(0 + f | g)`)",
                    spec.structure.keyword(),
                    spec.structure.keyword()
                ),
            ))
        } else {
            Ok(())
        }
    };
    match spec.structure {
        TermStructure::Us | TermStructure::Diag if kc == 1 => {
            return with_levels!(Scalar, 1, q, relationship, name, false)
        }
        TermStructure::Us => return with_levels!(Unconstrained, kc, q, relationship, name, true),
        TermStructure::Diag => return with_levels!(Diagonal, kc, q, relationship, name, true),
        TermStructure::Cs => need(2, "compound symmetry")?,
        TermStructure::Ar1 => need(2, "an AR1 correlation")?,
        TermStructure::Fa(k) => need(k + 1, &format!("a factor-analytic structure of order {k}"))?,
    }
    match spec.structure {
        TermStructure::Cs => with_levels!(CompoundSymmetric, kc, q, relationship, name, true),
        TermStructure::Ar1 => with_levels!(AR1, kc, q, relationship, name, true),
        TermStructure::Fa(1) => with_levels!(FactorAnalytic<1>, kc, q, relationship, name, true),
        TermStructure::Fa(2) => with_levels!(FactorAnalytic<2>, kc, q, relationship, name, true),
        TermStructure::Fa(3) => with_levels!(FactorAnalytic<3>, kc, q, relationship, name, true),
        other => Err(FormulaError::unsupported(
            text,
            spec.span,
            format!("the random-term structure `{other:?}`"),
        )),
    }
}
