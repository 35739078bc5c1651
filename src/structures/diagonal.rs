//! `V = diag(σ²_0, …, σ²_{n−1})`. Parameters `sigma^2_i`, transform `e^{2x}` each.
//!
//! `∂V/∂σ²_i = E_ii`.

use super::zero_sized;
use crate::structure::{Diagonals, Size};
use crate::{ParamSpec, Real, Structure};
use nalgebra::DMatrix;

zero_sized! {
    /// Diagonal matrix with its own variance per row: `n` parameters
    /// `sigma^2_0 … sigma^2_{n-1}` (a static size `Const<N>` gives `Const<N>` parameters).
    ///
    /// ```
    /// use covreml::{Covariance, Diagonal};
    /// let d = Covariance::<Diagonal>::new(3).unwrap();
    /// let v = d.value(&[0.1, -0.2, 0.4]).unwrap();
    /// assert!((v[(1, 1)] - 0.6703200460356393).abs() < 1e-15);
    /// assert_eq!(d.names(), ["sigma^2_0", "sigma^2_1", "sigma^2_2"]);
    /// ```
    Diagonal<N>
}

impl<N: Size> Structure for Diagonal<N> {
    type Rows = N;
    type Cols = N;
    type NParams = N;
    type Shape = N::Shape;
    const NAME: &'static str = "Diagonal";

    fn default_transforms<T: Real>(
        _: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        dtheta: Option<&mut [T]>,
    ) {
        super::apply_transforms(free, theta, dtheta, |_| super::LeafTransform::Variance);
    }

    fn dims(shape: &Self::Shape) -> (usize, usize) {
        (N::get(shape), N::get(shape))
    }
    fn param_count(shape: &Self::Shape) -> usize {
        N::get(shape)
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        (0..N::get(shape))
            .map(|i| ParamSpec::variance(format!("sigma^2_{i}")))
            .collect()
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let n = N::get(shape);
        DMatrix::from_fn(n, n, |i, j| if i == j { theta[i] } else { T::zero() })
    }
    fn jacobian<T: Real>(shape: &Self::Shape, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        let n = N::get(shape);
        Some((0..n).map(|k| super::symmetric_unit(n, k, k)).collect())
    }
    fn diagonal<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Diagonals<T>> {
        let n = N::get(shape);
        let unit = |k: usize| {
            (0..n)
                .map(|i| if i == k { T::one() } else { T::zero() })
                .collect()
        };
        Some((theta[..n].to_vec(), (0..n).map(unit).collect()))
    }
}

/// Static evaluation (`Diagonal<Const<N>>`): the same formulas into stack-allocated
/// matrices; see [`StaticStructure`](crate::StaticStructure).
impl<const N: usize> crate::StaticStructure for Diagonal<nalgebra::Const<N>> {
    type SRows = nalgebra::Const<N>;
    type SCols = nalgebra::Const<N>;
    #[inline]
    fn value_slice<T: Real>(theta: &[T]) -> nalgebra::SMatrix<T, N, N> {
        nalgebra::SMatrix::from_fn(|i, j| if i == j { theta[i] } else { T::zero() })
    }
    #[inline]
    fn jacobian_slice<T: Real>(_: &[T]) -> crate::static_structure::StaticJacobian<T, Self> {
        crate::static_structure::jacobian_from_fn(|k| {
            let mut m = nalgebra::SMatrix::zeros();
            m[(k, k)] = T::one();
            m
        })
    }
}
