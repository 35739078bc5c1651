//! Errors of the REML engine.

use crate::data::DataError;
use crate::CovError;
use thiserror::Error;

/// What can go wrong when building or fitting a REML model.
///
/// Every message names the operand or parameter and the sizes involved.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum RemlError {
    /// Two operands whose sizes do not agree.
    #[error("size mismatch: {operand} is {got}, expected {expected}")]
    DimensionMismatch {
        /// The operand (`y`, `X`, `Z of gen`, `G of gen`, `V`, …).
        operand: String,
        /// The size it should have.
        expected: String,
        /// The size it has.
        got: String,
    },
    /// An operand holds NaN or an infinite value.
    #[error("{operand} has a non-finite value ({}) at {position}", crate::typed::display::num(.value))]
    NotFinite {
        /// The operand.
        operand: String,
        /// Where (`row 3`, 1-based; `(3, 1)`, 1-based row and column).
        position: String,
        /// The value.
        value: f64,
    },
    /// `X` has no more rows than columns: REML needs `n > p`.
    #[error("X has {rows} rows and {cols} columns; REML needs more rows than columns")]
    TooFewRows {
        /// Rows of `X`.
        rows: usize,
        /// Columns of `X`.
        cols: usize,
    },
    /// `X` is rank deficient.
    #[error("X is rank deficient: column(s) {columns} are linear combinations of the columns before them")]
    RankDeficient {
        /// The offending columns (names if given, else 0-based indices).
        columns: String,
    },
    /// A start vector or bound vector of the wrong length.
    #[error("{what} has {got} values, but the model has {expected} free parameters ({names})")]
    WrongLength {
        /// `start`, `lower`, `upper`.
        what: &'static str,
        /// Number of free parameters.
        expected: usize,
        /// Length given.
        got: usize,
        /// The free parameter names.
        names: String,
    },
    /// `V` is not positive definite at the start values (or at the point asked for).
    #[error("V is not positive definite at {params}")]
    NotPositiveDefinite {
        /// The parameters and their values (free and natural).
        params: String,
    },
    /// `Xᵀ V⁻¹ X` is singular at the given parameters.
    #[error("X^T V^-1 X is not positive definite at {params}")]
    SingularFixedEffects {
        /// The parameters and their values.
        params: String,
    },
    /// A fit option that is out of range.
    #[error("invalid option `{option}`: {reason}")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A model with nothing to estimate or a term that is missing.
    #[error("invalid model: {reason}")]
    InvalidModel {
        /// What is wrong.
        reason: String,
    },
    /// A name asked of a fit or post-estimation result that it does not
    /// have.
    #[error("no {what} `{name}`; the {what}s are: {available}")]
    UnknownName {
        /// `parameter`, `fixed effect`, `random term`.
        what: &'static str,
        /// The name asked for.
        name: String,
        /// The names there are, comma separated.
        available: String,
    },
    /// A model the data do not identify, found from the design before
    /// fitting (a term confounded with the residual, a term added twice, a
    /// factor with one level, a term without columns, a parameter that acts
    /// only on levels that never occur).
    #[error("term `{term}` is not identified: {reason}")]
    NotIdentified {
        /// The random term.
        term: String,
        /// Why, in words.
        reason: String,
    },
    /// An error of a covariance structure.
    #[error("covariance structure `{term}`: {source}")]
    StructureFailed {
        /// The term (`residual`, `gen`, `V`).
        term: String,
        /// The structure's error.
        source: CovError,
    },
    /// A workspace too large for this machine's memory.
    #[error("out of memory: {what} would need {} of memory; {advice}", human_bytes(*bytes))]
    OutOfMemory {
        /// What needed the memory.
        what: String,
        /// Bytes it would need.
        bytes: u128,
        /// What to do instead.
        advice: String,
    },
    /// The chosen backend cannot fit this model.
    #[error("the {backend} backend cannot fit this model: {reason}")]
    BackendUnavailable {
        /// `sparse` or `dense`.
        backend: &'static str,
        /// Why (the term or residual and what it lacks).
        reason: String,
    },
    /// The covariance matrix `G` of a random term became numerically
    /// singular at an iterate of a fit on the sparse mixed-model equations,
    /// which need `G⁻¹` (a correlation of ±1 or a variance 0 is near).
    #[error(
        "the covariance matrix of `{term}` is numerically singular at an iterate ({detail}); the \
         sparse mixed-model equations need its inverse: fit with the dense backend \
         (--backend dense)"
    )]
    NearlySingularG {
        /// The random term.
        term: String,
        /// What failed.
        detail: String,
    },
    /// An error reading data or building a design.
    #[error("data: {0}")]
    Data(#[from] DataError),
}

/// `1.5 GB`-style sizes for messages.
/// Maps a structure's error to [`RemlError::StructureFailed`] naming the
/// term (`residual` for the residual).
pub(crate) fn cov_err(term: &str) -> impl Fn(CovError) -> RemlError + '_ {
    move |e| RemlError::StructureFailed {
        term: term.to_string(),
        source: e,
    }
}

pub(crate) fn human_bytes(b: u128) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB", "PB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} bytes")
    } else {
        format!("{v:.1} {}", units[u])
    }
}
