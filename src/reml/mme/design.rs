//! `W = [X Z₁ … Z_m]` stored by rows (compressed sparse rows): the only
//! form of the data the sparse backend keeps. Columns within a row are in
//! increasing order: the `p` columns of `X` (all of them, zeros included,
//! so that the pattern never depends on values), then each term's columns
//! at its offset.

use super::super::error::human_bytes;
use super::super::fixed::Fixed;
use super::super::mixed::{RandomDesign, Term};
use super::super::RemlError;

/// `W` by rows.
pub(crate) struct RowDesign {
    /// Number of observations.
    pub n: usize,
    /// Number of fixed effects.
    pub p: usize,
    /// Order of the mixed-model equations, `p + Σ q_i`.
    pub dim: usize,
    /// Column offset of each term in the unknowns `[β; u₁; …; u_m]`, and
    /// `dim` last.
    pub offsets: Vec<usize>,
    pub row_ptr: Vec<usize>,
    pub col: Vec<u32>,
    pub val: Vec<f64>,
}

impl RowDesign {
    /// Builds `W` from the fixed part and the terms; the memory it needs is
    /// checked first.
    pub fn new(fx: &Fixed, terms: &[Term]) -> Result<Self, RemlError> {
        let (n, p) = (fx.n(), fx.p());
        let mut offsets = vec![p];
        let mut per_row = p;
        for t in terms {
            let q = t.z.dims().1;
            offsets.push(offsets.last().expect("nonempty") + q);
            per_row += match &t.z {
                RandomDesign::Incidence(_) => 1,
                RandomDesign::Dense(m) => {
                    // the largest number of nonzeros in a row
                    (0..m.nrows())
                        .map(|i| m.row(i).iter().filter(|v| **v != 0.0).count())
                        .max()
                        .unwrap_or(0)
                }
                RandomDesign::Sparse(s) => (0..n).map(|i| s.row(i).0.len()).max().unwrap_or(0),
            };
        }
        let dim = *offsets.last().expect("nonempty");
        if dim > u32::MAX as usize {
            return Err(RemlError::InvalidModel {
                reason: format!(
                    "{dim} unknowns in the mixed-model equations; at most {}",
                    u32::MAX
                ),
            });
        }
        let entries = n as u128 * per_row as u128;
        let bytes = entries * 12 + (n as u128 + 1) * 8;
        let mut col: Vec<u32> = Vec::new();
        let mut val: Vec<f64> = Vec::new();
        if col.try_reserve_exact(entries as usize).is_err()
            || val.try_reserve_exact(entries as usize).is_err()
        {
            return Err(RemlError::OutOfMemory {
                what: format!(
                    "the sparse design of {n} rows × {per_row} entries ({})",
                    human_bytes(bytes)
                ),
                bytes,
            });
        }
        let mut row_ptr = Vec::with_capacity(n + 1);
        row_ptr.push(0);
        for i in 0..n {
            for j in 0..p {
                col.push(j as u32);
                val.push(fx.x[(i, j)]);
            }
            for (t, &off) in terms.iter().zip(&offsets) {
                match &t.z {
                    RandomDesign::Incidence(z) => {
                        col.push((off + z.levels()[i]) as u32);
                        val.push(1.0);
                    }
                    RandomDesign::Sparse(s) => {
                        let (c, v) = s.row(i);
                        for (&c, &v) in c.iter().zip(v) {
                            col.push((off + c) as u32);
                            val.push(v);
                        }
                    }
                    RandomDesign::Dense(m) => {
                        for (c, &v) in m.row(i).iter().enumerate() {
                            if v != 0.0 {
                                col.push((off + c) as u32);
                                val.push(v);
                            }
                        }
                    }
                }
            }
            row_ptr.push(col.len());
        }
        Ok(RowDesign {
            n,
            p,
            dim,
            offsets,
            row_ptr,
            col,
            val,
        })
    }

    /// Columns and values of row `i`.
    #[inline]
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let r = self.row_ptr[i]..self.row_ptr[i + 1];
        (&self.col[r.clone()], &self.val[r])
    }

    /// `W s` for the unknowns `s` (length `dim`).
    pub fn mul(&self, s: &[f64]) -> Vec<f64> {
        (0..self.n)
            .map(|i| {
                let (c, v) = self.row(i);
                c.iter().zip(v).map(|(&c, &v)| v * s[c as usize]).sum()
            })
            .collect()
    }

    /// `Z_t x` for term `t` (x of length `q_t`).
    pub fn term_mul(&self, t: usize, x: &[f64]) -> Vec<f64> {
        let (lo, hi) = (self.offsets[t] as u32, self.offsets[t + 1] as u32);
        (0..self.n)
            .map(|i| {
                let (c, v) = self.row(i);
                c.iter()
                    .zip(v)
                    .filter(|(&c, _)| c >= lo && c < hi)
                    .map(|(&c, &v)| v * x[(c - lo) as usize])
                    .sum()
            })
            .collect()
    }

    /// `Wᵀ diag(d) F` for the columns of `f` (each of length `n`), as a
    /// `dim × k` column-major buffer.
    pub fn tmul_weighted(&self, d: &[f64], f: &[&[f64]]) -> Vec<f64> {
        let k = f.len();
        let mut out = vec![0.0; self.dim * k];
        for i in 0..self.n {
            let (c, v) = self.row(i);
            for (col, fc) in f.iter().enumerate() {
                let a = d[i] * fc[i];
                if a == 0.0 {
                    continue;
                }
                let o = &mut out[col * self.dim..(col + 1) * self.dim];
                for (&c, &v) in c.iter().zip(v) {
                    o[c as usize] += v * a;
                }
            }
        }
        out
    }

    /// Appends `m` rows for the missing cells of a completed residual: zero
    /// in `X` and `Z`, and a 1 in a new column of their own, placed after
    /// every term's unknowns (fixed effects that fit those rows exactly).
    pub fn complete(&mut self, m: usize) {
        for k in 0..m {
            for j in 0..self.p {
                self.col.push(j as u32);
                self.val.push(0.0);
            }
            self.col.push((self.dim + k) as u32);
            self.val.push(1.0);
            self.row_ptr.push(self.col.len());
        }
        self.n += m;
        self.dim += m;
    }
}
