//! Errors of the pedigree and relationship-matrix layer.

use thiserror::Error;

/// What can go wrong when reading a pedigree or building a relationship
/// matrix.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum PedigreeError {
    /// The animal, sire and dam columns have different lengths.
    #[error(
        "the pedigree columns differ in length: {animals} animals, {sires} sires, {dams} dams"
    )]
    RaggedColumns {
        /// Length of the animal column.
        animals: usize,
        /// Length of the sire column.
        sires: usize,
        /// Length of the dam column.
        dams: usize,
    },
    /// A row whose animal is missing (empty, `0`, `NA` or `.`).
    #[error("pedigree row {} (1-based): the animal id `{id}` is a missing-value code", .row + 1)]
    MissingAnimal {
        /// 0-based row (messages show it 1-based).
        row: usize,
        /// The text.
        id: String,
    },
    /// An animal listed twice with different parents.
    #[error("animal `{animal}` is listed twice with different parents: ({first_parents}) in row {} and ({parents}) in row {} (1-based)", .first_row + 1, .row + 1)]
    DuplicateAnimal {
        /// The animal.
        animal: String,
        /// 0-based row of the first listing.
        first_row: usize,
        /// Parents of the first listing, as `sire X, dam Y` (`0` if unknown).
        first_parents: String,
        /// 0-based row of the conflicting listing.
        row: usize,
        /// Parents of the conflicting listing.
        parents: String,
    },
    /// An animal used both as a sire and as a dam.
    #[error("animal `{animal}` is used both as a sire (of `{as_sire_of}`) and as a dam (of `{as_dam_of}`)")]
    SexConflict {
        /// The animal.
        animal: String,
        /// An offspring it sired.
        as_sire_of: String,
        /// An offspring it is the dam of.
        as_dam_of: String,
    },
    /// An animal that is its own ancestor.
    #[error("animal `{animal}` is its own ancestor: {}", cycle.join(" → "))]
    Cycle {
        /// The animal.
        animal: String,
        /// The loop, from the animal through parents back to itself.
        cycle: Vec<String>,
    },
    /// An animal id that is not in the pedigree (in a data column matched
    /// against it).
    #[error("row {} (1-based): animal `{id}` is not in the pedigree", .row + 1)]
    UnknownAnimal {
        /// 0-based row of the data column.
        row: usize,
        /// The id.
        id: String,
    },
    /// A dense matrix that would be too large.
    #[error("the dense {what} of {n} animals would need {n} × {n} entries; the limit is {max} animals (use the sparse A⁻¹)")]
    TooLarge {
        /// What was asked for.
        what: &'static str,
        /// Number of animals.
        n: usize,
        /// The largest number allowed.
        max: usize,
    },
    /// A marker genotype that is not 0, 1 or 2.
    #[error("marker matrix, individual {}, marker {} (1-based): {value} is not a genotype 0, 1 or 2", .row + 1, .col + 1)]
    InvalidGenotype {
        /// 0-based individual (row).
        row: usize,
        /// 0-based marker (column).
        col: usize,
        /// The value.
        value: f64,
    },
    /// A marker matrix without any polymorphic marker.
    #[error("the marker matrix ({rows} individuals × {cols} markers) has no polymorphic marker: 2 Σ p(1 − p) = 0")]
    NoPolymorphicMarker {
        /// Individuals.
        rows: usize,
        /// Markers.
        cols: usize,
    },
    /// Lower-triangle CSC arrays that do not describe a matrix.
    #[error("invalid sparse symmetric matrix: {reason}")]
    InvalidMatrix {
        /// What is wrong.
        reason: String,
    },
    /// A column of a data table.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
}
