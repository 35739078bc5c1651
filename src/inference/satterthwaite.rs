//! Wald F tests of fixed-effect hypotheses `Lβ = 0` with Satterthwaite's
//! denominator degrees of freedom (lmerTest's default).
//!
//! With `C(θ) = (XᵀV⁻¹X)⁻¹` and `M = L C Lᵀ` (`q × q`):
//! `F = β̂ᵀLᵀ M⁻¹ L β̂ / q`. For one row, `ν = 2 M² / (gᵀ Σ g)` with
//! `g_j = ∂(L C Lᵀ)/∂θ_j` and `Σ` the inverse of the observed information
//! of the REML log-likelihood at the estimate; for `q` rows, Fai &
//! Cornelius (1996): with `M = P D Pᵀ`, `ν_m` for each row `p_mᵀL`,
//! `E = Σ ν_m/(ν_m − 2)` and `ν = 2E/(E − q)`. The derivatives of `C` and
//! of the score (the observed information) are central differences of the
//! analytic quantities at the estimate, step `1e-4` on the free scale.

use super::lrt::InferenceError;
use crate::reml::{MixedModel, RemlFit, RemlOptions};
use nalgebra::DMatrix;

/// A Wald F test of `Lβ = 0`.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FTest {
    /// The F statistic.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub f: f64,
    /// Numerator degrees of freedom (the rows of `L`).
    pub num_df: usize,
    /// Satterthwaite's denominator degrees of freedom.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub den_df: f64,
}

/// Satterthwaite's F test of `Lβ = 0` (`L` is `q × p`) at the estimate of
/// `fit` (a REML fit of `model`).
///
/// ```
/// use covreml::datasets::{john_alpha, john_alpha_model};
/// use covreml::inference::satterthwaite;
/// use covreml::reml::RemlOptions;
/// use nalgebra::DMatrix;
/// let m = john_alpha_model(&john_alpha()).unwrap();
/// let fit = m.fit(&RemlOptions::default().tolerance(1e-10)).unwrap();
/// // The rep term: repR2 = repR3 = 0.
/// let l = DMatrix::from_row_slice(2, 3, &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
/// let t = satterthwaite(&m, &fit, &l).unwrap();
/// assert!((t.f - 8.4629629347494).abs() < 1e-6); // lmerTest
/// assert!((t.den_df - 11.7551105104232).abs() < 1e-3 * 11.76);
/// ```
pub fn satterthwaite(
    model: &MixedModel,
    fit: &RemlFit,
    l: &DMatrix<f64>,
) -> Result<FTest, InferenceError> {
    Satterthwaite::new(model, fit)?.test(l)
}

/// The pieces of Satterthwaite's approximation at a fit's estimate, made
/// once for many tests: `C = Cov(β̂)`, its derivatives in the free
/// parameters and the inverse observed information.
pub(crate) struct Satterthwaite {
    beta: Vec<f64>,
    c: DMatrix<f64>,
    dc: Vec<DMatrix<f64>>,
    sigma: DMatrix<f64>,
}

impl Satterthwaite {
    /// The pieces at the estimate of `fit` (a REML fit of `model`).
    pub(crate) fn new(model: &MixedModel, fit: &RemlFit) -> Result<Self, InferenceError> {
        let fail = |reason: String| InferenceError::Invalid { reason };
        let opts = RemlOptions::default().method(fit.method);
        let eval = |x: &[f64]| model.evaluate(x, &opts).map_err(|e| fail(e.to_string()));
        let x0 = fit.free.clone();
        let k = x0.len();
        let h = 1e-4;
        let at = eval(&x0)?;
        let mut info = DMatrix::zeros(k, k);
        let mut dc = Vec::with_capacity(k);
        for j in 0..k {
            let (mut xp, mut xm) = (x0.clone(), x0.clone());
            xp[j] += h;
            xm[j] -= h;
            let (ep, em) = (eval(&xp)?, eval(&xm)?);
            for i in 0..k {
                info[(i, j)] = -(ep.score[i] - em.score[i]) / (2.0 * h);
            }
            dc.push((&ep.beta_cov - &em.beta_cov) / (2.0 * h));
        }
        let info = (&info + info.transpose()) * 0.5;
        let sigma = info
            .cholesky()
            .ok_or_else(|| {
                fail("the observed information is not positive definite at the estimate (a variance on its boundary?)".into())
            })?
            .inverse();
        Ok(Satterthwaite {
            beta: at.beta,
            c: at.beta_cov,
            dc,
            sigma,
        })
    }

    /// Satterthwaite's df of the linear combination `lᵀβ` (one row).
    pub(crate) fn df_1d(&self, l: &nalgebra::DVector<f64>) -> f64 {
        let var = (l.transpose() * &self.c * l)[(0, 0)];
        let g: Vec<f64> = self
            .dc
            .iter()
            .map(|d| (l.transpose() * d * l)[(0, 0)])
            .collect();
        let gv = nalgebra::DVector::from_vec(g);
        let den = (gv.transpose() * &self.sigma * &gv)[(0, 0)];
        2.0 * var * var / den
    }

    /// The F test of `Lβ = 0` (lmerTest's `contestMD`: the eigenvectors of
    /// `L C Lᵀ`, one df per direction, combined by Fai & Cornelius).
    pub(crate) fn test(&self, l: &DMatrix<f64>) -> Result<FTest, InferenceError> {
        let fail = |reason: String| InferenceError::Invalid { reason };
        let p = self.beta.len();
        let q = l.nrows();
        if l.ncols() != p || q == 0 {
            return Err(fail(format!(
                "L must have {p} columns (the fixed effects) and at least one row; it is {} × {}",
                l.nrows(),
                l.ncols()
            )));
        }
        let m = l * &self.c * l.transpose();
        let lb = l * nalgebra::DVector::from_column_slice(&self.beta);
        let m_inv = m
            .clone()
            .cholesky()
            .ok_or_else(|| fail("L C Lᵀ is singular: the rows of L are dependent".into()))?
            .inverse();
        let f = (lb.transpose() * &m_inv * &lb)[(0, 0)] / q as f64;
        let eig = m.symmetric_eigen();
        let nu: Vec<f64> = (0..q)
            .map(|r| {
                let lm = (eig.eigenvectors.column(r).transpose() * l).transpose();
                let d = eig.eigenvalues[r];
                let g: Vec<f64> = self
                    .dc
                    .iter()
                    .map(|dc| (lm.transpose() * dc * &lm)[(0, 0)])
                    .collect();
                let gv = nalgebra::DVector::from_vec(g);
                2.0 * d * d / (gv.transpose() * &self.sigma * &gv)[(0, 0)]
            })
            .collect();
        Ok(FTest {
            f,
            num_df: q,
            den_df: combine_df(&nu),
        })
    }
}

/// lmerTest's `get_Fstat_ddf`: one df as it is; equal ones (within 1e-8)
/// their mean; else `2E/(E − q)`, `E = Σ ν/(ν − 2)`, and 2 when any `ν ≤ 2`.
pub(crate) fn combine_df(nu: &[f64]) -> f64 {
    let q = nu.len() as f64;
    if nu.len() == 1 {
        return nu[0];
    }
    if nu.windows(2).all(|w| (w[1] - w[0]).abs() < 1e-8) {
        return nu.iter().sum::<f64>() / q;
    }
    if nu.iter().any(|&v| v <= 2.0) {
        return 2.0;
    }
    let e: f64 = nu.iter().map(|v| v / (v - 2.0)).sum();
    2.0 * e / (e - q)
}
