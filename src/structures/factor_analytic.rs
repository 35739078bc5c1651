//! Factor analytic `FA(k)`: `V = Λ Λᵀ + Ψ` (n × n), with loadings `Λ`
//! (n × k) and specific variances `Ψ = diag(ψ_0, …, ψ_{n−1})`.
//!
//! Identifiability: the upper triangle of the first `k` rows of `Λ` is zero
//! (`Λ_ij = 0` for `j > i`), so `Λ` has `nk − k(k−1)/2` free loadings
//! `lambda_i_j` (row `i`, factor `j`; identity transform), listed factor
//! by factor, then `psi_i` (`e^{2x}`, so Ψ stays positive). Each loading
//! column is identified up to its sign only.
//!
//! `∂V/∂λ_ij = e_i Λ_{·j}ᵀ + Λ_{·j} e_iᵀ` (row and column `i` hold column
//! `j` of `Λ`, `2λ_ij` where they cross), `∂V/∂ψ_i = E_ii`.
//!
//! Defaults: every free loading 1 and every `ψ_i` 1. Zero loadings would be
//! a saddle point: `V` depends on `Λ` through `ΛΛᵀ` only, so `∂V/∂Λ = 0` at
//! `Λ = 0` and a fit could not leave it.

use crate::structure::Size;
use crate::{ParamKind, ParamSpec, Real, Structure, Transform};
use nalgebra::{DMatrix, Dyn};
use std::marker::PhantomData;

/// The factor analytic structure `FA(K)`: `ΛΛᵀ + Ψ` with `K` factors,
/// for multi-environment trials (a genetic covariance between `n`
/// environments with `K` common factors and a specific variance each).
///
/// ```
/// use covreml::{Covariance, FactorAnalytic};
/// let fa = Covariance::<FactorAnalytic<1>>::new(3).unwrap();
/// assert_eq!(fa.names(), ["lambda_0_0", "lambda_1_0", "lambda_2_0", "psi_0", "psi_1", "psi_2"]);
/// // Λ = (1, 0.5, −2)ᵀ, Ψ = diag(e^0, e^0.2, e^−0.4)
/// let v = fa.value(&[1.0, 0.5, -2.0, 0.0, 0.1, -0.2]).unwrap();
/// assert_eq!(v[(0, 2)], -2.0);
/// assert!((v[(1, 1)] - (0.25 + 0.2f64.exp())).abs() < 1e-15);
/// // two factors: λ_0_1 is the structural zero, not a parameter
/// let fa2 = Covariance::<FactorAnalytic<2>>::new(3).unwrap();
/// assert_eq!(fa2.n_params(), 3 + 2 + 3);
/// assert!(fa2.check_gradients(&fa2.free_defaults()).unwrap().max_abs_diff() < 1e-14);
/// ```
pub struct FactorAnalytic<const K: usize, N = Dyn>(PhantomData<N>);

/// Short name of [`FactorAnalytic`]: `FA<2>` is `FA(2)`.
pub type FA<const K: usize, N = Dyn> = FactorAnalytic<K, N>;

impl<const K: usize, N> Clone for FactorAnalytic<K, N> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<const K: usize, N> Copy for FactorAnalytic<K, N> {}
impl<const K: usize, N> Default for FactorAnalytic<K, N> {
    fn default() -> Self {
        FactorAnalytic(PhantomData)
    }
}
impl<const K: usize, N> std::fmt::Debug for FactorAnalytic<K, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FactorAnalytic<{K}>")
    }
}

/// `(row, factor)` of every free loading, factor by factor.
fn loadings(n: usize, k: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..k).flat_map(move |j| (j..n).map(move |i| (i, j)))
}

/// Number of free loadings `nk − k(k−1)/2`.
fn n_loadings(n: usize, k: usize) -> usize {
    n * k - k * k.saturating_sub(1) / 2
}

/// `Λ` (n × k) from the natural parameters, structural zeros included.
fn lambda<T: Real>(n: usize, k: usize, theta: &[T]) -> DMatrix<T> {
    let mut l = DMatrix::zeros(n, k);
    for ((i, j), &x) in loadings(n, k).zip(theta) {
        l[(i, j)] = x;
    }
    l
}

impl<const K: usize, N: Size> Structure for FactorAnalytic<K, N> {
    type Rows = N;
    type Cols = N;
    type NParams = Dyn;
    type Shape = N::Shape;
    const NAME: &'static str = "FactorAnalytic";

    fn check_shape(shape: &Self::Shape) -> Result<(), crate::CovError> {
        let n = N::get(shape);
        if K == 0 || K > n {
            return Err(crate::CovError::InvalidShape {
                structure: Self::NAME,
                reason: format!(
                    "FA({K}) needs 1 ≤ k ≤ n factors, got k = {K} for n = {n} (use Diagonal for k = 0)"
                ),
            });
        }
        Ok(())
    }
    fn dims(shape: &Self::Shape) -> (usize, usize) {
        (N::get(shape), N::get(shape))
    }
    fn param_count(shape: &Self::Shape) -> usize {
        let n = N::get(shape);
        n_loadings(n, K) + n
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        let n = N::get(shape);
        loadings(n, K)
            .map(|(i, j)| {
                ParamSpec::new(format!("lambda_{i}_{j}"), 1.0, Transform::Identity)
                    .kind(ParamKind::Loading)
            })
            .chain(
                (0..n).map(|i| {
                    ParamSpec::variance(format!("psi_{i}")).kind(ParamKind::SpecificVariance)
                }),
            )
            .collect()
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let n = N::get(shape);
        let m = n_loadings(n, K);
        let l = lambda(n, K, &theta[..m]);
        let mut v = &l * l.transpose();
        for i in 0..n {
            v[(i, i)] += theta[m + i];
        }
        v
    }
    fn jacobian<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        let n = N::get(shape);
        let m = n_loadings(n, K);
        let l = lambda(n, K, &theta[..m]);
        let mut out = Vec::with_capacity(m + n);
        for (i, j) in loadings(n, K) {
            let mut d = DMatrix::zeros(n, n);
            for b in 0..n {
                d[(i, b)] += l[(b, j)];
                d[(b, i)] += l[(b, j)];
            }
            out.push(d);
        }
        for i in 0..n {
            let mut d = DMatrix::zeros(n, n);
            d[(i, i)] = T::one();
            out.push(d);
        }
        Some(out)
    }
    /// Small and dense: the dense inverse (so that `Kron<FA, Identity>`
    /// has the sparse inverse `FA⁻¹ ⊗ I`).
    fn sparse_inverse<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> Option<crate::SparseInverse<T>> {
        let (v, jac) = Self::value_and_jacobian(shape, theta);
        crate::SparseInverse::from_dense(&v, &jac?)
    }
}
