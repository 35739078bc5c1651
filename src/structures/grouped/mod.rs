//! Repeated-measures structures tied to the data: the runtime shape holds
//! the group and the time of every row, so the matrix follows the data, not
//! the row order. Rows of different groups are uncorrelated; within a group
//! the entry depends on the two rows' times (or time levels).
//!
//! | structure | within-group entry `V_ij` | nlme / ASReml |
//! |---|---|---|
//! | [`RepeatedAR1`] | `σ² ρ^\|tᵢ−tⱼ\|`, integer `t` | `corAR1` / `ar1` |
//! | [`CAR1`] | `σ² φ^\|tᵢ−tⱼ\|`, real `t` | `corCAR1` / `exp` |
//! | [`RepeatedCS`] | `σ² (ρ + (1−ρ) δᵢⱼ)` | `corCompSymm` / `cor` |
//! | [`RepeatedUnstructured`] | `Σ[lᵢ, lⱼ]` over the time levels | `us` |
//! | [`CSH`] | `σ_{lᵢ} σ_{lⱼ} (ρ + (1−ρ) δᵢⱼ)` | `csh` |
//! | [`ARH`] | `σ_{lᵢ} σ_{lⱼ} ρ^\|tᵢ−tⱼ\|` | `arh` |
//! | [`CorGH`] | `σ_{lᵢ} σ_{lⱼ} C[lᵢ, lⱼ]` | `corSymm × varIdent` / `corgh` |
//! | [`VarIdent`] | `σ²_{lᵢ} δᵢⱼ` (diagonal) | `varIdent` / `idh` |
//!
//! `lᵢ` is the level of row `i`: the index of its time among the distinct
//! times of the data ([`GroupedTimes::levels`]), or of its factor level
//! ([`Levels`]).

mod ar1;
mod arh;
mod car1;
mod corgh;
mod cs;
mod csh;
mod levels;
mod times;
mod unstructured;
mod var_ident;

pub use ar1::RepeatedAR1;
pub use arh::ARH;
pub use car1::CAR1;
pub use corgh::CorGH;
pub use cs::RepeatedCS;
pub use csh::CSH;
pub use levels::Levels;
pub use times::GroupedTimes;
pub use unstructured::RepeatedUnstructured;
pub use var_ident::VarIdent;

use crate::{Real, SparseInverse, Structure};
use nalgebra::DMatrix;

/// Declares a zero-sized structure type with the usual derives.
macro_rules! leaf {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Default, Debug)]
        pub struct $name;
    };
}
pub(crate) use leaf;

/// The `n × n` matrix with `f(i, j)` for every pair of rows of the same
/// group (the diagonal included) and 0 elsewhere.
pub(crate) fn within<T: Real>(
    shape: &GroupedTimes,
    mut f: impl FnMut(usize, usize) -> T,
) -> DMatrix<T> {
    let n = shape.len();
    let mut m = DMatrix::zeros(n, n);
    for rows in shape.members() {
        for &i in rows {
            for &j in rows {
                m[(i, j)] = f(i, j);
            }
        }
    }
    m
}

/// The sparse inverse of a grouped structure: rows of different groups are
/// uncorrelated, so `V⁻¹` is block diagonal over the groups (in data-row
/// order, any row order), each block the small dense inverse of the group's
/// own matrix (with `−V_g⁻¹ V̇_g V_g⁻¹`, `log|V_g|`, `tr(V_g⁻¹ V̇_g)`), the
/// log-determinant the sum over groups. `None` without a closed-form
/// Jacobian, or if a group's matrix is not positive definite.
pub(crate) fn block_inverse<S, T>(shape: &GroupedTimes, theta: &[T]) -> Option<SparseInverse<T>>
where
    S: Structure<Shape = GroupedTimes>,
    T: Real,
{
    let mut blocks = Vec::with_capacity(shape.n_groups());
    let mut order = Vec::with_capacity(shape.len());
    for rows in shape.members() {
        let sub = shape.restrict(rows);
        let (v, jac) = S::value_and_jacobian(&sub, theta);
        blocks.push(SparseInverse::from_dense(&v, &jac?)?);
        order.extend_from_slice(rows);
    }
    let joined = SparseInverse::shared_block_diag(&blocks, theta.len());
    Some(joined.relabel(&order))
}

/// A parameter-name suffix from a level label: whitespace and `/` become `_`.
pub(crate) fn label(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_whitespace() || c == '/' {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// `∂(s_a s_b)/∂σ²_l` with `s = √σ²`: `[a = l] s_b / (2 s_a) + [b = l] s_a / (2 s_b)`
/// (1 when `a = b = l`).
pub(crate) fn d_sd_product<T: Real>(s: &[T], a: usize, b: usize, l: usize) -> T {
    let half = T::c(0.5);
    let mut d = T::zero();
    if a == l {
        d += half * s[b] / s[a];
    }
    if b == l {
        d += half * s[a] / s[b];
    }
    d
}

/// `ρ^0 … ρ^m` by repeated multiplication (exact at ρ = 0).
pub(crate) fn powers<T: Real>(rho: T, m: usize) -> Vec<T> {
    let mut p = Vec::with_capacity(m + 1);
    let mut acc = T::one();
    for _ in 0..=m {
        p.push(acc);
        acc *= rho;
    }
    p
}

/// `ρ^k` and `∂ρ^k/∂ρ = k ρ^{k−1}` from the powers.
pub(crate) fn power_and_derivative<T: Real>(p: &[T], k: usize) -> (T, T) {
    let d = if k == 0 {
        T::zero()
    } else {
        T::c(k as f64) * p[k - 1]
    };
    (p[k], d)
}

/// `sigma^2_<label>` (`e^{2x}`) for every level label.
pub(crate) fn level_variances(labels: &[String]) -> Vec<crate::ParamSpec> {
    labels
        .iter()
        .map(|l| crate::ParamSpec::variance(format!("sigma^2_{l}")))
        .collect()
}

/// `V_ij = σ_{lᵢ} σ_{lⱼ} c(i, j)` within groups, `σ_l = √var[l]` (and
/// `var[l]` itself when `lᵢ = lⱼ`).
pub(crate) fn heterogeneous<T: Real>(
    shape: &GroupedTimes,
    var: &[T],
    corr: impl Fn(usize, usize) -> T,
) -> DMatrix<T> {
    let l = shape.level_of_rows();
    let s: Vec<T> = var.iter().map(|v| v.sqrt()).collect();
    within(shape, |i, j| {
        let (a, b) = (l[i], l[j]);
        let scale = if a == b { var[a] } else { s[a] * s[b] };
        scale * corr(i, j)
    })
}

/// The Jacobian of [`heterogeneous`]: one matrix per level variance, then
/// `n_corr` matrices for the correlation parameters. `corr(i, j)` returns
/// `c(i, j)` and, if it depends on one, `(k, ∂c/∂θ_k)` for correlation
/// parameter `k`.
pub(crate) fn heterogeneous_jacobian<T: Real>(
    shape: &GroupedTimes,
    var: &[T],
    n_corr: usize,
    corr: impl Fn(usize, usize) -> (T, Option<(usize, T)>),
) -> Vec<DMatrix<T>> {
    let n = shape.len();
    let nl = var.len();
    let l = shape.level_of_rows();
    let s: Vec<T> = var.iter().map(|v| v.sqrt()).collect();
    let mut out = vec![DMatrix::zeros(n, n); nl + n_corr];
    for rows in shape.members() {
        for &i in rows {
            for &j in rows {
                let (a, b) = (l[i], l[j]);
                let (c, dc) = corr(i, j);
                if a == b {
                    out[a][(i, j)] = c;
                } else {
                    out[a][(i, j)] = d_sd_product(&s, a, b, a) * c;
                    out[b][(i, j)] = d_sd_product(&s, a, b, b) * c;
                }
                if let Some((k, d)) = dc {
                    let scale = if a == b { var[a] } else { s[a] * s[b] };
                    out[nl + k][(i, j)] = scale * d;
                }
            }
        }
    }
    out
}
