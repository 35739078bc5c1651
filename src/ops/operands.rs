//! Operand lists: tuples `(A, B, …)` of structures, for the operators that
//! take two or more operands (`Sum`, `BlockDiag`, `Augment`, `Stack`).
//!
//! Each operand keeps its own shape; its parameters follow those of the
//! operands before it, and its names are prefixed with its label (see
//! [`Named`](super::Named)) or its position `op_i`.

use super::size::SameSize;
use crate::structure::Diagonals;
use crate::{CovError, ParamSpec, Real, Structure};
use nalgebra::{DMatrix, Dim, DimAdd, DimSum};
use std::borrow::Cow;
use std::fmt;

/// A value matrix with its closed-form Jacobian, if any.
pub type ValueJac<T> = (DMatrix<T>, Option<Vec<DMatrix<T>>>);

/// A tuple of two or more structures, used as the operand list of an operator.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of covariance structures",
    note = "operators with several operands take a tuple of two to eight structures, such as `Sum<(AR1, Scalar)>`"
)]
pub trait Operands: Copy + Default + fmt::Debug + Send + Sync + 'static {
    /// The tuple of the operands' shapes.
    type Shape: Clone + fmt::Debug + PartialEq + Send + Sync + 'static;
    /// The total parameter count as a type.
    type NParams: Dim;
    /// Number of operands.
    const LEN: usize;
    /// Type names of the operands, for messages.
    fn type_names() -> Vec<&'static str>;
    /// Operand names: each operand's label, or `op_i`.
    fn operand_names() -> Vec<Cow<'static, str>>;
    /// Checks each operand's shape.
    fn check_shapes(shape: &Self::Shape) -> Result<(), CovError>;
    /// `(rows, columns)` of each operand.
    fn dims(shape: &Self::Shape) -> Vec<(usize, usize)>;
    /// Parameter count of each operand.
    fn param_counts(shape: &Self::Shape) -> Vec<usize>;
    /// The operands' tables, each namespaced with its operand name.
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec>;
    /// The operands' values at the natural parameters `theta` (all operands' in order).
    fn values<T: Real>(shape: &Self::Shape, theta: &[T]) -> Vec<DMatrix<T>>;
    /// The operands' values and closed-form Jacobians.
    fn values_and_jacobians<T: Real>(shape: &Self::Shape, theta: &[T]) -> Vec<ValueJac<T>>;
    /// Each operand's [`Structure::diagonal`]; `None` unless every operand is diagonal.
    fn diagonals<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<Diagonals<T>>>;
    /// Each operand's [`Structure::sparse_inverse`]; `None` unless every operand has one.
    fn sparse_inverses<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> Option<Vec<crate::SparseInverse<T>>>;
    /// Total parameter count, without allocating.
    fn param_count_total(shape: &Self::Shape) -> usize {
        Self::param_counts(shape).iter().sum()
    }
    /// Each operand's [`Structure::default_transforms`], in order, without
    /// building names. The default reads the transforms from `param_specs`.
    fn default_transforms<T: Real>(
        shape: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        mut dtheta: Option<&mut [T]>,
    ) {
        for (k, s) in Self::param_specs(shape).iter().enumerate() {
            theta[k] = s.transform.forward(free[k]);
            if let Some(d) = dtheta.as_deref_mut() {
                d[k] = s.transform.derivative(free[k]);
            }
        }
    }
}

/// The name operand `i` of type `S` takes: its label, or `op_i`.
pub fn operand_name<S: Structure>(i: usize) -> Cow<'static, str> {
    match S::LABEL {
        Some(l) => Cow::Borrowed(l),
        None => Cow::Owned(format!("op_{i}")),
    }
}

/// A description of operands and sizes for error messages: `op_0 (AR1) 3×3, …`.
pub fn describe(names: &[Cow<'static, str>], types: &[&str], dims: &[(usize, usize)]) -> String {
    names
        .iter()
        .zip(types)
        .zip(dims)
        .map(|((n, t), (r, c))| format!("{n} ({t}) {r}×{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sum of the operands' parameter counts as a type.
pub trait ParamSum {
    /// `Const` sum when every count is static, else `Dyn`.
    type Output: Dim;
}

/// The common row count of all operands (compile-time check where static).
pub trait AllSameRows {
    /// The common row count.
    type Rows: Dim;
}

/// The common column count of all operands (compile-time check where static).
pub trait AllSameCols {
    /// The common column count.
    type Cols: Dim;
}

macro_rules! fold_impls {
    ($a:ident) => {
        impl<$a: Structure> ParamSum for ($a,) {
            type Output = $a::NParams;
        }
        impl<$a: Structure> AllSameRows for ($a,) {
            type Rows = $a::Rows;
        }
        impl<$a: Structure> AllSameCols for ($a,) {
            type Cols = $a::Cols;
        }
    };
    ($a:ident $($rest:ident)+) => {
        impl<$a: Structure, $($rest: Structure),+> ParamSum for ($a, $($rest),+)
        where
            ($($rest,)+): ParamSum,
            $a::NParams: DimAdd<<($($rest,)+) as ParamSum>::Output>,
        {
            type Output = DimSum<$a::NParams, <($($rest,)+) as ParamSum>::Output>;
        }
        impl<$a: Structure, $($rest: Structure),+> AllSameRows for ($a, $($rest),+)
        where
            ($($rest,)+): AllSameRows,
            $a::Rows: SameSize<<($($rest,)+) as AllSameRows>::Rows>,
        {
            type Rows = <$a::Rows as SameSize<<($($rest,)+) as AllSameRows>::Rows>>::Output;
        }
        impl<$a: Structure, $($rest: Structure),+> AllSameCols for ($a, $($rest),+)
        where
            ($($rest,)+): AllSameCols,
            $a::Cols: SameSize<<($($rest,)+) as AllSameCols>::Cols>,
        {
            type Cols = <$a::Cols as SameSize<<($($rest,)+) as AllSameCols>::Cols>>::Output;
        }
        fold_impls!($($rest)+);
    };
}
fold_impls!(O0 O1 O2 O3 O4 O5 O6 O7);

macro_rules! operands_impl {
    ($($o:ident $i:tt),+) => {
        impl<$($o: Structure),+> Operands for ($($o,)+)
        where
            ($($o,)+): ParamSum,
        {
            type Shape = ($($o::Shape,)+);
            type NParams = <($($o,)+) as ParamSum>::Output;
            const LEN: usize = [$($i),+].len();

            fn type_names() -> Vec<&'static str> {
                vec![$($o::NAME),+]
            }
            fn operand_names() -> Vec<Cow<'static, str>> {
                vec![$(operand_name::<$o>($i)),+]
            }
            fn check_shapes(shape: &Self::Shape) -> Result<(), CovError> {
                $($o::check_shape(&shape.$i)?;)+
                Ok(())
            }
            fn dims(shape: &Self::Shape) -> Vec<(usize, usize)> {
                vec![$($o::dims(&shape.$i)),+]
            }
            fn param_counts(shape: &Self::Shape) -> Vec<usize> {
                vec![$($o::param_count(&shape.$i)),+]
            }
            fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
                let mut out = Vec::new();
                $(
                    let name = operand_name::<$o>($i);
                    out.extend($o::param_specs(&shape.$i).into_iter().map(|s| s.within(name.clone())));
                )+
                out
            }
            fn values<T: Real>(shape: &Self::Shape, theta: &[T]) -> Vec<DMatrix<T>> {
                let mut off = 0;
                let mut out = Vec::with_capacity(Self::LEN);
                $(
                    let k = $o::param_count(&shape.$i);
                    out.push($o::value(&shape.$i, &theta[off..off + k]));
                    off += k;
                )+
                debug_assert_eq!(off, theta.len());
                out
            }
            fn values_and_jacobians<T: Real>(shape: &Self::Shape, theta: &[T]) -> Vec<ValueJac<T>> {
                let mut off = 0;
                let mut out = Vec::with_capacity(Self::LEN);
                $(
                    let k = $o::param_count(&shape.$i);
                    out.push($o::value_and_jacobian(&shape.$i, &theta[off..off + k]));
                    off += k;
                )+
                debug_assert_eq!(off, theta.len());
                out
            }
            fn diagonals<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<Diagonals<T>>> {
                let mut off = 0;
                let mut out = Vec::with_capacity(Self::LEN);
                $(
                    let k = $o::param_count(&shape.$i);
                    out.push($o::diagonal(&shape.$i, &theta[off..off + k])?);
                    off += k;
                )+
                debug_assert_eq!(off, theta.len());
                Some(out)
            }
            fn sparse_inverses<T: Real>(
                shape: &Self::Shape,
                theta: &[T],
            ) -> Option<Vec<crate::SparseInverse<T>>> {
                let mut off = 0;
                let mut out = Vec::with_capacity(Self::LEN);
                $(
                    let k = $o::param_count(&shape.$i);
                    out.push($o::sparse_inverse(&shape.$i, &theta[off..off + k])?);
                    off += k;
                )+
                debug_assert_eq!(off, theta.len());
                Some(out)
            }
            fn param_count_total(shape: &Self::Shape) -> usize {
                0 $(+ $o::param_count(&shape.$i))+
            }
            fn default_transforms<T: Real>(
                shape: &Self::Shape,
                free: &[T],
                theta: &mut [T],
                mut dtheta: Option<&mut [T]>,
            ) {
                let mut off = 0;
                $(
                    let k = $o::param_count(&shape.$i);
                    $o::default_transforms(
                        &shape.$i,
                        &free[off..off + k],
                        &mut theta[off..off + k],
                        dtheta.as_deref_mut().map(|d| &mut d[off..off + k]),
                    );
                    off += k;
                )+
                debug_assert_eq!(off, theta.len());
            }
        }
    };
}
operands_impl!(O0 0, O1 1);
operands_impl!(O0 0, O1 1, O2 2);
operands_impl!(O0 0, O1 1, O2 2, O3 3);
operands_impl!(O0 0, O1 1, O2 2, O3 3, O4 4);
operands_impl!(O0 0, O1 1, O2 2, O3 3, O4 4, O5 5);
operands_impl!(O0 0, O1 1, O2 2, O3 3, O4 4, O5 5, O6 6);
operands_impl!(O0 0, O1 1, O2 2, O3 3, O4 4, O5 5, O6 6, O7 7);

/// Concatenates the operands' Jacobians after mapping each operand's
/// derivative matrices with `embed(operand index, dM)`; `None` if any operand
/// has no closed form.
pub fn concat_jacobians<T: Real>(
    parts: &mut [ValueJac<T>],
    mut embed: impl FnMut(usize, DMatrix<T>) -> DMatrix<T>,
) -> Option<Vec<DMatrix<T>>> {
    if parts.iter().any(|(_, j)| j.is_none()) {
        return None;
    }
    let mut out = Vec::new();
    for (i, (_, jac)) in parts.iter_mut().enumerate() {
        for d in jac.take().into_iter().flatten() {
            out.push(embed(i, d));
        }
    }
    Some(out)
}
