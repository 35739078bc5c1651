//! Issue 20: the front door on real, messy data, through `covreml::cli::run`
//! (what the `covreml` command runs) and the formula layer, against lme4
//! (`tests/data/frontend.json`, made by `tests/data/r/make_frontend.R`).

use covreml::cli::run;
use covreml::data::Table;
use covreml::formula::{anova, FormulaModel};
use covreml::reml::{Method, RemlOptions};
use serde_json::Value;

fn data(file: &str) -> String {
    format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"))
}

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(data("frontend.json")).unwrap()).unwrap()
}

fn cli(args: &[&str]) -> covreml::cli::Outcome {
    let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    run(&argv)
}

fn json(args: &[&str]) -> Value {
    let out = cli(args);
    assert_eq!(out.status, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).expect("one JSON object")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

#[test]
fn missing_values_are_dropped_as_lme4_drops_them() {
    let r = &reference()["sleepstudy_na"];
    let ss = data("sleepstudy_na.csv");
    let j = json(&[
        "fit",
        &ss,
        "--formula",
        "Reaction ~ Days + (Days | Subject)",
        "--tolerance",
        "1e-10",
        "--json",
    ]);
    assert_eq!(j["n"], r["n"]);
    assert_eq!(j["n_dropped"], r["n_dropped"]);
    assert_eq!(j["groups"]["Subject"], r["n_groups_used"]);
    // lines 6, 18, 41, 61, 89, 122, 151: rows 5, 17, 40, 60, 88, 121, 150
    assert_eq!(
        j["dropped_lines"],
        serde_json::json!([6, 18, 41, 61, 89, 122, 151])
    );
    assert!(rel(j["loglik"].as_f64().unwrap(), r["loglik"].as_f64().unwrap()) < 1e-8);
    for (a, b) in floats(&j["beta"]).iter().zip(floats(&r["beta"])) {
        assert!(rel(*a, b) < 1e-6, "{a} vs {b}");
    }
    let vc: Vec<f64> = j["variance_components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_f64().unwrap())
        .collect();
    // lme4's as.data.frame(VarCorr): var(Intercept), var(Days), cov, residual;
    // ours: var(Intercept), cov, var(Days), residual
    let lme4 = floats(&r["vcov"]);
    for (a, b) in vc.iter().zip([lme4[0], lme4[2], lme4[1], lme4[3]]) {
        assert!(rel(*a, b) < 1e-4, "{a} vs {b}");
    }
    // the summary says so, and --na fail refuses naming the first missing cell
    let out = cli(&[
        "fit",
        &ss,
        "--formula",
        "Reaction ~ Days + (Days | Subject)",
    ]);
    assert!(
        out.stdout
            .contains("7 rows dropped for missing values (file lines 6, 18, 41"),
        "{}",
        out.stdout
    );
    let out = cli(&[
        "fit",
        &ss,
        "--formula",
        "Reaction ~ Days + (Days | Subject)",
        "--na",
        "fail",
    ]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr
            .contains("column `Reaction`, line 6: missing value (`NA`)"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_value_never_makes_a_column_categorical() {
    // one NA in a numeric column with few values, one in the grouping column
    let t = Table::parse(
        "y,dose,g\n1.1,1,a\n2.3,2,a\n2.9,NA,b\n4.2,1,b\n5.3,2,c\n6.1,1,c\n4.4,2,NA\n3.3,1,d\n2.2,2,d\n",
    )
    .unwrap();
    let m = FormulaModel::new("y ~ dose + (1|g)", &t).unwrap();
    assert_eq!(m.fixed_names(), ["(Intercept)", "dose"]);
    assert_eq!((m.n(), m.n_dropped()), (7, 2));
    assert_eq!(m.terms()[0].levels, ["a", "b", "c", "d"]);
}

#[test]
fn the_likelihood_ratio_test_follows_anova() {
    let r = reference();
    let ss = data("sleepstudy.csv");
    // different fixed effects: both refitted by ML, as anova(m0, m1)
    let a = &r["anova_ml"];
    let j = json(&[
        "lrt",
        &ss,
        "--formula",
        a["m0"].as_str().unwrap(),
        "--formula",
        a["m1"].as_str().unwrap(),
        "--tolerance",
        "1e-10",
        "--json",
    ]);
    assert_eq!(j["method"], "ML");
    assert_eq!(j["refitted_ml"], true);
    assert_eq!(j["df"], a["df"]);
    let chisq = j["statistic"].as_f64().unwrap();
    assert!(
        (chisq - a["chisq"].as_f64().unwrap()).abs() < 1e-4,
        "{chisq}"
    );
    assert!(rel(j["p_value"].as_f64().unwrap(), a["p"].as_f64().unwrap()) < 1e-3);
    let out = cli(&[
        "lrt",
        &ss,
        "--formula",
        a["m0"].as_str().unwrap(),
        "--formula",
        a["m1"].as_str().unwrap(),
    ]);
    assert!(
        out.stdout.contains("both models were refitted by ML"),
        "{}",
        out.stdout
    );
    // same fixed effects: REML, as anova(refit = FALSE); the larger model
    // first is reordered
    let b = &r["anova_reml"];
    let j = json(&[
        "lrt",
        &ss,
        "--formula",
        b["m1"].as_str().unwrap(),
        "--formula",
        b["m0"].as_str().unwrap(),
        "--tolerance",
        "1e-10",
        "--json",
    ]);
    assert_eq!(j["method"], "REML");
    assert_eq!(j["df"], b["df"]);
    assert!((j["statistic"].as_f64().unwrap() - b["chisq"].as_f64().unwrap()).abs() < 1e-4);
}

#[test]
fn the_likelihood_ratio_test_refuses_what_anova_refuses() {
    let t = Table::read(data("sleepstudy.csv")).unwrap();
    let na = Table::read(data("sleepstudy_na.csv")).unwrap();
    let opts = RemlOptions::default();
    // different data of any size
    let m0 = FormulaModel::new("Reaction ~ Days + (1 | Subject)", &na).unwrap();
    let m1 = FormulaModel::new("Reaction ~ Days + (Days | Subject)", &t).unwrap();
    let e = anova(&m0, &m1, &opts).unwrap_err().to_string();
    assert!(e.contains("different observations"), "{e}");
    // a REML fit against an ML fit
    let f0 = m1.fit(&opts).unwrap();
    let f1 = FormulaModel::new("Reaction ~ Days + (Days | Subject)", &t)
        .unwrap()
        .fit(&opts.clone().method(Method::Ml))
        .unwrap();
    let e = covreml::inference::likelihood_ratio(&f0, &f1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("a REML fit against an ML fit"), "{e}");
}

#[test]
fn predictions_and_blup_labels_match_lme4() {
    let r = &reference()["predict"];
    let t = Table::read(data("sleepstudy.csv")).unwrap();
    let m = FormulaModel::new(r["formula"].as_str().unwrap(), &t).unwrap();
    let fit = m.fit(&RemlOptions::default().tolerance(1e-10)).unwrap();
    let mut csv = String::from("Days,Subject\n");
    for (d, s) in r["days"]
        .as_array()
        .unwrap()
        .iter()
        .zip(r["subject"].as_array().unwrap())
    {
        csv.push_str(&format!("{},{}\n", d, s.as_str().unwrap()));
    }
    let p = m.predict(&fit, &Table::parse(&csv).unwrap()).unwrap();
    for (a, b) in p.iter().zip(floats(&r["value"])) {
        assert!(rel(*a, b) < 1e-6, "{a} vs {b}");
    }
    // BLUPs labelled by coefficient and level, as lme4's ranef
    let post = m.mixed().post(&fit).unwrap();
    let names = r["blup_names"].as_array().unwrap();
    for (name, want) in names.iter().zip(floats(&r["blup_308"])) {
        let label = format!("{}:308", name.as_str().unwrap());
        let got = post.blups[0].get(&label).expect(&label);
        assert!(rel(got, want) < 1e-5, "{label}: {got} vs {want}");
    }
}

#[test]
fn functions_in_formulas_match_lme4() {
    let r = &reference()["functions"];
    let t = Table::read(data("sleepstudy.csv")).unwrap();
    let mut csv = String::from("Reaction,Days,Subject,Days1\n");
    let (y, d, s) = (
        t.column("Reaction").unwrap(),
        t.column("Days").unwrap(),
        t.column("Subject").unwrap(),
    );
    for i in 0..t.n_rows() {
        let d1 = d[i].parse::<f64>().unwrap() + 1.0;
        csv.push_str(&format!("{},{},{},{}\n", y[i], d[i], s[i], d1));
    }
    let t = Table::parse(&csv).unwrap();
    for key in ["log", "poly", "scale"] {
        let m = FormulaModel::new(r[format!("{key}_formula")].as_str().unwrap(), &t).unwrap();
        let fit = m.fit(&RemlOptions::default().tolerance(1e-10)).unwrap();
        let names: Vec<&str> = r[format!("{key}_beta_names")]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(fit.beta_names, names);
        for (a, b) in fit.beta.iter().zip(floats(&r[format!("{key}_beta")])) {
            assert!(rel(*a, b) < 1e-6, "{key}: {a} vs {b}");
        }
        let ll = r[format!("{key}_loglik")].as_f64().unwrap();
        assert!(rel(fit.loglik, ll) < 1e-8, "{key}: {} vs {ll}", fit.loglik);
    }
}

#[test]
fn exit_status_and_messages() {
    let ss = data("sleepstudy.csv");
    let f = "Reaction ~ Days + (Days | Subject)";
    // not converged: 3, the output written with a warning line
    let out = cli(&["fit", &ss, "--formula", f, "--max-iter", "2"]);
    assert_eq!(out.status, 3);
    assert!(out.stdout.contains("Warning: the fit did not converge"));
    assert!(out.stderr.contains("warning: the fit did not converge"));
    // ML fits are labelled ML
    let out = cli(&["fit", &ss, "--formula", f, "--method", "ml"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.contains("ML log-likelihood"), "{}", out.stdout);
    assert!(!out.stdout.contains("REML log-likelihood"));
    // both times are reported
    assert!(
        out.stdout.contains("s building the model"),
        "{}",
        out.stdout
    );
    // y ~ y and a constant response are refused
    let out = cli(&["fit", &ss, "--formula", "Reaction ~ Reaction + (1|Subject)"]);
    assert_eq!(out.status, 2);
    assert!(out
        .stderr
        .contains("response column `Reaction` is also a predictor"));
    let t = Table::parse("y,g\n1,a\n1,a\n1,b\n1,b\n").unwrap();
    let e = FormulaModel::new("y ~ 1 + (1|g)", &t)
        .unwrap_err()
        .to_string();
    assert!(e.contains("the response `y` is constant"), "{e}");
    // help and version
    for args in [&["fit", "--help"][..], &["--help"], &["--version"]] {
        let out = cli(args);
        assert_eq!(out.status, 0, "{args:?}");
        assert!(!out.stdout.is_empty());
    }
    // (((x))) in the fixed part is x; unknown functions are named
    let out = cli(&[
        "fit",
        &ss,
        "--formula",
        "Reaction ~ ((((Days)))) + (1|Subject)",
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let out = cli(&[
        "fit",
        &ss,
        "--formula",
        "Reaction ~ cos(Days) + (1|Subject)",
    ]);
    assert_eq!(out.status, 2);
    assert!(out.stderr.contains("the function `cos`"), "{}", out.stderr);
}

#[test]
fn data_messages_name_the_problem_and_the_file_line() {
    let dir = std::env::temp_dir().join(format!("covreml-issue20-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let header = write("header.csv", "y,x,g\n");
    let out = cli(&["fit", &header, "--formula", "y ~ x + (1|g)"]);
    assert_eq!(out.status, 2);
    assert!(out.stderr.contains("no data rows"), "{}", out.stderr);
    let mut text = String::from("y,x,g\n");
    for i in 0..20 {
        let x = if i == 7 {
            "1,5".to_string()
        } else {
            i.to_string()
        };
        text.push_str(&format!(
            "{},\"{x}\",g{}\n",
            i as f64 * 0.7 + (i % 3) as f64,
            i % 4
        ));
    }
    let typo = write("typo.csv", &text);
    let out = cli(&["fit", &typo, "--formula", "y ~ x + (1|g)"]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("`x` must be numeric") && out.stderr.contains("line 9"),
        "{}",
        out.stderr
    );
    // repeated measures: a repeated time names its file lines
    let rm = write(
        "rm.csv",
        "y,t,s\n1.0,1,a\n2.0,2,a\n1.5,1,b\n2.5,1,b\n3.1,2,c\n1.2,1,c\n",
    );
    let out = cli(&["fit", &rm, "--formula", "y ~ t", "--residual", "ar1(t | s)"]);
    assert_eq!(out.status, 2);
    assert!(out.stderr.contains("line 4 and line 5"), "{}", out.stderr);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn every_residual_parameter_is_shown() {
    let ar1 = data("ar1_repeated.csv");
    for (residual, corr) in [
        ("ar1(time | subject)", "rho"),
        ("car1(time | subject)", "phi"),
        ("cs(subject)", "rho"),
    ] {
        let j = json(&[
            "fit",
            &ar1,
            "--formula",
            "y ~ x",
            "--residual",
            residual,
            "--json",
        ]);
        let vcs = j["variance_components"].as_array().unwrap();
        assert_eq!(
            vcs.len(),
            j["parameters"].as_array().unwrap().len(),
            "{residual}"
        );
        assert!(
            vcs.iter()
                .any(|c| c["kind"] == "correlation" && c["var1"] == corr),
            "{residual}: {vcs:?}"
        );
        let out = cli(&["fit", &ar1, "--formula", "y ~ x", "--residual", residual]);
        let table = out
            .stdout
            .split("Number of obs")
            .next()
            .unwrap()
            .to_string();
        assert!(table.contains(corr), "{residual}: {table}");
    }
    // us: the variances and covariances of the times, as a correlated term
    let j = json(&[
        "fit",
        &ar1,
        "--formula",
        "y ~ x",
        "--residual",
        "us(time | subject)",
        "--json",
    ]);
    let vcs = j["variance_components"].as_array().unwrap();
    let k = |kind: &str| vcs.iter().filter(|c| c["kind"] == kind).count();
    assert_eq!((k("variance"), k("covariance")), (6, 15));
}
