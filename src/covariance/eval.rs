//! Evaluation: the matrix and its closed-form Jacobian with respect to the
//! free parameters, with the checks on what a structure returns.

use super::Covariance;
use crate::structure::Diagonals;
use crate::{CovError, Real, Structure};
use nalgebra::DMatrix;

impl<S: Structure> Covariance<S> {
    /// The matrix at the free parameters `free`.
    pub fn value(&self, free: &[f64]) -> Result<DMatrix<f64>, CovError> {
        self.value_in(free)
    }

    /// The matrix at the free parameters `free`, over any [`Real`]
    /// (`f32`, `f64`, dual numbers).
    pub fn value_in<T: Real>(&self, free: &[T]) -> Result<DMatrix<T>, CovError> {
        let theta = self.natural(free)?;
        let v = S::value(&self.shape, &theta);
        self.check_output(&v, None)?;
        self.finite_matrix(&v, free)?;
        Ok(v)
    }

    pub(crate) fn finite_matrix<T: Real>(
        &self,
        m: &DMatrix<T>,
        free: &[T],
    ) -> Result<(), CovError> {
        // a branch-free pass over the contiguous storage (not nalgebra's
        // strided iterator, and no early exit): the compiler vectorises it
        if m.as_slice().iter().fold(true, |ok, x| ok & x.is_finite()) {
            Ok(())
        } else {
            Err(self.non_finite(free))
        }
    }

    /// Checks that a value (and Jacobian) has the size the structure declares.
    pub(crate) fn check_output<T: Real>(
        &self,
        v: &DMatrix<T>,
        jac: Option<&[DMatrix<T>]>,
    ) -> Result<(), CovError> {
        let dims = self.dims();
        let wrong = |details: String| CovError::WrongOutput {
            structure: S::NAME.to_owned(),
            details,
        };
        if v.shape() != dims {
            return Err(wrong(format!(
                "a {}×{} value, but declares {}×{}",
                v.nrows(),
                v.ncols(),
                dims.0,
                dims.1
            )));
        }
        if let Some(jac) = jac {
            if jac.len() != self.specs.len() {
                return Err(wrong(format!(
                    "{} Jacobian matrices for {} parameters",
                    jac.len(),
                    self.specs.len()
                )));
            }
            if let Some((k, d)) = jac.iter().enumerate().find(|(_, d)| d.shape() != dims) {
                return Err(wrong(format!(
                    "a {}×{} derivative for {}, but declares {}×{}",
                    d.nrows(),
                    d.ncols(),
                    self.specs[k].name,
                    dims.0,
                    dims.1
                )));
            }
        }
        Ok(())
    }

    /// The error for a matrix with NaN or infinite entries at `free`.
    pub(crate) fn non_finite<T: Real>(&self, free: &[T]) -> CovError {
        CovError::NonFiniteMatrix {
            structure: S::NAME,
            params: self
                .free_names()
                .iter()
                .zip(free.iter().zip(self.free_specs()))
                .map(|(n, (x, s))| {
                    let v = real_to_f64(*x);
                    format!(
                        "{n} = {} (natural {})",
                        crate::typed::display::num(v),
                        crate::typed::display::num(s.transform.forward(v))
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// The free vector whose natural values are `natural` (one per free
    /// parameter, in [`free_names`](Self::free_names) order), with an error
    /// naming the parameter whose transform does not reach its value.
    ///
    /// ```
    /// use covreml::{Covariance, AR1};
    /// let ar1 = Covariance::<AR1>::new(3).unwrap();
    /// let x = ar1.free_from_natural(&[4.0, 0.5]).unwrap(); // σ² = 4, ρ = ½
    /// assert!((x[0] - 2f64.ln() ).abs() < 1e-15);          // e^{2x} = 4
    /// assert!(ar1.free_from_natural(&[-1.0, 0.5]).is_err()); // no negative variance
    /// ```
    pub fn free_from_natural(&self, natural: &[f64]) -> Result<Vec<f64>, CovError> {
        self.check_len(natural)?;
        let free_pos = (0..self.specs.len()).filter(|&i| !self.fixed[i]);
        free_pos
            .zip(natural)
            .map(|(i, &v)| self.to_free(i, v))
            .collect()
    }

    /// The matrix at free parameters given on the **natural** scale
    /// (variances, correlations), in [`free_names`](Self::free_names) order.
    ///
    /// ```
    /// use covreml::{Covariance, AR1};
    /// let ar1 = Covariance::<AR1>::new(3).unwrap();
    /// let v = ar1.value_natural(&[4.0, 0.5]).unwrap(); // σ² = 4, ρ = ½
    /// assert!((v[(0, 0)] - 4.0).abs() < 1e-14);
    /// assert!((v[(0, 2)] - 1.0).abs() < 1e-14); // 4 · ½²
    /// ```
    pub fn value_natural(&self, natural: &[f64]) -> Result<DMatrix<f64>, CovError> {
        self.value(&self.free_from_natural(natural)?)
    }

    /// `∂V/∂θ_k` with respect to the **natural** value of each free
    /// parameter, at natural values `natural` (closed form).
    ///
    /// ```
    /// use covreml::{Covariance, Scalar};
    /// let s = Covariance::<Scalar>::new(2).unwrap();
    /// let d = s.jacobian_natural(&[3.0]).unwrap();
    /// assert_eq!(d[0][(1, 1)], 1.0); // ∂(σ² I)/∂σ² = I
    /// ```
    pub fn jacobian_natural(&self, natural: &[f64]) -> Result<Vec<DMatrix<f64>>, CovError> {
        let free = self.free_from_natural(natural)?;
        let theta = self.natural(&free)?;
        let (v, jac) = S::value_and_jacobian(&self.shape, &theta);
        self.check_output(&v, jac.as_deref())?;
        self.finite_matrix(&v, &free)?;
        let jac = jac.ok_or(CovError::NoClosedForm { structure: S::NAME })?;
        Ok(jac
            .into_iter()
            .zip(&self.fixed)
            .filter(|(_, &f)| !f)
            .map(|(d, _)| d)
            .collect())
    }

    /// The matrix at the defaults (the default start of a fit), with the
    /// same checks as [`value`](Self::value).
    pub fn value_at_defaults(&self) -> Result<DMatrix<f64>, CovError> {
        self.value(&self.free_defaults())
    }

    /// Closed-form `∂V/∂x_k` for every free parameter `x_k`.
    ///
    /// Fails with [`CovError::NoClosedForm`] when a structure inside has no
    /// closed form; [`dual_jacobian`](Self::dual_jacobian) always works.
    pub fn jacobian(&self, free: &[f64]) -> Result<Vec<DMatrix<f64>>, CovError> {
        Ok(self.value_and_jacobian_in(free)?.1)
    }

    /// [`jacobian`](Self::jacobian) over any [`Real`].
    pub fn jacobian_in<T: Real>(&self, free: &[T]) -> Result<Vec<DMatrix<T>>, CovError> {
        Ok(self.value_and_jacobian_in(free)?.1)
    }

    /// Value and closed-form Jacobian in one evaluation.
    pub fn value_and_jacobian(
        &self,
        free: &[f64],
    ) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), CovError> {
        self.value_and_jacobian_in(free)
    }

    /// [`value_and_jacobian`](Self::value_and_jacobian) over any [`Real`].
    pub fn value_and_jacobian_in<T: Real>(
        &self,
        free: &[T],
    ) -> Result<(DMatrix<T>, Vec<DMatrix<T>>), CovError> {
        let full = self.full_free(free)?;
        let theta: Vec<T> = full
            .iter()
            .zip(&self.specs)
            .map(|(&x, s)| s.transform.forward(x))
            .collect();
        let (v, jac) = S::value_and_jacobian(&self.shape, &theta);
        self.check_output(&v, jac.as_deref())?;
        self.finite_matrix(&v, free)?;
        let jac = jac.ok_or(CovError::NoClosedForm { structure: S::NAME })?;
        let out: Vec<DMatrix<T>> = jac
            .into_iter()
            .zip(full.iter().zip(&self.specs).zip(&self.fixed))
            .filter(|(_, (_, &f))| !f)
            .map(|(mut d, ((&x, s), _))| {
                // in place and over the contiguous storage: the same products
                // as `d * t`, without a new matrix or a strided iterator
                let t = s.transform.derivative(x);
                d.as_mut_slice().iter_mut().for_each(|e| *e *= t);
                d
            })
            .collect();
        for d in &out {
            self.finite_matrix(d, free)?;
        }
        Ok((v, out))
    }

    /// For a structure whose matrix is always diagonal (see
    /// [`Structure::diagonal`]): the diagonal of the value and of `∂V/∂x_k`
    /// for each free parameter, in `O(n)` memory. `None` for other structures
    /// (a free vector of the wrong length is `Some(Err(…))` for any structure).
    ///
    /// ```
    /// use covreml::{ops::Kron, Covariance, Diagonal, Identity};
    /// let r = Covariance::<Kron<Identity, Diagonal>>::new((2, 3)).unwrap();
    /// let (d, dd) = r.diagonal(&[0.0, 0.5, 0.0]).unwrap().unwrap();
    /// assert_eq!(d.len(), 6);
    /// assert_eq!(d[4], 1f64.exp()); // e^{2·0.5}
    /// assert_eq!(dd[1][4], 2.0 * 1f64.exp()); // ∂/∂x of e^{2x}
    /// assert!(Covariance::<covreml::AR1>::new(3).unwrap().diagonal(&[0.0, 0.0]).is_none());
    /// ```
    pub fn diagonal(&self, free: &[f64]) -> Option<Result<Diagonals<f64>, CovError>> {
        let (full, theta) = match self.full_and_natural(free) {
            Ok(v) => v,
            Err(e) => return Some(Err(e)),
        };
        let (d, jac) = S::diagonal(&self.shape, &theta)?;
        let n = self.dims().0;
        if d.len() != n || jac.len() != self.specs.len() || jac.iter().any(|g| g.len() != n) {
            return Some(Err(CovError::WrongOutput {
                structure: S::NAME.to_owned(),
                details: format!(
                    "a diagonal of length {} with {} derivatives, but declares {n} rows and {} parameters",
                    d.len(),
                    jac.len(),
                    self.specs.len()
                ),
            }));
        }
        if d.iter().any(|x| !x.is_finite()) {
            return Some(Err(self.non_finite(free)));
        }
        let out = jac
            .into_iter()
            .zip(full.iter().zip(&self.specs).zip(&self.fixed))
            .filter(|(_, (_, &f))| !f)
            .map(|(g, ((&x, s), _))| {
                let t = s.transform.derivative(x);
                g.into_iter().map(|v| v * t).collect()
            })
            .collect();
        Some(Ok((d, out)))
    }
}

impl<S: Structure> Covariance<S>
where
    S::NParams: crate::structure::ParamArray,
{
    /// The matrix at free parameters given as an array whose length the
    /// structure type fixes (every parameter free): the wrong length does not
    /// compile.
    pub fn value_static<T: Real>(
        &self,
        free: <S::NParams as crate::structure::ParamArray>::Array<T>,
    ) -> Result<DMatrix<T>, CovError> {
        self.value_in(free.as_ref())
    }
}

/// The real part of a scalar as `f64` (for messages; `NaN` if it has none).
fn real_to_f64<T: Real>(x: T) -> f64 {
    nalgebra::try_convert(x).unwrap_or(f64::NAN)
}
