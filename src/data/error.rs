//! Errors of the data helpers.

use thiserror::Error;

/// What can go wrong when reading a table or building a design.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file that could not be read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The path.
        path: String,
        /// The system's message.
        reason: String,
    },
    /// A table without a header line.
    #[error("the table is empty (no header line)")]
    Empty,
    /// A row with a different number of fields than the header.
    #[error("line {line}: {got} fields, the header has {expected}")]
    RaggedRow {
        /// 1-based line number.
        line: usize,
        /// Fields in the header.
        expected: usize,
        /// Fields in the line.
        got: usize,
    },
    /// A column that is not in the table.
    #[error("no column `{name}`; the columns are: {available}")]
    MissingColumn {
        /// The name asked for.
        name: String,
        /// The table's columns, comma separated.
        available: String,
    },
    /// A value that is not a finite number in a numeric column.
    #[error("column `{column}`, line {line}: `{value}` is not a finite number")]
    NotNumeric {
        /// The column.
        column: String,
        /// 1-based line of the file.
        line: usize,
        /// The text.
        value: String,
    },
    /// A missing value (see [`MISSING_VALUES`](crate::data::MISSING_VALUES))
    /// where a value is needed.
    #[error("column `{column}`, line {line}: missing value (`{value}`)")]
    MissingValue {
        /// The column.
        column: String,
        /// 1-based line of the file.
        line: usize,
        /// The text as written.
        value: String,
    },
    /// Two columns with the same name in a header.
    #[error("columns {first} and {second} are both named `{name}`; column names must be unique")]
    DuplicateColumn {
        /// The repeated name.
        name: String,
        /// 1-based position of the first.
        first: usize,
        /// 1-based position of the second.
        second: usize,
    },
    /// Text that is not valid CSV (an unterminated quote) or not UTF-8.
    #[error("line {line}: {reason}")]
    Malformed {
        /// 1-based line of the file.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Columns of different lengths, or no columns, given to a design.
    #[error("invalid design: {reason}")]
    InvalidDesign {
        /// What is wrong.
        reason: String,
    },
    /// A level index outside `0..n_levels`.
    #[error("row {row}: level {level} is outside 0..{n_levels}")]
    LevelOutOfRange {
        /// 1-based row.
        row: usize,
        /// The level given.
        level: usize,
        /// Number of levels.
        n_levels: usize,
    },
}
