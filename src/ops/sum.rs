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

impl<L: Operands + AllSameRows + AllSameCols> Structure for Sum<L> {
    type Rows = <L as AllSameRows>::Rows;
    type Cols = <L as AllSameCols>::Cols;
    type NParams = L::NParams;
    type Shape = L::Shape;
    const NAME: &'static str = "Sum";
    const OPERANDS: usize = L::LEN;

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
        L::param_counts(shape).iter().sum()
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        L::param_specs(shape)
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let (r, c) = Self::dims(shape);
        let mut acc = DMatrix::zeros(r, c);
        for m in L::values(shape, theta) {
            add_broadcast(&mut acc, &m);
        }
        acc
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
        let mut value = DMatrix::zeros(r, c);
        for (m, _) in &parts {
            add_broadcast(&mut value, m);
        }
        (value, jac)
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
