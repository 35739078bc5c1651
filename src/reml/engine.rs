//! The Average-Information REML iteration: log-likelihood, score, AI matrix,
//! step control.
//!
//! Per accepted iteration the dense work is one Cholesky factorization of
//! `V` (done when the point was tried), one inverse from that factor, and
//! `O(k n²)` for `P`, the traces and the AI terms. A trial point costs one
//! Cholesky and a few triangular solves.

use super::linalg::{self, gemm};
use super::trace::print_trace_line;
use super::{Iteration, RemlError, RemlFit, RemlOptions, Termination};
use crate::{JacobianMethod, Transform};
use faer::{Accum, Mat, MatRef};
use nalgebra::{DMatrix, DVector};
use std::time::Instant;

/// A covariance model of `y` seen by the engine: it assembles `V(x)` and
/// gives, from `P` and `Py`, the traces `tr(P ∂V/∂x_k)` and the vectors
/// `w_k = ∂V/∂x_k P y`.
pub(crate) trait Problem {
    /// Names of the free parameters.
    fn names(&self) -> Vec<String>;
    /// Their transforms.
    fn transforms(&self) -> Vec<Transform>;
    /// Their defaults (the default start).
    fn defaults(&self) -> Vec<f64>;
    /// Writes `V(x)` (both triangles, or at least the lower one) into `v`.
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

/// The response and fixed-effect design, checked.
pub(crate) struct Fixed {
    pub y: Vec<f64>,
    pub x: Mat<f64>,
    /// Names of the columns of `X` (`beta[j]` unless named).
    pub names: Vec<String>,
}

impl Fixed {
    /// Names the columns of `X`; the number of names must match.
    pub fn set_names(&mut self, names: &[&str]) -> Result<(), RemlError> {
        if names.len() != self.p() {
            return Err(RemlError::DimensionMismatch {
                operand: "fixed-effect names".into(),
                got: names.len().to_string(),
                expected: format!("{} (the columns of X)", self.p()),
            });
        }
        self.names = names.iter().map(|s| s.to_string()).collect();
        Ok(())
    }
    pub fn n(&self) -> usize {
        self.y.len()
    }
    pub fn p(&self) -> usize {
        self.x.ncols()
    }
}

/// The log-likelihood pieces at a point whose Cholesky factor is in the
/// workspace.
#[derive(Clone)]
pub(crate) struct Eval {
    pub x: Vec<f64>,
    pub ll: f64,
    pub ll_no_constant: f64,
    pub beta: Vec<f64>,
    pub c_inv: DMatrix<f64>,
}

/// Why a point could not be evaluated.
pub(crate) enum EvalFail {
    NotPd,
    SingularC,
    Model(RemlError),
}

/// Dense buffers reused across iterations.
pub(crate) struct Workspace {
    /// `V`, then its Cholesky factor (lower triangle).
    pub fac: Mat<f64>,
    /// `V⁻¹`, then `P`.
    pub p: Mat<f64>,
}

impl Workspace {
    pub fn new(n: usize) -> Self {
        Workspace {
            fac: Mat::zeros(n, n),
            p: Mat::zeros(0, 0),
        }
    }
}

/// Assembles `V(x)`, factors it and evaluates the REML log-likelihood.
pub(crate) fn evaluate(
    prob: &dyn Problem,
    fx: &Fixed,
    x: &[f64],
    ws: &mut Workspace,
) -> Result<Eval, EvalFail> {
    let (n, p) = (fx.n(), fx.p());
    prob.assemble(x, &mut ws.fac).map_err(EvalFail::Model)?;
    if !linalg::cholesky_in_place(ws.fac.as_mut()) {
        return Err(EvalFail::NotPd);
    }
    let l = ws.fac.as_ref();
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
    let b = DVector::from_fn(p, |i, _| g[(i, p)]);
    let yvy = g[(p, p)];
    let chol = c.clone().cholesky().ok_or(EvalFail::SingularC)?;
    let logdet_c = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
    let beta = chol.solve(&b);
    let ypy = yvy - b.dot(&beta);
    let c_inv = chol.inverse();
    let ll_no_constant = -0.5 * (logdet_v + logdet_c + ypy);
    let ll = ll_no_constant - 0.5 * (n - p) as f64 * (2.0 * std::f64::consts::PI).ln();
    if !ll.is_finite() {
        return Err(EvalFail::NotPd);
    }
    Ok(Eval {
        x: x.to_vec(),
        ll,
        ll_no_constant,
        beta: beta.as_slice().to_vec(),
        c_inv,
    })
}

/// `P = V⁻¹ − V⁻¹X C⁻¹ XᵀV⁻¹` into `ws.p`, from the factor in `ws.fac`;
/// returns `P y`. One product `V⁻¹ [X y]` gives both `W = V⁻¹X` and
/// `P y = V⁻¹y − W C⁻¹ Xᵀ V⁻¹ y`.
pub(crate) fn form_p(fx: &Fixed, ev: &Eval, ws: &mut Workspace) -> Vec<f64> {
    let (n, p) = (fx.n(), fx.p());
    if ws.p.nrows() != n {
        ws.p = Mat::zeros(n, n);
    }
    linalg::inverse_from_factor(ws.fac.as_ref(), ws.p.as_mut());
    let mut xy = Mat::<f64>::zeros(n, p + 1);
    for j in 0..p {
        xy.col_as_slice_mut(j).copy_from_slice(fx.x.col_as_slice(j));
    }
    xy.col_as_slice_mut(p).copy_from_slice(&fx.y);
    let mut g = Mat::<f64>::zeros(n, p + 1);
    gemm(g.as_mut(), Accum::Replace, ws.p.as_ref(), xy.as_ref(), 1.0);
    let mut py = g.col_as_slice(p).to_vec();
    if p > 0 {
        let w = g.as_ref().subcols(0, p);
        let cinv = Mat::<f64>::from_fn(p, p, |i, j| ev.c_inv[(i, j)]);
        let mut m = Mat::<f64>::zeros(n, p);
        gemm(m.as_mut(), Accum::Replace, w, cinv.as_ref(), 1.0);
        // Xᵀ V⁻¹ y
        let xtv: Vec<f64> = (0..p)
            .map(|j| {
                fx.x.col_as_slice(j)
                    .iter()
                    .zip(g.col_as_slice(p))
                    .map(|(a, b)| a * b)
                    .sum()
            })
            .collect();
        for (j, c) in xtv.iter().enumerate() {
            for (o, mv) in py.iter_mut().zip(m.col_as_slice(j)) {
                *o -= mv * c;
            }
        }
        gemm(ws.p.as_mut(), Accum::Add, m.as_ref(), w.transpose(), -1.0);
    }
    py
}

/// Score and AI matrix at an accepted point (`ws.p` holds `P`).
fn score_and_ai(
    prob: &dyn Problem,
    x: &[f64],
    ws: &Workspace,
    py: &[f64],
    method: JacobianMethod,
) -> Result<(Vec<f64>, DMatrix<f64>), RemlError> {
    let d = prob.derivatives(x, ws.p.as_ref(), py, method)?;
    let k = d.traces.len();
    let score: Vec<f64> = (0..k)
        .map(|j| {
            let wj = d.w.col_as_slice(j);
            let q: f64 = wj.iter().zip(py).map(|(a, b)| a * b).sum();
            -0.5 * (d.traces[j] - q)
        })
        .collect();
    let n = py.len();
    let mut pw = Mat::<f64>::zeros(n, k);
    gemm(
        pw.as_mut(),
        Accum::Replace,
        ws.p.as_ref(),
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
    let ai = DMatrix::from_fn(k, k, |i, j| 0.5 * (ai[(i, j)] + ai[(j, i)]));
    Ok((score, ai))
}

/// Inverse of a symmetric positive semi-definite matrix; eigenvalues below
/// `1e-12 λ_max` are treated as zero (pseudo-inverse).
fn spd_inverse(a: &DMatrix<f64>) -> DMatrix<f64> {
    if let Some(c) = a.clone().cholesky() {
        return c.inverse();
    }
    let e = a.clone().symmetric_eigen();
    let lmax = e.eigenvalues.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let inv = e
        .eigenvalues
        .map(|v| if v > 1e-12 * lmax { 1.0 / v } else { 0.0 });
    &e.eigenvectors * DMatrix::from_diagonal(&inv) * e.eigenvectors.transpose()
}

/// The inverse AI matrix as the covariance of the estimates: inverted over
/// the parameters not in `held`; rows and columns of held parameters, and of
/// parameters the AI matrix does not identify (a zero diagonal, or a
/// singular block), are NaN rather than a misleading 0.
fn covariance_of_estimates(ai: &DMatrix<f64>, held: &[usize]) -> DMatrix<f64> {
    let k = ai.nrows();
    let scale = (0..k).map(|i| ai[(i, i)].abs()).fold(0.0, f64::max);
    let free: Vec<usize> = (0..k)
        .filter(|i| !held.contains(i) && ai[(*i, *i)] > 1e-12 * scale)
        .collect();
    let m = free.len();
    let sub = DMatrix::from_fn(m, m, |i, j| ai[(free[i], free[j])]);
    let mut out = DMatrix::from_element(k, k, f64::NAN);
    if let Some(c) = sub.cholesky() {
        let inv = c.inverse();
        for (a, &i) in free.iter().enumerate() {
            for (b, &j) in free.iter().enumerate() {
                out[(i, j)] = inv[(a, b)];
            }
        }
    }
    out
}

/// The AI step `AI⁻¹ score` restricted to the parameters not held at a
/// bound; returns the step and the held parameters.
fn bounded_step(
    ai: &DMatrix<f64>,
    score: &[f64],
    x: &[f64],
    lo: &[f64],
    hi: &[f64],
) -> (Vec<f64>, Vec<usize>) {
    let k = score.len();
    let mut active: Vec<usize> = Vec::new();
    loop {
        let free: Vec<usize> = (0..k).filter(|i| !active.contains(i)).collect();
        let m = free.len();
        let sub = DMatrix::from_fn(m, m, |i, j| ai[(free[i], free[j])]);
        let s = DVector::from_fn(m, |i, _| score[free[i]]);
        let d = spd_inverse(&sub) * s;
        let mut step = vec![0.0; k];
        for (i, &fi) in free.iter().enumerate() {
            step[fi] = d[i];
        }
        let newly: Vec<usize> = free
            .iter()
            .copied()
            .filter(|&i| (x[i] <= lo[i] && step[i] < 0.0) || (x[i] >= hi[i] && step[i] > 0.0))
            .collect();
        if newly.is_empty() {
            return (step, active);
        }
        active.extend(newly);
    }
}

/// The largest free-scale move of one parameter in one iteration: a factor
/// of e⁴ ≈ 55 for a variance on the log scale, four logits for a
/// correlation, unlimited for parameters on their natural scale. The whole
/// step is shortened (its direction kept) so that no parameter moves more.
fn step_limit(t: &Transform) -> f64 {
    match t {
        Transform::Exp | Transform::Exp2 | Transform::Exp10 | Transform::ExpPow2 => 2.0,
        Transform::Sigmoid => 4.0,
        Transform::Chain(ts) => ts.first().map_or(f64::INFINITY, step_limit),
        _ => f64::INFINITY,
    }
}

/// Whether `t` maps onto `(0, ∞)` (a variance or scale): such a parameter
/// has a boundary at 0 that the free scale only reaches at −∞.
fn is_positive_scale(t: &Transform) -> bool {
    matches!(
        t,
        Transform::Exp | Transform::Exp2 | Transform::Exp10 | Transform::ExpPow2
    )
}

/// Natural values below this fraction of the variance of `y` count as the
/// boundary 0 of a positive parameter.
const BOUNDARY: f64 = 1e-10;

/// Shortens `step` so that no parameter moves more than its [`step_limit`].
fn cap_step(step: &mut [f64], tr: &[Transform]) {
    let scale = step
        .iter()
        .zip(tr)
        .map(|(s, t)| step_limit(t) / s.abs())
        .fold(1.0f64, f64::min);
    if scale < 1.0 {
        step.iter_mut().for_each(|s| *s *= scale);
    }
}

/// Relative rounding level of a computed log-likelihood.
const ROUNDING: f64 = 1e-12;

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

/// `name = free (natural)` for messages.
pub(crate) fn describe_point(names: &[String], tr: &[Transform], x: &[f64]) -> String {
    super::describe::describe_point(names, tr, x)
}

fn check_len(what: &'static str, v: &[f64], names: &[String]) -> Result<(), RemlError> {
    if v.len() != names.len() {
        return Err(RemlError::WrongLength {
            what,
            expected: names.len(),
            got: v.len(),
            names: names.join(", "),
        });
    }
    Ok(())
}

/// Runs the AI-REML iteration.
pub(crate) fn fit(
    prob: &dyn Problem,
    fx: &Fixed,
    opts: &RemlOptions,
    observer: &mut dyn FnMut(&Iteration),
) -> Result<RemlFit, RemlError> {
    let t0 = Instant::now();
    let names = prob.names();
    let tr = prob.transforms();
    let k = names.len();
    let (n, p) = (fx.n(), fx.p());
    let super::options::Validated {
        start: x0,
        lower: lo,
        upper: hi,
        warnings,
    } = opts.validate(&names, &prob.defaults())?;
    // A positive parameter (variance) is held at the boundary once its
    // natural value falls below BOUNDARY · var(y): 0 for all practical
    // purposes, and the point where e^{2x} would otherwise creep towards
    // underflow, with a score and an AI row that vanish with it.
    let var_y = {
        let mean = fx.y.iter().sum::<f64>() / n.max(1) as f64;
        fx.y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n.max(1) as f64
    };
    let floor = BOUNDARY * if var_y > 0.0 { var_y } else { 1.0 };
    let lo: Vec<f64> = (0..k)
        .map(|i| {
            if is_positive_scale(&tr[i]) {
                lo[i].max(tr[i].inverse(floor).min(x0[i]))
            } else {
                lo[i]
            }
        })
        .collect();

    let mut ws = Workspace::new(n);
    let mut cur = match evaluate(prob, fx, &x0, &mut ws) {
        Ok(e) => e,
        Err(EvalFail::NotPd) => {
            return Err(RemlError::NotPositiveDefinite {
                params: describe_point(&names, &tr, &x0),
            })
        }
        Err(EvalFail::SingularC) => {
            return Err(RemlError::SingularFixedEffects {
                params: describe_point(&names, &tr, &x0),
            })
        }
        Err(EvalFail::Model(e)) => return Err(e),
    };

    if opts.trace {
        super::trace::print_trace_header();
    }
    let mut history: Vec<Iteration> = Vec::new();
    let mut prev_ll = f64::NAN;
    let termination;
    let mut last_ai;
    loop {
        let it = history.len() + 1;
        let py = form_p(fx, &cur, &mut ws);
        let (score, ai) = score_and_ai(prob, &cur.x, &ws, &py, opts.jacobian)?;
        last_ai = ai.clone();
        let (mut step, held) = bounded_step(&ai, &score, &cur.x, &lo, &hi);
        cap_step(&mut step, &tr);
        let score_for_step = score.clone();
        let step_norm = norm(&step);
        let free_score: Vec<f64> = (0..k)
            .filter(|i| !held.contains(i))
            .map(|i| score[i])
            .collect();
        let score_norm = norm(&free_score);
        let change = cur.ll - prev_ll;
        let converged = score_norm <= opts.tol_score
            && step_norm <= opts.tol_step
            && change.abs() <= opts.tol_loglik;
        history.push(Iteration {
            iter: it,
            free: cur.x.clone(),
            natural: cur.x.iter().zip(&tr).map(|(v, t)| t.forward(*v)).collect(),
            beta: cur.beta.clone(),
            loglik: cur.ll,
            loglik_change: change,
            score,
            score_norm,
            ai,
            step: Vec::new(),
            step_norm,
            halvings: 0,
        });
        if opts.trace {
            print_trace_line(history.last().expect("just pushed"));
        }
        observer(history.last().expect("just pushed"));
        if converged {
            termination = if held.is_empty() {
                Termination::Converged
            } else {
                Termination::AtBound {
                    params: held.iter().map(|&i| names[i].clone()).collect(),
                }
            };
            break;
        }
        if step_norm == 0.0 && score_norm > opts.tol_score {
            // The AI matrix is singular along the score: the data do not
            // identify the parameters that would move.
            termination = Termination::Stalled;
            break;
        }
        if !held.is_empty() && step_norm <= opts.tol_step && change.abs() <= opts.tol_loglik {
            termination = Termination::AtBound {
                params: held.iter().map(|&i| names[i].clone()).collect(),
            };
            break;
        }
        if it >= opts.max_iter {
            termination = Termination::IterationLimit;
            break;
        }
        // Step halving: the log-likelihood must not decrease and V must stay PD.
        // When the gain the quadratic model predicts for the full step is
        // below the rounding level of the log-likelihood, a comparison of
        // two log-likelihoods says nothing; the step is then accepted unless
        // the log-likelihood falls by more than that rounding level.
        let noise = ROUNDING * cur.ll.abs().max(1.0);
        let predicted: f64 = 0.5
            * score_for_step
                .iter()
                .zip(&step)
                .map(|(a, b)| a * b)
                .sum::<f64>();
        let slack = if predicted.abs() <= noise { noise } else { 0.0 };
        let mut alpha = opts.step_size;
        let mut accepted = None;
        for h in 0..=opts.max_halvings {
            let trial: Vec<f64> = (0..k)
                .map(|i| (cur.x[i] + alpha * step[i]).clamp(lo[i], hi[i]))
                .collect();
            match evaluate(prob, fx, &trial, &mut ws) {
                Ok(e) if e.ll >= cur.ll - slack => {
                    accepted = Some((e, h));
                    break;
                }
                Ok(_) | Err(EvalFail::NotPd) | Err(EvalFail::SingularC) => {}
                Err(EvalFail::Model(_)) => {}
            }
            alpha *= 0.5;
        }
        match accepted {
            Some((e, h)) => {
                let last = history.last_mut().expect("just pushed");
                last.step = e.x.iter().zip(&cur.x).map(|(a, b)| a - b).collect();
                last.halvings = h;
                prev_ll = cur.ll;
                cur = e;
            }
            None => {
                termination = Termination::HalvingLimit;
                break;
            }
        }
    }

    let held: Vec<usize> = match &termination {
        Termination::AtBound { params } => (0..k).filter(|&i| params.contains(&names[i])).collect(),
        _ => Vec::new(),
    };
    let ai_inv = covariance_of_estimates(&last_ai, &held);
    let free_se: Vec<f64> = (0..k).map(|i| ai_inv[(i, i)].sqrt()).collect();
    let jac: Vec<f64> = cur
        .x
        .iter()
        .zip(&tr)
        .map(|(v, t)| t.derivative(*v))
        .collect();
    let ai_inverse_natural = DMatrix::from_fn(k, k, |i, j| jac[i] * ai_inv[(i, j)] * jac[j]);
    let natural_se = (0..k).map(|i| ai_inverse_natural[(i, i)].sqrt()).collect();
    let beta_se = (0..p).map(|i| cur.c_inv[(i, i)].max(0.0).sqrt()).collect();
    let df = (p + k) as f64;
    Ok(RemlFit {
        natural: cur.x.iter().zip(&tr).map(|(v, t)| t.forward(*v)).collect(),
        free: cur.x.clone(),
        names,
        natural_se,
        free_se,
        beta: cur.beta.clone(),
        beta_names: fx.names.clone(),
        beta_se,
        loglik: cur.ll,
        loglik_no_constant: cur.ll_no_constant,
        aic: -2.0 * cur.ll + 2.0 * df,
        bic: -2.0 * cur.ll + df * (n as f64).ln(),
        n,
        p,
        iterations: history.len(),
        termination,
        history,
        ai: last_ai,
        ai_inverse_natural,
        warnings,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// Evaluates the model at `x` and forms `P`, for post-estimation.
pub(crate) fn state_at(
    prob: &dyn Problem,
    fx: &Fixed,
    x: &[f64],
) -> Result<(Eval, Workspace, Vec<f64>), RemlError> {
    let names = prob.names();
    check_len("parameters", x, &names)?;
    let mut ws = Workspace::new(fx.n());
    let ev = match evaluate(prob, fx, x, &mut ws) {
        Ok(e) => e,
        Err(EvalFail::NotPd) => {
            return Err(RemlError::NotPositiveDefinite {
                params: describe_point(&names, &prob.transforms(), x),
            })
        }
        Err(EvalFail::SingularC) => {
            return Err(RemlError::SingularFixedEffects {
                params: describe_point(&names, &prob.transforms(), x),
            })
        }
        Err(EvalFail::Model(e)) => return Err(e),
    };
    let py = form_p(fx, &ev, &mut ws);
    Ok((ev, ws, py))
}
