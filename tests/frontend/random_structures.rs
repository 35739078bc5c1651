//! Random-term structures by keyword (`us`, `diag`, `cs`, `ar1`, `fa`),
//! categorical random coefficients, known relationship matrices
//! (`--pedigree`, `--grm`), prior weights (`--weights`) and grouped or
//! nugget-free spatial residuals, through `covreml::cli::run`, against
//! lme4 / nlme (`tests/data/random_structures.json`, made by
//! `tests/data/r/make_random_structures.R`) and independent dense REML fits
//! (`tests/data/random_structures_independent.json` and `ar1_term.json`,
//! made by the scripts in `tests/independent/`).

use serde_json::Value;

fn data(file: &str) -> String {
    format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// `covreml fit DATA --formula F [extra…] --tolerance 1e-10 --json`, in
/// process; the JSON of a converged fit.
fn fit(file: &str, formula: &str, extra: &[&str]) -> Value {
    let mut argv: Vec<String> = vec!["fit".into(), data(file), "--formula".into(), formula.into()];
    argv.extend(extra.iter().map(|s| s.to_string()));
    argv.extend(["--tolerance", "1e-10", "--json"].map(String::from));
    let out = covreml::cli::run(&argv);
    assert_eq!(out.status, 0, "{formula}: {}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("one JSON object");
    assert_eq!(v["converged"], true, "{v}");
    v
}

/// The reference fit called `name` in `file`.
fn reference(file: &str, name: &str) -> Value {
    let all: Value = serde_json::from_str(&std::fs::read_to_string(data(file)).unwrap()).unwrap();
    all["fits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no fit {name} in {file}"))
        .clone()
}

fn close(what: &str, got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs().max(1e-3),
        "{what}: {got} vs reference {want}"
    );
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The value of the component of `group` with `var1`, `var2`.
fn component(v: &Value, group: &str, var1: Option<&str>, var2: Option<&str>) -> f64 {
    let c = v["variance_components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            let (a, b) = (c["var1"].as_str(), c["var2"].as_str());
            c["group"] == group
                && ((a, b) == (var1, var2) || (var2.is_some() && (b, a) == (var1, var2)))
        })
        .unwrap_or_else(|| panic!("no component {group} {var1:?} {var2:?}: {v}"));
    f(&c["value"])
}

fn check_beta(v: &Value, want: &Value, rel: f64) {
    let names = v["beta_names"].as_array().unwrap();
    for (n, w) in want.as_object().unwrap() {
        let i = names
            .iter()
            .position(|x| x == n)
            .unwrap_or_else(|| panic!("no {n}"));
        close(n, f(&v["beta"][i]), f(w), rel);
    }
}

/// An lme4 fit: log-likelihood, coefficients, every variance and covariance.
fn matches_lme4(name: &str, extra: &[&str]) {
    let r = reference("random_structures.json", name);
    let v = fit(
        r["data"].as_str().unwrap(),
        r["formula"].as_str().unwrap(),
        extra,
    );
    close("loglik", f(&v["loglik"]), f(&r["loglik"]), 1e-8);
    check_beta(&v, &r["beta"], 1e-5);
    for c in r["varcorr"].as_array().unwrap() {
        let grp = c["grp"].as_str().unwrap();
        let want = f(&c["vcov"]);
        let got = if grp == "Residual" {
            component(&v, "Residual", None, None)
        } else if name == "machines_diag" {
            // lme4 names the dummy() columns; ours are MachineA, …
            let level = c["var1"].as_str().unwrap().split('"').nth(1).unwrap();
            component(&v, "Worker", Some(&format!("Machine{level}")), None)
        } else {
            component(&v, grp, c["var1"].as_str(), c["var2"].as_str())
        };
        close(
            &format!("{grp} {:?} {:?}", c["var1"], c["var2"]),
            got,
            want,
            2e-4,
        );
    }
}

/// `(0 + Machine | Worker)`: a coefficient per machine, unstructured `Σ`.
#[test]
fn categorical_coefficients_without_intercept_match_lme4() {
    matches_lme4("machines_us0", &[]);
}

/// `(1 + Machine | Worker)`: intercept and contrasts (the same model).
#[test]
fn categorical_coefficients_with_intercept_match_lme4() {
    matches_lme4("machines_us1", &[]);
    let r = reference("random_structures.json", "machines_us0");
    let v = fit(
        "Machines.csv",
        "score ~ Machine + us(1 + Machine | Worker)",
        &[],
    );
    close("us(…) = (…)", f(&v["loglik"]), f(&r["loglik"]), 1e-8);
}

/// `diag(0 + Machine | Worker)` = lme4's one `(0 + dummy(Machine, l) | Worker)` per level.
#[test]
fn diag_term_matches_lme4_dummies() {
    matches_lme4("machines_diag", &[]);
}

/// `cs(0 + Machine | Worker)` = nlme's `pdCompSymm(~ 0 + Machine)`.
#[test]
fn cs_term_matches_nlme_pdcompsymm() {
    let r = reference("random_structures.json", "machines_cs");
    let v = fit("Machines.csv", r["formula"].as_str().unwrap(), &[]);
    close("loglik", f(&v["loglik"]), f(&r["loglik"]), 1e-8);
    check_beta(&v, &r["beta"], 1e-5);
    close(
        "variance",
        component(&v, "Worker", None, None),
        f(&r["variance"]),
        1e-4,
    );
    close(
        "rho",
        component(&v, "Worker", Some("rho"), None),
        f(&r["rho"]),
        1e-4,
    );
    close(
        "residual",
        component(&v, "Residual", None, None),
        f(&r["sigma2"]),
        1e-4,
    );
}

/// `ar1(0 + factor(time) | subject)` against an independent dense REML.
#[test]
fn ar1_term_matches_an_independent_reml() {
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(data("ar1_term.json")).unwrap()).unwrap();
    let v = fit("ar1_term.csv", r["formula"].as_str().unwrap(), &[]);
    close("loglik", f(&v["loglik"]), f(&r["loglik"]), 1e-8);
    close(
        "sigma2",
        component(&v, "subject", None, None),
        f(&r["sigma2"]),
        1e-4,
    );
    close(
        "rho",
        component(&v, "subject", Some("rho"), None),
        f(&r["rho"]),
        1e-4,
    );
    close(
        "residual",
        component(&v, "Residual", None, None),
        f(&r["residual"]),
        1e-4,
    );
    for (i, b) in r["beta"].as_array().unwrap().iter().enumerate() {
        close("beta", f(&v["beta"][i]), f(b), 1e-6);
    }
}

/// `ar1(0 + factor(time) | subject)` with one record per subject and time
/// and an iid residual: identified (the AR1 correlation separates the two
/// variances over 5 times) and fitted to the independent dense REML's
/// maximum (`ar1_term_single.json`). What is truly not identified with one
/// record per level is still refused: `cs` and `us` terms (their span holds
/// the identity, the residual's direction) and `ar1` over only 2 times.
#[test]
fn ar1_term_with_one_record_per_level_is_identified() {
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(data("ar1_term_single.json")).unwrap())
            .unwrap();
    let v = fit("ar1_term_single.csv", r["formula"].as_str().unwrap(), &[]);
    close("loglik", f(&v["loglik"]), f(&r["loglik"]), 1e-8);
    close(
        "sigma2",
        component(&v, "subject", None, None),
        f(&r["sigma2"]),
        1e-4,
    );
    close(
        "rho",
        component(&v, "subject", Some("rho"), None),
        f(&r["rho"]),
        1e-4,
    );
    close(
        "residual",
        component(&v, "Residual", None, None),
        f(&r["residual"]),
        1e-4,
    );
    for (i, b) in r["beta"].as_array().unwrap().iter().enumerate() {
        close("beta", f(&v["beta"][i]), f(b), 1e-6);
    }

    let refused = |file: &str, formula: &str| {
        let argv: Vec<String> = ["fit", file, "--formula", formula]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let out = covreml::cli::run(&argv);
        assert_eq!(out.status, 2, "{formula}: {}", out.stderr);
        assert!(
            out.stderr.contains("exactly one observation")
                && out.stderr.contains("confounded with the residual variance"),
            "{formula}: {}",
            out.stderr
        );
    };
    let single = data("ar1_term_single.csv");
    refused(&single, "y ~ factor(time) + cs(0 + factor(time) | subject)");
    refused(&single, "y ~ factor(time) + (0 + factor(time) | subject)");
    // Two times: V per subject has two distinct entries, three parameters.
    let text = std::fs::read_to_string(&single).unwrap();
    let two: String = text
        .lines()
        .filter(|l| {
            let t = l.split(',').nth(1).unwrap();
            t == "time" || t == "1" || t == "2"
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let path = std::env::temp_dir().join(format!("covreml_ar1_two_{}.csv", std::process::id()));
    std::fs::write(&path, two).unwrap();
    refused(
        path.to_str().unwrap(),
        "y ~ factor(time) + ar1(0 + factor(time) | subject)",
    );
    let _ = std::fs::remove_file(&path);
}

/// `fa(0 + env | gen, 1)` against an independent dense REML: the
/// log-likelihood, `ΛΛᵀ + Ψ` (the loadings only up to sign) and `σ²`.
#[test]
fn fa_term_matches_an_independent_reml() {
    let r = reference("random_structures_independent.json", "met_fa1");
    let v = fit("met_fa.csv", r["formula"].as_str().unwrap(), &[]);
    close("loglik", f(&v["loglik"]), f(&r["loglik"]), 1e-7);
    let envs = ["envE1", "envE2", "envE3", "envE4"];
    let lam: Vec<f64> = envs
        .iter()
        .map(|e| component(&v, "gen", Some(e), Some("factor1")))
        .collect();
    let psi: Vec<f64> = envs
        .iter()
        .map(|e| component(&v, "gen", Some(e), Some("psi")))
        .collect();
    for i in 0..4 {
        for j in 0..4 {
            let s = lam[i] * lam[j] + if i == j { psi[i] } else { 0.0 };
            close(
                &format!("Sigma[{i}][{j}]"),
                s,
                f(&r["sigma_env"][i][j]),
                2e-3,
            );
        }
    }
    close(
        "residual",
        component(&v, "Residual", None, None),
        f(&r["residual"]),
        1e-3,
    );
    // fa(1) is nested in us: its log-likelihood is lower
    let us = reference("random_structures_independent.json", "met_us");
    assert!(f(&us["loglik"]) > f(&r["loglik"]));
}

/// `--weights w` = lme4's `weights = w`, REML and ML.
#[test]
fn prior_weights_match_lme4() {
    matches_lme4("sleepstudy_weights", &["--weights", "w"]);
    let r = reference("random_structures.json", "sleepstudy_weights_ml");
    let v = fit(
        "sleepstudy_weights.csv",
        r["formula"].as_str().unwrap(),
        &["--weights", "w", "--method", "ml"],
    );
    close("ML loglik", f(&v["loglik"]), f(&r["loglik"]), 1e-8);
    close(
        "residual",
        component(&v, "Residual", None, None),
        f(&r["sigma2"]),
        1e-4,
    );
}

/// The BLUP table written by `--blups`: level → BLUP.
fn blups(path: &std::path::Path) -> std::collections::HashMap<String, f64> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[2].to_string(), c[3].parse::<f64>().unwrap())
        })
        .collect()
}

/// `(1 | animal)` with `--pedigree` / `--grm`: the variances, the
/// log-likelihood and the BLUP of every animal (those without records
/// too) against an independent REML with `A` by the tabular method.
fn animal_model(name: &str, option: &str, file: &str) {
    let r = reference("random_structures_independent.json", name);
    let out = std::env::temp_dir().join(format!("covreml_{name}_{}.csv", std::process::id()));
    let v = fit(
        "animal_records.csv",
        r["formula"].as_str().unwrap(),
        &[
            option,
            &format!("animal={}", data(file)),
            "--blups",
            out.to_str().unwrap(),
        ],
    );
    close("loglik", f(&v["loglik"]), f(&r["loglik"]), 1e-8);
    close(
        "animal",
        component(&v, "animal", Some("(Intercept)"), None),
        f(&r["sigma2_animal"]),
        1e-4,
    );
    close(
        "residual",
        component(&v, "Residual", None, None),
        f(&r["sigma2_residual"]),
        1e-4,
    );
    let got = blups(&out);
    let want = r["blup"].as_object().unwrap();
    assert_eq!(got.len(), want.len(), "one BLUP per animal of the matrix");
    for (id, w) in want {
        let g = got[id.as_str()];
        assert!(
            (g - f(w)).abs() < 1e-4 * (1.0 + f(w).abs()),
            "animal {id}: {g} vs {w}"
        );
    }
    std::fs::remove_file(out).ok();
}

#[test]
fn pedigree_animal_model_matches_an_independent_reml() {
    animal_model("animal_pedigree", "--pedigree", "animal_pedigree.csv");
}

#[test]
fn given_relationship_matrix_matches_an_independent_reml() {
    animal_model("animal_grm", "--grm", "animal_grm.csv");
}

/// The summary names the relationship matrix and the structure.
#[test]
fn summary_names_structures_relationships_and_weights() {
    let argv: Vec<String> = [
        "fit",
        &data("animal_records.csv"),
        "--formula",
        "y ~ sex + (1 | animal)",
        "--pedigree",
        &format!("animal={}", data("animal_pedigree.csv")),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = covreml::cli::run(&argv);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("levels related by the pedigree A"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("202 ids"), "{}", out.stdout);
    let argv: Vec<String> = [
        "fit",
        &data("sleepstudy_weights.csv"),
        "--formula",
        "Reaction ~ Days + diag(1 + Days | Subject)",
        "--weights",
        "w",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = covreml::cli::run(&argv);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.contains("Prior weights: w"), "{}", out.stdout);
    assert!(out.stdout.contains("diag covariance"), "{}", out.stdout);
}

/// `--json` says what model was fitted: each random term's structure
/// keyword (and `fa` order), coefficients, number of levels and known
/// relationship (kind and file), and the weights column.
#[test]
fn json_names_structures_relationships_and_weights() {
    let ped = data("animal_pedigree.csv");
    let v = fit(
        "animal_records.csv",
        "y ~ sex + (1 | animal)",
        &["--pedigree", &format!("animal={ped}")],
    );
    let t = &v["random_terms"][0];
    assert_eq!(t["name"], "animal");
    assert_eq!(t["structure"], "us");
    assert_eq!(t["n_levels"], 202);
    assert_eq!(t["relationship"]["kind"], "pedigree");
    assert_eq!(t["relationship"]["file"], ped.as_str());
    assert_eq!(v["weights"], Value::Null);

    let v = fit(
        "sleepstudy_weights.csv",
        "Reaction ~ Days + diag(1 + Days | Subject)",
        &["--weights", "w"],
    );
    let t = &v["random_terms"][0];
    assert_eq!(t["structure"], "diag");
    assert_eq!(
        t["coefficients"],
        serde_json::json!(["(Intercept)", "Days"])
    );
    assert_eq!(t["relationship"], Value::Null);
    assert_eq!(v["weights"], "w");

    let v = fit("met_fa.csv", "y ~ env + fa(0 + env | gen, 1)", &[]);
    let t = &v["random_terms"][0];
    assert_eq!(
        (t["structure"].as_str(), t["fa_order"].as_u64()),
        (Some("fa"), Some(1))
    );
}

/// Spherical residuals without a nugget on Wheat2, one field and one per
/// block, reach nlme's highest maximum (`tests/data/sph_wheat2.json`, made by
/// `tests/data/r/make_sph_wheat2.R`: the likelihood has many local maxima in
/// the range; the reference is the best of nlme's fits from the best point
/// of a fine profile grid and from 8 other starts). From nlme's own default
/// start (90 % of the smallest distance) the spherical correlation is 0 and
/// the fit could not move; the range scan of `FormulaModel::fit_with`
/// starts it at the best point of a profile grid instead.
#[test]
fn spherical_residuals_without_nugget_reach_nlme_s_maximum() {
    let all: Value =
        serde_json::from_str(&std::fs::read_to_string(data("sph_wheat2.json")).unwrap()).unwrap();
    for r in all["fits"].as_array().unwrap() {
        let keyword = r["keyword"].as_str().unwrap();
        let argv: Vec<String> = [
            "fit",
            &data("Wheat2.csv"),
            "--formula",
            r["formula"].as_str().unwrap(),
            "--residual",
            keyword,
            "--json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let out = covreml::cli::run(&argv);
        assert_eq!(out.status, 0, "{keyword}: {}", out.stderr);
        let v: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["converged"], true, "{keyword}: {v}");
        close(keyword, f(&v["loglik"]), f(&r["loglik"]), 1e-9);
        let comp = |var1: Option<&str>| component(&v, "Residual", var1, None);
        close("sigma2", comp(None), f(&r["sigma2"]), 1e-5);
        close("range", comp(Some("range")), f(&r["range"]), 1e-5);
        for (name, b) in r["beta"].as_object().unwrap() {
            let i = v["beta_names"]
                .as_array()
                .unwrap()
                .iter()
                .position(|n| n == name.as_str())
                .unwrap();
            close(name, f(&v["beta"][i]), f(b), 1e-6);
        }
    }
}

/// Spatial residuals per block and without a nugget against nlme's gls.
/// (`sph(latitude + longitude | Block)` is in the reference file too, from
/// one nlme start: `spherical_residuals_without_nugget_reach_nlme_s_maximum`
/// tests it against the best of several starts.)
#[test]
fn grouped_and_nugget_free_spatial_residuals_match_nlme() {
    for name in ["wheat2_gau_block_nugget", "wheat2_exp_block", "wheat2_gau"] {
        let r = reference("random_structures.json", name);
        let keyword = r["keyword"].as_str().unwrap();
        let v = fit(
            r["data"].as_str().unwrap(),
            r["formula"].as_str().unwrap(),
            &["--residual", keyword],
        );
        assert_eq!(v["residual"], keyword);
        close(
            &format!("{name} loglik"),
            f(&v["loglik"]),
            f(&r["loglik"]),
            1e-8,
        );
        close(
            &format!("{name} sigma2"),
            component(&v, "Residual", None, None),
            f(&r["sigma2"]),
            1e-4,
        );
        close(
            &format!("{name} range"),
            component(&v, "Residual", Some("range"), None),
            f(&r["range"]),
            1e-4,
        );
        if let Some(nu) = r["nugget"].as_f64() {
            close(
                &format!("{name} nugget"),
                component(&v, "Residual", Some("nugget"), None),
                nu,
                1e-4,
            );
        }
        check_beta(&v, &r["beta"], 1e-5);
    }
}

/// Each misuse is a usage error (status 2) that names the problem.
#[test]
fn misuse_is_refused_with_a_reason() {
    let run = |args: &[&str]| {
        let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        covreml::cli::run(&argv)
    };
    let m = data("Machines.csv");
    let s = data("sleepstudy_weights.csv");
    let a = data("animal_records.csv");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "fit".into(),
                m.clone(),
                "--formula".into(),
                "score ~ 1 + cs(1 | Worker)".into(),
            ],
            "at least 2",
        ),
        (
            vec![
                "fit".into(),
                m.clone(),
                "--formula".into(),
                "score ~ 1 + fa(0 + Machine | Worker, 3)".into(),
            ],
            "at least 4",
        ),
        (
            vec![
                "fit".into(),
                m.clone(),
                "--formula".into(),
                "score ~ 1 + fa(0 + Machine | Worker, 9)".into(),
            ],
            "from 1 to 3",
        ),
        (
            vec![
                "fit".into(),
                m.clone(),
                "--formula".into(),
                "score ~ 1 + fa(0 + Machine | Worker)".into(),
            ],
            "number of factors",
        ),
        (
            vec![
                "fit".into(),
                m.clone(),
                "--formula".into(),
                "score ~ 1 + diag(0 + Machine || Worker)".into(),
            ],
            "`||` inside `diag",
        ),
        (
            vec![
                "fit".into(),
                m.clone(),
                "--formula".into(),
                "score ~ 1 + (0 + Machine:factor(Worker) | Worker)".into(),
            ],
            "two categorical columns",
        ),
        (
            vec![
                "fit".into(),
                s.clone(),
                "--formula".into(),
                "Reaction ~ Days + (1 | Subject)".into(),
                "--weights".into(),
                "w".into(),
                "--residual".into(),
                "ar1(Days | Subject)".into(),
            ],
            "iid residual only",
        ),
        (
            vec![
                "fit".into(),
                s.clone(),
                "--formula".into(),
                "Reaction ~ Days + (1 | Subject)".into(),
                "--weights".into(),
                "Days".into(),
            ],
            "positive number",
        ),
        (
            vec![
                "fit".into(),
                s.clone(),
                "--formula".into(),
                "Reaction ~ Days + (1 | Subject)".into(),
                "--weights".into(),
                "wt".into(),
            ],
            "no such column",
        ),
        (
            vec![
                "fit".into(),
                a.clone(),
                "--formula".into(),
                "y ~ sex + (1 | animal)".into(),
                "--pedigree".into(),
                "animal".into(),
            ],
            "COLUMN=FILE",
        ),
        (
            vec![
                "fit".into(),
                a.clone(),
                "--formula".into(),
                "y ~ sex + (1 | sex)".into(),
                "--pedigree".into(),
                format!("animal={}", data("animal_pedigree.csv")),
            ],
            "no random term",
        ),
        (
            vec![
                "fit".into(),
                a.clone(),
                "--formula".into(),
                "y ~ sex + (1 | animal)".into(),
                "--grm".into(),
                format!("animal={}", data("animal_pedigree.csv")),
            ],
            "square matrix",
        ),
        (
            vec![
                "fit".into(),
                m.clone(),
                "--formula".into(),
                "score ~ Machine + (1 | Worker)".into(),
                "--pedigree".into(),
                format!("Worker={}", data("animal_pedigree.csv")),
            ],
            "not in",
        ),
    ];
    for (argv, want) in cases {
        let out = covreml::cli::run(&argv);
        assert_eq!(out.status, 2, "{argv:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(want),
            "{argv:?}: expected `{want}` in {}",
            out.stderr
        );
    }
    let _ = run(&["help"]);
}

/// `covreml predict` with categorical random coefficients, a known and a
/// new worker, against lme4's `predict(allow.new.levels = TRUE)`.
#[test]
fn predictions_with_categorical_coefficients_match_lme4() {
    let all: Value =
        serde_json::from_str(&std::fs::read_to_string(data("random_structures.json")).unwrap())
            .unwrap();
    let r = &all["predictions"][0];
    let argv: Vec<String> = [
        "predict",
        &data("Machines.csv"),
        "--formula",
        r["formula"].as_str().unwrap(),
        "--newdata",
        &data(r["newdata"].as_str().unwrap()),
        "--tolerance",
        "1e-10",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = covreml::cli::run(&argv);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let got: Vec<f64> = out
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let want = r["prediction"].as_array().unwrap();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        close("prediction", *g, f(w), 1e-6);
    }
}

/// `G = Σ ⊗ A` for several coefficients over a pedigree:
/// `diag(0 + sex | animal)` and `(0 + sex | animal)` against an
/// independent dense REML (`tests/independent/animal_sex_terms_reml.py`).
/// The unstructured fit's optimum has a correlation of 0.99997 (1 for
/// covreml, 1.2e-6 higher): a fit that says it converged must match it;
/// one that stops short must say so. On the default backend (sparse, whose
/// `G⁻¹ = Σ⁻¹ ⊗ A⁻¹` loses nine digits there: it stopped 4.6e-4 below and
/// called it a boundary fit) the fit is completed in lme4's Λ form, which
/// needs no `G⁻¹` (`Σ = ΛΛᵀ`, `Λ ⊗ I` congruence with `A⁻¹` kept as the
/// prior precision); `--backend dense` directly.
#[test]
fn several_coefficients_over_a_pedigree_match_an_independent_reml() {
    let ped = format!("animal={}", data("animal_pedigree.csv"));
    let r = reference("animal_sex_terms.json", "animal_diag_sex");
    let v = fit(
        "animal_records.csv",
        r["formula"].as_str().unwrap(),
        &["--pedigree", &ped],
    );
    close("loglik", f(&v["loglik"]), f(&r["loglik"]), 1e-8);
    for sex in ["sexF", "sexM"] {
        close(
            sex,
            component(&v, "animal", Some(sex), None),
            f(&r[sex]),
            1e-4,
        );
    }
    close(
        "residual",
        component(&v, "Residual", None, None),
        f(&r["residual"]),
        1e-4,
    );

    let r = reference("animal_sex_terms.json", "animal_us_sex");
    for backend in ["auto", "dense"] {
        let argv: Vec<String> = [
            "fit",
            &data("animal_records.csv"),
            "--formula",
            r["formula"].as_str().unwrap(),
            "--pedigree",
            &ped,
            "--backend",
            backend,
            "--json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let out = covreml::cli::run(&argv);
        assert_eq!(out.status, 0, "{backend}: {}", out.stderr);
        let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
        assert_eq!(v["converged"], true);
        let (ll, want) = (f(&v["loglik"]), f(&r["loglik"]));
        assert!(
            ll >= want - 1e-6 && ll <= want + 1e-5,
            "{backend}: {ll} vs the independent REML's {want}"
        );
        close(
            "cov",
            component(&v, "animal", Some("sexM"), Some("sexF")),
            f(&r["cov"]),
            1e-3,
        );
    }
}

/// An unstructured `G` whose optimum is singular (a Heywood case: one
/// eigenvalue 6.6e-16 at the independent REML's optimum,
/// `tests/independent/fa_heywood_reml.py` → `boundaries/heywood.json`):
/// `G` becomes singular to rounding on the way, where the sparse
/// mixed-model equations cannot invert it. The default backend completes
/// it on the dense backend (16 parameters on 400 rows: cheaper than the
/// Λ form's finite-difference Newton steps), says so and reaches the
/// optimum; the sparse backend asked for by name does not say converged
/// and names the dense backend.
#[test]
fn unstructured_g_singular_on_the_way_reaches_the_independent_optimum() {
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(data("boundaries/heywood.json")).unwrap())
            .unwrap();
    let want = f(&r["fits"]["heywood-2"]["us"]["loglik"]);
    let run = |backend: &str| {
        let argv: Vec<String> = [
            "fit",
            &data("boundaries/heywood_2.csv"),
            "--formula",
            "y ~ 0 + env + (0 + env | genotype)",
            "--backend",
            backend,
            "--json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        covreml::cli::run(&argv)
    };
    let out = run("auto");
    assert_eq!(out.status, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(v["converged"], true);
    assert_eq!(v["singular"], true);
    let ll = f(&v["loglik"]);
    assert!(
        (ll - want).abs() < 1e-6,
        "{ll} vs the independent REML's {want}"
    );
    let warned = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("on the dense backend"));
    assert!(warned, "no word of the dense backend: {v}");

    // The sparse backend by name: `G⁻¹` fails to factor on the way (an
    // error, exit 1) or the fit stops short (exit 3); either way it does not
    // say converged and names the dense backend (16 parameters on 400
    // rows: the Λ-form completion is left to larger data, see
    // `covreml::reml::LAMBDA_MAX_PARAMS`).
    let out = run("sparse");
    assert!(out.status == 1 || out.status == 3, "{}", out.stdout);
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(
        (said.contains("numerically singular") || said.contains("nearly singular"))
            && said.contains("--backend dense"),
        "{said}"
    );
}
