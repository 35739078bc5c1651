//! Data helpers: CSV tables with missing values, design matrices from categorical
//! columns, the embedded john.alpha data.

mod columnar;
mod csv;
mod design;
mod error;
mod level_coding;
mod level_order;
mod missing;
mod shapes;
mod sparse_design;

pub use csv::Table;
pub use design::{dummy, Dummy, DummyOptions, Incidence, ModelMatrix, INTERACTION_SEPARATOR};
pub use error::DataError;
pub use level_coding::LevelCoding;
pub use level_order::{level_codes, sorted_levels};
pub use missing::{is_missing_value, CompleteRows, NaAction, MISSING_VALUES};
pub(crate) use sparse_design::coefficient_column;
pub use sparse_design::SparseDesign;
