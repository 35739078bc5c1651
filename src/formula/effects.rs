//! The random effects of a fitted formula model as a table: one row per
//! effect (term, coefficient, level) with its BLUP and standard error
//! `√PEV`, and the conditional fitted values and residuals per row.

use super::error::FormulaError;
use super::formula_model::FormulaModel;
use crate::data::{coefficient_column, INTERACTION_SEPARATOR};
use crate::reml::RemlFit;

/// One random effect: the BLUP of one coefficient of one level of a
/// random term.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomEffect {
    /// The term's name (as [`RandomTermInfo::name`](super::RandomTermInfo::name)).
    pub term: String,
    /// The coefficient: `(Intercept)` or the slope's name.
    pub coefficient: String,
    /// The level: the grouping columns' values joined by `:` (lme4's
    /// `ranef` row names).
    pub level: String,
    /// The BLUP `û`.
    pub blup: f64,
    /// Its standard error `√PEV`, `PEV = Var(u − û)` from the inverse of
    /// the mixed-model equations: it includes the uncertainty of `β̂` (as
    /// ASReml's), so it is larger than lme4's `ranef(condVar = TRUE)`,
    /// the conditional variance at `β = β̂`.
    pub standard_error: f64,
}

/// The conditional fitted values `X β̂ + Z û` and residuals
/// `y − X β̂ − Z û` (lme4's `fitted` and `residuals`) of the rows fitted.
#[derive(Clone, Debug, PartialEq)]
pub struct FittedValues {
    /// Fitted values, one per row used.
    pub fitted: Vec<f64>,
    /// Residuals, one per row used.
    pub residuals: Vec<f64>,
}

impl FormulaModel {
    /// The BLUPs of every random term of the fit `fit` with their standard
    /// errors: term by term, coefficient by coefficient, level by level
    /// (the order of lme4's `as.data.frame(ranef(…))`).
    ///
    /// ```
    /// use covreml::datasets::john_alpha;
    /// use covreml::formula::FormulaModel;
    /// use covreml::reml::RemlOptions;
    /// let m = FormulaModel::new("yield ~ rep + (1|gen)", &john_alpha()).unwrap();
    /// let fit = m.fit(&RemlOptions::default()).unwrap();
    /// let e = m.random_effects(&fit).unwrap();
    /// assert_eq!(e.len(), m.terms()[0].levels.len());
    /// assert_eq!((e[0].term.as_str(), e[0].coefficient.as_str()), ("gen", "(Intercept)"));
    /// assert!(e.iter().all(|r| r.standard_error > 0.0));
    /// ```
    pub fn random_effects(&self, fit: &RemlFit) -> Result<Vec<RandomEffect>, FormulaError> {
        let post = self.model.post(fit)?;
        let mut rows = Vec::new();
        for (t, b) in self.terms.iter().zip(&post.blups) {
            let q = t.levels.len();
            let se = b.standard_errors();
            for (a, coefficient) in t.coefficients.iter().enumerate() {
                for (l, level) in t.levels.iter().enumerate() {
                    rows.push(RandomEffect {
                        term: t.name.clone(),
                        coefficient: coefficient.clone(),
                        level: level.replace(INTERACTION_SEPARATOR, ":"),
                        blup: b.values[coefficient_column(a, l, q)],
                        standard_error: se[coefficient_column(a, l, q)],
                    });
                }
            }
        }
        Ok(rows)
    }

    /// The conditional fitted values and residuals of the fit `fit`, one
    /// per row used (the rows of the data without the
    /// [`dropped_lines`](Self::dropped_lines), in file order).
    ///
    /// ```
    /// use covreml::datasets::john_alpha;
    /// use covreml::formula::FormulaModel;
    /// use covreml::reml::RemlOptions;
    /// let data = john_alpha();
    /// let m = FormulaModel::new("yield ~ rep + (1|gen)", &data).unwrap();
    /// let fit = m.fit(&RemlOptions::default()).unwrap();
    /// let f = m.fitted_values(&fit).unwrap();
    /// let y = data.numeric("yield").unwrap();
    /// assert!((f.fitted[0] + f.residuals[0] - y[0]).abs() < 1e-10);
    /// ```
    pub fn fitted_values(&self, fit: &RemlFit) -> Result<FittedValues, FormulaError> {
        let post = self.model.post(fit)?;
        Ok(FittedValues {
            fitted: post.conditional_fitted,
            residuals: post.conditional_residuals,
        })
    }
}
