//! Sparse Cholesky factorization of a symmetric positive-definite matrix of
//! fixed pattern, and its selected inverse — the linear algebra under the
//! mixed-model-equations backend.
//!
//! [`SparseCholesky::analyse`] does the symbolic work once (a fill-reducing
//! ordering `P`, faer's symbolic factor in the simplicial or supernodal
//! layout, every workspace); [`SparseCholesky::factor`] computes
//! `P A Pᵀ = L Lᵀ` numerically into the same buffers, again and again; a
//! non-positive pivot is an error value, never a panic.
//!
//! The simplicial layout is factored by faer. The supernodal layout is
//! factored here, left-looking over faer's symbolic factor with faer's dense
//! kernels, as faer does, with one difference: the one-column supernodes
//! whose pattern lies among the columns of one wide block (each level of a
//! crossed factor under the dense fill block of the other) update that
//! block together, column by column of it, the column being written staying
//! in cache, the columns shared between threads. faer applies them one by
//! one, each scattered over the whole block: at the MovieLens shape
//! (6,040 such columns under a 3,708-column block of 110 MB) that took 0.5 s
//! of each 0.7 s factorization.
//!
//! # Selected inversion (Takahashi recurrences)
//!
//! With `A = L Lᵀ` (after the permutation) and `Z = A⁻¹`, `Z` is needed only
//! on the pattern of `L` (for traces such as `tr(A⁻¹ M)` with `M` inside that
//! pattern). From `Z L = L⁻ᵀ` (upper triangular, diagonal `1/L_jj`), going
//! backwards over columns `j`, for `i` in the pattern `P_j` of column `j` of
//! `L` below the diagonal:
//!
//! - `Z_ij = −(1/L_jj) Σ_{k ∈ P_j} L_kj Z_ik`,
//! - `Z_jj = 1/L_jj² − (1/L_jj) Σ_{k ∈ P_j} L_kj Z_kj`.
//!
//! Every `Z_ik` read has `i, k ∈ P_j`, and the pattern of a column of `L` is a
//! clique of the filled graph, so it lies in the pattern of `L + Lᵀ` and has
//! already been computed (its column is later than `j`). The simplicial
//! kernel applies this column by column.
//!
//! # Supernodal block form
//!
//! A supernode is a set `J` of consecutive columns sharing the row pattern `R`
//! below its diagonal block; faer stores `[L_JJ; L_RJ]` as one dense
//! column-major block. Going backwards over supernodes, with `Z_RR` gathered
//! from the (final) blocks of the ancestors:
//!
//! - `L_JJ⁻¹` (a dense triangular inverse) and `Y = L_RJ L_JJ⁻¹`,
//! - `Z_RJ = −Z_RR Y` (a dense product),
//! - `Z_JJ = L_JJ⁻ᵀ L_JJ⁻¹ − Yᵀ Z_RJ` (two products, lower triangle only),
//!
//! which is the scalar recurrence applied to the block columns
//! (`Z_RJ L_JJ + Z_RR L_RJ = 0` and `Z_JJ L_JJ + Z_RJᵀ L_RJ = L_JJ⁻ᵀ` from
//! `Z L = L⁻ᵀ`), all with faer's dense kernels (`matmul`, triangular
//! inverse), so the work on a dense fill block runs at dense-matrix speed. `Z` is stored in the
//! layout of `L` (the diagonal blocks full and symmetric), and
//! [`SparseCholesky::entry_map`] / [`SparseCholesky::gather`] read it in the
//! original ordering.
//!
//! Two cases skip the dense copy of `Z_RR`. A supernode at most 8 columns
//! wide forms `Z_RR Y` reading the lower triangle of `Z_RR` in place. The
//! one-column supernodes whose pattern lies among the columns of one wide
//! block (each level of a crossed factor under the dense block of the
//! other) only read that block, so they are done together, column by column
//! of it, once it is final; the column being read then stays in cache. On
//! several threads the members are cut into groups of equal work, each
//! group reading the whole block for its own members.

mod analyse;
mod batch;
mod cholesky;
mod cost;
mod entry_map;
mod error;
mod factor;
mod lauum;
mod options;
mod parallel;
mod pattern;
mod selinv;

pub use cholesky::SparseCholesky;
pub use entry_map::EntryMap;
pub use error::SparseError;
pub use options::{Layout, Ordering, SparseOptions};
pub(crate) use pattern::{check_lower_csc, Diagonal};
