//! The numeric kernels of the sparse backend over a model's [`Analysis`]:
//! `C` filled at `Q` and the `G⁻¹`s, solves with its factor, leverages
//! `w_iᵀC⁻¹w_j` from the selected inverse, and products with `Q` and `R`.

use super::analysis::Analysis;
use super::pattern::{quad_form, sym_matvec};

/// Right-hand sides per solve.
const SOLVE_CHUNK: usize = 32;

impl Analysis {
    /// Fills `C` at the kept `Q = R⁻¹` and `G⁻¹`s; notes in `scale` whether
    /// `Q = s I` (then `C = s WᵀW + G⁻¹` without a pass over the rows).
    pub fn assemble(&mut self) {
        let rq = &self.q;
        let d0 = rq.values[self.pat.q_diag[0]];
        let constant =
            self.pat.q_off.is_empty() && self.pat.q_diag.iter().all(|&k| rq.values[k] == d0);
        self.scale = constant.then_some(d0);
        if constant {
            for (v, &a) in self.values.iter_mut().zip(&self.pat.wtw) {
                *v = a * d0;
            }
        } else {
            self.values.fill(0.0);
            let scatter = self.pat.scatter(&self.w);
            for (i, &k) in self.pat.q_diag.iter().enumerate() {
                let (_, vals) = self.w.row(i);
                let sc = &scatter.pos[scatter.ptr[i]..scatter.ptr[i + 1]];
                let inv = rq.values[k];
                let mut q = 0;
                for a in 0..vals.len() {
                    let va = vals[a] * inv;
                    for &vb in &vals[..=a] {
                        self.values[sc[q] as usize] += va * vb;
                        q += 1;
                    }
                }
            }
            // Q_ij, i > j: v·w_ix·w_jy at lower(x, y) for every pair, twice
            // when x = y (the pair (j, i) gives the transpose).
            for (e, &(k, i, j)) in self.pat.q_off.iter().enumerate() {
                let v = rq.values[k];
                let (ci, vi) = self.w.row(i as usize);
                let (cj, vj) = self.w.row(j as usize);
                let sc = &self.pat.cross[self.pat.cross_ptr[e]..self.pat.cross_ptr[e + 1]];
                let mut q = 0;
                for (&x, &wx) in ci.iter().zip(vi) {
                    let a = v * wx;
                    for (&y, &wy) in cj.iter().zip(vj) {
                        let f = if x == y { 2.0 } else { 1.0 };
                        self.values[sc[q] as usize] += f * a * wy;
                        q += 1;
                    }
                }
            }
        }
        for (h, pos) in self.hs.iter().zip(&self.pat.g_pos) {
            for (&v, &q) in h.values.iter().zip(pos) {
                self.values[q] += v;
            }
        }
    }

    /// Solves `C X = B` for the columns of `b` (`dim × k`, column major).
    /// Many columns (the `β` columns of `C⁻¹` for a fixed factor with
    /// thousands of levels) go `SOLVE_CHUNK` at a time: each supernode then
    /// works on a block of the right-hand sides that stays in cache, where
    /// all of them at once are a cache miss per supernode and column.
    pub fn solve(&self, b: &mut [f64], k: usize) {
        let dim = self.w.dim;
        for chunk in b[..dim * k].chunks_mut(dim * SOLVE_CHUNK) {
            let cols = chunk.len() / dim;
            self.chol
                .solve_in_place(faer::MatMut::from_column_major_slice_mut(chunk, dim, cols));
        }
    }

    /// `w_iᵀ C⁻¹ w_j` for every off-diagonal entry `(i, j)` of `Q`, from
    /// `C⁻¹` on the pattern.
    pub fn cross_leverages(&self, zc: &[f64]) -> Vec<f64> {
        self.pat
            .q_off
            .iter()
            .enumerate()
            .map(|(e, &(_, i, j))| {
                let (_, vi) = self.w.row(i as usize);
                let (_, vj) = self.w.row(j as usize);
                let sc = &self.pat.cross[self.pat.cross_ptr[e]..self.pat.cross_ptr[e + 1]];
                let mut s = 0.0;
                let mut q = 0;
                for &wx in vi {
                    for &wy in vj {
                        s += wx * wy * zc[sc[q] as usize];
                        q += 1;
                    }
                }
                s
            })
            .collect()
    }

    /// `M v` for a symmetric `M` on `Q`'s pattern (elementwise when `Q` is
    /// diagonal: one entry per column, the diagonal).
    pub fn qmul(&self, m: &[f64], v: &[f64]) -> Vec<f64> {
        if self.q_chol.is_none() {
            m.iter().zip(v).map(|(a, b)| a * b).collect()
        } else {
            sym_matvec(&self.q, m, v)
        }
    }

    /// `vᵀ M v` for a symmetric `M` on `Q`'s pattern.
    pub fn qquad(&self, m: &[f64], v: &[f64]) -> f64 {
        if self.q_chol.is_none() {
            m.iter().zip(v).map(|(a, b)| a * b * b).sum()
        } else {
            quad_form(&self.q, m, v)
        }
    }

    /// `R v` for the columns `v`: a solve with the factor of `Q`, or a
    /// division by the diagonal.
    pub fn r_mul(&self, v: &[f64]) -> Vec<f64> {
        let rq = &self.q;
        match &self.q_chol {
            None => v
                .iter()
                .zip(&self.pat.q_diag)
                .map(|(a, &k)| a / rq.values[k])
                .collect(),
            Some(c) => {
                let mut m = v.to_vec();
                c.solve_in_place(faer::MatMut::from_column_major_slice_mut(
                    &mut m,
                    v.len(),
                    1,
                ));
                m
            }
        }
    }

    /// `h_i = w_iᵀ C⁻¹ w_i` for every row, from `C⁻¹` on the pattern.
    pub fn leverages(&self, zc: &[f64]) -> Vec<f64> {
        let scatter = self.pat.scatter(&self.w);
        (0..self.w.n)
            .map(|i| {
                let (_, vals) = self.w.row(i);
                let sc = &scatter.pos[scatter.ptr[i]..scatter.ptr[i + 1]];
                let mut s = 0.0;
                let mut q = 0;
                for a in 0..vals.len() {
                    for b in 0..=a {
                        let f = if a == b { 1.0 } else { 2.0 };
                        s += f * vals[a] * vals[b] * zc[sc[q] as usize];
                        q += 1;
                    }
                }
                s
            })
            .collect()
    }
}
