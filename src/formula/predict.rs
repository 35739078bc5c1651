//! Predictions of a fitted formula model for new data: `x β̂` plus, for
//! each random term, the BLUPs of the row's level times its slopes; new
//! levels of a random term contribute 0 (lme4's `allow.new.levels`).

use super::columns::{self, Column};
use super::error::FormulaError;
use super::fixed_part::Part;
use super::model::FormulaModel;
use crate::data::{Table, INTERACTION_SEPARATOR};
use crate::reml::RemlFit;
use std::collections::HashMap;

impl FormulaModel {
    /// Predictions for the rows of `new` from the fit `fit` of this model:
    /// `x β̂` plus, for each random term, the BLUPs of the row's level
    /// (times its slopes). A level the model has not seen contributes 0 —
    /// the population value, as lme4's `allow.new.levels = TRUE`. Levels of
    /// a categorical fixed effect must be known.
    ///
    /// ```
    /// use covreml::data::Table;
    /// use covreml::datasets::john_alpha;
    /// use covreml::formula::FormulaModel;
    /// use covreml::reml::RemlOptions;
    /// let m = FormulaModel::new("yield ~ rep + (1|gen)", &john_alpha()).unwrap();
    /// let fit = m.fit(&RemlOptions::default()).unwrap();
    /// let new = Table::parse("rep,gen\nR1,G01\nR1,new\n").unwrap();
    /// let p = m.predict(&fit, &new).unwrap();
    /// // a new genotype gets the population value: the intercept
    /// assert!((p[1] - fit.beta[0]).abs() < 1e-12);
    /// assert!(p[0] != p[1]);
    /// ```
    pub fn predict(&self, fit: &RemlFit, new: &Table) -> Result<Vec<f64>, FormulaError> {
        let mut pred = self.predict_population(fit, new)?;
        if !self.terms.is_empty() {
            self.add_blups(fit, new, &mut pred)?;
        }
        Ok(pred)
    }

    /// Population predictions for the rows of `new` from the fit `fit`:
    /// `x β̂` alone, without random effects (lme4's `re.form = NA`). Levels
    /// of a categorical fixed effect must be known; the random terms'
    /// columns need not be present.
    ///
    /// ```
    /// use covreml::data::Table;
    /// use covreml::datasets::john_alpha;
    /// use covreml::formula::FormulaModel;
    /// use covreml::reml::RemlOptions;
    /// let m = FormulaModel::new("yield ~ rep + (1|gen)", &john_alpha()).unwrap();
    /// let fit = m.fit(&RemlOptions::default()).unwrap();
    /// let new = Table::parse("rep\nR1\nR2\n").unwrap();
    /// let p = m.predict_population(&fit, &new).unwrap();
    /// assert!((p[0] - fit.beta[0]).abs() < 1e-12);
    /// assert!((p[1] - fit.beta[0] - fit.beta[1]).abs() < 1e-12);
    /// ```
    pub fn predict_population(&self, fit: &RemlFit, new: &Table) -> Result<Vec<f64>, FormulaError> {
        let text = self.formula.text.as_str();
        let m = new.n_rows();
        let mut pred = vec![0.0; m];
        let mut recipes = self.recipes.frozen();
        for (col, b) in self.fixed.iter().zip(&fit.beta) {
            let mut x = vec![*b; m];
            for part in &col.parts {
                match part {
                    Part::Numeric(v) => {
                        let c = columns::numbers(
                            new,
                            v,
                            text,
                            "it is a numeric fixed effect",
                            &mut recipes,
                        )?;
                        x.iter_mut().zip(&c).for_each(|(a, b)| *a *= b);
                    }
                    Part::Basis(v, j) => {
                        let Column::Basis(cols) = columns::column(new, v, text, &mut recipes)?
                        else {
                            unreachable!("a basis term evaluates to several columns")
                        };
                        x.iter_mut().zip(&cols[*j]).for_each(|(a, b)| *a *= b);
                    }
                    Part::Level(v, level) => {
                        let t = columns::text(new, v, text)?;
                        let known = self.fixed_levels.get(&v.name);
                        for ((a, s), line) in x.iter_mut().zip(t).zip(new.lines()) {
                            if known.is_some_and(|k| !k.contains(s)) {
                                return Err(FormulaError::unsupported(
                                    text,
                                    v.span,
                                    format!(
                                        "line {line} of the new data: `{s}` is not a level of the fixed effect `{}` (its levels are: {})",
                                        v.name,
                                        known.map(|k| k.join(", ")).unwrap_or_default()
                                    ),
                                ));
                            }
                            if s != level {
                                *a = 0.0;
                            }
                        }
                    }
                }
            }
            pred.iter_mut().zip(&x).for_each(|(p, v)| *p += v);
        }
        Ok(pred)
    }

    /// Adds to `pred` each row's BLUPs (times its slopes); a level the
    /// model has not seen adds 0.
    fn add_blups(&self, fit: &RemlFit, new: &Table, pred: &mut [f64]) -> Result<(), FormulaError> {
        let text = self.formula.text.as_str();
        let mut recipes = self.recipes.frozen();
        let blups = self.model.blup_values(fit)?;
        for (t, blup) in self.terms.iter().zip(&blups) {
            let q = t.levels.len();
            let index: HashMap<&str, usize> = t
                .levels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.as_str(), i))
                .collect();
            let mut group_text = Vec::new();
            for g in &t.group_vars {
                group_text.push(columns::text(new, g, text)?);
            }
            let slope_values =
                super::random_part::coefficient_values(&t.slopes, new, text, &mut recipes)?;
            for (i, p) in pred.iter_mut().enumerate() {
                let key = group_text
                    .iter()
                    .map(|c| c[i].as_str())
                    .collect::<Vec<_>>()
                    .join(INTERACTION_SEPARATOR);
                if let Some(&l) = index.get(key.as_str()) {
                    for (a, s) in slope_values.iter().enumerate() {
                        let x = s.as_ref().map_or(1.0, |s| s[i]);
                        *p += x * blup[a * q + l];
                    }
                }
            }
        }
        Ok(())
    }
}
