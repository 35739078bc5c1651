//! `W = [X Z₁ … Z_m]` stored by rows (compressed sparse rows): the only
//! form of the data the sparse backend keeps. Columns within a row are in
//! increasing order: the nonzero entries of `X`, then each term's columns
//! at its offset. `X` never changes between iterations, so dropping its
//! zeros leaves the pattern independent of θ.
//!
//! A column of `X` is *dense* when it is nonzero on more than a quarter of
//! the rows (an intercept, a covariate): the pattern gives it an entry
//! against every unknown. The others (the indicators of a fixed factor's
//! levels) are *sparse*: like a random term's columns, they meet only the
//! unknowns they share a row with, so a fixed factor with thousands of
//! levels is a block of the mixed-model equations like a random term's,
//! without a penalty.

use super::super::fixed::FixedPart;
use super::super::memory::check_memory;
use super::super::terms::{RandomDesign, Term};
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
    /// Per column of `X`: dense (see the module docs).
    pub x_dense: Vec<bool>,
}

/// Nonzeros of each column of `X`.
fn column_counts(fx: &FixedPart) -> Vec<usize> {
    (0..fx.p())
        .map(|j| fx.x.col_as_slice(j).iter().filter(|v| **v != 0.0).count())
        .collect()
}

/// Entries of `Z` of a term.
fn term_entries(z: &RandomDesign) -> usize {
    match z {
        RandomDesign::Incidence(i) => i.len(),
        RandomDesign::Dense(m) => m.iter().filter(|v| **v != 0.0).count(),
        RandomDesign::Sparse(s) => (0..s.dims().0).map(|i| s.row(i).0.len()).sum(),
    }
}

impl RowDesign {
    /// Builds `W` from the fixed part and the terms; the memory it needs is
    /// checked first.
    pub fn new(fx: &FixedPart, terms: &[Term]) -> Result<Self, RemlError> {
        let (n, p) = (fx.n(), fx.p());
        let mut offsets = vec![p];
        for t in terms {
            let q = t.z.dims().1;
            offsets.push(offsets.last().expect("nonempty") + q);
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
        let counts = column_counts(fx);
        let entries = counts.iter().sum::<usize>() as u128
            + terms
                .iter()
                .map(|t| term_entries(&t.z) as u128)
                .sum::<u128>();
        check_memory(
            || format!("the sparse design of {n} rows and {entries} entries"),
            entries * 12 + (n as u128 + 1) * 8,
            "a smaller model",
        )?;
        let mut col: Vec<u32> = Vec::with_capacity(entries as usize);
        let mut val: Vec<f64> = Vec::with_capacity(entries as usize);
        let mut row_ptr = Vec::with_capacity(n + 1);
        row_ptr.push(0);
        for i in 0..n {
            for j in 0..p {
                let v = fx.x[(i, j)];
                if v != 0.0 {
                    col.push(j as u32);
                    val.push(v);
                }
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
            x_dense: counts.iter().map(|&c| 4 * c > n).collect(),
        })
    }

    /// Whether unknown `c` is a dense column of `X`.
    #[inline]
    pub fn is_dense(&self, c: usize) -> bool {
        c < self.p && self.x_dense[c]
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

    /// `−Z_t x` for term `t` and each of the `k` columns `x` of `xs` (of
    /// length `q_t`, column major), one column of length `n` each: the rows
    /// are read once for all columns.
    pub fn term_mul_neg(&self, t: usize, xs: &[f64], k: usize) -> Vec<Vec<f64>> {
        let (lo, hi) = (self.offsets[t] as u32, self.offsets[t + 1] as u32);
        let q = (hi - lo) as usize;
        let mut out = vec![vec![0.0; self.n]; k];
        for (i, r) in self.row_ptr.windows(2).enumerate() {
            let (cols, vals) = (&self.col[r[0]..r[1]], &self.val[r[0]..r[1]]);
            for (o, x) in out.iter_mut().zip(xs.chunks(q.max(1))) {
                let s: f64 = cols
                    .iter()
                    .zip(vals)
                    .filter(|(&c, _)| c >= lo && c < hi)
                    .map(|(&c, &v)| v * x[(c - lo) as usize])
                    .sum();
                o[i] = -s;
            }
        }
        out
    }

    /// `Wᵀ F` for the columns of `f` (each of length `n`), as a `dim × k`
    /// column-major buffer: column by column, each accumulated over the
    /// rows in order.
    pub fn tmul(&self, f: &[&[f64]]) -> Vec<f64> {
        let mut out = vec![0.0; self.dim * f.len()];
        for (fc, o) in f.iter().zip(out.chunks_exact_mut(self.dim)) {
            for (&a, r) in fc.iter().zip(self.row_ptr.windows(2)) {
                if a == 0.0 {
                    continue;
                }
                for (&c, &v) in self.col[r[0]..r[1]].iter().zip(&self.val[r[0]..r[1]]) {
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
            self.col.push((self.dim + k) as u32);
            self.val.push(1.0);
            self.row_ptr.push(self.col.len());
        }
        self.n += m;
        self.dim += m;
    }
}
