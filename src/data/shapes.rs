//! Structure shapes built from a [`Table`] by column names: the data layer's
//! side of the grouped and spatial structures, so that the structures
//! themselves never see a table (they sit below the data layer).
//!
//! ```
//! use covreml::data::Table;
//! use covreml::structures::grouped::GroupedTimes;
//! let t = Table::parse("id,age\nb,10\na,8\n").unwrap();
//! assert_eq!(GroupedTimes::from_columns(&t, "id", "age").unwrap().len(), 2);
//! ```

use super::{DataError, Table};
use crate::structures::grouped::{GroupedTimes, Levels};
use crate::structures::spatial::{Coordinates, Grid};

impl Levels {
    /// From the column `name` of a table.
    pub fn from_column(table: &Table, name: &str) -> Result<Self, DataError> {
        Self::new(table.column(name)?)
    }
}

impl GroupedTimes {
    /// From the columns `group` (any text) and `time` (numbers) of a table;
    /// messages name rows by their file lines.
    pub fn from_columns(table: &Table, group: &str, time: &str) -> Result<Self, DataError> {
        let g = table.column(group)?;
        let t = table.numeric(time)?;
        Ok(Self::build(g, &t, time)?.with_lines(table.lines()))
    }
}

impl Grid {
    /// From the columns `row` and `col` (whole numbers) of a table.
    pub fn from_columns(table: &Table, row: &str, col: &str) -> Result<Self, DataError> {
        Self::build(&table.numeric(row)?, &table.numeric(col)?, (row, col))
    }
}

impl Coordinates {
    /// From numeric columns of a table, one per dimension.
    pub fn from_columns(table: &Table, columns: &[&str]) -> Result<Self, DataError> {
        let axes = columns
            .iter()
            .map(|c| table.numeric(c))
            .collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&[f64]> = axes.iter().map(Vec::as_slice).collect();
        let names: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        Self::build(&refs, &names)
    }
}
