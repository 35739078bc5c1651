//! `V⁻¹` on a fixed sparse pattern with its derivatives, for structures
//! that provide one, mapped onto the free parameters.

use super::Covariance;
use crate::{CovError, Structure};

impl<S: Structure> Covariance<S> {
    /// For a structure with a sparse inverse (see
    /// [`Structure::sparse_inverse`]): `V⁻¹` on its fixed pattern, `∂V⁻¹/∂x_k`
    /// and `∂log|V|/∂x_k` for each free parameter, and `log|V|`. `None` for
    /// other structures (a free vector of the wrong length is `Some(Err(…))`).
    ///
    /// ```
    /// use covreml::{Covariance, Scalar};
    /// let g = Covariance::<Scalar>::new(3).unwrap();
    /// let inv = g.sparse_inverse(&[0.5]).unwrap().unwrap(); // σ² = e
    /// assert!((inv.values[0] - (-1f64).exp()).abs() < 1e-15);
    /// assert!((inv.logdet - 3.0).abs() < 1e-15);
    /// assert!((inv.logdet_jacobian[0] - 6.0).abs() < 1e-15); // 3 · d(2x)/dx
    /// ```
    pub fn sparse_inverse(
        &self,
        free: &[f64],
    ) -> Option<Result<crate::SparseInverse<f64>, CovError>> {
        let (full, theta) = match self.full_and_natural(free) {
            Ok(v) => v,
            Err(e) => return Some(Err(e)),
        };
        let inv = S::sparse_inverse(&self.shape, &theta)?;
        Some(self.map_sparse_inverse(inv, &full, free, self.dims().0))
    }

    /// [`sparse_inverse`](Self::sparse_inverse) written into `out`, which
    /// holds the pattern it gives (fixed once, at the analysis of a model):
    /// only the numbers change, in place, without allocating for the
    /// structures that write in place
    /// ([`Structure::sparse_inverse_into`]). `Some(Ok(false))` when `out`
    /// does not hold that pattern (its numbers are then meaningless).
    ///
    /// ```
    /// use covreml::{Covariance, Scalar};
    /// let g = Covariance::<Scalar>::new(3).unwrap();
    /// let mut inv = g.sparse_inverse(&[0.0]).unwrap().unwrap();
    /// assert!(g.sparse_inverse_into(&[0.5], &mut inv).unwrap().unwrap());
    /// assert!((inv.values[2] - (-1f64).exp()).abs() < 1e-15);
    /// assert!((inv.logdet - 3.0).abs() < 1e-15);
    /// ```
    pub fn sparse_inverse_into(
        &self,
        free: &[f64],
        out: &mut crate::SparseInverse<f64>,
    ) -> Option<Result<bool, CovError>> {
        /// Parameters converted on the stack (more go through the default).
        const STACK: usize = 32;
        let k = self.specs.len();
        if k > STACK || self.fixed.iter().any(|&f| f) {
            return Some(match self.sparse_inverse(free)? {
                Ok(inv) => Ok(out.take_numbers(inv)),
                Err(e) => Err(e),
            });
        }
        if let Err(e) = self.check_len(free) {
            return Some(Err(e));
        }
        let mut theta = [0.0; STACK];
        for ((t, &x), s) in theta.iter_mut().zip(free).zip(&self.specs) {
            *t = s.transform.forward(x);
        }
        if !S::sparse_inverse_into(&self.shape, &theta[..k], out)? {
            return Some(Ok(false));
        }
        if !out.logdet.is_finite() || out.values.iter().any(|x| !x.is_finite()) {
            return Some(Err(self.non_finite(free)));
        }
        for ((g, dl), (&x, s)) in out
            .jacobian
            .iter_mut()
            .zip(out.logdet_jacobian.iter_mut())
            .zip(free.iter().zip(&self.specs))
        {
            let t = s.transform.derivative(x);
            g.iter_mut().for_each(|v| *v *= t);
            *dl *= t;
        }
        Some(Ok(true))
    }

    /// For a structure whose inverse is sparse once completed to more cells
    /// (see [`Structure::sparse_inverse_completed`]): the completed `V⁻¹`
    /// on the free parameters, as [`sparse_inverse`](Self::sparse_inverse)
    /// gives it, and the cell of each row.
    #[allow(clippy::type_complexity)]
    pub fn sparse_inverse_completed(
        &self,
        free: &[f64],
    ) -> Option<Result<(crate::SparseInverse<f64>, Vec<usize>), CovError>> {
        let (full, theta) = match self.full_and_natural(free) {
            Ok(v) => v,
            Err(e) => return Some(Err(e)),
        };
        let (inv, cells) = S::sparse_inverse_completed(&self.shape, &theta)?;
        let n = self.dims().0;
        let m = inv.n;
        let mut seen = vec![false; m];
        let cells_ok = cells.len() == n
            && cells
                .iter()
                .all(|&c| c < m && !std::mem::replace(&mut seen[c], true));
        if !cells_ok {
            return Some(Err(CovError::WrongOutput {
                structure: S::NAME.to_owned(),
                details: format!(
                    "a completed sparse inverse of order {m} whose {} cells are not {n} distinct cells",
                    cells.len()
                ),
            }));
        }
        Some(
            self.map_sparse_inverse(inv, &full, free, m)
                .map(|inv| (inv, cells)),
        )
    }

    /// Checks a sparse inverse of order `n` from the structure and maps its
    /// derivatives from the natural parameters to the free ones.
    fn map_sparse_inverse(
        &self,
        mut inv: crate::SparseInverse<f64>,
        full: &[f64],
        free: &[f64],
        n: usize,
    ) -> Result<crate::SparseInverse<f64>, CovError> {
        let nnz = inv.row_idx.len();
        if inv.n != n
            || inv.col_ptr.len() != n + 1
            || inv.col_ptr.last() != Some(&nnz)
            || inv.values.len() != nnz
            || inv.jacobian.len() != self.specs.len()
            || inv.logdet_jacobian.len() != self.specs.len()
            || inv.jacobian.iter().any(|g| g.len() != nnz)
        {
            return Err(CovError::WrongOutput {
                structure: S::NAME.to_owned(),
                details: format!(
                    "a sparse inverse of order {} with {} entries and {} derivatives, but declares {n} rows and {} parameters",
                    inv.n,
                    inv.values.len(),
                    inv.jacobian.len(),
                    self.specs.len()
                ),
            });
        }
        if !inv.logdet.is_finite() || inv.values.iter().any(|x| !x.is_finite()) {
            return Err(self.non_finite(free));
        }
        let keep: Vec<(f64, bool)> = full
            .iter()
            .zip(&self.specs)
            .zip(&self.fixed)
            .map(|((&x, s), &f)| (s.transform.derivative(x), f))
            .collect();
        let jac = std::mem::take(&mut inv.jacobian);
        inv.jacobian = jac
            .into_iter()
            .zip(&keep)
            .filter(|(_, (_, f))| !f)
            .map(|(g, (t, _))| g.into_iter().map(|v| v * t).collect())
            .collect();
        let dl = std::mem::take(&mut inv.logdet_jacobian);
        inv.logdet_jacobian = dl
            .into_iter()
            .zip(&keep)
            .filter(|(_, (_, f))| !f)
            .map(|(g, (t, _))| g * t)
            .collect();
        Ok(inv)
    }
}
