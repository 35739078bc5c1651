//! `Structure::sparse_inverse`: `G⁻¹` equals the dense inverse of the value,
//! `log|G|` the dense log-determinant, and the closed-form derivatives of
//! both equal dual-number derivatives of the same generic code — at random
//! points of the free domain, the default start, and boundary-like points
//! (correlations near ±1, tiny and huge variances). On the free scale
//! (`Covariance::sparse_inverse`), `∂G⁻¹/∂x_k = −G⁻¹ (∂G/∂x_k) G⁻¹` with the
//! closed-form Jacobian of the value, fixed parameters dropped.

use covreml::ops::{Label, Named};
use covreml::{
    BlockDiag, CompoundSymmetric, Covariance, Diagonal, Equicorrelation, Identity, Kron, Scalar,
    Structure, Sum, Unconstrained, AR1,
};
use nalgebra::DMatrix;
use num_dual::{Dual64, DualNum};
use proptest::prelude::*;

#[derive(Clone, Copy, Default, Debug)]
struct Time;
impl Label for Time {
    const NAME: &'static str = "time";
}

fn max_abs(m: &DMatrix<f64>) -> f64 {
    m.iter().fold(0.0, |a, v| a.max(v.abs()))
}

/// Checks one structure at the free point `free` (default transforms).
fn check<S: Structure>(shape: S::Shape, free: &[f64]) {
    let specs = S::param_specs(&shape);
    let k = specs.len();
    let theta: Vec<f64> = specs
        .iter()
        .zip(free)
        .map(|(s, &x)| s.transform.forward(x))
        .collect();
    let inv = S::sparse_inverse(&shape, &theta)
        .unwrap_or_else(|| panic!("{} has no sparse inverse at θ = {theta:?}", S::NAME));
    let v = S::value(&shape, &theta);
    let dense = v.clone().cholesky().expect("SPD").inverse();
    let scale = max_abs(&dense).max(1e-300);
    let d = (inv.to_dense() - &dense).abs().max();
    assert!(
        d <= 1e-8 * scale,
        "{}: inverse off by {d:e} (scale {scale:e})",
        S::NAME
    );
    let logdet = 2.0
        * v.clone()
            .cholesky()
            .unwrap()
            .l()
            .diagonal()
            .iter()
            .map(|x| x.ln())
            .sum::<f64>();
    assert!(
        (inv.logdet - logdet).abs() <= 1e-9 * (1.0 + logdet.abs()),
        "{}: logdet {} vs {logdet}",
        S::NAME,
        inv.logdet
    );
    assert_eq!(inv.jacobian.len(), k);
    // Dual numbers along each natural parameter.
    for p in 0..k {
        let td: Vec<Dual64> = theta
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                if i == p {
                    Dual64::new(t, 1.0)
                } else {
                    Dual64::from_re(t)
                }
            })
            .collect();
        let dinv = S::sparse_inverse(&shape, &td).unwrap();
        assert_eq!(dinv.row_idx, inv.row_idx, "pattern must not depend on θ");
        let jscale = inv.jacobian[p]
            .iter()
            .fold(scale, |a: f64, v| a.max(v.abs()));
        for (q, (a, b)) in inv.jacobian[p].iter().zip(&dinv.values).enumerate() {
            assert!(
                (a - b.eps).abs() <= 1e-9 * jscale,
                "{}: ∂G⁻¹/∂θ_{p} entry {q}: {a} vs dual {}",
                S::NAME,
                b.eps
            );
        }
        let (a, b) = (inv.logdet_jacobian[p], dinv.logdet.eps);
        assert!(
            (a - b).abs() <= 1e-9 * (1.0 + b.abs()),
            "{}: ∂log|G|/∂θ_{p}: {a} vs dual {b}",
            S::NAME
        );
    }
}

/// The free-scale layer: chain rule and fixed parameters, against
/// `−G⁻¹ (∂G/∂x) G⁻¹` from the (dual-checked) closed-form Jacobian.
fn check_free<S: Structure>(cov: &Covariance<S>, free: &[f64]) {
    let inv = cov.sparse_inverse(free).unwrap().unwrap();
    let g = cov.value(free).unwrap();
    let gi = g.clone().cholesky().unwrap().inverse();
    let jac = cov.jacobian(free).unwrap();
    assert_eq!(inv.jacobian.len(), jac.len());
    for (k, dg) in jac.iter().enumerate() {
        let want = -(&gi * dg * &gi);
        let got = inv.jacobian_dense(k);
        let d = (got - &want).abs().max();
        assert!(d <= 1e-8 * max_abs(&want).max(max_abs(&gi)), "x_{k}: {d:e}");
        let dl = (&gi * dg).trace();
        assert!((inv.logdet_jacobian[k] - dl).abs() <= 1e-9 * (1.0 + dl.abs()));
    }
}

/// A free vector of `Unconstrained(n)` from any point: diagonal free values
/// as given, covariances `0.3 tanh(x) √(σ²_ii σ²_jj)`, so that `Σ` stays
/// positive definite (correlations below 0.3 in absolute value, n ≤ 3).
fn unc(x: &[f64], n: usize) -> Vec<f64> {
    let mut out = Vec::new();
    let mut k = 0;
    for i in 0..n {
        for j in 0..=i {
            out.push(if i == j {
                x[k]
            } else {
                let d = |m: usize| x[m * (m + 1) / 2 + m];
                0.3 * x[k].tanh() * (d(i) + d(j)).exp()
            });
            k += 1;
        }
    }
    out
}

fn free_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -3.0..3.0f64,
        1 => Just(0.0),
        1 => prop_oneof![Just(-8.0), Just(8.0)],
    ]
}

fn point(k: usize) -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        1 => Just(vec![0.0; k]),
        6 => proptest::collection::vec(free_value(), k),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn ar1(n in 1usize..7, x in point(2)) {
        check::<AR1>(n, &x);
    }

    #[test]
    fn diagonal_leaves(n in 1usize..6, x in point(6)) {
        check::<Scalar>(n, &x[..1]);
        check::<Diagonal>(n, &x[..n]);
        check::<Identity>(n, &[]);
    }

    #[test]
    fn small_dense_leaves(x in point(10)) {
        check::<Unconstrained>(3, &unc(&x, 3));
        check::<CompoundSymmetric>(4, &x[..2]);
        check::<Equicorrelation>(3, &x[..1]);
    }

    #[test]
    fn operators(x in point(12), q in 1usize..5) {
        // random intercept and slope per level: Σ ⊗ I
        check::<Kron<Unconstrained, Identity>>((2, q), &unc(&x, 2));
        check::<Kron<AR1, AR1>>((3, 4), &x[..4]);
        check::<Kron<Scalar, AR1>>((q, 3), &x[..3]);
        let u = unc(&x[3..], 2);
        check::<BlockDiag<(Scalar, AR1, Unconstrained)>>((2, 3, 2), &[x[0], x[1], x[2], u[0], u[1], u[2]]);
        check::<Named<AR1, Time>>(4, &x[..2]);
        check::<Sum<(Scalar, Diagonal)>>((3, 3), &x[..4]);
    }

    #[test]
    fn free_scale_and_fixed(x in point(5), rho in -4.0..4.0f64) {
        let c = Covariance::<Kron<AR1, Unconstrained>>::new((3, 2)).unwrap();
        let u = unc(&x[2..], 2);
        check_free(&c, &[x[0], x[1], u[0], u[1], u[2]]);
        // with the AR1 correlation fixed, four free parameters remain
        let mut c = c;
        c.fix("op_0/rho", rho).unwrap();
        check_free(&c, &[x[0], u[0], u[1], u[2]]);
    }
}

#[test]
fn structures_without_a_sparse_inverse_say_so() {
    let c = Covariance::<Kron<AR1, covreml::EqualEntry>>::new((3, (2, 2))).unwrap();
    assert!(c.sparse_inverse(&[0.0, 0.0, 0.0]).is_none());
    let s = Covariance::<Sum<(AR1, Scalar)>>::new((3, 3)).unwrap();
    assert!(s.sparse_inverse(&[0.0, 0.0, 0.0]).is_none());
}
