//! Sparse Cholesky factorization and selected inverse (temporary dense
//! stand-in with the final API; replaced by the sparse implementation).

use faer::linalg::cholesky::llt::factor;
use faer::{Mat, MatMut};
use thiserror::Error;

/// Fill-reducing ordering.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Ordering {
    #[default]
    Amd,
    #[allow(dead_code)]
    Identity,
}

/// Factor layout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Layout {
    #[default]
    Auto,
    #[allow(dead_code)]
    Simplicial,
    #[allow(dead_code)]
    Supernodal,
}

/// Options fixed at analysis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SparseOptions {
    pub ordering: Ordering,
    pub layout: Layout,
}

/// Errors of the sparse layer.
#[derive(Clone, Debug, PartialEq, Error)]
pub(crate) enum SparseError {
    #[error("not positive definite (pivot at column {column})")]
    NotPositiveDefinite { column: usize },
    #[error("invalid pattern: {reason}")]
    InvalidPattern { reason: String },
    #[error("entry ({row}, {col}) is outside the pattern of the factor")]
    OutOfPattern { row: usize, col: usize },
}

/// Positions in the selected-inverse storage.
pub(crate) struct EntryMap(Vec<usize>);

/// Dense stand-in.
pub(crate) struct SparseCholesky {
    n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    l: Mat<f64>,
    z: Mat<f64>,
}

impl SparseCholesky {
    pub fn analyse(
        n: usize,
        col_ptr: &[usize],
        row_idx: &[usize],
        _opts: &SparseOptions,
    ) -> Result<Self, SparseError> {
        if col_ptr.len() != n + 1 {
            return Err(SparseError::InvalidPattern {
                reason: "col_ptr length".into(),
            });
        }
        Ok(SparseCholesky {
            n,
            col_ptr: col_ptr.to_vec(),
            row_idx: row_idx.to_vec(),
            l: Mat::zeros(n, n),
            z: Mat::zeros(n, n),
        })
    }

    pub fn factor(&mut self, values: &[f64]) -> Result<(), SparseError> {
        let n = self.n;
        self.l = Mat::zeros(n, n);
        for j in 0..n {
            for p in self.col_ptr[j]..self.col_ptr[j + 1] {
                self.l[(self.row_idx[p], j)] = values[p];
            }
        }
        let mut mem = faer::dyn_stack::MemBuffer::new(factor::cholesky_in_place_scratch::<f64>(
            n,
            faer::Par::Seq,
            Default::default(),
        ));
        factor::cholesky_in_place(
            self.l.as_mut(),
            Default::default(),
            faer::Par::Seq,
            faer::dyn_stack::MemStack::new(&mut mem),
            Default::default(),
        )
        .map_err(|_| SparseError::NotPositiveDefinite { column: 0 })?;
        for j in 0..n {
            for i in 0..j {
                self.l[(i, j)] = 0.0;
            }
        }
        Ok(())
    }

    pub fn log_det(&self) -> f64 {
        (0..self.n).map(|i| self.l[(i, i)].ln()).sum::<f64>() * 2.0
    }

    pub fn solve_in_place(&self, mut rhs: MatMut<'_, f64>) {
        use faer::linalg::triangular_solve as ts;
        ts::solve_lower_triangular_in_place(self.l.as_ref(), rhs.as_mut(), faer::Par::Seq);
        ts::solve_upper_triangular_in_place(
            self.l.as_ref().transpose(),
            rhs.as_mut(),
            faer::Par::Seq,
        );
    }

    pub fn selected_inverse(&mut self) {
        let mut z = Mat::<f64>::identity(self.n, self.n);
        self.solve_in_place(z.as_mut());
        self.z = z;
    }

    pub fn entry_map(&self, entries: &[(usize, usize)]) -> Result<EntryMap, SparseError> {
        Ok(EntryMap(
            entries.iter().map(|&(i, j)| i + j * self.n).collect(),
        ))
    }

    pub fn gather(&self, map: &EntryMap, out: &mut [f64]) {
        for (o, &p) in out.iter_mut().zip(&map.0) {
            *o = self.z[(p % self.n, p / self.n)];
        }
    }

    pub fn nnz_l(&self) -> usize {
        self.n * (self.n + 1) / 2
    }

    pub fn is_supernodal(&self) -> bool {
        false
    }
}
