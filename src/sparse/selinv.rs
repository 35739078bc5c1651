//! The Takahashi recurrences on faer's factor: a scalar kernel for the
//! simplicial layout and a dense-block kernel for the supernodal layout
//! (the formulas are in the module docs of [`crate::sparse`]).

use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self as tri, BlockStructure::*};
use faer::linalg::triangular_solve::solve_upper_triangular_in_place;
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::sparse::linalg::cholesky::simplicial::SymbolicSimplicialCholesky;
use faer::sparse::linalg::cholesky::supernodal::SymbolicSupernodalCholesky;
use faer::{Accum, MatMut, MatRef, Par};

use rayon::prelude::*;

use super::batch::{Batch, Batches, BATCH_PAR_MIN_FLOPS};
use super::lauum::{invert_lower, lauum_lower, scratch_len};
use super::parallel::{cube, par_for};

/// The symbolic factor the kernels walk.
pub(super) enum Storage<'a> {
    /// Column by column; the diagonal is first in each column, the rows
    /// below it increase.
    Simplicial(&'a SymbolicSimplicialCholesky<usize>),
    /// Dense blocks, with the supernode of every column and the batches.
    Supernodal(
        &'a SymbolicSupernodalCholesky<usize>,
        &'a [usize],
        &'a Batches,
    ),
}

/// Buffers of the recurrences, allocated once.
#[derive(Debug)]
pub(super) enum SelinvWorkspace {
    /// `y` accumulates `Σ_k L_kj Z_ik`; `mark[i]` is the position of row `i`
    /// in the current column of `L` (or `usize::MAX`).
    Simplicial { y: Vec<f64>, mark: Vec<usize> },
    /// Column-major buffers: `zrr` holds `Z_RR`, `y` holds `L_RJ L_JJ⁻¹`,
    /// `lauum` is the scratch of `Z_JJ = L_JJ⁻ᵀ L_JJ⁻¹` in place (`L_JJ⁻¹`
    /// is written into `Z_JJ`'s own storage: no second `w × w` block);
    /// `loc` the local rows of `R` inside an ancestor's block.
    Supernodal {
        zrr: Vec<f64>,
        y: Vec<f64>,
        lauum: Vec<f64>,
        loc: Vec<usize>,
    },
}

impl SelinvWorkspace {
    pub(super) fn new(storage: &Storage<'_>, n: usize) -> Self {
        match storage {
            Storage::Simplicial(_) => Self::Simplicial {
                y: vec![0.0; n],
                mark: vec![usize::MAX; n],
            },
            Storage::Supernodal(sn, _, _) => {
                let (mut zrr, mut y, mut lauum, mut loc) = (0, 0, 0, 0);
                for s in 0..sn.n_supernodes() {
                    let w = sn.supernode_end()[s] - sn.supernode_begin()[s];
                    let m = sn.supernode(s).pattern().len();
                    // A narrow supernode needs `Z_RR Y` (m × w), a wide one
                    // the gathered `Z_RR` (m × m).
                    zrr = zrr.max(if w <= NARROW { m * w } else { m * m });
                    y = y.max(m * w);
                    lauum = lauum.max(scratch_len(w));
                    loc = loc.max(m);
                }
                Self::Supernodal {
                    zrr: vec![0.0; zrr],
                    y: vec![0.0; y],
                    lauum: vec![0.0; lauum],
                    loc: vec![0; loc],
                }
            }
        }
    }
}

/// Fills `z` (laid out like `L`) with `A⁻¹` on the pattern of `L`: from
/// `l`, or, when `l` is `None` (supernodal layout only), from the factor
/// held in `z` itself, which it overwrites block by block (each block of
/// `L` is read before its block of `Z` is written, and later blocks need
/// only the ancestors' `Z`).
pub(super) fn selected_inverse(
    storage: &Storage<'_>,
    l: Option<&[f64]>,
    z: &mut [f64],
    ws: &mut SelinvWorkspace,
    par: Par,
) {
    match (storage, ws) {
        (Storage::Simplicial(sym), SelinvWorkspace::Simplicial { y, mark }) => {
            let l = l.expect("the simplicial kernel reads L from its own buffer");
            simplicial(sym.col_ptr(), sym.row_idx(), l, z, y, mark)
        }
        (
            Storage::Supernodal(sn, col_to_super, batches),
            SelinvWorkspace::Supernodal { zrr, y, lauum, loc },
        ) => supernodal(sn, col_to_super, l, z, zrr, y, lauum, loc, batches, par),
        _ => unreachable!("the workspace is built from the same layout"),
    }
}

/// Scalar Takahashi recurrences, backwards over columns.
fn simplicial(
    col_ptr: &[usize],
    row_idx: &[usize],
    l: &[f64],
    z: &mut [f64],
    y: &mut [f64],
    mark: &mut [usize],
) {
    let n = col_ptr.len() - 1;
    for j in (0..n).rev() {
        let (p0, p1) = (col_ptr[j], col_ptr[j + 1]);
        let ljj = l[p0];
        let below = p0 + 1..p1;
        for p in below.clone() {
            mark[row_idx[p]] = p;
            y[row_idx[p]] = 0.0;
        }
        // y_i = Σ_{k ∈ P} L_kj Z_ik for i ∈ P, each stored Z entry of the
        // columns k ∈ P visited once (Z symmetric, stored lower).
        for p in below.clone() {
            let (k, lkj) = (row_idx[p], l[p]);
            let (q0, q1) = (col_ptr[k], col_ptr[k + 1]);
            let mut yk = lkj * z[q0];
            for q in q0 + 1..q1 {
                let r = row_idx[q];
                let m = mark[r];
                if m != usize::MAX {
                    y[r] += lkj * z[q];
                    yk += l[m] * z[q];
                }
            }
            y[k] += yk;
        }
        let mut s = 0.0;
        for p in below {
            let i = row_idx[p];
            let zij = -y[i] / ljj;
            z[p] = zij;
            s += l[p] * zij;
            mark[i] = usize::MAX;
        }
        z[p0] = 1.0 / (ljj * ljj) - s / ljj;
    }
}

/// Supernodes at most this wide take `Z_RJ = −Z_RR Y` straight from the
/// ancestors' blocks instead of gathering `Z_RR` into a dense copy: on a
/// crossed design every level of the first factor is a one-column supernode
/// whose pattern is every level of the second factor it meets, and copying
/// (and mirroring) those `m × m` blocks cost more than the products.
const NARROW: usize = 8;

/// The final blocks of `Z` of the ancestors of the current supernode
/// (`z` starts at value position `offset`: every ancestor is stored after
/// the current supernode).
struct Ancestors<'a> {
    sn: &'a SymbolicSupernodalCholesky<usize>,
    col_to_super: &'a [usize],
    z: &'a [f64],
    offset: usize,
}

impl Ancestors<'_> {
    /// Calls `visit(a0, a1, block, rows, first, loc)` for each run `a0..a1`
    /// of the pattern `R` whose columns lie in one ancestor supernode `t`
    /// (`block` is `t`'s column-major block of `Z` with `rows` rows, `first`
    /// its first column), with `loc[a]` set, for every `a ≥ a0`, to the
    /// local row of `R[a]` in that block: the rows of `R` from a column's
    /// own supernode onwards all lie in its block.
    fn for_each(
        &self,
        pattern: &[usize],
        loc: &mut [usize],
        mut visit: impl FnMut(usize, usize, &[f64], usize, usize, &[usize]),
    ) {
        let sn = self.sn;
        let (begin, end, val_ptr) = (
            sn.supernode_begin(),
            sn.supernode_end(),
            sn.col_ptr_for_val(),
        );
        let m = pattern.len();
        let mut a0 = 0;
        while a0 < m {
            let t = self.col_to_super[pattern[a0]];
            let (tb, te) = (begin[t], end[t]);
            let t_pattern = sn.supernode(t).pattern();
            let t_rows = te - tb + t_pattern.len();
            let mut a1 = a0;
            while a1 < m && pattern[a1] < te {
                a1 += 1;
            }
            for a in a0..a1 {
                loc[a] = pattern[a] - tb;
            }
            let mut cursor = 0;
            for a in a1..m {
                let r = pattern[a];
                while t_pattern[cursor] < r {
                    cursor += 1;
                }
                debug_assert_eq!(t_pattern[cursor], r, "supernodal pattern not closed");
                loc[a] = te - tb + cursor;
            }
            let zt = &self.z[val_ptr[t] - self.offset..val_ptr[t + 1] - self.offset];
            visit(a0, a1, zt, t_rows, tb, &loc[..m]);
            a0 = a1;
        }
    }

    /// `out = Z_RR y` (`m × w`, column major, `w ≤ NARROW`) read from the
    /// lower triangle of `Z_RR` in the ancestors' blocks, each entry once.
    fn product(&self, pattern: &[usize], loc: &mut [usize], y: &[f64], out: &mut [f64], w: usize) {
        let m = pattern.len();
        out.fill(0.0);
        self.for_each(pattern, loc, |a0, a1, zt, t_rows, tb, loc| {
            for c in a0..a1 {
                let col = &zt[(pattern[c] - tb) * t_rows..][..t_rows];
                let rows = &loc[c + 1..m];
                if w == 1 {
                    let yc = y[c];
                    let mut acc = col[loc[c]] * yc;
                    for (k, &r) in rows.iter().enumerate() {
                        let zac = col[r];
                        out[c + 1 + k] += zac * yc;
                        acc += zac * y[c + 1 + k];
                    }
                    out[c] += acc;
                } else {
                    let mut acc = [0.0; NARROW];
                    let zcc = col[loc[c]];
                    for j in 0..w {
                        acc[j] = zcc * y[j * m + c];
                    }
                    for (k, &r) in rows.iter().enumerate() {
                        let (a, zac) = (c + 1 + k, col[r]);
                        for j in 0..w {
                            out[j * m + a] += zac * y[j * m + c];
                            acc[j] += zac * y[j * m + a];
                        }
                    }
                    for j in 0..w {
                        out[j * m + c] += acc[j];
                    }
                }
            }
        });
    }
}

impl Batch {
    /// `Z_RJ = −Z_RR y` and `Z_JJ = 1/L_JJ² − yᵀZ_RJ` (with `y = L_RJ /
    /// L_JJ`) for every member, reading `Z_t` one column at a time. With
    /// several threads the members are cut into groups of about equal work,
    /// one per thread, each group going over every column of `Z_t` for its
    /// own members (their storage is disjoint).
    /// `l` holds the values of `L` from position `l_off` on (a copy of the
    /// members' blocks when `Z` overwrites `L`).
    fn apply(
        &self,
        sn: &SymbolicSupernodalCholesky<usize>,
        l: &[f64],
        l_off: usize,
        z: &mut [f64],
        par: Par,
    ) {
        let val_ptr = sn.col_ptr_for_val();
        // Every member is stored before t.
        let (z_head, z_rest) = z.split_at_mut(val_ptr[self.t]);
        let zt = &z_rest[..val_ptr[self.t + 1] - val_ptr[self.t]];
        let threads = match par {
            Par::Rayon(t) if self.flops >= BATCH_PAR_MIN_FLOPS => t.get(),
            _ => 1,
        };
        // Group g holds members bounds[g]..bounds[g + 1] (k = 0 is the
        // highest supernode, stored last).
        let mut bounds = vec![0];
        let mut work = 0.0;
        for (k, &s) in self.members.iter().enumerate() {
            let m = sn.supernode(s).pattern().len() as f64;
            work += m * (m + 1.0);
            if work * threads as f64 >= self.flops * bounds.len() as f64 && bounds.len() < threads {
                bounds.push(k + 1);
            }
        }
        if *bounds.last().unwrap_or(&0) != self.members.len() {
            bounds.push(self.members.len());
        }
        bounds.dedup();
        let mut groups = Vec::with_capacity(bounds.len() - 1);
        let mut rest = z_head;
        for g in bounds.windows(2) {
            let lowest = val_ptr[self.members[g[1] - 1]];
            let (below, own) = rest.split_at_mut(lowest);
            groups.push((g[0], g[1], lowest, own));
            rest = below;
        }
        let run = |(k0, k1, base, out): (usize, usize, usize, &mut [f64])| {
            self.apply_group(sn, (l, l_off), zt, k0..k1, base, out)
        };
        if groups.len() > 1 {
            groups.into_par_iter().for_each(run);
        } else {
            groups.into_iter().for_each(run);
        }
    }

    /// [`apply`](Self::apply) for the members `ks`, whose storage is
    /// `out` (starting at value position `base`).
    fn apply_group(
        &self,
        sn: &SymbolicSupernodalCholesky<usize>,
        (l, l_off): (&[f64], usize),
        zt: &[f64],
        ks: std::ops::Range<usize>,
        base: usize,
        out: &mut [f64],
    ) {
        let val_ptr = sn.col_ptr_for_val();
        let (tb, te) = (sn.supernode_begin()[self.t], sn.supernode_end()[self.t]);
        let t_rows = te - tb + sn.supernode(self.t).pattern().len();
        let (tw, start, hits) = (te - tb, &self.start, &self.hits);
        let members = &self.members[ks.clone()];
        for &s in members {
            out[val_ptr[s] + 1 - base..val_ptr[s + 1] - base].fill(0.0);
        }
        // Accumulate Z_RR (L_RJ / L_JJ) into each member's Z_RJ storage; a
        // column's hits are in member order, so the group's are a run.
        let (k0, k1) = (ks.start as u32, ks.end as u32);
        for c in 0..tw {
            let col = &zt[c * t_rows..(c + 1) * t_rows];
            let column_hits = &hits[start[c]..start[c + 1]];
            let h0 = column_hits.partition_point(|h| h.0 < k0);
            let h1 = column_hits.partition_point(|h| h.0 < k1);
            for &(k, a) in &column_hits[h0..h1] {
                let (s, a) = (self.members[k as usize], a as usize);
                let p = val_ptr[s];
                let d = 1.0 / l[p - l_off];
                let pattern = sn.supernode(s).pattern();
                let lr = &l[p + 1 - l_off..val_ptr[s + 1] - l_off];
                let zs = &mut out[p + 1 - base..val_ptr[s + 1] - base];
                let yc = lr[a] * d;
                let mut acc = col[c] * lr[a];
                for ((&r, &lv), o) in pattern[a + 1..]
                    .iter()
                    .zip(&lr[a + 1..])
                    .zip(zs[a + 1..].iter_mut())
                {
                    let zac = col[r - tb];
                    *o += zac * yc;
                    acc += zac * lv;
                }
                zs[a] += acc * d;
            }
        }
        for &s in members {
            let p = val_ptr[s];
            let d = 1.0 / l[p - l_off];
            let mut yz = 0.0;
            for q in p + 1..val_ptr[s + 1] {
                out[q - base] = -out[q - base];
                yz += l[q - l_off] * d * out[q - base];
            }
            out[p - base] = d * d - yz;
        }
    }
}

/// Block Takahashi recurrences, backwards over supernodes; `l` as in
/// [`selected_inverse`] (`None`: `z` holds `L` on entry).
#[allow(clippy::too_many_arguments)]
fn supernodal(
    sn: &SymbolicSupernodalCholesky<usize>,
    col_to_super: &[usize],
    l: Option<&[f64]>,
    z: &mut [f64],
    zrr_buf: &mut [f64],
    y_buf: &mut [f64],
    lauum_buf: &mut [f64],
    loc: &mut [usize],
    batches: &Batches,
    par: Par,
) {
    let val_ptr = sn.col_ptr_for_val();
    for s in (0..sn.n_supernodes()).rev() {
        if let Some(k) = batches.of[s] {
            apply_batch(&batches.list[k], s, sn, l, z, par);
            continue;
        }
        let w = sn.supernode_end()[s] - sn.supernode_begin()[s];
        let pattern = sn.supernode(s).pattern();
        let m = pattern.len();
        let rows = w + m;
        if let Some(l) = l {
            z[val_ptr[s]..val_ptr[s + 1]].copy_from_slice(&l[val_ptr[s]..val_ptr[s + 1]]);
        }

        // The block holds L_s; the ancestors' blocks (already final Z) lie
        // after it.
        let after = val_ptr[s + 1];
        let (z_head, z_after) = z.split_at_mut(after);
        let zs = MatMut::from_column_major_slice_mut(&mut z_head[val_ptr[s]..], rows, w);
        let (mut z_jj, mut z_rj) = zs.split_at_row_mut(w);
        let ancestors = Ancestors {
            sn,
            col_to_super,
            z: z_after,
            offset: after,
        };
        let d = y_block(z_jj.rb_mut(), z_rj.rb(), y_buf, par);
        let y = &y_buf[..m * w];
        if w <= NARROW {
            // Z_RJ = −Z_RR Y, column by column of Z_RJ's own storage.
            let out = &mut zrr_buf[..m * w];
            ancestors.product(pattern, loc, y, out, w);
            for j in 0..w {
                for a in 0..m {
                    z_rj[(a, j)] = -out[j * m + a];
                }
            }
        } else {
            let zrr = gather_zrr(&ancestors, pattern, loc, zrr_buf);
            // Z_RJ = −Z_RR Y.
            matmul(
                z_rj.rb_mut(),
                Accum::Replace,
                zrr,
                y_buf_ref(y, m, w),
                -1.0,
                par_for(par, 2.0 * (m * m * w) as f64),
            );
        }
        diagonal_block(z_jj, z_rj.rb(), y, d, lauum_buf, par);
    }
}

/// The first supernode `s` of a batch applies the whole batch (the
/// others are done by then): from `l`, or, in place, from a copy of the
/// members' `L` read while their `Z` is written.
fn apply_batch(
    batch: &Batch,
    s: usize,
    sn: &SymbolicSupernodalCholesky<usize>,
    l: Option<&[f64]>,
    z: &mut [f64],
    par: Par,
) {
    if batch.members[0] != s {
        return;
    }
    match l {
        Some(l) => batch.apply(sn, l, 0, z, par),
        None => {
            let val_ptr = sn.col_ptr_for_val();
            let lowest = *batch.members.last().expect("nonempty batch");
            let (lo, hi) = (val_ptr[lowest], val_ptr[s + 1]);
            let copy = z[lo..hi].to_vec();
            batch.apply(sn, &copy, lo, z, par);
        }
    }
}

/// `Y = L_RJ L_JJ⁻¹` (`m × w`) into `y_buf`, and `L_JJ⁻¹` in place of
/// `L_JJ` (a division for a one-column supernode, every level of a crossed
/// factor); returns `1 / L_JJ[0, 0]`.
fn y_block(mut z_jj: MatMut<'_, f64>, z_rj: MatRef<'_, f64>, y_buf: &mut [f64], par: Par) -> f64 {
    let (m, w) = (z_rj.nrows(), z_jj.ncols());
    let d = 1.0 / z_jj[(0, 0)];
    if w == 1 {
        for (a, y) in y_buf[..m].iter_mut().enumerate() {
            *y = z_rj[(a, 0)] * d;
        }
        return d;
    }
    let mut y = MatMut::from_column_major_slice_mut(&mut y_buf[..m * w], m, w);
    y.copy_from(z_rj);
    solve_upper_triangular_in_place(
        z_jj.rb().transpose(),
        y.rb_mut().transpose_mut(),
        par_for(par, (m * w * w) as f64),
    );
    invert_lower(z_jj.rb_mut(), par_for(par, cube(w)));
    d
}

/// `Z_RR` (`m × m`, column major, both triangles) gathered from the
/// ancestors' blocks into `zrr_buf`.
fn gather_zrr<'b>(
    ancestors: &Ancestors<'_>,
    pattern: &[usize],
    loc: &mut [usize],
    zrr_buf: &'b mut [f64],
) -> MatRef<'b, f64> {
    let m = pattern.len();
    let zrr = &mut zrr_buf[..m * m];
    ancestors.for_each(pattern, loc, |a0, a1, zt, t_rows, tb, loc| {
        for c in a0..a1 {
            let col = &zt[(pattern[c] - tb) * t_rows..][..t_rows];
            let dst = &mut zrr[c * m + c..(c + 1) * m];
            for (d, &r) in dst.iter_mut().zip(&loc[c..m]) {
                *d = col[r];
            }
        }
    });
    for c in 0..m {
        for r in c + 1..m {
            zrr[r * m + c] = zrr[c * m + r];
        }
    }
    MatRef::from_column_major_slice(&zrr_buf[..m * m], m, m)
}

/// `Z_JJ = L_JJ⁻ᵀ L_JJ⁻¹ − Yᵀ Z_RJ` in place of `L_JJ⁻¹` (`d = 1 / L_JJ`
/// for one column), made exactly symmetric.
fn diagonal_block(
    mut z_jj: MatMut<'_, f64>,
    z_rj: MatRef<'_, f64>,
    y: &[f64],
    d: f64,
    lauum_buf: &mut [f64],
    par: Par,
) {
    let (m, w) = (z_rj.nrows(), z_jj.ncols());
    if w == 1 {
        let yz: f64 = (0..m).map(|a| y[a] * z_rj[(a, 0)]).sum();
        z_jj[(0, 0)] = d * d - yz;
        return;
    }
    lauum_lower(z_jj.rb_mut(), lauum_buf, par_for(par, cube(w)));
    tri::matmul(
        z_jj.rb_mut(),
        TriangularLower,
        Accum::Add,
        y_buf_ref(y, m, w).transpose(),
        Rectangular,
        z_rj,
        Rectangular,
        -1.0,
        par_for(par, (w * w * m) as f64),
    );
    // An exactly symmetric diagonal block: mirror the lower triangle.
    for c in 0..w {
        for r in c + 1..w {
            let v = z_jj[(r, c)];
            z_jj[(c, r)] = v;
        }
    }
}

/// `Y` (`m × w`, column major) in its buffer.
fn y_buf_ref(y_buf: &[f64], m: usize, w: usize) -> MatRef<'_, f64> {
    MatRef::from_column_major_slice(&y_buf[..m * w], m, w)
}
