//! Inference between fits: likelihood-ratio tests of nested models.
//!
//! Wald F tests of fixed-effect hypotheses with Satterthwaite's
//! denominator degrees of freedom ([`satterthwaite`]); Kenward–Roger is the
//! next step (its R references are in `tests/data/r/`).

mod chi_square;
mod lrt;
mod satterthwaite;

pub use chi_square::chi_square_sf;
pub use lrt::{likelihood_ratio, InferenceError, LikelihoodRatio};
pub use satterthwaite::{satterthwaite, FTest};
