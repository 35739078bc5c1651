//! `V = [A B …]` ([`Augment`], side by side: operands share their row count)
//! and `V = [A; B; …]` ([`Stack`], on top of each other: they share their
//! column count). `∂V/∂θ_X` is `∂X/∂θ_X` in `X`'s place, zeros elsewhere.

use super::operands::{concat_jacobians, describe, AllSameCols, AllSameRows, Operands};
use crate::{CovError, ParamSpec, Real, Structure};
use nalgebra::DMatrix;
use std::marker::PhantomData;

/// Operands side by side (columns appended): `Augment<(A, B)>`.
///
/// ```
/// use covreml::{ops::Augment, Covariance, LowerTriangular, Scalar};
/// let a = Covariance::<Augment<(LowerTriangular, Scalar)>>::new(((3, 2), 3)).unwrap();
/// let v = a.value(&[1.0, 0.5, -0.5, 2.0, 0.25, 0.1]).unwrap();
/// assert_eq!(v.shape(), (3, 5));
/// assert!((v[(0, 2)] - 1.2214027581601699).abs() < 1e-15);
/// ```
pub struct Augment<L>(PhantomData<L>);

/// Operands on top of each other (rows appended): `Stack<(A, B)>`.
///
/// ```
/// use covreml::{ops::Stack, Covariance, LowerTriangular, Scalar};
/// let s = Covariance::<Stack<(LowerTriangular, Scalar)>>::new(((2, 3), 3)).unwrap();
/// let v = s.value(&[1.0, 0.5, -0.5, 0.1]).unwrap();
/// assert_eq!(v.shape(), (5, 3));
/// assert!((v[(2, 0)] - 1.2214027581601699).abs() < 1e-15);
/// ```
pub struct Stack<L>(PhantomData<L>);

super::zst_impls!(Augment<L>);
super::zst_impls!(Stack<L>);

/// Concatenation along columns (`AUGMENT = true`) or rows.
fn check<L: Operands>(
    operator: &'static str,
    shape: &L::Shape,
    columns: bool,
) -> Result<(), CovError> {
    L::check_shapes(shape)?;
    let dims = L::dims(shape);
    let shared = |d: &(usize, usize)| if columns { d.0 } else { d.1 };
    if dims.iter().all(|d| shared(d) == shared(&dims[0])) {
        Ok(())
    } else {
        Err(CovError::SizeMismatch {
            operator,
            details: describe(&L::operand_names(), &L::type_names(), &dims),
        })
    }
}

fn dims<L: Operands>(shape: &L::Shape, columns: bool) -> (usize, usize) {
    let d = L::dims(shape);
    let shared = d.first().map_or(0, |x| if columns { x.0 } else { x.1 });
    let total: usize = d.iter().map(|x| if columns { x.1 } else { x.0 }).sum();
    if columns {
        (shared, total)
    } else {
        (total, shared)
    }
}

fn offsets(dims: &[(usize, usize)], columns: bool) -> Vec<(usize, usize)> {
    let mut at = 0;
    dims.iter()
        .map(|d| {
            let here = at;
            at += if columns { d.1 } else { d.0 };
            if columns {
                (0, here)
            } else {
                (here, 0)
            }
        })
        .collect()
}

fn assemble<T: Real>(
    out_dims: (usize, usize),
    offs: &[(usize, usize)],
    blocks: impl Iterator<Item = (usize, DMatrix<T>)>,
) -> DMatrix<T> {
    let mut out = DMatrix::zeros(out_dims.0, out_dims.1);
    for (i, m) in blocks {
        out.view_mut(offs[i], m.shape()).copy_from(&m);
    }
    out
}

fn value_and_jacobian<L: Operands, T: Real>(
    shape: &L::Shape,
    theta: &[T],
    columns: bool,
) -> (DMatrix<T>, Option<Vec<DMatrix<T>>>) {
    let out = dims::<L>(shape, columns);
    let offs = offsets(&L::dims(shape), columns);
    let mut parts = L::values_and_jacobians(shape, theta);
    let jac = concat_jacobians(&mut parts, |i, d| {
        assemble(out, &offs, std::iter::once((i, d)))
    });
    let value = assemble(
        out,
        &offs,
        parts.into_iter().enumerate().map(|(i, (m, _))| (i, m)),
    );
    (value, jac)
}

macro_rules! concat_structure {
    ($op:ident, $columns:expr, $bound:ident, $rows:ty, $cols:ty) => {
        impl<L: Operands + $bound> Structure for $op<L> {
            type Rows = $rows;
            type Cols = $cols;
            type NParams = L::NParams;
            type Shape = L::Shape;
            const NAME: &'static str = stringify!($op);
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
                check::<L>(Self::NAME, shape, $columns)
            }
            fn dims(shape: &Self::Shape) -> (usize, usize) {
                dims::<L>(shape, $columns)
            }
            fn param_count(shape: &Self::Shape) -> usize {
                L::param_count_total(shape)
            }
            fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
                L::param_specs(shape)
            }
            fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
                let out = dims::<L>(shape, $columns);
                let offs = offsets(&L::dims(shape), $columns);
                assemble(out, &offs, L::values(shape, theta).into_iter().enumerate())
            }
            fn jacobian<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
                value_and_jacobian::<L, T>(shape, theta, $columns).1
            }
            fn value_and_jacobian<T: Real>(
                shape: &Self::Shape,
                theta: &[T],
            ) -> (DMatrix<T>, Option<Vec<DMatrix<T>>>) {
                value_and_jacobian::<L, T>(shape, theta, $columns)
            }
        }
    };
}

concat_structure!(
    Augment,
    true,
    AllSameRows,
    <L as AllSameRows>::Rows,
    nalgebra::Dyn
);
concat_structure!(
    Stack,
    false,
    AllSameCols,
    nalgebra::Dyn,
    <L as AllSameCols>::Cols
);

/// Static evaluation of static operands side by side (`Augment`) or
/// on top of each other (`Stack`); see [`StaticStructure`](crate::StaticStructure).
mod static_eval {
    use super::*;
    use crate::ops::static_operands::{mode, Place};
    use crate::ops::{StaticOperands, StaticSums};
    use crate::static_structure::{
        Allocates, StaticCount, StaticJacobian, StaticStructure, StaticValue,
    };
    use nalgebra::DefaultAllocator;

    type Columns<'a, T, L> = Place<
        'a,
        T,
        <L as StaticOperands>::Rows0,
        <L as StaticSums>::Cols,
        <L as Operands>::NParams,
        { mode::COLUMNS },
    >;

    impl<L: StaticOperands + AllSameRows> StaticStructure for Augment<L>
    where
        <L as Operands>::NParams: StaticCount,
        DefaultAllocator: Allocates<L::Rows0, <L as StaticSums>::Cols, <L as Operands>::NParams>,
    {
        type SRows = L::Rows0;
        type SCols = <L as StaticSums>::Cols;
        #[inline]
        fn value_slice<T: Real>(theta: &[T]) -> StaticValue<T, Self> {
            Columns::<T, L>::value::<L>(theta)
        }
        #[inline]
        fn jacobian_slice<T: Real>(theta: &[T]) -> StaticJacobian<T, Self> {
            Columns::<T, L>::jacobian::<L>(theta)
        }
        #[inline]
        fn value_and_jacobian_slice<T: Real>(
            theta: &[T],
        ) -> (StaticValue<T, Self>, StaticJacobian<T, Self>) {
            Columns::<T, L>::value_and_jacobian::<L>(theta)
        }
    }
    type Rows<'a, T, L> = Place<
        'a,
        T,
        <L as StaticSums>::Rows,
        <L as StaticOperands>::Cols0,
        <L as Operands>::NParams,
        { mode::ROWS },
    >;

    impl<L: StaticOperands + AllSameCols> StaticStructure for Stack<L>
    where
        <L as Operands>::NParams: StaticCount,
        DefaultAllocator: Allocates<<L as StaticSums>::Rows, L::Cols0, <L as Operands>::NParams>,
    {
        type SRows = <L as StaticSums>::Rows;
        type SCols = L::Cols0;
        #[inline]
        fn value_slice<T: Real>(theta: &[T]) -> StaticValue<T, Self> {
            Rows::<T, L>::value::<L>(theta)
        }
        #[inline]
        fn jacobian_slice<T: Real>(theta: &[T]) -> StaticJacobian<T, Self> {
            Rows::<T, L>::jacobian::<L>(theta)
        }
        #[inline]
        fn value_and_jacobian_slice<T: Real>(
            theta: &[T],
        ) -> (StaticValue<T, Self>, StaticJacobian<T, Self>) {
            Rows::<T, L>::value_and_jacobian::<L>(theta)
        }
    }
}
