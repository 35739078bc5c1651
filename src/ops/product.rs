//! `V = A B`: the matrix product (`A` is `m × k`, `B` is `k × n`).
//!
//! `∂V/∂θ_A = (∂A/∂θ_A) B`, `∂V/∂θ_B = A (∂B/∂θ_B)`.

use super::binary;
use super::size::SameSize;
use crate::{ParamSpec, Real, Structure};
use nalgebra::{DMatrix, DimAdd, DimSum};
use std::marker::PhantomData;

/// Matrix product of two operands.
///
/// ```
/// use covreml::{ops::Product, Covariance, Scalar, AR1};
/// let p = Covariance::<Product<AR1, Scalar>>::new((3, 3)).unwrap();
/// let v = p.value(&[0.2, 0.3, -0.4]).unwrap();
/// assert!((v[(0, 0)] - 0.6703200460356392).abs() < 1e-14);
/// assert_eq!(p.names(), ["op_0/sigma^2", "op_0/rho", "op_1/sigma^2"]);
/// ```
pub struct Product<A, B>(PhantomData<(A, B)>);

super::zst_impls!(Product<A, B>);

impl<A: Structure, B: Structure> Structure for Product<A, B>
where
    A::Cols: SameSize<B::Rows>,
    A::NParams: DimAdd<B::NParams>,
{
    type Rows = A::Rows;
    type Cols = B::Cols;
    type NParams = DimSum<A::NParams, B::NParams>;
    type Shape = (A::Shape, B::Shape);
    const NAME: &'static str = "Product";
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
        binary::check::<A, B>(Self::NAME, shape, |a, b| a.1 == b.0)
    }
    fn dims(shape: &Self::Shape) -> (usize, usize) {
        (A::dims(&shape.0).0, B::dims(&shape.1).1)
    }
    fn param_count(shape: &Self::Shape) -> usize {
        binary::count::<A, B>(shape)
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        binary::specs::<A, B>(shape)
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let (a, b) = binary::values::<A, B, T>(shape, theta);
        a * b
    }
    fn jacobian<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        Self::value_and_jacobian(shape, theta).1
    }
    fn value_and_jacobian<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> (DMatrix<T>, Option<Vec<DMatrix<T>>>) {
        let ((a, ja), (b, jb)) = binary::values_and_jacobians::<A, B, T>(shape, theta);
        let jac = ja.zip(jb).map(|(ja, jb)| {
            let mut out: Vec<DMatrix<T>> = ja.iter().map(|d| d * &b).collect();
            out.extend(jb.iter().map(|d| &a * d));
            out
        });
        (a * b, jac)
    }
}

/// Static evaluation of `A B` for static operands (see
/// [`StaticStructure`](crate::StaticStructure)).
mod static_eval {
    use super::*;
    use crate::ops::static_operands::binary_jacobian_into;
    use crate::static_structure::{
        zero_jacobian, Allocates, StaticCount, StaticJacobian, StaticStructure, StaticValue,
    };
    use nalgebra::{DefaultAllocator, DimName};

    impl<A: StaticStructure, B: StaticStructure<SRows = <A as StaticStructure>::SCols>>
        StaticStructure for Product<A, B>
    where
        Self: Structure<NParams: StaticCount, Shape: Default>,
        DefaultAllocator: Allocates<A::SRows, A::SCols, A::NParams>
            + Allocates<B::SRows, B::SCols, B::NParams>
            + Allocates<A::SRows, B::SCols, <Self as Structure>::NParams>,
    {
        type SRows = A::SRows;
        type SCols = B::SCols;
        #[inline]
        fn value_slice<T: Real>(theta: &[T]) -> StaticValue<T, Self> {
            let (ta, tb) = theta.split_at(<A::NParams as DimName>::DIM);
            A::value_slice(ta) * B::value_slice(tb)
        }
        #[inline]
        fn jacobian_slice<T: Real>(theta: &[T]) -> StaticJacobian<T, Self> {
            let mut jac: StaticJacobian<T, Self> = zero_jacobian();
            binary_jacobian_into::<A, B, T, _, _>(theta, jac.as_mut_slice(), |x, y, out| {
                *out = x * y
            });
            jac
        }
        #[inline]
        fn value_and_jacobian_slice<T: Real>(
            theta: &[T],
        ) -> (StaticValue<T, Self>, StaticJacobian<T, Self>) {
            let mut jac: StaticJacobian<T, Self> = zero_jacobian();
            let (a, b) =
                binary_jacobian_into::<A, B, T, _, _>(theta, jac.as_mut_slice(), |x, y, out| {
                    *out = x * y
                });
            (a * b, jac)
        }
    }
}
