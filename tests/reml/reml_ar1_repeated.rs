//! ar1_repeated: marginal model `V = I₄₀ ⊗ σ² AR1(6)` from the default
//! start against nlme (`tests/data/fits.json`).

use covreml::data::{ModelMatrix, Table};
use covreml::ops::Kron;
use covreml::reml::{MarginalModel, RemlOptions, Termination};
use covreml::{Covariance, Identity, JacobianMethod, AR1};
use serde_json::Value;

fn reference() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/fits.json"))
            .expect("tests/data/fits.json");
    serde_json::from_str::<Value>(&text).expect("valid JSON")["ar1_repeated"].clone()
}

fn model() -> MarginalModel {
    let t = Table::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/ar1_repeated.csv"
    ))
    .unwrap();
    let n = t.n_rows();
    assert_eq!(n, 240);
    // Rows are subject-major with times 0..5, as I₄₀ ⊗ AR1(6) needs.
    let time = t.numeric("time").unwrap();
    let subject = t.column("subject").unwrap();
    for i in 0..n {
        assert_eq!(time[i], (i % 6) as f64);
        assert_eq!(subject[i], subject[i - i % 6]);
    }
    let x = ModelMatrix::new(n)
        .intercept()
        .numeric("time", &time)
        .unwrap()
        .numeric("x", &t.numeric("x").unwrap())
        .unwrap()
        .matrix();
    let v = Covariance::<Kron<Identity, AR1>>::new((40, 6)).unwrap();
    MarginalModel::new(&t.numeric("y").unwrap(), &x, Box::new(v)).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

fn check(method: JacobianMethod) {
    let r = reference();
    let m = model();
    let fit = m.fit(&RemlOptions::default().jacobian(method)).unwrap();
    assert_eq!(fit.termination, Termination::Converged, "{fit}");
    assert_eq!(fit.natural.len(), 2);
    let s2 = r["sigma2"].as_f64().unwrap();
    let rho = r["rho"].as_f64().unwrap();
    assert!(
        rel(fit.natural[0], s2) < 1e-5,
        "sigma^2 {} vs {s2}",
        fit.natural[0]
    );
    assert!(
        rel(fit.natural[1], rho) < 1e-5,
        "rho {} vs {rho}",
        fit.natural[1]
    );
    for i in 0..3 {
        let want = r["beta"][i].as_f64().unwrap();
        assert!(
            rel(fit.beta[i], want) < 1e-5,
            "beta[{i}] {} vs {want}",
            fit.beta[i]
        );
    }
    let ll = r["loglik_reml_full"].as_f64().unwrap();
    assert!(rel(fit.loglik, ll) < 1e-5, "{} vs {ll}", fit.loglik);
    for w in fit.history.windows(2) {
        assert!(w[1].loglik >= w[0].loglik);
    }
    // Marginal post-estimation: residuals add up to y.
    let post = m.post(&fit).unwrap();
    assert_eq!(post.beta, fit.beta);
    assert_eq!(post.residuals.len(), 240);
}

#[test]
fn matches_nlme_from_default_start_closed_form() {
    check(JacobianMethod::ClosedForm);
}

#[test]
fn matches_nlme_from_default_start_dual_numbers() {
    check(JacobianMethod::DualNumbers);
}
