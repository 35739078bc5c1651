//! # covreml
//!
//! Typed covariance structures and Average-Information REML.
//!
//! Covariance structures are zero-sized types composed at compile time
//! (`Kron<AR1, Real>`), evaluated over any nalgebra `RealField` scalar
//! (`f32`, `f64`, dual numbers), with closed-form Jacobians checked against
//! dual numbers.
//!
//! ```
//! use covreml::{Covariance, AR1};
//! let ar1 = Covariance::<AR1>::new(3).unwrap();
//! let v = ar1.value(&[0.0, 0.0]).unwrap(); // the default start: σ² = 1, ρ = 0
//! assert_eq!(v, nalgebra::DMatrix::identity(3, 3));
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

// Lets the derives' `::covreml::…` paths resolve inside this crate too.
extern crate self as covreml;

mod covariance;
mod custom;
mod error;
mod gradcheck;
mod label;
mod model;
pub mod ops;
mod param;
mod param_table;
mod real;
pub mod structure;
pub mod structures;
mod transform;

pub use covariance::{Covariance, JacobianMethod};
pub use covreml_macros::{Label, ParamTable, Structure};
pub use custom::Custom;
pub use error::CovError;
pub use gradcheck::GradientCheck;
pub use label::Label;
pub use model::CovarianceModel;
pub use param::{ParamName, ParamSpec};
pub use param_table::ParamTable;
pub use real::Real;
pub use structure::Structure;
pub use structures::{
    CompoundSymmetric, Diagonal, EqualEntry, Equicorrelation, Fixed, Identity, LowerTriangular,
    Scalar, Unconstrained, AR1,
};
pub use transform::Transform;

/// Re-exports of nalgebra's dimension types used in structure signatures.
pub use nalgebra::{Const, Dyn};

/// Paths used by the derive macros' generated code; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use nalgebra::DMatrix;
    pub use std::option::Option;
    pub use std::result::Result;
    pub use std::vec;
    pub use std::vec::Vec;
}
