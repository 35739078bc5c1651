//! `--backend iterative` against the exact sparse backend in the same run,
//! through the command (`covreml::cli::run`): every variance component
//! within a tenth of its standard error of the exact estimate, and within
//! four of its reported Monte Carlo standard errors (the reported error is
//! honest); a deterministic seed. The exact backend is itself checked
//! against lme4 elsewhere (tests/frontend/cli.rs, tests/reml/lme4.rs).

use covreml::formula::{parse, FormulaModel, Residual};
use covreml::reml::{Backend, IterativeOptions, RemlOptions};
use serde_json::Value;

fn data(file: &str) -> String {
    format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"))
}

fn fit_json(file: &str, formula: &str, backend: &str, extra: &[&str]) -> (Value, String) {
    let mut argv: Vec<String> = [
        "fit",
        &data(file),
        "--formula",
        formula,
        "--backend",
        backend,
        "--json",
        "--seed",
        "12345",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    argv.extend(extra.iter().map(|s| s.to_string()));
    let out = covreml::cli::run(&argv);
    assert_eq!(out.status, 0, "{backend}: {}", out.stderr);
    (serde_json::from_str(&out.stdout).unwrap(), out.stderr)
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

/// Compares the iterative fit with the exact one; returns the largest
/// |difference| / MC standard error.
fn agree(file: &str, formula: &str, extra: &[&str]) -> (f64, Vec<f64>) {
    let (exact, _) = fit_json(file, formula, "sparse", &[]);
    let (it, stderr) = fit_json(file, formula, "iterative", extra);
    assert!(exact["mc_standard_errors"].is_null());
    assert!(it["backend"].as_str().unwrap().starts_with("iterative"));
    assert!(it["loglik"].is_null(), "the log-likelihood is not computed");
    // (The progress lines go to the process's standard error, not to the
    // outcome's: they are printed while the fit runs.)
    assert!(!stderr.contains("error"), "{stderr}");
    assert_eq!(it["parameters"], exact["parameters"]);
    let (e, se) = (floats(&exact["natural"]), floats(&exact["standard_errors"]));
    let (v, mc) = (floats(&it["natural"]), floats(&it["mc_standard_errors"]));
    let mut worst: f64 = 0.0;
    for i in 0..e.len() {
        let d = (v[i] - e[i]).abs();
        assert!(
            d < 0.1 * se[i],
            "{formula} parameter {i}: {} vs {} (SE {})",
            v[i],
            e[i],
            se[i]
        );
        assert!(
            mc[i] >= 0.0 && mc[i] < 0.1 * se[i],
            "MC SE {} vs SE {}",
            mc[i],
            se[i]
        );
        // (A term with few levels is traced exactly: MC SE 0, and then the
        // only differences are the solver's and the stopping rules'.)
        let solver = 1e-4 * e[i].abs();
        assert!(
            d < 4.0 * mc[i] + solver,
            "parameter {i}: difference {d} vs MC SE {}",
            mc[i]
        );
        worst = worst.max(d / (mc[i] + solver));
    }
    let (b, be) = (floats(&it["beta"]), floats(&exact["beta"]));
    let bse = floats(&exact["beta_standard_errors"]);
    for j in 0..b.len() {
        assert!((b[j] - be[j]).abs() < 0.1 * bse[j], "beta {j}");
    }
    (worst, mc)
}

#[test]
fn iterative_matches_exact_on_crossed_2000() {
    let (_, mc) = agree("crossed_2000.csv", "y ~ 1 + x1 + (1|f1) + (1|f2)", &[]);
    // 200 and 80 levels: both traces by probes.
    assert!(mc.iter().all(|&v| v > 0.0), "{mc:?}");
}

#[test]
fn iterative_matches_exact_on_penicillin() {
    // 24 plates × 6 samples, crossed, fully balanced.
    // 24 and 6 levels: traced exactly (MC SE 0).
    let (_, mc) = agree(
        "Penicillin.csv",
        "diameter ~ 1 + (1|plate) + (1|sample)",
        &[],
    );
    assert!(mc.iter().all(|&v| v == 0.0), "{mc:?}");
}

#[test]
fn iterative_with_probes_on_every_term_matches_exact_on_penicillin() {
    let table = covreml::data::Table::read(data("Penicillin.csv")).unwrap();
    let parsed = parse("diameter ~ 1 + (1|plate) + (1|sample)").unwrap();
    let m = FormulaModel::build(&parsed, &Residual::Iid, &table).unwrap();
    let exact = m.fit(&RemlOptions::default()).unwrap();
    let o = RemlOptions::default()
        .backend(Backend::Iterative)
        .iterative(IterativeOptions::default().seed(99).exact_trace_levels(0));
    let fit = m.fit(&o).unwrap();
    assert!(fit.termination.is_converged());
    let mc = fit.mc_standard_errors.as_ref().unwrap();
    for i in 0..exact.natural.len() {
        let d = (fit.natural[i] - exact.natural[i]).abs();
        assert!(mc[i] > 0.0 && mc[i] < 0.1 * exact.natural_se[i], "{mc:?}");
        assert!(
            d < 0.1 * exact.natural_se[i] && d < 4.0 * mc[i],
            "{i}: {d} {}",
            mc[i]
        );
    }
}

#[test]
fn iterative_with_fixed_probes_is_deterministic() {
    let f = "y ~ 1 + x1 + (1|f1) + (1|f2)";
    let (a, _) = fit_json("crossed_2000.csv", f, "iterative", &["--probes", "8"]);
    let (b, _) = fit_json("crossed_2000.csv", f, "iterative", &["--probes", "8"]);
    assert_eq!(a["natural"], b["natural"]);
    assert!(a["backend"].as_str().unwrap().contains("8 probes"));
    // Fewer probes, a larger (honest) Monte Carlo error, still within four of it.
    agree("crossed_2000.csv", f, &["--probes", "8"]);
}

#[test]
fn iterative_refuses_other_structures_naming_the_term() {
    let argv: Vec<String> = [
        "fit",
        &data("sleepstudy.csv"),
        "--formula",
        "Reaction ~ Days + (Days | Subject)",
        "--backend",
        "iterative",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = covreml::cli::run(&argv);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stderr.contains("iterative backend"), "{}", out.stderr);
    assert!(out.stderr.contains("Subject"), "{}", out.stderr);
}

#[test]
fn auto_uses_iterative_when_the_exact_factor_would_not_fit_and_says_so() {
    let table = covreml::data::Table::read(data("crossed_2000.csv")).unwrap();
    let parsed = parse("y ~ 1 + x1 + (1|f1) + (1|f2)").unwrap();
    let m = FormulaModel::build(&parsed, &Residual::Iid, &table).unwrap();
    let small = RemlOptions::default()
        .backend(Backend::Auto)
        .iterative(IterativeOptions::default().exact_memory_limit(1000));
    let fit = m.fit(&small).unwrap();
    assert!(fit.backend.starts_with("iterative"), "{}", fit.backend);
    assert!(fit
        .warnings
        .iter()
        .any(|w| w.contains("fitted by the iterative backend")));
    assert!(fit.mc_standard_errors.is_some());
    // The estimate counts more than the values of L (the factor, its
    // selected inverse, workspaces, C and C⁻¹ on C's pattern, per-row
    // buffers): a limit just above nnz(L) × 16 bytes still goes iterative.
    let note = fit
        .warnings
        .iter()
        .find(|w| w.contains("nnz(L) = "))
        .expect("the note names nnz(L)");
    for part in [
        "the factor",
        "selected inverse",
        "workspaces",
        "per-row buffers",
    ] {
        assert!(note.contains(part), "{note}");
    }
    let nnz_l: u128 = note
        .split("nnz(L) = ")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(nnz_l > 2000, "{note}");
    let just_l = RemlOptions::default()
        .backend(Backend::Auto)
        .iterative(IterativeOptions::default().exact_memory_limit(nnz_l * 16 + 1));
    let fit = m.fit(&just_l).unwrap();
    assert!(fit.backend.starts_with("iterative"), "{}", fit.backend);
    let exact = m.fit(&RemlOptions::default()).unwrap();
    assert!(exact.backend.starts_with("sparse"), "{}", exact.backend);
    assert!(exact.mc_standard_errors.is_none());
}

#[test]
fn reported_monte_carlo_errors_match_the_spread_over_seeds() {
    // The reported MC standard error against the actual spread of the
    // estimates over 10 seeds (sd within a factor of 2 of the mean reported
    // error), and the seeds' mean near the exact estimate.
    let table = covreml::data::Table::read(data("crossed_2000.csv")).unwrap();
    let parsed = parse("y ~ 1 + x1 + (1|f1) + (1|f2)").unwrap();
    let m = FormulaModel::build(&parsed, &Residual::Iid, &table).unwrap();
    let exact = m.fit(&RemlOptions::default()).unwrap();
    let fits: Vec<_> = (0..10u64)
        .map(|s| {
            let o = RemlOptions::default()
                .backend(Backend::Iterative)
                .iterative(IterativeOptions::default().seed(1000 + s).probes(16));
            m.fit(&o).unwrap()
        })
        .collect();
    for i in 0..exact.natural.len() {
        let v: Vec<f64> = fits.iter().map(|f| f.natural[i]).collect();
        let mean = v.iter().sum::<f64>() / 10.0;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 9.0).sqrt();
        let reported = fits
            .iter()
            .map(|f| f.mc_standard_errors.as_ref().unwrap()[i])
            .sum::<f64>()
            / 10.0;
        assert!(
            sd < 2.0 * reported && sd > 0.5 * reported,
            "parameter {i}: sd over seeds {sd}, mean reported MC SE {reported}"
        );
        assert!((mean - exact.natural[i]).abs() < 4.0 * reported / 10f64.sqrt() + 1e-12);
    }
}

#[test]
fn lrt_refuses_the_iterative_backend() {
    let argv: Vec<String> = [
        "lrt",
        &data("crossed_2000.csv"),
        "--formula",
        "y ~ 1 + x1 + (1|f1)",
        "--formula",
        "y ~ 1 + x1 + (1|f1) + (1|f2)",
        "--backend",
        "iterative",
        "--quiet",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = covreml::cli::run(&argv);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stderr.contains("log-likelihood"), "{}", out.stderr);
}
