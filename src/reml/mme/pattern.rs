//! The fixed nonzero pattern of the mixed-model equations
//! `C = WᵀQW + blockdiag(0, G₁⁻¹, …, G_m⁻¹)` with `Q = R⁻¹` (lower
//! triangle, compressed columns), and the maps that fill it: for every row
//! of `W`, the positions of its products `w_a w_b` (`a ≥ b`, the diagonal
//! entries `Q_ii`); for every off-diagonal entry `Q_ij` (`i > j`), the
//! positions of the products `w_ix w_jy` over all pairs; and for every term,
//! the positions of the entries of `G⁻¹`. Built once per model; explicit
//! zeros are kept, so the pattern never changes between iterations.

use super::design::RowDesign;
use crate::reml::memory::check_memory;
use crate::reml::RemlError;
use crate::SparseInverse;
use std::sync::OnceLock;

/// For row `i` with entries `e_0 < e_1 < …`:
/// `pos[ptr[i]..ptr[i + 1]]` are the positions of `(e_a, e_b)` in the
/// pattern, `a` ascending, `b = 0..=a`.
pub(crate) struct RowScatter {
    pub ptr: Vec<usize>,
    pub pos: Vec<u32>,
}

/// The pattern of `C` and how to fill it.
pub(crate) struct Pattern {
    pub col_ptr: Vec<usize>,
    pub row_idx: Vec<usize>,
    /// The unknowns that occur in some row, or share a mixing group with
    /// one that does (see [`Pattern::new`]).
    used: Vec<bool>,
    /// Per row, the positions of its products (see [`RowScatter`]): made
    /// at the first use only (48 bytes a row of a crossed model: 1.3 GB
    /// at 27 million rows). A residual with a constant diagonal `Q` and
    /// constant derivatives never uses it (`C = q WᵀW`, and the traces need
    /// only `Σ_i w_iᵀ C⁻¹ w_i = tr(C⁻¹ WᵀW)`).
    scatter: OnceLock<RowScatter>,
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

/// Where the pattern's entries come from: pairs within rows and across the
/// off-diagonal entries of `Q` (over the sparse columns), the dense columns
/// of `X` against every unknown, the diagonal, the `G⁻¹` patterns.
fn key_count(
    w: &RowDesign,
    hs: &[SparseInverse<f64>],
    q_off: &[(usize, u32, u32)],
    used: usize,
) -> u128 {
    let sparse_len = |i: usize| {
        w.row(i)
            .0
            .iter()
            .filter(|&&c| !w.is_dense(c as usize))
            .count() as u128
    };
    let rows: u128 = (0..w.n)
        .map(|i| sparse_len(i) * sparse_len(i).saturating_sub(1) / 2)
        .sum();
    let cross: u128 = q_off
        .iter()
        .map(|&(_, i, j)| sparse_len(i as usize) * sparse_len(j as usize))
        .sum();
    let dense = w.x_dense.iter().filter(|&&d| d).count() as u128 * (w.p + used) as u128;
    let gs: u128 = hs.iter().map(|h| h.nnz() as u128).sum();
    rows + cross + dense + w.dim as u128 + gs
}

/// Entries of the maps that fill the pattern: a row's products and a pair
/// of rows' cross products.
fn map_count(w: &RowDesign, q_off: &[(usize, u32, u32)]) -> u128 {
    let len = |i: usize| (w.row_ptr[i + 1] - w.row_ptr[i]) as u128;
    let rows: u128 = (0..w.n).map(|i| len(i) * (len(i) + 1) / 2).sum();
    let cross: u128 = q_off
        .iter()
        .map(|&(_, i, j)| len(i as usize) * len(j as usize))
        .sum();
    rows + cross
}

impl Pattern {
    /// Builds the pattern from `W`, the patterns of the `G⁻¹`s and of `Q`,
    /// after checking the memory it needs. Errors if `Q` lacks a diagonal
    /// entry.
    /// `mix`: groups of unknowns the pattern is closed under (whatever one
    /// member meets, every member meets; see `lambda::mixing_groups`).
    pub fn new(
        w: &RowDesign,
        hs: &[SparseInverse<f64>],
        q: &SparseInverse<f64>,
        mix: &[Vec<usize>],
    ) -> Result<Self, RemlError> {
        let (n, dim) = (w.n, w.dim);
        let mut q_diag = vec![usize::MAX; n];
        let mut q_off = Vec::new();
        for (pos, (i, j)) in q.entries().enumerate() {
            if i == j {
                q_diag[i] = pos;
            } else {
                q_off.push((pos, i as u32, j as u32));
            }
        }
        if q_diag.contains(&usize::MAX) {
            return Err(RemlError::BackendUnavailable {
                backend: "sparse",
                reason: "the sparse inverse of the residual lacks a diagonal entry".into(),
            });
        }
        let used = used_columns(w, mix);
        let n_used = used.iter().filter(|&&u| u).count();
        let keys_n = key_count(w, hs, &q_off, n_used);
        let maps_n = map_count(w, &q_off);
        check_memory(
            || {
                format!(
                    "the pattern of the mixed-model equations ({keys_n} entries, {maps_n} products; \
                     order {dim})"
                )
            },
            keys_n * 24 + maps_n * 4,
            "fewer unknowns per row: a fixed effect with many columns that are nonzero on \
             most rows, or a random term with many columns per row, makes every row meet \
             every unknown; group the levels, or fit a large fixed factor as a random term",
        )?;
        let mut keys = pattern_keys(w, hs, &q_off, &used, keys_n as usize);
        close_keys(&mut keys, mix, dim);
        let (col_ptr, row_idx) = compress(dim, &keys);
        drop(keys);
        let pos = Positions::new(w, &used, &col_ptr, &row_idx);
        let wtw = cross_products(w, &pos, row_idx.len());
        let g_pos = hs
            .iter()
            .zip(&w.offsets)
            .map(|(h, &off)| h.entries().map(|(r, c)| pos.at(off + r, off + c)).collect())
            .collect();
        let (cross_ptr, cross) = cross_maps(w, &pos, &q_off);
        Ok(Pattern {
            col_ptr,
            row_idx,
            used,
            scatter: OnceLock::new(),
            g_pos,
            wtw,
            q_diag,
            q_off,
            cross_ptr,
            cross,
        })
    }

    /// The positions of every row's products, made at the first call
    /// (`w` is the design the pattern was made from).
    pub fn scatter(&self, w: &RowDesign) -> &RowScatter {
        self.scatter.get_or_init(|| {
            let pos = Positions::new(w, &self.used, &self.col_ptr, &self.row_idx);
            row_maps(w, &pos)
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

/// The unknowns (beyond the fixed effects) that occur in some row, or
/// share a group of `mix` with one that does.
fn used_columns(w: &RowDesign, mix: &[Vec<usize>]) -> Vec<bool> {
    let mut used = vec![false; w.dim];
    for &c in &w.col {
        if c as usize >= w.p {
            used[c as usize] = true;
        }
    }
    for g in mix {
        if g.iter().any(|&m| used[m]) {
            g.iter().for_each(|&m| used[m] = true);
        }
    }
    used
}

/// Closes the sorted unique `keys` under the groups `mix`: for every
/// entry `(r, c)`, every `(r', c')` with `r'` in the group of `r` (or `r`)
/// and `c'` in that of `c` (or `c`).
fn close_keys(keys: &mut Vec<u64>, mix: &[Vec<usize>], dim: usize) {
    if mix.is_empty() {
        return;
    }
    let mut group = vec![u32::MAX; dim];
    for (i, g) in mix.iter().enumerate() {
        g.iter().for_each(|&m| group[m] = i as u32);
    }
    let one = |x: usize| [x];
    let mut extra = Vec::new();
    for &k in keys.iter() {
        let (r, c) = ((k & 0xffff_ffff) as usize, (k >> 32) as usize);
        if group[r] == u32::MAX && group[c] == u32::MAX {
            continue;
        }
        let (r1, c1) = (one(r), one(c));
        let rs: &[usize] = match group[r] {
            u32::MAX => &r1,
            g => &mix[g as usize],
        };
        let cs: &[usize] = match group[c] {
            u32::MAX => &c1,
            g => &mix[g as usize],
        };
        for &a in rs {
            for &b in cs {
                extra.push(((a.min(b) as u64) << 32) | a.max(b) as u64);
            }
        }
    }
    keys.extend(extra);
    keys.sort_unstable();
    keys.dedup();
}

/// `WᵀW` on the pattern (lower triangle).
fn cross_products(w: &RowDesign, pos: &Positions<'_>, nnz: usize) -> Vec<f64> {
    let mut wtw = vec![0.0; nnz];
    for i in 0..w.n {
        let (cols, vals) = w.row(i);
        for a in 0..cols.len() {
            for b in 0..=a {
                wtw[pos.at(cols[a] as usize, cols[b] as usize)] += vals[a] * vals[b];
            }
        }
    }
    wtw
}

/// For every row of `W`: the positions of its products `w_a w_b`
/// (`a ≥ b`) in the pattern.
fn row_maps(w: &RowDesign, pos: &Positions<'_>) -> RowScatter {
    let mut ptr = Vec::with_capacity(w.n + 1);
    ptr.push(0);
    let mut out = Vec::with_capacity(map_count(w, &[]) as usize);
    for i in 0..w.n {
        let cols = w.row(i).0;
        for a in 0..cols.len() {
            for b in 0..=a {
                out.push(pos.at(cols[a] as usize, cols[b] as usize) as u32);
            }
        }
        ptr.push(out.len());
    }
    RowScatter { ptr, pos: out }
}

/// For every off-diagonal entry `(i, j)` of `Q`: the positions of
/// `lower(x, y)` for every `x` of row `i` and `y` of row `j`.
fn cross_maps(
    w: &RowDesign,
    pos: &Positions<'_>,
    q_off: &[(usize, u32, u32)],
) -> (Vec<usize>, Vec<u32>) {
    let mut cross_ptr = Vec::with_capacity(q_off.len() + 1);
    cross_ptr.push(0);
    let mut cross = Vec::new();
    for &(_, i, j) in q_off {
        let (ci, _) = w.row(i as usize);
        let (cj, _) = w.row(j as usize);
        for &a in ci {
            for &b in cj {
                let (a, b) = (a as usize, b as usize);
                cross.push(pos.at(a.max(b), a.min(b)) as u32);
            }
        }
        cross_ptr.push(cross.len());
    }
    (cross_ptr, cross)
}

/// The keys `col << 32 | row` of the lower triangle, sorted and unique.
fn pattern_keys(
    w: &RowDesign,
    hs: &[SparseInverse<f64>],
    q_off: &[(usize, u32, u32)],
    used: &[bool],
    capacity: usize,
) -> Vec<u64> {
    let (p, dim) = (w.p, w.dim);
    let key = |r: usize, c: usize| ((c as u64) << 32) | r as u64;
    let mut keys: Vec<u64> = Vec::with_capacity(capacity);
    let sparse = |cols: &[u32]| -> Vec<usize> {
        cols.iter()
            .map(|&c| c as usize)
            .filter(|&c| !w.is_dense(c))
            .collect()
    };
    for i in 0..w.n {
        let s = sparse(w.row(i).0);
        for (a, &ca) in s.iter().enumerate() {
            for &cb in &s[..a] {
                keys.push(key(ca, cb));
            }
        }
    }
    for &(_, i, j) in q_off {
        let (si, sj) = (sparse(w.row(i as usize).0), sparse(w.row(j as usize).0));
        for &a in &si {
            for &b in &sj {
                keys.push(key(a.max(b), a.min(b)));
            }
        }
    }
    // A dense column of X meets every column of X and every unknown that
    // occurs.
    for d in (0..p).filter(|&d| w.x_dense[d]) {
        for (r, &u) in used.iter().enumerate() {
            if r != d && (r < p || u) {
                keys.push(key(r.max(d), r.min(d)));
            }
        }
    }
    for c in 0..dim {
        keys.push(key(c, c));
    }
    for (h, &off) in hs.iter().zip(&w.offsets) {
        for (r, c) in h.entries() {
            keys.push(key(off + r, off + c));
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Compressed columns from sorted unique keys.
fn compress(dim: usize, keys: &[u64]) -> (Vec<usize>, Vec<usize>) {
    let mut col_ptr = vec![0usize; dim + 1];
    let mut row_idx = Vec::with_capacity(keys.len());
    for &k in keys {
        col_ptr[(k >> 32) as usize + 1] += 1;
        row_idx.push((k & 0xffff_ffff) as usize);
    }
    for j in 0..dim {
        col_ptr[j + 1] += col_ptr[j];
    }
    (col_ptr, row_idx)
}

/// The position of an entry `(r, c)`, `r ≥ c`, in the pattern. A dense
/// column `c` of `X` holds the rows `r ≥ c` with `r < p` or `used[r]`: with
/// `rank[r]` such rows before `r`, row `r` is at `rank[r] − rank[c]`; other
/// columns are searched. The diagonal comes first in every column.
struct Positions<'a> {
    w: &'a RowDesign,
    rank: Vec<usize>,
    col_ptr: &'a [usize],
    row_idx: &'a [usize],
}

impl<'a> Positions<'a> {
    fn new(w: &'a RowDesign, used: &[bool], col_ptr: &'a [usize], row_idx: &'a [usize]) -> Self {
        let mut rank = vec![0usize; w.dim + 1];
        for r in 0..w.dim {
            rank[r + 1] = rank[r] + usize::from(r < w.p || used[r]);
        }
        Positions {
            w,
            rank,
            col_ptr,
            row_idx,
        }
    }

    fn at(&self, r: usize, c: usize) -> usize {
        if r == c {
            self.col_ptr[c]
        } else if self.w.is_dense(c) {
            self.col_ptr[c] + self.rank[r] - self.rank[c]
        } else {
            let s = &self.row_idx[self.col_ptr[c]..self.col_ptr[c + 1]];
            self.col_ptr[c]
                + s.binary_search(&r)
                    .expect("entry in the pattern by construction")
        }
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
    sym_matvec_into(h, m, u, &mut out);
    out
}

/// [`sym_matvec`] into `out` (length `h.n`, zeroed here).
pub(crate) fn sym_matvec_into(h: &SparseInverse<f64>, m: &[f64], u: &[f64], out: &mut [f64]) {
    out.fill(0.0);
    for j in 0..h.n {
        let r = h.col_ptr[j]..h.col_ptr[j + 1];
        for (&i, &mq) in h.row_idx[r.clone()].iter().zip(&m[r]) {
            out[i] += mq * u[j];
            if i != j {
                out[j] += mq * u[i];
            }
        }
    }
}
