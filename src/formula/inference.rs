//! Fixed-effect tests and intervals of a formula model: the fixed terms
//! (the columns of `X` grouped by the variables they are made of) for
//! [`fixed_effect_tests`](crate::inference::fixed_effect_tests).

use super::error::FormulaError;
use super::fixed_part::Part;
use super::formula_model::FormulaModel;
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

    /// The F test of every fixed term and the t test of every coefficient,
    /// with the denominator df of `ddf` (lmerTest's `anova` and `summary`).
    /// The hypotheses are lmerTest's type III ones where they are simple:
    /// with one fixed term, its rows of the type I (Doolittle) matrix of
    /// `XᵀX`, as lmerTest falls back to; with several, "the term's
    /// coefficients are 0", its type III hypothesis with treatment
    /// contrasts when no interaction contains the term (a term inside an
    /// interaction is tested the same way, which is not lmerTest's type
    /// III test). The F value does not depend on the basis of the
    /// hypothesis; Satterthwaite's df for several rows does.
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
        let terms = self.fixed_terms();
        let p = self.fixed.len();
        let hypotheses: Vec<(String, nalgebra::DMatrix<f64>)> = if terms.len() == 1 {
            let x = inference::x_dense(&self.model);
            let l = inference::doolittle_rows(&(x.transpose() * &x));
            terms
                .into_iter()
                .map(|(t, cols)| (t, l.select_rows(&cols)))
                .collect()
        } else {
            terms
                .into_iter()
                .map(|(t, cols)| (t, inference::term_rows(&cols, p)))
                .collect()
        };
        inference::fixed_effect_tests(&self.model, fit, &hypotheses, ddf)
            .map_err(FormulaError::from)
    }

    /// 95 % confidence intervals of the variance parameters and the
    /// coefficients ([`intervals`](crate::inference::intervals)).
    pub fn intervals(
        &self,
        fit: &RemlFit,
        method: CiMethod,
    ) -> Result<Vec<Interval>, FormulaError> {
        inference::intervals(&self.model, fit, method).map_err(FormulaError::from)
    }
}
