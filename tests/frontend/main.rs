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
mod plots_render;
mod predict;
mod progress;
mod random_inputs;
mod random_structures;
mod readme;
mod residual_keywords;
mod singular_g;
