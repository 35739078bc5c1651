//! The runtime layer: a structure type together with its shape and its
//! parameter table.
//!
//! [`Covariance<S>`] keeps the bookkeeping that a type cannot: which
//! parameters are fixed and at what value, their defaults and transforms, and
//! operand names. It maps free parameters to natural ones, evaluates the
//! matrix, and gives the Jacobian with respect to the free parameters in
//! closed form, by dual numbers, or both compared.
//!
//! One concern per file: `params` (parameter bookkeeping: fixing, defaults,
//! transforms, operand names, free ↔ natural vectors), `eval` (the value and
//! the closed-form Jacobian), `dual` (dual-number Jacobians and the gradient
//! check), `sparse_inverse` (the sparse inverse and its derivatives).

mod dual;
mod eval;
pub(crate) mod model;
mod params;
mod sparse_inverse;

pub use model::CovarianceModel;

use crate::typed::param::{finite, unique_names};
use crate::{CovError, ParamSpec, Structure, Transform};
use std::fmt;
use std::marker::PhantomData;

/// A structure type `S` with its runtime shape and parameter specs.
///
/// ```
/// use covreml::{Covariance, AR1};
/// let mut ar1 = Covariance::<AR1>::new(3).unwrap();
/// ar1.fix("rho", 0.5).unwrap();            // free-scale value: ρ = 2σ(0.5) − 1
/// assert_eq!(ar1.free_names(), ["sigma^2"]);
/// let v = ar1.value(&[0.4]).unwrap();
/// assert!((v[(0, 1)] - 0.5450765073310843).abs() < 1e-15);
/// let j = ar1.jacobian(&[0.4]).unwrap();   // only the free parameter
/// assert_eq!(j.len(), 1);
/// ```
pub struct Covariance<S: Structure> {
    pub(crate) shape: S::Shape,
    pub(crate) specs: Vec<ParamSpec>,
    pub(crate) fixed: Vec<bool>,
    /// Positions of outermost operands renamed from `op_i`.
    pub(crate) renamed: Vec<usize>,
    pub(crate) _structure: PhantomData<S>,
}

impl<S: Structure> Clone for Covariance<S> {
    fn clone(&self) -> Self {
        Covariance {
            shape: self.shape.clone(),
            specs: self.specs.clone(),
            fixed: self.fixed.clone(),
            renamed: self.renamed.clone(),
            _structure: PhantomData,
        }
    }
}

impl<S: Structure> fmt::Debug for Covariance<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Covariance")
            .field("structure", &S::NAME)
            .field("dims", &S::dims(&self.shape))
            .field("params", &self.names())
            .field("free", &self.free_names())
            .finish()
    }
}

/// How the Jacobian with respect to the free parameters is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum JacobianMethod {
    /// The closed form of each structure (the default); structures without
    /// one fall back to dual numbers.
    #[default]
    ClosedForm,
    /// Forward-mode dual numbers through the generic value function.
    DualNumbers,
}

impl<S: Structure> Covariance<S> {
    /// A structure of shape `shape`, every parameter free at its default.
    ///
    /// Fails if the shape is invalid for the structure (for example
    /// `Equicorrelation` of size 1, or operands whose sizes do not fit).
    pub fn new(shape: S::Shape) -> Result<Self, CovError> {
        S::check_shape(&shape)?;
        let specs = S::param_specs(&shape);
        debug_assert_eq!(specs.len(), S::param_count(&shape));
        unique_names(&specs)?;
        for s in &specs {
            finite(&s.name.to_string(), s.default)?;
        }
        let fixed = vec![false; specs.len()];
        Ok(Covariance {
            shape,
            specs,
            fixed,
            renamed: Vec::new(),
            _structure: PhantomData,
        })
    }

    /// The runtime shape.
    pub fn shape(&self) -> &S::Shape {
        &self.shape
    }

    /// `(rows, columns)` of the matrix.
    pub fn dims(&self) -> (usize, usize) {
        S::dims(&self.shape)
    }

    /// The full parameter table, fixed parameters included.
    pub fn specs(&self) -> &[ParamSpec] {
        &self.specs
    }

    /// Number of parameters, fixed ones included.
    pub fn n_params(&self) -> usize {
        self.specs.len()
    }

    /// Number of free parameters.
    pub fn n_free(&self) -> usize {
        self.fixed.iter().filter(|f| !**f).count()
    }

    /// Whether each parameter is fixed, in table order.
    pub fn fixed_mask(&self) -> &[bool] {
        &self.fixed
    }

    /// All parameter names (`time/rho`, …), fixed ones included.
    pub fn names(&self) -> Vec<String> {
        self.specs.iter().map(|s| s.name.to_string()).collect()
    }

    /// Names of the free parameters, in the order free vectors use.
    pub fn free_names(&self) -> Vec<String> {
        self.free_specs().map(|s| s.name.to_string()).collect()
    }

    /// Names of the fixed parameters.
    pub fn fixed_names(&self) -> Vec<String> {
        self.specs
            .iter()
            .zip(&self.fixed)
            .filter(|(_, f)| **f)
            .map(|(s, _)| s.name.to_string())
            .collect()
    }

    /// Defaults of the free parameters (free scale): the default start of a fit.
    pub fn free_defaults(&self) -> Vec<f64> {
        self.free_specs().map(|s| s.default).collect()
    }

    /// Transforms of the free parameters.
    pub fn free_transforms(&self) -> Vec<Transform> {
        self.free_specs().map(|s| s.transform.clone()).collect()
    }

    /// Kinds of the free parameters (see [`ParamKind`](crate::ParamKind)).
    pub fn free_kinds(&self) -> Vec<crate::ParamKind> {
        self.free_specs().map(|s| s.kind).collect()
    }

    pub(crate) fn free_specs(&self) -> impl Iterator<Item = &ParamSpec> {
        self.specs
            .iter()
            .zip(&self.fixed)
            .filter(|(_, f)| !**f)
            .map(|(s, _)| s)
    }
}
