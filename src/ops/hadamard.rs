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

    fn default_transforms<T: Real>(
        shape: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        dtheta: Option<&mut [T]>,
    ) {
        binary::default_transforms::<A, B, T>(shape, free, theta, dtheta)
    }

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

/// Static evaluation of `A ∘ B` for static operands of equal sizes (see
/// [`StaticStructure`](crate::StaticStructure)).
mod static_eval {
    use super::*;
    use crate::ops::static_operands::binary_jacobian_into;
    use crate::static_structure::{
        zero_jacobian, zeros, Allocates, StaticCount, StaticJacobian, StaticStructure, StaticValue,
    };
    use nalgebra::{allocator::Allocator, DefaultAllocator, DimName, OMatrix};

    /// `out = a ∘ b` entry by entry, written in place.
    #[inline]
    fn hadamard_into<T: Real, R1, C1, R2, C2, R, C>(
        a: &OMatrix<T, R1, C1>,
        b: &OMatrix<T, R2, C2>,
        out: &mut OMatrix<T, R, C>,
    ) where
        R1: DimName,
        C1: DimName,
        R2: DimName,
        C2: DimName,
        R: DimName,
        C: DimName,
        DefaultAllocator: Allocator<R1, C1> + Allocator<R2, C2> + Allocator<R, C>,
    {
        let (a, b) = (a.as_slice(), b.as_slice());
        for (k, x) in out.as_mut_slice().iter_mut().enumerate() {
            *x = a[k] * b[k];
        }
    }

    impl<A: StaticStructure, B: StaticStructure> StaticStructure for Hadamard<A, B>
    where
        Self: Structure<NParams: StaticCount, Shape: Default>,
        A::SRows: SameSize<B::SRows>,
        A::SCols: SameSize<B::SCols>,
        DefaultAllocator: Allocates<A::SRows, A::SCols, A::NParams>
            + Allocates<B::SRows, B::SCols, B::NParams>
            + Allocates<A::SRows, A::SCols, <Self as Structure>::NParams>,
    {
        type SRows = A::SRows;
        type SCols = A::SCols;
        #[inline]
        fn value_slice<T: Real>(theta: &[T]) -> StaticValue<T, Self> {
            let (ta, tb) = theta.split_at(<A::NParams as DimName>::DIM);
            let mut v = zeros();
            hadamard_into(&A::value_slice(ta), &B::value_slice(tb), &mut v);
            v
        }
        #[inline]
        fn jacobian_slice<T: Real>(theta: &[T]) -> StaticJacobian<T, Self> {
            let mut jac: StaticJacobian<T, Self> = zero_jacobian();
            binary_jacobian_into::<A, B, T, _, _>(theta, jac.as_mut_slice(), hadamard_into);
            jac
        }
        #[inline]
        fn value_and_jacobian_slice<T: Real>(
            theta: &[T],
        ) -> (StaticValue<T, Self>, StaticJacobian<T, Self>) {
            let (mut v, mut jac): (_, StaticJacobian<T, Self>) = (zeros(), zero_jacobian());
            let (a, b) =
                binary_jacobian_into::<A, B, T, _, _>(theta, jac.as_mut_slice(), hadamard_into);
            hadamard_into(&a, &b, &mut v);
            (v, jac)
        }
    }
}
