//! `V = σ² I` (n × n). Parameter `sigma^2`, transform `e^{2x}`.
//!
//! `∂V/∂σ² = I`.

use super::zero_sized;
use crate::structure::{Diagonals, Size};
use crate::{ParamSpec, ParamTable, Real, Structure};
use nalgebra::DMatrix;

zero_sized! {
    /// Scaled identity `σ² I_n`: one parameter `sigma^2` (transform `e^{2x}`).
    ///
    /// ```
    /// use covreml::{Covariance, Scalar};
    /// let s = Covariance::<Scalar>::new(3).unwrap();
    /// let v = s.value(&[0.3]).unwrap(); // σ² = e^{0.6}
    /// assert!((v[(0, 0)] - 1.8221188003905089).abs() < 1e-15);
    /// assert_eq!(v[(0, 1)], 0.0);
    /// assert_eq!(s.names(), ["sigma^2"]);
    /// ```
    #[derive(crate::ParamTable)]
    #[params("sigma^2")]
    Scalar<N>
}

impl<N: Size> Structure for Scalar<N> {
    type Rows = N;
    type Cols = N;
    type NParams = <Self as ParamTable>::Count;
    type Shape = N::Shape;
    const NAME: &'static str = "Scalar";

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
    fn param_count(_: &Self::Shape) -> usize {
        Self::PARAM_NAMES.len()
    }
    fn param_specs(_: &Self::Shape) -> Vec<ParamSpec> {
        vec![ParamSpec::variance(Self::PARAM_NAMES[0])]
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let n = N::get(shape);
        DMatrix::from_diagonal_element(n, n, theta[0])
    }
    fn jacobian<T: Real>(shape: &Self::Shape, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        let n = N::get(shape);
        Some(vec![DMatrix::identity(n, n)])
    }
    fn diagonal<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Diagonals<T>> {
        let n = N::get(shape);
        Some((vec![theta[0]; n], vec![vec![T::one(); n]]))
    }
    fn sparse_inverse_into<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
        out: &mut crate::SparseInverse<T>,
    ) -> Option<bool> {
        // σ⁻² I, −σ⁻⁴ I, n log σ², n / σ², written in place (the sums
        // added term by term, as the inverse of the diagonal adds them).
        let n = N::get(shape);
        if !out.fits_diagonal(n, 1) {
            return Some(false);
        }
        let s = theta[0];
        out.values.fill(T::one() / s);
        out.jacobian[0].fill(-T::one() / (s * s));
        let (l, r) = (s.ln(), T::one() / s);
        let (mut logdet, mut dlogdet) = (T::zero(), T::zero());
        for _ in 0..n {
            logdet += l;
            dlogdet += r;
        }
        out.logdet = logdet;
        out.logdet_jacobian[0] = dlogdet;
        Some(true)
    }
}

/// Static evaluation (`Scalar<Const<N>>`): the same formulas into stack-allocated
/// matrices; see [`StaticStructure`](crate::StaticStructure).
impl<const N: usize> crate::StaticStructure for Scalar<nalgebra::Const<N>> {
    type SRows = nalgebra::Const<N>;
    type SCols = nalgebra::Const<N>;
    #[inline]
    fn value_slice<T: Real>(theta: &[T]) -> nalgebra::SMatrix<T, N, N> {
        nalgebra::SMatrix::from_diagonal_element(theta[0])
    }
    #[inline]
    fn jacobian_slice<T: Real>(_: &[T]) -> crate::static_structure::StaticJacobian<T, Self> {
        crate::static_structure::jacobian_from_fn(|_| nalgebra::SMatrix::identity())
    }
}
