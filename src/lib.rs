#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod covariance;
pub mod data;
mod display;
mod error;
mod gradcheck;
mod model;
pub mod ops;
mod param;
mod real;
pub mod reml;
pub mod structure;
pub mod structures;
mod transform;

pub use covariance::{Covariance, JacobianMethod};
pub use display::format_matrix;
pub use error::CovError;
pub use gradcheck::GradientCheck;
pub use model::CovarianceModel;
pub use ops::{
    Augment, BlockDiag, Gram, Hadamard, Inverse, Kron, Label, Named, Product, Propagate, Stack,
    Sum, Transpose,
};
pub use param::{ParamName, ParamSpec};
pub use real::Real;
pub use reml::{MarginalModel, MixedModel, RemlError, RemlFit, RemlOptions, Termination};
pub use structure::Structure;
pub use structures::{
    CompoundSymmetric, Diagonal, EqualEntry, Equicorrelation, Fixed, Identity, LowerTriangular,
    Scalar, Unconstrained, AR1,
};
pub use transform::Transform;

/// Re-exports of nalgebra's dimension types used in structure signatures.
pub use nalgebra::{Const, Dyn};
