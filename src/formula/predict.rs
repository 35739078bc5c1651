//! Predictions of a fitted formula model for new data: `x β̂` plus, for
//! each random term, the BLUPs of the row's level times its slopes; new
//! levels of a random term contribute 0 (lme4's `allow.new.levels`).

use super::columns::{self, Column};
use super::error::FormulaError;
use super::fixed_part::Part;
use super::formula_model::FormulaModel;
use crate::data::{coefficient_column, Table, INTERACTION_SEPARATOR};
use crate::reml::RemlFit;
use nalgebra::{DMatrix, DVector};
use std::collections::HashMap;

/// An entry of a new row of `Z`: (term, column of the term's `Z`, value).
type ZEntry = (usize, usize, f64);

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
        let x = self.new_fixed_design(new)?;
        Ok((0..new.n_rows())
            .map(|i| x.row(i).iter().zip(&fit.beta).map(|(a, b)| a * b).sum())
            .collect())
    }

    /// The rows of `X` for the rows of `new` (`m × p`).
    fn new_fixed_design(&self, new: &Table) -> Result<DMatrix<f64>, FormulaError> {
        let text = self.formula.text.as_str();
        let m = new.n_rows();
        let mut out = DMatrix::zeros(m, self.fixed.len());
        let mut recipes = self.recipes.frozen();
        for (j, col) in self.fixed.iter().enumerate() {
            let mut x = vec![1.0; m];
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
            out.set_column(j, &DVector::from_vec(x));
        }
        Ok(out)
    }

    /// Adds to `pred` each row's BLUPs (times its slopes); a level the
    /// model has not seen adds 0.
    fn add_blups(&self, fit: &RemlFit, new: &Table, pred: &mut [f64]) -> Result<(), FormulaError> {
        let blups = self.model.blup_values(fit)?;
        for (p, row) in pred.iter_mut().zip(self.new_random_design(new)?) {
            for (t, c, x) in row {
                *p += x * blups[t][c];
            }
        }
        Ok(())
    }

    /// The nonzero entries of the rows of `Z` for the rows of `new`:
    /// `(term, column of the term's Z, value)`; a level the model has not
    /// seen has none.
    fn new_random_design(&self, new: &Table) -> Result<Vec<Vec<ZEntry>>, FormulaError> {
        let text = self.formula.text.as_str();
        let mut recipes = self.recipes.frozen();
        let mut rows = vec![Vec::new(); new.n_rows()];
        for (ti, t) in self.terms.iter().enumerate() {
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
            for (i, row) in rows.iter_mut().enumerate() {
                let key = group_text
                    .iter()
                    .map(|c| c[i].as_str())
                    .collect::<Vec<_>>()
                    .join(INTERACTION_SEPARATOR);
                if let Some(&l) = index.get(key.as_str()) {
                    for (a, s) in slope_values.iter().enumerate() {
                        let x = s.as_ref().map_or(1.0, |s| s[i]);
                        row.push((ti, coefficient_column(a, l, q), x));
                    }
                }
            }
        }
        Ok(rows)
    }

    /// Standard errors of the predictions for the rows of `new`.
    ///
    /// With `population`, of `x β̂`: `√(xᵀ Var(β̂) x)`, `Var(β̂) = (XᵀV⁻¹X)⁻¹`
    /// (as `predict`'s `re.form = NA` with `vcov`). Otherwise of
    /// `x β̂ + z û` as a prediction of `x β + z u`: the square root of
    /// `[x z] C⁻¹ [x z]ᵀ`, `C⁻¹` the covariance of `(β̂ − β, û − u)` from the
    /// inverse of Henderson's mixed-model equations — `Var(β̂)`, the
    /// prediction-error variance of the BLUPs and their covariance with
    /// `β̂`; a level the fit has not seen contributes nothing (its random
    /// effect is taken as 0, not predicted). `V⁻¹` is applied through the
    /// mixed-model equations when the residual is diagonal and every `G`
    /// invertible, else with the dense `V` (at most
    /// [`KENWARD_ROGER_MAX_N`](crate::inference::KENWARD_ROGER_MAX_N)
    /// observations).
    ///
    /// ```
    /// use covreml::data::Table;
    /// use covreml::datasets::john_alpha;
    /// use covreml::formula::FormulaModel;
    /// use covreml::reml::RemlOptions;
    /// let m = FormulaModel::new("yield ~ rep + (1|gen)", &john_alpha()).unwrap();
    /// let fit = m.fit(&RemlOptions::default()).unwrap();
    /// let new = Table::parse("rep,gen\nR1,G01\nR1,new\n").unwrap();
    /// let pop = m.prediction_standard_errors(&fit, &new, true).unwrap();
    /// assert!((pop[0] - fit.beta_se[0]).abs() < 1e-9);
    /// let cond = m.prediction_standard_errors(&fit, &new, false).unwrap();
    /// assert!(cond[0] > pop[0]); // the genotype's effect is uncertain too
    /// assert!((cond[1] - pop[1]).abs() < 1e-9); // an unseen genotype adds nothing
    /// ```
    pub fn prediction_standard_errors(
        &self,
        fit: &RemlFit,
        new: &Table,
        population: bool,
    ) -> Result<Vec<f64>, FormulaError> {
        let xn = self.new_fixed_design(new)?;
        let model = &self.model;
        let fail = |reason: String| {
            FormulaError::Inference(crate::inference::InferenceError::Invalid { reason })
        };
        let opts = crate::reml::RemlOptions::default().method(fit.method);
        let phi = model.evaluate(&fit.free, &opts)?.beta_cov;
        let m = new.n_rows();
        let pop: Vec<f64> = (0..m)
            .map(|i| {
                let x = xn.row(i).transpose();
                (x.transpose() * &phi * &x)[(0, 0)]
            })
            .collect();
        if population || self.terms.is_empty() {
            return Ok(pop.into_iter().map(|v| v.max(0.0).sqrt()).collect());
        }
        let n = model.n();
        let solver = crate::inference::SigmaSolver::new(model, &fit.free)
            .map_err(|e| fail(format!("standard errors of predictions: {e}")))?;
        let parts = model.random_part().split(&fit.free);
        let mut zg = Vec::new();
        let mut gs = Vec::new();
        for (t, x) in model.terms.iter().zip(&parts) {
            let g = t.g.value_f64(x).map_err(|e| fail(e.to_string()))?;
            zg.push(t.z.to_dense() * &g);
            gs.push(g);
        }
        let x = crate::inference::x_dense(model);
        let rows = self.new_random_design(new)?;
        // Column i of w: Σ_t Z_t G_t z_t of new row i, the covariance of y
        // with z u; zgz[i] = zᵀGz.
        let mut w = DMatrix::zeros(n, m);
        let mut zgz = vec![0.0; m];
        for (i, row) in rows.iter().enumerate() {
            for &(t, c, a) in row {
                let mut col = w.column_mut(i);
                col += zg[t].column(c) * a;
                for &(t2, c2, a2) in row {
                    if t2 == t {
                        zgz[i] += a * a2 * gs[t][(c, c2)];
                    }
                }
            }
        }
        let vw = solver.solve(&w); // V⁻¹ w
        let xvw = x.transpose() * &vw; // Xᵀ V⁻¹ w, p × m
        let phi_xvw = &phi * &xvw;
        let mut out = Vec::with_capacity(m);
        for i in 0..m {
            let cross = xn.row(i).dot(&phi_xvw.column(i).transpose());
            let wpw = w.column(i).dot(&vw.column(i)) - xvw.column(i).dot(&phi_xvw.column(i));
            let var = pop[i] - 2.0 * cross + zgz[i] - wpw;
            out.push(var.max(0.0).sqrt());
        }
        Ok(out)
    }
}
