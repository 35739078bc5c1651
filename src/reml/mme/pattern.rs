//! The fixed nonzero pattern of the mixed-model equations
//! `C = WᵀQW + blockdiag(0, G₁⁻¹, …, G_m⁻¹)` with `Q = R⁻¹` (lower
//! triangle, compressed columns), and the maps that fill it: for every row
//! of `W`, the positions of its products `w_a w_b` (`a ≥ b`, the diagonal
//! entries `Q_ii`); for every off-diagonal entry `Q_ij` (`i > j`), the
//! positions of the products `w_ix w_jy` over all pairs; and for every term,
//! the positions of the entries of `G⁻¹`. Built once per model; explicit
//! zeros are kept, so the pattern never changes between iterations.

use super::design::RowDesign;
use crate::SparseInverse;

/// The pattern of `C` and how to fill it.
pub(crate) struct Pattern {
    pub col_ptr: Vec<usize>,
    pub row_idx: Vec<usize>,
    /// Start of each row's products in `scatter`.
    pub scatter_ptr: Vec<usize>,
    /// For row `i` with entries `e_0 < e_1 < …`: the positions of
    /// `(e_a, e_b)`, `a` ascending, `b = 0..=a`.
    pub scatter: Vec<u32>,
    /// Per term: the position in `C` of every entry of its `G⁻¹` pattern.
    pub g_pos: Vec<Vec<usize>>,
    /// `WᵀW` on the pattern (the products with unit weights).
    pub wtw: Vec<f64>,
    /// Position in `Q`'s values of its diagonal entry `Q_ii`, per row.
    pub q_diag: Vec<usize>,
    /// The off-diagonal entries of `Q`: `(position in Q's values, i, j)`, `i > j`.
    pub q_off: Vec<(usize, u32, u32)>,
    /// Start of each off-diagonal entry's products in `cross`.
    pub cross_ptr: Vec<usize>,
    /// For entry `(i, j)` of `q_off`: the position of `lower(x, y)` for
    /// every `x` of row `i` (outer) and `y` of row `j` (inner).
    pub cross: Vec<u32>,
}

impl Pattern {
    /// Builds the pattern from `W`, the patterns of the `G⁻¹`s and of `Q`.
    /// `None` if `Q` lacks a diagonal entry.
    pub fn new(w: &RowDesign, hs: &[SparseInverse<f64>], q: &SparseInverse<f64>) -> Option<Self> {
        let (n, p, dim) = (w.n, w.p, w.dim);
        // Keys `col << 32 | row` of the lower triangle. The X × X block is
        // dense, X × Z is dense over the columns that occur, and every
        // diagonal is present; only Z × Z products come from the rows.
        let mut used = vec![false; dim];
        let mut keys: Vec<u64> = Vec::new();
        let key = |r: usize, c: usize| ((c as u64) << 32) | r as u64;
        for i in 0..n {
            let (cols, _) = w.row(i);
            let z = &cols[p.min(cols.len())..];
            for (a, &ca) in z.iter().enumerate() {
                used[ca as usize] = true;
                for &cb in &z[..a] {
                    keys.push(key(ca as usize, cb as usize));
                }
            }
        }
        let mut q_diag = vec![usize::MAX; n];
        let mut q_off = Vec::new();
        for (pos, (i, j)) in q.entries().enumerate() {
            if i == j {
                q_diag[i] = pos;
                continue;
            }
            q_off.push((pos, i as u32, j as u32));
            let (ci, _) = w.row(i);
            let (cj, _) = w.row(j);
            for &a in &ci[p.min(ci.len())..] {
                for &b in &cj[p.min(cj.len())..] {
                    let (a, b) = (a as usize, b as usize);
                    keys.push(key(a.max(b), a.min(b)));
                }
            }
        }
        if q_diag.contains(&usize::MAX) {
            return None;
        }
        for j in 0..p {
            for (r, &u) in used.iter().enumerate().skip(j) {
                if r < p || u {
                    keys.push(key(r, j));
                }
            }
        }
        for c in p..dim {
            keys.push(key(c, c));
        }
        for (h, &off) in hs.iter().zip(&w.offsets) {
            for (r, c) in h.entries() {
                keys.push(key(off + r, off + c));
            }
        }
        keys.sort_unstable();
        keys.dedup();
        let mut col_ptr = vec![0usize; dim + 1];
        let mut row_idx = Vec::with_capacity(keys.len());
        for &k in &keys {
            col_ptr[(k >> 32) as usize + 1] += 1;
            row_idx.push((k & 0xffff_ffff) as usize);
        }
        for j in 0..dim {
            col_ptr[j + 1] += col_ptr[j];
        }
        drop(keys);
        // Column j < p of X holds the rows r ≥ j with r < p or `used[r]`:
        // with `rank[r]` such rows before r, row r is at `rank[r] − rank[j]`.
        // The diagonal comes first in every column.
        let mut rank = vec![0usize; dim + 1];
        for r in 0..dim {
            rank[r + 1] = rank[r] + usize::from(r < p || used[r]);
        }
        let pos = |r: usize, c: usize| -> usize {
            if r == c {
                col_ptr[c]
            } else if c < p {
                col_ptr[c] + rank[r] - rank[c]
            } else {
                let s = &row_idx[col_ptr[c]..col_ptr[c + 1]];
                col_ptr[c]
                    + s.binary_search(&r)
                        .expect("entry in the pattern by construction")
            }
        };
        let mut scatter_ptr = Vec::with_capacity(n + 1);
        scatter_ptr.push(0);
        let total: usize = (0..n)
            .map(|i| {
                let l = w.row_ptr[i + 1] - w.row_ptr[i];
                l * (l + 1) / 2
            })
            .sum();
        let mut scatter = Vec::with_capacity(total);
        let mut wtw = vec![0.0; row_idx.len()];
        for i in 0..n {
            let (cols, vals) = w.row(i);
            for a in 0..cols.len() {
                for b in 0..=a {
                    let q = pos(cols[a] as usize, cols[b] as usize);
                    scatter.push(q as u32);
                    wtw[q] += vals[a] * vals[b];
                }
            }
            scatter_ptr.push(scatter.len());
        }
        let g_pos = hs
            .iter()
            .zip(&w.offsets)
            .map(|(h, &off)| h.entries().map(|(r, c)| pos(off + r, off + c)).collect())
            .collect();
        let mut cross_ptr = Vec::with_capacity(q_off.len() + 1);
        cross_ptr.push(0);
        let mut cross = Vec::new();
        for &(_, i, j) in &q_off {
            let (ci, _) = w.row(i as usize);
            let (cj, _) = w.row(j as usize);
            for &a in ci {
                for &b in cj {
                    let (a, b) = (a as usize, b as usize);
                    cross.push(pos(a.max(b), a.min(b)) as u32);
                }
            }
            cross_ptr.push(cross.len());
        }
        Some(Pattern {
            col_ptr,
            row_idx,
            scatter_ptr,
            scatter,
            g_pos,
            wtw,
            q_diag,
            q_off,
            cross_ptr,
            cross,
        })
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.row_idx.len()
    }

    /// `(row, column)` of every stored entry, column by column.
    pub fn entries(&self) -> Vec<(usize, usize)> {
        let dim = self.col_ptr.len() - 1;
        (0..dim)
            .flat_map(|j| (self.col_ptr[j]..self.col_ptr[j + 1]).map(move |q| (q, j)))
            .map(|(q, j)| (self.row_idx[q], j))
            .collect()
    }
}

/// `uᵀ M u` for a symmetric `M` given by its lower triangle on `h`'s pattern.
pub(crate) fn quad_form(h: &SparseInverse<f64>, m: &[f64], u: &[f64]) -> f64 {
    let mut s = 0.0;
    for j in 0..h.n {
        let r = h.col_ptr[j]..h.col_ptr[j + 1];
        for (&i, &mq) in h.row_idx[r.clone()].iter().zip(&m[r]) {
            let f = if i == j { 1.0 } else { 2.0 };
            s += f * mq * u[i] * u[j];
        }
    }
    s
}

/// `M u` for a symmetric `M` given by its lower triangle on `h`'s pattern.
pub(crate) fn sym_matvec(h: &SparseInverse<f64>, m: &[f64], u: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; h.n];
    for j in 0..h.n {
        let r = h.col_ptr[j]..h.col_ptr[j + 1];
        for (&i, &mq) in h.row_idx[r.clone()].iter().zip(&m[r]) {
            out[i] += mq * u[j];
            if i != j {
                out[j] += mq * u[i];
            }
        }
    }
    out
}
