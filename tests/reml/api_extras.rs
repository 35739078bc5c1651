//! Issue 11's remaining API: lme4-style dropping of aliased fixed-effect
//! columns, post-estimation at any θ, and the `serde` feature.
//!
//! Expected values are computed here independently: BLUPs at a given θ from
//! the textbook formulas `β̂ = (XᵀV⁻¹X)⁻¹XᵀV⁻¹y`, `û = GZᵀV⁻¹(y − Xβ̂)` with
//! dense nalgebra algebra, and a dropped column against the model written
//! without it.

use covreml::data::Incidence;
use covreml::datasets::{john_alpha, john_alpha_model};
use covreml::nalgebra::{DMatrix, DVector};
use covreml::reml::{Aliased, Backend, FixedEffects, MixedModel, RemlError, RemlOptions};
use covreml::{Covariance, CovarianceModel, Scalar};

fn scalar(q: usize) -> Box<dyn CovarianceModel> {
    Box::new(Covariance::<Scalar>::new(q).unwrap())
}

/// john.alpha's response, `X = [1, repR2, repR3]` and the two incidences.
fn john_parts() -> (Vec<f64>, DMatrix<f64>, Incidence, Incidence) {
    let t = john_alpha();
    let y = t.numeric("yield").unwrap();
    let rep = t.column("rep").unwrap();
    let x = DMatrix::from_fn(y.len(), 3, |i, j| match j {
        0 => 1.0,
        1 => f64::from(u8::from(rep[i] == "R2")),
        _ => f64::from(u8::from(rep[i] == "R3")),
    });
    let gen = Incidence::from_columns(&[t.column("gen").unwrap()]).unwrap();
    let block =
        Incidence::from_columns(&[t.column("rep").unwrap(), t.column("block").unwrap()]).unwrap();
    (y, x, gen, block)
}

fn model(y: &[f64], fe: FixedEffects) -> Result<MixedModel, RemlError> {
    let (_, _, gen, block) = john_parts();
    let (qg, qb) = (gen.n_levels(), block.n_levels());
    MixedModel::with_iid_residual(y, fe)?
        .random("gen", gen, scalar(qg))?
        .random("rep:block", block, scalar(qb))
}

#[test]
fn aliased_columns_are_named_in_the_error() {
    let (y, x, _, _) = john_parts();
    // repR1 = 1 − repR2 − repR3: aliased with the columns before it.
    let mut xa = DMatrix::zeros(y.len(), 4);
    xa.columns_mut(0, 3).copy_from(&x);
    for i in 0..y.len() {
        xa[(i, 3)] = 1.0 - x[(i, 1)] - x[(i, 2)];
    }
    let names = ["(Intercept)", "repR2", "repR3", "repR1"];
    let e = model(&y, FixedEffects::new(xa.clone()).named(&names)).unwrap_err();
    assert!(matches!(e, RemlError::RankDeficient { .. }), "{e}");
    assert!(e.to_string().contains("`repR1`"), "{e}");
    // Unnamed columns are named by position.
    let e = model(&y, xa.clone().into()).unwrap_err();
    assert!(e.to_string().contains("`beta[3]`"), "{e}");
}

#[test]
fn dropping_aliased_columns_fits_the_model_without_them() {
    let (y, x, _, _) = john_parts();
    let mut xa = DMatrix::zeros(y.len(), 5);
    // Columns: 1, repR2, 2·repR2 (aliased), repR3, 1 − repR3 (aliased).
    for i in 0..y.len() {
        xa[(i, 0)] = 1.0;
        xa[(i, 1)] = x[(i, 1)];
        xa[(i, 2)] = 2.0 * x[(i, 1)];
        xa[(i, 3)] = x[(i, 2)];
        xa[(i, 4)] = 1.0 - x[(i, 2)];
    }
    let names = ["(Intercept)", "repR2", "twice", "repR3", "notR3"];
    let fe = FixedEffects::new(xa).named(&names).aliased(Aliased::Drop);
    let dropped = model(&y, fe).unwrap();
    assert_eq!(dropped.fixed_names(), ["(Intercept)", "repR2", "repR3"]);
    let opts = RemlOptions::default().tolerance(1e-10);
    let a = dropped.fit(&opts).unwrap();
    let plain = model(
        &y,
        FixedEffects::new(x).named(&["(Intercept)", "repR2", "repR3"]),
    )
    .unwrap()
    .fit(&opts)
    .unwrap();
    assert!(
        a.warnings[0].contains("`twice`, `notR3`"),
        "{:?}",
        a.warnings
    );
    assert_eq!(a.beta_names, plain.beta_names);
    for (u, v) in a.beta.iter().zip(&plain.beta) {
        assert!((u - v).abs() <= 1e-10 * v.abs().max(1.0));
    }
    assert!((a.loglik - plain.loglik).abs() <= 1e-10 * plain.loglik.abs());
}

#[test]
fn duplicate_names_and_wrong_name_counts_are_refused() {
    let (y, x, _, _) = john_parts();
    let e = model(&y, FixedEffects::new(x.clone()).named(&["a", "b", "a"])).unwrap_err();
    assert!(e.to_string().contains("`a` names two columns"), "{e}");
    let e = model(&y, FixedEffects::new(x).named(&["a", "b"])).unwrap_err();
    assert!(e.to_string().contains("fixed-effect names"), "{e}");
}

/// `β̂` and each term's `û` at θ by dense textbook algebra.
fn blups_by_hand(theta: &[f64]) -> (DVector<f64>, Vec<DVector<f64>>) {
    let (y, x, gen, block) = john_parts();
    let n = y.len();
    let zg = gen.to_dense();
    let zb = block.to_dense();
    let v = &zg * zg.transpose() * theta[0]
        + &zb * zb.transpose() * theta[1]
        + DMatrix::identity(n, n) * theta[2];
    let vi = v.cholesky().unwrap().inverse();
    let y = DVector::from_vec(y);
    let xtvi = x.transpose() * &vi;
    let beta = (&xtvi * &x).cholesky().unwrap().solve(&(&xtvi * &y));
    let r = &vi * (&y - &x * &beta);
    let ug = zg.transpose() * &r * theta[0];
    let ub = zb.transpose() * &r * theta[1];
    (beta, vec![ug, ub])
}

#[test]
fn post_at_any_theta_matches_the_textbook_formulas() {
    let m = john_alpha_model(&john_alpha()).unwrap();
    // θ = (0.05, 0.2, 0.3) on the natural scale; free x = ½ log θ.
    let theta = [0.05, 0.2, 0.3];
    let free: Vec<f64> = theta.iter().map(|t: &f64| 0.5 * t.ln()).collect();
    let (beta, us) = blups_by_hand(&theta);
    for backend in [Backend::Dense, Backend::Sparse] {
        let p = m.post_at(&free, backend).unwrap();
        for (a, b) in p.marginal.beta.iter().zip(beta.iter()) {
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{backend:?} β {a} vs {b}"
            );
        }
        for (blup, u) in p.blups.iter().zip(&us) {
            assert_eq!(blup.values.len(), u.len());
            for (a, b) in blup.values.iter().zip(u.iter()) {
                assert!(
                    (a - b).abs() <= 1e-9,
                    "{backend:?} {}: {a} vs {b}",
                    blup.term
                );
            }
        }
    }
    // A wrong-length θ is an error, not a panic.
    assert!(m.post_at(&free[..2], Backend::Auto).is_err());
}

/// The rescaled start: at the defaults (every variance 1) the common scale
/// is `c = yᵀPy / (n − p)`, computed here with dense nalgebra algebra; the
/// first iteration of a default fit is at `c` times every variance, and the
/// fit reaches the same optimum as one started at the defaults, in fewer
/// iterations (the yields in grams, `y × 1000`, are far from unit variance).
#[test]
fn the_default_start_is_rescaled_by_the_profiled_scale() {
    let (y, x, gen, block) = john_parts();
    let y: Vec<f64> = y.iter().map(|v| v * 1000.0).collect();
    let (n, p) = (y.len(), x.ncols());
    let (zg, zb) = (gen.to_dense(), block.to_dense());
    let v = &zg * zg.transpose() + &zb * zb.transpose() + DMatrix::identity(n, n);
    let vi = v.cholesky().unwrap().inverse();
    let xtvi = x.transpose() * &vi;
    let pm = &vi - xtvi.transpose() * (&xtvi * &x).cholesky().unwrap().inverse() * &xtvi;
    let yv = DVector::from_vec(y.clone());
    let c = (yv.transpose() * &pm * &yv)[(0, 0)] / (n - p) as f64;
    assert!(c > 1e4, "the scale of y × 1000: {c}");

    let m = model(&y, x.clone().into()).unwrap();
    for backend in [Backend::Dense, Backend::Sparse] {
        let opts = RemlOptions::default().backend(backend);
        let scaled = m.fit(&opts).unwrap();
        for v in &scaled.history[0].natural {
            assert!(
                (v / c - 1.0).abs() <= 1e-10,
                "{backend:?}: started at {v}, c = {c}"
            );
        }
        let plain = m.fit(&opts.clone().rescale_start(false)).unwrap();
        assert_eq!(plain.history[0].natural, vec![1.0; 3], "{backend:?}");
        assert!(scaled.termination.is_converged() && plain.termination.is_converged());
        for (a, b) in scaled.natural.iter().zip(&plain.natural) {
            assert!((a - b).abs() <= 1e-5 * b.abs(), "{backend:?}: {a} vs {b}");
        }
        assert!((scaled.loglik - plain.loglik).abs() <= 1e-8 * plain.loglik.abs());
        assert!(
            scaled.iterations < plain.iterations,
            "{backend:?}: {} iterations rescaled, {} from the defaults",
            scaled.iterations,
            plain.iterations
        );
        // An explicit start is used as given.
        let given = m.fit(&opts.clone().start(vec![0.0; 3])).unwrap();
        assert_eq!(given.history[0].free, vec![0.0; 3], "{backend:?}");
    }
}

#[cfg(feature = "serde")]
mod serde_export {
    use super::*;
    use covreml::reml::{MixedPost, RemlFit};
    use covreml::ParamSpec;

    #[test]
    fn a_fit_round_trips_through_json_with_nan_and_infinities() {
        let m = john_alpha_model(&john_alpha()).unwrap();
        let opts = RemlOptions::default().tolerance(1e-8);
        let fit = m.fit(&opts).unwrap();
        let text = serde_json::to_string(&fit).unwrap();
        let back: RemlFit = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        assert_eq!(back.beta, fit.beta);
        assert_eq!(back.loglik, fit.loglik);
        // Matrices are arrays of rows.
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["ai"].as_array().unwrap().len(), 3);
        assert_eq!(v["ai"][0].as_array().unwrap().len(), 3);
        assert_eq!(v["ai"][0][1].as_f64().unwrap(), fit.ai[(0, 1)]);
        assert_eq!(v["termination"], serde_json::json!("Converged"));

        // A NaN standard error is `null` and reads back as NaN.
        let mut held = fit.clone();
        held.natural_se[0] = f64::NAN;
        let text = serde_json::to_string(&held).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(v["natural_se"][0].is_null());
        let back: RemlFit = serde_json::from_str(&text).unwrap();
        assert!(back.natural_se[0].is_nan());

        // Options with infinite bounds round-trip.
        let o = RemlOptions::default().bounds_all(f64::NEG_INFINITY, 3.0);
        let text = serde_json::to_string(&o).unwrap();
        assert!(text.contains("\"-inf\""), "{text}");
        let back: RemlOptions = serde_json::from_str(&text).unwrap();
        assert_eq!(back, o);
    }

    #[test]
    fn post_estimation_and_parameter_tables_export() {
        let m = john_alpha_model(&john_alpha()).unwrap();
        let fit = m.fit(&RemlOptions::default()).unwrap();
        let post = m.post(&fit).unwrap();
        let text = serde_json::to_string(&post).unwrap();
        let back: MixedPost = serde_json::from_str(&text).unwrap();
        assert_eq!(back, post);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["blups"][0]["term"], "gen");
        assert_eq!(
            v["blups"][0]["levels"].as_array().unwrap().len(),
            post.blups[0].values.len()
        );

        let c = Covariance::<covreml::ops::Kron<covreml::AR1, Scalar>>::new((3, 2)).unwrap();
        let specs = c.specs().to_vec();
        let text = serde_json::to_string(&specs).unwrap();
        assert!(text.contains("\"op_0/rho\""), "{text}");
        let back: Vec<ParamSpec> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, specs);
        // A malformed name is an error naming it.
        let e = serde_json::from_str::<covreml::ParamName>("\"a//b\"").unwrap_err();
        assert!(e.to_string().contains("a//b"), "{e}");
    }
}
