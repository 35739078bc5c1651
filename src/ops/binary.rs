//! Shared plumbing of the two-operand operators: split the parameters,
//! namespace the names, describe sizes in errors.

use super::operands::{describe, operand_name, ValueJac};
use crate::{CovError, ParamSpec, Real, Structure};

/// The parameter tables of `A` and `B`, namespaced as operands 0 and 1.
pub fn specs<A: Structure, B: Structure>(shape: &(A::Shape, B::Shape)) -> Vec<ParamSpec> {
    let (na, nb) = (operand_name::<A>(0), operand_name::<B>(1));
    let mut out: Vec<ParamSpec> = A::param_specs(&shape.0)
        .into_iter()
        .map(|s| s.within(na.clone()))
        .collect();
    out.extend(
        B::param_specs(&shape.1)
            .into_iter()
            .map(|s| s.within(nb.clone())),
    );
    out
}

/// Number of parameters of `A` and `B` together.
pub fn count<A: Structure, B: Structure>(shape: &(A::Shape, B::Shape)) -> usize {
    A::param_count(&shape.0) + B::param_count(&shape.1)
}

/// Splits `theta` into the parameters of `A` and of `B`.
pub fn split<'t, A: Structure, B: Structure, T>(
    shape: &(A::Shape, B::Shape),
    theta: &'t [T],
) -> (&'t [T], &'t [T]) {
    theta.split_at(A::param_count(&shape.0))
}

/// Both operands' values.
pub fn values<A: Structure, B: Structure, T: Real>(
    shape: &(A::Shape, B::Shape),
    theta: &[T],
) -> (nalgebra::DMatrix<T>, nalgebra::DMatrix<T>) {
    let (ta, tb) = split::<A, B, T>(shape, theta);
    (A::value(&shape.0, ta), B::value(&shape.1, tb))
}

/// Both operands' values and Jacobians.
pub fn values_and_jacobians<A: Structure, B: Structure, T: Real>(
    shape: &(A::Shape, B::Shape),
    theta: &[T],
) -> (ValueJac<T>, ValueJac<T>) {
    let (ta, tb) = split::<A, B, T>(shape, theta);
    (
        A::value_and_jacobian(&shape.0, ta),
        B::value_and_jacobian(&shape.1, tb),
    )
}

/// Checks both operands' shapes, then the operator's own size rule.
pub fn check<A: Structure, B: Structure>(
    operator: &'static str,
    shape: &(A::Shape, B::Shape),
    ok: impl FnOnce((usize, usize), (usize, usize)) -> bool,
) -> Result<(), CovError> {
    A::check_shape(&shape.0)?;
    B::check_shape(&shape.1)?;
    let (da, db) = (A::dims(&shape.0), B::dims(&shape.1));
    if ok(da, db) {
        Ok(())
    } else {
        Err(CovError::SizeMismatch {
            operator,
            details: describe(
                &[operand_name::<A>(0), operand_name::<B>(1)],
                &[A::NAME, B::NAME],
                &[da, db],
            ),
        })
    }
}

/// Whether `(r, c)` is a `1 × 1` matrix, which broadcasts like a scalar.
pub fn is_scalar(d: (usize, usize)) -> bool {
    d == (1, 1)
}

/// `m` broadcast to `r × c` if it is `1 × 1`, else `m` itself (no copy).
pub fn broadcast_owned<T: Real>(
    m: nalgebra::DMatrix<T>,
    r: usize,
    c: usize,
) -> nalgebra::DMatrix<T> {
    if m.shape() == (1, 1) && (r, c) != (1, 1) {
        nalgebra::DMatrix::from_element(r, c, m[(0, 0)])
    } else {
        m
    }
}

/// `acc += m`, where a `1 × 1` `m` adds its value to every entry.
pub fn add_broadcast<T: Real>(acc: &mut nalgebra::DMatrix<T>, m: &nalgebra::DMatrix<T>) {
    if m.shape() == (1, 1) && acc.shape() != (1, 1) {
        let x = m[(0, 0)];
        acc.iter_mut().for_each(|a| *a += x);
    } else {
        *acc += m;
    }
}

/// `m` broadcast to `r × c` if it is `1 × 1`, else `m` itself.
pub fn broadcast<T: Real>(m: &nalgebra::DMatrix<T>, r: usize, c: usize) -> nalgebra::DMatrix<T> {
    if m.shape() == (1, 1) && (r, c) != (1, 1) {
        nalgebra::DMatrix::from_element(r, c, m[(0, 0)])
    } else {
        m.clone()
    }
}

/// Splits an optional slice of transform derivatives at `k`.
pub(crate) fn split_opt<T>(d: Option<&mut [T]>, k: usize) -> (Option<&mut [T]>, Option<&mut [T]>) {
    match d {
        Some(d) => {
            let (a, b) = d.split_at_mut(k);
            (Some(a), Some(b))
        }
        None => (None, None),
    }
}

/// [`Structure::default_transforms`] of `A` then `B`, without building names.
pub fn default_transforms<A: Structure, B: Structure, T: Real>(
    shape: &(A::Shape, B::Shape),
    free: &[T],
    theta: &mut [T],
    dtheta: Option<&mut [T]>,
) {
    let k = A::param_count(&shape.0);
    let (fa, fb) = free.split_at(k);
    let (ta, tb) = theta.split_at_mut(k);
    let (da, db) = split_opt(dtheta, k);
    A::default_transforms(&shape.0, fa, ta, da);
    B::default_transforms(&shape.1, fb, tb, db);
}
