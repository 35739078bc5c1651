//! The AI-REML driver: one iteration loop, the active set, the convergence
//! test, the fallbacks, termination and history, shared by every backend
//! ([`Evaluator`]).
//!
//! The loop runs on the optimiser's parameters: the user's free parameters
//! while every unstructured block is safely positive definite, and from the
//! first step that nears the edge of the cone on, those blocks in Cholesky
//! form ([`constrain`](super::constrain)). Each iteration takes the AI step over
//! the parameters not held at a bound ([`step`](super::step)), projected onto
//! the bounds, with step halving; when no halving raises the log-likelihood,
//! a Levenberg–Marquardt step or a single-parameter probe does; when nothing
//! does, the fit ends `Stalled`, saying so.

use super::boundary::{diverging, singular_params};
use super::constrain::{tri, Constrained, Plan};
use super::evaluator::{EvalFail, Evaluator, ParamInfo, Point};
use super::fixed::Fixed;
use super::options::check_len;
use super::step::ROUNDING;
use super::step::{
    bounded_step, held_at_bounds, line_search, norm, project, rescue, try_point, Bounds,
};
use super::trace::{print_trace_header, print_trace_line};
use super::{Iteration, RemlError, RemlFit, RemlOptions, Termination};
use crate::{ParamKind, Transform};
use nalgebra::DMatrix;
use std::time::Instant;

/// Natural values below this fraction of the variance of `y` count as the
/// boundary 0 of a positive parameter.
const BOUNDARY: f64 = 1e-10;

/// A score whose Newton step promises at most this many rounding levels of
/// the log-likelihood is noise (see the convergence test in [`fit`]).
const CONVERGED_GAIN: f64 = 10.0;

/// The log-likelihood magnitude from which the score may be rounding noise
/// (sums over ~10⁵ rows and more); below it the score criterion is exact.
const LARGE_LOGLIK: f64 = 1e5;

/// The validated start and bounds of a fit (the user's free scale).
struct Setup {
    x0: Vec<f64>,
    /// The user's lower bounds.
    user_lo: Vec<f64>,
    /// The same, lifted to the floor of each variance.
    lo: Vec<f64>,
    hi: Vec<f64>,
    warnings: Vec<String>,
}

/// The optimiser's space: its parameters (names, transforms, kinds), bounds
/// and the map to the user's parameters.
#[derive(Clone)]
struct Space {
    params: ParamInfo,
    plan: Plan,
    lo: Vec<f64>,
    hi: Vec<f64>,
    /// Whether a lower bound is a floor standing for 0 (not the user's).
    floor: Vec<bool>,
}

impl Space {
    fn new(user: &ParamInfo, setup: &Setup, plan: Plan) -> Space {
        let params = plan.params(user);
        let k = user.names.len();
        let mut lo = setup.lo.clone();
        let mut hi = setup.hi.clone();
        let mut floor: Vec<bool> = (0..k).map(|i| setup.lo[i] > setup.user_lo[i]).collect();
        for i in (0..k).filter(|&i| plan.in_block(i)) {
            let diagonal = plan.is_diagonal(i);
            lo[i] = if diagonal {
                plan.floor
            } else {
                f64::NEG_INFINITY
            };
            hi[i] = f64::INFINITY;
            floor[i] = diagonal;
        }
        Space {
            params,
            plan,
            lo,
            hi,
            floor,
        }
    }
    fn bounds(&self) -> Bounds<'_> {
        Bounds {
            lo: &self.lo,
            hi: &self.hi,
        }
    }
}

/// A block variance that a step in the user's form would take below this
/// fraction of the variance of `y` is heading for 0: the fit continues in
/// Cholesky form.
const SMALL_VARIANCE: f64 = 1e-6;

/// The state of the iteration, carried across a switch of
/// parameterisation.
struct Run {
    cur: Point,
    /// The start, on the current optimiser's scale.
    start: Vec<f64>,
    history: Vec<Iteration>,
    prev_ll: f64,
    rescues: usize,
    warnings: Vec<String>,
}

/// How the iteration ended.
struct Done {
    termination: Termination,
    /// The parameters held at a bound at the last point.
    held: Vec<usize>,
    last_ai: DMatrix<f64>,
    /// Converged only because the score is rounding noise.
    at_noise_only: bool,
}

/// How a phase of the iteration ended.
enum Stop {
    /// For good.
    Done(Done),
    /// In the user's form, near the boundary of an unstructured block: the
    /// fit continues in Cholesky form from the current point.
    Switch,
}

/// Runs the AI-REML iteration with the backend `ev`.
///
/// Unstructured blocks are optimised in the user's parameterisation while
/// the iterate stays safely inside the positive definite cone (Newton's
/// method is fastest there, on the scale the structure was written for),
/// and in Cholesky form from the first iteration whose step would leave
/// that region ([`Plan::safe`](super::constrain::Plan::safe)), shrink a
/// block variance fast, hold one at a bound, or fail.
pub(crate) fn fit(
    params: &ParamInfo,
    ev: &mut dyn Evaluator,
    fx: &Fixed,
    opts: &RemlOptions,
    observer: &mut dyn FnMut(&Iteration),
) -> Result<RemlFit, RemlError> {
    let t0 = Instant::now();
    let setup = setup(params, fx, opts)?;
    let var_y = fx.var_y();
    let plan = Plan::new(params, &setup.user_lo, &setup.hi, BOUNDARY, var_y);
    let full = Space::new(params, &setup, plan);
    let user = Space::new(params, &setup, full.plan.user_form());
    let begin_user = full.plan.active() && user.plan.safe(&setup.x0);
    let mut warnings = setup.warnings.clone();
    let first = if begin_user { &user } else { &full };
    let mut cev = Constrained {
        inner: &mut *ev,
        plan: &first.plan,
    };
    let z0 = if begin_user {
        setup.x0.clone()
    } else {
        match first.plan.to_z_exact(&setup.x0) {
            Some(z) => z,
            None => {
                // An unstructured block that is not positive definite at the
                // start: an error if V is not either, else shrunk with a word.
                if let Err(fail) = cev.inner.evaluate(&setup.x0) {
                    return Err(fail_at(fail, params, &setup.x0));
                }
                warnings.push(
                    "an unstructured block is not positive definite at the start: its \
                     off-diagonal entries were shrunk until it was"
                        .into(),
                );
                first.plan.to_z(&setup.x0)
            }
        }
    };
    let mut cur = match cev.evaluate(&z0) {
        Ok(e) => e,
        Err(fail) => return Err(fail_at(fail, params, &setup.x0)),
    };
    if opts.start.is_none() && opts.rescale_start {
        if let Some(better) = rescaled_start(&mut cev, &cur, params, first) {
            cur = better;
        }
    }
    if opts.trace {
        print_trace_header();
    }
    let mut run = Run {
        start: cur.x.clone(),
        cur,
        history: Vec::new(),
        prev_ll: f64::NAN,
        rescues: 0,
        warnings,
    };
    let (mut done, mut space) = drive(
        ev, &user, &full, begin_user, &mut run, params, fx, opts, observer,
    )?;
    for _ in 0..PROBE_ROUNDS {
        if done.termination != Termination::Converged {
            break;
        }
        let Some(found) = probe_ranges(ev, space, &run.cur, &done.held, params, fx, opts) else {
            break;
        };
        run.warnings.push(found.word);
        run.cur = found.point;
        run.prev_ll = f64::NAN;
        if found.rising {
            // The profile rises over every probe towards the limit: no
            // interior optimum; the fit ends at the highest probe.
            done = on_ridge(ev, space, &mut run, params, fx, opts, observer, found.param)?;
            break;
        }
        let in_user = std::ptr::eq(space, &user);
        (done, space) = drive(
            ev, &user, &full, in_user, &mut run, params, fx, opts, observer,
        )?;
    }
    let Done {
        termination,
        held,
        last_ai,
        at_noise_only,
    } = done;
    if run.rescues > 1 {
        run.warnings.push(format!(
            "{} iterations in all took a fallback step (Levenberg–Marquardt or a probe)",
            run.rescues
        ));
    }
    if at_noise_only && termination.is_converged() {
        run.warnings.push(
            "converged at the rounding level of the log-likelihood: the remaining score is \
             rounding noise of a sum over many rows"
                .into(),
        );
    }
    let end = End {
        cur: run.cur,
        termination,
        held,
        last_ai,
    };
    Ok(finish(
        params,
        space,
        run.warnings,
        opts.method,
        ev.describe(),
        fx,
        end,
        run.history,
        t0,
    ))
}

/// The iteration from `run.cur`: in the user's form (`in_user`) until it
/// ends or nears the boundary of a block, then in Cholesky form (`full`).
/// Returns how it ended and the space of its last point.
#[allow(clippy::too_many_arguments)]
fn drive<'s>(
    ev: &mut dyn Evaluator,
    user: &'s Space,
    full: &'s Space,
    in_user: bool,
    run: &mut Run,
    params: &ParamInfo,
    fx: &Fixed,
    opts: &RemlOptions,
    observer: &mut dyn FnMut(&Iteration),
) -> Result<(Done, &'s Space), RemlError> {
    if in_user {
        let mut cev = Constrained {
            inner: &mut *ev,
            plan: &user.plan,
        };
        if let Stop::Done(d) = iterate(&mut cev, user, run, params, fx, opts, observer, true)? {
            return Ok((d, user));
        }
        let mut cev = Constrained {
            inner: &mut *ev,
            plan: &full.plan,
        };
        let z = full.plan.to_z(&run.cur.x);
        run.cur = cev
            .evaluate(&z)
            .map_err(|fail| fail_at(fail, params, &run.cur.x))?;
        run.start = full.plan.to_z(&run.start);
    }
    let mut cev = Constrained {
        inner: ev,
        plan: &full.plan,
    };
    match iterate(&mut cev, full, run, params, fx, opts, observer, false)? {
        Stop::Done(d) => Ok((d, full)),
        Stop::Switch => unreachable!("the Cholesky form does not switch"),
    }
}

/// How many times a converged fit is probed along its ranges and, when a
/// probe finds a higher point, continued from there.
const PROBE_ROUNDS: usize = 3;

/// The factors by which a converged range is multiplied to probe it
/// towards its limit `∞`.
const RANGE_PROBES: [f64; 4] = [10.0, 1e2, 1e3, 1e4];

/// The most iterations of one probe (a fit with the range held).
const PROBE_ITER: usize = 12;

/// What [`probe_ranges`] found: a point above the converged one.
struct Probed {
    point: Point,
    /// The range parameter probed.
    param: usize,
    /// Whether the profile log-likelihood rose over every probe, the
    /// highest being the farthest: the range has no interior optimum.
    rising: bool,
    /// The word for the user.
    word: String,
}

/// Probes a converged fit along each free range parameter towards its
/// limit `∞`: with the range held at 10, 100, 1,000 and 10,000 times its
/// value, the other parameters are fitted (each probe from the last one's
/// end, at most [`PROBE_ITER`] iterations). A range's profile
/// log-likelihood can have an interior local maximum below its supremum at
/// `∞` (a spherical kernel, whose limit is a linear variogram); the AI
/// iteration, a local method, stops at the first. The probes of a range
/// stop when the profile has fallen twice in a row with no probe above the
/// converged point. Returns the highest probe
/// above the converged point (by more than `1e-9 · (1 + |ℓ|)`), or `None`.
/// A probe that cannot be evaluated or fails is skipped.
fn probe_ranges(
    ev: &mut dyn Evaluator,
    space: &Space,
    cur: &Point,
    held: &[usize],
    params: &ParamInfo,
    fx: &Fixed,
    opts: &RemlOptions,
) -> Option<Probed> {
    let tr = &space.params.transforms;
    let ranges: Vec<usize> = (0..cur.x.len())
        .filter(|&i| {
            space.params.kinds[i] == ParamKind::Range
                && space.hi[i] == f64::INFINITY
                && !held.contains(&i)
                && tr[i].range() == (0.0, f64::INFINITY)
        })
        .collect();
    let quiet = opts.clone().trace(false).max_iter(PROBE_ITER);
    let bar = cur.ll + 1e-9 * (1.0 + cur.ll.abs());
    let mut best: Option<Probed> = None;
    for &i in &ranges {
        let r = tr[i].forward(cur.x[i]);
        let mut from = cur.x.clone();
        let mut profile: Vec<(f64, f64)> = Vec::new();
        let mut top: Option<Point> = None;
        for f in RANGE_PROBES {
            let xi = tr[i].inverse(r * f);
            if !xi.is_finite() {
                break;
            }
            let mut pinned = space.clone();
            pinned.lo[i] = xi;
            pinned.hi[i] = xi;
            from[i] = xi;
            let mut cev = Constrained {
                inner: &mut *ev,
                plan: &pinned.plan,
            };
            let Ok(Some(p)) = try_point(&mut cev, &from) else {
                continue;
            };
            let mut run = Run {
                cur: p,
                start: from.clone(),
                history: Vec::new(),
                prev_ll: f64::NAN,
                rescues: 0,
                warnings: Vec::new(),
            };
            let ended = iterate(
                &mut cev,
                &pinned,
                &mut run,
                params,
                fx,
                &quiet,
                &mut |_| {},
                false,
            );
            if ended.is_err() || !run.cur.ll.is_finite() {
                continue;
            }
            profile.push((r * f, run.cur.ll));
            from = run.cur.x.clone();
            // Falling twice in a row and nothing above the converged
            // point: the profile has no sign of a higher region.
            let seq: Vec<f64> = std::iter::once(cur.ll)
                .chain(profile.iter().map(|p| p.1))
                .collect();
            let n = seq.len();
            if n >= 3
                && seq[n - 1] < seq[n - 2]
                && seq[n - 2] < seq[n - 3]
                && seq[1..].iter().all(|&l| l <= bar)
            {
                break;
            }
            if top.as_ref().is_none_or(|t| run.cur.ll > t.ll) {
                top = Some(run.cur);
            }
        }
        let Some(top) = top.filter(|t| t.ll > bar) else {
            continue;
        };
        if best.as_ref().is_some_and(|b| b.point.ll >= top.ll) {
            continue;
        }
        let rising =
            profile.len() == RANGE_PROBES.len() && profile.windows(2).all(|w| w[1].1 > w[0].1);
        let name = &space.params.names[i];
        let listed = profile
            .iter()
            .map(|(at, ll)| format!("{at:.4e}: {ll:.7}"))
            .collect::<Vec<_>>()
            .join(", ");
        let word = format!(
            "the AI iteration converged to a local maximum with {name} = {r:.6} (log-likelihood \
             {:.7}); fits with {name} held farther out are higher ({listed}){}",
            cur.ll,
            if rising {
                format!(
                    ": the log-likelihood rises towards {name} → ∞ and the fit ends at the \
                     farthest probe"
                )
            } else {
                ", and the fit continued from the highest".into()
            }
        );
        best = Some(Probed {
            point: top,
            param: i,
            rising,
            word,
        });
    }
    best
}

/// Ends a fit at `run.cur`, on a ridge rising towards the limit of the
/// parameter `param`: one more history entry (score and AI matrix there)
/// and the outcome "no interior optimum".
#[allow(clippy::too_many_arguments)]
fn on_ridge(
    ev: &mut dyn Evaluator,
    space: &Space,
    run: &mut Run,
    params: &ParamInfo,
    fx: &Fixed,
    opts: &RemlOptions,
    observer: &mut dyn FnMut(&Iteration),
    param: usize,
) -> Result<Done, RemlError> {
    let mut cev = Constrained {
        inner: ev,
        plan: &space.plan,
    };
    let sa = cev.score_and_ai(&run.cur, opts.jacobian)?;
    let x_user = space.plan.to_x(&run.cur.x);
    let score_norm = norm(&sa.score);
    run.history.push(Iteration {
        iter: run.history.len() + 1,
        natural: natural(&x_user, &params.transforms),
        free: x_user,
        beta: fx.unshift_beta(run.cur.beta.clone()),
        loglik: run.cur.ll,
        loglik_change: f64::NAN,
        score: sa.score,
        score_norm,
        ai: sa.ai.clone(),
        step: Vec::new(),
        step_norm: 0.0,
        halvings: 0,
    });
    let last = run.history.last().expect("just pushed");
    if opts.trace {
        print_trace_line(last);
    }
    observer(last);
    Ok(Done {
        termination: Termination::NoInteriorOptimum {
            param: space.params.names[param].clone(),
        },
        held: Vec::new(),
        last_ai: sa.ai,
        at_noise_only: false,
    })
}

/// Whether a fit in the user's form should continue in Cholesky form
/// before taking the step `e` from `x`: the step's end is not safely inside
/// the positive definite cone, it takes a block variance below
/// [`SMALL_VARIANCE`] of `var(y)`, or a block parameter is held at a bound.
fn near_edge(plan: &Plan, x: &[f64], e: &[f64], held: &[usize]) -> bool {
    let target: Vec<f64> = x.iter().zip(e).map(|(a, b)| a + b).collect();
    if !plan.safe(&target) {
        return true;
    }
    // the floor is √(BOUNDARY · var(y))
    let small = SMALL_VARIANCE / BOUNDARY * plan.floor * plan.floor;
    plan.blocks.iter().filter(|b| b.eligible).any(|b| {
        b.idx.iter().any(|k| held.contains(k))
            || (0..b.n).any(|i| (2.0 * target[b.idx[tri(i, i)]]).exp() < small)
    })
}

/// The iteration on one parameterisation (`space`), from `run.cur`, until
/// it ends or, when `switchable` (the user's form of unstructured blocks),
/// until the iterate nears the boundary of a block.
#[allow(clippy::too_many_arguments)]
fn iterate(
    ev: &mut dyn Evaluator,
    space: &Space,
    run: &mut Run,
    params: &ParamInfo,
    fx: &Fixed,
    opts: &RemlOptions,
    observer: &mut dyn FnMut(&Iteration),
    switchable: bool,
) -> Result<Stop, RemlError> {
    let b = space.bounds();
    let tr = &space.params.transforms;
    loop {
        let cur = &run.cur;
        let it = run.history.len() + 1;
        let sa = ev.score_and_ai(cur, opts.jacobian)?;
        let (score, ai) = (sa.score, sa.ai);
        let (d, held) = bounded_step(
            &ai,
            &score,
            &cur.x,
            &b,
            held_at_bounds(&score, &cur.x, &b),
            0.0,
        );
        let e = project(&d, &cur.x, &b, tr);
        if switchable && near_edge(&space.plan, &cur.x, &e, &held) {
            return Ok(Stop::Switch);
        }
        let step_norm = norm(&e);
        let free_score: Vec<f64> = (0..score.len())
            .filter(|i| !held.contains(i))
            .map(|i| score[i])
            .collect();
        let score_norm = norm(&free_score);
        let change = cur.ll - run.prev_ll;
        let predicted: f64 = 0.5 * score.iter().zip(&e).map(|(a, b)| a * b).sum::<f64>();
        let converged = converged(cur, &score, &d, &e, change, predicted, score_norm, opts);
        let at_noise_only = converged == Some(true);
        let x_user = space.plan.to_x(&cur.x);
        run.history.push(Iteration {
            iter: it,
            natural: natural(&x_user, &params.transforms),
            free: x_user,
            beta: fx.unshift_beta(cur.beta.clone()),
            loglik: cur.ll,
            loglik_change: change,
            score: score.clone(),
            score_norm,
            ai: ai.clone(),
            step: Vec::new(),
            step_norm,
            halvings: 0,
        });
        let last = run.history.last().expect("just pushed");
        if opts.trace {
            print_trace_line(last);
        }
        observer(last);
        let done = |termination| {
            Ok(Stop::Done(Done {
                termination,
                held: held.clone(),
                last_ai: ai.clone(),
                at_noise_only,
            }))
        };
        if converged.is_some() {
            return done(Termination::Converged);
        }
        if let Some(i) = diverging(&space.params, &run.start, &cur.x, &e, &space.hi) {
            return done(Termination::NoInteriorOptimum {
                param: space.params.names[i].clone(),
            });
        }
        if it >= opts.max_iter {
            return done(Termination::IterationLimit);
        }
        let searched = if step_norm > 0.0 {
            line_search(
                ev,
                cur,
                &e,
                predicted,
                &b,
                opts.step_size,
                opts.max_halvings,
            )?
        } else {
            None
        };
        if searched.is_none() && switchable {
            run.history.pop();
            return Ok(Stop::Switch);
        }
        let (next, halvings) = match searched {
            Some(found) => found,
            None => match rescue(ev, cur, &score, &ai, &held, &b, tr)? {
                Some(r) => {
                    if run.rescues == 0 {
                        run.warnings.push(format!(
                            "the AI step failed at iteration {it}; a {} took over",
                            r.how
                        ));
                    }
                    run.rescues += 1;
                    (r.point, 0)
                }
                None if step_norm > 0.0
                    && change.abs() <= opts.tol_loglik * (1.0 + cur.ll.abs())
                    && predicted.abs() <= opts.tol_loglik * (1.0 + cur.ll.abs()) =>
                {
                    // Nothing raises the log-likelihood beyond its rounding
                    // level, the last step changed it by less than the
                    // tolerance, and the AI step promises no more: a maximum
                    // along a flat ridge (a boundary). A step that promises
                    // more and gains nothing says the score is not to be
                    // trusted (lost digits): not converged.
                    run.warnings.push(format!(
                        "converged where no step (AI, Levenberg–Marquardt or a single-parameter \
                         probe) raises the log-likelihood beyond its rounding level; a score \
                         of norm {score_norm:.2e} remains along a flat ridge"
                    ));
                    return done(Termination::Converged);
                }
                None => {
                    let reason = if step_norm == 0.0 {
                        "the AI matrix is singular along the score and no damped or \
                         single-parameter step raises the log-likelihood: the data do \
                         not identify some parameters"
                            .into()
                    } else {
                        format!(
                            "no step raises the log-likelihood: the AI step with {} \
                             halvings, Levenberg–Marquardt steps and single-parameter \
                             probes all failed (score norm {:.3e})",
                            opts.max_halvings, score_norm
                        )
                    };
                    return done(Termination::Stalled { reason });
                }
            },
        };
        let last = run.history.last_mut().expect("just pushed");
        last.step = space
            .plan
            .to_x(&next.x)
            .iter()
            .zip(&last.free)
            .map(|(a, b)| a - b)
            .collect();
        last.halvings = halvings;
        run.prev_ll = run.cur.ll;
        run.cur = next;
    }
}

/// The convergence test: `None` if not converged, `Some(false)` if
/// converged by the tolerances, `Some(true)` if converged only because the
/// remaining score is rounding noise.
///
/// Converged when (a) the score is small — its norm below `tol_score`, or
/// the Newton decrement `sᵀ AI⁻¹ s` relative to `1 + |ℓ|` below
/// `tol_score²` (scale-free: the same on 100 and 10⁷ rows) — and (b) the
/// proposed step is below `tol_step · (1 + ‖x‖)` and (c) the log-likelihood
/// changed by less than `tol_loglik · (1 + |ℓ|)`; on large data
/// (`|ℓ| ≥ 1e5`), (a) also holds when the gain the step promises is below
/// ten rounding levels of `ℓ`: the score is then noise.
#[allow(clippy::too_many_arguments)]
fn converged(
    cur: &Point,
    score: &[f64],
    d: &[f64],
    e: &[f64],
    change: f64,
    predicted: f64,
    score_norm: f64,
    opts: &RemlOptions,
) -> Option<bool> {
    let scale = 1.0 + cur.ll.abs();
    let decrement: f64 = score
        .iter()
        .zip(d)
        .map(|(a, b)| a * b)
        .sum::<f64>()
        .max(0.0);
    let score_ok = score_norm <= opts.tol_score || decrement / scale <= opts.tol_score.powi(2);
    let step_ok = norm(e) <= opts.tol_step * (1.0 + norm(&cur.x));
    let change_ok = change.abs() <= opts.tol_loglik * scale;
    if score_ok && step_ok && change_ok {
        return Some(false);
    }
    let noise = ROUNDING * cur.ll.abs().max(1.0);
    let noisy = cur.ll.abs() >= LARGE_LOGLIK
        && predicted.abs() <= CONVERGED_GAIN * noise
        && step_ok
        && change_ok;
    noisy.then_some(true)
}

/// Checks the start and the bounds, and lifts the lower bound of every
/// positive parameter (variance) to `BOUNDARY · var(y)`: 0 for all practical
/// purposes, and the point where `e^{2x}` would otherwise creep towards
/// underflow with a score and an AI row that vanish with it. A range keeps
/// its bounds.
fn setup(params: &ParamInfo, fx: &Fixed, opts: &RemlOptions) -> Result<Setup, RemlError> {
    let tr = &params.transforms;
    let super::options::Validated {
        start: x0,
        lower: user_lo,
        upper: hi,
        warnings: option_warnings,
    } = opts.validate(&params.names, &params.defaults)?;
    let mut warnings = fx.notes.clone();
    warnings.extend(option_warnings);
    let var_y = fx.var_y();
    let floor = BOUNDARY * if var_y > 0.0 { var_y } else { 1.0 };
    let lo = (0..user_lo.len())
        .map(|i| {
            if tr[i].is_positive() && params.kinds[i] != ParamKind::Range {
                user_lo[i].max(tr[i].inverse(floor).min(x0[i]))
            } else {
                user_lo[i]
            }
        })
        .collect();
    Ok(Setup {
        x0,
        user_lo,
        lo,
        hi,
        warnings,
    })
}

/// The start with every variance-type parameter multiplied by the profiled
/// common scale `c` at `start` (see [`RemlOptions::rescale_start`]): each
/// natural value (on the user's scale, before a Cholesky map) times `c` to
/// the power of its kind ([`ParamKind::scale_power`]: variances and
/// covariances `c`; loadings, correlations, ranges and other parameters
/// unchanged), if that raises the log-likelihood. Skipped when the scale is
/// within 10 % of 1 or no parameter scales.
///
/// [`RemlOptions::rescale_start`]: super::RemlOptions::rescale_start
fn rescaled_start(
    ev: &mut dyn Evaluator,
    start: &Point,
    user: &ParamInfo,
    space: &Space,
) -> Option<Point> {
    let c = start.profiled_scale;
    if !(c.is_finite() && c > 0.0) || c.ln().abs() < 0.1 {
        return None;
    }
    let tr = &user.transforms;
    let x0 = space.plan.to_x(&start.x);
    let mut moved = false;
    let x: Vec<f64> = (0..x0.len())
        .map(|i| {
            let x = x0[i];
            let power = user.kinds[i].scale_power();
            let scalable = tr[i].is_positive() || tr[i] == Transform::Identity;
            if power == 0.0 || !scalable {
                return x;
            }
            let scaled = tr[i].inverse(c.powf(power) * tr[i].forward(x));
            if !scaled.is_finite() {
                return x;
            }
            moved = true;
            if space.plan.in_block(i) {
                scaled
            } else {
                scaled.clamp(space.lo[i], space.hi[i])
            }
        })
        .collect();
    if !moved {
        return None;
    }
    let z = space.plan.to_z(&x);
    ev.evaluate(&z).ok().filter(|p| p.ll > start.ll)
}

/// Where the loop ended (optimiser's parameters).
struct End {
    cur: Point,
    termination: Termination,
    held: Vec<usize>,
    last_ai: DMatrix<f64>,
}

/// The outcome of a converged fit: singular, on the boundary, or interior.
fn converged_outcome(space: &Space, end: &End, singular: &[String]) -> Termination {
    if !singular.is_empty() {
        return Termination::Singular {
            params: singular.to_vec(),
        };
    }
    if end.held.is_empty() {
        return Termination::Converged;
    }
    let bounds = end
        .held
        .iter()
        .map(|&i| {
            let t = &space.params.transforms[i];
            if end.cur.x[i] <= space.lo[i] {
                if space.floor[i] {
                    0.0
                } else {
                    t.forward(space.lo[i])
                }
            } else {
                t.forward(space.hi[i])
            }
        })
        .collect();
    Termination::AtBound {
        params: end
            .held
            .iter()
            .map(|&i| space.params.names[i].clone())
            .collect(),
        bounds,
    }
}

/// The fit result at the last accepted point.
#[allow(clippy::too_many_arguments)]
fn finish(
    params: &ParamInfo,
    space: &Space,
    mut warnings: Vec<String>,
    method: super::Method,
    backend: String,
    fx: &Fixed,
    end: End,
    history: Vec<Iteration>,
    t0: Instant,
) -> RemlFit {
    let names = params.names.clone();
    let tr = &params.transforms;
    let k = names.len();
    let (n, p) = (fx.n(), fx.p());
    let x = space.plan.to_x(&end.cur.x);
    let nat = natural(&x, tr);
    let singular = singular_params(params, &x, &nat, &space.plan, fx.var_y());
    let converged = end.termination == Termination::Converged;
    let held: Vec<usize> = if converged {
        end.held.clone()
    } else {
        Vec::new()
    };
    let (cov, ai) = estimates_covariance(space, &end, &held);
    // Parameters held outside a Cholesky block have no standard error.
    let held_x: Vec<usize> = held
        .iter()
        .copied()
        .filter(|&i| !space.plan.in_block(i))
        .collect();
    for &i in held.iter().filter(|&&i| space.plan.in_block(i)) {
        warnings.push(format!(
            "{} is held at 0: the unstructured matrix is singular (a variance 0 or a \
             correlation ±1); the standard errors of its entries are conditional on that",
            space.params.names[i]
        ));
    }
    let free_se: Vec<f64> = (0..k)
        .map(|i| {
            if held_x.contains(&i) {
                f64::NAN
            } else {
                cov[(i, i)].sqrt()
            }
        })
        .collect();
    let mut termination = end.termination.clone();
    if converged {
        termination = converged_outcome(space, &end, &singular);
        // A converged fit whose AI matrix does not identify some parameters
        // (not held at a bound) must not say "converged".
        let unidentified: Vec<String> = (0..k)
            .filter(|i| !held_x.contains(i) && !free_se[*i].is_finite())
            .map(|i| names[i].clone())
            .collect();
        if !unidentified.is_empty() {
            termination = Termination::NotIdentified {
                params: unidentified,
            };
        }
    }
    if !held_x.is_empty() && termination.is_converged() {
        warnings.push(format!(
            "no standard error for {}: held at a bound",
            held_x
                .iter()
                .map(|&i| names[i].as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let jac: Vec<f64> = x.iter().zip(tr).map(|(v, t)| t.derivative(*v)).collect();
    let ai_inverse_natural = DMatrix::from_fn(k, k, |i, j| {
        let c = if held_x.contains(&i) || held_x.contains(&j) {
            f64::NAN
        } else {
            cov[(i, j)]
        };
        jac[i] * c * jac[j]
    });
    let natural_se = (0..k).map(|i| ai_inverse_natural[(i, i)].sqrt()).collect();
    let cur = end.cur;
    let beta_se = (0..p)
        .map(|i| cur.beta_cov[(i, i)].max(0.0).sqrt())
        .collect();
    let df = (p + k) as f64;
    RemlFit {
        natural: nat,
        free: x,
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
        singular: !singular.is_empty(),
        history,
        ai,
        ai_inverse_natural,
        method,
        backend,
        warnings,
        seconds: t0.elapsed().as_secs_f64(),
        mc_standard_errors: None,
    }
}

/// The covariance of the user's free parameters (inverse AI over the
/// parameters not held, delta method `J C Jᵀ` through a Cholesky map, a held
/// Cholesky diagonal conditioned on) and the AI matrix on the user's free
/// scale (`J⁻ᵀ AI J⁻¹`).
fn estimates_covariance(space: &Space, end: &End, held: &[usize]) -> (DMatrix<f64>, DMatrix<f64>) {
    let cz = covariance_of_estimates(&end.last_ai, held);
    if !space.plan.active() {
        return (cz, end.last_ai.clone());
    }
    let k = cz.nrows();
    let plan = &space.plan;
    let jac = plan.jacobian(&end.cur.x);
    let unknown: Vec<usize> = (0..k)
        .filter(|&i| !held.contains(&i) && !cz[(i, i)].is_finite())
        .collect();
    let clean = cz.map(|v| if v.is_finite() { v } else { 0.0 });
    let mut cx = &jac * clean * jac.transpose();
    // NaN for what the AI matrix does not identify: a parameter outside the
    // blocks, or every entry of a block with such a parameter.
    let mut blank: Vec<usize> = unknown
        .iter()
        .copied()
        .filter(|&i| !plan.in_block(i))
        .collect();
    for b in plan.blocks.iter().filter(|b| b.cholesky) {
        if b.idx.iter().any(|k| unknown.contains(k)) {
            blank.extend(b.idx.iter().copied());
        }
    }
    blank.extend(held.iter().copied().filter(|&i| !plan.in_block(i)));
    for &i in &blank {
        for j in 0..k {
            cx[(i, j)] = f64::NAN;
            cx[(j, i)] = f64::NAN;
        }
    }
    let ai = match jac.clone().try_inverse() {
        Some(ji) => ji.transpose() * &end.last_ai * ji,
        None => DMatrix::from_element(k, k, f64::NAN),
    };
    (cx, ai)
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

/// `name = free (natural)` for messages.
pub(crate) fn describe_point(names: &[String], tr: &[Transform], x: &[f64]) -> String {
    super::describe::describe_point(names, tr, x)
}
