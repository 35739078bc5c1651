//! Property tests: the closed-form Jacobian equals the dual-number Jacobian
//! for every leaf and operator, at random sizes and at random points of the
//! whole free-parameter domain — including the default start (all zeros),
//! correlations exactly 0 and near ±1 (free ±12..±20), and tiny or huge
//! variances (free ±10..±20). Tolerances are relative to the magnitude of the
//! entries. Fixed-parameter variants too.

use crate::common::{
    assert_close_scaled, assert_closed_form_matches_dual, assert_closed_form_matches_dual_with,
    max_abs,
};
use covreml::ops::{Gram, Label, Named, Outer};
use covreml::{
    Augment, BlockDiag, CompoundSymmetric, Covariance, Diagonal, EqualEntry, Equicorrelation,
    Fixed, Hadamard, Identity, Inverse, Kron, LowerTriangular, Product, Propagate, Scalar, Stack,
    Structure, Sum, Transpose, Unconstrained, AR1,
};
use nalgebra::DMatrix;
use proptest::prelude::*;

#[derive(Clone, Copy, Default, Debug)]
struct Time;
impl Label for Time {
    const NAME: &'static str = "time";
}

/// Cases per property: 64, or `PROPTEST_CASES` for a longer run.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
}

/// Longest free vector any test below needs.
const MAXP: usize = 32;
/// Relative tolerance for well-conditioned structures.
const RTOL: f64 = 1e-10;
/// Relative tolerance through a matrix inverse (rounding grows with the
/// condition number).
const RTOL_INV: f64 = 1e-8;

/// One free value anywhere in the domain, with weight on the edges.
fn free_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -4.0..4.0f64,
        1 => Just(0.0),
        1 => 12.0..20.0f64,
        1 => -20.0..-12.0f64,
        1 => prop_oneof![Just(-20.0), Just(-10.0), Just(10.0), Just(20.0)],
    ]
}

/// A point of the free domain: the default start (all zeros), an edge
/// point (every coordinate 0, ±12 or ±20), or random values.
fn point() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        1 => Just(vec![0.0; MAXP]),
        1 => prop::collection::vec(
            prop_oneof![Just(0.0), Just(12.0), Just(-12.0), Just(20.0), Just(-20.0)],
            MAXP
        ),
        4 => prop::collection::vec(free_value(), MAXP),
    ]
}

/// A point for structures under an inverse: variances anywhere (the inverse
/// is scale invariant), correlations and other entries moderate.
fn moderate_point() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        1 => Just(vec![0.0; MAXP]),
        4 => prop::collection::vec(prop_oneof![4 => -3.0..3.0f64, 1 => Just(0.0)], MAXP),
    ]
}

fn data(r: usize, c: usize, seed: &[f64]) -> DMatrix<f64> {
    DMatrix::from_fn(r, c, |i, j| seed[(i * c + j) % seed.len()])
}

fn check<S: Structure>(shape: S::Shape, pt: &[f64], rtol: f64) {
    let cov = Covariance::<S>::new(shape.clone())
        .unwrap_or_else(|e| panic!("{}: {e}", std::any::type_name::<S>()));
    assert!(cov.n_free() <= pt.len(), "MAXP too small");
    let free = &pt[..cov.n_free()];
    let what = format!("{} {shape:?}", std::any::type_name::<S>());
    assert_closed_form_matches_dual(&cov, free, rtol, &what);
    // the library's own comparison report agrees
    let gc = cov.check_gradients(free).unwrap();
    assert!(gc.passes(0.0, rtol), "{what}:\n{gc}");
}

// ---- magnitudes of the terms of product-type Jacobians ------------------
//
// `∂(A B)` and friends are sums of products; with signed entries (a factor
// `L`, a correlation near −1) they can cancel, and the rounding error is then
// relative to the terms, not to their sum. These give the largest entry of
// the sum of the terms' magnitudes, from the operands' own values and
// Jacobians.

type Terms<S> = fn(&<S as Structure>::Shape, &[f64]) -> Vec<f64>;

/// Value and Jacobian of one operand, every parameter free.
fn operand<S: Structure>(shape: &S::Shape, free: &[f64]) -> (DMatrix<f64>, Vec<DMatrix<f64>>) {
    Covariance::<S>::new(shape.clone())
        .unwrap()
        .value_and_jacobian(free)
        .unwrap()
}

fn abs(m: &DMatrix<f64>) -> DMatrix<f64> {
    m.abs()
}

/// `|∂A|·|B|` and `|A|·|∂B|` for `A B`.
fn product_terms<A: Structure, B: Structure>(
    shape: &(A::Shape, B::Shape),
    free: &[f64],
) -> Vec<f64> {
    let (fa, fb) = free.split_at(A::param_count(&shape.0));
    let ((a, ja), (b, jb)) = (operand::<A>(&shape.0, fa), operand::<B>(&shape.1, fb));
    let mut t: Vec<f64> = ja.iter().map(|d| max_abs(&(abs(d) * abs(&b)))).collect();
    t.extend(jb.iter().map(|d| max_abs(&(abs(&a) * abs(d)))));
    t
}

/// `2|∂Z||G||Z|ᵀ` and `|Z||∂G||Z|ᵀ` for `Z G Zᵀ`.
fn propagate_terms<Z: Structure, G: Structure>(
    shape: &(Z::Shape, G::Shape),
    free: &[f64],
) -> Vec<f64> {
    let (fz, fg) = free.split_at(Z::param_count(&shape.0));
    let ((z, jz), (g, jg)) = (operand::<Z>(&shape.0, fz), operand::<G>(&shape.1, fg));
    let (za, ga) = (abs(&z), abs(&g));
    let mut t: Vec<f64> = jz
        .iter()
        .map(|d| 2.0 * max_abs(&(abs(d) * &ga * za.transpose())))
        .collect();
    t.extend(jg.iter().map(|d| max_abs(&(&za * abs(d) * za.transpose()))));
    t
}

/// `2|∂X|ᵀ|X|` for `XᵀX`.
fn gram_inner_terms<X: Structure>(shape: &X::Shape, free: &[f64]) -> Vec<f64> {
    let (x, jx) = operand::<X>(shape, free);
    jx.iter()
        .map(|d| 2.0 * max_abs(&(abs(d).transpose() * abs(&x))))
        .collect()
}

/// `2|∂X||X|ᵀ` for `XXᵀ`.
fn gram_outer_terms<X: Structure>(shape: &X::Shape, free: &[f64]) -> Vec<f64> {
    let (x, jx) = operand::<X>(shape, free);
    jx.iter()
        .map(|d| 2.0 * max_abs(&(abs(d) * abs(&x).transpose())))
        .collect()
}

/// [`check`] for product-type structures, with the terms' magnitudes.
fn check_terms<S: Structure>(shape: S::Shape, pt: &[f64], rtol: f64, terms: Terms<S>) {
    let cov = Covariance::<S>::new(shape.clone()).unwrap();
    let free = &pt[..cov.n_free()];
    let what = format!("{} {shape:?}", std::any::type_name::<S>());
    let t = terms(&shape, free);
    assert_closed_form_matches_dual_with(&cov, free, rtol, Some(&t), &what);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    // ---- leaves --------------------------------------------------------

    #[test]
    fn identity(n in 1usize..=6, pt in point()) { check::<Identity>(n, &pt, RTOL) }

    #[test]
    fn scalar(n in 1usize..=6, pt in point()) { check::<Scalar>(n, &pt, RTOL) }

    #[test]
    fn diagonal(n in 1usize..=6, pt in point()) { check::<Diagonal>(n, &pt, RTOL) }

    #[test]
    fn equal_entry(n in 1usize..=5, m in 1usize..=5, pt in point()) {
        check::<EqualEntry>((n, m), &pt, RTOL)
    }

    #[test]
    fn equicorrelation(n in 2usize..=6, pt in point()) { check::<Equicorrelation>(n, &pt, RTOL) }

    #[test]
    fn compound_symmetric(n in 2usize..=6, pt in point()) {
        check::<CompoundSymmetric>(n, &pt, RTOL)
    }

    #[test]
    fn ar1(n in 1usize..=7, pt in point()) { check::<AR1>(n, &pt, RTOL) }

    #[test]
    fn unconstrained(n in 1usize..=6, pt in point()) { check::<Unconstrained>(n, &pt, RTOL) }

    #[test]
    fn lower_triangular(n in 1usize..=6, m in 1usize..=6, pt in point()) {
        check::<LowerTriangular>((n, m), &pt, RTOL)
    }

    #[test]
    fn fixed(r in 1usize..=4, c in 1usize..=4, seed in prop::collection::vec(-3.0..3.0f64, 16)) {
        check::<Fixed>(data(r, c, &seed), &[], RTOL)
    }

    // ---- operators -----------------------------------------------------

    #[test]
    fn sum(n in 2usize..=5, pt in point()) {
        check::<Sum<(AR1, Scalar, Diagonal)>>((n, n, n), &pt, RTOL);
        check::<Sum<(CompoundSymmetric, Unconstrained)>>((n, n), &pt, RTOL);
    }

    #[test]
    fn sum_with_broadcast_scalar(n in 2usize..=5, k in -3.0..3.0f64, pt in point()) {
        check::<Sum<(Equicorrelation, Fixed, Scalar)>>((n, Fixed::scalar(k), n), &pt, RTOL)
    }

    #[test]
    fn kron(a in 1usize..=3, b in 1usize..=3, c in 1usize..=3, pt in point()) {
        check::<Kron<AR1, Unconstrained>>((a, b), &pt, RTOL);
        check::<Kron<LowerTriangular, EqualEntry>>(((a, b), (c, a)), &pt, RTOL);
        check::<Kron<Diagonal, Named<AR1, Time>>>((a, b), &pt, RTOL);
    }

    #[test]
    fn hadamard(n in 2usize..=6, k in -3.0..3.0f64, pt in point()) {
        check::<Hadamard<CompoundSymmetric, AR1>>((n, n), &pt, RTOL);
        check::<Hadamard<Equicorrelation, Fixed>>((n, Fixed::scalar(k)), &pt, RTOL);
        check::<Hadamard<LowerTriangular, EqualEntry>>(((n, 2), (n, 2)), &pt, RTOL);
    }

    #[test]
    fn block_diag(a in 1usize..=3, b in 1usize..=3, c in 1usize..=3, pt in point()) {
        check::<BlockDiag<(Scalar, AR1, Unconstrained)>>((a, b, c), &pt, RTOL);
        check::<BlockDiag<(LowerTriangular, Identity)>>(((a, b), c), &pt, RTOL);
    }

    #[test]
    fn propagate(n in 1usize..=5, q in 1usize..=3, seed in prop::collection::vec(-2.0..2.0f64, 15), pt in point()) {
        check_terms::<Propagate<Fixed, Unconstrained>>(
            (data(n, q, &seed), q), &pt, RTOL, propagate_terms::<Fixed, Unconstrained>);
        check_terms::<Propagate<LowerTriangular, AR1>>(
            ((n, q), q), &pt, RTOL, propagate_terms::<LowerTriangular, AR1>);
        // a non-symmetric G: ∂(Z G Zᵀ) needs G and Gᵀ in the right places
        check_terms::<Propagate<LowerTriangular, LowerTriangular>>(
            ((n, q), (q, q)), &pt, RTOL, propagate_terms::<LowerTriangular, LowerTriangular>);
    }

    #[test]
    fn gram(n in 1usize..=5, m in 1usize..=5, pt in point()) {
        check_terms::<Gram<LowerTriangular>>((n, m), &pt, RTOL, gram_inner_terms::<LowerTriangular>);
        check_terms::<Gram<LowerTriangular, Outer>>(
            (n, m), &pt, RTOL, gram_outer_terms::<LowerTriangular>);
        check_terms::<Gram<Kron<AR1, LowerTriangular>>>(
            (2, (n, m)), &pt, RTOL, gram_inner_terms::<Kron<AR1, LowerTriangular>>);
    }

    #[test]
    fn augment_and_stack(n in 1usize..=4, m in 1usize..=4, pt in point()) {
        check::<Augment<(LowerTriangular, Scalar)>>(((n, m), n), &pt, RTOL);
        check::<Augment<(AR1, EqualEntry, LowerTriangular)>>((n, (n, m), (n, 2)), &pt, RTOL);
        check::<Stack<(LowerTriangular, AR1)>>(((m, n), n), &pt, RTOL);
    }

    #[test]
    fn product(n in 1usize..=4, k in 1usize..=4, m in 1usize..=4, pt in point()) {
        check_terms::<Product<AR1, LowerTriangular>>(
            (n, (n, m)), &pt, RTOL, product_terms::<AR1, LowerTriangular>);
        check_terms::<Product<LowerTriangular, EqualEntry>>(
            ((n, k), (k, m)), &pt, RTOL, product_terms::<LowerTriangular, EqualEntry>);
    }

    #[test]
    fn transpose_and_named(n in 1usize..=5, m in 1usize..=5, pt in point()) {
        check::<Transpose<LowerTriangular>>((n, m), &pt, RTOL);
        check_terms::<Transpose<Product<AR1, LowerTriangular>>>(
            (n, (n, m)), &pt, RTOL, product_terms::<AR1, LowerTriangular>);
        check::<Named<AR1, Time>>(n, &pt, RTOL);
    }

    #[test]
    fn inverse(n in 1usize..=6, pt in moderate_point()) {
        check::<Inverse<AR1>>(n, &pt, RTOL_INV);
        check::<Inverse<Diagonal>>(n, &pt, RTOL_INV);
        // σ² I + LᵀL: symmetric positive definite for every parameter value
        check::<Inverse<Sum<(Scalar, Gram<LowerTriangular>)>>>((n, (n, n)), &pt, RTOL_INV);
        if n >= 2 {
            check::<Inverse<CompoundSymmetric>>(n, &pt, RTOL_INV);
            check::<Inverse<Sum<(CompoundSymmetric, Diagonal)>>>((n, n), &pt, RTOL_INV);
        }
    }

    #[test]
    fn inverse_at_extreme_variances(n in 1usize..=5, s in prop_oneof![Just(-20.0), Just(-10.0), Just(10.0), Just(20.0), -20.0..20.0f64], rho in -3.0..3.0f64) {
        check::<Inverse<AR1>>(n, &[s, rho], RTOL_INV);
        check::<Inverse<Kron<Scalar, AR1>>>((2, n), &[s, -s, rho], RTOL_INV);
    }

    // ---- fixed parameters ----------------------------------------------

    #[test]
    fn fixed_parameters(
        a in 1usize..=3,
        b in 2usize..=3,
        mask in prop::collection::vec(any::<bool>(), MAXP),
        values in prop::collection::vec(-4.0..4.0f64, MAXP),
        pt in point(),
    ) {
        fixed_variant::<Kron<AR1, Unconstrained>>((a, b), &mask, &values, &pt, None);
        fixed_variant::<Sum<(AR1, Scalar, Diagonal)>>((b, b, b), &mask, &values, &pt, None);
        fixed_variant::<Propagate<LowerTriangular, CompoundSymmetric>>(
            ((a + 1, b), b), &mask, &values, &pt,
            Some(propagate_terms::<LowerTriangular, CompoundSymmetric>));
        fixed_variant::<Hadamard<CompoundSymmetric, AR1>>((b, b), &mask, &values, &pt, None);
    }
}

/// Fixes the parameters where `mask` holds at `values` (free scale); the
/// closed form equals the dual numbers on the remaining free parameters, and
/// equals the matching columns of the all-free dual Jacobian at the full
/// vector.
fn fixed_variant<S: Structure>(
    shape: S::Shape,
    mask: &[bool],
    values: &[f64],
    pt: &[f64],
    terms: Option<Terms<S>>,
) {
    let all = Covariance::<S>::new(shape.clone()).unwrap();
    let mut cov = all.clone();
    let names = all.names();
    for (k, n) in names.iter().enumerate() {
        if mask[k] {
            cov.fix(n, values[k]).unwrap();
        }
    }
    let free: Vec<f64> = (0..names.len())
        .filter(|&k| !mask[k])
        .map(|k| pt[k])
        .collect();
    let what = format!(
        "{} fixed {:?}",
        std::any::type_name::<S>(),
        cov.fixed_names()
    );
    let full: Vec<f64> = (0..names.len())
        .map(|k| if mask[k] { values[k] } else { pt[k] })
        .collect();
    let t: Vec<f64> = match terms {
        Some(f) => f(&shape, &full),
        None => vec![0.0; names.len()],
    };
    let t_free: Vec<f64> = (0..names.len())
        .filter(|&k| !mask[k])
        .map(|k| t[k])
        .collect();
    assert_closed_form_matches_dual_with(&cov, &free, RTOL, Some(&t_free), &what);
    let dual_all = all.dual_jacobian(&full).unwrap();
    let closed = cov.jacobian(&free).unwrap();
    let kept: Vec<&DMatrix<f64>> = (0..names.len())
        .filter(|&k| !mask[k])
        .map(|k| &dual_all[k])
        .collect();
    assert_eq!(closed.len(), kept.len());
    let global = dual_all.iter().map(max_abs).fold(0.0, f64::max);
    for ((c, d), t) in closed.iter().zip(kept).zip(&t_free) {
        assert_close_scaled(c, d, RTOL, RTOL * t + crate::common::FLOOR * global, &what);
    }
    assert_close_scaled(
        &cov.value(&free).unwrap(),
        &all.value(&full).unwrap(),
        1e-15,
        0.0,
        &what,
    );
}

/// The default start of every structure, deterministically: the free
/// defaults (zeros, or ones for `L_i_j`) and the all-zero vector.
#[test]
fn default_start_of_every_structure() {
    fn at_start<S: Structure>(shape: S::Shape) {
        let cov = Covariance::<S>::new(shape).unwrap();
        let what = std::any::type_name::<S>();
        assert_closed_form_matches_dual(&cov, &cov.free_defaults(), 1e-14, what);
        assert_closed_form_matches_dual(&cov, &vec![0.0; cov.n_free()], 1e-14, what);
        let v = cov.value_at_defaults().unwrap();
        assert!(v.iter().all(|x| x.is_finite()), "{what}");
    }
    for n in 2..=5 {
        at_start::<Identity>(n);
        at_start::<Scalar>(n);
        at_start::<Diagonal>(n);
        at_start::<EqualEntry>((n, n + 1));
        at_start::<Equicorrelation>(n);
        at_start::<CompoundSymmetric>(n);
        at_start::<AR1>(n);
        at_start::<Unconstrained>(n);
        at_start::<LowerTriangular>((n, n));
        at_start::<Sum<(AR1, Scalar, Diagonal)>>((n, n, n));
        at_start::<Kron<AR1, CompoundSymmetric>>((n, 2));
        at_start::<Hadamard<AR1, Equicorrelation>>((n, n));
        at_start::<BlockDiag<(AR1, Scalar)>>((n, 2));
        at_start::<Propagate<LowerTriangular, AR1>>(((n, 2), 2));
        at_start::<Gram<LowerTriangular>>((n, n));
        at_start::<Gram<LowerTriangular, Outer>>((n, 2));
        at_start::<Augment<(LowerTriangular, AR1)>>(((n, 2), n));
        at_start::<Stack<(LowerTriangular, AR1)>>(((2, n), n));
        at_start::<Product<AR1, CompoundSymmetric>>((n, n));
        at_start::<Inverse<AR1>>(n);
        at_start::<Inverse<CompoundSymmetric>>(n);
        at_start::<Transpose<LowerTriangular>>((n, 2));
        at_start::<Named<AR1, Time>>(n);
    }
}

/// At the default start the AR1 Jacobian wrt ρ is finite and equals the
/// first off-diagonal (the seed's closed form is NaN there).
#[test]
fn ar1_rho_jacobian_at_rho_zero() {
    let cov = Covariance::<AR1>::new(4).unwrap();
    let j = cov.jacobian(&[0.0, 0.0]).unwrap();
    let d = cov.dual_jacobian(&[0.0, 0.0]).unwrap();
    // σ² = 1, dρ/dx = 1/2 at x = 0: ∂V/∂x_ρ = ½ on the first off-diagonal, 0 elsewhere
    let expected = DMatrix::from_fn(4, 4, |i, j| if i.abs_diff(j) == 1 { 0.5 } else { 0.0 });
    assert_eq!(j[1], expected);
    assert_eq!(d[1], expected);
}
