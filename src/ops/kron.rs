//! `V = A ⊗ B`: the Kronecker product. If `A` is `m × n` and `B` is `p × q`,
//! `V` is `mp × nq`.
//!
//! `∂V/∂θ_A = ∂A/∂θ_A ⊗ B`, `∂V/∂θ_B = A ⊗ ∂B/∂θ_B`.

use super::binary;
use crate::{ParamSpec, Real, Structure};
use nalgebra::{DMatrix, DimAdd, DimMul, DimProd, DimSum};
use std::marker::PhantomData;

/// Kronecker product of two operands (the seed's `KroneckerProduct`).
///
/// The seed example: `AR1(2)` named `time` and `Scalar(2)` named `subject` at
/// free parameters (1, 1, 1).
///
/// ```
/// use covreml::{ops::Kron, Covariance, Scalar, AR1};
/// let op = Covariance::<Kron<AR1, Scalar>>::new((2, 2))
///     .unwrap()
///     .with_operand_names(&["time", "subject"])
///     .unwrap();
/// let v = op.value(&[1.0, 1.0, 1.0]).unwrap();
/// assert!((v[(0, 0)] - 54.5982).abs() < 1e-4);
/// assert!((v[(0, 2)] - 25.2307).abs() < 1e-4);
/// assert_eq!(v[(0, 1)], 0.0);
/// let grad = op.jacobian(&[1.0, 1.0, 1.0]).unwrap();
/// assert!((grad[0][(0, 0)] - 109.1963).abs() < 1e-4);
/// assert!((grad[0][(0, 2)] - 50.4615).abs() < 1e-4);
/// assert!((grad[1][(0, 2)] - 21.4693).abs() < 1e-4);
/// assert_eq!(grad[1][(0, 0)], 0.0);
/// assert!((grad[2][(0, 0)] - 109.1963).abs() < 1e-4);
/// assert_eq!(op.names(), ["time/sigma^2", "time/rho", "subject/sigma^2"]);
/// ```
pub struct Kron<A, B>(PhantomData<(A, B)>);

super::zst_impls!(Kron<A, B>);

/// `A ⊗ B`.
pub fn kron<T: Real>(a: &DMatrix<T>, b: &DMatrix<T>) -> DMatrix<T> {
    a.kronecker(b)
}

impl<A: Structure, B: Structure> Structure for Kron<A, B>
where
    A::Rows: DimMul<B::Rows>,
    A::Cols: DimMul<B::Cols>,
    A::NParams: DimAdd<B::NParams>,
{
    type Rows = DimProd<A::Rows, B::Rows>;
    type Cols = DimProd<A::Cols, B::Cols>;
    type NParams = DimSum<A::NParams, B::NParams>;
    type Shape = (A::Shape, B::Shape);
    const NAME: &'static str = "Kron";
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
        binary::check::<A, B>(Self::NAME, shape, |_, _| true)
    }
    fn dims(shape: &Self::Shape) -> (usize, usize) {
        let ((ra, ca), (rb, cb)) = (A::dims(&shape.0), B::dims(&shape.1));
        (ra * rb, ca * cb)
    }
    fn param_count(shape: &Self::Shape) -> usize {
        binary::count::<A, B>(shape)
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        binary::specs::<A, B>(shape)
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let (a, b) = binary::values::<A, B, T>(shape, theta);
        kron(&a, &b)
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
            let mut out: Vec<DMatrix<T>> = ja.iter().map(|d| kron(d, &b)).collect();
            out.extend(jb.iter().map(|d| kron(&a, d)));
            out
        });
        (kron(&a, &b), jac)
    }
    fn diagonal<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> Option<crate::structure::Diagonals<T>> {
        let (ta, tb) = binary::split::<A, B, T>(shape, theta);
        let (a, da) = A::diagonal(&shape.0, ta)?;
        let (b, db) = B::diagonal(&shape.1, tb)?;
        let kv = |x: &[T], y: &[T]| -> Vec<T> {
            x.iter()
                .flat_map(|&u| y.iter().map(move |&v| u * v))
                .collect()
        };
        let mut jac: Vec<Vec<T>> = da.iter().map(|d| kv(d, &b)).collect();
        jac.extend(db.iter().map(|d| kv(&a, d)));
        Some((kv(&a, &b), jac))
    }
    fn sparse_inverse<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> Option<crate::SparseInverse<T>> {
        let (ta, tb) = binary::split::<A, B, T>(shape, theta);
        let a = A::sparse_inverse(&shape.0, ta)?;
        let b = B::sparse_inverse(&shape.1, tb)?;
        Some(crate::SparseInverse::kron(&a, &b))
    }
}

/// Static evaluation of `A ⊗ B` for static operands (see
/// [`StaticStructure`](crate::StaticStructure)).
mod static_eval {
    use super::*;
    use crate::static_structure::{
        Allocates, StaticCount, StaticJacobian, StaticStructure, StaticValue,
    };
    use nalgebra::{DefaultAllocator, DimName};
    use nalgebra::{DimMul, DimProd};

    impl<A: StaticStructure, B: StaticStructure> StaticStructure for Kron<A, B>
    where
        Self: Structure<NParams: StaticCount, Shape: Default>,
        A::SRows: DimMul<B::SRows>,
        A::SCols: DimMul<B::SCols>,
        DimProd<A::SRows, B::SRows>: DimName,
        DimProd<A::SCols, B::SCols>: DimName,
        DefaultAllocator: Allocates<A::SRows, A::SCols, A::NParams>
            + Allocates<B::SRows, B::SCols, B::NParams>
            + Allocates<
                DimProd<A::SRows, B::SRows>,
                DimProd<A::SCols, B::SCols>,
                <Self as Structure>::NParams,
            >,
    {
        type SRows = DimProd<A::SRows, B::SRows>;
        type SCols = DimProd<A::SCols, B::SCols>;
        #[inline]
        fn value_slice<T: Real>(theta: &[T]) -> StaticValue<T, Self> {
            let (ta, tb) = theta.split_at(<A::NParams as DimName>::DIM);
            A::value_slice(ta).kronecker(&B::value_slice(tb))
        }
        #[inline]
        fn jacobian_slice<T: Real>(theta: &[T]) -> StaticJacobian<T, Self> {
            // as `value_and_jacobian_slice`, without forming the value
            let na = <A::NParams as DimName>::DIM;
            let (ta, tb) = theta.split_at(na);
            let (a, ja) = A::value_and_jacobian_slice(ta);
            let (b, jb) = B::value_and_jacobian_slice(tb);
            crate::static_structure::jacobian_from_fn(|k| {
                if k < na {
                    ja[k].kronecker(&b)
                } else {
                    a.kronecker(&jb[k - na])
                }
            })
        }
        #[inline]
        fn value_and_jacobian_slice<T: Real>(
            theta: &[T],
        ) -> (StaticValue<T, Self>, StaticJacobian<T, Self>) {
            let na = <A::NParams as DimName>::DIM;
            let (ta, tb) = theta.split_at(na);
            let (a, ja) = A::value_and_jacobian_slice(ta);
            let (b, jb) = B::value_and_jacobian_slice(tb);
            let jac = crate::static_structure::jacobian_from_fn(|k| {
                if k < na {
                    ja[k].kronecker(&b)
                } else {
                    a.kronecker(&jb[k - na])
                }
            });
            (a.kronecker(&b), jac)
        }
    }
}
