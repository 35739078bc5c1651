//! Batches of one-column supernodes under one wide block: the levels of a
//! crossed factor under the dense fill block of the other. Both the
//! numeric factorization (which updates the block from them) and the
//! selected inverse (which reads the block for them) go through a batch
//! column by column of the block, so the column being written or read stays
//! in cache.

use faer::sparse::linalg::cholesky::supernodal::SymbolicSupernodalCholesky;

/// Ancestor blocks at least this wide take their one-column descendants
/// as a batch (see [`Batch`]). Measured on the selected inverse: under
/// narrower blocks (crossed_2000's 80 columns) the bookkeeping costs more
/// than the cache saves; under InstEval's 1,128 and the MovieLens shape's
/// 3,708 the batch wins.
const BATCH_MIN_WIDTH: usize = 512;

/// A batch is shared between threads from this many flops: it is one
/// parallel loop, not a dense kernel's hand-off.
pub(super) const BATCH_PAR_MIN_FLOPS: f64 = 1e7;

/// One-column supernodes whose whole pattern lies among the columns of one
/// wide ancestor supernode `t` (the levels of a crossed factor under the
/// dense block of the other): each touches only `t`'s block (its rank-one
/// update of `L_t` in the factorization, its reads of `Z_t` in the selected
/// inverse), so all of them can be done together, column by column of `t`.
/// The column of `t` being written or read then stays in cache, where going
/// member by member touched the same `Σ m²/2` entries scattered over all of
/// `t`'s block.
#[derive(Debug)]
pub(super) struct Batch {
    /// The members, highest first (the batch runs when the backward sweep
    /// reaches the first).
    pub(super) members: Vec<usize>,
    /// The wide block they all lie under.
    pub(super) t: usize,
    /// For each column `c` of `t`, `hits[start[c]..start[c + 1]]` are the
    /// `(member, position in its pattern)` pairs whose row is that column.
    pub(super) start: Vec<usize>,
    pub(super) hits: Vec<(u32, u32)>,
    /// Flops of the members' updates of `t` (`Σ m(m + 1)`).
    pub(super) flops: f64,
}

/// The batches of a symbolic factor and, per supernode, the batch it
/// belongs to.
#[derive(Debug)]
pub(super) struct Batches {
    pub(super) list: Vec<Batch>,
    pub(super) of: Vec<Option<usize>>,
    /// Per supernode, the batch under it.
    under: Vec<Option<usize>>,
}

impl Batches {
    pub(super) fn new(sn: &SymbolicSupernodalCholesky<usize>, col_to_super: &[usize]) -> Self {
        let mut b = Self::members(sn, col_to_super);
        for batch in &mut b.list {
            batch.index(sn);
        }
        b
    }

    fn members(sn: &SymbolicSupernodalCholesky<usize>, col_to_super: &[usize]) -> Self {
        let (begin, end) = (sn.supernode_begin(), sn.supernode_end());
        let ns = sn.n_supernodes();
        let mut batch_of = vec![None; ns];
        let mut index_of_t: Vec<Option<usize>> = vec![None; ns];
        let mut batches: Vec<Batch> = Vec::new();
        for s in (0..ns).rev() {
            let pattern = sn.supernode(s).pattern();
            if end[s] - begin[s] != 1 || pattern.is_empty() {
                continue;
            }
            let t = col_to_super[pattern[0]];
            if end[t] - begin[t] < BATCH_MIN_WIDTH || pattern[pattern.len() - 1] >= end[t] {
                continue;
            }
            let k = *index_of_t[t].get_or_insert_with(|| {
                batches.push(Batch {
                    members: Vec::new(),
                    t,
                    start: Vec::new(),
                    hits: Vec::new(),
                    flops: 0.0,
                });
                batches.len() - 1
            });
            batches[k].members.push(s);
            batch_of[s] = Some(k);
        }
        Batches {
            list: batches,
            of: batch_of,
            under: index_of_t,
        }
    }

    /// The batch under supernode `t`, if any.
    pub(super) fn at(&self, t: usize) -> Option<&Batch> {
        self.under[t].map(|k| &self.list[k])
    }
}

impl Batch {
    /// Builds `start`, `hits` and `flops`.
    fn index(&mut self, sn: &SymbolicSupernodalCholesky<usize>) {
        let tb = sn.supernode_begin()[self.t];
        let tw = sn.supernode_end()[self.t] - tb;
        let mut start = vec![0usize; tw + 1];
        for &s in &self.members {
            let m = sn.supernode(s).pattern().len() as f64;
            self.flops += m * (m + 1.0);
            for &r in sn.supernode(s).pattern() {
                start[r - tb + 1] += 1;
            }
        }
        for c in 0..tw {
            start[c + 1] += start[c];
        }
        let mut next = start.clone();
        let mut hits = vec![(0u32, 0u32); start[tw]];
        for (k, &s) in self.members.iter().enumerate() {
            let pattern = sn.supernode(s).pattern();
            for (a, &r) in pattern.iter().enumerate() {
                hits[next[r - tb]] = (
                    u32::try_from(k).expect("fewer than 2³² members"),
                    u32::try_from(a).expect("fewer than 2³² rows"),
                );
                next[r - tb] += 1;
            }
        }
        self.start = start;
        self.hits = hits;
    }
}
