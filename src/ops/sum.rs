//! `V = A + B + …` (two or more operands of one size; a `1 × 1` operand
//! broadcasts). `∂V/∂θ_X = ∂X/∂θ_X` for each operand `X`.

use super::binary::{add_broadcast, broadcast_owned, is_scalar};
use super::operands::{concat_jacobians, describe, AllSameCols, AllSameRows, Operands};
use crate::{CovError, ParamSpec, Real, Structure};
use nalgebra::DMatrix;
use std::marker::PhantomData;

/// Sum of two or more operands, given as a tuple: `Sum<(A, B, C)>`.
///
/// ```
/// use covreml::{ops::Sum, Covariance, Diagonal, Equicorrelation, Scalar};
/// let s = Covariance::<Sum<(Scalar, Equicorrelation, Diagonal)>>::new((3, 3, 3)).unwrap();
/// let v = s.value(&[0.1, 0.3, 0.2, 0.4, -0.1]).unwrap();
/// assert!((v[(0, 0)] - 3.71322745580144).abs() < 1e-14);
/// assert_eq!(s.names()[1], "op_1/rho");
/// ```
pub struct Sum<L>(PhantomData<L>);

super::zst_impls!(Sum<L>);

fn out_dims(dims: &[(usize, usize)]) -> (usize, usize) {
    dims.iter()
        .copied()
        .find(|d| !is_scalar(*d))
        .unwrap_or((1, 1))
}

/// `Σ m` (each `1 × 1` term broadcast to `r × c`), starting from the first
/// term rather than from zeros.
fn sum_of<T: Real>(terms: impl IntoIterator<Item = DMatrix<T>>, r: usize, c: usize) -> DMatrix<T> {
    let mut terms = terms.into_iter();
    let Some(first) = terms.next() else {
        return DMatrix::zeros(r, c);
    };
    let mut acc = broadcast_owned(first, r, c);
    for m in terms {
        add_broadcast(&mut acc, &m);
    }
    acc
}

impl<L: Operands + AllSameRows + AllSameCols> Structure for Sum<L> {
    type Rows = <L as AllSameRows>::Rows;
    type Cols = <L as AllSameCols>::Cols;
    type NParams = L::NParams;
    type Shape = L::Shape;
    const NAME: &'static str = "Sum";
    const OPERANDS: usize = L::LEN;

    fn default_transforms<T: Real>(
        shape: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        dtheta: Option<&mut [T]>,
    ) {
        L::default_transforms(shape, free, theta, dtheta)
    }

    fn check_shape(shape: &Self::Shape) -> Result<(), CovError> {
        L::check_shapes(shape)?;
        let dims = L::dims(shape);
        let out = out_dims(&dims);
        if dims.iter().all(|d| *d == out || is_scalar(*d)) {
            Ok(())
        } else {
            Err(CovError::SizeMismatch {
                operator: Self::NAME,
                details: describe(&L::operand_names(), &L::type_names(), &dims),
            })
        }
    }
    fn dims(shape: &Self::Shape) -> (usize, usize) {
        out_dims(&L::dims(shape))
    }
    fn param_count(shape: &Self::Shape) -> usize {
        L::param_count_total(shape)
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        L::param_specs(shape)
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let (r, c) = Self::dims(shape);
        sum_of(L::values(shape, theta), r, c)
    }
    fn jacobian<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        Self::value_and_jacobian(shape, theta).1
    }
    fn value_and_jacobian<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> (DMatrix<T>, Option<Vec<DMatrix<T>>>) {
        let (r, c) = Self::dims(shape);
        let mut parts = L::values_and_jacobians(shape, theta);
        let jac = concat_jacobians(&mut parts, |_, d| broadcast_owned(d, r, c));
        (sum_of(parts.into_iter().map(|(m, _)| m), r, c), jac)
    }
    fn diagonal<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> Option<crate::structure::Diagonals<T>> {
        let parts = L::diagonals(shape, theta)?;
        let n = parts.first()?.0.len();
        if parts.iter().any(|(d, _)| d.len() != n) {
            return None;
        }
        let mut value = vec![T::zero(); n];
        let mut jac = Vec::new();
        for (d, dj) in parts {
            value.iter_mut().zip(&d).for_each(|(v, x)| *v += *x);
            jac.extend(dj);
        }
        Some((value, jac))
    }
}

/// Static evaluation of a sum of static operands (see
/// [`StaticStructure`](crate::StaticStructure)): operands of equal static sizes.
mod static_eval {
    use super::*;
    use crate::ops::static_operands::{mode, Place};
    use crate::ops::StaticOperands;
    use crate::static_structure::{
        Allocates, StaticCount, StaticJacobian, StaticStructure, StaticValue,
    };
    use nalgebra::DefaultAllocator;

    type Out<'a, T, L> = Place<
        'a,
        T,
        <L as StaticOperands>::Rows0,
        <L as StaticOperands>::Cols0,
        <L as Operands>::NParams,
        { mode::SUM },
    >;

    impl<L: StaticOperands + AllSameRows + AllSameCols> StaticStructure for Sum<L>
    where
        <L as Operands>::NParams: StaticCount,
        DefaultAllocator: Allocates<L::Rows0, L::Cols0, <L as Operands>::NParams>,
    {
        type SRows = L::Rows0;
        type SCols = L::Cols0;
        #[inline]
        fn value_slice<T: Real>(theta: &[T]) -> StaticValue<T, Self> {
            Out::<T, L>::value::<L>(theta)
        }
        #[inline]
        fn jacobian_slice<T: Real>(theta: &[T]) -> StaticJacobian<T, Self> {
            Out::<T, L>::jacobian::<L>(theta)
        }
        #[inline]
        fn value_and_jacobian_slice<T: Real>(
            theta: &[T],
        ) -> (StaticValue<T, Self>, StaticJacobian<T, Self>) {
            Out::<T, L>::value_and_jacobian::<L>(theta)
        }
    }
}
