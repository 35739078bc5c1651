//! The steps of the AI-REML driver: the active set, the AI (Newton) step
//! projected onto the bounds, step halving, and the fallbacks when the AI
//! step fails — Levenberg–Marquardt damping, then probes along single
//! parameters.

use super::evaluator::{EvalFail, Evaluator, Point};
use super::RemlError;
use crate::Transform;
use nalgebra::{DMatrix, DVector};

/// Relative rounding level of a computed log-likelihood.
pub(crate) const ROUNDING: f64 = 1e-12;

/// Free-scale bounds of a fit.
pub(crate) struct Bounds<'a> {
    pub lo: &'a [f64],
    pub hi: &'a [f64],
}

/// The parameters held at a bound: at a bound with the score pointing out
/// of the parameter space (a parameter at a bound whose score points inward
/// is released).
pub(crate) fn held_at_bounds(score: &[f64], x: &[f64], b: &Bounds) -> Vec<usize> {
    (0..x.len())
        .filter(|&i| (x[i] <= b.lo[i] && score[i] <= 0.0) || (x[i] >= b.hi[i] && score[i] >= 0.0))
        .collect()
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

/// `M⁻¹ s` over the parameters not in `held` (0 for the held ones), with
/// `M = AI + μ D`, `D` the diagonal of the AI matrix (floored at `1e-8` of
/// its largest entry): the AI step for `μ = 0`, a Levenberg–Marquardt step
/// otherwise.
fn solve_free(ai: &DMatrix<f64>, score: &[f64], held: &[usize], mu: f64) -> Vec<f64> {
    let k = score.len();
    let free: Vec<usize> = (0..k).filter(|i| !held.contains(i)).collect();
    let m = free.len();
    let dmax = free.iter().map(|&i| ai[(i, i)].abs()).fold(0.0, f64::max);
    let sub = DMatrix::from_fn(m, m, |i, j| {
        let a = ai[(free[i], free[j])];
        if i == j && mu > 0.0 {
            a + mu * ai[(free[i], free[i])].abs().max(1e-8 * dmax).max(1e-300)
        } else {
            a
        }
    });
    let s = DVector::from_fn(m, |i, _| score[free[i]]);
    let d = spd_inverse(&sub) * s;
    let mut step = vec![0.0; k];
    for (i, &fi) in free.iter().enumerate() {
        step[fi] = d[i];
    }
    step
}

/// The AI step `AI⁻¹ score` (damped by `mu`) over the parameters not held;
/// a free parameter at a bound whose step points outward joins the held
/// ones and the step is recomputed. Returns the step and the held set.
pub(crate) fn bounded_step(
    ai: &DMatrix<f64>,
    score: &[f64],
    x: &[f64],
    b: &Bounds,
    mut held: Vec<usize>,
    mu: f64,
) -> (Vec<f64>, Vec<usize>) {
    loop {
        let step = solve_free(ai, score, &held, mu);
        let newly: Vec<usize> = (0..x.len())
            .filter(|i| !held.contains(i))
            .filter(|&i| (x[i] <= b.lo[i] && step[i] < 0.0) || (x[i] >= b.hi[i] && step[i] > 0.0))
            .collect();
        if newly.is_empty() {
            return (step, held);
        }
        held.extend(newly);
    }
}

/// The step projected onto the bounds (each parameter stops at the bound
/// it would cross), then shortened, direction kept, so that no parameter
/// moves more than its [`Transform::step_limit`]. A parameter heading for its bound
/// thus no longer shortens the steps of all the others.
pub(crate) fn project(step: &[f64], x: &[f64], b: &Bounds, tr: &[Transform]) -> Vec<f64> {
    let mut e: Vec<f64> = (0..x.len())
        .map(|i| (x[i] + step[i]).clamp(b.lo[i], b.hi[i]) - x[i])
        .collect();
    let scale = e
        .iter()
        .zip(tr)
        .map(|(s, t)| t.step_limit() / s.abs())
        .fold(1.0f64, f64::min);
    if scale < 1.0 {
        e.iter_mut().for_each(|s| *s *= scale);
    }
    e
}

/// The log-likelihood at a trial point: `None` where `V` or `C` is not
/// positive definite or `Xᵀ V⁻¹ X` is singular (the step is shortened or
/// another tried), but a hard error of a structure or of the data is
/// passed through — it is not a reason to shorten the step.
pub(crate) fn try_point(ev: &mut dyn Evaluator, x: &[f64]) -> Result<Option<Point>, RemlError> {
    match ev.evaluate(x) {
        Ok(p) => Ok(Some(p)),
        Err(EvalFail::NotPd | EvalFail::SingularC) => Ok(None),
        Err(EvalFail::Model(e)) => Err(e),
    }
}

/// `x + α e`, kept inside the bounds.
fn trial(x: &[f64], e: &[f64], alpha: f64, b: &Bounds) -> Vec<f64> {
    (0..x.len())
        .map(|i| (x[i] + alpha * e[i]).clamp(b.lo[i], b.hi[i]))
        .collect()
}

/// Step halving along `e` from `alpha`: the log-likelihood must not
/// decrease and `V` must stay positive definite. When the gain the
/// quadratic model predicts for the full step is below the rounding level
/// of the log-likelihood, comparing two log-likelihoods says nothing; the
/// step is then accepted unless the log-likelihood falls by more than that
/// rounding level.
pub(crate) fn line_search(
    ev: &mut dyn Evaluator,
    cur: &Point,
    e: &[f64],
    predicted: f64,
    b: &Bounds,
    alpha: f64,
    max_halvings: usize,
) -> Result<Option<(Point, usize)>, RemlError> {
    let noise = ROUNDING * cur.ll.abs().max(1.0);
    let slack = if predicted.abs() <= noise { noise } else { 0.0 };
    let mut alpha = alpha;
    for h in 0..=max_halvings {
        if let Some(p) = try_point(ev, &trial(&cur.x, e, alpha, b))? {
            if p.ll >= cur.ll - slack {
                return Ok(Some((p, h)));
            }
        }
        alpha *= 0.5;
    }
    Ok(None)
}

/// What a fallback found: the new point and how.
pub(crate) struct Rescue {
    pub point: Point,
    pub how: &'static str,
}

/// When the AI step fails (no halving raises the log-likelihood, or the AI
/// matrix is singular along the score): Levenberg–Marquardt steps
/// `(AI + μ D)⁻¹ s` for `μ = 10⁻³ … 10⁶`, then probes along each single
/// parameter in the direction of its score. The first point that raises the
/// log-likelihood by more than its rounding level is taken.
#[allow(clippy::too_many_arguments)]
pub(crate) fn rescue(
    ev: &mut dyn Evaluator,
    cur: &Point,
    score: &[f64],
    ai: &DMatrix<f64>,
    held: &[usize],
    b: &Bounds,
    tr: &[Transform],
) -> Result<Option<Rescue>, RemlError> {
    let noise = ROUNDING * cur.ll.abs().max(1.0);
    let better = |p: &Point| p.ll > cur.ll + noise;
    for mu in [1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6] {
        let (d, _) = bounded_step(ai, score, &cur.x, b, held.to_vec(), mu);
        let e = project(&d, &cur.x, b, tr);
        if e.iter().all(|v| *v == 0.0) {
            continue;
        }
        if let Some(p) = try_point(ev, &trial(&cur.x, &e, 1.0, b))? {
            if better(&p) {
                return Ok(Some(Rescue {
                    point: p,
                    how: "Levenberg–Marquardt step",
                }));
            }
        }
    }
    let mut best: Option<Point> = None;
    for i in (0..cur.x.len()).filter(|i| !held.contains(i)) {
        if score[i] == 0.0 {
            continue;
        }
        for h in [0.5, 5e-2, 5e-3, 5e-4, 5e-5, 5e-6] {
            let mut e = vec![0.0; cur.x.len()];
            e[i] = h * score[i].signum() * cur.x[i].abs().max(1.0);
            let e = project(&e, &cur.x, b, tr);
            if e[i] == 0.0 {
                break;
            }
            if let Some(p) = try_point(ev, &trial(&cur.x, &e, 1.0, b))? {
                if better(&p) {
                    if best.as_ref().is_none_or(|q| p.ll > q.ll) {
                        best = Some(p);
                    }
                    break;
                }
            }
        }
    }
    Ok(best.map(|point| Rescue {
        point,
        how: "coordinate probe",
    }))
}

/// Euclidean norm.
pub(crate) fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}
