//! Step control near the boundary of the parameter space. Found in review: a
//! one-way model whose scale differs from the default start (σ² = 1) once
//! took an uncapped AI step of −3348 on the log scale, underflowed σ²_g to
//! exactly 0 and reported "converged" with SE 0 at a point 0.43 log-likelihood
//! units below the optimum. The optimum is checked here independently: the
//! one-way REML estimates have a closed form (ANOVA: σ²_e = MSW,
//! σ²_g = (MSB − MSW)/m) when MSB > MSW.

use covreml::data::Incidence;
use covreml::reml::{MixedModel, RemlOptions, Termination};
use covreml::{Covariance, Diagonal, Scalar};
use nalgebra::DMatrix;

fn one_way(y: &[f64], groups: usize) -> MixedModel {
    let n = y.len();
    let m = n / groups;
    let z = Incidence::new((0..n).map(|i| i / m).collect(), groups).unwrap();
    MixedModel::with_iid_residual(y, DMatrix::from_element(n, 1, 1.0))
        .unwrap()
        .random("g", z, Box::new(Covariance::<Scalar>::new(groups).unwrap()))
        .unwrap()
}

/// `(σ²_g, σ²_e)` by ANOVA for a balanced one-way layout.
fn anova(y: &[f64], groups: usize) -> (f64, f64) {
    let n = y.len();
    let m = n / groups;
    let mean = y.iter().sum::<f64>() / n as f64;
    let means: Vec<f64> = (0..groups)
        .map(|g| y[g * m..(g + 1) * m].iter().sum::<f64>() / m as f64)
        .collect();
    let ssb: f64 = means.iter().map(|a| m as f64 * (a - mean).powi(2)).sum();
    let ssw: f64 = (0..n).map(|i| (y[i] - means[i / m]).powi(2)).sum();
    let (msb, msw) = (ssb / (groups - 1) as f64, ssw / (n - groups) as f64);
    ((msb - msw) / m as f64, msw)
}

const Y: [f64; 12] = [
    1.2673598259387635,
    1.1106095094443782,
    1.0751343707251204,
    1.0794610567614313,
    0.8946957433628555,
    0.915244194432312,
    0.9333018256549312,
    1.0112325312844492,
    1.0301879571966392,
    1.0251350600512124,
    1.0287885452698131,
    1.2594958882846397,
];

#[test]
fn small_scale_data_fit_from_the_default_start() {
    let (g, e) = anova(&Y, 4);
    assert!(g > 0.0, "the optimum is interior");
    let fit = one_way(&Y, 4)
        .fit(&RemlOptions::default().tolerance(1e-10))
        .unwrap();
    assert_eq!(fit.termination, Termination::Converged);
    assert!(
        ((fit.natural[0] - g) / g).abs() < 1e-6,
        "{} vs {g}",
        fit.natural[0]
    );
    assert!(
        ((fit.natural[1] - e) / e).abs() < 1e-6,
        "{} vs {e}",
        fit.natural[1]
    );
    assert!(fit.natural_se.iter().all(|s| s.is_finite() && *s > 0.0));
    // log-likelihood never decreases, and no step moves a variance by more
    // than a factor e⁴ (2 on the log-sd scale)
    for w in fit.history.windows(2) {
        assert!(w[1].loglik >= w[0].loglik - 1e-12 * w[0].loglik.abs().max(1.0));
    }
    for it in &fit.history {
        assert!(
            it.step.iter().all(|s| s.abs() <= 2.0 + 1e-12),
            "{:?}",
            it.step
        );
    }
}

#[test]
fn a_variance_at_zero_ends_at_its_boundary_with_nan_se() {
    // Between-group spread below within-group: the REML estimate of σ²_g is 0.
    let y = [1.0, 2.0, 3.0, 2.1, 1.1, 2.9, 2.9, 1.9, 1.2];
    let (g, _) = anova(&y, 3);
    assert!(g < 0.0, "MSB < MSW: σ²_g is on the boundary");
    let fit = one_way(&y, 3)
        .fit(&RemlOptions::default().tolerance(1e-10))
        .unwrap();
    // A random variance at 0 is a singular fit by lme4's rule.
    assert_eq!(
        fit.termination,
        Termination::Singular {
            params: vec!["g/sigma^2".into()]
        }
    );
    assert!(fit.singular && fit.termination.is_converged());
    let var_y = 0.6; // about: the boundary is 1e-10 · var(y)
    assert!(fit.natural[0] < 1e-9 * var_y);
    assert!(fit.natural_se[0].is_nan(), "no SE at the boundary");
    // σ²_e is then the pooled variance around the overall mean (n − 1 df)
    let mean = y.iter().sum::<f64>() / 9.0;
    let s2 = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 8.0;
    assert!(
        ((fit.natural[1] - s2) / s2).abs() < 1e-6,
        "{} vs {s2}",
        fit.natural[1]
    );
    assert!(fit.natural_se[1].is_finite());
}

#[test]
fn unidentified_parameters_get_nan_standard_errors_not_zero() {
    // Level 2 of the random term never occurs: its variance is not identified.
    let y = [1.0, 2.0, 3.5, 2.1, 1.1, 2.9, 3.9, 1.9, 1.2, 2.2];
    let z = Incidence::new(vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 1], 3).unwrap();
    // Since issue 8 the design alone shows it: the term is refused before fitting.
    let e = MixedModel::with_iid_residual(&y, DMatrix::from_element(10, 1, 1.0))
        .unwrap()
        .random("g", z, Box::new(Covariance::<Diagonal>::new(3).unwrap()))
        .unwrap_err();
    assert!(e.to_string().contains("`g/sigma^2_2`"), "{e}");
}

#[test]
fn constant_response_stalls_instead_of_spinning() {
    let y = [2.0; 6];
    let fit = one_way(&y, 2).fit(&RemlOptions::default());
    match fit {
        Ok(f) => assert!(
            !f.termination.is_converged() && f.iterations < 200,
            "{} after {} iterations",
            f.termination,
            f.iterations
        ),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}
