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
