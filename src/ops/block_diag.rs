//! `V = diag(A, B, …)`: operands on the diagonal, zeros elsewhere (two or
//! more operands, any sizes). `∂V/∂θ_X` is `∂X/∂θ_X` in `X`'s block.

use super::operands::{concat_jacobians, Operands};
use crate::{CovError, ParamSpec, Real, Structure};
use nalgebra::DMatrix;
use std::marker::PhantomData;

/// Block-diagonal matrix of two or more operands: `BlockDiag<(A, B)>`.
///
/// ```
/// use covreml::{ops::BlockDiag, Covariance, Scalar, AR1};
/// let b = Covariance::<BlockDiag<(Scalar, AR1)>>::new((2, 3)).unwrap();
/// let v = b.value(&[0.2, -0.1, 0.5]).unwrap();
/// assert_eq!(v.shape(), (5, 5));
/// assert!((v[(0, 0)] - 1.4918246976412703).abs() < 1e-15);
/// assert_eq!(v[(0, 2)], 0.0);
/// ```
pub struct BlockDiag<L>(PhantomData<L>);

super::zst_impls!(BlockDiag<L>);

/// Offsets of each block's top-left corner.
fn offsets(dims: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut at = (0, 0);
    dims.iter()
        .map(|d| {
            let here = at;
            at = (at.0 + d.0, at.1 + d.1);
            here
        })
        .collect()
}

fn place<T: Real>(out: &mut DMatrix<T>, at: (usize, usize), m: &DMatrix<T>) {
    out.view_mut(at, m.shape()).copy_from(m);
}

impl<L: Operands> Structure for BlockDiag<L> {
    type Rows = nalgebra::Dyn;
    type Cols = nalgebra::Dyn;
    type NParams = L::NParams;
    type Shape = L::Shape;
    const NAME: &'static str = "BlockDiag";
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
        L::check_shapes(shape)
    }
    fn dims(shape: &Self::Shape) -> (usize, usize) {
        L::dims(shape)
            .iter()
            .fold((0, 0), |a, d| (a.0 + d.0, a.1 + d.1))
    }
    fn param_count(shape: &Self::Shape) -> usize {
        L::param_count_total(shape)
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        L::param_specs(shape)
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let (r, c) = Self::dims(shape);
        let offs = offsets(&L::dims(shape));
        let mut out = DMatrix::zeros(r, c);
        for (m, at) in L::values(shape, theta).iter().zip(offs) {
            place(&mut out, at, m);
        }
        out
    }
    fn jacobian<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        Self::value_and_jacobian(shape, theta).1
    }
    fn value_and_jacobian<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> (DMatrix<T>, Option<Vec<DMatrix<T>>>) {
        let (r, c) = Self::dims(shape);
        let offs = offsets(&L::dims(shape));
        let mut parts = L::values_and_jacobians(shape, theta);
        let jac = concat_jacobians(&mut parts, |i, d| {
            let mut out = DMatrix::zeros(r, c);
            place(&mut out, offs[i], &d);
            out
        });
        let mut value = DMatrix::zeros(r, c);
        for ((m, _), at) in parts.iter().zip(&offs) {
            place(&mut value, *at, m);
        }
        (value, jac)
    }
    fn diagonal<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> Option<crate::structure::Diagonals<T>> {
        let parts = L::diagonals(shape, theta)?;
        let n: usize = parts.iter().map(|(d, _)| d.len()).sum();
        let mut value = Vec::with_capacity(n);
        let mut jac = Vec::new();
        for (d, dj) in parts {
            let at = value.len();
            for g in dj {
                let mut full = vec![T::zero(); n];
                full[at..at + g.len()].copy_from_slice(&g);
                jac.push(full);
            }
            value.extend(d);
        }
        Some((value, jac))
    }
    fn sparse_inverse<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> Option<crate::SparseInverse<T>> {
        Some(crate::SparseInverse::block_diag(&L::sparse_inverses(
            shape, theta,
        )?))
    }
}

/// Static evaluation of a block-diagonal matrix of static operands
/// (see [`StaticStructure`](crate::StaticStructure)): its sizes are the sums.
mod static_eval {
    use super::*;
    use crate::ops::static_operands::{mode, Place};
    use crate::ops::{StaticOperands, StaticSums};
    use crate::static_structure::{
        Allocates, StaticCount, StaticJacobian, StaticStructure, StaticValue,
    };
    use nalgebra::DefaultAllocator;

    type Out<'a, T, L> = Place<
        'a,
        T,
        <L as StaticSums>::Rows,
        <L as StaticSums>::Cols,
        <L as Operands>::NParams,
        { mode::DIAGONAL },
    >;

    impl<L: StaticOperands> StaticStructure for BlockDiag<L>
    where
        <L as Operands>::NParams: StaticCount,
        DefaultAllocator:
            Allocates<<L as StaticSums>::Rows, <L as StaticSums>::Cols, <L as Operands>::NParams>,
    {
        type SRows = <L as StaticSums>::Rows;
        type SCols = <L as StaticSums>::Cols;
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
