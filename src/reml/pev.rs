//! Prediction-error variances of a term's BLUPs, `PEV = Var(u − û)`, the
//! `u`-block of `C⁻¹` in the mixed-model equations, kept sparse.
//!
//! The full `q × q` matrix is dense and does not fit in memory for large
//! terms (80 GB for a pedigree of 100,000 animals). A [`Pev`] holds what the
//! post-estimation computes cheaply: on the sparse backend, the entries of
//! the selected inverse on the diagonal and on the pattern of the term's
//! `G⁻¹` (the blocks of a level's correlated coefficients, a pedigree's
//! parent–offspring pairs), and the sum of all `q²` entries from one more
//! solve; the dense backend has every entry. The whole matrix is an explicit
//! request, [`MixedModel::pev_matrix`](crate::reml::MixedModel::pev_matrix),
//! whose size is checked first.

use nalgebra::DMatrix;

/// The prediction-error variances of one term's BLUPs: the diagonal, the
/// entries on the pattern of the term's `G⁻¹` (all entries from the dense
/// backend), and the sum of every entry of the `q × q` matrix.
///
/// ```
/// use covreml::datasets::{john_alpha, john_alpha_model};
/// use covreml::reml::RemlOptions;
/// let m = john_alpha_model(&john_alpha()).unwrap();
/// let fit = m.fit(&RemlOptions::default()).unwrap();
/// let post = m.post(&fit).unwrap();
/// let pev = &post.blup("gen").unwrap().pev;
/// assert_eq!(pev.len(), 24);
/// let full = m.pev_matrix(&fit, "gen").unwrap(); // 24 × 24, size-checked
/// assert!((pev.diagonal()[3] - full[(3, 3)]).abs() < 1e-12);
/// assert!((pev.sum() - full.sum()).abs() < 1e-10);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Pev {
    n: usize,
    /// Lower triangle, compressed columns, the diagonal first in each.
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::floats"))]
    values: Vec<f64>,
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    sum: f64,
}

impl Pev {
    /// From the lower triangle in compressed columns (the diagonal first in
    /// each column) and the sum of all entries.
    pub(crate) fn new(
        n: usize,
        col_ptr: Vec<usize>,
        row_idx: Vec<usize>,
        values: Vec<f64>,
        sum: f64,
    ) -> Self {
        debug_assert_eq!(col_ptr.len(), n + 1);
        debug_assert!((0..n).all(|j| col_ptr[j] < col_ptr[j + 1] && row_idx[col_ptr[j]] == j));
        Pev {
            n,
            col_ptr,
            row_idx,
            values,
            sum,
        }
    }

    /// Every entry of a dense (symmetric) matrix.
    pub(crate) fn from_dense(m: &DMatrix<f64>) -> Self {
        let n = m.nrows();
        let mut col_ptr = Vec::with_capacity(n + 1);
        let mut row_idx = Vec::with_capacity(n * (n + 1) / 2);
        let mut values = Vec::with_capacity(n * (n + 1) / 2);
        col_ptr.push(0);
        for j in 0..n {
            for i in j..n {
                row_idx.push(i);
                values.push(m[(i, j)]);
            }
            col_ptr.push(row_idx.len());
        }
        Pev::new(n, col_ptr, row_idx, values, m.sum())
    }

    /// `q`, the number of effects.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the term has no effects.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// `PEV_ii`, the prediction-error variance of effect `i`.
    pub fn variance(&self, i: usize) -> f64 {
        self.values[self.col_ptr[i]]
    }

    /// The diagonal, `PEV_ii` for every effect.
    pub fn diagonal(&self) -> Vec<f64> {
        (0..self.n).map(|i| self.variance(i)).collect()
    }

    /// `PEV_ij` (either triangle) if it was computed: always on the
    /// diagonal and on the pattern of `G⁻¹`.
    pub fn get(&self, i: usize, j: usize) -> Option<f64> {
        let (r, c) = (i.max(j), i.min(j));
        if r >= self.n {
            return None;
        }
        let range = self.col_ptr[c]..self.col_ptr[c + 1];
        let k = self.row_idx[range.clone()].binary_search(&r).ok()?;
        Some(self.values[range.start + k])
    }

    /// The computed entries of the lower triangle, `(i, j, PEV_ij)` with
    /// `i ≥ j`, column by column.
    pub fn entries(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        (0..self.n).flat_map(move |j| {
            (self.col_ptr[j]..self.col_ptr[j + 1])
                .map(move |k| (self.row_idx[k], j, self.values[k]))
        })
    }

    /// Number of computed entries of the lower triangle.
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Whether every entry was computed (the dense backend).
    pub fn is_complete(&self) -> bool {
        self.values.len() == self.n * (self.n + 1) / 2
    }

    /// The sum of all `q²` entries of the PEV matrix, `1ᵀ PEV 1`.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// The trace, `Σ PEV_ii`.
    pub fn trace(&self) -> f64 {
        (0..self.n).map(|i| self.variance(i)).sum()
    }

    /// The mean over all pairs `a < b` of the variance of a difference of
    /// BLUPs, `PEV_aa + PEV_bb − 2 PEV_ab`: `(q·tr − sum) / (q(q − 1)/2)`
    /// (`NaN` with fewer than 2 effects).
    pub fn mean_variance_of_difference(&self) -> f64 {
        let q = self.n as f64;
        if self.n < 2 {
            return f64::NAN;
        }
        (q * self.trace() - self.sum) / (q * (q - 1.0) / 2.0)
    }

    /// The computed entries in a dense symmetric matrix (the others 0).
    pub(crate) fn fill_dense(&self) -> DMatrix<f64> {
        let mut m = DMatrix::zeros(self.n, self.n);
        for (i, j, v) in self.entries() {
            m[(i, j)] = v;
            m[(j, i)] = v;
        }
        m
    }
}
