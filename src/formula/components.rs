//! The variance components of a fitted formula model, as lme4's `VarCorr`
//! lists them, and every parameter of the residual: `σ²` and the
//! correlation parameter of `ar1`, `car1` and `cs` residuals, the variances
//! and covariances of a `us` residual, a variance per level of `diag(f)`,
//! a variance per time and `rho` of `arh` and `csh`.

use super::ast::TermStructure;
use super::formula_model::RandomTermInfo;
use super::residual::Residual;
use crate::reml::RemlFit;

/// What a [`VarianceComponent`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ComponentKind {
    /// A variance.
    Var,
    /// A covariance of two coefficients (or two times of a `us` residual).
    Cov,
    /// A correlation parameter (`rho` of `ar1` and `cs`, `phi` of `car1`).
    Corr,
    /// Another parameter of a correlation (the `range` and `nugget` of a
    /// spatial residual).
    Param,
}

impl ComponentKind {
    /// `variance`, `covariance` or `correlation`.
    pub fn name(self) -> &'static str {
        match self {
            ComponentKind::Var => "variance",
            ComponentKind::Cov => "covariance",
            ComponentKind::Corr => "correlation",
            ComponentKind::Param => "parameter",
        }
    }
}

/// One parameter of the fitted covariance model: a variance, covariance or
/// correlation, as lme4's `VarCorr` lists them.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VarianceComponent {
    /// The term (`Residual` for the residual).
    pub group: String,
    /// The coefficient (`(Intercept)`, a slope; the level for a `diag(f)`
    /// residual; the time for a `us` residual; the parameter, `rho` or
    /// `phi`, for a correlation; `None` for the variance of an iid or
    /// correlated residual).
    pub var1: Option<String>,
    /// The second coefficient (or time) of a covariance, `None` otherwise.
    pub var2: Option<String>,
    /// What the value is.
    pub kind: ComponentKind,
    /// The value.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub value: f64,
    /// Its standard error (from the inverse AI matrix).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub se: f64,
    /// The parameter's name in the fit.
    pub param: String,
}

/// The components of `fit` for these terms and residual; `residual_levels`
/// are the levels of a `diag(f)` residual or the times of a `us` one.
pub(crate) fn variance_components(
    terms: &[RandomTermInfo],
    residual: &Residual,
    residual_levels: Option<&[String]>,
    fit: &RemlFit,
) -> Vec<VarianceComponent> {
    let mut out = Vec::with_capacity(fit.natural.len());
    let mut k = 0;
    let mut push = |group: &str, var1: Option<String>, var2: Option<String>, kind| {
        if k < fit.natural.len() {
            out.push(VarianceComponent {
                group: group.to_string(),
                var1,
                var2,
                kind,
                value: fit.natural[k],
                se: fit.natural_se[k],
                param: fit.names[k].clone(),
            });
        }
        k += 1;
    };
    for t in terms {
        term_components(t, &mut push);
    }
    let g = "Residual";
    match (residual, residual_levels) {
        (Residual::Diag(_), Some(levels)) => {
            for l in levels {
                push(g, Some(l.clone()), None, ComponentKind::Var);
            }
        }
        (Residual::Us { .. }, Some(times)) => lower_triangle(g, times, &mut push),
        (Residual::Arh { .. } | Residual::Csh { .. }, Some(times)) => {
            for t in times {
                push(g, Some(t.clone()), None, ComponentKind::Var);
            }
            push(g, Some("rho".into()), None, ComponentKind::Corr);
        }
        (Residual::Ar1 { .. } | Residual::Cs { .. }, _) => {
            push(g, None, None, ComponentKind::Var);
            push(g, Some("rho".into()), None, ComponentKind::Corr);
        }
        (Residual::Ar1Ar1 { .. }, _) => {
            push(g, None, None, ComponentKind::Var);
            push(g, Some("rho_row".into()), None, ComponentKind::Corr);
            push(g, Some("rho_col".into()), None, ComponentKind::Corr);
        }
        (Residual::Spatial { .. }, _) => {
            push(g, None, None, ComponentKind::Var);
            push(g, Some("range".into()), None, ComponentKind::Param);
            push(g, Some("nugget".into()), None, ComponentKind::Param);
        }
        (Residual::Car1 { .. }, _) => {
            push(g, None, None, ComponentKind::Var);
            push(g, Some("phi".into()), None, ComponentKind::Corr);
        }
        _ => push(g, None, None, ComponentKind::Var),
    }
    out
}

/// The parameters of a random term in the order of its structure's
/// parameters: `us` (and one coefficient) the variances and covariances;
/// `diag` a variance per coefficient; `cs` and `ar1` the variance and
/// `rho`; `fa(k)` the free loadings `lambda` (var1 the coefficient, var2
/// the factor `factor1`…, kind [`ComponentKind::Param`]) factor by factor,
/// then the specific variances `psi` (var1 the coefficient, var2 `psi`).
fn term_components(
    t: &RandomTermInfo,
    push: &mut impl FnMut(&str, Option<String>, Option<String>, ComponentKind),
) {
    let (g, c) = (t.name.as_str(), &t.coefficients);
    match t.structure {
        _ if c.len() == 1 => lower_triangle(g, c, push),
        TermStructure::Diag => {
            for name in c {
                push(g, Some(name.clone()), None, ComponentKind::Var);
            }
        }
        TermStructure::Cs | TermStructure::Ar1 => {
            push(g, None, None, ComponentKind::Var);
            push(g, Some("rho".into()), None, ComponentKind::Corr);
        }
        TermStructure::Fa(k) => {
            for j in 0..k {
                for name in c.iter().skip(j) {
                    push(
                        g,
                        Some(name.clone()),
                        Some(format!("factor{}", j + 1)),
                        ComponentKind::Param,
                    );
                }
            }
            for name in c {
                push(
                    g,
                    Some(name.clone()),
                    Some("psi".into()),
                    ComponentKind::Var,
                );
            }
        }
        _ => lower_triangle(g, c, push),
    }
}

/// The variances and covariances of `names` in row-major lower-triangle
/// order (a single name: its variance).
fn lower_triangle(
    group: &str,
    names: &[String],
    push: &mut impl FnMut(&str, Option<String>, Option<String>, ComponentKind),
) {
    for i in 0..names.len() {
        for j in 0..=i {
            let (var2, kind) = if i == j {
                (None, ComponentKind::Var)
            } else {
                (Some(names[j].clone()), ComponentKind::Cov)
            };
            push(group, Some(names[i].clone()), var2, kind);
        }
    }
}
