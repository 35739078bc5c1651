//! The AI-REML driver: one iteration loop, step control, bounds, boundary
//! holding, termination and history, shared by every backend
//! ([`Evaluator`]).

use super::evaluator::{EvalFail, Evaluator, ParamInfo, Point};
use super::fixed::Fixed;
use super::trace::{print_trace_header, print_trace_line};
use super::{Iteration, RemlError, RemlFit, RemlOptions, Termination};
use crate::Transform;
use nalgebra::{DMatrix, DVector};
use std::time::Instant;

/// Natural values below this fraction of the variance of `y` count as the
/// boundary 0 of a positive parameter.
const BOUNDARY: f64 = 1e-10;

/// Relative rounding level of a computed log-likelihood.
const ROUNDING: f64 = 1e-12;

/// A score whose Newton step promises at most this many rounding levels of
/// the log-likelihood is noise (see the convergence test in [`fit`]).
const CONVERGED_GAIN: f64 = 10.0;

/// The log-likelihood magnitude from which the score may be rounding noise
/// (sums over ~10⁵ rows and more); below it the score criterion is exact.
const LARGE_LOGLIK: f64 = 1e5;

/// The validated start and bounds of a fit.
struct Setup {
    x0: Vec<f64>,
    lo: Vec<f64>,
    hi: Vec<f64>,
    warnings: Vec<String>,
}

/// Runs the AI-REML iteration with the backend `ev`.
pub(crate) fn fit(
    params: &ParamInfo,
    ev: &mut dyn Evaluator,
    fx: &Fixed,
    opts: &RemlOptions,
    observer: &mut dyn FnMut(&Iteration),
) -> Result<RemlFit, RemlError> {
    let t0 = Instant::now();
    let setup = setup(params, fx, opts)?;
    let names = &params.names;
    let tr = &params.transforms;
    let k = names.len();
    let mut cur = match ev.evaluate(&setup.x0) {
        Ok(e) => e,
        Err(fail) => return Err(fail_at(fail, params, &setup.x0)),
    };
    if opts.start.is_none() && opts.rescale_start {
        if let Some(better) = rescaled_start(ev, &cur, tr, &setup) {
            cur = better;
        }
    }
    if opts.trace {
        print_trace_header();
    }
    let mut history: Vec<Iteration> = Vec::new();
    let mut prev_ll = f64::NAN;
    let termination;
    let mut last_ai;
    loop {
        let it = history.len() + 1;
        let sa = ev.score_and_ai(&cur, opts.jacobian)?;
        let (score, ai) = (sa.score, sa.ai);
        last_ai = ai.clone();
        let (mut step, held) = bounded_step(&ai, &score, &cur.x, &setup.lo, &setup.hi);
        cap_step(&mut step, tr);
        let step_norm = norm(&step);
        let free_score: Vec<f64> = (0..k)
            .filter(|i| !held.contains(i))
            .map(|i| score[i])
            .collect();
        let score_norm = norm(&free_score);
        let change = cur.ll - prev_ll;
        let predicted: f64 = 0.5 * score.iter().zip(&step).map(|(a, b)| a * b).sum::<f64>();
        // The score of a log-likelihood summed over a million rows carries
        // rounding noise above any fixed tolerance; on such data (|ℓ| ≥ 1e5),
        // once the step is small,
        // the log-likelihood has stopped changing and the quadratic model
        // promises less than the rounding level of the log-likelihood more,
        // the score is noise and the fit has converged.
        let noise = ROUNDING * cur.ll.abs().max(1.0);
        let score_ok = score_norm <= opts.tol_score
            || (cur.ll.abs() >= LARGE_LOGLIK && predicted.abs() <= CONVERGED_GAIN * noise);
        let converged = score_ok && step_norm <= opts.tol_step && change.abs() <= opts.tol_loglik;
        history.push(Iteration {
            iter: it,
            free: cur.x.clone(),
            natural: natural(&cur.x, tr),
            beta: fx.unshift_beta(cur.beta.clone()),
            loglik: cur.ll,
            loglik_change: change,
            score,
            score_norm,
            ai,
            step: Vec::new(),
            step_norm,
            halvings: 0,
        });
        let last = history.last().expect("just pushed");
        if opts.trace {
            print_trace_line(last);
        }
        observer(last);
        let at_bound = || Termination::AtBound {
            params: held.iter().map(|&i| names[i].clone()).collect(),
        };
        if converged {
            termination = if held.is_empty() {
                Termination::Converged
            } else {
                at_bound()
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
            termination = at_bound();
            break;
        }
        if it >= opts.max_iter {
            termination = Termination::IterationLimit;
            break;
        }
        match line_search(ev, &cur, &step, predicted, &setup, opts) {
            Some((next, h)) => {
                let last = history.last_mut().expect("just pushed");
                last.step = next.x.iter().zip(&cur.x).map(|(a, b)| a - b).collect();
                last.halvings = h;
                prev_ll = cur.ll;
                cur = next;
            }
            None => {
                termination = Termination::HalvingLimit;
                break;
            }
        }
    }
    Ok(finish(
        params,
        setup.warnings,
        opts.method,
        ev.describe(),
        fx,
        cur,
        termination,
        history,
        last_ai,
        t0,
    ))
}

/// Checks the start and the bounds, and lifts the lower bound of every
/// positive parameter (variance) to `BOUNDARY · var(y)`: 0 for all practical
/// purposes, and the point where `e^{2x}` would otherwise creep towards
/// underflow with a score and an AI row that vanish with it.
fn setup(params: &ParamInfo, fx: &Fixed, opts: &RemlOptions) -> Result<Setup, RemlError> {
    let tr = &params.transforms;
    let super::options::Validated {
        start: x0,
        lower: lo,
        upper: hi,
        warnings: option_warnings,
    } = opts.validate(&params.names, &params.defaults)?;
    let mut warnings = fx.notes.clone();
    warnings.extend(option_warnings);
    let var_y = fx.var_y();
    let floor = BOUNDARY * if var_y > 0.0 { var_y } else { 1.0 };
    let lo = (0..lo.len())
        .map(|i| {
            if is_positive_scale(&tr[i]) {
                lo[i].max(tr[i].inverse(floor).min(x0[i]))
            } else {
                lo[i]
            }
        })
        .collect();
    Ok(Setup {
        x0,
        lo,
        hi,
        warnings,
    })
}

/// The start with every variance-type parameter multiplied by the profiled
/// common scale at `start` (see [`RemlOptions::rescale_start`]), if that
/// raises the log-likelihood. Skipped when the scale is within 10 % of 1 or
/// no parameter is a variance.
///
/// [`RemlOptions::rescale_start`]: super::RemlOptions::rescale_start
fn rescaled_start(
    ev: &mut dyn Evaluator,
    start: &Point,
    tr: &[Transform],
    setup: &Setup,
) -> Option<Point> {
    let c = start.profiled_scale;
    if !(c.is_finite() && c > 0.0) || c.ln().abs() < 0.1 {
        return None;
    }
    let mut moved = false;
    let x: Vec<f64> = (0..start.x.len())
        .map(|i| {
            let x = start.x[i];
            if !is_positive_scale(&tr[i]) {
                return x;
            }
            let scaled = tr[i].inverse(c * tr[i].forward(x));
            if !scaled.is_finite() {
                return x;
            }
            moved = true;
            scaled.clamp(setup.lo[i], setup.hi[i])
        })
        .collect();
    if !moved {
        return None;
    }
    ev.evaluate(&x).ok().filter(|p| p.ll > start.ll)
}

/// Step halving: the log-likelihood must not decrease and `V` must stay
/// positive definite. When the gain the quadratic model predicts for the
/// full step is below the rounding level of the log-likelihood, comparing
/// two log-likelihoods says nothing; the step is then accepted unless the
/// log-likelihood falls by more than that rounding level.
fn line_search(
    ev: &mut dyn Evaluator,
    cur: &Point,
    step: &[f64],
    predicted: f64,
    setup: &Setup,
    opts: &RemlOptions,
) -> Option<(Point, usize)> {
    let noise = ROUNDING * cur.ll.abs().max(1.0);
    let slack = if predicted.abs() <= noise { noise } else { 0.0 };
    let mut alpha = opts.step_size;
    for h in 0..=opts.max_halvings {
        let trial: Vec<f64> = (0..step.len())
            .map(|i| (cur.x[i] + alpha * step[i]).clamp(setup.lo[i], setup.hi[i]))
            .collect();
        if let Ok(e) = ev.evaluate(&trial) {
            if e.ll >= cur.ll - slack {
                return Some((e, h));
            }
        }
        alpha *= 0.5;
    }
    None
}

/// The fit result at the last accepted point.
#[allow(clippy::too_many_arguments)]
fn finish(
    params: &ParamInfo,
    warnings: Vec<String>,
    method: super::Method,
    backend: String,
    fx: &Fixed,
    cur: Point,
    termination: Termination,
    history: Vec<Iteration>,
    last_ai: DMatrix<f64>,
    t0: Instant,
) -> RemlFit {
    let names = params.names.clone();
    let tr = &params.transforms;
    let k = names.len();
    let (n, p) = (fx.n(), fx.p());
    let held: Vec<usize> = match &termination {
        Termination::AtBound { params } => (0..k).filter(|&i| params.contains(&names[i])).collect(),
        _ => Vec::new(),
    };
    let ai_inv = covariance_of_estimates(&last_ai, &held);
    let free_se: Vec<f64> = (0..k).map(|i| ai_inv[(i, i)].sqrt()).collect();
    // A converged fit whose AI matrix does not identify some parameters
    // (not held at a bound) must not say "converged".
    let termination = match termination {
        Termination::Converged | Termination::AtBound { .. } => {
            let unidentified: Vec<String> = (0..k)
                .filter(|i| !held.contains(i) && !free_se[*i].is_finite())
                .map(|i| names[i].clone())
                .collect();
            if unidentified.is_empty() {
                termination
            } else {
                Termination::NotIdentified {
                    params: unidentified,
                }
            }
        }
        other => other,
    };
    let jac: Vec<f64> = cur
        .x
        .iter()
        .zip(tr)
        .map(|(v, t)| t.derivative(*v))
        .collect();
    let ai_inverse_natural = DMatrix::from_fn(k, k, |i, j| jac[i] * ai_inv[(i, j)] * jac[j]);
    let natural_se = (0..k).map(|i| ai_inverse_natural[(i, i)].sqrt()).collect();
    let beta_se = (0..p)
        .map(|i| cur.beta_cov[(i, i)].max(0.0).sqrt())
        .collect();
    let df = (p + k) as f64;
    RemlFit {
        natural: natural(&cur.x, tr),
        free: cur.x.clone(),
        names,
        natural_se,
        free_se,
        beta: fx.unshift_beta(cur.beta.clone()),
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
        method,
        backend,
        warnings,
        seconds: t0.elapsed().as_secs_f64(),
    }
}

fn natural(x: &[f64], tr: &[Transform]) -> Vec<f64> {
    x.iter().zip(tr).map(|(v, t)| t.forward(*v)).collect()
}

/// Log-likelihood, score and AI matrix at `x`.
pub(crate) fn evaluate_at(
    params: &ParamInfo,
    ev: &mut dyn Evaluator,
    fx: &Fixed,
    x: &[f64],
    method: crate::JacobianMethod,
) -> Result<super::Evaluation, RemlError> {
    check_len("parameters", x, &params.names)?;
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(RemlError::NotFinite {
            operand: "parameters".into(),
            position: params.names[i].clone(),
            value: x[i],
        });
    }
    let pt = ev.evaluate(x).map_err(|f| fail_at(f, params, x))?;
    let sa = ev.score_and_ai(&pt, method)?;
    Ok(super::Evaluation {
        names: params.names.clone(),
        free: x.to_vec(),
        natural: natural(x, &params.transforms),
        loglik: pt.ll,
        loglik_no_constant: pt.ll_no_constant,
        beta: fx.unshift_beta(pt.beta.clone()),
        beta_se: (0..pt.beta.len())
            .map(|i| pt.beta_cov[(i, i)].max(0.0).sqrt())
            .collect(),
        beta_cov: pt.beta_cov.clone(),
        score: sa.score,
        ai: sa.ai,
        backend: ev.describe(),
    })
}

/// The error for a start point that cannot be evaluated.
pub(crate) fn fail_at(fail: EvalFail, params: &ParamInfo, x: &[f64]) -> RemlError {
    match fail {
        EvalFail::NotPd => RemlError::NotPositiveDefinite {
            params: describe_point(&params.names, &params.transforms, x),
        },
        EvalFail::SingularC => RemlError::SingularFixedEffects {
            params: describe_point(&params.names, &params.transforms, x),
        },
        EvalFail::Model(e) => e,
    }
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

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

/// `name = free (natural)` for messages.
pub(crate) fn describe_point(names: &[String], tr: &[Transform], x: &[f64]) -> String {
    super::describe::describe_point(names, tr, x)
}

pub(crate) fn check_len(what: &'static str, v: &[f64], names: &[String]) -> Result<(), RemlError> {
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
