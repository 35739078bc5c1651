//! The dense backend: factors the `n × n` matrix `V` with faer.
//!
//! A trial point costs one Cholesky factorization of `V` and a few
//! triangular solves. At an accepted point one inverse from that factor
//! gives `P = V⁻¹ − V⁻¹X (XᵀV⁻¹X)⁻¹ XᵀV⁻¹`, and every trace `tr(P ∂V_k)`
//! and AI entry `½ (∂V_k P y)ᵀ P (∂V_l P y)` costs `O(k n²)`.
//!
//! `yᵀPy` and `Py` are formed from the GLS residual `e = y − Xβ̂`
//! (`yᵀPy = ‖L⁻¹e‖²`, `Py = V⁻¹e`), never as a difference of two large
//! quadratic forms.

use super::evaluator::{symmetric_part, EvalFail, Evaluator, ParamInfo, Point, ScoreAi};
use super::fixed::FixedPart;
use super::linalg::{self, gemm};
use super::memory::check_memory;
use super::{Method, RemlError};
use crate::JacobianMethod;
use faer::{Accum, Mat, MatRef};
use nalgebra::DMatrix;

/// A covariance model of `y` seen by the dense backend: it assembles
/// `V(x)` and gives, from `P` and `Py`, the traces `tr(P ∂V/∂x_k)` and the
/// vectors `w_k = ∂V/∂x_k P y`.
pub(crate) trait Problem {
    /// Names, transforms and defaults of the free parameters.
    fn params(&self) -> ParamInfo;
    /// Writes `V(x)` (at least its lower triangle) into `v`.
    fn assemble(&self, x: &[f64], v: &mut Mat<f64>) -> Result<(), RemlError>;
    /// Traces and `w_k` at `x`.
    fn derivatives(
        &self,
        x: &[f64],
        p: MatRef<'_, f64>,
        py: &[f64],
        method: JacobianMethod,
    ) -> Result<Derivatives, RemlError>;
}

/// `tr(P ∂V/∂x_k)` and the columns `w_k = ∂V/∂x_k P y`.
pub(crate) struct Derivatives {
    pub traces: Vec<f64>,
    pub w: Mat<f64>,
}

/// Bytes of the dense `n × n` workspace (`V`, its factor, and `P`).
pub(crate) fn dense_bytes(n: usize) -> u128 {
    2 * (n as u128) * (n as u128) * 8
}

/// The dense evaluator over a [`Problem`].
pub(crate) struct Dense<'a> {
    prob: &'a dyn Problem,
    fx: &'a FixedPart,
    /// `V`, then its Cholesky factor (lower triangle).
    fac: Mat<f64>,
    /// `P` (formed at accepted points).
    p: Mat<f64>,
    /// The point whose factor is in `fac`.
    at: Option<Vec<f64>>,
    /// `L⁻¹ e` at that point.
    l_inv_e: Vec<f64>,
    method: Method,
}

impl<'a> Dense<'a> {
    /// Allocates the `n × n` workspace, or says how much memory it needs.
    pub fn new(prob: &'a dyn Problem, fx: &'a FixedPart) -> Result<Self, RemlError> {
        let n = fx.n();
        let bytes = dense_bytes(n);
        check_memory(
            || format!("the dense backend's n × n matrices for n = {n}"),
            bytes,
            "use the sparse backend (`Backend::Sparse`) or a smaller model",
        )?;
        Ok(Dense {
            prob,
            fx,
            fac: Mat::zeros(n, n),
            p: Mat::zeros(0, 0),
            at: None,
            l_inv_e: Vec::new(),
            method: Method::Reml,
        })
    }

    /// REML (the default) or ML.
    pub fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// `P` into `self.p` (`V⁻¹` for ML, whose traces are `tr(V⁻¹ ∂V)`) and
    /// `P y = V⁻¹ e`, from the factor of the point `at`.
    fn form_p(&mut self, pt: &Point) -> Vec<f64> {
        let (n, p) = (self.fx.n(), self.fx.p());
        if self.p.nrows() != n {
            self.p = Mat::zeros(n, n);
        }
        linalg::inverse_from_factor(self.fac.as_ref(), self.p.as_mut());
        // Py = L⁻ᵀ (L⁻¹ e)
        let mut py = Mat::<f64>::zeros(n, 1);
        py.col_as_slice_mut(0).copy_from_slice(&self.l_inv_e);
        linalg::solve_lower_transpose(self.fac.as_ref(), py.as_mut());
        if p > 0 && self.method == Method::Reml {
            // P = V⁻¹ − (V⁻¹X) C⁻¹ (V⁻¹X)ᵀ
            let mut w = Mat::<f64>::zeros(n, p);
            gemm(
                w.as_mut(),
                Accum::Replace,
                self.p.as_ref(),
                self.fx.x.as_ref(),
                1.0,
            );
            let cinv = Mat::<f64>::from_fn(p, p, |i, j| pt.beta_cov[(i, j)]);
            let mut m = Mat::<f64>::zeros(n, p);
            gemm(m.as_mut(), Accum::Replace, w.as_ref(), cinv.as_ref(), 1.0);
            gemm(self.p.as_mut(), Accum::Add, m.as_ref(), w.transpose(), -1.0);
        }
        py.col_as_slice(0).to_vec()
    }

    /// `P` and `P y` at `x`, for post-estimation.
    pub fn p_at(&mut self, x: &[f64]) -> Result<(Point, MatRef<'_, f64>, Vec<f64>), RemlError> {
        let pt = evaluate_or_error(self, x)?;
        let py = self.form_p(&pt);
        Ok((pt, self.p.as_ref(), py))
    }
}

/// Evaluates at `x`, turning a failure into the error that names the point.
pub(crate) fn evaluate_or_error(ev: &mut dyn Evaluator, x: &[f64]) -> Result<Point, RemlError> {
    match ev.evaluate(x) {
        Ok(p) => Ok(p),
        Err(EvalFail::NotPd) => Err(RemlError::NotPositiveDefinite {
            params: format!("x = {x:?}"),
        }),
        Err(EvalFail::SingularC) => Err(RemlError::SingularFixedEffects {
            params: format!("x = {x:?}"),
        }),
        Err(EvalFail::Model(e)) => Err(e),
    }
}

impl Evaluator for Dense<'_> {
    fn evaluate(&mut self, x: &[f64]) -> Result<Point, EvalFail> {
        let fx = self.fx;
        let (n, p) = (fx.n(), fx.p());
        self.at = None;
        self.prob
            .assemble(x, &mut self.fac)
            .map_err(EvalFail::Model)?;
        if !linalg::cholesky_in_place(self.fac.as_mut()) {
            return Err(EvalFail::NotPd);
        }
        let l = self.fac.as_ref();
        let logdet_v = linalg::logdet_from_factor(l).ok_or(EvalFail::NotPd)?;
        // A = L⁻¹ [X y]
        let mut a = Mat::<f64>::zeros(n, p + 1);
        for j in 0..p {
            a.col_as_slice_mut(j).copy_from_slice(fx.x.col_as_slice(j));
        }
        a.col_as_slice_mut(p).copy_from_slice(&fx.y);
        linalg::solve_lower(l, a.as_mut());
        let mut g = Mat::<f64>::zeros(p + 1, p + 1);
        gemm(g.as_mut(), Accum::Replace, a.transpose(), a.as_ref(), 1.0);
        let c = DMatrix::from_fn(p, p, |i, j| g[(i, j)]);
        let b = nalgebra::DVector::from_fn(p, |i, _| g[(i, p)]);
        let chol = c.cholesky().ok_or(EvalFail::SingularC)?;
        let logdet_c = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
        let beta = chol.solve(&b);
        // L⁻¹ e = L⁻¹ y − (L⁻¹ X) β̂: the residual, never yᵀV⁻¹y − bᵀβ̂.
        let mut le = a.col_as_slice(p).to_vec();
        for j in 0..p {
            let bj = beta[j];
            for (o, v) in le.iter_mut().zip(a.col_as_slice(j)) {
                *o -= v * bj;
            }
        }
        let ypy: f64 = le.iter().map(|v| v * v).sum();
        let (ll_no_constant, df) = match self.method {
            Method::Ml => (-0.5 * (logdet_v + ypy), n),
            _ => (-0.5 * (logdet_v + logdet_c + ypy), n - p),
        };
        let ll = ll_no_constant - 0.5 * df as f64 * (2.0 * std::f64::consts::PI).ln();
        if !ll.is_finite() {
            return Err(EvalFail::NotPd);
        }
        self.at = Some(x.to_vec());
        self.l_inv_e = le;
        Ok(Point {
            x: x.to_vec(),
            ll,
            ll_no_constant,
            profiled_scale: ypy / df as f64,
            beta: beta.as_slice().to_vec(),
            beta_cov: chol.inverse(),
        })
    }

    fn score_and_ai(&mut self, at: &Point, method: JacobianMethod) -> Result<ScoreAi, RemlError> {
        if self.at.as_deref() != Some(&at.x[..]) {
            evaluate_or_error(self, &at.x)?;
        }
        let py = self.form_p(at);
        let d = self.prob.derivatives(&at.x, self.p.as_ref(), &py, method)?;
        let k = d.traces.len();
        let score: Vec<f64> = (0..k)
            .map(|j| {
                let q: f64 =
                    d.w.col_as_slice(j)
                        .iter()
                        .zip(&py)
                        .map(|(a, b)| a * b)
                        .sum();
                -0.5 * (d.traces[j] - q)
            })
            .collect();
        let n = py.len();
        let mut pw = Mat::<f64>::zeros(n, k);
        gemm(
            pw.as_mut(),
            Accum::Replace,
            self.p.as_ref(),
            d.w.as_ref(),
            1.0,
        );
        let mut ai = Mat::<f64>::zeros(k, k);
        gemm(
            ai.as_mut(),
            Accum::Replace,
            d.w.transpose(),
            pw.as_ref(),
            0.5,
        );
        Ok(ScoreAi {
            score,
            ai: symmetric_part(ai.as_ref()),
        })
    }

    fn describe(&self) -> String {
        format!("dense V (n = {})", self.fx.n())
    }
}
