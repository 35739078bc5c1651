//! `V = Σ` (n × n, symmetric): one parameter per entry of the lower triangle,
//! `sigma^2_i_j` for `j ≤ i` in row-major order; variances (`i = j`) take
//! `e^{2x}`, covariances the identity transform.
//!
//! `∂V/∂σ²_ii = E_ii`, `∂V/∂σ²_ij = E_ij + E_ji`.

use super::zero_sized;
use crate::structure::Size;
use crate::{ParamKind, ParamSpec, Real, Structure, Transform};
use nalgebra::{Const, DMatrix, Dim, Dyn};

zero_sized! {
    /// An unstructured symmetric matrix with `n(n+1)/2` parameters (a static
    /// size `Const<N>` gives a static count, for `N ≤ 16`).
    ///
    /// Note that nothing keeps a general `Σ` positive definite; use
    /// `Gram<LowerTriangular>` for a Cholesky parameterisation.
    ///
    /// ```
    /// use covreml::{Covariance, Unconstrained};
    /// let u = Covariance::<Unconstrained>::new(2).unwrap();
    /// assert_eq!(u.names(), ["sigma^2_0_0", "sigma^2_1_0", "sigma^2_1_1"]);
    /// let v = u.value(&[0.0, 0.3, 0.5]).unwrap();
    /// assert_eq!(v[(0, 1)], 0.3);
    /// assert_eq!(v[(1, 0)], 0.3);
    /// assert!((v[(1, 1)] - std::f64::consts::E).abs() < 1e-15);
    /// ```
    Unconstrained<N>
}

/// `n(n+1)/2` as a type: `Dyn` for `Dyn`, `Const<n(n+1)/2>` for `Const<n>` (n ≤ 16).
#[diagnostic::on_unimplemented(
    message = "no static parameter count for `Unconstrained<{Self}>`",
    note = "static sizes are supported up to 16; use the runtime size `Dyn` beyond that"
)]
pub trait TriangularNumber: Dim {
    /// `n(n+1)/2`.
    type Output: Dim;
}

impl TriangularNumber for Dyn {
    type Output = Dyn;
}

macro_rules! triangular {
    ($($n:literal)*) => {$(
        impl TriangularNumber for Const<$n> {
            type Output = Const<{ $n * ($n + 1) / 2 }>;
        }
    )*};
}
triangular!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);

impl<N: Size + TriangularNumber> Structure for Unconstrained<N> {
    type Rows = N;
    type Cols = N;
    type NParams = N::Output;
    type Shape = N::Shape;
    const NAME: &'static str = "Unconstrained";

    fn default_transforms<T: Real>(
        _: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        dtheta: Option<&mut [T]>,
    ) {
        // parameter k is entry (i, j), j ≤ i, in row-major order: a variance
        // exactly when it is a row's diagonal entry, k = i(i+3)/2
        super::apply_transforms(free, theta, dtheta, |k| {
            let mut end = 0; // index of row i's diagonal entry
            let mut i = 0;
            while end < k {
                i += 1;
                end += i + 1;
            }
            if end == k {
                super::LeafTransform::Variance
            } else {
                super::LeafTransform::Identity
            }
        });
    }

    fn dims(shape: &Self::Shape) -> (usize, usize) {
        (N::get(shape), N::get(shape))
    }
    fn param_count(shape: &Self::Shape) -> usize {
        let n = N::get(shape);
        n * (n + 1) / 2
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        let n = N::get(shape);
        let mut specs = Vec::with_capacity(n * (n + 1) / 2);
        for i in 0..n {
            for j in 0..=i {
                let t = if i == j {
                    Transform::ExpPow2
                } else {
                    Transform::Identity
                };
                let kind = if i == j {
                    ParamKind::Variance
                } else {
                    ParamKind::OffDiagonal
                };
                specs.push(ParamSpec::new(format!("sigma^2_{i}_{j}"), 0.0, t).kind(kind));
            }
        }
        specs
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let n = N::get(shape);
        let mut v = DMatrix::zeros(n, n);
        let mut k = 0;
        for i in 0..n {
            for j in 0..=i {
                v[(i, j)] = theta[k];
                v[(j, i)] = theta[k];
                k += 1;
            }
        }
        v
    }
    fn jacobian<T: Real>(shape: &Self::Shape, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        let n = N::get(shape);
        let mut out = Vec::with_capacity(n * (n + 1) / 2);
        for i in 0..n {
            for j in 0..=i {
                out.push(super::symmetric_unit(n, i, j));
            }
        }
        Some(out)
    }
    fn sparse_inverse<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> Option<crate::SparseInverse<T>> {
        // Small and dense: the dense inverse.
        let (v, jac) = Self::value_and_jacobian(shape, theta);
        crate::SparseInverse::from_dense(&v, &jac?)
    }
}

/// Static evaluation (`Unconstrained<Const<N>>`): the same formulas into stack-allocated
/// matrices; see [`StaticStructure`](crate::StaticStructure).
macro_rules! static_unconstrained {
    ($($n:literal)*) => {$(
        impl crate::StaticStructure for Unconstrained<Const<$n>> {
            type SRows = Const<$n>;
            type SCols = Const<$n>;
            #[inline]
            fn value_slice<T: Real>(theta: &[T]) -> nalgebra::SMatrix<T, $n, $n> {
                static_value::<T, $n>(theta)
            }
            #[inline]
            fn jacobian_slice<T: Real>(
                _: &[T],
            ) -> crate::static_structure::StaticJacobian<T, Self> {
                crate::static_structure::jacobian_from_fn(|k| static_unit::<T, $n>(k))
            }
        }
    )*};
}
static_unconstrained!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);

#[inline]
fn static_value<T: Real, const N: usize>(theta: &[T]) -> nalgebra::SMatrix<T, N, N> {
    let mut v = nalgebra::SMatrix::zeros();
    let mut k = 0;
    for i in 0..N {
        for j in 0..=i {
            v[(i, j)] = theta[k];
            v[(j, i)] = theta[k];
            k += 1;
        }
    }
    v
}

/// `∂V/∂θ_k`: parameter `k` is entry `(i, j)`, `j ≤ i`, in row-major order.
#[inline]
fn static_unit<T: Real, const N: usize>(k: usize) -> nalgebra::SMatrix<T, N, N> {
    let (mut i, mut first) = (0, 0);
    while first + i < k {
        first += i + 1;
        i += 1;
    }
    let j = k - first;
    let mut m = nalgebra::SMatrix::zeros();
    m[(i, j)] = T::one();
    m[(j, i)] = T::one();
    m
}
