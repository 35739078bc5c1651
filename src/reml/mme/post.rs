//! Post-estimation on the sparse backend: BLUE and its covariance, BLUPs
//! `û` from the one solve of the mixed-model equations, and their
//! prediction-error variances, the `u`-blocks of `C⁻¹`, read from the
//! selected inverse on the diagonal and on each `G⁻¹`'s pattern (with the
//! sum of each block from one more solve). The full block of a term is a
//! separate, size-checked request ([`Mme::pev_matrix`]).

use super::super::dense::evaluate_or_error;
use super::super::memory::check_memory;
use super::super::pev::Pev;
use super::super::post::MixedPost;
use super::super::RemlError;
use super::analysis::Analysis;
use super::Mme;
use crate::SparseInverse;
use nalgebra::DMatrix;

/// Columns of `C⁻¹` computed per solve.
const CHUNK: usize = 256;

impl Analysis {
    /// `1ᵀ C^{uu}_t 1` for every term `t`: one solve with the indicators of
    /// the terms' blocks.
    fn block_sums(&self) -> Vec<f64> {
        let (dim, m) = (self.w.dim, self.w.offsets.len() - 1);
        let mut b = vec![0.0; dim * m];
        for t in 0..m {
            b[t * dim + self.w.offsets[t]..t * dim + self.w.offsets[t + 1]].fill(1.0);
        }
        self.solve(&mut b, m);
        (0..m)
            .map(|t| {
                b[t * dim + self.w.offsets[t]..t * dim + self.w.offsets[t + 1]]
                    .iter()
                    .sum()
            })
            .collect()
    }

    /// The PEV of term `t` from the selected inverse `zc` (on `C`'s
    /// pattern): the diagonal and the entries on the pattern of `h`.
    pub(super) fn term_pev(&self, t: usize, h: &SparseInverse<f64>, zc: &[f64], sum: f64) -> Pev {
        let lo = self.w.offsets[t];
        let pos = &self.pat.g_pos[t];
        let mut col_ptr = Vec::with_capacity(h.n + 1);
        let mut row_idx = Vec::with_capacity(h.nnz());
        let mut values = Vec::with_capacity(h.nnz());
        col_ptr.push(0);
        for j in 0..h.n {
            // The diagonal comes first in every column of C.
            row_idx.push(j);
            values.push(zc[self.pat.col_ptr[lo + j]]);
            for k in h.col_ptr[j]..h.col_ptr[j + 1] {
                if h.row_idx[k] > j {
                    row_idx.push(h.row_idx[k]);
                    values.push(zc[pos[k]]);
                }
            }
            col_ptr.push(row_idx.len());
        }
        Pev::new(h.n, col_ptr, row_idx, values, sum)
    }
}

impl Mme<'_> {
    /// Post-estimation at the free parameters `free`.
    pub fn post(mut self, free: &[f64]) -> Result<MixedPost, RemlError> {
        // A nearly singular G: in Λ form (see `lambda.rs`).
        if let Some(p) = self.lambda_post(free)? {
            return Ok(p);
        }
        let pt = evaluate_or_error(&mut self, free)?;
        let st = self.st.take().expect("just evaluated");
        let an = self.an_mut();
        let sums = an.block_sums();
        an.chol.selected_inverse_in_place();
        let mut zc = std::mem::take(&mut an.zc);
        an.chol.gather(&an.zmap, &mut zc);
        let blups = (0..an.w.offsets.len() - 1)
            .map(|t| {
                let u = st.sol[an.w.offsets[t]..an.w.offsets[t + 1]].to_vec();
                (u, an.term_pev(t, &an.hs[t], &zc, sums[t]))
            })
            .collect();
        an.zc = zc;
        Ok(MixedPost::assemble(self.model, &pt, blups))
    }

    /// The BLUPs of every term at `free` (one evaluation, no PEV).
    pub fn blups(mut self, free: &[f64]) -> Result<Vec<Vec<f64>>, RemlError> {
        if let Some(u) = self.lambda_blups(free)? {
            return Ok(u);
        }
        evaluate_or_error(&mut self, free)?;
        let st = self.st.as_ref().expect("just evaluated");
        let o = &self.an().w.offsets;
        Ok((0..o.len() - 1)
            .map(|t| st.sol[o[t]..o[t + 1]].to_vec())
            .collect())
    }

    /// The full `q × q` PEV matrix of term `t` at `free` (its memory checked
    /// first): unit solves, `CHUNK` columns at a time.
    pub fn pev_matrix(mut self, free: &[f64], t: usize) -> Result<DMatrix<f64>, RemlError> {
        let an = self.an();
        let (lo, hi, dim) = (an.w.offsets[t], an.w.offsets[t + 1], an.w.dim);
        let q = hi - lo;
        let name = &self.model.terms.list[t].name;
        check_memory(
            || format!("the full {q} × {q} PEV matrix of `{name}`"),
            (q as u128 * q as u128 + (dim * CHUNK.min(q)) as u128) * 8,
            "use Blup::pev from MixedModel::post (the diagonal and the entries on G⁻¹'s \
             pattern, from the selected inverse)",
        )?;
        evaluate_or_error(&mut self, free)?;
        let an = self.an();
        let mut pev = DMatrix::zeros(q, q);
        let mut start = 0;
        while start < q {
            let k = CHUNK.min(q - start);
            let mut b = vec![0.0; dim * k];
            for c in 0..k {
                b[c * dim + lo + start + c] = 1.0;
            }
            an.solve(&mut b, k);
            for c in 0..k {
                for i in 0..q {
                    pev[(i, start + c)] = b[c * dim + lo + i];
                }
            }
            start += k;
        }
        Ok(DMatrix::from_fn(q, q, |i, j| {
            0.5 * (pev[(i, j)] + pev[(j, i)])
        }))
    }
}
