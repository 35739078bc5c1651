//! `V = (1 − ρ) I + ρ J` (n × n, n > 1). Parameter `rho`, transform sigmoid
//! then scale-shift onto `(−1/(n−1), 1)`.
//!
//! `∂V/∂ρ = J − I`.

use super::zero_sized;
use crate::structure::Size;
use crate::{CovError, ParamSpec, ParamTable, Real, Structure};
use nalgebra::DMatrix;

zero_sized! {
    /// Equicorrelation matrix: ones on the diagonal, `ρ` off it. Needs `n > 1`;
    /// `ρ` is kept in `(−1/(n−1), 1)`, where the matrix is positive definite.
    ///
    /// ```
    /// use covreml::{Covariance, Equicorrelation};
    /// let e = Covariance::<Equicorrelation>::new(3).unwrap();
    /// let v = e.value(&[0.7]).unwrap();
    /// assert_eq!(v[(0, 0)], 1.0);
    /// assert!((v[(0, 1)] - 0.5022816582522491).abs() < 1e-15);
    /// assert!(Covariance::<Equicorrelation>::new(1).is_err());
    /// ```
    #[derive(crate::ParamTable)]
    #[params("rho")]
    Equicorrelation<N>
}

impl<N: Size> Structure for Equicorrelation<N> {
    type Rows = N;
    type Cols = N;
    type NParams = <Self as ParamTable>::Count;
    type Shape = N::Shape;
    const NAME: &'static str = "Equicorrelation";

    fn default_transforms<T: Real>(
        shape: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        dtheta: Option<&mut [T]>,
    ) {
        let lo = -1.0 / (N::get(shape) as f64 - 1.0);
        super::apply_transforms(free, theta, dtheta, |_| {
            super::LeafTransform::Correlation(lo, 1.0)
        });
    }

    fn check_shape(shape: &Self::Shape) -> Result<(), CovError> {
        super::need_two(Self::NAME, N::get(shape))
    }
    fn dims(shape: &Self::Shape) -> (usize, usize) {
        (N::get(shape), N::get(shape))
    }
    fn param_count(_: &Self::Shape) -> usize {
        Self::PARAM_NAMES.len()
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        vec![ParamSpec::new(
            Self::PARAM_NAMES[0],
            0.0,
            super::equicorrelation_transform(N::get(shape)),
        )]
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let n = N::get(shape);
        DMatrix::from_fn(n, n, |i, j| if i == j { T::one() } else { theta[0] })
    }
    fn jacobian<T: Real>(shape: &Self::Shape, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        Some(vec![super::ones_off_diagonal(N::get(shape))])
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

/// Static evaluation (`Equicorrelation<Const<N>>`): the same formulas into stack-allocated
/// matrices; see [`StaticStructure`](crate::StaticStructure).
impl<const N: usize> crate::StaticStructure for Equicorrelation<nalgebra::Const<N>> {
    type SRows = nalgebra::Const<N>;
    type SCols = nalgebra::Const<N>;
    #[inline]
    fn value_slice<T: Real>(theta: &[T]) -> nalgebra::SMatrix<T, N, N> {
        nalgebra::SMatrix::from_fn(|i, j| if i == j { T::one() } else { theta[0] })
    }
    #[inline]
    fn jacobian_slice<T: Real>(_: &[T]) -> crate::static_structure::StaticJacobian<T, Self> {
        crate::static_structure::jacobian_from_fn(|_| {
            nalgebra::SMatrix::from_fn(|i, j| if i == j { T::zero() } else { T::one() })
        })
    }
}
