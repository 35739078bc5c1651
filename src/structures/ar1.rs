//! `V_ij = σ² ρ^|i−j|` (n × n). Parameters `sigma^2` (`e^{2x}`) and `rho`
//! (`2·sigmoid(x) − 1`, onto `(−1, 1)`).
//!
//! `∂V_ij/∂σ² = ρ^|i−j|`, `∂V_ij/∂ρ = σ² |i−j| ρ^{|i−j|−1}` (0 on the
//! diagonal). The power is formed by repeated multiplication, never by
//! dividing by ρ, so the Jacobian is exact at ρ = 0 — the default start, where
//! torch-openreml's closed form is NaN.

use super::zero_sized;
use crate::structure::Size;
use crate::{ParamSpec, ParamTable, Real, Structure, Transform};
use nalgebra::DMatrix;

zero_sized! {
    /// First-order autoregressive correlation scaled by a variance.
    ///
    /// ```
    /// use covreml::{Covariance, AR1};
    /// let ar1 = Covariance::<AR1>::new(4).unwrap();
    /// let v = ar1.value(&[0.25, 0.8]).unwrap(); // σ² = e^{0.5}, ρ = 2σ(0.8) − 1
    /// assert!((v[(0, 1)] - 0.6264299358506297).abs() < 1e-15);
    /// // the Jacobian is finite at the default start ρ = 0
    /// let j = ar1.jacobian(&[0.0, 0.0]).unwrap();
    /// assert_eq!(j[1][(0, 1)], 0.5); // σ² · 1 · ρ⁰ · dρ/dx
    /// ```
    #[derive(crate::ParamTable)]
    #[params("sigma^2", "rho")]
    AR1<N>
}

/// `ρ^0 … ρ^{n−1}` by repeated multiplication.
fn powers<T: Real>(rho: T, n: usize) -> Vec<T> {
    let mut p = Vec::with_capacity(n);
    let mut acc = T::one();
    for _ in 0..n {
        p.push(acc);
        acc *= rho;
    }
    p
}

impl<N: Size> Structure for AR1<N> {
    type Rows = N;
    type Cols = N;
    type NParams = <Self as ParamTable>::Count;
    type Shape = N::Shape;
    const NAME: &'static str = "AR1";

    fn default_transforms<T: Real>(
        _: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        dtheta: Option<&mut [T]>,
    ) {
        super::apply_transforms(free, theta, dtheta, |k| match k {
            0 => super::LeafTransform::Variance,
            _ => super::LeafTransform::Correlation(-1.0, 1.0),
        });
    }

    fn dims(shape: &Self::Shape) -> (usize, usize) {
        (N::get(shape), N::get(shape))
    }
    fn param_count(_: &Self::Shape) -> usize {
        Self::PARAM_NAMES.len()
    }
    fn param_specs(_: &Self::Shape) -> Vec<ParamSpec> {
        vec![
            ParamSpec::variance(Self::PARAM_NAMES[0]),
            ParamSpec::new(Self::PARAM_NAMES[1], 0.0, Transform::correlation(-1.0, 1.0)),
        ]
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let n = N::get(shape);
        let p = powers(theta[1], n);
        DMatrix::from_fn(n, n, |i, j| theta[0] * p[i.abs_diff(j)])
    }
    fn jacobian<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        let n = N::get(shape);
        let (s2, rho) = (theta[0], theta[1]);
        let p = powers(rho, n);
        let d_s2 = DMatrix::from_fn(n, n, |i, j| p[i.abs_diff(j)]);
        let d_rho = DMatrix::from_fn(n, n, |i, j| match i.abs_diff(j) {
            0 => T::zero(),
            k => s2 * T::c(k as f64) * p[k - 1],
        });
        Some(vec![d_s2, d_rho])
    }
}

/// Static evaluation (`AR1<Const<N>>`): the same formulas into stack-allocated
/// matrices; see [`StaticStructure`](crate::StaticStructure).
impl<const N: usize> crate::StaticStructure for AR1<nalgebra::Const<N>> {
    type SRows = nalgebra::Const<N>;
    type SCols = nalgebra::Const<N>;
    #[inline]
    fn value_slice<T: Real>(theta: &[T]) -> nalgebra::SMatrix<T, N, N> {
        let p = static_powers::<T, N>(theta[1]);
        nalgebra::SMatrix::from_fn(|i, j| theta[0] * p[i.abs_diff(j)])
    }
    #[inline]
    fn jacobian_slice<T: Real>(theta: &[T]) -> crate::static_structure::StaticJacobian<T, Self> {
        static_jacobian::<T, N>(theta[0], &static_powers::<T, N>(theta[1]))
    }
    #[inline]
    fn value_and_jacobian_slice<T: Real>(
        theta: &[T],
    ) -> (
        nalgebra::SMatrix<T, N, N>,
        crate::static_structure::StaticJacobian<T, Self>,
    ) {
        let p = static_powers::<T, N>(theta[1]);
        let v = nalgebra::SMatrix::from_fn(|i, j| theta[0] * p[i.abs_diff(j)]);
        (v, static_jacobian::<T, N>(theta[0], &p))
    }
}

/// `ρ^0 … ρ^{N−1}` by repeated multiplication, on the stack.
#[inline]
fn static_powers<T: Real, const N: usize>(rho: T) -> [T; N] {
    let mut p = [T::zero(); N];
    let mut acc = T::one();
    for x in &mut p {
        *x = acc;
        acc *= rho;
    }
    p
}

#[inline]
fn static_jacobian<T: Real, const N: usize>(
    s2: T,
    p: &[T; N],
) -> nalgebra::SVector<nalgebra::SMatrix<T, N, N>, 2> {
    let d_s2 = nalgebra::SMatrix::from_fn(|i, j| p[i.abs_diff(j)]);
    let d_rho = nalgebra::SMatrix::from_fn(|i, j| match i.abs_diff(j) {
        0 => T::zero(),
        k => s2 * T::c(k as f64) * p[k - 1],
    });
    nalgebra::SVector::from([d_s2, d_rho])
}
