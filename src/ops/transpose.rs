//! `V = Aᵀ`. `∂V/∂θ = (∂A/∂θ)ᵀ`.

use super::unary;
use crate::{ParamSpec, Real, Structure};
use nalgebra::DMatrix;
use std::marker::PhantomData;

/// The transpose of one operand.
///
/// ```
/// use covreml::{ops::Transpose, Covariance, LowerTriangular};
/// let t = Covariance::<Transpose<LowerTriangular>>::new((3, 2)).unwrap();
/// let v = t.value(&[1.0, 0.5, -0.5, 2.0, 0.25]).unwrap();
/// assert_eq!(v, nalgebra::dmatrix![1.0, 0.5, 2.0; 0.0, -0.5, 0.25]);
/// ```
pub struct Transpose<A>(PhantomData<A>);

super::zst_impls!(Transpose<A>);

impl<A: Structure> Structure for Transpose<A> {
    type Rows = A::Cols;
    type Cols = A::Rows;
    type NParams = A::NParams;
    type Shape = A::Shape;
    const NAME: &'static str = "Transpose";
    const OPERANDS: usize = 1;

    fn default_transforms<T: Real>(
        shape: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        dtheta: Option<&mut [T]>,
    ) {
        A::default_transforms(shape, free, theta, dtheta)
    }

    fn check_shape(shape: &Self::Shape) -> Result<(), crate::CovError> {
        A::check_shape(shape)
    }
    fn dims(shape: &Self::Shape) -> (usize, usize) {
        let (r, c) = A::dims(shape);
        (c, r)
    }
    fn param_count(shape: &Self::Shape) -> usize {
        A::param_count(shape)
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        unary::specs::<A>(shape)
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        A::value(shape, theta).transpose()
    }
    fn jacobian<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        A::jacobian(shape, theta).map(|j| j.iter().map(|d| d.transpose()).collect())
    }
    fn value_and_jacobian<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> (DMatrix<T>, Option<Vec<DMatrix<T>>>) {
        let (a, ja) = A::value_and_jacobian(shape, theta);
        (
            a.transpose(),
            ja.map(|j| j.iter().map(|d| d.transpose()).collect()),
        )
    }
}

/// Static evaluation of `Aᵀ` for a static operand (see
/// [`StaticStructure`](crate::StaticStructure)).
mod static_eval {
    use super::*;
    use crate::static_structure::{Allocates, StaticJacobian, StaticStructure, StaticValue};
    use nalgebra::DefaultAllocator;

    impl<A: StaticStructure> StaticStructure for Transpose<A>
    where
        DefaultAllocator:
            Allocates<A::SRows, A::SCols, A::NParams> + Allocates<A::SCols, A::SRows, A::NParams>,
    {
        type SRows = A::SCols;
        type SCols = A::SRows;
        #[inline]
        fn value_slice<T: Real>(theta: &[T]) -> StaticValue<T, Self> {
            A::value_slice(theta).transpose()
        }
        #[inline]
        fn jacobian_slice<T: Real>(theta: &[T]) -> StaticJacobian<T, Self> {
            let ja = A::jacobian_slice(theta);
            crate::static_structure::jacobian_from_fn(|k| ja[k].transpose())
        }
        #[inline]
        fn value_and_jacobian_slice<T: Real>(
            theta: &[T],
        ) -> (StaticValue<T, Self>, StaticJacobian<T, Self>) {
            let (a, ja) = A::value_and_jacobian_slice(theta);
            (
                a.transpose(),
                crate::static_structure::jacobian_from_fn(|k| ja[k].transpose()),
            )
        }
    }
}
