//! `V_ij = σ² ρ_r^|rᵢ−rⱼ| ρ_c^|cᵢ−cⱼ|` for plots at row `r` and column `c`:
//! separable AR1 in rows and columns (ASReml `ar1(row):ar1(col)`, the
//! standard residual of field trials), keyed by the plots' positions, so
//! rows of the data may come in any order and plots may be missing. On a
//! complete grid in row-major order it is `σ² AR1(ρ_r) ⊗ AR1(ρ_c)`.
//! Parameters `sigma^2` (`e^{2x}`), `rho_row` and `rho_col` (`2·sigmoid(x) − 1`).
//!
//! With `a = |rᵢ−rⱼ|`, `b = |cᵢ−cⱼ|`: `∂V_ij/∂σ² = ρ_r^a ρ_c^b`,
//! `∂V_ij/∂ρ_r = σ² a ρ_r^{a−1} ρ_c^b`, `∂V_ij/∂ρ_c = σ² ρ_r^a b ρ_c^{b−1}`.

use super::Grid;
use crate::structures::grouped::{power_and_derivative, powers};
use crate::{ParamSpec, ParamTable, Real, Structure, Transform};
use nalgebra::{DMatrix, Dyn};

/// Separable AR1 ⊗ AR1 over the row and column indices of the plots.
///
/// ```
/// use covreml::structures::spatial::{AR1xAR1, Grid};
/// use covreml::Structure;
/// // plot (2, 2) is missing; rows in any order
/// let g = Grid::new(&[2.0, 1.0, 1.0], &[1.0, 2.0, 1.0]).unwrap();
/// let v = AR1xAR1::value(&g, &[2.0, 0.5, 0.25]); // σ² = 2, ρ_row = 0.5, ρ_col = 0.25
/// assert_eq!(v[(0, 1)], 0.25); // one row and one column apart: 2 · 0.5 · 0.25
/// assert_eq!(v[(0, 2)], 1.0); // one row apart
/// assert_eq!(v[(1, 2)], 0.5); // one column apart
/// assert_eq!(v[(2, 2)], 2.0);
/// ```
#[derive(Clone, Copy, Default, Debug, crate::ParamTable)]
#[params("sigma^2", "rho_row", "rho_col")]
pub struct AR1xAR1;

impl Structure for AR1xAR1 {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = <Self as ParamTable>::Count;
    type Shape = Grid;
    const NAME: &'static str = "AR1xAR1";

    fn dims(shape: &Grid) -> (usize, usize) {
        (shape.len(), shape.len())
    }
    fn param_count(_: &Grid) -> usize {
        3
    }
    fn param_specs(_: &Grid) -> Vec<ParamSpec> {
        let rho = |name| ParamSpec::new(name, 0.0, Transform::correlation(-1.0, 1.0));
        vec![
            ParamSpec::variance(Self::PARAM_NAMES[0]),
            rho(Self::PARAM_NAMES[1]),
            rho(Self::PARAM_NAMES[2]),
        ]
    }
    fn value<T: Real>(shape: &Grid, theta: &[T]) -> DMatrix<T> {
        let (mr, mc) = shape.max_lags();
        let (pr, pc) = (powers(theta[1], mr), powers(theta[2], mc));
        let (r, c) = (shape.rows(), shape.cols());
        let n = shape.len();
        DMatrix::from_fn(n, n, |i, j| {
            theta[0] * pr[r[i].abs_diff(r[j]) as usize] * pc[c[i].abs_diff(c[j]) as usize]
        })
    }
    fn jacobian<T: Real>(shape: &Grid, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        let s2 = theta[0];
        let (mr, mc) = shape.max_lags();
        let (pr, pc) = (powers(theta[1], mr), powers(theta[2], mc));
        let (r, c) = (shape.rows(), shape.cols());
        let n = shape.len();
        let mut out = vec![DMatrix::zeros(n, n); 3];
        for j in 0..n {
            for i in 0..n {
                let (a, da) = power_and_derivative(&pr, r[i].abs_diff(r[j]) as usize);
                let (b, db) = power_and_derivative(&pc, c[i].abs_diff(c[j]) as usize);
                out[0][(i, j)] = a * b;
                out[1][(i, j)] = s2 * da * b;
                out[2][(i, j)] = s2 * a * db;
            }
        }
        Some(out)
    }
    /// On a complete grid, `V⁻¹ = AR1(σ², ρ_r)⁻¹ ⊗ AR1(1, ρ_c)⁻¹` (the
    /// tridiagonal inverses; nonzero pattern the 9-point stencil), mapped to
    /// the data rows. `None` with missing plots: the inverse of `V` on the
    /// observed plots is dense.
    fn sparse_inverse<T: Real>(shape: &Grid, theta: &[T]) -> Option<crate::SparseInverse<T>> {
        let (k, cells) = Self::sparse_inverse_completed(shape, theta)?;
        if k.n != shape.len() {
            return None; // missing plots: sparse only on the completed grid
        }
        // grid cell (row-major) → data row
        let mut to = vec![0; shape.len()];
        for (i, &cell) in cells.iter().enumerate() {
            to[cell] = i;
        }
        Some(k.relabel(&to))
    }

    /// The full grid's inverse, `σ⁻² AR1(ρ_r)⁻¹ ⊗ AR1(ρ_c)⁻¹` (row-major
    /// cells), and the cell of each plot; the cells without a plot are the
    /// missing plots.
    fn sparse_inverse_completed<T: Real>(
        shape: &Grid,
        theta: &[T],
    ) -> Option<(crate::SparseInverse<T>, Vec<usize>)> {
        let (r, c) = (shape.rows(), shape.cols());
        let (mr, mc) = shape.max_lags();
        let (nr, nc) = (mr + 1, mc + 1);
        let r0 = r.iter().copied().min()?;
        let c0 = c.iter().copied().min()?;
        let a = <crate::AR1 as Structure>::sparse_inverse(&nr, &[theta[0], theta[1]])?;
        let b = <crate::AR1 as Structure>::sparse_inverse(&nc, &[T::one(), theta[2]])?;
        let mut k = crate::SparseInverse::kron(&a, &b);
        // parameters of the product: σ², ρ_r, (the unit variance of b), ρ_c
        k.jacobian.remove(2);
        k.logdet_jacobian.remove(2);
        let cells = r
            .iter()
            .zip(c)
            .map(|(&ri, &ci)| (ri - r0) as usize * nc + (ci - c0) as usize)
            .collect();
        Some((k, cells))
    }
}
