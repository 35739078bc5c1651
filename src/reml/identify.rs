//! Models the data cannot identify, found from the design alone before any
//! fit: a random term
//!
//! - without columns;
//! - of a factor with one level (lme4 refuses these too), or whose design
//!   lies in the span of the fixed effects;
//! - with one observation per level while the residual is diagonal with a
//!   parameter that does the same (`Z Ġ Zᵀ` and `Ṙ` span the same
//!   direction: the split between the two variances is arbitrary);
//! - added twice with the same design and covariance parameters that
//!   duplicate each other (`Ġ₁` and `Ġ₂` linearly dependent);
//! - with a free parameter of `G` whose derivative is zero on every level
//!   that occurs (a `Diagonal` variance of a level without observations).
//!
//! Derivatives are taken at the structures' defaults (and, for the last
//! check, at a second point as well, so that a derivative that vanishes at
//! one point by accident is not taken for one that is always zero).

use super::checks::dependent_columns;
use super::fixed::FixedPart;
use super::terms::RandomDesign;
use super::RemlError;
use crate::{CovarianceModel, JacobianMethod};
use nalgebra::DMatrix;
use std::borrow::Cow;

/// A random term already in the model: its name, design and covariance.
pub(crate) type Existing<'a> = (&'a str, &'a RandomDesign, &'a dyn CovarianceModel);

/// Checks the new term `name` (design `z`, covariance `g`) against the fixed
/// effects, the residual and the terms already in the model.
pub(crate) fn check_term<'a>(
    fixed: &FixedPart,
    residual: &dyn CovarianceModel,
    existing: impl IntoIterator<Item = Existing<'a>>,
    name: &str,
    z: &RandomDesign,
    g: &dyn CovarianceModel,
) -> Result<(), RemlError> {
    let fail = |reason: String| RemlError::NotIdentified {
        term: name.to_string(),
        reason,
    };
    let (_, q) = z.dims();
    if q == 0 {
        return Err(fail("its design Z has no columns".into()));
    }
    let levels = indicator_levels(z);
    let counts = levels.as_ref().map(|l| level_counts(l, q));
    check_against_fixed(fixed, z, counts.as_deref()).map_err(fail)?;
    if g.n_free() == 0 {
        return Ok(());
    }
    let derivs = GDerivatives::at_defaults(g, q);
    let occurs = occurring_levels(z, counts.as_deref());
    check_empty_levels(name, &derivs, &occurs).map_err(fail)?;
    check_duplicates(name, z, &derivs, existing).map_err(fail)?;
    if let (Some(l), Some(c)) = (&levels, &counts) {
        check_one_per_level(name, residual, &derivs, l, c).map_err(fail)?;
    }
    Ok(())
}

/// How many rows fall on each of the `q` levels.
fn level_counts(levels: &[usize], q: usize) -> Vec<usize> {
    let mut c = vec![0usize; q];
    for &i in levels {
        c[i] += 1;
    }
    c
}

/// A factor with one occurring level, or a (dense, non-indicator) design in
/// the span of `X`: the random effects are confounded with the fixed ones.
fn check_against_fixed(fixed: &FixedPart, z: &RandomDesign, counts: Option<&[usize]>) -> Check {
    if let Some(c) = counts {
        let occurring = c.iter().filter(|&&k| k > 0).count();
        if occurring == 1 {
            return Err(
                "its factor has one level that occurs: one random effect is confounded with the \
                 fixed effects and its variance is not identified (a grouping factor needs at \
                 least 2 levels)"
                    .into(),
            );
        }
    } else if in_span_of_x(fixed, z) {
        return Err(
            "every column of its design Z is a linear combination of the columns of X: \
             the random effects are confounded with the fixed effects"
                .into(),
        );
    }
    Ok(())
}

/// The outcome of one check: `Err` carries the reason a term is not identified.
type Check = Result<(), String>;

/// The derivatives of `G` at its defaults: diagonals when `G` is diagonal by
/// type (O(q), any size), else dense matrices for a `G` of moderate size
/// only (formed on demand).
struct GDerivatives<'g> {
    g: &'g dyn CovarianceModel,
    q: usize,
    names: Vec<String>,
    x0: Vec<f64>,
    diagonal: Option<Vec<Vec<f64>>>,
}

impl<'g> GDerivatives<'g> {
    fn at_defaults(g: &'g dyn CovarianceModel, q: usize) -> Self {
        let x0 = g.free_defaults();
        let diagonal = match g.diagonal_f64(&x0) {
            Some(Ok((_, dd))) => Some(dd),
            _ => None,
        };
        GDerivatives {
            g,
            q,
            names: g.free_names(),
            x0,
            diagonal,
        }
    }

    /// Dense `∂G/∂x_k` at the defaults, when `q ≤ DENSE_LIMIT`.
    fn dense(&self) -> Option<Vec<DMatrix<f64>>> {
        match &self.diagonal {
            Some(dd) if self.q <= DENSE_LIMIT => Some(
                dd.iter()
                    .map(|d| DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(d)))
                    .collect(),
            ),
            None if self.q <= DENSE_LIMIT => jacobian(self.g, &self.x0),
            _ => None,
        }
    }
}

/// Whether each of the `q` levels (columns of `Z`) has an observation.
fn occurring_levels(z: &RandomDesign, counts: Option<&[usize]>) -> Vec<bool> {
    let q = z.dims().1;
    match counts {
        Some(c) => c.iter().map(|&k| k > 0).collect(),
        None => match z {
            RandomDesign::Dense(m) => (0..q)
                .map(|j| m.column(j).iter().any(|v| *v != 0.0))
                .collect(),
            RandomDesign::Sparse(s) => {
                let mut o = vec![false; q];
                for r in 0..s.dims().0 {
                    for &c in s.row(r).0 {
                        o[c] = true;
                    }
                }
                o
            }
            RandomDesign::Incidence(_) => vec![true; q],
        },
    }
}

/// A parameter that acts only on levels without observations.
fn check_empty_levels(name: &str, derivs: &GDerivatives, occurs: &[bool]) -> Check {
    if occurs.iter().all(|&o| o) {
        return Ok(());
    }
    let q = derivs.q;
    let bad = if let Some(dd) = &derivs.diagonal {
        dd.iter()
            .position(|d| d.iter().zip(occurs).all(|(v, &o)| !o || *v == 0.0))
    } else if let Some(dg) = derivs.dense() {
        let shifted: Vec<f64> = derivs.g.free_defaults().iter().map(|x| x + 0.25).collect();
        let dg2 = jacobian(derivs.g, &shifted);
        let zero_at = |d: &DMatrix<f64>| {
            let scale = d.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            (0..q).all(|i| {
                (0..q).all(|j| !(occurs[i] && occurs[j]) || d[(i, j)].abs() <= 1e-14 * scale)
            })
        };
        (0..dg.len()).find(|&k| zero_at(&dg[k]) && dg2.as_ref().is_none_or(|d2| zero_at(&d2[k])))
    } else {
        None
    };
    let Some(k) = bad else {
        return Ok(());
    };
    let empty: Vec<String> = (0..q)
        .filter(|&i| !occurs[i])
        .map(|i| i.to_string())
        .collect();
    Err(format!(
        "parameter `{name}/{}` of G acts only on levels without observations \
         (empty levels, 0-based: {})",
        derivs.names[k],
        empty.join(", ")
    ))
}

/// The same design twice, with covariance parameters that duplicate each other.
fn check_duplicates<'a>(
    name: &str,
    z: &RandomDesign,
    derivs: &GDerivatives,
    existing: impl IntoIterator<Item = Existing<'a>>,
) -> Check {
    let q = derivs.q;
    for (other, oz, og) in existing {
        if !same_design(z, oz) || og.n_free() == 0 {
            continue;
        }
        if q > DENSE_LIMIT {
            continue;
        }
        let Some(odg) = jacobian(og, &og.free_defaults()) else {
            continue;
        };
        let Some(dg) = derivs.dense() else {
            continue;
        };
        let cols: Vec<&DMatrix<f64>> = odg.iter().chain(&dg).collect();
        let m = DMatrix::from_fn(q * q, cols.len(), |r, c| cols[c].as_slice()[r]);
        if let Some(&bad) = dependent_columns(&m).iter().find(|&&c| c >= odg.len()) {
            return Err(format!(
                "it has the same design Z as term `{other}`, and its parameter `{name}/{}` \
                 duplicates a parameter of `{other}`: the variance split between the two terms \
                 is arbitrary (the same term added twice?)",
                derivs.names[bad - odg.len()]
            ));
        }
    }
    Ok(())
}

/// One observation per level (rows on `levels`, `counts` per level), against
/// a diagonal residual.
fn check_one_per_level(
    name: &str,
    residual: &dyn CovarianceModel,
    derivs: &GDerivatives,
    levels: &[usize],
    counts: &[usize],
) -> Check {
    if !counts.iter().all(|&k| k == 1) {
        return Ok(());
    }
    let diagonal = derivs.diagonal.is_some();
    let Some(bad) = confounded_with_residual(residual, derivs.g, levels, derivs.q, diagonal) else {
        return Ok(());
    };
    Err(format!(
        "every level has exactly one observation, so its parameter `{name}/{}` \
         is confounded with the residual variance ({}): drop the term or the \
         residual parameter",
        derivs.names[bad],
        residual
            .free_names()
            .iter()
            .map(|p| format!("residual/{p}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// With one observation per level (row `r` on level `l[r]`, so that `Z` is a
/// permutation and `V = Z G Zᵀ + R`) and a diagonal residual, the tangent
/// directions of `V` are the residual's diagonal derivatives and the
/// `∂G/∂θ_k`. The split between `G` and `R` is not identified when the two
/// spans meet: some combination of the residual's derivatives equals some
/// combination of `G`'s (an unstructured or compound-symmetric `G` contains
/// the identity direction; an `AR1` `G` over 3 or more times does not — its
/// correlation separates it from the residual — over 2 times it does).
/// The derivatives are taken at a generic point (the defaults shifted by
/// 0.25: at the defaults a correlation is often 0 and `∂G/∂σ²` the
/// identity by accident), compared on the diagonal and on every
/// off-diagonal entry where some `∂G/∂θ_k` is nonzero (the residual is 0
/// there). Returns the index of a parameter of `G` in the intersection.
fn confounded_with_residual(
    residual: &dyn CovarianceModel,
    g: &dyn CovarianceModel,
    l: &[usize],
    q: usize,
    g_diagonal: bool,
) -> Option<usize> {
    let r0 = residual.free_defaults();
    let Some(Ok((_, dr))) = residual.diagonal_f64(&r0) else {
        return None;
    };
    let shifted: Vec<f64> = g.free_defaults().iter().map(|x| x + 0.25).collect();
    let n = l.len();
    // Columns: the residual's derivatives, then G's, over the entries compared.
    let mut cols: Vec<Vec<f64>> = dr.clone();
    if g_diagonal {
        let Some(Ok((_, dd))) = g.diagonal_f64(&shifted) else {
            return None;
        };
        cols.extend(
            dd.iter()
                .map(|d| l.iter().map(|&i| d[i]).collect::<Vec<f64>>()),
        );
    } else {
        if q > DENSE_LIMIT {
            return None;
        }
        let dg = jacobian(g, &shifted)?;
        // Off-diagonal entries where some derivative is not zero.
        let scale = dg
            .iter()
            .flat_map(|d| d.iter())
            .fold(0.0f64, |m, v| m.max(v.abs()));
        let mut off = Vec::new();
        for j in 0..q {
            for i in (j + 1)..q {
                if dg.iter().any(|d| d[(i, j)].abs() > 1e-14 * scale) {
                    off.push((i, j));
                }
            }
        }
        for c in cols.iter_mut() {
            c.resize(n + off.len(), 0.0);
        }
        for d in &dg {
            let mut v: Vec<f64> = l.iter().map(|&i| d[(i, i)]).collect();
            v.extend(off.iter().map(|&(i, j)| d[(i, j)]));
            cols.push(v);
        }
    }
    let rows = cols[0].len();
    let matrix = |cs: &[Vec<f64>]| DMatrix::from_fn(rows, cs.len(), |r, c| cs[c][r]);
    let nr = dr.len();
    let dep_r = dependent_columns(&matrix(&cols[..nr])).len();
    let dep_g = dependent_columns(&matrix(&cols[nr..]));
    let dep_all = dependent_columns(&matrix(&cols));
    if dep_all.len() <= dep_r + dep_g.len() {
        return None;
    }
    // A parameter of G dependent in the whole but not among G's own.
    dep_all
        .iter()
        .map(|&c| c.checked_sub(nr))
        .find_map(|k| k.filter(|k| !dep_g.contains(k)))
        .or(Some(0))
}

/// Dense derivatives of `G` are formed for checks only up to this order.
const DENSE_LIMIT: usize = 2000;

/// `∂G/∂x_k` at `x` (closed form, else dual numbers); `None` if neither works.
fn jacobian(g: &dyn CovarianceModel, x: &[f64]) -> Option<Vec<DMatrix<f64>>> {
    g.value_and_jacobian_f64(x, JacobianMethod::ClosedForm)
        .or_else(|_| g.value_and_jacobian_f64(x, JacobianMethod::DualNumbers))
        .ok()
        .map(|(_, d)| d)
}

/// The level of each row when `z` is an indicator design (one 1 per row,
/// zeros elsewhere): an incidence's own codes, borrowed.
fn indicator_levels(z: &RandomDesign) -> Option<Cow<'_, [usize]>> {
    match z {
        RandomDesign::Incidence(i) => Some(Cow::Borrowed(i.levels())),
        RandomDesign::Dense(m) => (0..m.nrows())
            .map(|r| {
                let row = m.row(r);
                let ones: Vec<usize> = (0..m.ncols()).filter(|&j| row[j] != 0.0).collect();
                match ones.as_slice() {
                    [j] if row[*j] == 1.0 => Some(*j),
                    _ => None,
                }
            })
            .collect::<Option<Vec<usize>>>()
            .map(Cow::Owned),
        RandomDesign::Sparse(s) => (0..s.dims().0)
            .map(|r| match s.row(r) {
                ([j], [v]) if *v == 1.0 => Some(*j),
                _ => None,
            })
            .collect::<Option<Vec<usize>>>()
            .map(Cow::Owned),
    }
}

/// Whether `a` and `b` are the same design (the same levels row by row for
/// indicator designs, equal dense matrices otherwise).
fn same_design(a: &RandomDesign, b: &RandomDesign) -> bool {
    if a.dims() != b.dims() {
        return false;
    }
    match (indicator_levels(a), indicator_levels(b)) {
        (Some(x), Some(y)) => x == y,
        (None, None) => {
            matches!((a, b), (RandomDesign::Dense(x), RandomDesign::Dense(y)) if x == y)
        }
        _ => false,
    }
}

/// Whether every column of a dense, non-indicator `z` lies in the span of
/// the columns of `X` (checked only when it is cheap: `n q p ≤ 10⁸`).
fn in_span_of_x(fixed: &FixedPart, z: &RandomDesign) -> bool {
    let RandomDesign::Dense(zm) = z else {
        return false;
    };
    let (n, p, q) = (fixed.n(), fixed.p(), zm.ncols());
    if p == 0 || n.saturating_mul(q).saturating_mul(p + q) > 100_000_000 {
        return false;
    }
    let m = DMatrix::from_fn(n, p + q, |i, j| {
        if j < p {
            fixed.x[(i, j)]
        } else {
            zm[(i, j - p)]
        }
    });
    dependent_columns(&m).iter().filter(|&&c| c >= p).count() == q
}
