//! `V = A`, a fixed matrix given by its sparse inverse `A⁻¹` (no
//! parameters): a numerator relationship matrix from a pedigree, whose
//! inverse is sparse while `A` itself is dense. The sparse backend uses
//! `A⁻¹` directly; `σ² A` is `Kron<Scalar, FixedInverse>` with a `1 × 1`
//! scalar, whose sparse inverse is `σ⁻² A⁻¹`.

use crate::sparse::{check_lower_csc, Diagonal, SparseCholesky, SparseOptions};
use crate::{CovError, ParamSpec, Real, SparseInverse, Structure};
use nalgebra::{Const, DMatrix, Dyn};
use std::sync::Arc;

/// A symmetric positive-definite matrix stored as the lower triangle of its
/// inverse (compressed sparse columns), with `log|A|`: the shape of
/// [`FixedInverse`].
#[derive(Clone, Debug, PartialEq)]
pub struct InverseData {
    n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    values: Vec<f64>,
    logdet: f64,
}

impl InverseData {
    /// From the lower triangle of `A⁻¹` in compressed sparse columns
    /// (diagonal first in each column, rows increasing). Fails, naming the
    /// problem, if the pattern is malformed, a value is not finite, or
    /// `A⁻¹` is not positive definite.
    ///
    /// ```
    /// use covreml::structures::InverseData;
    /// // A⁻¹ = [2 −1; −1 2]: A = [2 1; 1 2] / 3, |A| = 1/3.
    /// let a = InverseData::new(2, vec![0, 2, 3], vec![0, 1, 1], vec![2.0, -1.0, 2.0]).unwrap();
    /// assert!((a.logdet() - (1.0f64 / 3.0).ln()).abs() < 1e-14);
    /// ```
    pub fn new(
        n: usize,
        col_ptr: Vec<usize>,
        row_idx: Vec<usize>,
        values: Vec<f64>,
    ) -> Result<Arc<Self>, CovError> {
        let bad = |reason: String| CovError::InvalidShape {
            structure: "FixedInverse",
            reason,
        };
        check_lower_csc(n, &col_ptr, &row_idx, Diagonal::Required).map_err(bad)?;
        if values.len() != row_idx.len() {
            return Err(bad(format!(
                "{} values for {} row indices",
                values.len(),
                row_idx.len()
            )));
        }
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(bad(format!("a non-finite value ({v:e}) in the inverse")));
        }
        let mut chol = SparseCholesky::analyse(n, &col_ptr, &row_idx, &SparseOptions::default())
            .map_err(|e| bad(e.to_string()))?;
        chol.factor(&values)
            .map_err(|e| bad(format!("the inverse is not positive definite ({e})")))?;
        let logdet = -chol.log_det();
        Ok(Arc::new(InverseData {
            n,
            col_ptr,
            row_idx,
            values,
            logdet,
        }))
    }

    /// Order of `A`.
    pub fn n(&self) -> usize {
        self.n
    }

    /// `log|A|`.
    pub fn logdet(&self) -> f64 {
        self.logdet
    }

    /// `A⁻¹` as a dense matrix.
    pub fn inverse_dense(&self) -> DMatrix<f64> {
        let mut m = DMatrix::zeros(self.n, self.n);
        for j in 0..self.n {
            for q in self.col_ptr[j]..self.col_ptr[j + 1] {
                let i = self.row_idx[q];
                m[(i, j)] = self.values[q];
                m[(j, i)] = self.values[q];
            }
        }
        m
    }
}

/// A fixed matrix known by its sparse inverse (see the module docs). Its
/// dense value (for the dense backend and for checks) is formed by inverting
/// `A⁻¹`, in `O(n³)`; the sparse backend never forms it.
///
/// ```
/// use covreml::structures::{FixedInverse, InverseData};
/// use covreml::{Covariance, Kron, Scalar};
/// let a_inv = InverseData::new(2, vec![0, 2, 3], vec![0, 1, 1], vec![2.0, -1.0, 2.0]).unwrap();
/// // σ² A
/// let g = Covariance::<Kron<Scalar, FixedInverse>>::new((1, a_inv)).unwrap();
/// let v = g.value(&[0.0]).unwrap(); // σ² = 1
/// assert!((v[(0, 1)] - 1.0 / 3.0).abs() < 1e-14);
/// let inv = g.sparse_inverse(&[0.0]).unwrap().unwrap();
/// assert_eq!(inv.values, [2.0, -1.0, 2.0]);
/// ```
#[derive(Clone, Copy, Default, Debug)]
pub struct FixedInverse;

impl Structure for FixedInverse {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = Const<0>;
    type Shape = Arc<InverseData>;
    const NAME: &'static str = "FixedInverse";

    fn dims(shape: &Self::Shape) -> (usize, usize) {
        (shape.n, shape.n)
    }
    fn param_count(_: &Self::Shape) -> usize {
        0
    }
    fn param_specs(_: &Self::Shape) -> Vec<ParamSpec> {
        Vec::new()
    }
    fn value<T: Real>(shape: &Self::Shape, _: &[T]) -> DMatrix<T> {
        let a = shape
            .inverse_dense()
            .cholesky()
            .expect("positive definite: checked when the shape was built")
            .inverse();
        a.map(T::c)
    }
    fn jacobian<T: Real>(_: &Self::Shape, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        Some(Vec::new())
    }
    fn sparse_inverse<T: Real>(shape: &Self::Shape, _: &[T]) -> Option<SparseInverse<T>> {
        Some(SparseInverse {
            n: shape.n,
            col_ptr: shape.col_ptr.clone(),
            row_idx: shape.row_idx.clone(),
            values: shape.values.iter().map(|&v| T::c(v)).collect(),
            jacobian: Vec::new(),
            logdet: T::c(shape.logdet),
            logdet_jacobian: Vec::new(),
        })
    }
}
