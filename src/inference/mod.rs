//! Inference between fits: likelihood-ratio tests of nested models.
//!
//! F tests of fixed-effect terms (Satterthwaite, Kenward–Roger) and ML fits
//! are the next steps; their R references are in `tests/data/r/`.

mod chi_square;
mod lrt;

pub use chi_square::chi_square_sf;
pub use lrt::{likelihood_ratio, InferenceError, LikelihoodRatio};
