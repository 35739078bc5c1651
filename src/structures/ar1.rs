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
    /// `V⁻¹ = T(ρ) / (σ²(1 − ρ²))` with `T` tridiagonal: `1, 1 + ρ², …,
    /// 1 + ρ², 1` on the diagonal and `−ρ` beside it;
    /// `log|V| = n log σ² + (n − 1) log(1 − ρ²)`.
    fn sparse_inverse<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> Option<crate::SparseInverse<T>> {
        let n = N::get(shape);
        let (s2, rho) = (theta[0], theta[1]);
        let one = T::one();
        if n == 1 {
            return Some(crate::SparseInverse::from_diagonal(
                &[s2],
                &[vec![one], vec![T::zero()]],
            ));
        }
        let two = T::c(2.0);
        let omr = one - rho * rho;
        let c = one / (s2 * omr);
        // ∂c/∂σ² = −c/σ², ∂c/∂ρ = 2ρ c / (1 − ρ²).
        let (dc_s2, dc_rho) = (-c / s2, two * rho * c / omr);
        let (mut col_ptr, mut row_idx) = (vec![0], Vec::new());
        let (mut val, mut d_s2, mut d_rho) = (Vec::new(), Vec::new(), Vec::new());
        for j in 0..n {
            let end = j == 0 || j + 1 == n;
            // diagonal: t = 1 (ends) or 1 + ρ², ∂t/∂ρ = 0 or 2ρ
            let (t, dt) = if end {
                (one, T::zero())
            } else {
                (one + rho * rho, two * rho)
            };
            row_idx.push(j);
            val.push(c * t);
            d_s2.push(dc_s2 * t);
            d_rho.push(dc_rho * t + c * dt);
            if j + 1 < n {
                row_idx.push(j + 1);
                val.push(-c * rho);
                d_s2.push(-dc_s2 * rho);
                d_rho.push(-dc_rho * rho - c);
            }
            col_ptr.push(row_idx.len());
        }
        let nm1 = T::c(n.saturating_sub(1) as f64);
        Some(crate::SparseInverse {
            n,
            col_ptr,
            row_idx,
            values: val,
            jacobian: vec![d_s2, d_rho],
            logdet: T::c(n as f64) * s2.ln() + nm1 * omr.ln(),
            logdet_jacobian: vec![T::c(n as f64) / s2, -two * rho * nm1 / omr],
        })
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
