//! The REML engine: fits against lme4, nlme and torch-openreml references on
//! both backends, ML, boundaries, errors, hostile data, data-linked
//! structures and the post-estimation API.
//!
//! One test binary per layer (each binary costs a link of the whole crate);
//! every file here is a module.

#[path = "../common/mod.rs"]
mod common;

mod analysis_cache;
mod api_extras;
mod boundary_optima;
mod fixed_factors;
mod grouped;
mod hostile;
mod lme4;
mod ml;
mod multi_trait;
mod reml_ar1_repeated;
mod reml_boundaries;
mod reml_crossed;
mod reml_diagonal_residual;
mod reml_errors;
mod reml_john_alpha;
mod sparse_backend;
mod sparse_structures;
