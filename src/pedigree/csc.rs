//! A sparse symmetric matrix stored as its lower triangle in compressed
//! sparse column (CSC) form: column `j` holds the rows `i ≥ j` of its
//! nonzeros, sorted, in `row_idx[col_ptr[j]..col_ptr[j + 1]]`, with the
//! values at the same positions.

use super::PedigreeError;
use crate::sparse::{check_lower_csc, Diagonal};
use nalgebra::DMatrix;

/// A symmetric `n × n` matrix as its lower triangle (diagonal included) in
/// CSC form — the layout sparse Cholesky factorizations take.
///
/// ```
/// use covreml::pedigree::SymmetricCsc;
/// // [[2, 1], [1, 3]]
/// let m = SymmetricCsc::from_lower(2, vec![0, 2, 3], vec![0, 1, 1], vec![2.0, 1.0, 3.0]).unwrap();
/// assert_eq!(m.get(0, 1), 1.0);
/// assert_eq!(m.get(1, 0), 1.0);
/// assert_eq!(m.to_dense(), nalgebra::dmatrix![2.0, 1.0; 1.0, 3.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SymmetricCsc {
    n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    values: Vec<f64>,
}

impl SymmetricCsc {
    /// A matrix from its lower-triangle CSC arrays, checked: `col_ptr` has
    /// `n + 1` non-decreasing entries from 0 to `row_idx.len()`, rows within
    /// a column are strictly increasing, in `j..n`, and `values` matches
    /// `row_idx` in length. The error names the first violation.
    pub fn from_lower(
        n: usize,
        col_ptr: Vec<usize>,
        row_idx: Vec<usize>,
        values: Vec<f64>,
    ) -> Result<Self, PedigreeError> {
        check_lower_csc(n, &col_ptr, &row_idx, Diagonal::Optional).map_err(invalid)?;
        if values.len() != row_idx.len() {
            return Err(invalid(format!(
                "{} values for {} row indices",
                values.len(),
                row_idx.len()
            )));
        }
        Ok(SymmetricCsc {
            n,
            col_ptr,
            row_idx,
            values,
        })
    }

    /// Assembles the matrix from lower-triangle triplets `(row, col, value)`
    /// with `row ≥ col`; duplicates are summed. `O(n + t log t)` time and
    /// `O(n + t)` memory for `t` triplets.
    pub(crate) fn from_lower_triplets(n: usize, triplets: &[(usize, usize, f64)]) -> Self {
        // counting sort by column
        let mut start = vec![0usize; n + 1];
        for &(_, j, _) in triplets {
            start[j + 1] += 1;
        }
        for j in 0..n {
            start[j + 1] += start[j];
        }
        let mut next = start.clone();
        let mut bucket = vec![(0usize, 0.0f64); triplets.len()];
        for &(i, j, v) in triplets {
            debug_assert!(i >= j && i < n);
            bucket[next[j]] = (i, v);
            next[j] += 1;
        }
        // sort each column by row and sum duplicates
        let mut col_ptr = Vec::with_capacity(n + 1);
        let mut row_idx = Vec::with_capacity(triplets.len());
        let mut values = Vec::with_capacity(triplets.len());
        col_ptr.push(0);
        for j in 0..n {
            let col = &mut bucket[start[j]..start[j + 1]];
            col.sort_unstable_by_key(|e| e.0);
            for &(i, v) in col.iter() {
                if row_idx.len() > col_ptr[j] && row_idx.last() == Some(&i) {
                    *values.last_mut().expect("a value per row") += v;
                } else {
                    row_idx.push(i);
                    values.push(v);
                }
            }
            col_ptr.push(row_idx.len());
        }
        SymmetricCsc {
            n,
            col_ptr,
            row_idx,
            values,
        }
    }

    /// The order `n`.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of stored entries (lower triangle, diagonal included).
    pub fn nnz(&self) -> usize {
        self.row_idx.len()
    }

    /// Column pointers: column `j` is `col_ptr[j]..col_ptr[j + 1]`.
    pub fn col_ptr(&self) -> &[usize] {
        &self.col_ptr
    }

    /// Row indices (`≥` the column), sorted within each column.
    pub fn row_idx(&self) -> &[usize] {
        &self.row_idx
    }

    /// Values, at the positions of [`row_idx`](Self::row_idx).
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The matrix as the data of a [`FixedInverse`](crate::structures::FixedInverse)
    /// structure (`A⁻¹` of a relationship matrix, say), its arrays moved, not
    /// copied. Fails, naming the problem, if it is not positive definite.
    ///
    /// ```
    /// use covreml::pedigree::Pedigree;
    /// use covreml::structures::FixedInverse;
    /// use covreml::{Covariance, Kron, Scalar};
    /// let p = Pedigree::from_columns(&["a", "b", "c"], &["0", "0", "a"], &["0", "0", "b"]).unwrap();
    /// let data = p.a_inverse().into_inverse_data().unwrap();
    /// assert_eq!(data.n(), 3);
    /// let g = Covariance::<Kron<Scalar, FixedInverse>>::new((1, data)).unwrap(); // σ²ₐ A
    /// assert_eq!(g.n_params(), 1);
    /// ```
    pub fn into_inverse_data(
        self,
    ) -> Result<std::sync::Arc<crate::structures::InverseData>, crate::CovError> {
        crate::structures::InverseData::new(self.n, self.col_ptr, self.row_idx, self.values)
    }

    /// The entry `(i, j)` of the symmetric matrix (either triangle); 0 when
    /// not stored or out of range.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        let (r, c) = if i >= j { (i, j) } else { (j, i) };
        if r >= self.n {
            return 0.0;
        }
        let (a, b) = (self.col_ptr[c], self.col_ptr[c + 1]);
        match self.row_idx[a..b].binary_search(&r) {
            Ok(k) => self.values[a + k],
            Err(_) => 0.0,
        }
    }

    /// The full dense symmetric matrix (for small matrices and checks).
    pub fn to_dense(&self) -> DMatrix<f64> {
        let mut m = DMatrix::zeros(self.n, self.n);
        for j in 0..self.n {
            for k in self.col_ptr[j]..self.col_ptr[j + 1] {
                let i = self.row_idx[k];
                m[(i, j)] = self.values[k];
                m[(j, i)] = self.values[k];
            }
        }
        m
    }

    /// The product `M x` of the symmetric matrix with a vector.
    ///
    /// # Panics
    /// If `x.len() != n`.
    pub fn mul_vec(&self, x: &[f64]) -> Vec<f64> {
        assert_eq!(x.len(), self.n, "SymmetricCsc::mul_vec: length of x");
        let mut y = vec![0.0; self.n];
        for j in 0..self.n {
            for k in self.col_ptr[j]..self.col_ptr[j + 1] {
                let (i, v) = (self.row_idx[k], self.values[k]);
                y[i] += v * x[j];
                if i != j {
                    y[j] += v * x[i];
                }
            }
        }
        y
    }

    /// The lower triangle as a faer sparse matrix (what faer's sparse
    /// Cholesky takes with `Side::Lower`).
    pub fn to_faer_lower(&self) -> faer::sparse::SparseColMat<usize, f64> {
        let symbolic = faer::sparse::SymbolicSparseColMat::new_checked(
            self.n,
            self.n,
            self.col_ptr.clone(),
            None,
            self.row_idx.clone(),
        );
        faer::sparse::SparseColMat::new(symbolic, self.values.clone())
    }
}

fn invalid(reason: String) -> PedigreeError {
    PedigreeError::InvalidMatrix { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triplets_are_summed_and_sorted() {
        let m = SymmetricCsc::from_lower_triplets(
            3,
            &[
                (2, 0, 1.0),
                (0, 0, 1.0),
                (2, 0, 0.5),
                (1, 1, 2.0),
                (0, 0, 3.0),
            ],
        );
        assert_eq!(m.col_ptr(), [0, 2, 3, 3]);
        assert_eq!(m.row_idx(), [0, 2, 1]);
        assert_eq!(m.values(), [4.0, 1.5, 2.0]);
        assert_eq!(m.get(0, 2), 1.5);
        assert_eq!(m.get(2, 2), 0.0);
        assert_eq!(m.mul_vec(&[1.0, 1.0, 1.0]), [5.5, 2.0, 1.5]);
        assert_eq!(m.to_faer_lower().compute_nnz(), 3);
    }

    #[test]
    fn invalid_arrays_are_errors() {
        assert!(SymmetricCsc::from_lower(2, vec![0, 1], vec![0], vec![1.0]).is_err());
        assert!(SymmetricCsc::from_lower(2, vec![0, 1, 2], vec![1, 0], vec![1.0, 1.0]).is_err());
        assert!(SymmetricCsc::from_lower(1, vec![0, 1], vec![0], vec![]).is_err());
    }
}
