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
    let fail = |reason: String| InferenceError::Invalid { reason };
    let p = fit.beta.len();
    let q = l.nrows();
    if l.ncols() != p || q == 0 {
        return Err(fail(format!(
            "L must have {p} columns (the fixed effects) and at least one row; it is {} × {}",
            l.nrows(),
            l.ncols()
        )));
    }
    let opts = RemlOptions::default();
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
            fail("the observed information is not positive definite at the estimate".into())
        })?
        .inverse();
    let c = &at.beta_cov;
    let m = l * c * l.transpose();
    let lb = l * nalgebra::DVector::from_column_slice(&at.beta);
    let m_inv = m
        .clone()
        .cholesky()
        .ok_or_else(|| fail("L C Lᵀ is singular: the rows of L are dependent".into()))?
        .inverse();
    let f = (lb.transpose() * &m_inv * &lb)[(0, 0)] / q as f64;
    let eig = m.symmetric_eigen();
    let mut e_sum = 0.0;
    for r in 0..q {
        let pm = eig.eigenvectors.column(r);
        let lm = pm.transpose() * l; // 1 × p
        let g: Vec<f64> = dc
            .iter()
            .map(|d| (&lm * d * lm.transpose())[(0, 0)])
            .collect();
        let gv = nalgebra::DVector::from_vec(g);
        let var = (gv.transpose() * &sigma * &gv)[(0, 0)];
        let nu = 2.0 * eig.eigenvalues[r].powi(2) / var;
        if q == 1 {
            return Ok(FTest {
                f,
                num_df: 1,
                den_df: nu,
            });
        }
        if nu > 2.0 {
            e_sum += nu / (nu - 2.0);
        }
    }
    let den_df = if e_sum > q as f64 {
        2.0 * e_sum / (e_sum - q as f64)
    } else {
        f64::NAN
    };
    Ok(FTest {
        f,
        num_df: q,
        den_df,
    })
}
