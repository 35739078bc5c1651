//! An ordering of the mixed-model equations from the model's structure, the
//! candidate [`SparseCholesky::analyse_best`](crate::sparse::SparseCholesky::analyse_best)
//! weighs against AMD.
//!
//! The terms go first, the one with the most levels first, then the fixed
//! effects (whose columns meet every level). On crossed designs this is
//! MixedModels.jl's ordering: the first term's block stays diagonal and the
//! fill lands in the block of the term with the fewest levels, where AMD can
//! leave it in the larger one.

use super::design::RowDesign;

/// New position `i` holds unknown `order[i]` of `[β; u₁; …; u_m]`.
pub(super) fn terms_by_levels(w: &RowDesign) -> Vec<usize> {
    let m = w.offsets.len() - 1;
    let mut terms: Vec<usize> = (0..m).collect();
    // Stable: equal sizes keep the model's order.
    terms.sort_by_key(|&t| std::cmp::Reverse(w.offsets[t + 1] - w.offsets[t]));
    let mut order = Vec::with_capacity(w.dim);
    for t in terms {
        order.extend(w.offsets[t]..w.offsets[t + 1]);
    }
    // The indicators of a completed residual's missing cells, then X.
    order.extend(w.offsets[m]..w.dim);
    order.extend(0..w.p);
    order
}
