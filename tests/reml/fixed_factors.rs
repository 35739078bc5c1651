//! Fixed factors with many levels (issue 20, item 7): their indicator
//! columns are a sparse block of the mixed-model equations, like a random
//! term's without a penalty; the fit matches lme4 (references made by
//! `tests/data/r/fixed_factor.R`, in `tests/data/fixed_factor/`). The
//! 1,000- and 3,000-level cases are rows of `cargo bench --bench mme`.

use covreml::data::Table;
use covreml::formula::FormulaModel;
use covreml::reml::{FixedEffects, MixedModel, RemlError, RemlOptions};
use nalgebra::DMatrix;
use serde_json::Value;

fn dir(file: &str) -> String {
    format!(
        "{}/tests/data/fixed_factor/{file}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir("small_lme4.json")).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

#[test]
fn a_90_level_fixed_factor_matches_lme4() {
    let t = Table::read(dir("small.csv")).unwrap();
    let r = reference();
    let m = FormulaModel::new("y ~ f + (1|g)", &t).unwrap();
    let fit = m.fit(&RemlOptions::default().tolerance(1e-10)).unwrap();
    assert!(fit.termination.is_converged(), "{}", fit.termination);
    assert!(fit.backend.starts_with("sparse"), "{}", fit.backend);
    // The 90 columns of X are not a dense 90 × 90 block of C (4,095 entries
    // with the diagonal): the factor's indicators meet only their own rows.
    let nnz: usize = fit
        .backend
        .split("nnz(C) ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{}", fit.backend));
    assert!(nnz < 1500, "nnz(C) = {nnz}: the fixed factor is dense");
    assert!(
        rel(
            fit.natural("g/sigma^2").unwrap(),
            r["sigma2_g"].as_f64().unwrap()
        ) < 1e-6
    );
    assert!(
        rel(
            fit.natural("residual/sigma^2").unwrap(),
            r["sigma2_residual"].as_f64().unwrap()
        ) < 1e-6
    );
    assert!((fit.loglik - r["loglik"].as_f64().unwrap()).abs() < 1e-6);
    let names: Vec<String> = r["beta_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(fit.beta_names, names);
    for (a, b) in fit.beta.iter().zip(floats(&r["beta"])) {
        assert!((a - b).abs() < 1e-6 * (1.0 + b.abs()), "β {a} vs {b}");
    }
    for (a, b) in fit.beta_se.iter().zip(floats(&r["beta_se"])) {
        assert!(rel(*a, b) < 1e-5, "se {a} vs {b}");
    }
    let post = m.mixed().post(&fit).unwrap();
    let g = post.blup("g").unwrap();
    for ((l, v), (rl, rv)) in g.levels.iter().zip(&g.values).zip(
        r["blup_levels"]
            .as_array()
            .unwrap()
            .iter()
            .zip(floats(&r["blup"])),
    ) {
        assert_eq!(l, rl.as_str().unwrap());
        assert!((v - rv).abs() < 1e-6, "BLUP {l}: {v} vs {rv}");
    }
    assert_eq!(m.mixed().sparse_analyses(), 1);
}

#[test]
fn an_aliased_column_among_many_is_named() {
    // 100 columns (past the fast rank certificate): an intercept, 98
    // indicators, and a last column that is the sum of two of them.
    let n = 600;
    let level = |i: usize| (i * 37) % 99;
    let mut x = DMatrix::zeros(n, 100);
    for i in 0..n {
        x[(i, 0)] = 1.0;
        if level(i) > 0 {
            x[(i, level(i))] = 1.0;
        }
        x[(i, 99)] = x[(i, 3)] + x[(i, 7)];
    }
    let y: Vec<f64> = (0..n)
        .map(|i| (level(i) % 5) as f64 + (i % 7) as f64 * 0.1)
        .collect();
    let names: Vec<String> = (0..100).map(|j| format!("c{j}")).collect();
    let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let e =
        MixedModel::with_iid_residual(&y, FixedEffects::new(x.clone()).named(&refs)).unwrap_err();
    assert!(matches!(e, RemlError::RankDeficient { .. }), "{e}");
    assert!(e.to_string().contains("`c99`"), "{e}");
    // Without the aliased column: certified full rank, accepted.
    let x = x.columns(0, 99).into_owned();
    assert!(MixedModel::with_iid_residual(&y, &x).is_ok());
}
