//! `covreml`: fit linear mixed models from a CSV file and an lme4-style
//! formula.
//!
//! ```text
//! covreml fit DATA.csv --formula "y ~ 1 + x1 + (1|f1) + (1|f2)" [--residual "diag(f)"]
//!         [--method reml|ml] [--backend auto|dense|sparse] [--tolerance T]
//!         [--max-iter N] [--json] [--quiet]
//! covreml lrt DATA.csv --formula "M0" --formula "M1" [--json] [--quiet]
//! ```
//!
//! Exit status: 0 on success, 1 when the model or the fit fails, 2 for a
//! usage error.

use covreml::data::Table;
use covreml::formula::{parse, FormulaError, FormulaModel, Residual, Summary};
use covreml::inference::likelihood_ratio;
use covreml::reml::{Aliased, RemlFit, RemlOptions};
use serde_json::{json, Value};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "\
usage:
  covreml fit DATA.csv --formula \"y ~ x + (1|g)\" [--residual KEYWORD]
          [--method reml|ml] [--backend auto|dense|sparse] [--tolerance T]
          [--max-iter N] [--drop-aliased] [--json] [--quiet]
  covreml lrt DATA.csv --formula \"M0\" --formula \"M1\" [options as for fit]
  covreml help

The formula grammar (lme4's): y ~ 1 + x + f + f:g + a*b, 0 + / - 1, factor(x),
random terms (1|g), (1|g1:g2), (1|g1/g2), (1 + x|g), (1 + x||g), (0 + x|g).
Residual: iid (default); diag(f), a variance per level of f; ar1(t | g) and
car1(t | g), autocorrelation in time t within g; cs(g), compound symmetry
within g; us(t | g), unstructured within g.
--drop-aliased drops fixed-effect columns that are linear combinations of the
columns before them (as lme4 does) instead of refusing the model.";

/// A failure and its exit status.
struct Failure {
    message: String,
    status: u8,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        message: format!("{}\n\n{USAGE}", message.into()),
        status: 2,
    }
}

fn failed(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        status: 1,
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Method {
    Reml,
    Ml,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Backend {
    Auto,
    Dense,
    Sparse,
}

struct Args {
    command: String,
    data: String,
    formulas: Vec<String>,
    residual: String,
    method: Method,
    backend: Backend,
    tolerance: Option<f64>,
    max_iter: Option<usize>,
    json: bool,
    quiet: bool,
    drop_aliased: bool,
}

fn parse_args(argv: &[String]) -> Result<Args, Failure> {
    let mut it = argv.iter();
    let command = it.next().ok_or_else(|| usage("no command given"))?.clone();
    if matches!(command.as_str(), "help" | "--help" | "-h") {
        return Ok(Args {
            command: "help".into(),
            data: String::new(),
            formulas: Vec::new(),
            residual: String::new(),
            method: Method::Reml,
            backend: Backend::Auto,
            tolerance: None,
            max_iter: None,
            json: false,
            quiet: false,
            drop_aliased: false,
        });
    }
    if !matches!(command.as_str(), "fit" | "lrt") {
        return Err(usage(format!("unknown command `{command}`")));
    }
    let mut a = Args {
        command,
        data: String::new(),
        formulas: Vec::new(),
        residual: "iid".into(),
        method: Method::Reml,
        backend: Backend::Auto,
        tolerance: None,
        max_iter: None,
        json: false,
        quiet: false,
        drop_aliased: false,
    };
    let mut data = None;
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| usage(format!("{name} needs a value")))
        };
        match arg.as_str() {
            "--formula" | "-f" => a.formulas.push(value("--formula")?),
            "--residual" => a.residual = value("--residual")?,
            "--drop-aliased" => a.drop_aliased = true,
            "--method" => {
                a.method = match value("--method")?.as_str() {
                    "reml" | "REML" => Method::Reml,
                    "ml" | "ML" => Method::Ml,
                    other => return Err(usage(format!("--method is reml or ml, not `{other}`"))),
                }
            }
            "--backend" => {
                a.backend = match value("--backend")?.as_str() {
                    "auto" => Backend::Auto,
                    "dense" => Backend::Dense,
                    "sparse" => Backend::Sparse,
                    other => {
                        return Err(usage(format!(
                            "--backend is auto, dense or sparse, not `{other}`"
                        )))
                    }
                }
            }
            "--tolerance" => {
                let v = value("--tolerance")?;
                a.tolerance = Some(
                    v.parse::<f64>()
                        .ok()
                        .filter(|t| t.is_finite() && *t > 0.0)
                        .ok_or_else(|| {
                            usage(format!("--tolerance needs a positive number, not `{v}`"))
                        })?,
                );
            }
            "--max-iter" => {
                let v = value("--max-iter")?;
                a.max_iter = Some(v.parse::<usize>().ok().filter(|&n| n > 0).ok_or_else(|| {
                    usage(format!("--max-iter needs a positive integer, not `{v}`"))
                })?);
            }
            "--json" => a.json = true,
            "--quiet" | "-q" => a.quiet = true,
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(usage(format!("unknown option `{s}`")))
            }
            s => {
                if data.replace(s.to_string()).is_some() {
                    return Err(usage(format!("more than one data file given (`{s}`)")));
                }
            }
        }
    }
    a.data = data.ok_or_else(|| usage("no data file given"))?;
    let want = if a.command == "lrt" { 2 } else { 1 };
    if a.formulas.len() != want {
        return Err(usage(format!(
            "`{}` needs {want} --formula, got {}",
            a.command,
            a.formulas.len()
        )));
    }
    Ok(a)
}

/// The fit options for the chosen method and backend.
fn options(a: &Args) -> Result<RemlOptions, Failure> {
    let mut opts = RemlOptions::default();
    if let Some(t) = a.tolerance {
        opts = opts.tolerance(t);
    }
    if let Some(n) = a.max_iter {
        opts = opts.max_iter(n);
    }
    opts = opts.method(match a.method {
        Method::Ml => covreml::reml::Method::Ml,
        Method::Reml => covreml::reml::Method::Reml,
    });
    opts = opts.backend(match a.backend {
        Backend::Auto => covreml::reml::Backend::Auto,
        Backend::Dense => covreml::reml::Backend::Dense,
        Backend::Sparse => covreml::reml::Backend::Sparse,
    });
    Ok(opts)
}

fn formula_failure(formula: &str, residual: &str, e: FormulaError) -> Failure {
    let mut message = e.to_string();
    if let Some(span) = e.span() {
        // The span is in the formula, or in the residual keyword for
        // residual errors.
        let in_residual = match &e {
            FormulaError::UnknownColumn { name, at, .. } => {
                formula.get(at.start..at.end) != Some(name.as_str())
            }
            _ => covreml::formula::Residual::parse(residual).is_err(),
        };
        let text = if in_residual { residual } else { formula };
        message.push_str(&format!(
            "\n  {}",
            span.underline(text).replace('\n', "\n  ")
        ));
    }
    failed(message)
}

/// Fits with a progress line on standard error for fits longer than a
/// second (unless `quiet`, or standard error is not a terminal).
fn fit(model: &FormulaModel, opts: &RemlOptions, quiet: bool) -> Result<RemlFit, Failure> {
    let start = Instant::now();
    let show = !quiet && std::io::stderr().is_terminal();
    let mut shown = false;
    let result = model.fit_with(opts, |it| {
        if show && start.elapsed().as_secs_f64() > 1.0 {
            shown = true;
            eprint!(
                "\r  iteration {:>3}  REML log-likelihood {:>16.6}  step {:.2e}   ",
                it.iter, it.loglik, it.step_norm
            );
        }
    });
    if shown {
        eprintln!();
    }
    result.map_err(|e| failed(format!("the fit failed: {e}")))
}

fn fit_json(model: &FormulaModel, fit: &RemlFit, data: &str) -> Value {
    let ml = fit.method == covreml::reml::Method::Ml;
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
                "group": v.group, "var1": v.var1, "var2": v.var2,
                "value": v.value, "standard_error": v.se, "parameter": v.param,
            })
        })
        .collect();
    json!({
        "model": model.formula(),
        "data": data,
        "formula": model.formula(),
        "residual": model.residual().to_string(),
        "method": method_name(fit),
        "n": fit.n,
        "groups": groups,
        "parameters": fit.names,
        "natural": fit.natural,
        "standard_errors": fit.natural_se,
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
        "fit_seconds": fit.seconds,
        "seconds_per_iteration": fit.seconds_per_iteration(),
    })
}

fn run(argv: &[String]) -> Result<(), Failure> {
    let a = parse_args(argv)?;
    if a.command == "help" {
        println!("{USAGE}");
        return Ok(());
    }
    let opts = options(&a)?;
    let table = Table::read(&a.data).map_err(|e| failed(e.to_string()))?;
    let mut models = Vec::new();
    for f in &a.formulas {
        let aliased = if a.drop_aliased {
            Aliased::Drop
        } else {
            Aliased::Error
        };
        let m = parse(f)
            .and_then(|parsed| {
                let residual = Residual::parse(&a.residual)?;
                FormulaModel::build_with(&parsed, &residual, &table, aliased)
            })
            .map_err(|e| formula_failure(f, &a.residual, e))?;
        models.push(m);
    }
    let mut fits = Vec::new();
    for m in &models {
        fits.push(fit(m, &opts, a.quiet)?);
    }
    if a.command == "fit" {
        if a.json {
            println!("{}", fit_json(&models[0], &fits[0], &a.data));
        } else {
            print!("{}", Summary::new(&models[0], &fits[0]));
        }
        return Ok(());
    }
    let lrt = likelihood_ratio(&fits[0], &fits[1]).map_err(|e| failed(e.to_string()))?;
    if a.json {
        println!(
            "{}",
            json!({
                "models": a.formulas,
                "method": method_name(&fits[0]),
                "loglik": lrt.loglik,
                "n_params": lrt.n_params,
                "statistic": lrt.statistic,
                "df": lrt.df,
                "p_value": lrt.p_value,
                "fits": [fit_json(&models[0], &fits[0], &a.data), fit_json(&models[1], &fits[1], &a.data)],
            })
        );
    } else {
        println!("Likelihood-ratio test (REML fits, same fixed effects)");
        for (i, (f, fit)) in a.formulas.iter().zip(&fits).enumerate() {
            println!(
                "  m{i}: {f}\n      parameters {}, REML log-likelihood {:.4}, {}",
                lrt.n_params[i], fit.loglik, fit.termination
            );
        }
        println!(
            "  Chisq {:.4} on {} df, p = {:.4e}",
            lrt.statistic, lrt.df, lrt.p_value
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match run(&argv) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.status)
        }
    }
}

/// `"REML"` or `"ML"`, as the fit was made.
fn method_name(fit: &covreml::reml::RemlFit) -> &'static str {
    match fit.method {
        covreml::reml::Method::Ml => "ML",
        _ => "REML",
    }
}
