//! `covreml fit DATA.csv --formula "cbind(y1, y2) ~ …"` through
//! `covreml::cli::run`, against the independent dense REML of
//! `tests/independent/multi_trait_reml.py` (`tests/data/multi_trait/`):
//! G0, R0, β and ℓ to 1e-6, the JSON's matrices named by trait, the counts
//! of dropped rows, and the errors.

use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/multi_trait/");

fn reference(case: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DIR}reference.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()[case].clone()
}

fn run(args: &[&str]) -> covreml::cli::Outcome {
    let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    covreml::cli::run(&argv)
}

fn fit_json(file: &str, formula: &str, extra: &[&str]) -> Value {
    let data = format!("{DIR}{file}");
    let mut args = vec![
        "fit",
        &data,
        "--formula",
        formula,
        "--json",
        "--tolerance",
        "1e-9",
    ];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert_eq!(out.status, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

/// G0 of the first term, R0, β and ℓ against the reference, by trait name.
fn check(j: &Value, r: &Value, traits: &[&str]) {
    let close = |a: &Value, b: &Value, what: &str| {
        let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
        assert!((a - b).abs() < 1e-6, "{what}: {a} vs {b}");
    };
    assert_eq!(j["converged"], true);
    close(&j["loglik"], &r["loglik"], "loglik");
    for (k, b) in r["beta"].as_array().unwrap().iter().enumerate() {
        close(&j["fixed_effects"][k]["estimate"], b, "beta");
    }
    for (ai, a) in traits.iter().enumerate() {
        for (bi, b) in traits.iter().enumerate() {
            close(&j["random"][0]["covariance"][a][b], &r["G0"][ai][bi], "G0");
            close(
                &j["residual_covariance"]["covariance"][a][b],
                &r["R0"][ai][bi],
                "R0",
            );
        }
    }
    assert_eq!(j["dropped_no_trait"], r["dropped_records"]);
    assert_eq!(j["n_observations"], r["n_obs"]);
}

#[test]
fn bivariate_from_the_command_line() {
    let r = reference("bivariate");
    let j = fit_json("bivariate.csv", r["formula"].as_str().unwrap(), &[]);
    check(&j, &r, &["y1", "y2"]);
    assert_eq!(j["traits"], serde_json::json!(["y1", "y2"]));
    assert_eq!(j["residual"], "us(trait)");
    assert_eq!(j["random"][0]["over"], "I");
    assert_eq!(j["fixed_effects"][2]["name"], "traity1:x");
    // the correlation is G0's, named by trait, symmetric
    let g = &j["random"][0]["covariance"];
    let rg = j["random"][0]["correlation"]["y1"]["y2"].as_f64().unwrap();
    let want = g["y1"]["y2"].as_f64().unwrap()
        / (g["y1"]["y1"].as_f64().unwrap() * g["y2"]["y2"].as_f64().unwrap()).sqrt();
    assert!((rg - want).abs() < 1e-12);
    assert_eq!(
        j["random"][0]["correlation"]["y2"]["y1"],
        j["random"][0]["correlation"]["y1"]["y2"]
    );
    assert!(
        j["random"][0]["correlation_se"]["y1"]["y2"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    // the text report
    let data = format!("{DIR}bivariate.csv");
    let out = run(&["fit", &data, "--formula", r["formula"].as_str().unwrap()]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("3 rows with no trait"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Random term g (G0: us(trait) ⊗ I)"),
        "{}",
        out.stdout
    );
}

#[test]
fn common_slope_diagonal_residual_and_trivariate_from_the_command_line() {
    let r = reference("common_slope");
    let j = fit_json("bivariate.csv", r["formula"].as_str().unwrap(), &[]);
    check(&j, &r, &["y1", "y2"]);
    assert_eq!(j["fixed_effects"][2]["name"], "x");
    let r = reference("diag_residual");
    let j = fit_json(
        "bivariate.csv",
        r["formula"].as_str().unwrap(),
        &["--residual", "diag(trait)"],
    );
    check(&j, &r, &["y1", "y2"]);
    let r = reference("trivariate");
    let j = fit_json("trivariate.csv", r["formula"].as_str().unwrap(), &[]);
    check(&j, &r, &["y1", "y2", "y3"]);
}

#[test]
fn genetic_correlation_at_one_from_the_command_line() {
    let r = reference("boundary");
    let j = fit_json("boundary.csv", r["formula"].as_str().unwrap(), &[]);
    check(&j, &r, &["y1", "y2"]);
    assert_eq!(j["singular"], true);
    let rg = j["random"][0]["correlation"]["y1"]["y2"].as_f64().unwrap();
    assert!((rg - 1.0).abs() < 1e-6, "{rg}");
}

#[test]
fn diagonal_and_factor_analytic_terms_fit() {
    let data = format!("{DIR}trivariate.csv");
    let f = "cbind(y1, y2, y3) ~ trait + fa(0 + trait | g, 1)";
    let out = run(&["fit", &data, "--formula", f, "--json"]);
    assert!(out.status == 0, "{f}: {}", out.stderr);
    let j: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(j["random"][0]["structure"], "fa");
    let out = run(&[
        "fit",
        &data,
        "--formula",
        "cbind(y1, y2, y3) ~ trait + diag(0 + trait | g)",
        "--json",
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let j: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(j["random"][0]["structure"], "diag");
    assert_eq!(j["random"][0]["covariance"]["y1"]["y2"], 0.0);
}

#[test]
fn blups_by_level_and_trait_from_the_command_line() {
    let data = format!("{DIR}bivariate.csv");
    let path = std::env::temp_dir().join(format!("covreml_mt_blups_{}.csv", std::process::id()));
    let p = path.to_str().unwrap();
    let out = run(&[
        "fit",
        &data,
        "--formula",
        "cbind(y1, y2) ~ trait + (0 + trait | g)",
        "--blups",
        p,
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).ok();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "term,level,trait,blup,se");
    assert_eq!(lines.len(), 1 + 30 * 2);
    assert!(lines[1].starts_with("g,G01,y1,") && lines[2].starts_with("g,G01,y2,"));
}

#[test]
fn multi_trait_formula_errors_name_the_place() {
    let data = format!("{DIR}bivariate.csv");
    for (f, residual, says) in [
        (
            "cbind(y1, y2) ~ trait + (1 + trait | g)",
            "iid",
            "(0 + trait | g)",
        ),
        (
            "cbind(y1, y2) ~ trait:x + (0 + trait | g)",
            "iid",
            "needs `trait`",
        ),
        (
            "cbind(y1, y2) ~ 1 + (0 + trait | g)",
            "iid",
            "common intercept",
        ),
        (
            "cbind(y1) ~ trait + (0 + trait | g)",
            "iid",
            "at least two responses",
        ),
        (
            "cbind(y1, y1) ~ trait + (0 + trait | g)",
            "iid",
            "given twice",
        ),
        (
            "cbind(y1, y9) ~ trait + (0 + trait | g)",
            "iid",
            "no column `y9`",
        ),
        (
            "cbind(y1, y2) ~ trait + trait:log(x) + (0 + trait | g)",
            "iid",
            "not supported",
        ),
        (
            "cbind(y1, y2) ~ trait + fa(0 + trait | g, 7)",
            "iid",
            "1, 2 or 3",
        ),
        (
            "cbind(y1, y2) ~ trait + (0 + trait | g)",
            "ar1(x | g)",
            "us(trait)",
        ),
    ] {
        let out = run(&["fit", &data, "--formula", f, "--residual", residual]);
        assert_eq!(out.status, 2, "{f}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{f}: {}", out.stderr);
    }
}

#[test]
fn lrt_and_predict_refuse_multi_trait_formulas() {
    let data = format!("{DIR}bivariate.csv");
    let f = "cbind(y1, y2) ~ trait + (0 + trait | g)";
    let out = run(&["lrt", &data, "--formula", f, "--formula", f]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("work with `covreml fit` only"),
        "{}",
        out.stderr
    );
    let out = run(&["predict", &data, "--formula", f, "--newdata", &data]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("work with `covreml fit` only"),
        "{}",
        out.stderr
    );
}

#[test]
fn animal_model_with_pedigree_from_the_command_line() {
    let r = reference("pedigree");
    let ped = format!("animal={DIR}pedigree.csv");
    let j = fit_json(
        "animal.csv",
        r["formula"].as_str().unwrap(),
        &["--pedigree", &ped],
    );
    check(&j, &r, &["y1", "y2"]);
    assert_eq!(j["random"][0]["over"], "A");
    assert_eq!(j["random"][0]["structure"], "us");
    assert_eq!(j["random"][0]["relationship"]["kind"], "pedigree");
    assert_eq!(
        j["random"][0]["relationship"]["file"],
        format!("{DIR}pedigree.csv").as_str()
    );
    let rg = j["random"][0]["correlation"]["y1"]["y2"].as_f64().unwrap();
    assert!((rg - r["r_g"].as_f64().unwrap()).abs() < 1e-6);
    for (k, want) in r["h2"].as_array().unwrap().iter().enumerate() {
        let h = &j["heritability"][k];
        assert_eq!(h["term"], "animal");
        assert!((h["value"].as_f64().unwrap() - want.as_f64().unwrap()).abs() < 1e-6);
        assert!(h["standard_error"].as_f64().unwrap() > 0.0);
    }
    // --grm and --weights are refused for multi-trait models
    let data = format!("{DIR}animal.csv");
    let grm = format!("animal={DIR}pedigree.csv");
    let out = run(&[
        "fit",
        &data,
        "--formula",
        r["formula"].as_str().unwrap(),
        "--grm",
        &grm,
    ]);
    assert_eq!(out.status, 2, "{}", out.stderr);
}
