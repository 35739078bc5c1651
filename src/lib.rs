#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

// Lets the derives' `::covreml::…` paths resolve inside this crate too.
extern crate self as covreml;

// The layers, bottom to top (each imports only from the ones before it;
// the README's "Layout" section maps them):
// the sparse linear algebra, a leaf over faer and rayon;
mod sparse;
// the typed core — structure traits, transforms, parameter tables, the
// dual-number checker, the leaves and the operators;
mod typed;
pub use typed::{static_structure, structure};
pub mod ops;
pub mod structures;
// the runtime covariance (`Covariance<S>` and its object-safe face);
mod covariance;
// data: tables, factors, CSV, missing values;
pub mod data;
pub mod pedigree;
// multi-trait models (several responses, trait covariances, missing traits);
pub mod multi_trait;
// the estimator: backends, the AI-REML driver, post-estimation;
pub mod reml;
// inference on fitted models;
pub mod inference;
// the formula front end, and the `covreml` command (`src/bin/covreml.rs`
// is its `main`);
#[cfg(feature = "cli")]
pub mod cli;
pub mod formula;
// embedded data sets and their models, above everything they build.
pub mod datasets;
#[cfg(feature = "serde")]
mod serde_support;

pub use covariance::{Covariance, CovarianceModel, JacobianMethod};
pub use covreml_macros::{Label, ParamTable, Structure};
pub use ops::{
    Adapter, Augment, BlockDiag, Gram, Hadamard, Inverse, Kron, Label, Named, Product, Propagate,
    Stack, Sum, Transpose,
};
pub use reml::{MarginalModel, MixedModel, RemlError, RemlFit, RemlOptions, Termination};
pub use static_structure::StaticStructure;
pub use structure::Structure;
pub use structures::{
    CompoundSymmetric, Diagonal, EqualEntry, Equicorrelation, Fixed, Identity, LowerTriangular,
    Scalar, Unconstrained, AR1,
};
pub use structures::{FactorAnalytic, FA};
pub use typed::custom::Custom;
pub use typed::display::format_matrix;
pub use typed::error::CovError;
pub use typed::gradcheck::GradientCheck;
pub use typed::param::{ParamKind, ParamName, ParamSpec};
pub use typed::param_table::ParamTable;
pub use typed::real::Real;
pub use typed::sparse_inverse::SparseInverse;
pub use typed::transform::Transform;

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
    pub use crate::typed::custom::{custom_jacobian, custom_value};
    pub use nalgebra::DMatrix;
    pub use std::option::Option;
    pub use std::result::Result;
    pub use std::vec;
    pub use std::vec::Vec;
}
