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
