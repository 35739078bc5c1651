//! [`SparseCholesky`]: one symbolic analysis, then numeric factorizations,
//! solves and selected inversions into buffers allocated once.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::LltRegularization;
use faer::linalg::solvers::LltError;
use faer::reborrow::ReborrowMut;
use faer::sparse::linalg::cholesky::supernodal::SymbolicSupernodalCholesky;
use faer::sparse::linalg::cholesky::{LltRef, SymbolicCholesky, SymbolicCholeskyRaw};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMat};
use faer::{Conj, MatMut, Par, Side};

use super::batch::Batches;
use super::entry_map::EntryMap;
use super::error::SparseError;
use super::factor::SupernodalFactor;
use super::parallel::{par_for, profiled};
use super::selinv::{SelinvWorkspace, Storage};

/// Orders up to which the simplicial layout solves with its own loops
/// ([`SparseCholesky::simplicial_solve`]) instead of faer's.
const SMALL_ORDER: usize = 64;

/// A symmetric positive-definite matrix of fixed pattern, factored again and
/// again: `P A Pᵀ = L Lᵀ` with a fill-reducing permutation `P` fixed at analysis.
pub struct SparseCholesky {
    pub(super) n: usize,
    /// The lower triangle of `A`, original ordering (pattern only).
    pub(super) a_lower: SymbolicSparseColMat<usize>,
    pub(super) symbolic: SymbolicCholesky<usize>,
    /// The values of `L`, laid out as faer's symbolic factor says.
    pub(super) l_values: Vec<f64>,
    /// The selected inverse, laid out like `L` (empty until first computed).
    pub(super) z_values: Vec<f64>,
    pub(super) factor_mem: MemBuffer,
    pub(super) selinv_ws: Option<SelinvWorkspace>,
    /// For each (permuted) column, its supernode (supernodal layout only).
    pub(super) col_to_super: Vec<usize>,
    /// The supernodal layout's batches of one-column supernodes and its
    /// numeric factorization (faer's, for the simplicial layout).
    pub(super) supernodal: Option<(Batches, SupernodalFactor)>,
    pub(super) par: Par,
    /// The flops of a factorization and of a selected inverse (for the
    /// profile, `COVREML_PROFILE`).
    pub(super) flops: (f64, f64),
    pub(super) log_det: f64,
    pub(super) factored: bool,
    pub(super) inverted: bool,
    /// The selected inverse overwrote `L` in `l_values`
    /// ([`selected_inverse_in_place`](SparseCholesky::selected_inverse_in_place)):
    /// no solve until the next factorization.
    pub(super) consumed: bool,
}

impl std::fmt::Debug for SparseCholesky {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparseCholesky")
            .field("n", &self.n)
            .field("nnz_l", &self.nnz_l())
            .field("supernodal", &self.is_supernodal())
            .field("n_supernodes", &self.n_supernodes())
            .field("factored", &self.factored)
            .finish_non_exhaustive()
    }
}
/// The position in the values of a supernodal `L` of the entry `(r, c)`
/// (permuted indices, `r ≥ c`), if it lies in the pattern.
pub(super) fn supernodal_position(
    sn: &SymbolicSupernodalCholesky<usize>,
    col_to_super: &[usize],
    r: usize,
    c: usize,
) -> Option<usize> {
    let s = col_to_super[c];
    let (b, e) = (sn.supernode_begin()[s], sn.supernode_end()[s]);
    let pattern = sn.supernode(s).pattern();
    let rows = e - b + pattern.len();
    let local_row = if r < e {
        Some(r - b)
    } else {
        pattern.binary_search(&r).ok().map(|k| e - b + k)
    };
    local_row.map(|lr| sn.col_ptr_for_val()[s] + (c - b) * rows + lr)
}

impl SparseCholesky {
    /// The order `n` of the matrix.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Maps a permuted index to the original ordering.
    fn original(&self, permuted: usize) -> usize {
        match self.symbolic.perm() {
            Some(p) => p.arrays().0[permuted],
            None => permuted,
        }
    }

    /// Maps an original index to the permuted ordering.
    fn permuted(&self, original: usize) -> usize {
        match self.symbolic.perm() {
            Some(p) => p.arrays().1[original],
            None => original,
        }
    }

    /// Numeric factorization of `values` (same pattern and order as given to
    /// [`analyse`](Self::analyse)); no allocation. A non-positive or
    /// non-finite pivot is `Err(NotPositiveDefinite { .. })`, never a panic.
    pub fn factor(&mut self, values: &[f64]) -> Result<(), SparseError> {
        self.factored = false;
        self.inverted = false;
        self.consumed = false;
        let nnz = self.a_lower.row_idx().len();
        if values.len() != nnz {
            return Err(SparseError::InvalidPattern {
                reason: format!(
                    "values has length {}, the analysed pattern has {nnz} entries",
                    values.len()
                ),
            });
        }
        if let Some(p) = values.iter().position(|v| !v.is_finite()) {
            let col_ptr = self.a_lower.col_ptr();
            let column = col_ptr.partition_point(|&c| c <= p) - 1;
            return Err(SparseError::NotPositiveDefinite { column });
        }
        if let (SymbolicCholeskyRaw::Supernodal(sn), Some((batches, numeric))) =
            (self.symbolic.raw(), self.supernodal.as_mut())
        {
            let (l, par) = (&mut self.l_values, self.par);
            let result = profiled("factorization", self.flops.0, || {
                numeric.factor(sn, batches, values, l, par)
            });
            if let Err(k) = result {
                return Err(SparseError::NotPositiveDefinite {
                    column: self.original(k),
                });
            }
        } else {
            let a = SparseColMatRef::new(self.a_lower.as_ref(), values);
            let result = self.symbolic.factorize_numeric_llt(
                &mut self.l_values,
                a,
                Side::Lower,
                LltRegularization::default(),
                Par::Seq,
                MemStack::new(&mut self.factor_mem),
                Default::default(),
            );
            if let Err(LltError::NonPositivePivot { index }) = result {
                // faer reports 1-based pivots in the simplicial layout.
                let k = index.saturating_sub(1).min(self.n.saturating_sub(1));
                return Err(SparseError::NotPositiveDefinite {
                    column: self.original(k),
                });
            }
        }
        let mut log_det = 0.0;
        let mut bad = None;
        self.for_each_diagonal(|k, d| {
            if !(d > 0.0 && d.is_finite()) && bad.is_none() {
                bad = Some(k);
            }
            log_det += d.ln();
        });
        if let Some(k) = bad {
            return Err(SparseError::NotPositiveDefinite {
                column: self.original(k),
            });
        }
        self.log_det = 2.0 * log_det;
        self.factored = true;
        Ok(())
    }

    /// Calls `f(k, L_kk)` for every (permuted) column `k`.
    fn for_each_diagonal(&self, mut f: impl FnMut(usize, f64)) {
        match self.symbolic.raw() {
            SymbolicCholeskyRaw::Simplicial(sym) => {
                for (k, &p) in sym.col_ptr()[..self.n].iter().enumerate() {
                    f(k, self.l_values[p]);
                }
            }
            SymbolicCholeskyRaw::Supernodal(sn) => {
                for s in 0..sn.n_supernodes() {
                    let (b, e) = (sn.supernode_begin()[s], sn.supernode_end()[s]);
                    let rows = e - b + sn.supernode(s).pattern().len();
                    let base = sn.col_ptr_for_val()[s];
                    for c in 0..e - b {
                        f(b + c, self.l_values[base + c * rows + c]);
                    }
                }
            }
        }
    }

    fn assert_factored(&self) {
        assert!(
            self.factored && !self.consumed,
            "SparseCholesky: call `factor` successfully before using the factor \
             (`selected_inverse_in_place` overwrites it)"
        );
    }

    /// Whether the factor is there to solve with: factored, and not
    /// overwritten by [`selected_inverse_in_place`](Self::selected_inverse_in_place).
    pub fn has_factor(&self) -> bool {
        self.factored && !self.consumed
    }

    /// log det of the factored matrix (`2 Σ log L_jj`); NaN before a
    /// successful [`factor`](Self::factor).
    pub fn log_det(&self) -> f64 {
        if self.factored {
            self.log_det
        } else {
            f64::NAN
        }
    }

    /// Solves `A X = B` in place for a dense `B` (`n × m`, original
    /// ordering). Allocates a workspace of `O(n·m)`.
    ///
    /// # Panics
    /// If the matrix has not been factored, or `rhs` does not have `n` rows.
    pub fn solve_in_place(&self, rhs: MatMut<'_, f64>) {
        self.assert_factored();
        assert_eq!(
            rhs.nrows(),
            self.n,
            "SparseCholesky::solve_in_place: rows of rhs"
        );
        let m = rhs.ncols();
        if let SymbolicCholeskyRaw::Simplicial(sym) = self.symbolic.raw() {
            if self.n <= SMALL_ORDER {
                self.simplicial_solve(sym.col_ptr(), sym.row_idx(), rhs);
                return;
            }
        }
        // Memory-bound: with a few columns, one thread (rayon's hand-off
        // made InstEval's solves 15 times slower).
        let par = par_for(self.par, 4.0 * self.nnz_l() as f64 * m as f64);
        let req = self.symbolic.solve_in_place_scratch::<f64>(m, par);
        let mut mem = MemBuffer::new(req);
        LltRef::new(&self.symbolic, &self.l_values).solve_in_place_with_conj(
            Conj::No,
            rhs,
            par,
            MemStack::new(&mut mem),
        );
    }

    /// The solve of the simplicial layout, column by column: `P b`, then
    /// `L` forwards and `Lᵀ` backwards (the diagonal first in every column
    /// of `L`), then `Pᵀ`. Without faer's workspace and dispatch, which
    /// cost more than the arithmetic at a small model's order.
    fn simplicial_solve(&self, col_ptr: &[usize], row_idx: &[usize], mut rhs: MatMut<'_, f64>) {
        let n = self.n;
        let mut x = vec![0.0; n];
        let mut copy = Vec::new();
        for c in 0..rhs.ncols() {
            let col = rhs.rb_mut().col_mut(c);
            match col.try_as_col_major_mut() {
                Some(b) => self.simplicial_solve_one(col_ptr, row_idx, &mut x, b.as_slice_mut()),
                None => {
                    copy.clear();
                    copy.extend((0..n).map(|i| rhs[(i, c)]));
                    self.simplicial_solve_one(col_ptr, row_idx, &mut x, &mut copy);
                    (0..n).for_each(|i| rhs[(i, c)] = copy[i]);
                }
            }
        }
    }

    /// One column `b` of [`simplicial_solve`](Self::simplicial_solve), with
    /// the workspace `x` (length `n`).
    fn simplicial_solve_one(
        &self,
        col_ptr: &[usize],
        row_idx: &[usize],
        x: &mut [f64],
        b: &mut [f64],
    ) {
        let n = self.n;
        let l = &self.l_values;
        let perm = self.symbolic.perm().map(|p| p.arrays().0);
        match perm {
            Some(fwd) => x.iter_mut().zip(fwd).for_each(|(v, &o)| *v = b[o]),
            None => x.copy_from_slice(&b[..n]),
        }
        for j in 0..n {
            let r = col_ptr[j]..col_ptr[j + 1];
            let xj = x[j] / l[r.start];
            x[j] = xj;
            for (&i, &lij) in row_idx[r.start + 1..r.end]
                .iter()
                .zip(&l[r.start + 1..r.end])
            {
                x[i] -= lij * xj;
            }
        }
        for j in (0..n).rev() {
            let r = col_ptr[j]..col_ptr[j + 1];
            let mut xj = x[j];
            for (&i, &lij) in row_idx[r.start + 1..r.end]
                .iter()
                .zip(&l[r.start + 1..r.end])
            {
                xj -= lij * x[i];
            }
            x[j] = xj / l[r.start];
        }
        match perm {
            Some(fwd) => x.iter().zip(fwd).for_each(|(&v, &o)| b[o] = v),
            None => b[..n].copy_from_slice(x),
        }
    }

    /// Computes the selected inverse `Z = A⁻¹` on the pattern of `L`
    /// (Takahashi recurrences), into internal storage laid out like `L`.
    /// Allocation-free after the first call.
    ///
    /// # Panics
    /// If the matrix has not been factored.
    pub fn selected_inverse(&mut self) {
        self.inverse(false);
    }

    /// [`selected_inverse`](Self::selected_inverse) written over the factor
    /// (supernodal layout; the simplicial one keeps its factor): no second
    /// copy of the dense blocks, which at a crossed model's dense fill block
    /// halves the memory (2 GB for a 16,034-column block). Afterwards
    /// [`gather`](Self::gather) and [`log_det`](Self::log_det) work, but
    /// solves (and another selected inverse) need [`factor`](Self::factor)
    /// again ([`has_factor`](Self::has_factor) says which).
    ///
    /// # Panics
    /// If the matrix has not been factored (or the factor was overwritten).
    pub fn selected_inverse_in_place(&mut self) {
        self.inverse(true);
    }

    fn inverse(&mut self, in_place: bool) {
        self.assert_factored();
        let storage = match self.symbolic.raw() {
            SymbolicCholeskyRaw::Simplicial(sym) => Storage::Simplicial(sym),
            SymbolicCholeskyRaw::Supernodal(sn) => {
                let (batches, _) = self.supernodal.as_ref().expect("built with the layout");
                Storage::Supernodal(sn, &self.col_to_super, batches)
            }
        };
        let in_place = in_place && matches!(storage, Storage::Supernodal(..));
        let ws = self
            .selinv_ws
            .get_or_insert_with(|| SelinvWorkspace::new(&storage, self.n));
        let (flops, par) = (self.flops.1, self.par);
        if in_place {
            self.z_values = Vec::new();
            let l = &mut self.l_values;
            profiled("selected inverse", flops, || {
                super::selinv::selected_inverse(&storage, None, l, ws, par)
            });
            self.consumed = true;
        } else {
            if self.z_values.len() != self.l_values.len() {
                self.z_values = vec![0.0; self.l_values.len()];
            }
            let (l, z) = (&self.l_values, &mut self.z_values);
            profiled("selected inverse", flops, || {
                super::selinv::selected_inverse(&storage, Some(l), z, ws, par)
            });
        }
        self.inverted = true;
    }

    /// Positions, in the selected-inverse storage, of entries `(i, j)` given
    /// in original indices (either triangle). An entry outside the pattern of
    /// `L + Lᵀ` is `Err(OutOfPattern)` naming it. Symbolic: compute once per
    /// pattern, use every iteration.
    pub fn entry_map(&self, entries: &[(usize, usize)]) -> Result<EntryMap, SparseError> {
        let mut positions = Vec::with_capacity(entries.len());
        for &(i, j) in entries {
            let out = SparseError::OutOfPattern { row: i, col: j };
            if i >= self.n || j >= self.n {
                return Err(out);
            }
            let (pi, pj) = (self.permuted(i), self.permuted(j));
            let (r, c) = (pi.max(pj), pi.min(pj));
            let pos = match self.symbolic.raw() {
                SymbolicCholeskyRaw::Simplicial(sym) => {
                    let (p0, p1) = (sym.col_ptr()[c], sym.col_ptr()[c + 1]);
                    sym.row_idx()[p0..p1].binary_search(&r).ok().map(|k| p0 + k)
                }
                SymbolicCholeskyRaw::Supernodal(sn) => {
                    supernodal_position(sn, &self.col_to_super, r, c)
                }
            };
            positions.push(pos.ok_or(out)?);
        }
        Ok(EntryMap { positions })
    }

    /// Gathers `Z` at the mapped entries into `out` (same order as given to
    /// [`entry_map`](Self::entry_map)).
    ///
    /// # Panics
    /// If [`selected_inverse`](Self::selected_inverse) has not been computed
    /// for the current factor, or `out` has the wrong length.
    pub fn gather(&self, map: &EntryMap, out: &mut [f64]) {
        assert!(
            self.inverted,
            "SparseCholesky::gather: call `selected_inverse` after `factor` first"
        );
        assert_eq!(
            out.len(),
            map.positions.len(),
            "SparseCholesky::gather: length of out"
        );
        let z = if self.consumed {
            &self.l_values
        } else {
            &self.z_values
        };
        for (o, &p) in out.iter_mut().zip(&map.positions) {
            *o = z[p];
        }
    }

    /// Number of stored entries of `L` (for the supernodal layout, the dense
    /// blocks including the strict upper part of their diagonal blocks).
    pub fn nnz_l(&self) -> usize {
        self.symbolic.len_val()
    }

    /// Whether the supernodal layout was chosen.
    pub fn is_supernodal(&self) -> bool {
        matches!(self.symbolic.raw(), SymbolicCholeskyRaw::Supernodal(_))
    }

    /// The sizes of the supernodes, in elimination order: the number of
    /// columns and the number of rows below the diagonal block (`(1, rows)`
    /// per column for the simplicial layout).
    pub fn supernode_sizes(&self) -> Vec<(usize, usize)> {
        match self.symbolic.raw() {
            SymbolicCholeskyRaw::Simplicial(sym) => sym
                .col_ptr()
                .windows(2)
                .map(|w| (1, w[1] - w[0] - 1))
                .collect(),
            SymbolicCholeskyRaw::Supernodal(sn) => (0..sn.n_supernodes())
                .map(|s| {
                    (
                        sn.supernode_end()[s] - sn.supernode_begin()[s],
                        sn.supernode(s).pattern().len(),
                    )
                })
                .collect(),
        }
    }

    /// Number of supernodes (`n` for the simplicial layout).
    pub fn n_supernodes(&self) -> usize {
        match self.symbolic.raw() {
            SymbolicCholeskyRaw::Simplicial(_) => self.n,
            SymbolicCholeskyRaw::Supernodal(sn) => sn.n_supernodes(),
        }
    }
}
