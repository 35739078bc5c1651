//! Errors of the formula layer: each names the offending token (with its
//! 1-based character column in the formula) or the column of the table.

use crate::data::DataError;
use crate::reml::RemlError;
use thiserror::Error;

/// A byte range `start..end` of the formula text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The range `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The 1-based character column of the span's start in `text`.
    pub fn column(&self, text: &str) -> usize {
        text.get(..self.start)
            .map_or(self.start, |s| s.chars().count())
            + 1
    }

    /// Two lines: `text`, and a line of `^` under the span.
    ///
    /// ```
    /// use covreml::formula::Span;
    /// let s = Span::new(4, 7);
    /// assert_eq!(s.underline("y ~ abc + d"), "y ~ abc + d\n    ^^^");
    /// ```
    pub fn underline(&self, text: &str) -> String {
        let before = text.get(..self.start).map_or(0, |s| s.chars().count());
        let width = text
            .get(self.start..self.end.min(text.len()))
            .map_or(1, |s| s.chars().count())
            .max(1);
        format!("{text}\n{}{}", " ".repeat(before), "^".repeat(width))
    }
}

/// What can go wrong when parsing a formula or building a model from one.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum FormulaError {
    /// The text does not follow the grammar.
    #[error("column {column}: expected {expected}, found {found}")]
    Syntax {
        /// Where.
        at: Span,
        /// 1-based character column.
        column: usize,
        /// What the grammar allows here.
        expected: String,
        /// What is there (`end of formula` at the end).
        found: String,
    },
    /// A name that is not a column of the table.
    #[error("column {column}: no column `{name}`{}; the columns are: {available}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownColumn {
        /// Where.
        at: Span,
        /// 1-based character column.
        column: usize,
        /// The name.
        name: String,
        /// The closest column name, if one is close.
        suggestion: Option<String>,
        /// The table's columns, comma separated.
        available: String,
    },
    /// A column that must hold numbers holds text.
    #[error("column {column}: `{name}` must be numeric ({reason}), but line {line} of the data holds `{value}`")]
    NotNumeric {
        /// Where.
        at: Span,
        /// 1-based character column.
        column: usize,
        /// The table column.
        name: String,
        /// Why it must be numeric.
        reason: String,
        /// 1-based line of the data file.
        line: usize,
        /// The text found.
        value: String,
    },
    /// The response also appears among the predictors.
    #[error("column {column}: the response column `{name}` is also a predictor; a model of a column on itself fits perfectly and estimates nothing")]
    ResponseAsPredictor {
        /// Where the predictor is written.
        at: Span,
        /// 1-based character column.
        column: usize,
        /// The response column.
        name: String,
    },
    /// The response does not vary.
    #[error("the response `{name}` is constant (every row used holds {value}): there is no variation to estimate variances from")]
    ConstantResponse {
        /// The response column.
        name: String,
        /// Its one value.
        value: f64,
    },
    /// No row to fit.
    #[error("no data rows: {reason}")]
    NoRows {
        /// Why there is none.
        reason: String,
    },
    /// Valid syntax that this version does not support.
    #[error("column {column}: {what}")]
    Unsupported {
        /// Where.
        at: Span,
        /// 1-based character column.
        column: usize,
        /// What is not supported, and what to write instead.
        what: String,
    },
    /// A residual keyword for a structure the library does not have yet.
    #[error("column {column}: the residual structure `{keyword}` is not yet available (the grammar knows it; the structure is coming); use `iid` or `diag(f)`")]
    NotYetAvailable {
        /// Where.
        at: Span,
        /// 1-based character column.
        column: usize,
        /// The keyword.
        keyword: String,
    },
    /// A model without fixed effects or without any term.
    #[error("empty model: {reason}")]
    EmptyModel {
        /// What is missing.
        reason: String,
    },
    /// Fixed-effect columns that are linear combinations of the ones before.
    #[error("the fixed effects are rank deficient: {columns} are linear combinations of the columns before them")]
    RankDeficient {
        /// The column names.
        columns: String,
    },
    /// A known relationship matrix (`--pedigree`, `--grm`) that cannot be
    /// used.
    #[error("the relationship matrix of `{column}`: {reason}")]
    Relationship {
        /// The grouping column it belongs to.
        column: String,
        /// What is wrong.
        reason: String,
    },
    /// A prior-weight column (`--weights`) that cannot be used.
    #[error("the weights `{column}`: {reason}")]
    Weights {
        /// The weight column.
        column: String,
        /// What is wrong.
        reason: String,
    },
    /// Reading the table failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Building or evaluating the mixed model failed.
    #[error(transparent)]
    Model(#[from] RemlError),
    /// Two models cannot be compared.
    #[error(transparent)]
    Inference(#[from] crate::inference::InferenceError),
}

impl FormulaError {
    /// The span of the offending token, for errors that have one.
    pub fn span(&self) -> Option<Span> {
        match self {
            FormulaError::Syntax { at, .. }
            | FormulaError::UnknownColumn { at, .. }
            | FormulaError::NotNumeric { at, .. }
            | FormulaError::ResponseAsPredictor { at, .. }
            | FormulaError::Unsupported { at, .. }
            | FormulaError::NotYetAvailable { at, .. } => Some(*at),
            _ => None,
        }
    }

    pub(crate) fn syntax(text: &str, at: Span, expected: &str, found: &str) -> Self {
        FormulaError::Syntax {
            at,
            column: at.column(text),
            expected: expected.into(),
            found: found.into(),
        }
    }

    pub(crate) fn unsupported(text: &str, at: Span, what: impl Into<String>) -> Self {
        FormulaError::Unsupported {
            at,
            column: at.column(text),
            what: what.into(),
        }
    }
}
