//! Fixed-effect tests and intervals of a formula model: the fixed terms
//! (the columns of `X` grouped by the variables they are made of) for
//! [`fixed_effect_tests`](crate::inference::fixed_effect_tests).

use super::error::FormulaError;
use super::fixed_part::Part;
use super::model::FormulaModel;
use crate::inference::{self, CiMethod, Ddf, FixedTests, Interval};
use crate::reml::RemlFit;

impl FormulaModel {
    /// The fixed terms and the columns of β each has, in the order of the
    /// coefficients, the intercept left out: `Days` → `[1]`, `rep` →
    /// `[1, 2]` (its treatment contrasts), `x:trt` → its products. A term
    /// is named by its variables joined by `:` (`factor(dose)`, `log(x)`).
    ///
    /// ```
    /// use covreml::datasets::john_alpha;
    /// use covreml::formula::FormulaModel;
    /// let m = FormulaModel::new("yield ~ rep + (1|gen)", &john_alpha()).unwrap();
    /// assert_eq!(m.fixed_terms(), [("rep".to_string(), vec![1, 2])]);
    /// ```
    pub fn fixed_terms(&self) -> Vec<(String, Vec<usize>)> {
        let mut out: Vec<(String, Vec<usize>)> = Vec::new();
        for (j, col) in self.fixed.iter().enumerate() {
            let mut names: Vec<String> = Vec::new();
            for part in &col.parts {
                let v = match part {
                    Part::Numeric(v) | Part::Level(v, _) | Part::Basis(v, _) => v,
                };
                let name = if v.as_factor {
                    format!("factor({})", v.name)
                } else {
                    v.name.clone()
                };
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            if names.is_empty() {
                continue;
            }
            let label = names.join(":");
            match out.iter_mut().find(|(t, _)| *t == label) {
                Some((_, cols)) => cols.push(j),
                None => out.push((label, vec![j])),
            }
        }
        out
    }

    /// The F test of every fixed term (all its coefficients 0) and the t
    /// test of every coefficient, with the denominator df of `ddf`
    /// (lmerTest's `anova` and `summary`; with treatment contrasts and no
    /// interaction containing the term, its type III test).
    ///
    /// ```
    /// use covreml::datasets::john_alpha;
    /// use covreml::formula::FormulaModel;
    /// use covreml::inference::Ddf;
    /// use covreml::reml::RemlOptions;
    /// let m = FormulaModel::new("yield ~ rep + (1|gen) + (1|rep:block)", &john_alpha()).unwrap();
    /// let fit = m.fit(&RemlOptions::default().tolerance(1e-10)).unwrap();
    /// let t = m.fixed_effect_tests(&fit, Ddf::KenwardRoger).unwrap();
    /// assert_eq!((t.terms[0].term.as_str(), t.terms[0].num_df), ("rep", 2));
    /// ```
    pub fn fixed_effect_tests(&self, fit: &RemlFit, ddf: Ddf) -> Result<FixedTests, FormulaError> {
        inference::fixed_effect_tests(&self.model, fit, &self.fixed_terms(), ddf)
            .map_err(FormulaError::from)
    }

    /// 95 % confidence intervals of the variance parameters and the
    /// coefficients ([`intervals`](crate::inference::intervals)).
    pub fn intervals(&self, fit: &RemlFit, method: CiMethod) -> Result<Vec<Interval>, FormulaError> {
        inference::intervals(&self.model, fit, method).map_err(FormulaError::from)
    }
}
