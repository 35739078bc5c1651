//! An ordering of the mixed-model equations from the model's structure, the
//! candidate [`SparseCholesky::analyse_best`](crate::sparse::SparseCholesky::analyse_best)
//! weighs against AMD.
//!
//! The blocks go first, the one with the most columns first: each random
//! term, and the sparse columns of `X` (a fixed factor's indicators, a
//! block like a random term's); then the dense columns of `X` (which meet
//! every level). On crossed designs this is MixedModels.jl's ordering: the
//! first term's block stays diagonal and the fill lands in the block of the
//! term with the fewest levels, where AMD can leave it in the larger one.

use super::design::RowDesign;

/// New position `i` holds unknown `order[i]` of `[β; u₁; …; u_m]`.
pub(super) fn terms_by_levels(w: &RowDesign) -> Vec<usize> {
    let m = w.offsets.len() - 1;
    let mut blocks: Vec<Vec<usize>> = (0..m)
        .map(|t| (w.offsets[t]..w.offsets[t + 1]).collect())
        .collect();
    let sparse_x: Vec<usize> = (0..w.p).filter(|&j| !w.x_dense[j]).collect();
    if !sparse_x.is_empty() {
        blocks.push(sparse_x);
    }
    // Stable: equal sizes keep the model's order (terms before X).
    blocks.sort_by_key(|b| std::cmp::Reverse(b.len()));
    let mut order: Vec<usize> = blocks.into_iter().flatten().collect();
    // The indicators of a completed residual's missing cells, then the
    // dense columns of X.
    order.extend(w.offsets[m]..w.dim);
    order.extend((0..w.p).filter(|&j| w.x_dense[j]));
    order
}
