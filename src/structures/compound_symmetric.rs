//! `V = σ² ((1 − ρ) I + ρ J)` (n × n, n > 1). Parameters `sigma^2`
//! (`e^{2x}`) and `rho` (sigmoid then onto `(−1/(n−1), 1)`).
//!
//! `∂V/∂σ² = (1 − ρ) I + ρ J`, `∂V/∂ρ = σ² (J − I)`.

use super::zero_sized;
use crate::structure::Size;
use crate::{CovError, ParamSpec, ParamTable, Real, Structure};
use nalgebra::DMatrix;

zero_sized! {
    /// Compound symmetry: variance `σ²` on the diagonal, covariance `σ² ρ` off it.
    ///
    /// ```
    /// use covreml::{Covariance, CompoundSymmetric};
    /// let cs = Covariance::<CompoundSymmetric>::new(4).unwrap();
    /// let v = cs.value(&[0.2, -0.5]).unwrap();
    /// assert!((v[(0, 0)] - 1.4918246976412703).abs() < 1e-15);
    /// assert!((v[(0, 3)] - 0.2536910928890115).abs() < 1e-15);
    /// ```
    #[derive(crate::ParamTable)]
    #[params("sigma^2", "rho")]
    CompoundSymmetric<N>
}

impl<N: Size> Structure for CompoundSymmetric<N> {
    type Rows = N;
    type Cols = N;
    type NParams = <Self as ParamTable>::Count;
    type Shape = N::Shape;
    const NAME: &'static str = "CompoundSymmetric";

    fn default_transforms<T: Real>(
        shape: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        dtheta: Option<&mut [T]>,
    ) {
        let lo = -1.0 / (N::get(shape) as f64 - 1.0);
        super::apply_transforms(free, theta, dtheta, |k| match k {
            0 => super::LeafTransform::Variance,
            _ => super::LeafTransform::Correlation(lo, 1.0),
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
        vec![
            ParamSpec::variance(Self::PARAM_NAMES[0]),
            ParamSpec::new(
                Self::PARAM_NAMES[1],
                0.0,
                super::equicorrelation_transform(N::get(shape)),
            ),
        ]
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let n = N::get(shape);
        let (s2, rho) = (theta[0], theta[1]);
        DMatrix::from_fn(n, n, |i, j| if i == j { s2 } else { s2 * rho })
    }
    fn jacobian<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        let n = N::get(shape);
        let (s2, rho) = (theta[0], theta[1]);
        let d_s2 = DMatrix::from_fn(n, n, |i, j| if i == j { T::one() } else { rho });
        let d_rho = DMatrix::from_fn(n, n, |i, j| if i == j { T::zero() } else { s2 });
        Some(vec![d_s2, d_rho])
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

/// Static evaluation (`CompoundSymmetric<Const<N>>`): the same formulas into stack-allocated
/// matrices; see [`StaticStructure`](crate::StaticStructure).
impl<const N: usize> crate::StaticStructure for CompoundSymmetric<nalgebra::Const<N>> {
    type SRows = nalgebra::Const<N>;
    type SCols = nalgebra::Const<N>;
    #[inline]
    fn value_slice<T: Real>(theta: &[T]) -> nalgebra::SMatrix<T, N, N> {
        let (s2, rho) = (theta[0], theta[1]);
        nalgebra::SMatrix::from_fn(|i, j| if i == j { s2 } else { s2 * rho })
    }
    #[inline]
    fn jacobian_slice<T: Real>(theta: &[T]) -> crate::static_structure::StaticJacobian<T, Self> {
        let (s2, rho) = (theta[0], theta[1]);
        crate::static_structure::jacobian_from_fn(|k| {
            nalgebra::SMatrix::from_fn(|i, j| match (k, i == j) {
                (0, true) => T::one(),
                (0, false) => rho,
                (_, true) => T::zero(),
                (_, false) => s2,
            })
        })
    }
}
