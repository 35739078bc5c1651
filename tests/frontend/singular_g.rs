//! A random-slopes fit with more rows than the dense completion takes
//! (3600) whose optimum has a singular unstructured `G` (correlation 1):
//! on the default (sparse) backend it is completed in lme4's `Λ` form and
//! reaches lme4's optimum, REML and ML, with BLUPs and their
//! prediction-error variances. References: lme4 (bobyqa, `rhoend = 1e-12`;
//! `tests/data/r/make_singular_slopes.R`) and an independent marginal-form
//! computation at lme4's estimates (`tests/independent/singular_slopes_pev.py`).

use serde_json::Value;

fn data(file: &str) -> String {
    format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"))
}

fn json(file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(data(file)).unwrap()).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// `covreml fit` of the slopes data with `extra` options, default backend.
fn run(extra: &[&str]) -> (u8, Value, String) {
    let mut argv: Vec<String> = [
        "fit",
        &data("singular_slopes/slopes.csv"),
        "--formula",
        "y ~ x + (1 + x | g)",
        "--json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    argv.extend(extra.iter().map(|s| s.to_string()));
    let out = covreml::cli::run(&argv);
    let v = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
    (out.status, v, out.stderr)
}

/// Checks a fit against lme4's: converged, singular, the log-likelihood
/// within `1e-6` and not below lme4's by more than `1e-7`, estimates close.
fn check(v: &Value, r: &Value) {
    assert_eq!(v["converged"], true, "{v}");
    assert_eq!(v["singular"], true, "{v}");
    let (ll, want) = (f(&v["loglik"]), f(&r["loglik"]));
    assert!(
        (ll - want).abs() < 1e-6 && ll >= want - 1e-7,
        "{ll} vs lme4's {want}"
    );
    let nat: Vec<f64> = v["natural"].as_array().unwrap().iter().map(f).collect();
    let want_nat = [
        f(&r["var_intercept"]),
        f(&r["cov"]),
        f(&r["var_slope"]),
        f(&r["sigma2"]),
    ];
    for (a, b) in nat.iter().zip(want_nat) {
        assert!((a - b).abs() < 1e-4 * b.abs(), "{nat:?} vs {want_nat:?}");
    }
    for (a, b) in v["beta"]
        .as_array()
        .unwrap()
        .iter()
        .zip(r["beta"].as_array().unwrap())
    {
        assert!((f(a) - f(b)).abs() < 1e-5, "β {a} vs {b}");
    }
    let backend = v["backend"].as_str().unwrap();
    assert!(
        backend.contains("sparse") && backend.contains("Λ"),
        "{backend}"
    );
}

#[test]
fn singular_slopes_on_3600_rows_reach_lme4_reml_with_blups_and_pev() {
    let r = json("singular_slopes/lme4.json");
    let ind = json("singular_slopes/independent.json");
    let blups = std::env::temp_dir().join(format!("covreml_singular_g_{}.csv", std::process::id()));
    let (status, v, err) = run(&["--blups", blups.to_str().unwrap()]);
    assert_eq!(status, 0, "{err}");
    check(&v, &r["reml"]);
    // BLUPs (lme4's ranef) and their prediction-error SDs (the marginal
    // G − GZᵀPZG, which counts the estimation of β) for three levels.
    let text = std::fs::read_to_string(&blups).unwrap();
    let _ = std::fs::remove_file(&blups);
    let row = |coef: &str, level: &str| -> (f64, f64) {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("g,{coef},{level},")))
            .unwrap_or_else(|| panic!("no BLUP {coef} {level} in\n{text}"));
        let c: Vec<&str> = line.split(',').collect();
        (c[3].parse().unwrap(), c[4].parse().unwrap())
    };
    let ri = &r["reml"];
    for l in 0..3 {
        let level = ri["ranef_levels"][l].as_str().unwrap();
        for (a, coef, key) in [
            (0, "(Intercept)", "ranef_intercept"),
            (1, "x", "ranef_slope"),
        ] {
            let (u, se) = row(coef, level);
            let want_u = f(&ri[key][l]);
            assert!((u - want_u).abs() < 1e-5, "{coef} {level}: {u} vs {want_u}");
            let want_se = f(&ind["reml"]["pev"][l][a][a]).sqrt();
            assert!(
                (se - want_se).abs() < 1e-4 * want_se,
                "{coef} {level}: se {se} vs {want_se}"
            );
        }
    }
}

#[test]
fn singular_slopes_on_3600_rows_reach_lme4_ml() {
    let r = json("singular_slopes/lme4.json");
    let (status, v, err) = run(&["--method", "ml"]);
    assert_eq!(status, 0, "{err}");
    check(&v, &r["ml"]);
}
