//! Post-estimation: BLUE, predictions, residuals, BLUPs and their
//! prediction-error variances.

use super::evaluator::Point;
use super::fixed::FixedPart;
use super::pev::Pev;
use super::terms::Parts;
use nalgebra::DMatrix;

/// Marginal post-estimation quantities.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MarginalPost {
    /// BLUE of the fixed effects.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub beta: Vec<f64>,
    /// Covariance of the BLUE, `(Xᵀ V⁻¹ X)⁻¹`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::matrix"))]
    pub beta_cov: DMatrix<f64>,
    /// Marginal predictions `X β̂`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub fitted: Vec<f64>,
    /// Marginal residuals `y − X β̂`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub residuals: Vec<f64>,
}

impl MarginalPost {
    pub(crate) fn new(fx: &FixedPart, pt: &Point) -> Self {
        let (n, p) = (fx.n(), fx.p());
        let beta = fx.unshift_beta(pt.beta.clone());
        let fitted: Vec<f64> = (0..n)
            .map(|i| (0..p).map(|j| fx.x[(i, j)] * beta[j]).sum())
            .collect();
        let residuals = fx.y_orig.iter().zip(&fitted).map(|(a, b)| a - b).collect();
        MarginalPost {
            beta,
            beta_cov: pt.beta_cov.clone(),
            fitted,
            residuals,
        }
    }
}

/// The BLUP of one random term, `û = G Zᵀ P y`, with its prediction-error
/// variances `PEV = G − G Zᵀ P Z G` (the diagonal and the entries on the
/// pattern of `G⁻¹`, see [`Pev`]).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Blup {
    /// The term.
    pub term: String,
    /// The level (column of `Z`) of each value: the level names of an
    /// `Incidence`, the column names of a `SparseDesign`, `0, 1, …` for a
    /// dense `Z`.
    pub levels: Vec<String>,
    /// `û`, one value per column of `Z`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub values: Vec<f64>,
    /// `Var(u − û)`: its diagonal, its entries on the pattern of `G⁻¹`,
    /// the sum of all its entries.
    pub pev: Pev,
}

impl Blup {
    /// Standard errors of prediction, `√PEV_ii`, beside each value.
    pub fn standard_errors(&self) -> Vec<f64> {
        (0..self.values.len())
            .map(|i| self.pev.variance(i).max(0.0).sqrt())
            .collect()
    }

    /// The BLUP of the level called `level`.
    pub fn get(&self, level: &str) -> Option<f64> {
        let i = self.levels.iter().position(|l| l == level)?;
        self.values.get(i).copied()
    }

    /// `(level, BLUP, standard error)` rows, in column order of `Z`.
    pub fn rows(&self) -> impl Iterator<Item = (&str, f64, f64)> + '_ {
        self.levels
            .iter()
            .zip(&self.values)
            .zip(self.standard_errors())
            .map(|((l, &v), se)| (l.as_str(), v, se))
    }

    /// Mean over all pairs `a < b` of the variance of the difference of
    /// BLUPs, `PEV_aa + PEV_bb − 2 PEV_ab` (`NaN` with fewer than 2 levels).
    pub fn mean_variance_of_difference(&self) -> f64 {
        self.pev.mean_variance_of_difference()
    }
}

/// Mixed-model post-estimation quantities.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MixedPost {
    /// BLUE, marginal predictions and residuals.
    pub marginal: MarginalPost,
    /// One BLUP per random term, in the order the terms were added.
    pub blups: Vec<Blup>,
    /// Conditional predictions `X β̂ + Σ Z_i û_i`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub conditional_fitted: Vec<f64>,
    /// Conditional residuals `y − X β̂ − Σ Z_i û_i`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    pub conditional_residuals: Vec<f64>,
}

impl MixedPost {
    /// The one assembly of both backends: from the evaluated point `pt`
    /// (β̂ and its covariance) and each term's `(û, PEV)` in term order,
    /// the marginal quantities, the labelled BLUPs, and the conditional
    /// predictions `X β̂ + Σ Z_i û_i` and residuals.
    pub(crate) fn assemble(parts: Parts<'_>, pt: &Point, blups: Vec<(Vec<f64>, Pev)>) -> Self {
        let marginal = MarginalPost::new(parts.fixed, pt);
        let mut conditional_fitted = marginal.fitted.clone();
        let blups: Vec<Blup> = parts
            .terms
            .list
            .iter()
            .zip(blups)
            .map(|(t, (values, pev))| {
                for (c, v) in conditional_fitted.iter_mut().zip(t.z.mul(&values)) {
                    *c += v;
                }
                Blup {
                    term: t.name.clone(),
                    levels: t.z.level_names(),
                    values,
                    pev,
                }
            })
            .collect();
        let conditional_residuals = parts
            .fixed
            .y_orig
            .iter()
            .zip(&conditional_fitted)
            .map(|(a, b)| a - b)
            .collect();
        MixedPost {
            marginal,
            blups,
            conditional_fitted,
            conditional_residuals,
        }
    }

    /// The BLUP of the term called `name`.
    pub fn blup(&self, name: &str) -> Option<&Blup> {
        self.blups.iter().find(|b| b.term == name)
    }
    /// The BLUP of the term called `name`, or an error that lists the terms
    /// there are.
    pub fn blup_of(&self, name: &str) -> Result<&Blup, super::RemlError> {
        self.blup(name)
            .ok_or_else(|| super::RemlError::UnknownName {
                what: "random term",
                name: name.to_string(),
                available: self
                    .blups
                    .iter()
                    .map(|b| b.term.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}
