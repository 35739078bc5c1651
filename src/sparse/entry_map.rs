//! [`EntryMap`]: where requested entries of the selected inverse are stored.

/// Positions, in the selected-inverse storage of one
/// [`SparseCholesky`](super::SparseCholesky), of a list of entries; built once per pattern by
/// [`SparseCholesky::entry_map`](super::SparseCholesky::entry_map).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryMap {
    pub(super) positions: Vec<usize>,
}

impl EntryMap {
    /// Number of mapped entries.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Whether no entry is mapped.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }
}
