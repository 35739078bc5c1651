//! One test suite, stamped out by `scalar_suite!` for `f32`, `f64` and
//! `num_dual::Dual64`: values and closed-form Jacobians over each scalar
//! agree with `f64` within the scalar's precision; symmetric structures are
//! symmetric; covariance leaves have a positive diagonal and are positive
//! definite; algebraic identities of the operators hold (Kron with an
//! identity is block-diagonal, mixed product, transposes, Hadamard and Sum
//! identities, inverses); for dual numbers, the derivative part of the value
//! is the directional derivative given by the `f64` closed form.

use crate::common::SplitMix;
use covreml::ops::{Gram, Outer};
use covreml::{
    Augment, BlockDiag, CompoundSymmetric, Covariance, Diagonal, EqualEntry, Equicorrelation,
    Fixed, Hadamard, Identity, Inverse, Kron, LowerTriangular, Product, Propagate, Real, Scalar,
    Stack, Structure, Sum, Transpose, Unconstrained, AR1,
};
use nalgebra::{dmatrix, Const, DMatrix};
use num_dual::Dual64;

/// What the suite needs of a scalar beyond [`Real`].
trait TestScalar: Real + std::fmt::Debug {
    /// Relative tolerance for this scalar's precision.
    const TOL: f64;
    /// The real part as `f64`.
    fn re(self) -> f64;
    /// `x` with derivative part `dx` (ignored by plain floats).
    fn seeded(x: f64, dx: f64) -> Self;
    /// The derivative part, if the scalar carries one.
    fn eps(self) -> Option<f64>;
}

impl TestScalar for f32 {
    const TOL: f64 = 1e-4;
    fn re(self) -> f64 {
        f64::from(self)
    }
    fn seeded(x: f64, _: f64) -> Self {
        x as f32
    }
    fn eps(self) -> Option<f64> {
        None
    }
}

impl TestScalar for f64 {
    const TOL: f64 = 1e-12;
    fn re(self) -> f64 {
        self
    }
    fn seeded(x: f64, _: f64) -> Self {
        x
    }
    fn eps(self) -> Option<f64> {
        None
    }
}

impl TestScalar for Dual64 {
    const TOL: f64 = 1e-12;
    fn re(self) -> f64 {
        self.re
    }
    fn seeded(x: f64, dx: f64) -> Self {
        Dual64::new(x, dx)
    }
    fn eps(self) -> Option<f64> {
        Some(self.eps)
    }
}

fn re<T: TestScalar>(m: &DMatrix<T>) -> DMatrix<f64> {
    m.map(|x| x.re())
}

fn lift<T: TestScalar>(free: &[f64]) -> Vec<T> {
    free.iter().map(|&x| T::c(x)).collect()
}

fn max_abs(m: &DMatrix<f64>) -> f64 {
    m.iter().fold(0.0, |a, x| a.max(x.abs()))
}

/// `|a − b| ≤ tol · (max|b| + 1e-300)` entry-wise, with a message.
fn assert_near(a: &DMatrix<f64>, b: &DMatrix<f64>, tol: f64, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    assert!(
        a.iter().chain(b.iter()).all(|x| x.is_finite()),
        "{what}: non-finite entries\n{a}\n{b}"
    );
    let scale = max_abs(b).max(max_abs(a));
    let d = a
        .iter()
        .zip(b.iter())
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    assert!(
        d <= tol * scale || d == 0.0,
        "{what}: max diff {d:e} > {tol:e} · {scale:e}\n{a}\n{b}"
    );
}

/// Random free points in [-2, 2]^p, plus the all-zero start.
fn points(name: &str, p: usize) -> Vec<Vec<f64>> {
    let mut rng = SplitMix::from_name(name);
    let mut out = vec![vec![0.0; p]];
    for _ in 0..8 {
        out.push((0..p).map(|_| rng.uniform(-2.0, 2.0)).collect());
    }
    out
}

/// Two structures describe the same matrix when `B`'s parameter `j` is
/// `A`'s parameter `map[j]` (parameters may be tied): values equal, and each
/// `A` Jacobian equals the sum of the `B` Jacobians tied to it — all in `T`.
fn same_matrix<T: TestScalar, A: Structure, B: Structure>(
    sa: A::Shape,
    sb: B::Shape,
    map: &[usize],
    what: &str,
) {
    let a = Covariance::<A>::new(sa).unwrap();
    let b = Covariance::<B>::new(sb).unwrap();
    assert_eq!(map.len(), b.n_free(), "{what}: map length");
    for free_a in points(what, a.n_free()) {
        let free_b: Vec<f64> = map.iter().map(|&k| free_a[k]).collect();
        let (ta, tb) = (lift::<T>(&free_a), lift::<T>(&free_b));
        let (va, ja) = a.value_and_jacobian_in(&ta).unwrap();
        let (vb, jb) = b.value_and_jacobian_in(&tb).unwrap();
        assert_near(&re(&va), &re(&vb), T::TOL, &format!("{what}: value"));
        for (k, dk) in ja.iter().enumerate() {
            let tied = map.iter().enumerate().filter(|(_, &m)| m == k).fold(
                DMatrix::<f64>::zeros(vb.nrows(), vb.ncols()),
                |acc, (j, _)| acc + re(&jb[j]),
            );
            assert_near(&re(dk), &tied, T::TOL, &format!("{what}: ∂/∂x_{k}"));
        }
    }
}

/// `value_in::<T>` and `jacobian_in::<T>` equal the `f64` ones within `T`'s
/// precision; for dual numbers, the derivative part of the value along a
/// random direction equals the `f64` closed-form directional derivative.
fn agrees_with_f64<T: TestScalar, S: Structure>(shape: S::Shape) {
    let what = std::any::type_name::<S>();
    let cov = Covariance::<S>::new(shape).unwrap();
    let mut rng = SplitMix::from_name(what);
    for free in points(what, cov.n_free()) {
        let v64 = cov.value(&free).unwrap();
        let j64 = cov.jacobian(&free).unwrap();
        let t = lift::<T>(&free);
        assert_near(&re(&cov.value_in::<T>(&t).unwrap()), &v64, T::TOL, what);
        let jt = cov.jacobian_in::<T>(&t).unwrap();
        assert_eq!(jt.len(), j64.len());
        for (a, b) in jt.iter().zip(&j64) {
            assert_near(&re(a), b, T::TOL, &format!("{what}: jacobian_in"));
        }
        // along a direction
        let dir: Vec<f64> = free.iter().map(|_| rng.uniform(-1.0, 1.0)).collect();
        let seeded: Vec<T> = free
            .iter()
            .zip(&dir)
            .map(|(&x, &d)| T::seeded(x, d))
            .collect();
        let v = cov.value_in::<T>(&seeded).unwrap();
        if v.iter().all(|x| x.eps().is_some()) {
            let eps = v.map(|x| x.eps().unwrap());
            let expected = j64
                .iter()
                .zip(&dir)
                .fold(DMatrix::zeros(v64.nrows(), v64.ncols()), |acc, (j, &d)| {
                    acc + j * d
                });
            assert_near(
                &eps,
                &expected,
                1e-10,
                &format!("{what}: directional derivative"),
            );
        }
    }
}

fn symmetric<T: TestScalar, S: Structure>(shape: S::Shape) {
    let what = std::any::type_name::<S>();
    let cov = Covariance::<S>::new(shape).unwrap();
    for free in points(what, cov.n_free()) {
        let v = re(&cov.value_in::<T>(&lift::<T>(&free)).unwrap());
        assert_eq!(v.nrows(), v.ncols(), "{what}");
        assert_near(&v.transpose(), &v, T::TOL, &format!("{what}: symmetric"));
        for j in cov.jacobian_in::<T>(&lift::<T>(&free)).unwrap() {
            let j = re(&j);
            assert_near(&j.transpose(), &j, T::TOL, &format!("{what}: ∂V symmetric"));
        }
    }
}

/// A positive diagonal, and a Cholesky factor (positive definite), at random
/// parameters in [-3, 3].
fn positive_definite<T: TestScalar, S: Structure>(shape: S::Shape) {
    let what = std::any::type_name::<S>();
    let cov = Covariance::<S>::new(shape).unwrap();
    let mut rng = SplitMix::from_name(what);
    for _ in 0..16 {
        let free: Vec<f64> = (0..cov.n_free()).map(|_| rng.uniform(-3.0, 3.0)).collect();
        let v = cov.value_in::<T>(&lift::<T>(&free)).unwrap();
        assert!(
            v.diagonal().iter().all(|d| d.re() > 0.0),
            "{what}: diagonal at {free:?}"
        );
        assert!(v.cholesky().is_some(), "{what}: not PD at {free:?}");
    }
}

macro_rules! scalar_suite {
    ($($module:ident: $t:ty),* $(,)?) => {$(
        mod $module {
            use super::*;
            type T = $t;

            #[test]
            fn leaves_agree_with_f64() {
                agrees_with_f64::<T, Identity>(3);
                agrees_with_f64::<T, Scalar>(3);
                agrees_with_f64::<T, Diagonal>(4);
                agrees_with_f64::<T, EqualEntry>((2, 3));
                agrees_with_f64::<T, Equicorrelation>(4);
                agrees_with_f64::<T, CompoundSymmetric>(3);
                agrees_with_f64::<T, AR1>(5);
                agrees_with_f64::<T, Unconstrained>(3);
                agrees_with_f64::<T, LowerTriangular>((3, 2));
                agrees_with_f64::<T, Fixed>(dmatrix![1.0, -0.5; 0.25, 2.0]);
            }

            #[test]
            fn operators_agree_with_f64() {
                agrees_with_f64::<T, Sum<(AR1, Scalar, Diagonal)>>((3, 3, 3));
                agrees_with_f64::<T, Kron<AR1, Unconstrained>>((3, 2));
                agrees_with_f64::<T, Hadamard<CompoundSymmetric, AR1>>((3, 3));
                agrees_with_f64::<T, BlockDiag<(Scalar, AR1)>>((2, 3));
                agrees_with_f64::<T, Propagate<LowerTriangular, Scalar>>(((3, 2), 2));
                agrees_with_f64::<T, Gram<LowerTriangular>>((3, 3));
                agrees_with_f64::<T, Gram<LowerTriangular, Outer>>((3, 2));
                agrees_with_f64::<T, Augment<(LowerTriangular, Scalar)>>(((3, 2), 3));
                agrees_with_f64::<T, Stack<(LowerTriangular, Scalar)>>(((2, 3), 3));
                agrees_with_f64::<T, Product<AR1, LowerTriangular>>((3, (3, 2)));
                agrees_with_f64::<T, Inverse<AR1>>(4);
                agrees_with_f64::<T, Inverse<CompoundSymmetric>>(3);
                agrees_with_f64::<T, Transpose<LowerTriangular>>((3, 2));
            }

            #[test]
            fn symmetric_structures_are_symmetric() {
                symmetric::<T, Identity>(3);
                symmetric::<T, Scalar>(3);
                symmetric::<T, Diagonal>(3);
                symmetric::<T, Equicorrelation>(4);
                symmetric::<T, CompoundSymmetric>(4);
                symmetric::<T, AR1>(5);
                symmetric::<T, Unconstrained>(4);
                symmetric::<T, Sum<(AR1, Scalar, Unconstrained)>>((3, 3, 3));
                symmetric::<T, Kron<AR1, Unconstrained>>((3, 2));
                symmetric::<T, Hadamard<CompoundSymmetric, AR1>>((4, 4));
                symmetric::<T, BlockDiag<(Scalar, AR1, Unconstrained)>>((2, 3, 2));
                symmetric::<T, Propagate<LowerTriangular, AR1>>(((4, 3), 3));
                symmetric::<T, Propagate<Fixed, Unconstrained>>((dmatrix![1.0, 0.0; 1.0, 1.0; 0.0, 1.0], 2));
                symmetric::<T, Gram<LowerTriangular>>((4, 3));
                symmetric::<T, Gram<LowerTriangular, Outer>>((4, 3));
                symmetric::<T, Inverse<AR1>>(4);
                symmetric::<T, Inverse<Sum<(CompoundSymmetric, Diagonal)>>>((3, 3));
            }

            #[test]
            fn covariance_leaves_are_positive_definite() {
                positive_definite::<T, Scalar>(3);
                positive_definite::<T, Diagonal>(4);
                positive_definite::<T, Equicorrelation>(4);
                positive_definite::<T, CompoundSymmetric>(4);
                positive_definite::<T, AR1>(5);
                positive_definite::<T, Kron<AR1, CompoundSymmetric>>((3, 2));
                positive_definite::<T, Hadamard<AR1, Equicorrelation>>((3, 3));
                positive_definite::<T, Sum<(AR1, Scalar)>>((4, 4));
            }

            #[test]
            fn kron_with_identity_is_block_diagonal() {
                same_matrix::<T, Kron<Identity, AR1>, BlockDiag<(AR1, AR1, AR1)>>(
                    (3, 4), (4, 4, 4), &[0, 1, 0, 1, 0, 1], "I ⊗ AR1 = diag(AR1, AR1, AR1)");
                same_matrix::<T, Kron<Identity, Unconstrained>, BlockDiag<(Unconstrained, Unconstrained)>>(
                    (2, 2), (2, 2), &[0, 1, 2, 0, 1, 2], "I ⊗ Σ = diag(Σ, Σ)");
            }

            #[test]
            fn static_sizes_equal_runtime_sizes() {
                same_matrix::<T, Kron<AR1<Const<2>>, Scalar<Const<3>>>, Kron<AR1, Scalar>>(
                    ((), ()), (2, 3), &[0, 1, 2], "Const sizes");
                same_matrix::<T, Unconstrained<Const<3>>, Unconstrained>(
                    (), 3, &[0, 1, 2, 3, 4, 5], "Unconstrained<Const<3>>");
                same_matrix::<T, Gram<LowerTriangular<Const<3>, Const<2>>>, Gram<LowerTriangular>>(
                    ((), ()), (3, 2), &[0, 1, 2, 3, 4], "LowerTriangular<Const<3>, Const<2>>");
            }

            #[test]
            fn kron_identities() {
                // (A ⊗ B)ᵀ = Aᵀ ⊗ Bᵀ
                same_matrix::<T, Transpose<Kron<LowerTriangular, LowerTriangular>>,
                              Kron<Transpose<LowerTriangular>, Transpose<LowerTriangular>>>(
                    ((3, 2), (2, 3)), ((3, 2), (2, 3)), &[0, 1, 2, 3, 4, 5, 6, 7],
                    "(A ⊗ B)ᵀ = Aᵀ ⊗ Bᵀ");
                // (A ⊗ B)(C ⊗ D) = AC ⊗ BD; parameters [A, B, C, D] vs [A, C, B, D]
                same_matrix::<T, Product<Kron<AR1, LowerTriangular>, Kron<CompoundSymmetric, EqualEntry>>,
                              Kron<Product<AR1, CompoundSymmetric>, Product<LowerTriangular, EqualEntry>>>(
                    ((2, (3, 2)), (2, (2, 3))), ((2, 2), ((3, 2), (2, 3))),
                    &[0, 1, 7, 8, 2, 3, 4, 5, 6, 9],
                    "(A ⊗ B)(C ⊗ D) = AC ⊗ BD");
                // σ₁² I ⊗ σ₂² I = (σ₁² σ₂²) I: free x = x₁ + x₂
                let k = Covariance::<Kron<Scalar, Scalar>>::new((2, 3)).unwrap();
                let s = Covariance::<Scalar>::new(6).unwrap();
                for p in points("kron scalar", 2) {
                    let vk = re(&k.value_in::<T>(&lift::<T>(&p)).unwrap());
                    let vs = re(&s.value_in::<T>(&lift::<T>(&[p[0] + p[1]])).unwrap());
                    assert_near(&vk, &vs, T::TOL, "Scalar ⊗ Scalar");
                    let jk = k.jacobian_in::<T>(&lift::<T>(&p)).unwrap();
                    let js = re(&s.jacobian_in::<T>(&lift::<T>(&[p[0] + p[1]])).unwrap()[0]);
                    assert_near(&re(&jk[0]), &js, T::TOL, "Scalar ⊗ Scalar ∂x₁");
                    assert_near(&re(&jk[1]), &js, T::TOL, "Scalar ⊗ Scalar ∂x₂");
                }
            }

            #[test]
            fn hadamard_identities() {
                // A ∘ B = B ∘ A
                same_matrix::<T, Hadamard<AR1, CompoundSymmetric>, Hadamard<CompoundSymmetric, AR1>>(
                    (3, 3), (3, 3), &[2, 3, 0, 1], "A ∘ B = B ∘ A");
                // A ∘ J = A
                same_matrix::<T, Unconstrained, Hadamard<Unconstrained, Fixed>>(
                    3, (3, DMatrix::from_element(3, 3, 1.0)), &[0, 1, 2, 3, 4, 5], "A ∘ J = A");
                // CS ∘ I = σ² I: the correlation drops out
                let h = Covariance::<Hadamard<CompoundSymmetric, Identity>>::new((3, 3)).unwrap();
                let s = Covariance::<Scalar>::new(3).unwrap();
                for p in points("cs hadamard identity", 2) {
                    let vh = re(&h.value_in::<T>(&lift::<T>(&p)).unwrap());
                    let vs = re(&s.value_in::<T>(&lift::<T>(&p[..1])).unwrap());
                    assert_near(&vh, &vs, T::TOL, "CS ∘ I = σ² I");
                    let jh = h.jacobian_in::<T>(&lift::<T>(&p)).unwrap();
                    assert!(re(&jh[1]).iter().all(|x| *x == 0.0), "∂(CS ∘ I)/∂ρ = 0");
                }
                // 2 ∘ A = A + A (a broadcast 1 × 1 operand)
                same_matrix::<T, Hadamard<Fixed, AR1>, Sum<(AR1, AR1)>>(
                    (Fixed::scalar(2.0), 4), (4, 4), &[0, 1, 0, 1], "2 ∘ A = A + A");
            }

            #[test]
            fn sum_identities() {
                same_matrix::<T, Sum<(AR1, Scalar)>, Sum<(Scalar, AR1)>>(
                    (3, 3), (3, 3), &[2, 0, 1], "A + B = B + A");
                same_matrix::<T, Sum<(AR1, Sum<(Scalar, Diagonal)>)>, Sum<(AR1, Scalar, Diagonal)>>(
                    (3, (3, 3)), (3, 3, 3), &[0, 1, 2, 3, 4, 5], "A + (B + C) = A + B + C");
                same_matrix::<T, AR1, Sum<(AR1, Fixed)>>(
                    4, (4, DMatrix::zeros(4, 4)), &[0, 1], "A + 0 = A");
                // Sum distributes over Kron: (A + B) ⊗ C = A ⊗ C + B ⊗ C
                same_matrix::<T, Kron<Sum<(AR1, Scalar)>, CompoundSymmetric>,
                              Sum<(Kron<AR1, CompoundSymmetric>, Kron<Scalar, CompoundSymmetric>)>>(
                    ((3, 3), 2), ((3, 2), (3, 2)), &[0, 1, 3, 4, 2, 3, 4], "(A + B) ⊗ C");
            }

            #[test]
            fn product_gram_propagate_and_inverse_identities() {
                // A⁻¹ A = I and (A⁻¹)⁻¹ = A
                let p = Covariance::<Product<Inverse<AR1>, AR1>>::new((4, 4)).unwrap();
                for x in points("inverse", 2) {
                    let free = lift::<T>(&[x[0], x[1], x[0], x[1]]);
                    let v = re(&p.value_in::<T>(&free).unwrap());
                    assert_near(&v, &DMatrix::identity(4, 4), T::TOL * 10.0, "A⁻¹ A = I");
                    // the derivative of a constant is zero (tied parameters)
                    let j = p.jacobian_in::<T>(&free).unwrap();
                    for k in 0..2 {
                        let tied = re(&j[k]) + re(&j[k + 2]);
                        assert!(max_abs(&tied) <= T::TOL * 100.0, "∂(A⁻¹A) = 0: {tied}");
                    }
                }
                same_matrix::<T, AR1, Inverse<Inverse<AR1>>>(4, 4, &[0, 1], "(A⁻¹)⁻¹ = A");
                // XᵀX = Xᵀ · X, XXᵀ = X · Xᵀ
                same_matrix::<T, Gram<LowerTriangular>, Product<Transpose<LowerTriangular>, LowerTriangular>>(
                    (3, 2), ((3, 2), (3, 2)), &[0, 1, 2, 3, 4, 0, 1, 2, 3, 4], "XᵀX");
                same_matrix::<T, Gram<LowerTriangular, Outer>, Product<LowerTriangular, Transpose<LowerTriangular>>>(
                    (3, 2), ((3, 2), (3, 2)), &[0, 1, 2, 3, 4, 0, 1, 2, 3, 4], "XXᵀ");
                // Z G Zᵀ = (Z G) Zᵀ
                same_matrix::<T, Propagate<LowerTriangular, AR1>,
                              Product<Product<LowerTriangular, AR1>, Transpose<LowerTriangular>>>(
                    ((4, 3), 3), (((4, 3), 3), (4, 3)),
                    &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1, 2, 3, 4, 5, 6, 7, 8],
                    "Z G Zᵀ");
            }

            #[test]
            fn augment_stack_and_block_diagonal_identities() {
                // [A; B] = [Aᵀ Bᵀ]ᵀ
                same_matrix::<T, Stack<(LowerTriangular, EqualEntry)>,
                              Transpose<Augment<(Transpose<LowerTriangular>, Transpose<EqualEntry>)>>>(
                    ((2, 3), (2, 3)), ((2, 3), (2, 3)), &[0, 1, 2, 3], "[A; B] = [Aᵀ Bᵀ]ᵀ");
                // diag(A, B) = [A 0; 0 B]
                same_matrix::<T, BlockDiag<(AR1, Scalar)>,
                              Stack<(Augment<(AR1, Fixed)>, Augment<(Fixed, Scalar)>)>>(
                    (3, 2),
                    ((3, DMatrix::zeros(3, 2)), (DMatrix::zeros(2, 3), 2)),
                    &[0, 1, 2], "diag(A, B)");
            }
        }
    )*};
}

scalar_suite!(with_f32: f32, with_f64: f64, with_dual64: Dual64);
