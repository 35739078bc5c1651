//! Shared by the examples: arguments and the report (readable or one JSON
//! object).

use covreml::reml::RemlFit;
use serde_json::{json, Map, Value};

/// `(optional CSV path, --json, --trace)` from the command line.
pub fn args() -> (Option<String>, bool, bool) {
    let mut path = None;
    let mut as_json = false;
    let mut trace = false;
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--json" => as_json = true,
            "--trace" => trace = true,
            _ => path = Some(a),
        }
    }
    (path, as_json, trace)
}

/// Prints the fit as one JSON object (with `extra` fields) or as a report.
pub fn report(title: &str, fit: &RemlFit, extra: Map<String, Value>, as_json: bool) {
    if as_json {
        let mut o = json!({
            "model": title,
            "parameters": fit.names,
            "natural": fit.natural,
            "standard_errors": fit.natural_se,
            "beta_names": fit.beta_names,
            "beta": fit.beta,
            "beta_standard_errors": fit.beta_se,
            "loglik_reml_full": fit.loglik,
            "loglik_reml_without_2pi_constant": fit.loglik_no_constant,
            "aic": fit.aic,
            "bic": fit.bic,
            "iterations": fit.iterations,
            "termination": fit.termination.to_string(),
            "fit_seconds": fit.seconds,
            "seconds_per_iteration": fit.seconds_per_iteration(),
        });
        if let Value::Object(m) = &mut o {
            m.extend(extra);
        }
        println!("{o}");
    } else {
        println!("{title}\n");
        println!("{fit}");
        for (k, v) in extra {
            println!("{k}: {v}");
        }
        println!(
            "\n{:.3} ms in total, {:.3} ms per iteration",
            fit.seconds * 1e3,
            fit.seconds_per_iteration() * 1e3
        );
    }
}

/// Exits with the error's message.
pub fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("error: {e}");
    std::process::exit(1)
}
