//! `V = I` (n × n): no parameters.

use super::zero_sized;
use crate::structure::{Diagonals, Size};
use crate::{ParamSpec, Real, Structure};
use nalgebra::{Const, DMatrix};

zero_sized! {
    /// The identity matrix `I_n`; no parameters.
    ///
    /// ```
    /// use covreml::{Covariance, Identity};
    /// let i = Covariance::<Identity>::new(3).unwrap();
    /// assert_eq!(i.value(&[] as &[f64]).unwrap(), nalgebra::DMatrix::identity(3, 3));
    /// assert_eq!(i.n_params(), 0);
    /// ```
    Identity<N>
}

impl<N: Size> Structure for Identity<N> {
    type Rows = N;
    type Cols = N;
    type NParams = Const<0>;
    type Shape = N::Shape;
    const NAME: &'static str = "Identity";

    fn default_transforms<T: Real>(
        _: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        dtheta: Option<&mut [T]>,
    ) {
        let _ = (free, theta, dtheta);
    }

    fn dims(shape: &Self::Shape) -> (usize, usize) {
        (N::get(shape), N::get(shape))
    }
    fn param_count(_: &Self::Shape) -> usize {
        0
    }
    fn param_specs(_: &Self::Shape) -> Vec<ParamSpec> {
        Vec::new()
    }
    fn value<T: Real>(shape: &Self::Shape, _: &[T]) -> DMatrix<T> {
        let n = N::get(shape);
        DMatrix::identity(n, n)
    }
    fn jacobian<T: Real>(_: &Self::Shape, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        Some(Vec::new())
    }
    fn diagonal<T: Real>(shape: &Self::Shape, _: &[T]) -> Option<Diagonals<T>> {
        Some((vec![T::one(); N::get(shape)], Vec::new()))
    }
    fn sparse_inverse_into<T: Real>(
        shape: &Self::Shape,
        _: &[T],
        out: &mut crate::SparseInverse<T>,
    ) -> Option<bool> {
        if !out.fits_diagonal(N::get(shape), 0) {
            return Some(false);
        }
        out.values.fill(T::one());
        out.logdet = T::zero();
        Some(true)
    }
}

/// Static evaluation (`Identity<Const<N>>`): the same formulas into stack-allocated
/// matrices; see [`StaticStructure`](crate::StaticStructure).
impl<const N: usize> crate::StaticStructure for Identity<Const<N>> {
    type SRows = Const<N>;
    type SCols = Const<N>;
    #[inline]
    fn value_slice<T: Real>(_: &[T]) -> nalgebra::SMatrix<T, N, N> {
        nalgebra::SMatrix::identity()
    }
    #[inline]
    fn jacobian_slice<T: Real>(_: &[T]) -> crate::static_structure::StaticJacobian<T, Self> {
        crate::static_structure::jacobian_from_fn(|_| nalgebra::SMatrix::zeros())
    }
}
