//! A fit report in the shape of lme4's `summary()`: variance components as
//! variances and standard deviations (correlations for terms with several
//! coefficients), observations and levels per term, fixed effects with
//! standard errors and t values, the REML criterion, AIC/BIC, how the fit
//! ended and its time.

use super::components::ComponentKind;
use super::formula_model::FormulaModel;
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
    wall: Option<f64>,
}

impl<'a> Summary<'a> {
    /// The summary of `fit`, a fit of `model`.
    pub fn new(model: &'a FormulaModel, fit: &'a RemlFit) -> Self {
        Summary {
            model,
            fit,
            wall: None,
        }
    }

    /// The wall-clock seconds of building the model and fitting it, as the
    /// caller measured them (by default the model's build time plus the
    /// fit's iteration time, which leaves out the backend's setup).
    pub fn wall_seconds(mut self, seconds: f64) -> Self {
        self.wall = Some(seconds);
        self
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
        self.write_header(f)?;
        let rows = random_effect_rows(&self.model.variance_components(self.fit));
        write_random_effects(f, &rows)?;
        self.write_data(f)?;
        self.write_fixed_effects(f)?;
        self.write_outcome(f)
    }
}

impl Summary<'_> {
    /// The method, formula, residual and criterion.
    fn write_header(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
        if fit.loglik.is_nan() {
            writeln!(f, "log-likelihood: not computed ({})", fit.backend)?;
        } else if ml {
            writeln!(f, "deviance (−2 log-likelihood): {:.4}", -2.0 * fit.loglik)?;
        } else {
            writeln!(f, "REML criterion at convergence: {:.4}", -2.0 * fit.loglik)?;
        }
        writeln!(f)?;

        Ok(())
    }

    /// Observations and levels per term, the terms' structures, weights and
    /// dropped rows.
    fn write_data(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (m, fit) = (self.model, self.fit);
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
        for t in m.terms() {
            let keyed = t.structure != super::TermStructure::Us && t.coefficients.len() > 1;
            if keyed || t.relationship.is_some() {
                let mut what = Vec::new();
                if keyed {
                    what.push(match t.structure {
                        super::TermStructure::Fa(k) => {
                            format!("fa({k}) covariance of the coefficients")
                        }
                        s => format!("{} covariance of the coefficients", s.keyword()),
                    });
                }
                if let Some(r) = &t.relationship {
                    what.push(format!("levels related by the {r}"));
                }
                writeln!(f, "Term {}: {}", t.name, what.join("; "))?;
            }
        }
        if let Some(w) = m.weights() {
            writeln!(f, "Prior weights: {w} (residual variance sigma^2 / {w})")?;
        }
        if m.n_dropped() > 0 {
            writeln!(
                f,
                "{} rows dropped for missing values (file lines {})",
                m.n_dropped(),
                abbreviated(m.dropped_lines(), 10)
            )?;
        }
        writeln!(f)?;
        Ok(())
    }

    /// The fixed effects with standard errors and t values.
    fn write_fixed_effects(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fit = self.fit;
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
        Ok(())
    }

    /// Likelihood, AIC/BIC, how the fit ended and its time, the warnings.
    fn write_outcome(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (m, fit) = (self.model, self.fit);
        writeln!(
            f,
            "{} log-likelihood {:.4}, AIC {:.4}, BIC {:.4}",
            fit.method, fit.loglik, fit.aic, fit.bic
        )?;
        let build = m.build_seconds();
        writeln!(
            f,
            "Fit: {} after {} iterations; {:.3} s in all ({:.3} s building the model, {:.3} s iterating)",
            fit.termination,
            fit.iterations,
            self.wall.unwrap_or(build + fit.seconds),
            build,
            fit.seconds
        )?;
        if fit.singular && !matches!(fit.termination, crate::reml::Termination::Singular { .. }) {
            writeln!(f, "boundary (singular) fit: see lme4's ?isSingular")?;
        }
        if !fit.termination.is_converged() {
            writeln!(
                f,
                "Warning: the fit did not converge ({}); the estimates are the last iterate, not an optimum",
                fit.termination
            )?;
        }
        if let Some(mc) = &fit.mc_standard_errors {
            writeln!(f, "Monte Carlo standard errors (random-probe traces):")?;
            for ((name, v), se) in fit.names.iter().zip(mc).zip(&fit.natural_se) {
                writeln!(
                    f,
                    "  {name}: {} ({:.3} of its standard error)",
                    sig(*v),
                    v / se
                )?;
            }
        }
        for w in &fit.warnings {
            writeln!(f, "Warning: {w}")?;
        }
        Ok(())
    }
}

/// The rows of the random-effects table (Groups, Name, Variance, Std.Dev.,
/// Std.Err., Corr), one term's block after another.
fn random_effect_rows(vcs: &[super::VarianceComponent]) -> Vec<[String; 6]> {
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
        let vars: Vec<&super::VarianceComponent> = block
            .iter()
            .filter(|w| w.kind == ComponentKind::Var)
            .collect();
        for w in &vars {
            let sd = w.value.max(0.0).sqrt();
            let corr: Vec<String> = block
                .iter()
                .filter(|c| c.var1 == w.var1 && c.kind == ComponentKind::Cov)
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
            let name = match (&w.var1, &w.var2) {
                (Some(a), Some(b)) => format!("{a} {b}"),
                (a, _) => a.clone().unwrap_or_default(),
            };
            rows.push([
                group,
                name,
                sig(w.value),
                sig(sd),
                sig(w.se),
                corr.join(" "),
            ]);
        }
        // Correlation parameters (ar1's rho, car1's phi) under the
        // variance, their value in the Corr column.
        for c in block.iter().filter(|w| w.kind == ComponentKind::Corr) {
            rows.push([
                String::new(),
                c.var1.clone().unwrap_or_default(),
                String::new(),
                String::new(),
                sig(c.se),
                format!("{:.3}", c.value),
            ]);
        }
        // Other correlation parameters (a spatial range and nugget):
        // their value in the Variance column.
        for c in block.iter().filter(|w| w.kind == ComponentKind::Param) {
            let name = match (&c.var1, &c.var2) {
                (Some(a), Some(b)) => format!("{a} {b}"),
                (a, _) => a.clone().unwrap_or_default(),
            };
            rows.push([
                String::new(),
                name,
                sig(c.value),
                String::new(),
                sig(c.se),
                String::new(),
            ]);
        }
        i = j;
    }
    rows
}

/// The random-effects table, columns aligned.
fn write_random_effects(f: &mut fmt::Formatter<'_>, rows: &[[String; 6]]) -> fmt::Result {
    let head = ["Groups", "Name", "Variance", "Std.Dev.", "Std.Err.", "Corr"];
    let mut width = head.map(str::len);
    for r in rows {
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
    for r in rows {
        line(f, r)?;
    }
    Ok(())
}

/// The first `k` numbers of `lines`, then `… (N more)`.
fn abbreviated(lines: &[usize], k: usize) -> String {
    let mut s = lines
        .iter()
        .take(k)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if lines.len() > k {
        s.push_str(&format!(", … ({} more)", lines.len() - k));
    }
    s
}
