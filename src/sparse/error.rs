//! Errors of the sparse Cholesky layer.

use thiserror::Error;

/// What went wrong in the sparse Cholesky layer.
///
/// `NotPositiveDefinite` is a value the caller handles (the REML driver
/// halves its step); the others are hard errors in the input or the machine.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SparseError {
    /// A non-positive or non-finite pivot (or a non-finite input value) was
    /// met; `column` is in the original ordering.
    #[error(
        "the matrix is not positive definite: non-positive or non-finite pivot \
         at column {column} (original ordering)"
    )]
    NotPositiveDefinite {
        /// The column, in the original ordering, where factorization stopped.
        column: usize,
    },
    /// The pattern or the values given do not describe a valid lower triangle.
    #[error("invalid sparse pattern: {reason}")]
    InvalidPattern {
        /// What is wrong, with the offending column, row and sizes.
        reason: String,
    },
    /// An entry asked of the selected inverse lies outside the pattern of `L + Lᵀ`.
    #[error(
        "entry ({row}, {col}) (original ordering) is outside the pattern of the \
         Cholesky factor L + Lᵀ; the selected inverse does not hold it"
    )]
    OutOfPattern {
        /// Row of the entry, original ordering.
        row: usize,
        /// Column of the entry, original ordering.
        col: usize,
    },
    /// An allocation failed (or a size overflowed the index type).
    #[error("out of memory while allocating {what}")]
    OutOfMemory {
        /// What was being allocated.
        what: &'static str,
    },
}
