//! A fit report in the shape of lme4's `summary()`: variance components as
//! variances and standard deviations (correlations for terms with several
//! coefficients), observations and levels per term, fixed effects with
//! standard errors and t values, the REML criterion, AIC/BIC, how the fit
//! ended and its time.

use super::model::FormulaModel;
use crate::reml::RemlFit;
use std::fmt;

/// lme4-style summary of a fit of a [`FormulaModel`]; print it with `{}`.
///
/// ```
/// use covreml::datasets::john_alpha;
/// use covreml::formula::{FormulaModel, Summary};
/// use covreml::reml::RemlOptions;
/// let m = FormulaModel::new("yield ~ rep + (1|gen)", &john_alpha()).unwrap();
/// let fit = m.fit(&RemlOptions::default()).unwrap();
/// let text = Summary::new(&m, &fit).to_string();
/// assert!(text.contains("Number of obs: 72, groups:  gen, 24"));
/// assert!(text.contains("repR2"));
/// ```
pub struct Summary<'a> {
    model: &'a FormulaModel,
    fit: &'a RemlFit,
}

impl<'a> Summary<'a> {
    /// The summary of `fit`, a fit of `model`.
    pub fn new(model: &'a FormulaModel, fit: &'a RemlFit) -> Self {
        Summary { model, fit }
    }
}

/// Four significant digits, like R's default print.
fn sig(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&mag) {
        return format!("{x:.3e}");
    }
    let decimals = (3 - mag).max(0) as usize;
    format!("{x:.decimals$}")
}

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (m, fit) = (self.model, self.fit);
        let ml = fit.method == crate::reml::Method::Ml;
        writeln!(
            f,
            "Linear mixed model fit by {} (covreml)",
            if ml { "maximum likelihood" } else { "REML" }
        )?;
        writeln!(f, "Formula: {}", m.formula())?;
        writeln!(f, "Residual: {}", m.residual())?;
        writeln!(f)?;
        if ml {
            writeln!(f, "deviance (−2 log-likelihood): {:.4}", -2.0 * fit.loglik)?;
        } else {
            writeln!(f, "REML criterion at convergence: {:.4}", -2.0 * fit.loglik)?;
        }
        writeln!(f)?;

        // Random effects table.
        let vcs = m.variance_components(fit);
        let mut rows: Vec<[String; 6]> = Vec::new();
        let mut last_group = String::new();
        let mut i = 0;
        while i < vcs.len() {
            let v = &vcs[i];
            // Gather the block of one term.
            let j = vcs[i..]
                .iter()
                .position(|w| w.group != v.group)
                .map_or(vcs.len(), |p| i + p);
            let block = &vcs[i..j];
            let vars: Vec<&super::VarianceComponent> =
                block.iter().filter(|w| w.var2.is_none()).collect();
            for w in &vars {
                let sd = w.value.max(0.0).sqrt();
                let corr: Vec<String> = block
                    .iter()
                    .filter(|c| c.var1 == w.var1 && c.var2.is_some())
                    .map(|c| {
                        let other = vars
                            .iter()
                            .find(|o| o.var1 == c.var2)
                            .map_or(f64::NAN, |o| o.value);
                        format!("{:.3}", c.value / (w.value * other).sqrt())
                    })
                    .collect();
                let group = if w.group == last_group {
                    String::new()
                } else {
                    w.group.clone()
                };
                last_group = w.group.clone();
                rows.push([
                    group,
                    w.var1.clone().unwrap_or_default(),
                    sig(w.value),
                    sig(sd),
                    sig(w.se),
                    corr.join(" "),
                ]);
            }
            i = j;
        }
        let head = ["Groups", "Name", "Variance", "Std.Dev.", "Std.Err.", "Corr"];
        let mut width = head.map(str::len);
        for r in &rows {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        writeln!(f, "Random effects:")?;
        let line = |f: &mut fmt::Formatter<'_>, r: &[String]| -> fmt::Result {
            writeln!(
                f,
                " {:<w0$} {:<w1$} {:>w2$} {:>w3$} {:>w4$} {}",
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                w0 = width[0],
                w1 = width[1],
                w2 = width[2],
                w3 = width[3],
                w4 = width[4]
            )
        };
        line(f, &head.map(String::from))?;
        for r in &rows {
            line(f, r)?;
        }
        let groups = m
            .terms()
            .iter()
            .map(|t| format!("{}, {}", t.name, t.levels.len()))
            .collect::<Vec<_>>()
            .join("; ");
        if groups.is_empty() {
            writeln!(f, "Number of obs: {}", fit.n)?;
        } else {
            writeln!(f, "Number of obs: {}, groups:  {groups}", fit.n)?;
        }
        writeln!(f)?;

        // Fixed effects.
        writeln!(f, "Fixed effects:")?;
        let nw = fit
            .beta_names
            .iter()
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0);
        let cells: Vec<[String; 3]> = (0..fit.beta.len())
            .map(|j| {
                [
                    sig(fit.beta[j]),
                    sig(fit.beta_se[j]),
                    format!("{:.3}", fit.beta[j] / fit.beta_se[j]),
                ]
            })
            .collect();
        let cw = [
            cells.iter().map(|c| c[0].len()).max().unwrap_or(0).max(8),
            cells.iter().map(|c| c[1].len()).max().unwrap_or(0).max(10),
            cells.iter().map(|c| c[2].len()).max().unwrap_or(0).max(7),
        ];
        let (w0, w1, w2) = (cw[0], cw[1], cw[2]);
        writeln!(
            f,
            "{:<nw$} {:>w0$} {:>w1$} {:>w2$}",
            "", "Estimate", "Std. Error", "t value"
        )?;
        for (name, cell) in fit.beta_names.iter().zip(&cells) {
            writeln!(
                f,
                "{name:<nw$} {:>w0$} {:>w1$} {:>w2$}",
                cell[0], cell[1], cell[2]
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "REML log-likelihood {:.4}, AIC {:.4}, BIC {:.4}",
            fit.loglik, fit.aic, fit.bic
        )?;
        writeln!(
            f,
            "Fit: {} after {} iterations in {:.3} ms",
            fit.termination,
            fit.iterations,
            fit.seconds * 1e3
        )?;
        if fit.singular && !matches!(fit.termination, crate::reml::Termination::Singular { .. }) {
            writeln!(f, "boundary (singular) fit: see lme4's ?isSingular")?;
        }
        for w in &fit.warnings {
            writeln!(f, "Warning: {w}")?;
        }
        Ok(())
    }
}
