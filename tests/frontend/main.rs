//! The front door: lme4-style formulas and the `covreml` command.
//!
//! One test binary per layer (each binary costs a link of the whole crate);
//! every file here is a module.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod formula;
mod inference;
mod iterative;
mod messy_data;
mod multi_trait;
mod predict;
mod random_inputs;
mod readme;
mod random_structures;
mod residual_keywords;
