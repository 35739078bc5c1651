//! Inference from fits: likelihood-ratio tests of nested models; Wald F
//! and t tests of the fixed effects with Satterthwaite's or
//! Kenward–Roger's denominator degrees of freedom ([`fixed_effect_tests`]);
//! confidence intervals, Wald and profile-likelihood ([`intervals`]).

mod chi_square;
mod distributions;
mod fixed_tests;
mod kenward_roger;
mod lrt;
mod profile;
mod satterthwaite;

pub use chi_square::chi_square_sf;
pub use distributions::{f_sf, t_two_sided, Z_975};
pub use fixed_tests::{
    doolittle_rows, fixed_effect_tests, term_rows, CoefficientTest, Ddf, FixedTests, TermTest,
};
pub(crate) use kenward_roger::{x_dense, SigmaSolver};
pub use kenward_roger::{KenwardRoger, KrTest, MAX_N as KENWARD_ROGER_MAX_N};
pub use lrt::{likelihood_ratio, InferenceError, LikelihoodRatio};
pub use profile::{intervals, CiMethod, Interval};
pub use satterthwaite::{satterthwaite, FTest};
