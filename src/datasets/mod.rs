//! Embedded data sets and the models of the reference fits, built from their
//! tables: what the examples, tests and benchmarks fit.
//!
//! This module sits above the estimator (it builds [`MixedModel`](crate::MixedModel)s);
//! the data layer ([`data`](crate::data): tables, factors, CSV, missing
//! values) sits below it and imports nothing from here, as MixedModels.jl
//! keeps its data sets in a package of their own.
//!
//! ```
//! use covreml::datasets::{john_alpha, john_alpha_model};
//! let m = john_alpha_model(&john_alpha()).unwrap();
//! assert_eq!(m.param_names().len(), 3);
//! ```

mod john_alpha;
mod models;
mod nlme_models;

pub use john_alpha::{john_alpha, JOHN_ALPHA_CSV};
pub use models::{
    ar1_repeated_model, crossed_model, intercepts_model, john_alpha_model, sleepstudy_model,
};
pub use nlme_models::{bodyweight_car1_model, orthodont_car1_model, orthodont_us_model};
