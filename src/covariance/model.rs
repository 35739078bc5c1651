//! The object-safe, `f64` face of a covariance structure that the REML engine
//! consumes: any [`Covariance<S>`](crate::Covariance) is a [`CovarianceModel`].

use crate::sparse::{check_lower_csc, Diagonal};
use crate::structure::Diagonals;
use crate::{CovError, Covariance, JacobianMethod, ParamKind, SparseInverse, Structure, Transform};
use nalgebra::DMatrix;

/// A parameterised matrix seen by the estimator: free parameters in, value
/// and Jacobian with respect to them out.
pub trait CovarianceModel: Send + Sync {
    /// `(rows, columns)`.
    fn dims(&self) -> (usize, usize);
    /// Number of free parameters.
    fn n_free(&self) -> usize;
    /// Names of the free parameters.
    fn free_names(&self) -> Vec<String>;
    /// Default free values: the default start.
    fn free_defaults(&self) -> Vec<f64>;
    /// Transforms of the free parameters (free → natural).
    fn free_transforms(&self) -> Vec<Transform>;
    /// What each free parameter is (a variance, a correlation, a range …),
    /// for the estimator's start and boundary reports. The default infers
    /// it from the transforms ([`ParamKind::infer`]).
    fn free_kinds(&self) -> Vec<ParamKind> {
        self.free_transforms()
            .iter()
            .map(ParamKind::infer)
            .collect()
    }
    /// The matrix at `free`.
    fn value_f64(&self, free: &[f64]) -> Result<DMatrix<f64>, CovError>;
    /// The matrix and `∂V/∂x_k` for each free parameter.
    fn value_and_jacobian_f64(
        &self,
        free: &[f64],
        method: JacobianMethod,
    ) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), CovError>;
    /// For a matrix that is diagonal at every parameter value: its diagonal
    /// and the diagonals of `∂V/∂x_k`. `None` (the default) means "treat the
    /// matrix as dense".
    fn diagonal_f64(&self, free: &[f64]) -> Option<Result<Diagonals<f64>, CovError>> {
        let _ = free;
        None
    }
    /// For a matrix with a sparse inverse: `V⁻¹` on a fixed pattern with its
    /// derivatives and `log|V|` (see [`Covariance::sparse_inverse`]). `None`
    /// (the default) means "no sparse inverse".
    fn sparse_inverse_f64(&self, free: &[f64]) -> Option<Result<SparseInverse<f64>, CovError>> {
        let _ = free;
        None
    }
    /// The sparse inverse written into `out`, which holds the pattern
    /// [`sparse_inverse_f64`](Self::sparse_inverse_f64) gave (kept by the
    /// sparse backend from its analysis): the numbers change, never the
    /// pattern (an implementation must not touch `out.n`, `col_ptr` or
    /// `row_idx`). `Some(Ok(false))` when the inverse at `free` has another
    /// pattern (the promise of a pattern that depends on the shape only is
    /// broken). The default builds the inverse and moves its numbers in;
    /// [`Covariance`] writes in place.
    fn sparse_inverse_into_f64(
        &self,
        free: &[f64],
        out: &mut SparseInverse<f64>,
    ) -> Option<Result<bool, CovError>> {
        Some(
            self.sparse_inverse_f64(free)?
                .map(|inv| out.take_numbers(inv)),
        )
    }
    /// For a matrix whose inverse is sparse once completed to more cells:
    /// the completed `V⁻¹` and the cell of each row (see
    /// [`Covariance::sparse_inverse_completed`]). `None` (the default) means
    /// "no such form".
    #[allow(clippy::type_complexity)]
    fn sparse_inverse_completed_f64(
        &self,
        free: &[f64],
    ) -> Option<Result<(SparseInverse<f64>, Vec<usize>), CovError>> {
        let _ = free;
        None
    }
}

impl<S: Structure> CovarianceModel for Covariance<S> {
    fn dims(&self) -> (usize, usize) {
        Covariance::dims(self)
    }
    fn n_free(&self) -> usize {
        Covariance::n_free(self)
    }
    fn free_names(&self) -> Vec<String> {
        Covariance::free_names(self)
    }
    fn free_defaults(&self) -> Vec<f64> {
        Covariance::free_defaults(self)
    }
    fn free_transforms(&self) -> Vec<Transform> {
        Covariance::free_transforms(self)
    }
    fn free_kinds(&self) -> Vec<ParamKind> {
        Covariance::free_kinds(self)
    }
    fn value_f64(&self, free: &[f64]) -> Result<DMatrix<f64>, CovError> {
        self.value(free)
    }
    fn value_and_jacobian_f64(
        &self,
        free: &[f64],
        method: JacobianMethod,
    ) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), CovError> {
        self.value_and_jacobian_with(free, method)
    }
    fn diagonal_f64(&self, free: &[f64]) -> Option<Result<Diagonals<f64>, CovError>> {
        self.diagonal(free)
    }
    fn sparse_inverse_f64(&self, free: &[f64]) -> Option<Result<SparseInverse<f64>, CovError>> {
        self.sparse_inverse(free)
    }
    fn sparse_inverse_into_f64(
        &self,
        free: &[f64],
        out: &mut SparseInverse<f64>,
    ) -> Option<Result<bool, CovError>> {
        self.sparse_inverse_into(free, out)
    }
    fn sparse_inverse_completed_f64(
        &self,
        free: &[f64],
    ) -> Option<Result<(SparseInverse<f64>, Vec<usize>), CovError>> {
        self.sparse_inverse_completed(free)
    }
}

/// A model whose every output is checked against what it declares, so that
/// a user implementation of [`CovarianceModel`] with inconsistent sizes is
/// an error instead of a panic inside the estimator.
pub(crate) struct Checked {
    inner: Box<dyn CovarianceModel>,
    name: String,
}

impl Checked {
    /// Wraps `inner`, checking that its name, default and transform lists
    /// all have `n_free()` entries.
    pub(crate) fn new(inner: Box<dyn CovarianceModel>, name: &str) -> Result<Self, CovError> {
        let k = inner.n_free();
        let lens = [
            inner.free_names().len(),
            inner.free_defaults().len(),
            inner.free_transforms().len(),
        ];
        if lens.iter().any(|&l| l != k) {
            return Err(CovError::WrongOutput {
                structure: name.to_owned(),
                details: format!(
                    "{} names, {} defaults and {} transforms for n_free() = {k} parameters",
                    lens[0], lens[1], lens[2]
                ),
            });
        }
        Ok(Checked {
            inner,
            name: name.to_owned(),
        })
    }

    fn wrong(&self, details: String) -> CovError {
        CovError::WrongOutput {
            structure: self.name.clone(),
            details,
        }
    }

    fn check(&self, m: &DMatrix<f64>, what: &str) -> Result<(), CovError> {
        let d = self.inner.dims();
        if m.shape() == d {
            Ok(())
        } else {
            Err(self.wrong(format!(
                "a {}×{} {what}, but declares {}×{}",
                m.nrows(),
                m.ncols(),
                d.0,
                d.1
            )))
        }
    }
}

impl CovarianceModel for Checked {
    fn dims(&self) -> (usize, usize) {
        self.inner.dims()
    }
    fn n_free(&self) -> usize {
        self.inner.n_free()
    }
    fn free_names(&self) -> Vec<String> {
        self.inner.free_names()
    }
    fn free_defaults(&self) -> Vec<f64> {
        self.inner.free_defaults()
    }
    fn free_transforms(&self) -> Vec<Transform> {
        self.inner.free_transforms()
    }
    fn free_kinds(&self) -> Vec<ParamKind> {
        let kinds = self.inner.free_kinds();
        if kinds.len() == self.n_free() {
            kinds
        } else {
            self.free_transforms()
                .iter()
                .map(ParamKind::infer)
                .collect()
        }
    }
    fn value_f64(&self, free: &[f64]) -> Result<DMatrix<f64>, CovError> {
        let v = self.inner.value_f64(free)?;
        self.check(&v, "value")?;
        Ok(v)
    }
    fn value_and_jacobian_f64(
        &self,
        free: &[f64],
        method: JacobianMethod,
    ) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), CovError> {
        let (v, jac) = self.inner.value_and_jacobian_f64(free, method)?;
        self.check(&v, "value")?;
        if jac.len() != self.n_free() {
            return Err(self.wrong(format!(
                "{} Jacobian matrices for {} free parameters",
                jac.len(),
                self.n_free()
            )));
        }
        for d in &jac {
            self.check(d, "derivative")?;
        }
        Ok((v, jac))
    }
    fn diagonal_f64(&self, free: &[f64]) -> Option<Result<Diagonals<f64>, CovError>> {
        let out = self.inner.diagonal_f64(free)?;
        let n = self.dims().0;
        Some(out.and_then(|(d, jac)| {
            if d.len() != n || jac.len() != self.n_free() || jac.iter().any(|g| g.len() != n) {
                Err(self.wrong(format!(
                    "a diagonal of length {} with {} derivatives, but declares {n} rows and {} free parameters",
                    d.len(),
                    jac.len(),
                    self.n_free()
                )))
            } else {
                Ok((d, jac))
            }
        }))
    }
    fn sparse_inverse_f64(&self, free: &[f64]) -> Option<Result<SparseInverse<f64>, CovError>> {
        let out = self.inner.sparse_inverse_f64(free)?;
        Some(out.and_then(|inv| self.check_sparse(inv, self.dims().0)))
    }
    fn sparse_inverse_into_f64(
        &self,
        free: &[f64],
        out: &mut SparseInverse<f64>,
    ) -> Option<Result<bool, CovError>> {
        // The pattern was checked when `out` was made (from
        // `sparse_inverse_f64` above); the numbers' counts are checked here.
        let (n, nnz, k) = (out.n, out.nnz(), self.n_free());
        let written = self.inner.sparse_inverse_into_f64(free, out)?;
        Some(written.and_then(|ok| {
            if out.n != n
                || out.nnz() != nnz
                || out.col_ptr.len() != n + 1
                || out.values.len() != nnz
                || out.jacobian.len() != k
                || out.logdet_jacobian.len() != k
                || out.jacobian.iter().any(|g| g.len() != nnz)
            {
                Err(self.wrong(format!(
                    "a sparse inverse written with {} values and {} derivatives into a pattern \
                     of {nnz} entries and {k} parameters",
                    out.values.len(),
                    out.jacobian.len()
                )))
            } else {
                Ok(ok)
            }
        }))
    }
    fn sparse_inverse_completed_f64(
        &self,
        free: &[f64],
    ) -> Option<Result<(SparseInverse<f64>, Vec<usize>), CovError>> {
        let out = self.inner.sparse_inverse_completed_f64(free)?;
        let n = self.dims().0;
        Some(out.and_then(|(inv, cells)| {
            let m = inv.n;
            let inv = self.check_sparse(inv, m)?;
            let mut seen = vec![false; m];
            let ok = cells.len() == n
                && cells
                    .iter()
                    .all(|&c| c < m && !std::mem::replace(&mut seen[c], true));
            if ok {
                Ok((inv, cells))
            } else {
                Err(self.wrong(format!(
                    "a completed sparse inverse whose cells are not {n} distinct cells of {m}"
                )))
            }
        }))
    }
}

impl Checked {
    /// Checks a sparse inverse of order `n`: pattern, value and derivative
    /// counts.
    fn check_sparse(
        &self,
        inv: SparseInverse<f64>,
        n: usize,
    ) -> Result<SparseInverse<f64>, CovError> {
        let k = self.n_free();
        let nnz = inv.row_idx.len();
        let pattern = if inv.n == n {
            check_lower_csc(n, &inv.col_ptr, &inv.row_idx, Diagonal::Required)
        } else {
            Err(format!("order {}", inv.n))
        };
        match pattern {
            Err(reason) => Err(self.wrong(format!(
                "a sparse inverse that is not a lower-triangular pattern of order {n} \
                 (diagonal first in each column): {reason}"
            ))),
            Ok(())
                if inv.values.len() != nnz
                    || inv.jacobian.len() != k
                    || inv.logdet_jacobian.len() != k
                    || inv.jacobian.iter().any(|g| g.len() != nnz) =>
            {
                Err(self.wrong(format!(
                    "a sparse inverse with {} values and {} derivatives for a pattern of \
                     {nnz} entries and {k} parameters",
                    inv.values.len(),
                    inv.jacobian.len()
                )))
            }
            Ok(()) => Ok(inv),
        }
    }
}
