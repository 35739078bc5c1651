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

mod covariance;
pub mod data;
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
pub use error::CovError;
pub use gradcheck::GradientCheck;
pub use model::CovarianceModel;
pub use param::{ParamName, ParamSpec};
pub use real::Real;
pub use structure::Structure;
pub use structures::{
    CompoundSymmetric, Diagonal, EqualEntry, Equicorrelation, Fixed, Identity, LowerTriangular,
    Scalar, Unconstrained, AR1,
};
pub use transform::Transform;

/// Re-exports of nalgebra's dimension types used in structure signatures.
pub use nalgebra::{Const, Dyn};
