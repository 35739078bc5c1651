//! [`SparseCholesky`]: one symbolic analysis, then numeric factorizations,
//! solves and selected inversions into buffers allocated once.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::LltRegularization;
use faer::linalg::solvers::LltError;
use faer::perm::PermRef;
use faer::sparse::linalg::cholesky::supernodal::SymbolicSupernodalCholesky;
use faer::sparse::linalg::cholesky::{
    factorize_symbolic_cholesky, CholeskySymbolicParams, LltRef, SymbolicCholesky,
    SymbolicCholeskyRaw, SymmetricOrdering,
};
use faer::sparse::linalg::SupernodalThreshold;
use faer::sparse::{FaerError, SparseColMatRef, SymbolicSparseColMat};
use faer::{Conj, MatMut, Par, Side};

use super::batch::Batches;
use super::entry_map::EntryMap;
use super::error::SparseError;
use super::factor::SupernodalFactor;
use super::options::{Layout, Ordering, SparseOptions};
use super::selinv::{SelinvWorkspace, Storage};

/// A symmetric positive-definite matrix of fixed pattern, factored again and
/// again: `P A Pᵀ = L Lᵀ` with a fill-reducing permutation `P` fixed at analysis.
pub struct SparseCholesky {
    n: usize,
    /// The lower triangle of `A`, original ordering (pattern only).
    a_lower: SymbolicSparseColMat<usize>,
    symbolic: SymbolicCholesky<usize>,
    /// The values of `L`, laid out as faer's symbolic factor says.
    l_values: Vec<f64>,
    /// The selected inverse, laid out like `L` (empty until first computed).
    z_values: Vec<f64>,
    factor_mem: MemBuffer,
    selinv_ws: Option<SelinvWorkspace>,
    /// For each (permuted) column, its supernode (supernodal layout only).
    col_to_super: Vec<usize>,
    /// The supernodal layout's batches of one-column supernodes and its
    /// numeric factorization (faer's, for the simplicial layout).
    supernodal: Option<(Batches, SupernodalFactor)>,
    par: Par,
    log_det: f64,
    factored: bool,
    inverted: bool,
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

/// Below this many floating-point operations a dense kernel runs on one
/// thread: on the 2-core machine, rayon's hand-off cost more than it saved
/// for every kernel of InstEval (a 1,128-level dense block), and only the
/// blocks of a million-row crossed model (3,706 levels) gained from it.
const PAR_MIN_FLOPS: f64 = 2e9;

/// The parallelism of a dense kernel of about `flops` operations under the
/// chosen setting.
pub(super) fn par_for(par: Par, flops: f64) -> Par {
    if flops < PAR_MIN_FLOPS {
        Par::Seq
    } else {
        par
    }
}

/// The operations of the dense factorization of a block of `size` rows.
pub(super) fn cube(size: usize) -> f64 {
    (size as f64).powi(3) / 3.0
}

fn oom(what: &'static str) -> impl Fn(FaerError) -> SparseError {
    move |e| match e {
        FaerError::IndexOverflow => SparseError::InvalidPattern {
            reason: format!("{what}: the factor is too large for the index type"),
        },
        _ => SparseError::OutOfMemory { what },
    }
}

/// The flops of a numeric factorization with this symbolic factor, to
/// compare orderings: `Σ_j c_j²` over the columns of `L` (`c_j` entries on
/// and below the diagonal), counting a supernode's dense block in full.
fn factor_flops(symbolic: &SymbolicCholesky<usize>) -> f64 {
    match symbolic.raw() {
        SymbolicCholeskyRaw::Simplicial(s) => s
            .col_ptr()
            .windows(2)
            .map(|w| ((w[1] - w[0]) as f64).powi(2))
            .sum(),
        SymbolicCholeskyRaw::Supernodal(sn) => (0..sn.n_supernodes())
            .map(|s| {
                let w = sn.supernode_end()[s] - sn.supernode_begin()[s];
                let m = sn.supernode(s).pattern().len();
                (0..w).map(|k| ((w - k + m) as f64).powi(2)).sum::<f64>()
            })
            .sum(),
    }
}

/// `Σ c_j²` over the columns of the Cholesky factor of `P A Pᵀ` (`c_j` the
/// nonzeros of column `j`, diagonal included; `inv[old] = new`), from the
/// elimination tree and the row subtrees of the lower triangle of `A`, or
/// `None` as soon as it exceeds `limit`. Time `O(nnz(L))` up to the limit,
/// memory `O(nnz(A))`: no factor pattern is formed. Exact counts, so a
/// factor with relaxed supernodes (padded) is never smaller.
fn permuted_flops(col_ptr: &[usize], row_idx: &[usize], inv: &[usize], limit: f64) -> Option<f64> {
    let n = col_ptr.len() - 1;
    // The strict upper triangle of P A Pᵀ by columns.
    let mut ptr = vec![0usize; n + 1];
    for c in 0..n {
        for &r in &row_idx[col_ptr[c]..col_ptr[c + 1]] {
            if r != c {
                ptr[inv[r].max(inv[c]) + 1] += 1;
            }
        }
    }
    for j in 0..n {
        ptr[j + 1] += ptr[j];
    }
    let mut next = ptr.clone();
    let mut rows = vec![0usize; ptr[n]];
    for c in 0..n {
        for &r in &row_idx[col_ptr[c]..col_ptr[c + 1]] {
            if r != c {
                let (lo, hi) = (inv[r].min(inv[c]), inv[r].max(inv[c]));
                rows[next[hi]] = lo;
                next[hi] += 1;
            }
        }
    }
    // Row j of L is the union of the paths from each i in column j of the
    // upper triangle up the elimination tree to j: each node met adds one
    // to its column's count, `(c + 1)² − c²` to the sum.
    let mut parent = vec![usize::MAX; n];
    let mut visited = vec![usize::MAX; n];
    let mut count = vec![1.0f64; n];
    let mut flops = n as f64;
    for j in 0..n {
        visited[j] = j;
        for &i0 in &rows[ptr[j]..ptr[j + 1]] {
            let mut i = i0;
            while visited[i] != j {
                if parent[i] == usize::MAX {
                    parent[i] = j;
                }
                flops += 2.0 * count[i] + 1.0;
                count[i] += 1.0;
                visited[i] = j;
                i = parent[i];
            }
        }
        if flops > limit {
            return None;
        }
    }
    Some(flops)
}

/// Checks that `col_ptr`/`row_idx` are the lower triangle of an `n × n`
/// matrix, diagonal included, rows strictly increasing within each column.
fn validate(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> Result<(), SparseError> {
    let bad = |reason: String| Err(SparseError::InvalidPattern { reason });
    if col_ptr.len() != n + 1 {
        return bad(format!(
            "col_ptr has length {}, expected n + 1 = {}",
            col_ptr.len(),
            n + 1
        ));
    }
    if col_ptr[0] != 0 {
        return bad(format!("col_ptr[0] is {}, expected 0", col_ptr[0]));
    }
    if col_ptr[n] != row_idx.len() {
        return bad(format!(
            "col_ptr[n] is {} but row_idx has length {}",
            col_ptr[n],
            row_idx.len()
        ));
    }
    for j in 0..n {
        let (p0, p1) = (col_ptr[j], col_ptr[j + 1]);
        if p1 < p0 || p1 > row_idx.len() {
            return bad(format!(
                "col_ptr decreases or overruns at column {j} ({p0} .. {p1})"
            ));
        }
        let rows = &row_idx[p0..p1];
        if rows.first() != Some(&j) {
            return bad(format!(
                "column {j} must start with its diagonal entry (row {j}) and hold only \
                 rows ≥ {j} (lower triangle); its first row is {:?}",
                rows.first()
            ));
        }
        for w in rows.windows(2) {
            if w[1] <= w[0] {
                return bad(format!(
                    "rows of column {j} are not strictly increasing ({} then {})",
                    w[0], w[1]
                ));
            }
        }
        if let Some(&last) = rows.last() {
            if last >= n {
                return bad(format!(
                    "row {last} in column {j} is out of range for n = {n}"
                ));
            }
        }
    }
    Ok(())
}

/// The position in the values of a supernodal `L` of the entry `(r, c)`
/// (permuted indices, `r ≥ c`), if it lies in the pattern.
fn supernodal_position(
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
    /// Symbolic analysis, done once: `col_ptr`/`row_idx` give the LOWER
    /// triangle (diagonal included, rows sorted within each column) of an
    /// `n × n` symmetric matrix in CSC form, in the original ordering.
    /// Allocates every buffer the later calls need (the selected-inverse
    /// storage is allocated at its first use).
    pub fn analyse(
        n: usize,
        col_ptr: &[usize],
        row_idx: &[usize],
        opts: &SparseOptions,
    ) -> Result<Self, SparseError> {
        Self::analyse_best(n, col_ptr, row_idx, opts, &[])
    }

    /// [`analyse`](Self::analyse), trying each of `candidates` beside the
    /// ordering `opts` asks for and keeping whichever factor costs the
    /// fewest flops. A candidate is a permutation `p` (new position `i` holds
    /// original index `p[i]`). AMD is a heuristic: on crossed designs it can
    /// leave the larger factor in the dense fill block, where an ordering
    /// from the model's structure leaves the smaller one (at the MovieLens
    /// shape a 6,290-column dense block against 3,706, five times the flops).
    pub fn analyse_best(
        n: usize,
        col_ptr: &[usize],
        row_idx: &[usize],
        opts: &SparseOptions,
        candidates: &[Vec<usize>],
    ) -> Result<Self, SparseError> {
        validate(n, col_ptr, row_idx)?;
        let a_lower =
            SymbolicSparseColMat::new_checked(n, n, col_ptr.to_vec(), None, row_idx.to_vec());
        let threshold = match opts.layout {
            // Supernodal from 10 flops per nonzero of L (faer's default is 40).
            Layout::Auto => SupernodalThreshold(0.25),
            Layout::Simplicial => SupernodalThreshold::FORCE_SIMPLICIAL,
            // faer's FORCE_SUPERNODAL (0) still picks simplicial when the flop
            // count is 0 (a diagonal matrix); −∞ always picks supernodal.
            Layout::Supernodal => SupernodalThreshold(f64::NEG_INFINITY),
        };
        let params = CholeskySymbolicParams {
            supernodal_flop_ratio_threshold: threshold,
            ..Default::default()
        };
        let symbolic_with = |ordering: SymmetricOrdering<'_, usize>| {
            factorize_symbolic_cholesky(a_lower.as_ref(), Side::Lower, ordering, params)
                .map_err(oom("the symbolic factorization"))
        };
        // faer's `SymmetricOrdering::Identity` reads the pattern as the upper
        // triangle whatever `side` says, so the identity ordering is given as
        // an explicit (custom) permutation, which honours `side`.
        let identity: Vec<usize> = (0..n).collect();
        let mut symbolic = symbolic_with(match opts.ordering {
            Ordering::Amd => SymmetricOrdering::Amd,
            Ordering::Identity => {
                SymmetricOrdering::Custom(PermRef::new_checked(&identity, &identity, n))
            }
        })?;
        let mut best = factor_flops(&symbolic);
        for (k, fwd) in candidates.iter().enumerate() {
            let mut inv = vec![usize::MAX; n];
            for (new, &old) in fwd.iter().enumerate() {
                if old < n {
                    inv[old] = new;
                }
            }
            if fwd.len() != n || inv.contains(&usize::MAX) {
                return Err(SparseError::InvalidPattern {
                    reason: format!("candidate ordering {k} is not a permutation of 0..{n}"),
                });
            }
            // A hopeless candidate (a pedigree in birth order) would fill
            // gigabytes in faer's symbolic factorization before its flops
            // could be compared: count them first, stopping past the best.
            if permuted_flops(col_ptr, row_idx, &inv, best).is_none() {
                continue;
            }
            let candidate = symbolic_with(SymmetricOrdering::Custom(PermRef::new_checked(
                fwd, &inv, n,
            )))?;
            let flops = factor_flops(&candidate);
            if flops < best {
                best = flops;
                symbolic = candidate;
            }
        }
        let par = match opts.threads {
            0 => faer::get_global_parallelism(),
            1 => Par::Seq,
            t => Par::rayon(t),
        };
        let mut col_to_super = Vec::new();
        if let SymbolicCholeskyRaw::Supernodal(sn) = symbolic.raw() {
            col_to_super.resize(n, 0);
            for s in 0..sn.n_supernodes() {
                col_to_super[sn.supernode_begin()[s]..sn.supernode_end()[s]].fill(s);
            }
        }
        let (supernodal, req) = match symbolic.raw() {
            SymbolicCholeskyRaw::Supernodal(sn) => {
                let batches = Batches::new(sn, &col_to_super);
                let inv = symbolic.perm().map(|p| p.arrays().1);
                let mut positions = Vec::with_capacity(row_idx.len());
                for j in 0..n {
                    for &i in &row_idx[col_ptr[j]..col_ptr[j + 1]] {
                        let (pi, pj) = inv.map_or((i, j), |inv| (inv[i], inv[j]));
                        let pos = supernodal_position(sn, &col_to_super, pi.max(pj), pi.min(pj))
                            .expect("the pattern of L contains the pattern of A");
                        positions.push(pos);
                    }
                }
                let factor = SupernodalFactor::new(sn, &col_to_super, &batches, &positions, par);
                (Some((batches, factor)), faer::dyn_stack::StackReq::EMPTY)
            }
            SymbolicCholeskyRaw::Simplicial(_) => (
                None,
                symbolic.factorize_numeric_llt_scratch::<f64>(Par::Seq, Default::default()),
            ),
        };
        let factor_mem = MemBuffer::try_new(req).map_err(|_| SparseError::OutOfMemory {
            what: "the factorization workspace",
        })?;
        let mut l_values = Vec::new();
        l_values
            .try_reserve_exact(symbolic.len_val())
            .map_err(|_| SparseError::OutOfMemory {
                what: "the values of L",
            })?;
        l_values.resize(symbolic.len_val(), 0.0);
        Ok(Self {
            n,
            a_lower,
            symbolic,
            l_values,
            z_values: Vec::new(),
            factor_mem,
            selinv_ws: None,
            col_to_super,
            supernodal,
            par,
            log_det: f64::NAN,
            factored: false,
            inverted: false,
        })
    }

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
            if let Err(k) = numeric.factor(sn, batches, values, &mut self.l_values, self.par) {
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
            self.factored,
            "SparseCholesky: call `factor` successfully before using the factor"
        );
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

    /// Computes the selected inverse `Z = A⁻¹` on the pattern of `L`
    /// (Takahashi recurrences), into internal storage laid out like `L`.
    /// Allocation-free after the first call.
    ///
    /// # Panics
    /// If the matrix has not been factored.
    pub fn selected_inverse(&mut self) {
        self.assert_factored();
        if self.z_values.len() != self.l_values.len() {
            self.z_values = vec![0.0; self.l_values.len()];
        }
        let storage = match self.symbolic.raw() {
            SymbolicCholeskyRaw::Simplicial(sym) => Storage::Simplicial(sym),
            SymbolicCholeskyRaw::Supernodal(sn) => {
                let (batches, _) = self.supernodal.as_ref().expect("built with the layout");
                Storage::Supernodal(sn, &self.col_to_super, batches)
            }
        };
        let ws = self
            .selinv_ws
            .get_or_insert_with(|| SelinvWorkspace::new(&storage, self.n));
        super::selinv::selected_inverse(&storage, &self.l_values, &mut self.z_values, ws, self.par);
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
        for (o, &p) in out.iter_mut().zip(&map.positions) {
            *o = self.z_values[p];
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A random symmetric pattern (lower triangle with the diagonal, rows
    /// increasing) from a fixed xorshift seed.
    fn random_lower(n: usize, per_col: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
        let mut s = seed | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let mut cols: Vec<Vec<usize>> = (0..n).map(|j| vec![j]).collect();
        for _ in 0..n * per_col {
            let (a, b) = ((next() % n as u64) as usize, (next() % n as u64) as usize);
            let (r, c) = (a.max(b), a.min(b));
            cols[c].push(r);
        }
        let mut col_ptr = vec![0];
        let mut row_idx = Vec::new();
        for mut c in cols {
            c.sort_unstable();
            c.dedup();
            row_idx.extend(c);
            col_ptr.push(row_idx.len());
        }
        (col_ptr, row_idx)
    }

    /// The counted flops equal those of faer's simplicial symbolic factor
    /// under the same permutation, and the count stops past its limit.
    #[test]
    fn permuted_flops_match_the_symbolic_factor() {
        for (n, per_col, seed) in [(1, 0, 1), (12, 1, 2), (60, 2, 3), (150, 3, 4)] {
            let (col_ptr, row_idx) = random_lower(n, per_col, seed);
            let a = SymbolicSparseColMat::new_checked(n, n, col_ptr.clone(), None, row_idx.clone());
            // A reversed order and a stride order.
            for fwd in [
                (0..n).rev().collect::<Vec<_>>(),
                (0..n).map(|i| (i * 7) % n).collect::<Vec<_>>(),
            ] {
                let mut seen = vec![false; n];
                if fwd.iter().any(|&i| std::mem::replace(&mut seen[i], true)) {
                    continue; // the stride is not a permutation for this n
                }
                let mut inv = vec![0; n];
                for (new, &old) in fwd.iter().enumerate() {
                    inv[old] = new;
                }
                let params = CholeskySymbolicParams {
                    supernodal_flop_ratio_threshold: SupernodalThreshold::FORCE_SIMPLICIAL,
                    ..Default::default()
                };
                let sym = factorize_symbolic_cholesky(
                    a.as_ref(),
                    Side::Lower,
                    SymmetricOrdering::Custom(PermRef::new_checked(&fwd, &inv, n)),
                    params,
                )
                .unwrap();
                let want = factor_flops(&sym);
                let got = permuted_flops(&col_ptr, &row_idx, &inv, f64::INFINITY).unwrap();
                assert_eq!(got, want, "n = {n}, seed {seed}");
                if want > n as f64 {
                    assert_eq!(permuted_flops(&col_ptr, &row_idx, &inv, want - 1.0), None);
                }
            }
        }
    }
}
