//! Sparse inverses of structures: `G⁻¹`, `∂G⁻¹/∂θ_k`, `log|G|` and
//! `∂log|G|/∂θ_k`, which the sparse mixed-model-equations backend of the
//! REML engine needs instead of `G` itself (see
//! [`Structure::sparse_inverse`](crate::Structure::sparse_inverse)).
//!
//! The inverse of a diagonal structure is its reciprocal diagonal, the
//! inverse of an AR(1) matrix is tridiagonal, `(A ⊗ B)⁻¹ = A⁻¹ ⊗ B⁻¹`, the
//! inverse of a block-diagonal matrix is block diagonal, and a small dense
//! structure has a dense inverse. The pattern of a [`SparseInverse`] depends
//! on the structure's shape only, never on the parameters (explicit zeros are
//! kept), so the engine analyses it once.

use crate::Real;
use nalgebra::DMatrix;

/// `G⁻¹` of a structure on a fixed lower-triangular pattern, with its
/// derivatives and the log-determinant of `G`.
///
/// ```
/// use covreml::{Covariance, AR1};
/// let ar1 = Covariance::<AR1>::new(3).unwrap();
/// let inv = ar1.sparse_inverse(&[0.0, 0.0]).unwrap().unwrap(); // σ² = 1, ρ = 0
/// assert_eq!(inv.col_ptr, [0, 2, 4, 5]); // tridiagonal: (0,0) (1,0) (1,1) (2,1) (2,2)
/// assert_eq!(inv.values, [1.0, 0.0, 1.0, 0.0, 1.0]);
/// assert_eq!(inv.logdet, 0.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SparseInverse<T> {
    /// Order of `G`.
    pub n: usize,
    /// Column pointers of the lower triangle (diagonal included), length `n + 1`.
    pub col_ptr: Vec<usize>,
    /// Row indices, sorted within each column, all `≥` the column.
    pub row_idx: Vec<usize>,
    /// Entries of `G⁻¹` on the pattern.
    pub values: Vec<T>,
    /// `∂G⁻¹/∂θ_k` on the same pattern, one vector per parameter.
    pub jacobian: Vec<Vec<T>>,
    /// `log|G|`.
    pub logdet: T,
    /// `∂log|G|/∂θ_k = tr(G⁻¹ ∂G/∂θ_k)`.
    pub logdet_jacobian: Vec<T>,
}

impl<T: Real> SparseInverse<T> {
    /// The inverse of a diagonal matrix with diagonal `d` and derivatives
    /// `dd[k]`: `1/d`, `−dd_k/d²`, `Σ log d`, `Σ dd_k/d`.
    pub fn from_diagonal(d: &[T], dd: &[Vec<T>]) -> Self {
        let n = d.len();
        SparseInverse {
            n,
            col_ptr: (0..=n).collect(),
            row_idx: (0..n).collect(),
            values: d.iter().map(|&v| T::one() / v).collect(),
            jacobian: dd
                .iter()
                .map(|g| g.iter().zip(d).map(|(&a, &v)| -a / (v * v)).collect())
                .collect(),
            logdet: d.iter().fold(T::zero(), |s, &v| s + v.ln()),
            logdet_jacobian: dd
                .iter()
                .map(|g| g.iter().zip(d).fold(T::zero(), |s, (&a, &v)| s + a / v))
                .collect(),
        }
    }

    /// The dense inverse of a small matrix `v` with derivatives `dv[k]`:
    /// `V⁻¹`, `−V⁻¹ V̇_k V⁻¹`, `log|V|` and `tr(V⁻¹ V̇_k)`, on the full lower
    /// triangle. `None` if `v` is not positive definite.
    pub fn from_dense(v: &DMatrix<T>, dv: &[DMatrix<T>]) -> Option<Self> {
        let n = v.nrows();
        let chol = v.clone().cholesky()?;
        let logdet = chol
            .l_dirty()
            .diagonal()
            .iter()
            .fold(T::zero(), |s, &l| s + l.ln())
            * T::c(2.0);
        let inv = chol.inverse();
        let mut col_ptr = Vec::with_capacity(n + 1);
        let mut row_idx = Vec::with_capacity(n * (n + 1) / 2);
        col_ptr.push(0);
        for j in 0..n {
            row_idx.extend(j..n);
            col_ptr.push(row_idx.len());
        }
        let lower = |m: &DMatrix<T>| -> Vec<T> {
            (0..n)
                .flat_map(|j| (j..n).map(move |i| (i, j)))
                .map(|(i, j)| m[(i, j)])
                .collect()
        };
        let mut jacobian = Vec::with_capacity(dv.len());
        let mut logdet_jacobian = Vec::with_capacity(dv.len());
        for d in dv {
            let m = &inv * d;
            logdet_jacobian.push(m.trace());
            jacobian.push(lower(&(-(&m * &inv))));
        }
        Some(SparseInverse {
            n,
            col_ptr,
            row_idx,
            values: lower(&inv),
            jacobian,
            logdet,
            logdet_jacobian,
        })
    }

    /// Whether `other` has the same order and pattern.
    pub fn same_pattern(&self, other: &Self) -> bool {
        self.n == other.n && self.col_ptr == other.col_ptr && self.row_idx == other.row_idx
    }

    /// Moves the numbers of `other` (values, derivatives, `log|G|` and its
    /// derivatives) into `self`, whose pattern stays: the write of a fresh
    /// inverse into a pattern fixed beforehand. `false` (nothing written)
    /// unless `other` has the same pattern, the same number of parameters
    /// and one value per entry.
    pub fn take_numbers(&mut self, other: Self) -> bool {
        let nnz = self.nnz();
        let ok = self.same_pattern(&other)
            && other.values.len() == nnz
            && other.jacobian.len() == self.jacobian.len()
            && other.logdet_jacobian.len() == self.jacobian.len()
            && other.jacobian.iter().all(|d| d.len() == nnz);
        if ok {
            self.values = other.values;
            self.jacobian = other.jacobian;
            self.logdet = other.logdet;
            self.logdet_jacobian = other.logdet_jacobian;
        }
        ok
    }

    /// Writes the inverse of the diagonal `d` with derivatives `dd[k]` (as
    /// [`from_diagonal`](Self::from_diagonal) gives it) into `self`, which
    /// must be diagonal of order `d.len()` with `dd.len()` parameters;
    /// `false` (nothing written) otherwise. Allocates nothing.
    pub fn write_diagonal(&mut self, d: &[T], dd: &[Vec<T>]) -> bool {
        let n = d.len();
        if !self.fits_diagonal(n, dd.len()) || dd.iter().any(|g| g.len() != n) {
            return false;
        }
        for (o, &v) in self.values.iter_mut().zip(d) {
            *o = T::one() / v;
        }
        for ((o, g), l) in self
            .jacobian
            .iter_mut()
            .zip(dd)
            .zip(self.logdet_jacobian.iter_mut())
        {
            *l = T::zero();
            for ((o, &a), &v) in o.iter_mut().zip(g).zip(d) {
                *o = -a / (v * v);
                *l += a / v;
            }
        }
        self.logdet = d.iter().fold(T::zero(), |s, &v| s + v.ln());
        true
    }

    /// Whether `self` is diagonal of order `n` with `k` parameters (and
    /// numbers of those sizes): the pattern a diagonal structure's inverse
    /// is written into.
    pub fn fits_diagonal(&self, n: usize, k: usize) -> bool {
        self.n == n
            && self.nnz() == n
            && self.col_ptr.len() == n + 1
            && self.row_idx.iter().enumerate().all(|(i, &r)| r == i)
            && self.col_ptr.iter().enumerate().all(|(i, &c)| c == i)
            && self.values.len() == n
            && self.jacobian.len() == k
            && self.logdet_jacobian.len() == k
            && self.jacobian.iter().all(|g| g.len() == n)
    }

    /// Writes `A⁻¹ ⊗ B⁻¹` (as [`kron`](Self::kron) gives it) into `self`,
    /// whose pattern must be that of the product; `false` (values partly
    /// written, to be discarded) otherwise. Allocates nothing: every entry
    /// `(r, c)` reads `A⁻¹` at `(r / n_B, c / n_B)` and `B⁻¹` at
    /// `(r mod n_B, c mod n_B)` on their patterns.
    pub fn write_kron(&mut self, a: &Self, b: &Self) -> bool {
        let (na, nb) = (a.n, b.n);
        let (ka, kb) = (a.n_params(), b.n_params());
        let n = na * nb;
        let nnz = self.nnz();
        let diag = |s: &Self| (0..s.n).filter(|&j| s.find(j, j).is_some()).count();
        let full = |s: &Self| 2 * s.nnz() - diag(s);
        let (da, db) = (diag(a), diag(b));
        let expected = (full(a) * full(b) - da * db) / 2 + da * db;
        if self.n != n
            || self.col_ptr.len() != n + 1
            || nnz != expected
            || self.values.len() != nnz
            || self.jacobian.len() != ka + kb
            || self.logdet_jacobian.len() != ka + kb
            || self.jacobian.iter().any(|g| g.len() != nnz)
        {
            return false;
        }
        for c in 0..n {
            let (ja, jb) = (c / nb, c % nb);
            let mut prev = None;
            for e in self.col_ptr[c]..self.col_ptr[c + 1] {
                let r = self.row_idx[e];
                if r < c || prev.is_some_and(|p| p >= r) {
                    return false;
                }
                prev = Some(r);
                let (ia, ib) = (r / nb, r % nb);
                let (Some(pa), Some(pb)) = (a.find(ia, ja), b.find(ib, jb)) else {
                    return false;
                };
                let (va, vb) = (a.values[pa], b.values[pb]);
                self.values[e] = va * vb;
                for k in 0..ka {
                    self.jacobian[k][e] = a.jacobian[k][pa] * vb;
                }
                for k in 0..kb {
                    self.jacobian[ka + k][e] = va * b.jacobian[k][pb];
                }
            }
        }
        let (cna, cnb) = (T::c(na as f64), T::c(nb as f64));
        for (o, &d) in self.logdet_jacobian.iter_mut().zip(&a.logdet_jacobian) {
            *o = d * cnb;
        }
        for (o, &d) in self.logdet_jacobian[ka..]
            .iter_mut()
            .zip(&b.logdet_jacobian)
        {
            *o = d * cna;
        }
        self.logdet = a.logdet * cnb + b.logdet * cna;
        true
    }

    /// The position of the entry `(i, j)` of the symmetric matrix (looked
    /// up in the lower triangle), if stored.
    fn find(&self, i: usize, j: usize) -> Option<usize> {
        let (r, c) = (i.max(j), i.min(j));
        let lo = self.col_ptr[c];
        self.row_idx[lo..self.col_ptr[c + 1]]
            .binary_search(&r)
            .ok()
            .map(|k| lo + k)
    }

    /// Number of stored entries (lower triangle).
    pub fn nnz(&self) -> usize {
        self.row_idx.len()
    }

    /// Number of parameters.
    pub fn n_params(&self) -> usize {
        self.jacobian.len()
    }

    /// The pattern as `(row, column)` pairs, lower triangle, column by column.
    pub fn entries(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.n).flat_map(move |j| {
            self.row_idx[self.col_ptr[j]..self.col_ptr[j + 1]]
                .iter()
                .map(move |&i| (i, j))
        })
    }

    /// `G⁻¹` as a dense matrix (both triangles), for checks.
    pub fn to_dense(&self) -> DMatrix<T> {
        dense_of(self.n, &self.col_ptr, &self.row_idx, &self.values)
    }

    /// `∂G⁻¹/∂θ_k` as a dense matrix, for checks.
    pub fn jacobian_dense(&self, k: usize) -> DMatrix<T> {
        dense_of(self.n, &self.col_ptr, &self.row_idx, &self.jacobian[k])
    }

    /// `(A ⊗ B)⁻¹ = A⁻¹ ⊗ B⁻¹` with `a` of order `na` and `b` of order `nb`:
    /// derivatives `Ȧ⁻¹ ⊗ B⁻¹` then `A⁻¹ ⊗ Ḃ⁻¹`,
    /// `log|A ⊗ B| = nb log|A| + na log|B|`.
    pub fn kron(a: &Self, b: &Self) -> Self {
        let full = |s: &Self| -> Vec<(usize, usize, usize)> {
            // (row, col, position) over both triangles.
            let mut out = Vec::with_capacity(2 * s.nnz());
            for (p, (i, j)) in s.entries().enumerate() {
                out.push((i, j, p));
                if i != j {
                    out.push((j, i, p));
                }
            }
            out
        };
        let (fa, fb) = (full(a), full(b));
        let nb = b.n;
        // (row, col, pos_a, pos_b) of the lower triangle of the product.
        let mut ent: Vec<(usize, usize, usize, usize)> = Vec::new();
        for &(ia, ja, pa) in &fa {
            for &(ib, jb, pb) in &fb {
                let (r, c) = (ia * nb + ib, ja * nb + jb);
                if r >= c {
                    ent.push((c, r, pa, pb));
                }
            }
        }
        ent.sort_unstable();
        let n = a.n * b.n;
        let mut col_ptr = vec![0; n + 1];
        for e in &ent {
            col_ptr[e.0 + 1] += 1;
        }
        for j in 0..n {
            col_ptr[j + 1] += col_ptr[j];
        }
        let row_idx = ent.iter().map(|e| e.1).collect();
        let prod = |x: &[T], y: &[T]| -> Vec<T> { ent.iter().map(|e| x[e.2] * y[e.3]).collect() };
        let mut jacobian: Vec<Vec<T>> = a.jacobian.iter().map(|d| prod(d, &b.values)).collect();
        jacobian.extend(b.jacobian.iter().map(|d| prod(&a.values, d)));
        let (cna, cnb) = (T::c(a.n as f64), T::c(b.n as f64));
        let mut logdet_jacobian: Vec<T> = a.logdet_jacobian.iter().map(|&d| d * cnb).collect();
        logdet_jacobian.extend(b.logdet_jacobian.iter().map(|&d| d * cna));
        SparseInverse {
            n,
            col_ptr,
            row_idx,
            values: prod(&a.values, &b.values),
            jacobian,
            logdet: a.logdet * cnb + b.logdet * cna,
            logdet_jacobian,
        }
    }

    /// The block-diagonal inverse of block-diagonal operands, parameters in
    /// operand order.
    pub fn block_diag(blocks: &[Self]) -> Self {
        let n: usize = blocks.iter().map(|b| b.n).sum();
        let k: usize = blocks.iter().map(|b| b.n_params()).sum();
        let mut out = SparseInverse {
            n,
            col_ptr: vec![0],
            row_idx: Vec::new(),
            values: Vec::new(),
            jacobian: vec![Vec::new(); k],
            logdet: T::zero(),
            logdet_jacobian: Vec::with_capacity(k),
        };
        let (mut off, mut par) = (0, 0);
        for b in blocks {
            for j in 0..b.n {
                let r = b.col_ptr[j]..b.col_ptr[j + 1];
                out.row_idx
                    .extend(b.row_idx[r.clone()].iter().map(|&i| i + off));
                out.values.extend_from_slice(&b.values[r]);
                out.col_ptr.push(out.row_idx.len());
            }
            for (q, jac) in out.jacobian.iter_mut().enumerate() {
                if q >= par && q < par + b.n_params() {
                    jac.extend_from_slice(&b.jacobian[q - par]);
                } else {
                    jac.extend(std::iter::repeat_n(T::zero(), b.nnz()));
                }
            }
            out.logdet += b.logdet;
            out.logdet_jacobian.extend_from_slice(&b.logdet_jacobian);
            off += b.n;
            par += b.n_params();
        }
        out
    }
}

impl<T: Real> SparseInverse<T> {
    /// The block-diagonal inverse of blocks that share their parameters
    /// (each block has all of them): derivatives of the blocks side by side
    /// for every parameter, `log|V| = Σ log|V_b|`, `∂log|V| = Σ ∂log|V_b|`.
    pub(crate) fn shared_block_diag(blocks: &[Self], n_params: usize) -> Self {
        let mut out = SparseInverse {
            n: 0,
            col_ptr: vec![0],
            row_idx: Vec::new(),
            values: Vec::new(),
            jacobian: vec![Vec::new(); n_params],
            logdet: T::zero(),
            logdet_jacobian: vec![T::zero(); n_params],
        };
        for b in blocks {
            for j in 0..b.n {
                let r = b.col_ptr[j]..b.col_ptr[j + 1];
                out.row_idx
                    .extend(b.row_idx[r.clone()].iter().map(|&i| i + out.n));
                out.col_ptr.push(out.row_idx.len());
            }
            out.values.extend_from_slice(&b.values);
            for (o, d) in out.jacobian.iter_mut().zip(&b.jacobian) {
                o.extend_from_slice(d);
            }
            out.logdet += b.logdet;
            for (o, &d) in out.logdet_jacobian.iter_mut().zip(&b.logdet_jacobian) {
                *o += d;
            }
            out.n += b.n;
        }
        out
    }

    /// The same matrix with index `k` renamed `to[k]` (a permutation of
    /// `0..n`): `V'[to[a], to[b]] = V[a, b]`, lower triangle, rows sorted
    /// within each column.
    pub(crate) fn relabel(&self, to: &[usize]) -> Self {
        let mut ent: Vec<(usize, usize, usize)> = self
            .entries()
            .enumerate()
            .map(|(q, (i, j))| {
                let (a, b) = (to[i], to[j]);
                (a.min(b), a.max(b), q)
            })
            .collect();
        ent.sort_unstable();
        let mut col_ptr = vec![0; self.n + 1];
        for e in &ent {
            col_ptr[e.0 + 1] += 1;
        }
        for j in 0..self.n {
            col_ptr[j + 1] += col_ptr[j];
        }
        let pick = |v: &[T]| -> Vec<T> { ent.iter().map(|e| v[e.2]).collect() };
        SparseInverse {
            n: self.n,
            col_ptr,
            row_idx: ent.iter().map(|e| e.1).collect(),
            values: pick(&self.values),
            jacobian: self.jacobian.iter().map(|d| pick(d)).collect(),
            logdet: self.logdet,
            logdet_jacobian: self.logdet_jacobian.clone(),
        }
    }
}

fn dense_of<T: Real>(n: usize, col_ptr: &[usize], row_idx: &[usize], v: &[T]) -> DMatrix<T> {
    let mut m = DMatrix::zeros(n, n);
    for j in 0..n {
        for p in col_ptr[j]..col_ptr[j + 1] {
            let i = row_idx[p];
            m[(i, j)] = v[p];
            m[(j, i)] = v[p];
        }
    }
    m
}
