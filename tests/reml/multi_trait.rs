//! Multi-trait models through the library builder against the independent
//! dense REML of `tests/independent/multi_trait_reml.py` (numbers in
//! `tests/data/multi_trait/reference.json`): G0, R0, β and the REML
//! log-likelihood to 1e-6, on a bivariate data set with missing traits, a
//! pedigree (animal) model, a genetic correlation at 1, a trivariate model,
//! a trait-common slope and a diagonal residual.

use covreml::data::Table;
use covreml::multi_trait::{MultiTrait, MultiTraitFit, TraitCovariance, TraitResidual};
use covreml::pedigree::Pedigree;
use covreml::reml::{Backend, RemlOptions};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/multi_trait/");

fn reference(case: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DIR}reference.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v[case].clone()
}

fn table(file: &str) -> Table {
    Table::read(format!("{DIR}{file}")).unwrap()
}

fn responses(t: &Table, names: &[&str]) -> Vec<Vec<f64>> {
    names
        .iter()
        .map(|n| {
            t.numeric_opt(n)
                .unwrap()
                .into_iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect()
        })
        .collect()
}

fn opts() -> RemlOptions {
    RemlOptions::default().tolerance(1e-9).max_iter(100)
}

/// Compares G0 (of the first term), R0, β and ℓ with the reference.
fn check(fit: &MultiTraitFit, r: &Value, tol: f64) {
    let f = &fit.fit;
    assert!(f.termination.is_converged(), "{:?}", f.termination);
    let lr = r["loglik"].as_f64().unwrap();
    assert!((f.loglik - lr).abs() < tol, "loglik {} vs {lr}", f.loglik);
    let beta: Vec<f64> = r["beta"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(f.beta.len(), beta.len());
    for (j, (a, b)) in f.beta.iter().zip(&beta).enumerate() {
        assert!((a - b).abs() < tol, "beta[{j}] {a} vs {b}");
    }
    for (m, key) in [(&fit.g[0], "G0"), (&fit.r, "R0")] {
        let t = m.traits.len();
        for a in 0..t {
            for b in 0..t {
                let want = r[key][a][b].as_f64().unwrap();
                let got = m.covariance[(a, b)];
                assert!((got - want).abs() < tol, "{key}[{a},{b}] {got} vs {want}");
            }
        }
    }
    assert_eq!(
        fit.dropped_records,
        r["dropped_records"].as_u64().unwrap() as usize
    );
    assert_eq!(f.n, r["n_obs"].as_u64().unwrap() as usize);
}

fn groups_model(file: &str, traits: &[&str], common: bool) -> MultiTrait {
    let t = table(file);
    let x = t.numeric("x").unwrap();
    let g = t.column("g").unwrap().to_vec();
    let m = MultiTrait::new(traits, responses(&t, traits)).unwrap();
    let m = if common {
        m.common_slope("x", x)
    } else {
        m.trait_slope("x", x)
    };
    m.unwrap()
        .random("g", &g, TraitCovariance::Unstructured)
        .unwrap()
}

#[test]
fn bivariate_with_missing_traits_matches_the_independent_reml() {
    let m = groups_model("bivariate.csv", &["y1", "y2"], false)
        .build()
        .unwrap();
    let fit = m.fit(&opts()).unwrap();
    check(&fit, &reference("bivariate"), 1e-6);
    assert!(fit.fit.backend.contains("sparse"), "{}", fit.fit.backend);
    // the pattern of the mixed-model equations is analysed once
    assert_eq!(m.model().sparse_analyses(), 1);
    assert_eq!(
        fit.fit.beta_names,
        ["traity1", "traity2", "traity1:x", "traity2:x"]
    );
    // the same on the dense backend
    let dense = m.fit(&opts().backend(Backend::Dense)).unwrap();
    check(&dense, &reference("bivariate"), 1e-6);
    // correlations and their standard errors are finite and in range
    let r = fit.g[0].correlation[(0, 1)];
    assert!(r > -1.0 && r < 1.0 && fit.g[0].correlation_se[(0, 1)] > 0.0);
}

#[test]
fn trait_common_slope_matches_the_independent_reml() {
    let m = groups_model("bivariate.csv", &["y1", "y2"], true)
        .build()
        .unwrap();
    let fit = m.fit(&opts()).unwrap();
    check(&fit, &reference("common_slope"), 1e-6);
    assert_eq!(fit.fit.beta_names, ["traity1", "traity2", "x"]);
}

#[test]
fn diagonal_residual_matches_the_independent_reml() {
    let m = groups_model("bivariate.csv", &["y1", "y2"], false)
        .residual(TraitResidual::Diagonal)
        .build()
        .unwrap();
    let fit = m.fit(&opts()).unwrap();
    check(&fit, &reference("diag_residual"), 1e-6);
    assert_eq!(fit.r.covariance[(0, 1)], 0.0);
}

#[test]
fn trivariate_matches_the_independent_reml() {
    let m = groups_model("trivariate.csv", &["y1", "y2", "y3"], false)
        .build()
        .unwrap();
    let fit = m.fit(&opts()).unwrap();
    check(&fit, &reference("trivariate"), 1e-6);
}

#[test]
fn genetic_correlation_at_one_matches_the_independent_reml() {
    let m = groups_model("boundary.csv", &["y1", "y2"], false)
        .build()
        .unwrap();
    let fit = m.fit(&opts()).unwrap();
    check(&fit, &reference("boundary"), 1e-6);
    let r = fit.g[0].correlation[(0, 1)];
    assert!((r - 1.0).abs() < 1e-6, "r_g = {r}");
    assert!(fit.fit.singular, "{:?}", fit.fit.termination);
    // completed in lme4's Λ form (G⁻¹ loses digits there), and said so
    assert!(
        fit.fit
            .warnings
            .iter()
            .any(|w| w.contains("completed in lme4's Λ form")),
        "{:?}",
        fit.fit.warnings
    );
    // the sparse backend asked for by name (G0⁻¹ loses digits at
    // r_g = 1) reaches the same optimum in the Λ form
    let sparse = m.fit(&opts().backend(Backend::Sparse)).unwrap();
    assert!(sparse.fit.singular, "{:?}", sparse.fit.termination);
    check(&sparse, &reference("boundary"), 1e-6);
}

#[test]
fn animal_model_with_pedigree_matches_the_independent_reml() {
    let p = table("pedigree.csv");
    let ped = Pedigree::from_columns(
        p.column("animal").unwrap(),
        p.column("sire").unwrap(),
        p.column("dam").unwrap(),
    )
    .unwrap();
    let t = table("animal.csv");
    let m = MultiTrait::new(&["y1", "y2"], responses(&t, &["y1", "y2"]))
        .unwrap()
        .trait_slope("x", t.numeric("x").unwrap())
        .unwrap()
        .animal(
            "animal",
            t.column("animal").unwrap(),
            &ped,
            TraitCovariance::Unstructured,
        )
        .unwrap()
        .build()
        .unwrap();
    let fit = m.fit(&opts()).unwrap();
    let r = reference("pedigree");
    check(&fit, &r, 1e-6);
    assert_eq!(fit.heritabilities.len(), 2);
    for (h, want) in fit.heritabilities.iter().zip(r["h2"].as_array().unwrap()) {
        assert!((h.value - want.as_f64().unwrap()).abs() < 1e-6);
        assert!(h.se > 0.0 && h.se < 1.0, "{h:?}");
    }
    let rg = fit.g[0].correlation[(0, 1)];
    assert!((rg - r["r_g"].as_f64().unwrap()).abs() < 1e-6);
}

#[test]
fn blups_by_level_and_trait() {
    let m = groups_model("bivariate.csv", &["y1", "y2"], false)
        .build()
        .unwrap();
    let fit = m.fit(&opts()).unwrap();
    let b = m.blups(&fit).unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].levels.len(), 30);
    assert_eq!(b[0].levels[0], "G01");
    assert_eq!((b[0].values.nrows(), b[0].values.ncols()), (30, 2));
    // BLUPs of each trait sum to ~0 over balanced-ish groups, are shrunk, and
    // have standard errors below the prior standard deviation
    for k in 0..2 {
        let g = fit.g[0].covariance[(k, k)].sqrt();
        assert!(b[0].se.column(k).iter().all(|&s| s > 0.0 && s < g));
    }
}
