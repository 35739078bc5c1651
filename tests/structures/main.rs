//! Covariance structures and operators: values and closed-form Jacobians against
//! references and dual numbers, derives, errors, the seed system's API,
//! pedigrees and factor-analytic models.
//!
//! One test binary per layer (each binary costs a link of the whole crate);
//! every file here is a module.

#[path = "../common/mod.rs"]
mod common;

mod adapter;
mod compositions;
mod derive;
mod diagonal;
mod errors;
mod factor_analytic;
mod gradients;
mod multi_trait_residual;
mod pedigree;
mod reference;
mod scalars;
mod seed_api;
mod sparse_into;
mod user_structure;
mod wrong_outputs;
