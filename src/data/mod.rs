//! Data helpers: CSV tables with missing values, design matrices from categorical
//! columns, the embedded john.alpha data.

mod csv;
mod design;
mod error;
mod john_alpha;
mod levels;
mod missing;
mod models;
mod nlme_models;
mod sparse_design;

pub use csv::Table;
pub use design::{dummy, Dummy, DummyOptions, Incidence, ModelMatrix, INTERACTION_SEPARATOR};
pub use error::DataError;
pub use john_alpha::{john_alpha, JOHN_ALPHA_CSV};
pub use levels::Levels;
pub use missing::{is_missing_value, CompleteRows, NaAction, MISSING_VALUES};
pub use models::{
    ar1_repeated_model, crossed_model, intercepts_model, john_alpha_model, sleepstudy_model,
};
pub use nlme_models::{bodyweight_car1_model, orthodont_car1_model, orthodont_us_model};
pub use sparse_design::SparseDesign;
