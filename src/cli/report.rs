//! The command's reports: the JSON of a fit and of a likelihood-ratio
//! test, and the text of a test (a fit's text is [`Summary`](crate::formula::Summary)).

use crate::formula::{Anova, FormulaModel, RandomTermInfo, RelationshipKind, TermStructure};
use crate::inference::{CiMethod, FixedTests, Interval};
use crate::reml::{Method, RemlFit};
use serde_json::{json, Value};

/// The JSON of `fit`, a fit of `model` to the file `data`; `wall` is the
/// wall-clock seconds of building and fitting.
pub(crate) fn fit_json(model: &FormulaModel, fit: &RemlFit, data: &str, wall: f64) -> Value {
    let ml = fit.method == Method::Ml;
    let groups: serde_json::Map<String, Value> = model
        .terms()
        .iter()
        .map(|t| (t.name.clone(), json!(t.levels.len())))
        .collect();
    let vcs: Vec<Value> = model
        .variance_components(fit)
        .iter()
        .map(|v| {
            json!({
                "group": v.group, "var1": v.var1, "var2": v.var2, "kind": v.kind.name(),
                "value": v.value, "standard_error": v.se, "parameter": v.param,
            })
        })
        .collect();
    let terms: Vec<Value> = model.terms().iter().map(term_json).collect();
    json!({
        "model": model.formula(),
        "data": data,
        "formula": model.formula(),
        "residual": model.residual().to_string(),
        "method": fit.method.to_string(),
        "n": fit.n,
        "n_dropped": model.n_dropped(),
        "dropped_lines": model.dropped_lines(),
        "groups": groups,
        "random_terms": terms,
        "weights": model.weights(),
        "parameters": fit.names,
        "natural": fit.natural,
        "standard_errors": fit.natural_se,
        "mc_standard_errors": fit.mc_standard_errors,
        "variance_components": vcs,
        "beta_names": fit.beta_names,
        "beta": fit.beta,
        "beta_standard_errors": fit.beta_se,
        "loglik": fit.loglik,
        "loglik_without_2pi_constant": fit.loglik_no_constant,
        "loglik_reml_full": if ml { None } else { Some(fit.loglik) },
        "loglik_reml_without_2pi_constant": if ml { None } else { Some(fit.loglik_no_constant) },
        "reml_criterion": if ml { None } else { Some(-2.0 * fit.loglik) },
        "deviance": if ml { Some(-2.0 * fit.loglik) } else { None },
        "backend": fit.backend,
        "aic": fit.aic,
        "bic": fit.bic,
        "iterations": fit.iterations,
        "termination": fit.termination.to_string(),
        "singular": fit.singular,
        "warnings": fit.warnings,
        "converged": fit.termination.is_converged(),
        "fit_seconds": wall,
        "build_seconds": model.build_seconds(),
        "iteration_seconds": fit.seconds,
        "seconds_per_iteration": fit.seconds_per_iteration(),
    })
}

/// The JSON of one random term: name, grouping, structure, coefficients,
/// number of levels and relationship matrix.
fn term_json(t: &RandomTermInfo) -> Value {
    let relationship = t.relationship_source.as_ref().map(|(kind, file)| {
        json!({
            "kind": match kind {
                RelationshipKind::Pedigree => "pedigree",
                RelationshipKind::Matrix => "grm",
            },
            "file": file,
            "description": t.relationship,
        })
    });
    json!({
        "name": t.name,
        "group": t.group,
        "structure": t.structure.keyword(),
        "fa_order": match t.structure {
            TermStructure::Fa(k) => Some(k),
            _ => None,
        },
        "coefficients": t.coefficients,
        "n_levels": t.levels.len(),
        "relationship": relationship,
    })
}

/// The JSON of a test; `models` and `formulas` in the order of the test.
pub(crate) fn lrt_json(
    test: &Anova,
    models: [&FormulaModel; 2],
    formulas: [&String; 2],
    data: &str,
    wall: f64,
) -> Value {
    let lrt = &test.lrt;
    json!({
        "models": formulas,
        "method": test.method.to_string(),
        "refitted_ml": test.refitted_ml,
        "loglik": lrt.loglik,
        "n_params": lrt.n_params,
        "statistic": lrt.statistic,
        "df": lrt.df,
        "p_value": lrt.p_value,
        "fit_seconds": wall,
        "fits": [
            fit_json(models[0], &test.fits[0], data, models[0].build_seconds() + test.fits[0].seconds),
            fit_json(models[1], &test.fits[1], data, models[1].build_seconds() + test.fits[1].seconds),
        ],
    })
}

/// The text of a test; `formulas` in the order of the test.
pub(crate) fn lrt_text(test: &Anova, formulas: [&String; 2]) -> String {
    let lrt = &test.lrt;
    let mut s = format!(
        "Likelihood-ratio test ({} fits{})\n",
        test.method,
        if test.refitted_ml {
            "; the fixed effects differ, so both models were refitted by ML"
        } else if test.method == Method::Reml {
            ", same fixed effects"
        } else {
            ""
        }
    );
    for (i, (f, fit)) in formulas.iter().zip(&test.fits).enumerate() {
        s.push_str(&format!(
            "  m{i}: {f}\n      parameters {}, {} log-likelihood {:.4}, {}\n",
            lrt.n_params[i], fit.method, fit.loglik, fit.termination
        ));
    }
    s.push_str(&format!(
        "  Chisq {:.4} on {} df, p = {:.4e}\n",
        lrt.statistic, lrt.df, lrt.p_value
    ));
    s
}

/// Adds `"anova"`, `"coefficient_tests"` (and Kenward–Roger's
/// `"adjusted_beta_cov"`) and `"intervals"` to a fit's JSON.
pub(crate) fn add_inference_json(
    j: &mut Value,
    tests: Option<&FixedTests>,
    intervals: Option<&[Interval]>,
) {
    if let Some(t) = tests {
        j["ddf"] = json!(t.ddf.to_string());
        j["anova"] = Value::Array(
            t.terms
                .iter()
                .map(|r| {
                    json!({"term": r.term, "num_df": r.num_df, "den_df": r.den_df, "F": r.f, "p": r.p_value})
                })
                .collect(),
        );
        j["coefficient_tests"] = Value::Array(
            t.coefficients
                .iter()
                .map(|c| {
                    json!({"name": c.name, "estimate": c.estimate, "standard_error": c.standard_error,
                           "df": c.df, "t": c.t, "p": c.p_value})
                })
                .collect(),
        );
        if let Some(a) = &t.adjusted_beta_cov {
            let rows: Vec<Vec<f64>> = (0..a.nrows())
                .map(|i| a.row(i).iter().copied().collect())
                .collect();
            j["adjusted_beta_cov"] = json!(rows);
        }
    }
    if let Some(ci) = intervals {
        j["intervals"] = Value::Array(
            ci.iter()
                .map(|c| {
                    json!({"name": c.name, "scale": c.scale, "method": c.method,
                           "estimate": c.estimate, "lower": c.lower, "upper": c.upper})
                })
                .collect(),
        );
    }
}

/// `x` with `sig` significant digits, in fixed notation when that is at
/// most 12 characters wide (1e-4 ≤ |x| < 1e7), in exponent notation
/// otherwise.
fn sig_text(x: f64, sig: usize) -> String {
    let a = x.abs();
    if !x.is_finite() || a == 0.0 {
        return if a == 0.0 { "0".into() } else { format!("{x}") };
    }
    if (1e-4..1e7).contains(&a) {
        let magnitude = a.log10().floor() as i64;
        let decimals = (sig as i64 - 1 - magnitude).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.*e}", sig - 1)
    }
}

/// A p-value as R prints it: `< 2.2e-16` below machine precision.
fn p_text(p: f64) -> String {
    if p < 2.2e-16 {
        "< 2.2e-16".into()
    } else {
        format!("{p:.4e}")
    }
}

/// The ANOVA table and the coefficient tests, as text.
pub(crate) fn tests_text(t: &FixedTests) -> String {
    let mut s = format!(
        "\nType III tests of fixed effects ({} denominator df; each term: all its coefficients 0)\n",
        t.ddf
    );
    if t.terms.is_empty() {
        s.push_str("  (no fixed terms besides the intercept)\n");
    } else {
        let w = t
            .terms
            .iter()
            .map(|r| r.term.len())
            .max()
            .unwrap_or(4)
            .max(4);
        s.push_str(&format!(
            "  {:<w$} {:>6} {:>12} {:>12} {:>12}\n",
            "term", "NumDF", "DenDF", "F value", "Pr(>F)"
        ));
        for r in &t.terms {
            s.push_str(&format!(
                "  {:<w$} {:>6} {:>12.4} {:>12.4} {:>12}\n",
                r.term,
                r.num_df,
                r.den_df,
                r.f,
                p_text(r.p_value)
            ));
        }
    }
    let w = t
        .coefficients
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    s.push_str(&format!(
        "\nCoefficients ({} df{})\n  {:<w$} {:>12} {:>12} {:>10} {:>10} {:>12}\n",
        t.ddf,
        if t.adjusted_beta_cov.is_some() {
            "; standard errors from the adjusted covariance"
        } else {
            ""
        },
        "",
        "Estimate",
        "Std. Error",
        "df",
        "t value",
        "Pr(>|t|)"
    ));
    for c in &t.coefficients {
        s.push_str(&format!(
            "  {:<w$} {:>12} {:>12} {:>10.3} {:>10.3} {:>12}\n",
            c.name,
            sig_text(c.estimate, 6),
            sig_text(c.standard_error, 6),
            c.df,
            c.t,
            p_text(c.p_value)
        ));
    }
    s
}

/// The intervals, as text.
pub(crate) fn intervals_text(ci: &[Interval], method: Option<CiMethod>) -> String {
    let w = ci.iter().map(|c| c.name.len()).max().unwrap_or(4).max(4);
    let mut s = format!(
        "\n95% confidence intervals ({}; variances on the SD scale)\n  {:<w$} {:>11} {:>8} {:>14} {:>14} {:>14}\n",
        match method {
            Some(CiMethod::Profile) =>
                "profile ML likelihood for variances, around the ML estimate, as lme4's; Wald otherwise",
            _ => "Wald",
        },
        "",
        "scale",
        "method",
        "estimate",
        "2.5 %",
        "97.5 %"
    );
    for c in ci {
        s.push_str(&format!(
            "  {:<w$} {:>11} {:>8} {:>14} {:>14} {:>14}\n",
            c.name,
            c.scale,
            c.method,
            sig_text(c.estimate, 7),
            sig_text(c.lower, 7),
            sig_text(c.upper, 7)
        ));
    }
    s
}
