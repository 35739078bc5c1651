//! One random term of a formula model: its grouping (the level
//! combinations of the grouping columns, in the crate's level order), its
//! coefficients, its design and its `G`. `(1 | g)` is an indicator design
//! with `G = σ² I_q`; a term with `k ≥ 2` coefficients has `G = Σ ⊗ I_q`
//! and a coefficient-major design (column `a·q + l` is coefficient `a` for
//! level `l`), labelled `coefficient:level`.

use super::columns::{self, label};
use super::error::FormulaError;
use super::model::{cov, RandomTermInfo};
use super::terms::{Coef, RandomSpec};
use super::transform::Recipes;
use crate::data::{Incidence, Table};
use crate::ops::Kron;
use crate::reml::RandomDesign;
use crate::{Covariance, CovarianceModel, Identity, Scalar, Unconstrained};

/// The design, `G` and description of the random term `spec`; its name is
/// made unique among the terms `taken` before it (lme4's `g.1`).
pub(super) fn random_term(
    spec: &RandomSpec,
    table: &Table,
    text: &str,
    recipes: &mut Recipes,
    taken: &[RandomTermInfo],
) -> Result<(RandomDesign, Box<dyn CovarianceModel>, RandomTermInfo), FormulaError> {
    let n = table.n_rows();
    let inc = grouping(spec, table, text)?;
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
    let mut coefficients = Vec::new();
    let mut slopes = Vec::new();
    let mut values: Vec<Option<Vec<f64>>> = Vec::new();
    for c in &spec.coefs {
        match c {
            Coef::Intercept => {
                coefficients.push("(Intercept)".to_string());
                slopes.push(None);
                values.push(None);
            }
            Coef::Slope(t) => {
                let mut x = vec![1.0; n];
                for v in &t.vars {
                    if v.as_factor {
                        return Err(FormulaError::unsupported(
                            text,
                            v.span,
                            "categorical coefficients inside a random term are not supported yet; use a numeric column",
                        ));
                    }
                    let col = columns::numbers(table, v, text, "it is a random slope (categorical coefficients inside a random term are not supported yet)", recipes)?;
                    x.iter_mut().zip(&col).for_each(|(a, b)| *a *= b);
                }
                coefficients.push(t.vars.iter().map(label).collect::<Vec<_>>().join(":"));
                slopes.push(Some(t.vars.clone()));
                values.push(Some(x));
            }
        }
    }
    let kc = values.len();
    let (z, g): (RandomDesign, Box<dyn CovarianceModel>) = if kc == 1 {
        let g: Box<dyn CovarianceModel> = Box::new(cov(Covariance::<Scalar>::new(q), &name)?);
        match &values[0] {
            None => (RandomDesign::Incidence(inc.clone()), g),
            Some(x) => (
                RandomDesign::Sparse(slope_design(&inc, &[Some(x.clone())], &coefficients)),
                g,
            ),
        }
    } else {
        let g = Covariance::<Kron<Unconstrained, Identity>>::new((kc, q))
            .and_then(|c| c.with_operand_names(&["cov"]));
        (
            RandomDesign::Sparse(slope_design(&inc, &values, &coefficients)),
            Box::new(cov(g, &name)?) as Box<dyn CovarianceModel>,
        )
    };
    Ok((
        z,
        g,
        RandomTermInfo {
            name,
            group: spec.group.iter().map(|g| g.name.clone()).collect(),
            levels: inc.level_names().to_vec(),
            coefficients,
            slopes,
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
        return Ok(Incidence::new(codes, levels.len())?.with_level_names(levels)?);
    }
    let mut group_text = Vec::with_capacity(spec.group.len());
    for g in &spec.group {
        group_text.push(columns::text(table, g, text)?);
    }
    Ok(Incidence::from_columns(&group_text)?)
}

/// The dense coefficient-major design of a term: column `a·q + l` holds
/// coefficient `a`'s value (1 for the intercept) on the rows of level `l`.
fn slope_design(
    inc: &Incidence,
    values: &[Option<Vec<f64>>],
    coefficients: &[String],
) -> crate::data::SparseDesign {
    let (n, q) = (inc.len(), inc.n_levels());
    let rows: Vec<Vec<(usize, f64)>> = (0..n)
        .map(|i| {
            let l = inc.levels()[i];
            values
                .iter()
                .enumerate()
                .map(|(a, v)| (a * q + l, v.as_ref().map_or(1.0, |v| v[i])))
                .collect()
        })
        .collect();
    let names = coefficients
        .iter()
        .flat_map(|c| inc.level_names().iter().map(move |l| format!("{c}:{l}")))
        .collect();
    crate::data::SparseDesign::from_rows(values.len() * q, &rows, names)
        .expect("columns in range and increasing by construction")
}
