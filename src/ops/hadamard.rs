//! `V = A ∘ B`: the element-wise (Hadamard) product. Both operands have the
//! same size, or one is a `1 × 1` value that broadcasts.
//!
//! `∂V/∂θ_A = ∂A/∂θ_A ∘ B`, `∂V/∂θ_B = A ∘ ∂B/∂θ_B`.

use super::binary::{self, broadcast, is_scalar};
use super::size::{Common, SameSize};
use crate::{ParamSpec, Real, Structure};
use nalgebra::{DMatrix, DimAdd, DimSum};
use std::marker::PhantomData;

/// Element-wise product of two operands (the seed's `HadamardProduct`).
///
/// The seed example: `Equicorrelation(4)` named `a` times the fixed value 5.0,
/// at free parameter 1.0.
///
/// ```
/// use covreml::{ops::Hadamard, Covariance, Equicorrelation, Fixed};
/// let op = Covariance::<Hadamard<Equicorrelation, Fixed>>::new((4, Fixed::scalar(5.0)))
///     .unwrap()
///     .with_operand_names(&["a", "b"])
///     .unwrap();
/// let v = op.value(&[1.0]).unwrap();
/// assert_eq!(v[(0, 0)], 5.0);
/// assert!((v[(0, 1)] - 3.2071).abs() < 1e-4);
/// let (grad, names) = (op.jacobian(&[1.0]).unwrap(), op.free_names());
/// assert_eq!(grad[0][(0, 0)], 0.0);
/// assert!((grad[0][(0, 1)] - 1.3107).abs() < 1e-4);
/// assert_eq!(names, ["a/rho"]);
/// ```
pub struct Hadamard<A, B>(PhantomData<(A, B)>);

super::zst_impls!(Hadamard<A, B>);

fn out_dims(da: (usize, usize), db: (usize, usize)) -> (usize, usize) {
    if is_scalar(da) {
        db
    } else {
        da
    }
}

impl<A: Structure, B: Structure> Structure for Hadamard<A, B>
where
    A::Rows: SameSize<B::Rows>,
    A::Cols: SameSize<B::Cols>,
    A::NParams: DimAdd<B::NParams>,
{
    type Rows = Common<A::Rows, B::Rows>;
    type Cols = Common<A::Cols, B::Cols>;
    type NParams = DimSum<A::NParams, B::NParams>;
    type Shape = (A::Shape, B::Shape);
    const NAME: &'static str = "Hadamard";
    const OPERANDS: usize = 2;

    fn check_shape(shape: &Self::Shape) -> Result<(), crate::CovError> {
        binary::check::<A, B>(Self::NAME, shape, |a, b| {
            a == b || is_scalar(a) || is_scalar(b)
        })
    }
    fn dims(shape: &Self::Shape) -> (usize, usize) {
        out_dims(A::dims(&shape.0), B::dims(&shape.1))
    }
    fn param_count(shape: &Self::Shape) -> usize {
        binary::count::<A, B>(shape)
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        binary::specs::<A, B>(shape)
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let (r, c) = Self::dims(shape);
        let (a, b) = binary::values::<A, B, T>(shape, theta);
        broadcast(&a, r, c).component_mul(&broadcast(&b, r, c))
    }
    fn jacobian<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        Self::value_and_jacobian(shape, theta).1
    }
    fn value_and_jacobian<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> (DMatrix<T>, Option<Vec<DMatrix<T>>>) {
        let (r, c) = Self::dims(shape);
        let ((a, ja), (b, jb)) = binary::values_and_jacobians::<A, B, T>(shape, theta);
        let (a, b) = (broadcast(&a, r, c), broadcast(&b, r, c));
        let jac = ja.zip(jb).map(|(ja, jb)| {
            let mut out: Vec<DMatrix<T>> = ja
                .iter()
                .map(|d| broadcast(d, r, c).component_mul(&b))
                .collect();
            out.extend(jb.iter().map(|d| a.component_mul(&broadcast(d, r, c))));
            out
        });
        (a.component_mul(&b), jac)
    }
}
