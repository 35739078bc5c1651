//! Dual-number Jacobians (exact to rounding, through the generic value
//! function), the method switch, and the closed-form-versus-dual check.

use super::{Covariance, JacobianMethod};
use crate::{CovError, Real, Structure};
use nalgebra::{Const, DMatrix};
use num_dual::{DualNumFloat, DualSVec, DualVec};

/// Number of derivative directions carried by one dual-number pass.
const DUAL_CHUNK: usize = 4;

impl<S: Structure> Covariance<S> {
    /// `∂V/∂x_k` by forward-mode dual numbers through the generic value
    /// function: exact to rounding, four directions per pass.
    pub fn dual_jacobian<F: DualNumFloat + Real + num_dual::DualNum<Primitive = F>>(
        &self,
        free: &[F],
    ) -> Result<Vec<DMatrix<F>>, CovError> {
        type D<F> = DualVec<F, Const<DUAL_CHUNK>>;
        let full = self.full_free(free)?;
        let free_pos: Vec<usize> = (0..self.specs.len()).filter(|&i| !self.fixed[i]).collect();
        let mut out = Vec::with_capacity(free_pos.len());
        for chunk in free_pos.chunks(DUAL_CHUNK) {
            let theta: Vec<D<F>> = full
                .iter()
                .zip(&self.specs)
                .enumerate()
                .map(|(i, (&x, s))| {
                    let mut d = D::<F>::from_re(x);
                    if let Some(k) = chunk.iter().position(|&p| p == i) {
                        d = d.derivative(k);
                    }
                    s.transform.forward(d)
                })
                .collect();
            let v = S::value(&self.shape, &theta);
            self.check_output(&v.map(|e| e.re), None)?;
            self.finite_matrix(&v.map(|e| e.re), free)?;
            for k in 0..chunk.len() {
                let d = v.map(|e| match e.eps.0 {
                    Some(ref m) => m[k],
                    None => F::zero(),
                });
                self.finite_matrix(&d, free)?;
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Value and Jacobian with the chosen method, in `f64`.
    pub fn value_and_jacobian_with(
        &self,
        free: &[f64],
        method: JacobianMethod,
    ) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), CovError> {
        match method {
            JacobianMethod::ClosedForm => match self.value_and_jacobian(free) {
                Err(CovError::NoClosedForm { .. }) => {
                    Ok((self.value(free)?, self.dual_jacobian(free)?))
                }
                r => r,
            },
            JacobianMethod::DualNumbers => Ok((self.value(free)?, self.dual_jacobian(free)?)),
        }
    }

    /// Compares the closed-form Jacobian with the dual-number one at `free`
    /// and reports the largest difference per parameter.
    pub fn check_gradients(&self, free: &[f64]) -> Result<crate::GradientCheck, CovError> {
        let closed = self.jacobian(free)?;
        let dual = self.dual_jacobian(free)?;
        Ok(crate::GradientCheck::compare(
            self.free_names(),
            &closed,
            &dual,
        ))
    }
}

impl<S: Structure<NParams = Const<N>>, const N: usize> Covariance<S> {
    /// The whole Jacobian in **one** dual-number pass, with `N`-direction duals
    /// (`DualSVec64<N>`), where the type fixes the parameter count `N` and every
    /// parameter is free.
    ///
    /// ```
    /// use covreml::{ops::Kron, Covariance, Const, Scalar, AR1};
    /// let k = Covariance::<Kron<AR1<Const<2>>, Scalar<Const<2>>>>::new(((), ())).unwrap();
    /// let one_pass = k.dual_jacobian_one_pass([1.0, 1.0, 1.0]).unwrap();
    /// assert_eq!(one_pass, k.jacobian(&[1.0, 1.0, 1.0]).unwrap());
    /// ```
    pub fn dual_jacobian_one_pass(&self, free: [f64; N]) -> Result<Vec<DMatrix<f64>>, CovError> {
        let full = self.full_free(&free)?;
        let theta: Vec<DualVec<f64, Const<N>>> = full
            .iter()
            .zip(&self.specs)
            .enumerate()
            .map(|(i, (&x, s))| {
                s.transform
                    .forward(DualSVec::<f64, N>::from_re(x).derivative(i))
            })
            .collect();
        let v = S::value(&self.shape, &theta);
        self.check_output(&v.map(|e| e.re), None)?;
        self.finite_matrix(&v.map(|e| e.re), &free)?;
        Ok((0..N)
            .map(|k| v.map(|e| e.eps.0.as_ref().map_or(0.0, |m| m[k])))
            .collect())
    }
}
