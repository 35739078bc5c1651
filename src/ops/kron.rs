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
    fn sparse_inverse_into<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
        out: &mut crate::SparseInverse<T>,
    ) -> Option<bool> {
        // The operands are small next to the product (a 2 × 2 block and
        // an identity over a factor's levels): they are built, the product
        // is written in place.
        let (ta, tb) = binary::split::<A, B, T>(shape, theta);
        let a = A::sparse_inverse(&shape.0, ta)?;
        let b = B::sparse_inverse(&shape.1, tb)?;
        Some(out.write_kron(&a, &b))
    }
}

/// Static evaluation of `A ⊗ B` for static operands (see
/// [`StaticStructure`](crate::StaticStructure)).
mod static_eval {
    use super::*;
    use crate::ops::static_operands::binary_jacobian_into;
    use crate::static_structure::{
        zero_jacobian, zeros, Allocates, StaticCount, StaticJacobian, StaticStructure, StaticValue,
    };
    use nalgebra::{allocator::Allocator, DefaultAllocator, DimName, OMatrix};
    use nalgebra::{DimMul, DimProd};

    /// `out = a ⊗ b`, written in place (the entries and their order of
    /// nalgebra's `kronecker`, without building and copying a matrix).
    #[inline]
    fn kron_into<T: Real, R1, C1, R2, C2, R, C>(
        a: &OMatrix<T, R1, C1>,
        b: &OMatrix<T, R2, C2>,
        out: &mut OMatrix<T, R, C>,
    ) where
        R1: DimName,
        C1: DimName,
        R2: DimName,
        C2: DimName,
        R: DimName,
        C: DimName,
        DefaultAllocator: Allocator<R1, C1> + Allocator<R2, C2> + Allocator<R, C>,
    {
        let (p, q) = (R2::DIM, C2::DIM);
        for j1 in 0..C1::DIM {
            for j2 in 0..q {
                for i1 in 0..R1::DIM {
                    let coeff = a[(i1, j1)];
                    for i2 in 0..p {
                        out[(i1 * p + i2, j1 * q + j2)] = coeff * b[(i2, j2)];
                    }
                }
            }
        }
    }

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
            let mut v = zeros();
            kron_into(&A::value_slice(ta), &B::value_slice(tb), &mut v);
            v
        }
        #[inline]
        fn jacobian_slice<T: Real>(theta: &[T]) -> StaticJacobian<T, Self> {
            // as `value_and_jacobian_slice`, without forming the value
            let mut jac: StaticJacobian<T, Self> = zero_jacobian();
            binary_jacobian_into::<A, B, T, _, _>(theta, jac.as_mut_slice(), kron_into);
            jac
        }
        #[inline]
        fn value_and_jacobian_slice<T: Real>(
            theta: &[T],
        ) -> (StaticValue<T, Self>, StaticJacobian<T, Self>) {
            let (mut v, mut jac): (_, StaticJacobian<T, Self>) = (zeros(), zero_jacobian());
            let (a, b) =
                binary_jacobian_into::<A, B, T, _, _>(theta, jac.as_mut_slice(), kron_into);
            kron_into(&a, &b, &mut v);
            (v, jac)
        }
    }
}
