//! Maximum-likelihood fits (`Method::Ml`): the balanced one-way ANOVA
//! closed form, the score against central finite differences of the ML
//! log-likelihood, the AI matrix against the expected information where
//! they coincide, and the sparse backend against the dense one.

use covreml::data::{Incidence, Table};
use covreml::datasets::{john_alpha, john_alpha_model, sleepstudy_model};
use covreml::reml::{Backend, Method, MixedModel, RemlOptions};
use covreml::{Covariance, Scalar};
use nalgebra::DMatrix;

/// Two groups of three (the `MixedModel` doc example).
fn one_way(y: &[f64], groups: usize) -> MixedModel {
    let n = y.len();
    let per = n / groups;
    let x = DMatrix::from_element(n, 1, 1.0);
    let z = Incidence::new((0..n).map(|i| i / per).collect(), groups).unwrap();
    MixedModel::with_iid_residual(y, &x)
        .unwrap()
        .random(
            "group",
            z,
            Box::new(Covariance::<Scalar>::new(groups).unwrap()),
        )
        .unwrap()
}

#[test]
fn balanced_one_way_matches_the_ml_closed_form() {
    // a = 3 groups of m = 4: ML σ²_e = SSW/(N − a), σ²_a = ((1 − 1/a) MSB − MSW)/m
    // (Searle, Casella & McCulloch 1992, §3.7) when positive.
    let y = [1.0, 1.5, 1.2, 0.9, 3.0, 2.6, 3.3, 2.8, 2.0, 2.4, 1.7, 2.2];
    let (a, m) = (3usize, 4usize);
    let means: Vec<f64> = (0..a)
        .map(|g| y[g * m..(g + 1) * m].iter().sum::<f64>() / m as f64)
        .collect();
    let grand = y.iter().sum::<f64>() / y.len() as f64;
    let ssw: f64 = (0..y.len()).map(|i| (y[i] - means[i / m]).powi(2)).sum();
    let ssb: f64 = means.iter().map(|mu| m as f64 * (mu - grand).powi(2)).sum();
    let msw = ssw / (y.len() - a) as f64;
    let msb = ssb / (a - 1) as f64;
    let s2a = ((1.0 - 1.0 / a as f64) * msb - msw) / m as f64;
    assert!(s2a > 0.0);
    let model = one_way(&y, a);
    for backend in [Backend::Dense, Backend::Sparse] {
        let fit = model
            .fit(
                &RemlOptions::default()
                    .method(Method::Ml)
                    .backend(backend)
                    .tolerance(1e-10),
            )
            .unwrap();
        assert!(fit.termination.is_converged(), "{}", fit.termination);
        assert!(
            (fit.natural[0] - s2a).abs() < 1e-9,
            "{backend:?}: {} vs {s2a}",
            fit.natural[0]
        );
        assert!(
            (fit.natural[1] - msw).abs() < 1e-9,
            "{backend:?}: {} vs {msw}",
            fit.natural[1]
        );
        assert!((fit.beta[0] - grand).abs() < 1e-12);
        // The ML log-likelihood at the optimum, from its definition with the
        // dense V: −½[n log 2π + log|V| + (y − 1μ)ᵀV⁻¹(y − 1μ)].
        let n = y.len();
        let v = DMatrix::from_fn(n, n, |i, j| {
            (if i / m == j / m { s2a } else { 0.0 }) + if i == j { msw } else { 0.0 }
        });
        let chol = v.clone().cholesky().unwrap();
        let e = nalgebra::DVector::from_iterator(n, y.iter().map(|v| v - grand));
        let quad = e.dot(&chol.solve(&e));
        let logdet = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
        let ll = -0.5 * (n as f64 * (2.0 * std::f64::consts::PI).ln() + logdet + quad);
        assert!((fit.loglik - ll).abs() < 1e-9, "{} vs {ll}", fit.loglik);
    }
}

/// The score equals central differences of the log-likelihood.
fn score_matches_differences(model: &MixedModel, x: &[f64], backend: Backend, method: Method) {
    let opts = RemlOptions::default().backend(backend).method(method);
    let ev = model.evaluate(x, &opts).unwrap();
    let h = 1e-5;
    for k in 0..x.len() {
        let mut xp = x.to_vec();
        let mut xm = x.to_vec();
        xp[k] += h;
        xm[k] -= h;
        let fd = (model.evaluate(&xp, &opts).unwrap().loglik
            - model.evaluate(&xm, &opts).unwrap().loglik)
            / (2.0 * h);
        assert!(
            (ev.score[k] - fd).abs() < 1e-5 * (1.0 + fd.abs()),
            "{backend:?} {method:?} ∂/∂x_{k}: score {} vs differences {fd}",
            ev.score[k]
        );
    }
}

#[test]
fn ml_and_reml_scores_are_gradients_on_both_backends() {
    let ja = john_alpha_model(&john_alpha()).unwrap();
    let sleep = sleepstudy_model(
        &Table::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/lme4/sleepstudy.csv"
        ))
        .unwrap(),
    )
    .unwrap();
    for method in [Method::Ml, Method::Reml] {
        for backend in [Backend::Dense, Backend::Sparse] {
            score_matches_differences(&ja, &[-0.7, -1.1, -1.3], backend, method);
            score_matches_differences(&ja, &[0.2, 0.4, -0.1], backend, method);
            score_matches_differences(&sleep, &[3.0, 5.0, 1.7, 3.2], backend, method);
        }
    }
}

#[test]
fn ml_sparse_equals_dense() {
    let sleep = sleepstudy_model(
        &Table::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/lme4/sleepstudy.csv"
        ))
        .unwrap(),
    )
    .unwrap();
    let opts = RemlOptions::default().method(Method::Ml).tolerance(1e-9);
    let s = sleep.fit(&opts.clone().backend(Backend::Sparse)).unwrap();
    let d = sleep.fit(&opts.backend(Backend::Dense)).unwrap();
    assert!(s.termination.is_converged());
    for (a, b) in s.natural.iter().zip(&d.natural) {
        assert!((a - b).abs() < 1e-8 * b.abs(), "{a} vs {b}");
    }
    assert!((s.loglik - d.loglik).abs() < 1e-10 * d.loglik.abs());
    for (a, b) in s.ai.iter().zip(d.ai.iter()) {
        assert!((a - b).abs() < 1e-7 * (1.0 + b.abs()), "AI {a} vs {b}");
    }
}

/// Satterthwaite F tests against lmerTest (`tests/data/r/references.json`,
/// made by `tests/data/r/make_references.R`).
#[test]
fn satterthwaite_f_tests_match_lmertest() {
    use covreml::inference::satterthwaite;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/r/references.json"
    ))
    .unwrap();
    let refs: serde_json::Value = serde_json::from_str(&text).unwrap();
    let tight = RemlOptions::default().tolerance(1e-10);
    let check = |got: covreml::inference::FTest, r: &serde_json::Value| {
        let (f, df) = (r["f"].as_f64().unwrap(), r["den_df"].as_f64().unwrap());
        assert_eq!(got.num_df as f64, r["num_df"].as_f64().unwrap());
        assert!((got.f - f).abs() < 1e-6 * f, "F {} vs {f}", got.f);
        assert!(
            (got.den_df - df).abs() < 1e-4 * df,
            "df {} vs {df}",
            got.den_df
        );
    };
    let ja = john_alpha_model(&john_alpha()).unwrap();
    let fit = ja.fit(&tight).unwrap();
    let l = DMatrix::from_row_slice(2, 3, &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    check(
        satterthwaite(&ja, &fit, &l).unwrap(),
        &refs["f_tests"]["john_alpha"]["satterthwaite"]["rep"],
    );
    let sleep = sleepstudy_model(
        &Table::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/lme4/sleepstudy.csv"
        ))
        .unwrap(),
    )
    .unwrap();
    let fit = sleep.fit(&tight).unwrap();
    let l = DMatrix::from_row_slice(1, 2, &[0.0, 1.0]);
    check(
        satterthwaite(&sleep, &fit, &l).unwrap(),
        &refs["f_tests"]["sleepstudy"]["satterthwaite"]["Days"],
    );
}
