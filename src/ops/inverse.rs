//! `V = A⁻¹` (A square). `∂V/∂θ = −A⁻¹ (∂A/∂θ) A⁻¹`.
//!
//! A singular `A` gives a matrix of NaN, which the runtime layer reports as
//! [`CovError::NonFiniteMatrix`] rather than passing on.

use super::unary;
use crate::{CovError, ParamSpec, Real, Structure};
use nalgebra::DMatrix;
use std::marker::PhantomData;

/// The inverse of one square operand (a precision matrix from a covariance).
///
/// ```
/// use covreml::{ops::Inverse, Covariance, AR1};
/// let p = Covariance::<Inverse<AR1>>::new(3).unwrap();
/// let v = p.value(&[0.2, 0.3]).unwrap();
/// assert!((v[(0, 0)] - 0.685515703474662).abs() < 1e-14);
/// assert!(v[(0, 2)].abs() < 1e-15); // AR1's precision is tridiagonal
/// ```
pub struct Inverse<A>(PhantomData<A>);

super::zst_impls!(Inverse<A>);

fn invert<T: Real>(a: DMatrix<T>) -> DMatrix<T> {
    let (r, c) = a.shape();
    // LU with partial pivoting works for any nonsingular A (symmetric or not).
    a.lu()
        .try_inverse()
        .unwrap_or_else(|| DMatrix::from_element(r, c, T::c(f64::NAN)))
}

impl<A: Structure> Structure for Inverse<A>
where
    A::Rows: super::size::SameSize<A::Cols>,
{
    type Rows = A::Rows;
    type Cols = A::Cols;
    type NParams = A::NParams;
    type Shape = A::Shape;
    const NAME: &'static str = "Inverse";
    const OPERANDS: usize = 1;

    fn default_transforms<T: Real>(
        shape: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        dtheta: Option<&mut [T]>,
    ) {
        A::default_transforms(shape, free, theta, dtheta)
    }

    fn check_shape(shape: &Self::Shape) -> Result<(), CovError> {
        A::check_shape(shape)?;
        let (r, c) = A::dims(shape);
        if r != c {
            return Err(CovError::SizeMismatch {
                operator: Self::NAME,
                details: format!("op_0 ({}) is {r}×{c}, not square", A::NAME),
            });
        }
        Ok(())
    }
    fn dims(shape: &Self::Shape) -> (usize, usize) {
        A::dims(shape)
    }
    fn param_count(shape: &Self::Shape) -> usize {
        A::param_count(shape)
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        unary::specs::<A>(shape)
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        invert(A::value(shape, theta))
    }
    fn jacobian<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        Self::value_and_jacobian(shape, theta).1
    }
    fn value_and_jacobian<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> (DMatrix<T>, Option<Vec<DMatrix<T>>>) {
        let (a, ja) = A::value_and_jacobian(shape, theta);
        let inv = invert(a);
        let jac = ja.map(|j| j.iter().map(|d| -(&inv * d * &inv)).collect());
        (inv, jac)
    }
}

/// Static evaluation of `A⁻¹` for a square static operand (see
/// [`StaticStructure`](crate::StaticStructure)); LU with partial pivoting, as
/// the dynamic path.
mod static_eval {
    use super::super::size::SameSize;
    use super::*;
    use crate::static_structure::{Allocates, StaticJacobian, StaticStructure, StaticValue};
    use nalgebra::{DefaultAllocator, DimName};
    use nalgebra::{DimMin, OMatrix};

    type Square<T, A> = OMatrix<T, <A as StaticStructure>::SRows, <A as StaticStructure>::SRows>;

    /// `A`'s value seen as the square matrix it is (sizes checked by `SameSize`).
    #[inline]
    fn square<T: Real, A: StaticStructure>(m: &StaticValue<T, A>) -> Square<T, A>
    where
        DefaultAllocator:
            Allocates<A::SRows, A::SCols, A::NParams> + Allocates<A::SRows, A::SRows, A::NParams>,
    {
        Square::<T, A>::from_fn_generic(A::SRows::name(), A::SRows::name(), |i, j| m[(i, j)])
    }

    impl<A: StaticStructure> StaticStructure for Inverse<A>
    where
        A::Rows: SameSize<A::Cols>,
        A::SRows: SameSize<A::SCols> + DimMin<A::SRows, Output = A::SRows>,
        DefaultAllocator: Allocates<A::SRows, A::SCols, A::NParams>
            + Allocates<A::SRows, A::SRows, A::NParams>
            + nalgebra::allocator::Allocator<A::SRows>,
    {
        type SRows = A::SRows;
        type SCols = A::SRows;
        #[inline]
        fn value_slice<T: Real>(theta: &[T]) -> StaticValue<T, Self> {
            invert(square::<T, A>(&A::value_slice(theta)))
        }
        #[inline]
        fn jacobian_slice<T: Real>(theta: &[T]) -> StaticJacobian<T, Self> {
            Self::value_and_jacobian_slice(theta).1
        }
        #[inline]
        fn value_and_jacobian_slice<T: Real>(
            theta: &[T],
        ) -> (StaticValue<T, Self>, StaticJacobian<T, Self>) {
            let (a, ja) = A::value_and_jacobian_slice(theta);
            let inv = invert(square::<T, A>(&a));
            let jac = crate::static_structure::jacobian_from_fn(|k| {
                -(&inv * square::<T, A>(&ja[k]) * &inv)
            });
            (inv, jac)
        }
    }

    #[inline]
    fn invert<T: Real, D: DimName + DimMin<D, Output = D>>(a: OMatrix<T, D, D>) -> OMatrix<T, D, D>
    where
        DefaultAllocator: nalgebra::allocator::Allocator<D, D> + nalgebra::allocator::Allocator<D>,
    {
        a.lu()
            .try_inverse()
            .unwrap_or_else(|| OMatrix::from_element_generic(D::name(), D::name(), T::c(f64::NAN)))
    }
}
