//! The symbolic analysis of a [`SparseCholesky`], done once per pattern: the
//! lower triangle checked, candidate orderings costed and the cheapest
//! kept, faer's symbolic factor, and every buffer the numeric calls need.

use faer::dyn_stack::MemBuffer;
use faer::perm::PermRef;
use faer::sparse::linalg::cholesky::supernodal::SymbolicSupernodalCholesky;
use faer::sparse::linalg::cholesky::{
    factorize_symbolic_cholesky, CholeskySymbolicParams, SymbolicCholesky, SymbolicCholeskyRaw,
    SymmetricOrdering,
};
use faer::sparse::linalg::SupernodalThreshold;
use faer::sparse::{FaerError, SymbolicSparseColMat};
use faer::{Par, Side};

use super::batch::Batches;
use super::cholesky::{supernodal_position, SparseCholesky};
use super::cost::{factor_flops, inverse_flops, permuted_flops};
use super::error::SparseError;
use super::factor::SupernodalFactor;
use super::options::{Layout, Ordering, SparseOptions};
use super::pattern::{check_lower_csc, Diagonal};

/// Above this many stored entries of the lower triangle, a given candidate
/// ordering is used without trying AMD (see `analyse_best`).
const AMD_MAX_ENTRIES: usize = 8_000_000;

fn oom(what: &'static str) -> impl Fn(FaerError) -> SparseError {
    move |e| match e {
        FaerError::IndexOverflow => SparseError::InvalidPattern {
            reason: format!("{what}: the factor is too large for the index type"),
        },
        _ => SparseError::OutOfMemory { what },
    }
}

/// Checks that `col_ptr`/`row_idx` are the lower triangle of an `n × n`
/// matrix, diagonal included, rows strictly increasing within each column.
fn validate(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> Result<(), SparseError> {
    check_lower_csc(n, col_ptr, row_idx, Diagonal::Required)
        .map_err(|reason| SparseError::InvalidPattern { reason })
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
        let (symbolic, best) = cheapest_symbolic(&a_lower, opts, candidates)?;
        let flops = (best, inverse_flops(&symbolic));
        let par = match opts.threads {
            0 => faer::get_global_parallelism(),
            1 => Par::Seq,
            t => Par::rayon(t),
        };
        let col_to_super = column_supernodes(&symbolic, n);
        let (supernodal, req) = match symbolic.raw() {
            SymbolicCholeskyRaw::Supernodal(sn) => {
                let batches = Batches::new(sn, &col_to_super);
                let inv = symbolic.perm().map(|p| p.arrays().1);
                let positions = value_positions(sn, &col_to_super, inv, col_ptr, row_idx);
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
            flops,
            log_det: f64::NAN,
            factored: false,
            inverted: false,
            consumed: false,
        })
    }
}

/// faer's symbolic parameters for the layout `opts` asks for.
fn symbolic_params(opts: &SparseOptions) -> CholeskySymbolicParams<'static> {
    let threshold = match opts.layout {
        // Supernodal from 10 flops per nonzero of L (faer's default is 40).
        Layout::Auto => SupernodalThreshold(0.25),
        Layout::Simplicial => SupernodalThreshold::FORCE_SIMPLICIAL,
        // faer's FORCE_SUPERNODAL (0) still picks simplicial when the flop
        // count is 0 (a diagonal matrix); −∞ always picks supernodal.
        Layout::Supernodal => SupernodalThreshold(f64::NEG_INFINITY),
    };
    CholeskySymbolicParams {
        supernodal_flop_ratio_threshold: threshold,
        ..Default::default()
    }
}

/// The symbolic factor of the cheapest ordering (in factorization flops)
/// among the one `opts` asks for and `candidates`, with its flops.
fn cheapest_symbolic(
    a_lower: &SymbolicSparseColMat<usize>,
    opts: &SparseOptions,
    candidates: &[Vec<usize>],
) -> Result<(SymbolicCholesky<usize>, f64), SparseError> {
    let n = a_lower.nrows();
    let (col_ptr, row_idx) = (a_lower.col_ptr(), a_lower.row_idx());
    let params = symbolic_params(opts);
    let symbolic_with = |ordering: SymmetricOrdering<'_, usize>| {
        factorize_symbolic_cholesky(a_lower.as_ref(), Side::Lower, ordering, params)
            .map_err(oom("the symbolic factorization"))
    };
    // faer's `SymmetricOrdering::Identity` reads the pattern as the upper
    // triangle whatever `side` says, so the identity ordering is given as
    // an explicit (custom) permutation, which honours `side`.
    let identity: Vec<usize> = (0..n).collect();
    // AMD on a large pattern with a candidate from the model's structure
    // is not run: at 27 million rows of a crossed design it took minutes
    // of one thread (longer than the factorization it would order),
    // where the structural ordering is the cheaper one (see the caller).
    let skip_amd = matches!(opts.ordering, Ordering::Amd)
        && !candidates.is_empty()
        && row_idx.len() > AMD_MAX_ENTRIES;
    let mut chosen = if skip_amd {
        None
    } else {
        Some(symbolic_with(match opts.ordering {
            Ordering::Amd => SymmetricOrdering::Amd,
            Ordering::Identity => {
                SymmetricOrdering::Custom(PermRef::new_checked(&identity, &identity, n))
            }
        })?)
    };
    let mut best = chosen.as_ref().map_or(f64::INFINITY, factor_flops);
    for (k, fwd) in candidates.iter().enumerate() {
        let inv = inverse_permutation(fwd, n).ok_or_else(|| SparseError::InvalidPattern {
            reason: format!("candidate ordering {k} is not a permutation of 0..{n}"),
        })?;
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
            chosen = Some(candidate);
        }
    }
    let symbolic = match chosen {
        Some(s) => s,
        None => symbolic_with(SymmetricOrdering::Amd)?,
    };
    Ok((symbolic, best))
}

/// The inverse of the permutation `fwd` of `0..n`, or `None` when it is
/// not one.
fn inverse_permutation(fwd: &[usize], n: usize) -> Option<Vec<usize>> {
    let mut inv = vec![usize::MAX; n];
    for (new, &old) in fwd.iter().enumerate() {
        if old < n {
            inv[old] = new;
        }
    }
    (fwd.len() == n && !inv.contains(&usize::MAX)).then_some(inv)
}

/// The supernode of every column (empty for a simplicial factor).
fn column_supernodes(symbolic: &SymbolicCholesky<usize>, n: usize) -> Vec<usize> {
    let mut col_to_super = Vec::new();
    if let SymbolicCholeskyRaw::Supernodal(sn) = symbolic.raw() {
        col_to_super.resize(n, 0);
        for s in 0..sn.n_supernodes() {
            col_to_super[sn.supernode_begin()[s]..sn.supernode_end()[s]].fill(s);
        }
    }
    col_to_super
}

/// The position in the supernodal values of `L` of every stored entry of
/// the lower triangle `col_ptr`/`row_idx` (original order; `inv` the
/// inverse fill-reducing permutation).
fn value_positions(
    sn: &SymbolicSupernodalCholesky<usize>,
    col_to_super: &[usize],
    inv: Option<&[usize]>,
    col_ptr: &[usize],
    row_idx: &[usize],
) -> Vec<usize> {
    let mut positions = Vec::with_capacity(row_idx.len());
    for j in 0..col_ptr.len() - 1 {
        for &i in &row_idx[col_ptr[j]..col_ptr[j + 1]] {
            let (pi, pj) = inv.map_or((i, j), |inv| (inv[i], inv[j]));
            let pos = supernodal_position(sn, col_to_super, pi.max(pj), pi.min(pj))
                .expect("the pattern of L contains the pattern of A");
            positions.push(pos);
        }
    }
    positions
}
