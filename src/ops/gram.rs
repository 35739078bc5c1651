//! `V = XᵀX` ([`Inner`], the default) or `V = XXᵀ` ([`Outer`]).
//!
//! `∂(XᵀX) = (∂X)ᵀX + Xᵀ(∂X)`, `∂(XXᵀ) = (∂X)Xᵀ + X(∂X)ᵀ`.

use super::unary;
use crate::{ParamSpec, Real, Structure};
use nalgebra::DMatrix;
use std::marker::PhantomData;

/// Which Gram product: `XᵀX` ([`Inner`]) or `XXᵀ` ([`Outer`]).
pub trait GramKind: Copy + Default + std::fmt::Debug + Send + Sync + 'static {
    /// `true` for `XᵀX`.
    const INNER: bool;
}

/// `XᵀX` (the seed's `gram_type='xtx'`, its default).
#[derive(Clone, Copy, Default, Debug)]
pub struct Inner;
/// `XXᵀ` (the seed's `gram_type='xxt'`).
#[derive(Clone, Copy, Default, Debug)]
pub struct Outer;

impl GramKind for Inner {
    const INNER: bool = true;
}
impl GramKind for Outer {
    const INNER: bool = false;
}

/// The Gram matrix of one operand: with `X = LowerTriangular` it is a
/// Cholesky-type parameterisation of an unstructured covariance.
///
/// ```
/// use covreml::{ops::{Gram, Outer}, Covariance, LowerTriangular};
/// let theta = [1.0, 0.5, -0.5, 2.0, 0.25, 0.75];
/// let xtx = Covariance::<Gram<LowerTriangular>>::new((3, 3)).unwrap();
/// assert_eq!(xtx.value(&theta).unwrap()[(0, 0)], 5.25);
/// let xxt = Covariance::<Gram<LowerTriangular, Outer>>::new((3, 3)).unwrap();
/// assert_eq!(xxt.value(&theta).unwrap()[(2, 2)], 4.625);
/// ```
pub struct Gram<X, K = Inner>(PhantomData<(X, K)>);

super::zst_impls!(Gram<X, K>);

fn gram<T: Real, K: GramKind>(x: &DMatrix<T>) -> DMatrix<T> {
    if K::INNER {
        x.tr_mul(x)
    } else {
        x * x.transpose()
    }
}

impl<X: Structure, K: GramKind> Structure for Gram<X, K> {
    type Rows = nalgebra::Dyn;
    type Cols = nalgebra::Dyn;
    type NParams = X::NParams;
    type Shape = X::Shape;
    const NAME: &'static str = "Gram";
    const OPERANDS: usize = 1;

    fn default_transforms<T: Real>(
        shape: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        dtheta: Option<&mut [T]>,
    ) {
        X::default_transforms(shape, free, theta, dtheta)
    }

    fn check_shape(shape: &Self::Shape) -> Result<(), crate::CovError> {
        X::check_shape(shape)
    }
    fn dims(shape: &Self::Shape) -> (usize, usize) {
        let (r, c) = X::dims(shape);
        let n = if K::INNER { c } else { r };
        (n, n)
    }
    fn param_count(shape: &Self::Shape) -> usize {
        X::param_count(shape)
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        unary::specs::<X>(shape)
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        gram::<T, K>(&X::value(shape, theta))
    }
    fn jacobian<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        Self::value_and_jacobian(shape, theta).1
    }
    fn value_and_jacobian<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> (DMatrix<T>, Option<Vec<DMatrix<T>>>) {
        let (x, jx) = X::value_and_jacobian(shape, theta);
        let jac = jx.map(|jx| {
            jx.iter()
                .map(|d| {
                    let half = if K::INNER {
                        d.tr_mul(&x)
                    } else {
                        d * x.transpose()
                    };
                    half.transpose() + half
                })
                .collect()
        });
        (gram::<T, K>(&x), jac)
    }
}

/// Static evaluation of `XᵀX` and `XXᵀ` for a static operand (see
/// [`StaticStructure`](crate::StaticStructure)).
mod static_eval {
    use super::*;
    use crate::static_structure::{Allocates, StaticJacobian, StaticStructure, StaticValue};
    use nalgebra::DefaultAllocator;

    impl<X: StaticStructure> StaticStructure for Gram<X, Inner>
    where
        DefaultAllocator:
            Allocates<X::SRows, X::SCols, X::NParams> + Allocates<X::SCols, X::SCols, X::NParams>,
    {
        type SRows = X::SCols;
        type SCols = X::SCols;
        #[inline]
        fn value_slice<T: Real>(theta: &[T]) -> StaticValue<T, Self> {
            let x = X::value_slice(theta);
            x.tr_mul(&x)
        }
        #[inline]
        fn jacobian_slice<T: Real>(theta: &[T]) -> StaticJacobian<T, Self> {
            Self::value_and_jacobian_slice(theta).1
        }
        #[inline]
        fn value_and_jacobian_slice<T: Real>(
            theta: &[T],
        ) -> (StaticValue<T, Self>, StaticJacobian<T, Self>) {
            let (x, jx) = X::value_and_jacobian_slice(theta);
            let jac = crate::static_structure::jacobian_from_fn(|k| {
                let half: StaticValue<T, Self> = jx[k].tr_mul(&x);
                half.transpose() + half
            });
            (x.tr_mul(&x), jac)
        }
    }

    impl<X: StaticStructure> StaticStructure for Gram<X, Outer>
    where
        DefaultAllocator: Allocates<X::SRows, X::SCols, X::NParams>
            + Allocates<X::SRows, X::SRows, X::NParams>
            + Allocates<X::SCols, X::SRows, X::NParams>,
    {
        type SRows = X::SRows;
        type SCols = X::SRows;
        #[inline]
        fn value_slice<T: Real>(theta: &[T]) -> StaticValue<T, Self> {
            let x = X::value_slice(theta);
            &x * x.transpose()
        }
        #[inline]
        fn jacobian_slice<T: Real>(theta: &[T]) -> StaticJacobian<T, Self> {
            Self::value_and_jacobian_slice(theta).1
        }
        #[inline]
        fn value_and_jacobian_slice<T: Real>(
            theta: &[T],
        ) -> (StaticValue<T, Self>, StaticJacobian<T, Self>) {
            let (x, jx) = X::value_and_jacobian_slice(theta);
            let jac = crate::static_structure::jacobian_from_fn(|k| {
                let half: StaticValue<T, Self> = &jx[k] * x.transpose();
                half.transpose() + half
            });
            (&x * x.transpose(), jac)
        }
    }
}
