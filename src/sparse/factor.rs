//! The numeric factorization in the supernodal layout: left-looking over
//! faer's symbolic factor, with the batches of one-column supernodes
//! applied column by column of their wide block.
//!
//! Supernode by supernode, in elimination order: its block of `L` is set to
//! the entries of `P A Pᵀ` (positions found once, at analysis), every
//! descendant that reaches it subtracts its contribution, and faer's dense
//! kernels finish it (a Cholesky factorization of the diagonal block, a
//! triangular solve for the rows below). This is the algorithm of faer's own
//! supernodal factorization but for the descendants of one wide block that
//! have a single column each (the levels of a crossed factor under the dense
//! block of the other): faer subtracts their rank-one updates one after the
//! other, each scattered over the whole block (110 MB at the MovieLens
//! shape, so nearly every write missed the cache); here they are applied
//! column by column of the block, the column being written staying in cache,
//! and the columns are shared between threads.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{
    cholesky_in_place, cholesky_in_place_scratch, LltRegularization,
};
use faer::linalg::matmul::matmul;
use faer::linalg::solvers::LltError;
use faer::linalg::triangular_solve::solve_lower_triangular_in_place;
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::sparse::linalg::cholesky::supernodal::SymbolicSupernodalCholesky;
use faer::{Accum, MatMut, MatRef, Par};
use std::sync::Mutex;

use super::batch::{Batch, Batches, BATCH_PAR_MIN_FLOPS};
use super::parallel::{cube, par_for};

/// What the factorization needs beyond faer's symbolic factor (found once,
/// at analysis), and its buffers.
pub(super) struct SupernodalFactor {
    /// `(position in the values of L, index in the values of A)` for every
    /// stored entry of the lower triangle of `A`, sorted by position; the
    /// entries of supernode `s` are `assemble[assemble_start[s]..assemble_start[s + 1]]`.
    assemble: Vec<(usize, usize)>,
    assemble_start: Vec<usize>,
    /// `updates[update_start[s]..update_start[s + 1]]`: the descendants
    /// `(d, a)` that update supernode `s`, batch members aside, with `a` the
    /// position in `d`'s pattern of its first row among `s`'s columns.
    updates: Vec<(u32, u32)>,
    update_start: Vec<usize>,
    /// The product of a multi-column descendant's update (`k × k₁`).
    temp: Vec<f64>,
    /// The local row, in the current supernode's block, of each row of its
    /// pattern.
    local: Vec<usize>,
    /// Scratch of faer's dense Cholesky factorization.
    dense: MemBuffer,
}

impl SupernodalFactor {
    /// The plan for `sn`, given the position in `L`'s values of each stored
    /// entry of `A` (`positions[k]` for the `k`-th entry).
    pub(super) fn new(
        sn: &SymbolicSupernodalCholesky<usize>,
        col_to_super: &[usize],
        batches: &Batches,
        positions: &[usize],
        par: Par,
    ) -> Self {
        let (begin, end, val_ptr) = (
            sn.supernode_begin(),
            sn.supernode_end(),
            sn.col_ptr_for_val(),
        );
        let ns = sn.n_supernodes();
        let mut assemble: Vec<(usize, usize)> =
            positions.iter().enumerate().map(|(k, &p)| (p, k)).collect();
        assemble.sort_unstable();
        let assemble_start = (0..=ns)
            .map(|s| assemble.partition_point(|&(p, _)| p < val_ptr[s]))
            .collect();

        let mut update_start = vec![0usize; ns + 1];
        let mut temp_len = 0;
        let mut widest = 1;
        for d in 0..ns {
            let w = end[d] - begin[d];
            widest = widest.max(w);
            if batches.of[d].is_some() {
                continue;
            }
            let m = sn.supernode(d).pattern().len();
            for_each_run(sn, col_to_super, d, |t, a, a1| {
                update_start[t + 1] += 1;
                if w > 1 {
                    temp_len = temp_len.max((m - a) * (a1 - a));
                }
            });
        }
        for s in 0..ns {
            update_start[s + 1] += update_start[s];
        }
        let mut next = update_start.clone();
        let mut updates = vec![(0u32, 0u32); update_start[ns]];
        for d in 0..ns {
            if batches.of[d].is_some() {
                continue;
            }
            for_each_run(sn, col_to_super, d, |t, a, _| {
                updates[next[t]] = (
                    u32::try_from(d).expect("fewer than 2³² supernodes"),
                    u32::try_from(a).expect("fewer than 2³² rows"),
                );
                next[t] += 1;
            });
        }
        let req = cholesky_in_place_scratch::<f64>(widest, par, Default::default());
        Self {
            assemble,
            assemble_start,
            updates,
            update_start,
            temp: vec![0.0; temp_len],
            local: vec![0; sn.nrows()],
            dense: MemBuffer::new(req),
        }
    }

    /// Factors `A` (its stored values, in the order of the pattern given at
    /// analysis) into `l`. A non-positive pivot is `Err(k)`, `k` the
    /// permuted column.
    pub(super) fn factor(
        &mut self,
        sn: &SymbolicSupernodalCholesky<usize>,
        batches: &Batches,
        a_values: &[f64],
        l: &mut [f64],
        par: Par,
    ) -> Result<(), usize> {
        let val_ptr = sn.col_ptr_for_val();
        for s in 0..sn.n_supernodes() {
            let (b, e) = (sn.supernode_begin()[s], sn.supernode_end()[s]);
            let w = e - b;
            let pattern = sn.supernode(s).pattern();
            let rows = w + pattern.len();
            for (i, &r) in pattern.iter().enumerate() {
                self.local[r] = w + i;
            }
            let (head, tail) = l.split_at_mut(val_ptr[s]);
            let ls = &mut tail[..rows * w];
            ls.fill(0.0);
            for &(p, k) in &self.assemble[self.assemble_start[s]..self.assemble_start[s + 1]] {
                ls[p - val_ptr[s]] = a_values[k];
            }
            for u in self.update_start[s]..self.update_start[s + 1] {
                let (d, a) = self.updates[u];
                self.update_from(sn, head, (d as usize, a as usize), (b, e), ls, rows, par);
            }
            if let Some(batch) = batches.at(s) {
                update_from_batch(batch, sn, head, ls, rows, par);
            }
            self.factor_panel(ls, rows, w, par)
                .map_err(|index| b + index)?;
        }
        Ok(())
    }

    /// Subtracts from the panel `ls` (`rows × w`, the columns `b..e` of
    /// supernode `s`) the update of the earlier supernode `d`, whose pattern
    /// meets these columns from its position `a` on: `L_d L_dᵀ` restricted
    /// to those rows.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn update_from(
        &mut self,
        sn: &SymbolicSupernodalCholesky<usize>,
        head: &[f64],
        (d, a): (usize, usize),
        (b, e): (usize, usize),
        ls: &mut [f64],
        rows: usize,
        par: Par,
    ) {
        let val_ptr = sn.col_ptr_for_val();
        let dw = sn.supernode_end()[d] - sn.supernode_begin()[d];
        let d_pattern = sn.supernode(d).pattern();
        let below = &d_pattern[a..];
        let (k, k1) = (below.len(), below.partition_point(|&r| r < e));
        let ld = &head[val_ptr[d]..val_ptr[d + 1]];
        let local = &self.local;
        let place = |i: usize| {
            if i < k1 {
                below[i] - b
            } else {
                local[below[i]]
            }
        };
        if dw == 1 {
            let lv = &ld[1 + a..];
            for j in 0..k1 {
                let col = &mut ls[(below[j] - b) * rows..][..rows];
                let f = lv[j];
                for i in j..k {
                    col[place(i)] -= lv[i] * f;
                }
            }
            return;
        }
        let ld = MatRef::from_column_major_slice(ld, dw + d_pattern.len(), dw);
        let mut prod = MatMut::from_column_major_slice_mut(&mut self.temp[..k * k1], k, k1);
        matmul(
            prod.rb_mut(),
            Accum::Replace,
            ld.subrows(dw + a, k),
            ld.subrows(dw + a, k1).transpose(),
            1.0,
            par_for(par, 2.0 * (k * k1 * dw) as f64),
        );
        for j in 0..k1 {
            let col = &mut ls[(below[j] - b) * rows..][..rows];
            for i in j..k {
                col[place(i)] -= prod[(i, j)];
            }
        }
    }

    /// Factors the updated panel `ls` (`rows × w`) in place: the Cholesky
    /// factor of its diagonal block and the solve of the rows below; the
    /// index within the panel of a pivot that is not positive otherwise.
    #[inline]
    fn factor_panel(
        &mut self,
        ls: &mut [f64],
        rows: usize,
        w: usize,
        par: Par,
    ) -> Result<(), usize> {
        let mut block = MatMut::from_column_major_slice_mut(ls, rows, w);
        let (mut top, mut bottom) = block.rb_mut().split_at_row_mut(w);
        if w == 1 {
            let pivot = top[(0, 0)];
            // Not `pivot <= 0.0`: a NaN pivot must fail too.
            if pivot.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                return Err(0);
            }
            let d = pivot.sqrt();
            top[(0, 0)] = d;
            let inv = 1.0 / d;
            for i in 0..rows - 1 {
                bottom[(i, 0)] *= inv;
            }
            return Ok(());
        }
        cholesky_in_place(
            top.rb_mut(),
            LltRegularization::default(),
            par_for(par, cube(w)),
            MemStack::new(&mut self.dense),
            Default::default(),
        )
        .map_err(|LltError::NonPositivePivot { index }| index)?;
        solve_lower_triangular_in_place(
            top.rb(),
            bottom.transpose_mut(),
            par_for(par, (w * w * (rows - w)) as f64),
        );
        Ok(())
    }
}

/// Calls `f(t, a, a1)` for each run `a..a1` of the pattern of `d` whose
/// rows lie among the columns of one supernode `t`: one update of `t` each.
fn for_each_run(
    sn: &SymbolicSupernodalCholesky<usize>,
    col_to_super: &[usize],
    d: usize,
    mut f: impl FnMut(usize, usize, usize),
) {
    let pattern = sn.supernode(d).pattern();
    let end = sn.supernode_end();
    let mut a = 0;
    while a < pattern.len() {
        let t = col_to_super[pattern[a]];
        let a1 = a + pattern[a..].partition_point(|&r| r < end[t]);
        f(t, a, a1);
        a = a1;
    }
}

/// Subtracts the rank-one updates `l_u l_uᵀ` of every member `u` from the
/// block `lt` of the batch's wide supernode `t` (`rows` rows), column by
/// column of `t`; the columns are independent, so they are shared between
/// `threads` workers.
fn update_from_batch(
    batch: &Batch,
    sn: &SymbolicSupernodalCholesky<usize>,
    head: &[f64],
    lt: &mut [f64],
    rows: usize,
    par: Par,
) {
    let val_ptr = sn.col_ptr_for_val();
    let tb = sn.supernode_begin()[batch.t];
    let column = |c: usize, col: &mut [f64]| {
        for &(k, a) in &batch.hits[batch.start[c]..batch.start[c + 1]] {
            let (u, a) = (batch.members[k as usize], a as usize);
            let lu = &head[val_ptr[u] + 1..val_ptr[u + 1]];
            let pattern = sn.supernode(u).pattern();
            let f = lu[a];
            for (&r, &v) in pattern[a..].iter().zip(&lu[a..]) {
                col[r - tb] -= v * f;
            }
        }
    };
    // `threads` workers take the columns 16 at a time from a shared queue:
    // the work per column varies, and another process may hold a core.
    let threads = match par {
        Par::Rayon(t) if batch.flops >= BATCH_PAR_MIN_FLOPS => t.get(),
        _ => 1,
    };
    const CHUNK: usize = 16;
    let queue = Mutex::new(lt.chunks_mut(rows * CHUNK).enumerate());
    let worker = || loop {
        let next = queue.lock().map(|mut q| q.next()).unwrap_or(None);
        let Some((i, piece)) = next else { break };
        for (j, col) in piece.chunks_exact_mut(rows).enumerate() {
            column(i * CHUNK + j, col);
        }
    };
    if threads > 1 {
        rayon::scope(|s| {
            for _ in 0..threads {
                s.spawn(|_| worker());
            }
        });
    } else {
        worker();
    }
}
