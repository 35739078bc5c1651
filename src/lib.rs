#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

// Lets the derives' `::covreml::…` paths resolve inside this crate too.
extern crate self as covreml;

mod covariance;
mod custom;
pub mod data;
pub mod datasets;
mod display;
mod error;
pub mod formula;
mod gradcheck;
pub mod inference;
mod model;
pub mod ops;
mod param;
mod param_table;
pub mod pedigree;
mod real;
pub mod reml;
#[cfg(feature = "serde")]
mod serde_support;
mod sparse;
mod sparse_inverse;
pub mod static_structure;
pub mod structure;
pub mod structures;
mod transform;

pub use covariance::{Covariance, JacobianMethod};
pub use covreml_macros::{Label, ParamTable, Structure};
pub use custom::Custom;
pub use display::format_matrix;
pub use error::CovError;
pub use gradcheck::GradientCheck;
pub use model::CovarianceModel;
pub use ops::{
    Adapter, Augment, BlockDiag, Gram, Hadamard, Inverse, Kron, Label, Named, Product, Propagate,
    Stack, Sum, Transpose,
};
pub use param::{ParamName, ParamSpec};
pub use param_table::ParamTable;
pub use real::Real;
pub use reml::{MarginalModel, MixedModel, RemlError, RemlFit, RemlOptions, Termination};
pub use sparse_inverse::SparseInverse;
pub use static_structure::StaticStructure;
pub use structure::Structure;
pub use structures::{
    CompoundSymmetric, Diagonal, EqualEntry, Equicorrelation, Fixed, Identity, LowerTriangular,
    Scalar, Unconstrained, AR1,
};
pub use structures::{FactorAnalytic, FA};
pub use transform::Transform;

/// Re-exports of nalgebra's dimension types used in structure signatures.
pub use nalgebra::{Const, Dyn};

/// The crate-private sparse Cholesky layer, exposed for its integration
/// tests and benchmark only; not a public API.
#[doc(hidden)]
pub mod __sparse_testing {
    pub use crate::sparse::{
        EntryMap, Layout, Ordering, SparseCholesky, SparseError, SparseOptions,
    };
}
/// The nalgebra version covreml uses, so that a user builds `Fixed`
/// operands and reads results without pinning the same version.
///
/// ```
/// let z = covreml::nalgebra::dmatrix![1.0, 0.0; 0.0, 1.0];
/// assert_eq!(z.nrows(), 2);
/// ```
pub use nalgebra;

/// The num-dual version covreml uses, for dual-number evaluation.
///
/// ```
/// use covreml::num_dual::{Dual64, DualNum};
/// let x = Dual64::from_re(2.0).derivative();
/// assert_eq!(x.powi(2).eps, 4.0);
/// ```
pub use num_dual;

/// Paths used by the derive macros' generated code; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::custom::{custom_jacobian, custom_value};
    pub use nalgebra::DMatrix;
    pub use std::option::Option;
    pub use std::result::Result;
    pub use std::vec;
    pub use std::vec::Vec;
}
