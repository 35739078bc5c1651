//! Factor analytic `FA(k)`: the closed-form Jacobian against dual numbers
//! (property tests, including the default start and boundary-like points),
//! and REML fits of a simulated multi-environment trial with the dense
//! engine: `FA(1)` and `FA(2)` recover the simulated loadings up to sign,
//! and a saturated `FA` reaches the `Unconstrained` log-likelihood.

use crate::common::{assert_closed_form_matches_dual, max_abs, SplitMix};
use covreml::data::Incidence;
use covreml::reml::{MixedModel, RemlFit, RemlOptions};
use covreml::{
    Covariance, CovarianceModel, FactorAnalytic, Identity, Kron, Scalar, Structure, Unconstrained,
};
use nalgebra::DMatrix;
use proptest::prelude::*;

const MAXP: usize = 32;

/// Loadings anywhere (exact zeros too: the saddle), specific variances from
/// tiny to huge on the free scale.
fn point() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        1 => Just(vec![0.0; MAXP]),
        1 => prop::collection::vec(
            prop_oneof![Just(0.0), Just(12.0), Just(-12.0), Just(20.0), Just(-20.0)],
            MAXP
        ),
        4 => prop::collection::vec(
            prop_oneof![6 => -4.0..4.0f64, 1 => Just(0.0), 1 => 12.0..20.0f64, 1 => -20.0..-12.0f64],
            MAXP
        ),
    ]
}

fn check<const K: usize>(n: usize, pt: &[f64]) {
    let cov = Covariance::<FactorAnalytic<K>>::new(n).unwrap();
    let free = &pt[..cov.n_free()];
    let what = format!("FA({K}), n = {n}");
    assert_closed_form_matches_dual(&cov, free, 1e-12, &what);
    let gc = cov.check_gradients(free).unwrap();
    assert!(gc.passes(0.0, 1e-12), "{what}:\n{gc}");
}

fn check_default<const K: usize>(n: usize) {
    let cov = Covariance::<FactorAnalytic<K>>::new(n).unwrap();
    let free = cov.free_defaults();
    assert_closed_form_matches_dual(&cov, &free, 1e-12, "default start");
    // not a saddle: every loading moves V at the default start
    let j = cov.jacobian(&free).unwrap();
    for (name, d) in cov.free_names().iter().zip(&j) {
        assert!(
            max_abs(d) > 0.5,
            "FA({K}), n = {n}: ∂V/∂{name} = 0 at the default start"
        );
    }
    // and V is positive definite there
    assert!(cov.value(&free).unwrap().cholesky().is_some());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fa1_jacobian(n in 1usize..=7, pt in point()) { check::<1>(n, &pt) }

    #[test]
    fn fa2_jacobian(n in 2usize..=7, pt in point()) { check::<2>(n, &pt) }

    #[test]
    fn fa3_jacobian(n in 3usize..=7, pt in point()) { check::<3>(n, &pt) }

    #[test]
    fn fa2_inside_kron(q in 1usize..=3, n in 2usize..=4, pt in point()) {
        let cov = Covariance::<Kron<Identity, FactorAnalytic<2>>>::new((q, n)).unwrap();
        let free = &pt[..cov.n_free()];
        assert_closed_form_matches_dual(&cov, free, 1e-12, "I ⊗ FA(2)");
    }
}

#[test]
fn default_start_is_not_a_saddle() {
    for n in 1..=6 {
        check_default::<1>(n);
    }
    for n in 2..=6 {
        check_default::<2>(n);
    }
    for n in 3..=6 {
        check_default::<3>(n);
    }
}

#[test]
fn names_counts_and_shape_errors() {
    let fa = Covariance::<FactorAnalytic<2>>::new(4).unwrap();
    assert_eq!(
        fa.names(),
        [
            "lambda_0_0",
            "lambda_1_0",
            "lambda_2_0",
            "lambda_3_0",
            "lambda_1_1",
            "lambda_2_1",
            "lambda_3_1",
            "psi_0",
            "psi_1",
            "psi_2",
            "psi_3"
        ]
    );
    // nk − k(k−1)/2 + n
    assert_eq!(<FactorAnalytic<3>>::param_count(&5), 15 - 3 + 5);
    let e = Covariance::<FactorAnalytic<3>>::new(2).unwrap_err();
    assert!(e.to_string().contains("1 ≤ k ≤ n"), "{e}");
    assert!(Covariance::<FactorAnalytic<0>>::new(2).is_err());
    // the structural zero: λ_0_1 = 0 whatever the parameters
    let v = fa
        .value(&[
            1.0, 0.0, 0.0, 0.0, 2.0, 3.0, 4.0, -40.0, -40.0, -40.0, -40.0,
        ])
        .unwrap();
    assert!(v[(0, 1)].abs() < 1e-30 && v[(0, 0)] > 0.99);
    assert!((v[(1, 2)] - 6.0).abs() < 1e-12);
}

// ---- a simulated multi-environment trial ----------------------------------

/// Standard normal deviates (Box–Muller).
fn normal(rng: &mut SplitMix) -> f64 {
    let u1 = rng.uniform(f64::EPSILON, 1.0);
    let u2 = rng.uniform(0.0, 1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A trial of `genotypes` genotypes in `lambda.nrows()` environments with
/// `reps` plots per genotype and environment: `y = μ_e + u_ge + ε`, the
/// genotype effects `u_g = Λ f_g + δ_g` (`f ~ N(0, I_k)`, `δ ~ N(0, Ψ)`),
/// `ε ~ N(0, σ²)`. Rows are genotype-major; returns `(y, X, Z)` with the
/// columns of `Z` ordered `g·E + e` (the order of `I_G ⊗ G_E`).
fn simulate(
    lambda: &DMatrix<f64>,
    psi: &[f64],
    sigma2: f64,
    genotypes: usize,
    reps: usize,
    seed: &str,
) -> (Vec<f64>, DMatrix<f64>, Incidence) {
    let (e_n, k) = lambda.shape();
    let mut rng = SplitMix::from_name(seed);
    let mu: Vec<f64> = (0..e_n).map(|e| 10.0 + e as f64).collect();
    let (mut y, mut env, mut level) = (Vec::new(), Vec::new(), Vec::new());
    for g in 0..genotypes {
        let f: Vec<f64> = (0..k).map(|_| normal(&mut rng)).collect();
        for e in 0..e_n {
            let u = (0..k).map(|j| lambda[(e, j)] * f[j]).sum::<f64>()
                + psi[e].sqrt() * normal(&mut rng);
            for _ in 0..reps {
                y.push(mu[e] + u + sigma2.sqrt() * normal(&mut rng));
                env.push(e);
                level.push(g * e_n + e);
            }
        }
    }
    let x = DMatrix::from_fn(y.len(), e_n, |r, c| if env[r] == c { 1.0 } else { 0.0 });
    let z = Incidence::new(level, genotypes * e_n).unwrap();
    (y, x, z)
}

fn fit(y: &[f64], x: &DMatrix<f64>, z: &Incidence, g: Box<dyn CovarianceModel>) -> RemlFit {
    let r = Covariance::<Scalar>::new(y.len()).unwrap();
    let model = MixedModel::new(y, x, Box::new(r))
        .unwrap()
        .random("ge", z.clone(), g)
        .unwrap();
    model
        .fit(&RemlOptions::default().tolerance(1e-8).max_iter(100))
        .unwrap()
}

/// The estimated loadings (E × k) of `ge/op_1/lambda_i_j`, with their
/// standard errors.
fn loadings(fit: &RemlFit, e_n: usize, k: usize) -> (DMatrix<f64>, DMatrix<f64>) {
    let mut l = DMatrix::zeros(e_n, k);
    let mut se = DMatrix::zeros(e_n, k);
    for j in 0..k {
        for i in j..e_n {
            let name = format!("ge/op_1/lambda_{i}_{j}");
            l[(i, j)] = fit
                .natural(&name)
                .unwrap_or_else(|| panic!("no {name} in {:?}", fit.names));
            se[(i, j)] = fit.natural_se(&name).unwrap();
        }
    }
    (l, se)
}

/// Each estimated loading within four of its standard errors of the
/// simulated one, after choosing each column's sign.
///
/// The tolerance: with `G` genotypes the loadings are estimated with
/// standard errors of order `|λ|/√G` (≈ 0.1 here with 120–150 genotypes;
/// the test uses the fit's own standard errors and checks they are below
/// 0.3); four standard errors is a two-sided 6·10⁻⁵ tail per loading, and
/// the seed is fixed.
fn assert_recovered(fit: &RemlFit, truth: &DMatrix<f64>) {
    let (e_n, k) = truth.shape();
    let (l, se) = loadings(fit, e_n, k);
    for j in 0..k {
        let sign = if l.column(j).dot(&truth.column(j)) < 0.0 {
            -1.0
        } else {
            1.0
        };
        for i in j..e_n {
            let (est, s, t) = (sign * l[(i, j)], se[(i, j)], truth[(i, j)]);
            assert!(s.is_finite() && s > 0.0 && s < 0.3, "λ_{i}_{j}: SE {s}");
            assert!(
                (est - t).abs() <= 4.0 * s,
                "λ_{i}_{j}: estimate {est:.4} ± {s:.4}, simulated {t}\n{fit:?}"
            );
        }
    }
}

#[test]
fn fa1_recovers_simulated_loadings() {
    let truth = DMatrix::from_column_slice(4, 1, &[1.0, 0.7, -0.5, 1.3]);
    let psi = [0.2, 0.3, 0.25, 0.15];
    let (y, x, z) = simulate(&truth, &psi, 0.5, 150, 2, "fa1 trial");
    let g = Covariance::<Kron<Identity, FactorAnalytic<1>>>::new((150, 4)).unwrap();
    let f = fit(&y, &x, &z, Box::new(g));
    assert!(f.termination.is_converged(), "{}", f.termination);
    assert_recovered(&f, &truth);
    let s2 = f.natural("residual/sigma^2").unwrap();
    assert!((s2 - 0.5).abs() < 4.0 * f.natural_se("residual/sigma^2").unwrap());
}

#[test]
fn fa2_recovers_simulated_loadings() {
    #[rustfmt::skip]
    let truth = DMatrix::from_row_slice(5, 2, &[
        1.0, 0.0,
        0.8, 0.7,
        0.5, -0.8,
        1.2, 0.4,
        0.6, 1.0,
    ]);
    let psi = [0.2, 0.15, 0.25, 0.2, 0.1];
    let (y, x, z) = simulate(&truth, &psi, 0.4, 120, 2, "fa2 trial");
    let g = Covariance::<Kron<Identity, FactorAnalytic<2>>>::new((120, 5)).unwrap();
    let f = fit(&y, &x, &z, Box::new(g));
    assert!(f.termination.is_converged(), "{}", f.termination);
    assert_recovered(&f, &truth);
}

/// `FA(k)` on `k + 1` environments can represent every positive definite
/// genetic covariance (with `Ψ = λ_min I` the rest has rank `k`), so its
/// REML optimum is the unstructured one: equal log-likelihoods.
fn saturated<const K: usize>(seed: &str) {
    let e_n = K + 1;
    let truth = DMatrix::from_fn(e_n, K, |i, j| {
        if j > i {
            0.0
        } else {
            0.6 + 0.3 * (i + j) as f64
        }
    });
    let psi = vec![0.3; e_n];
    let (y, x, z) = simulate(&truth, &psi, 0.5, 120, 2, seed);
    let fa = Covariance::<Kron<Identity, FactorAnalytic<K>>>::new((120, e_n)).unwrap();
    let us = Covariance::<Kron<Identity, Unconstrained>>::new((120, e_n)).unwrap();
    let (f_fa, f_us) = (fit(&y, &x, &z, Box::new(fa)), fit(&y, &x, &z, Box::new(us)));
    assert!(f_us.termination.is_converged(), "{}", f_us.termination);
    assert!(
        (f_fa.loglik - f_us.loglik).abs() <= 1e-8 * f_us.loglik.abs(),
        "FA({K}) ℓ = {} vs unstructured ℓ = {} ({})",
        f_fa.loglik,
        f_us.loglik,
        f_fa.termination
    );
    // the same genetic covariance matrix
    let g_fa = genetic(&f_fa, e_n, K);
    let mut g_us = DMatrix::zeros(e_n, e_n);
    for i in 0..e_n {
        for j in 0..=i {
            let v = f_us.natural(&format!("ge/op_1/sigma^2_{i}_{j}")).unwrap();
            g_us[(i, j)] = v;
            g_us[(j, i)] = v;
        }
    }
    assert!(
        (&g_fa - &g_us).abs().max() < 1e-4 * g_us.abs().max(),
        "{g_fa} vs {g_us}"
    );
}

/// `ΛΛᵀ + Ψ` from a fit.
fn genetic(fit: &RemlFit, e_n: usize, k: usize) -> DMatrix<f64> {
    let (l, _) = loadings(fit, e_n, k);
    let psi = DMatrix::from_fn(e_n, e_n, |i, j| {
        if i == j {
            fit.natural(&format!("ge/op_1/psi_{i}")).unwrap()
        } else {
            0.0
        }
    });
    &l * l.transpose() + psi
}

#[test]
fn saturated_fa1_equals_unstructured() {
    saturated::<1>("saturated fa1");
}

#[test]
fn saturated_fa2_equals_unstructured() {
    saturated::<2>("saturated fa2");
}
