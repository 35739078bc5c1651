//! The marginal model: `y ~ N(Xβ, V(θ))` with any covariance model `V`.

use super::checks::check_fixed;
use super::dense::{Dense, Derivatives, Problem};
use super::driver;
use super::evaluator::ParamInfo;
use super::fixed::FixedPart;
use super::fixed_effects::FixedEffects;
use super::linalg;
use super::options;
use super::post::MarginalPost;
use super::{Iteration, RemlError, RemlFit, RemlOptions};
use crate::covariance::model::Checked;
use crate::{CovarianceModel, JacobianMethod};
use faer::{Mat, MatRef};

/// A marginal model `y ~ N(Xβ, V(θ))`: REML estimation of the free
/// parameters of `V`.
///
/// ```
/// use covreml::reml::{MarginalModel, RemlOptions};
/// use covreml::{Covariance, Scalar};
/// use nalgebra::DMatrix;
/// let y = [1.0, 2.0, 4.0, 3.0, 5.0];
/// let x = DMatrix::from_element(5, 1, 1.0); // intercept only
/// let v = Covariance::<Scalar>::new(5).unwrap();
/// let fit = MarginalModel::new(&y, &x, Box::new(v)).unwrap()
///     .fit(&RemlOptions::default().tolerance(1e-10)).unwrap();
/// // σ² is the sample variance, β the mean.
/// assert!((fit.natural[0] - 2.5).abs() < 1e-9);
/// assert!((fit.beta[0] - 3.0).abs() < 1e-12);
/// ```
pub struct MarginalModel {
    fixed: FixedPart,
    v: Box<dyn CovarianceModel>,
}

impl std::fmt::Debug for MarginalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MarginalModel")
            .field("n", &self.fixed.n())
            .field("p", &self.fixed.p())
            .field("params", &self.v.free_names())
            .finish()
    }
}

impl MarginalModel {
    /// A model of `y` (length `n`) with fixed-effect design `x` (`n × p`)
    /// and covariance `v` (`n × n`).
    ///
    /// Fails if the sizes disagree, a value is not finite, `n ≤ p`, or `x`
    /// is rank deficient.
    pub fn new(
        y: &[f64],
        x: impl Into<FixedEffects>,
        v: Box<dyn CovarianceModel>,
    ) -> Result<Self, RemlError> {
        let fixed = check_fixed(y, x.into())?;
        let n = fixed.n();
        if v.dims() != (n, n) {
            return Err(RemlError::DimensionMismatch {
                operand: "V".into(),
                expected: format!("{n} × {n} (the length of y)"),
                got: format!("{} × {}", v.dims().0, v.dims().1),
            });
        }
        let v = Box::new(Checked::new(v, "V").map_err(cov_err)?);
        Ok(MarginalModel { fixed, v })
    }

    /// Names the fixed effects (the columns of `X`), for the fit's report.
    pub fn with_fixed_names(mut self, names: &[&str]) -> Result<Self, RemlError> {
        self.fixed.set_names(names)?;
        Ok(self)
    }

    /// Number of observations.
    pub fn n(&self) -> usize {
        self.fixed.n()
    }

    /// Names of the free parameters.
    pub fn param_names(&self) -> Vec<String> {
        self.v.free_names()
    }

    /// Fits by AI-REML.
    pub fn fit(&self, opts: &RemlOptions) -> Result<RemlFit, RemlError> {
        self.fit_with(opts, |_| {})
    }

    /// Fits by AI-REML, calling `observer` after every iteration.
    pub fn fit_with(
        &self,
        opts: &RemlOptions,
        mut observer: impl FnMut(&Iteration),
    ) -> Result<RemlFit, RemlError> {
        let mut ev = Dense::new(self, &self.fixed)?.with_method(opts.method);
        driver::fit(&self.params(), &mut ev, &self.fixed, opts, &mut observer)
    }

    /// REML log-likelihood (full) at the free parameters `free`.
    pub fn loglik(&self, free: &[f64]) -> Result<f64, RemlError> {
        options::check_len("parameters", free, &self.params().names)?;
        let mut ev = Dense::new(self, &self.fixed)?;
        Ok(ev.p_at(free)?.0.ll)
    }

    /// The REML log-likelihood, score and AI matrix at the free parameters
    /// `free` (any point, not only an optimum).
    pub fn evaluate(
        &self,
        free: &[f64],
        opts: &RemlOptions,
    ) -> Result<crate::reml::Evaluation, RemlError> {
        let mut ev = Dense::new(self, &self.fixed)?.with_method(opts.method);
        driver::evaluate_at(&self.params(), &mut ev, &self.fixed, free, opts.jacobian)
    }

    /// Post-estimation at the free parameters of a fit: BLUE, marginal
    /// predictions and residuals.
    pub fn post(&self, fit: &RemlFit) -> Result<MarginalPost, RemlError> {
        self.post_at(&fit.free)
    }

    /// Post-estimation at any free parameters `free` (not only a fit's
    /// estimate): BLUE, marginal predictions and residuals given `θ`.
    pub fn post_at(&self, free: &[f64]) -> Result<MarginalPost, RemlError> {
        options::check_len("parameters", free, &self.params().names)?;
        let mut ev = Dense::new(self, &self.fixed)?;
        let (pt, _, _) = ev.p_at(free)?;
        Ok(MarginalPost::new(&self.fixed, &pt))
    }
}

fn cov_err(e: crate::CovError) -> RemlError {
    RemlError::StructureFailed {
        term: "V".into(),
        source: e,
    }
}

impl Problem for MarginalModel {
    fn params(&self) -> ParamInfo {
        ParamInfo {
            names: self.v.free_names(),
            transforms: self.v.free_transforms(),
            defaults: self.v.free_defaults(),
            kinds: self.v.free_kinds(),
            random: 0,
        }
    }
    fn assemble(&self, x: &[f64], v: &mut Mat<f64>) -> Result<(), RemlError> {
        let m = self.v.value_f64(x).map_err(cov_err)?;
        linalg::copy_into(v, &m);
        Ok(())
    }
    fn derivatives(
        &self,
        x: &[f64],
        p: MatRef<'_, f64>,
        py: &[f64],
        method: JacobianMethod,
    ) -> Result<Derivatives, RemlError> {
        let (_, dv) = self.v.value_and_jacobian_f64(x, method).map_err(cov_err)?;
        let n = py.len();
        let mut w = Mat::<f64>::zeros(n, dv.len());
        let mut traces = Vec::with_capacity(dv.len());
        for (k, d) in dv.iter().enumerate() {
            traces.push(linalg::frobenius_dot(p, d));
            w.col_as_slice_mut(k)
                .copy_from_slice(&linalg::matvec_na(d, py));
        }
        Ok(Derivatives { traces, w })
    }
}
