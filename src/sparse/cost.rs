//! The cost of a factorization under an ordering: counted from the
//! elimination tree before any symbolic factor is formed, so that
//! [`SparseCholesky::analyse_best`](super::SparseCholesky::analyse_best)
//! drops a candidate ordering as soon as it is past the best.

use faer::sparse::linalg::cholesky::{SymbolicCholesky, SymbolicCholeskyRaw};

/// The flops of a numeric factorization with this symbolic factor, to
/// compare orderings: `Σ_j c_j²` over the columns of `L` (`c_j` entries on
/// and below the diagonal), counting a supernode's dense block in full.
pub(super) fn factor_flops(symbolic: &SymbolicCholesky<usize>) -> f64 {
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

/// The flops of a selected inverse with this (supernodal) symbolic factor,
/// for the profile: per supernode of `w` columns and `m` rows below,
/// `2w³/3` (the triangular inverse and `L⁻ᵀL⁻¹`), `2mw²` (`Y` and
/// `YᵀZ_RJ`) and `2m²w` (`Z_RR Y`).
pub(super) fn inverse_flops(symbolic: &SymbolicCholesky<usize>) -> f64 {
    match symbolic.raw() {
        SymbolicCholeskyRaw::Simplicial(_) => 2.0 * factor_flops(symbolic),
        SymbolicCholeskyRaw::Supernodal(sn) => (0..sn.n_supernodes())
            .map(|s| {
                let w = (sn.supernode_end()[s] - sn.supernode_begin()[s]) as f64;
                let m = sn.supernode(s).pattern().len() as f64;
                2.0 * w * w * w / 3.0 + 2.0 * m * w * w + 2.0 * m * m * w
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
pub(super) fn permuted_flops(
    col_ptr: &[usize],
    row_idx: &[usize],
    inv: &[usize],
    limit: f64,
) -> Option<f64> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use faer::perm::PermRef;
    use faer::sparse::linalg::cholesky::{
        factorize_symbolic_cholesky, CholeskySymbolicParams, SymmetricOrdering,
    };
    use faer::sparse::linalg::SupernodalThreshold;
    use faer::sparse::SymbolicSparseColMat;
    use faer::Side;

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
