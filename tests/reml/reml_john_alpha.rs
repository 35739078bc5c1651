//! john.alpha: REML fit against lme4, the exact optimum, the AI standard
//! errors and the mean variance of BLUP differences in `tests/data/fits.json`.

use covreml::datasets::john_alpha;

use covreml::reml::{MixedModel, RemlOptions, Termination};
use covreml::{Covariance, Scalar};
use serde_json::Value;

fn reference() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/fits.json"))
            .expect("tests/data/fits.json");
    serde_json::from_str::<Value>(&text).expect("valid JSON")["john_alpha"].clone()
}

fn model() -> MixedModel {
    crate::common::john_alpha::model(Box::new(Covariance::<Scalar>::new(72).unwrap()), false)
}

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

#[test]
fn matches_lme4_from_default_start() {
    let r = reference();
    let fit = model().fit(&RemlOptions::default()).unwrap();
    assert_eq!(fit.termination, Termination::Converged);
    assert_eq!(
        fit.names,
        ["gen/sigma^2", "rep:block/sigma^2", "residual/sigma^2"]
    );
    for (i, key) in ["gen", "rep:block", "residual"].iter().enumerate() {
        let want = r["sigma2"][key].as_f64().unwrap();
        assert!(
            rel(fit.natural[i], want) < 1e-5,
            "{key}: {} vs {want}",
            fit.natural[i]
        );
    }
    for i in 0..3 {
        let want = r["beta"][i].as_f64().unwrap();
        assert!(
            rel(fit.beta[i], want) < 1e-5,
            "beta[{i}]: {} vs {want}",
            fit.beta[i]
        );
    }
    let ll = r["loglik_reml_full"].as_f64().unwrap();
    assert!(rel(fit.loglik, ll) < 1e-5, "{} vs {ll}", fit.loglik);
    let ll0 = r["loglik_reml_without_2pi_constant"].as_f64().unwrap();
    assert!(
        rel(fit.loglik_no_constant, ll0) < 1e-5,
        "{} vs {ll0}",
        fit.loglik_no_constant
    );
    for i in 0..3 {
        let want = r["ai_standard_errors_of_sigma2"][i].as_f64().unwrap();
        assert!(
            (fit.natural_se[i] - want).abs() < 0.6e-5,
            "se[{i}] {} vs {want}",
            fit.natural_se[i]
        );
    }
    // The log-likelihood never decreases between accepted iterations.
    for w in fit.history.windows(2) {
        assert!(
            w[1].loglik >= w[0].loglik,
            "{} then {}",
            w[0].loglik,
            w[1].loglik
        );
    }
}

#[test]
fn matches_exact_optimum_with_tight_tolerances() {
    let r = reference();
    let fit = model()
        .fit(&RemlOptions::default().tolerance(1e-10))
        .unwrap();
    assert_eq!(fit.termination, Termination::Converged, "{fit}");
    for (i, key) in ["gen", "rep:block", "residual"].iter().enumerate() {
        let want = r["sigma2_exact_optimum"][key].as_f64().unwrap();
        assert!(
            rel(fit.natural[i], want) < 1e-7,
            "{key}: {} vs {want}",
            fit.natural[i]
        );
    }
}

#[test]
fn mean_variance_of_genotype_blup_differences() {
    let r = reference();
    let m = model();
    let fit = m.fit(&RemlOptions::default().tolerance(1e-10)).unwrap();
    let post = m.post(&fit).unwrap();
    let gen = post.blup("gen").unwrap();
    assert_eq!(gen.values.len(), 24);
    let want = r["mean_variance_of_difference_of_gen_blups"]
        .as_f64()
        .unwrap();
    let got = gen.mean_variance_of_difference();
    assert!(rel(got, want) < 1e-6, "{got} vs {want}");
    // BLUPs of a random term with identity G sum to zero; conditional
    // predictions add them to the marginal ones.
    assert!(gen.values.iter().sum::<f64>().abs() < 1e-10);
    let y = john_alpha().numeric("yield").unwrap();
    for (i, yi) in y.iter().enumerate() {
        let a = post.conditional_fitted[i] + post.conditional_residuals[i];
        assert!((a - yi).abs() < 1e-12);
        let b = post.marginal.fitted[i] + post.marginal.residuals[i];
        assert!((b - yi).abs() < 1e-12);
    }
}

#[test]
fn iid_residual_path_equals_scalar_residual_model() {
    let a = model().fit(&RemlOptions::default()).unwrap();
    let b = covreml::datasets::john_alpha_model(&john_alpha())
        .unwrap()
        .fit(&RemlOptions::default())
        .unwrap();
    assert_eq!(a.names, b.names);
    assert_eq!(a.iterations, b.iterations);
    for i in 0..3 {
        assert!(rel(a.natural[i], b.natural[i]) < 1e-10);
        assert!(rel(a.natural_se[i], b.natural_se[i]) < 1e-8);
    }
    assert!(rel(a.loglik, b.loglik) < 1e-12);
}

#[test]
fn dense_z_path_equals_incidence_path() {
    let m =
        crate::common::john_alpha::model(Box::new(Covariance::<Scalar>::new(72).unwrap()), true);
    let a = m.fit(&RemlOptions::default()).unwrap();
    let b = model().fit(&RemlOptions::default()).unwrap();
    for i in 0..3 {
        assert!(rel(a.natural[i], b.natural[i]) < 1e-10);
    }
    let (pa, pb) = (m.post(&a).unwrap(), model().post(&b).unwrap());
    let (ga, gb) = (pa.blup("gen").unwrap(), pb.blup("gen").unwrap());
    assert!((ga.mean_variance_of_difference() - gb.mean_variance_of_difference()).abs() < 1e-10);
}
