//! `V = Z G Zᵀ`: covariance propagation (`Z` is `n × q`, `G` is `q × q`).
//! Either side may have parameters.
//!
//! `∂V/∂θ_Z = (∂Z) G Zᵀ + Z G (∂Z)ᵀ`, `∂V/∂θ_G = Z (∂G) Zᵀ`.

use super::binary;
use super::size::SameSize;
use crate::{ParamSpec, Real, Structure};
use nalgebra::{DMatrix, DimAdd, DimSum};
use std::marker::PhantomData;

/// Propagation of a covariance `G` through a design `Z`: `Z G Zᵀ` (the seed's
/// `CovariancePropagation`), the random-term covariance of a mixed model.
///
/// ```
/// use covreml::{ops::Propagate, Covariance, Fixed, Unconstrained};
/// let z = nalgebra::dmatrix![1.0, 0.0; 1.0, 0.0; 0.0, 1.0; 0.0, 1.0; 1.0, 1.0];
/// let v = Covariance::<Propagate<Fixed, Unconstrained>>::new((z, 2)).unwrap();
/// let m = v.value(&[0.1, 0.2, -0.3]).unwrap();
/// assert_eq!(m.shape(), (5, 5));
/// assert!((m[(0, 4)] - 1.4214027581601698).abs() < 1e-14);
/// assert_eq!(v.names(), ["op_1/sigma^2_0_0", "op_1/sigma^2_1_0", "op_1/sigma^2_1_1"]);
/// ```
pub struct Propagate<Z, G>(PhantomData<(Z, G)>);

super::zst_impls!(Propagate<Z, G>);

impl<Z: Structure, G: Structure> Structure for Propagate<Z, G>
where
    Z::Cols: SameSize<G::Rows>,
    G::Rows: SameSize<G::Cols>,
    Z::NParams: DimAdd<G::NParams>,
{
    type Rows = Z::Rows;
    type Cols = Z::Rows;
    type NParams = DimSum<Z::NParams, G::NParams>;
    type Shape = (Z::Shape, G::Shape);
    const NAME: &'static str = "Propagate";
    const OPERANDS: usize = 2;

    fn default_transforms<T: Real>(
        shape: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        dtheta: Option<&mut [T]>,
    ) {
        binary::default_transforms::<Z, G, T>(shape, free, theta, dtheta)
    }

    fn check_shape(shape: &Self::Shape) -> Result<(), crate::CovError> {
        binary::check::<Z, G>(Self::NAME, shape, |z, g| g.0 == g.1 && z.1 == g.0)
    }
    fn dims(shape: &Self::Shape) -> (usize, usize) {
        let n = Z::dims(&shape.0).0;
        (n, n)
    }
    fn param_count(shape: &Self::Shape) -> usize {
        binary::count::<Z, G>(shape)
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        binary::specs::<Z, G>(shape)
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let (z, g) = binary::values::<Z, G, T>(shape, theta);
        &z * g * z.transpose()
    }
    fn jacobian<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        Self::value_and_jacobian(shape, theta).1
    }
    fn value_and_jacobian<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> (DMatrix<T>, Option<Vec<DMatrix<T>>>) {
        let ((z, jz), (g, jg)) = binary::values_and_jacobians::<Z, G, T>(shape, theta);
        let zt = z.transpose();
        let zg = &z * &g;
        let jac = jz.zip(jg).map(|(jz, jg)| {
            let mut out: Vec<DMatrix<T>> = jz
                .iter()
                .map(|dz| {
                    let half = dz * &g * &zt;
                    &half + (dz * g.transpose() * &zt).transpose()
                })
                .collect();
            out.extend(jg.iter().map(|dg| &z * dg * &zt));
            out
        });
        (zg * zt, jac)
    }
}

/// Static evaluation of `Z G Zᵀ` for static operands (see
/// [`StaticStructure`](crate::StaticStructure)).
mod static_eval {
    use super::*;
    use crate::static_structure::{
        Allocates, StaticCount, StaticJacobian, StaticStructure, StaticValue,
    };
    use nalgebra::allocator::Allocator;
    use nalgebra::{DefaultAllocator, DimName};

    type Zt<T, Z> =
        nalgebra::OMatrix<T, <Z as StaticStructure>::SCols, <Z as StaticStructure>::SRows>;

    impl<Z, G> StaticStructure for Propagate<Z, G>
    where
        Z: StaticStructure,
        G: StaticStructure<
            SRows = <Z as StaticStructure>::SCols,
            SCols = <Z as StaticStructure>::SCols,
        >,
        Self: Structure<NParams: StaticCount, Shape: Default>,
        DefaultAllocator: Allocates<Z::SRows, Z::SCols, Z::NParams>
            + Allocates<G::SRows, G::SCols, G::NParams>
            + Allocates<Z::SRows, Z::SRows, <Self as Structure>::NParams>
            + Allocator<Z::SCols, Z::SRows>,
    {
        type SRows = Z::SRows;
        type SCols = Z::SRows;
        #[inline]
        fn value_slice<T: Real>(theta: &[T]) -> StaticValue<T, Self> {
            let (tz, tg) = theta.split_at(<Z::NParams as DimName>::DIM);
            let z = Z::value_slice(tz);
            let zt: Zt<T, Z> = z.transpose();
            &z * G::value_slice(tg) * zt
        }
        #[inline]
        fn jacobian_slice<T: Real>(theta: &[T]) -> StaticJacobian<T, Self> {
            Self::value_and_jacobian_slice(theta).1
        }
        #[inline]
        fn value_and_jacobian_slice<T: Real>(
            theta: &[T],
        ) -> (StaticValue<T, Self>, StaticJacobian<T, Self>) {
            let nz = <Z::NParams as DimName>::DIM;
            let (tz, tg) = theta.split_at(nz);
            let (z, jz) = Z::value_and_jacobian_slice(tz);
            let (g, jg) = G::value_and_jacobian_slice(tg);
            let zt: Zt<T, Z> = z.transpose();
            let jac = crate::static_structure::jacobian_from_fn(|k| {
                if k < nz {
                    let dz = &jz[k];
                    let half = dz * &g * &zt;
                    let other: StaticValue<T, Self> = dz * g.transpose() * &zt;
                    half + other.transpose()
                } else {
                    &z * &jg[k - nz] * &zt
                }
            });
            (&z * &g * zt, jac)
        }
    }
}
