//! The `covreml` binary end to end: fit the reference CSVs, parse `--json`,
//! compare with lme4 (`tests/data/fits_lme4.json`, `tests/data/r/references.json`);
//! errors exit non-zero with a message that points at the token.

use serde_json::Value;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_covreml"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"))
        .output()
        .expect("the covreml binary runs")
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object on stdout")
}

fn reference(file: &str) -> Value {
    let p = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

#[test]
fn fit_sleepstudy_json_matches_lme4() {
    let out = run(&[
        "fit",
        "sleepstudy.csv",
        "--formula",
        "Reaction ~ Days + (Days | Subject)",
        "--tolerance",
        "1e-10",
        "--json",
    ]);
    let j = json_of(&out);
    let lme4 = reference("fits_lme4.json");
    let r = lme4["fits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "sleepstudy")
        .unwrap();
    let vcs = j["variance_components"].as_array().unwrap();
    let find = |v1: Option<&str>, v2: Option<&str>| {
        vcs.iter()
            .find(|c| c["var1"].as_str() == v1 && c["var2"].as_str() == v2)
            .unwrap()["value"]
            .as_f64()
            .unwrap()
    };
    let rvc: Vec<f64> = r["varcorr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["vcov"].as_f64().unwrap())
        .collect();
    assert!(rel(find(Some("(Intercept)"), None), rvc[0]) < 1e-6);
    assert!(rel(find(Some("Days"), None), rvc[1]) < 1e-6);
    assert!(rel(find(Some("Days"), Some("(Intercept)")), rvc[2]) < 1e-6);
    assert!(rel(find(None, None), rvc[3]) < 1e-6);
    assert_eq!(j["beta_names"], serde_json::json!(["(Intercept)", "Days"]));
    assert!(
        rel(
            j["beta"][1].as_f64().unwrap(),
            r["beta"]["Days"].as_f64().unwrap()
        ) < 1e-6
    );
    assert!(
        rel(
            j["beta_standard_errors"][1].as_f64().unwrap(),
            r["beta_se"]["Days"].as_f64().unwrap()
        ) < 1e-6
    );
    assert!(
        rel(
            j["loglik_reml_full"].as_f64().unwrap(),
            r["loglik_reml"].as_f64().unwrap()
        ) < 1e-9
    );
    assert_eq!(j["groups"]["Subject"], 18);
    assert_eq!(j["n"], 180);
    assert_eq!(j["termination"], "converged");
    // the fields every example prints
    for key in [
        "model",
        "parameters",
        "natural",
        "standard_errors",
        "beta_names",
        "beta",
        "beta_standard_errors",
        "loglik_reml_full",
        "loglik_reml_without_2pi_constant",
        "aic",
        "bic",
        "iterations",
        "termination",
        "fit_seconds",
        "seconds_per_iteration",
    ] {
        assert!(j.get(key).is_some(), "missing {key}");
    }
}

#[test]
fn fit_john_alpha_human_summary() {
    let out = run(&[
        "fit",
        "john_alpha.csv",
        "--formula",
        "yield ~ rep + (1|gen) + (1|rep:block)",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "Linear mixed model fit by REML",
        "Random effects:",
        "rep:block",
        "Number of obs: 72, groups:  gen, 24; rep:block, 18",
        "Fixed effects:",
        "repR2",
        "t value",
        "AIC",
        "converged",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in\n{text}");
    }
}

#[test]
fn lrt_matches_anova_refit_false() {
    let r = reference("r/references.json");
    let l = &r["lrt"]["sleepstudy_slope"];
    let out = run(&[
        "lrt",
        "sleepstudy.csv",
        "--formula",
        l["m0"].as_str().unwrap(),
        "--formula",
        l["m1"].as_str().unwrap(),
        "--tolerance",
        "1e-10",
        "--json",
    ]);
    let j = json_of(&out);
    assert_eq!(j["df"], l["reml"]["df"]);
    assert!(
        rel(
            j["statistic"].as_f64().unwrap(),
            l["reml"]["chisq"].as_f64().unwrap()
        ) < 1e-6
    );
    assert!(
        rel(
            j["p_value"].as_f64().unwrap(),
            l["reml"]["p_value"].as_f64().unwrap()
        ) < 1e-5
    );
}

#[test]
fn errors_are_messages_with_a_status() {
    let out = run(&[
        "fit",
        "john_alpha.csv",
        "--formula",
        "yield ~ rep + (1|blok)",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no column `blok` (did you mean `block`?)"),
        "{err}"
    );
    assert!(
        err.contains("yield ~ rep + (1|blok)\n                   ^^^^"),
        "{err}"
    );

    let out = run(&[
        "fit",
        "john_alpha.csv",
        "--formula",
        "yield ~ rep",
        "--method",
        "ml",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ML"));

    let out = run(&[
        "fit",
        "john_alpha.csv",
        "--formula",
        "yield ~ rep",
        "--backend",
        "sparse",
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A residual keyword naming a column that does not exist.
    let out = run(&[
        "fit",
        "john_alpha.csv",
        "--formula",
        "yield ~ rep + (1|gen)",
        "--residual",
        "ar1(visit | rep)",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("visit"), "{err}");

    let out = run(&["fit", "john_alpha.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage:"));

    let out = run(&["fit", "missing.csv", "--formula", "y ~ 1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.csv"));
}

#[test]
fn diag_residual_from_the_command_line() {
    let out = run(&[
        "fit",
        "john_alpha.csv",
        "--formula",
        "yield ~ rep + (1|gen) + (1|rep:block)",
        "--residual",
        "diag(rep)",
        "--json",
        "--quiet",
    ]);
    let j = json_of(&out);
    assert_eq!(j["residual"], "diag(rep)");
    let names: Vec<&str> = j["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        names[2..],
        [
            "residual/sigma^2_R1",
            "residual/sigma^2_R2",
            "residual/sigma^2_R3"
        ]
    );
}

/// nlme's corCAR1 within subject from the command line: Orthodont against
/// `tests/data/nlme/fits_nlme.json` (nlme 3.1-162, REML).
#[test]
fn car1_residual_keyword_matches_nlme() {
    let out = run(&[
        "fit",
        "nlme/Orthodont.csv",
        "--formula",
        "distance ~ age + Sex + (1|Subject)",
        "--residual",
        "car1(age | Subject)",
        "--json",
        "--tolerance",
        "1e-10",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/nlme/fits_nlme.json"
    ))
    .unwrap();
    let refs: serde_json::Value = serde_json::from_str(&text).unwrap();
    let r = &refs["fits"][0];
    assert_eq!(r["name"], "orthodont_car1");
    let ll = v["loglik"].as_f64().unwrap();
    let want = r["loglik_reml"].as_f64().unwrap();
    assert!((ll - want).abs() < 1e-6 * want.abs(), "{ll} vs nlme {want}");
    assert_eq!(v["residual"], "car1(age | Subject)");
    // The age slope (the intercept and the sex effect depend on which sex
    // is the reference level: nlme's is Male, ours the first in order).
    let names = v["beta_names"].as_array().unwrap();
    let i = names.iter().position(|n| n == "age").unwrap();
    let w = r["beta"]["age"].as_f64().unwrap();
    let b = v["beta"][i].as_f64().unwrap();
    assert!((b - w).abs() < 1e-6 * w.abs(), "age {b} vs nlme {w}");
}
