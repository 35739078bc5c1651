//! The object-safe, `f64` face of a covariance structure that the REML engine
//! consumes: any [`Covariance<S>`](crate::Covariance) is a [`CovarianceModel`].

use crate::structure::Diagonals;
use crate::{CovError, Covariance, JacobianMethod, Structure, Transform};
use nalgebra::DMatrix;

/// A parameterised matrix seen by the estimator: free parameters in, value
/// and Jacobian with respect to them out.
pub trait CovarianceModel: Send + Sync {
    /// `(rows, columns)`.
    fn dims(&self) -> (usize, usize);
    /// Number of free parameters.
    fn n_free(&self) -> usize;
    /// Names of the free parameters.
    fn free_names(&self) -> Vec<String>;
    /// Default free values: the default start.
    fn free_defaults(&self) -> Vec<f64>;
    /// Transforms of the free parameters (free → natural).
    fn free_transforms(&self) -> Vec<Transform>;
    /// The matrix at `free`.
    fn value_f64(&self, free: &[f64]) -> Result<DMatrix<f64>, CovError>;
    /// The matrix and `∂V/∂x_k` for each free parameter.
    fn value_and_jacobian_f64(
        &self,
        free: &[f64],
        method: JacobianMethod,
    ) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), CovError>;
    /// For a matrix that is diagonal at every parameter value: its diagonal
    /// and the diagonals of `∂V/∂x_k`. `None` (the default) means "treat the
    /// matrix as dense".
    fn diagonal_f64(&self, free: &[f64]) -> Option<Result<Diagonals<f64>, CovError>> {
        let _ = free;
        None
    }
}

impl<S: Structure> CovarianceModel for Covariance<S> {
    fn dims(&self) -> (usize, usize) {
        Covariance::dims(self)
    }
    fn n_free(&self) -> usize {
        Covariance::n_free(self)
    }
    fn free_names(&self) -> Vec<String> {
        Covariance::free_names(self)
    }
    fn free_defaults(&self) -> Vec<f64> {
        Covariance::free_defaults(self)
    }
    fn free_transforms(&self) -> Vec<Transform> {
        Covariance::free_transforms(self)
    }
    fn value_f64(&self, free: &[f64]) -> Result<DMatrix<f64>, CovError> {
        self.value(free)
    }
    fn value_and_jacobian_f64(
        &self,
        free: &[f64],
        method: JacobianMethod,
    ) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), CovError> {
        self.value_and_jacobian_with(free, method)
    }
    fn diagonal_f64(&self, free: &[f64]) -> Option<Result<Diagonals<f64>, CovError>> {
        self.diagonal(free)
    }
}
