//! Likelihood-ratio test of two nested fits: `2(ℓ₁ − ℓ₀)` against χ² with
//! the difference of the parameter counts as degrees of freedom, as R's
//! `anova(m0, m1)` reports it (no boundary correction).
//!
//! The rules of lme4's `anova`: both fits by the same method (a REML fit
//! against an ML fit is an error); REML likelihoods only between models
//! with the same fixed effects (models that differ in their fixed effects
//! need ML fits); the same observations. A [`RemlFit`] does not carry its
//! data, so this function can check only the number of observations: the
//! formula layer's [`anova`](crate::formula::anova) checks that both models
//! use the same rows and response values, and refits by ML when the fixed
//! effects differ.

use crate::reml::RemlFit;
use thiserror::Error;

/// Why two fits cannot be compared.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum InferenceError {
    /// The fits are not of nested models on the same data.
    #[error("the fits are not comparable: {reason}")]
    NotComparable {
        /// What differs.
        reason: String,
    },
    /// A test that cannot be computed for this fit or hypothesis.
    #[error("the test cannot be computed: {reason}")]
    Invalid {
        /// Why.
        reason: String,
    },
}

/// The result of [`likelihood_ratio`].
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LikelihoodRatio {
    /// `2(ℓ₁ − ℓ₀)`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub statistic: f64,
    /// Difference of the numbers of parameters.
    pub df: usize,
    /// `P(χ²(df) > statistic)`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub p_value: f64,
    /// The two log-likelihoods (smaller model first).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats_2"))]
    pub loglik: [f64; 2],
    /// The two parameter counts (fixed effects plus variance parameters).
    pub n_params: [usize; 2],
}

/// Tests the smaller model `m0` against the larger `m1`: two fits by the
/// same method of the same data, with the same fixed effects if by REML.
///
/// ```
/// use covreml::datasets::john_alpha;
/// use covreml::formula::FormulaModel;
/// use covreml::inference::likelihood_ratio;
/// use covreml::reml::RemlOptions;
/// let t = john_alpha();
/// let opts = RemlOptions::default().tolerance(1e-8);
/// let m0 = FormulaModel::new("yield ~ rep + (1|gen)", &t).unwrap().fit(&opts).unwrap();
/// let m1 = FormulaModel::new("yield ~ rep + (1|gen) + (1|rep:block)", &t).unwrap().fit(&opts).unwrap();
/// let lrt = likelihood_ratio(&m0, &m1).unwrap();
/// assert_eq!(lrt.df, 1);
/// assert!((lrt.statistic - 2.0 * (m1.loglik - m0.loglik)).abs() < 1e-12);
/// assert!(lrt.p_value > 0.0 && lrt.p_value < 1.0);
/// ```
pub fn likelihood_ratio(m0: &RemlFit, m1: &RemlFit) -> Result<LikelihoodRatio, InferenceError> {
    let bad = |reason: String| Err(InferenceError::NotComparable { reason });
    if m0.n != m1.n {
        return bad(format!("{} and {} observations", m0.n, m1.n));
    }
    if m0.method != m1.method {
        return bad(format!(
            "a {} fit against an {} fit; both must be fitted by the same method",
            m0.method, m1.method
        ));
    }
    if m0.method == crate::reml::Method::Reml && m0.beta_names != m1.beta_names {
        return bad(format!(
            "the fixed effects differ ({} vs {}); REML likelihoods compare only models with the same fixed effects (an ML fit is needed)",
            m0.beta_names.join(", "),
            m1.beta_names.join(", ")
        ));
    }
    let (k0, k1) = (m0.p + m0.names.len(), m1.p + m1.names.len());
    if k1 <= k0 {
        return bad(format!(
            "the second model must have more parameters than the first ({k1} vs {k0})"
        ));
    }
    let statistic = (2.0 * (m1.loglik - m0.loglik)).max(0.0);
    let df = k1 - k0;
    Ok(LikelihoodRatio {
        statistic,
        df,
        p_value: super::chi_square_sf(statistic, df),
        loglik: [m0.loglik, m1.loglik],
        n_params: [k0, k1],
    })
}
