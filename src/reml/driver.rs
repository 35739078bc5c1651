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
use super::fixed::FixedPart;
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

mod converge;
mod iterate;
mod outcome;
mod probe;
mod start;

use converge::converged;
use iterate::iterate;
use outcome::{finish, natural, End};
use probe::{on_ridge, probe_ranges, PROBE_ROUNDS};
use start::{rescaled_start, setup};

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
    fx: &FixedPart,
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
    let first = if begin_user { &user } else { &full };
    let (cur, warnings) = start_point(ev, first, begin_user, &setup, params, opts)?;
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
    let (done, space) = drive(
        ev, &user, &full, begin_user, &mut run, params, fx, opts, observer,
    )?;
    let (done, space) = probe_rounds(
        ev, &user, &full, space, done, &mut run, params, fx, opts, observer,
    )?;
    Ok(wrap_up(
        params,
        space,
        ev.describe(),
        fx,
        done,
        run,
        opts,
        t0,
    ))
}

/// The optimiser's first point in `first` (the user's form when
/// `begin_user`): the validated start (an unstructured block that is not
/// positive definite there shrunk, with a word), rescaled by the profiled
/// scale when that is higher (see [`rescaled_start`]). Returns the point
/// and the warnings so far.
fn start_point(
    ev: &mut dyn Evaluator,
    first: &Space,
    begin_user: bool,
    setup: &Setup,
    params: &ParamInfo,
    opts: &RemlOptions,
) -> Result<(Point, Vec<String>), RemlError> {
    let mut warnings = setup.warnings.clone();
    let mut cev = Constrained {
        inner: ev,
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
    Ok((cur, warnings))
}

/// Up to [`PROBE_ROUNDS`] rounds of range probes after a converged fit
/// ([`probe_ranges`]): continued from a higher probe, or ended on a ridge
/// rising towards `∞` ([`on_ridge`]).
#[allow(clippy::too_many_arguments)]
fn probe_rounds<'s>(
    ev: &mut dyn Evaluator,
    user: &'s Space,
    full: &'s Space,
    mut space: &'s Space,
    mut done: Done,
    run: &mut Run,
    params: &ParamInfo,
    fx: &FixedPart,
    opts: &RemlOptions,
    observer: &mut dyn FnMut(&Iteration),
) -> Result<(Done, &'s Space), RemlError> {
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
            done = on_ridge(ev, space, run, params, fx, opts, observer, found.param)?;
            break;
        }
        let in_user = std::ptr::eq(space, user);
        (done, space) = drive(ev, user, full, in_user, run, params, fx, opts, observer)?;
    }
    Ok((done, space))
}

/// The fit result from how the iteration ended (`done`, `run`): the
/// warnings about fallbacks and rounding noise, then [`finish`].
#[allow(clippy::too_many_arguments)]
fn wrap_up(
    params: &ParamInfo,
    space: &Space,
    backend: String,
    fx: &FixedPart,
    done: Done,
    mut run: Run,
    opts: &RemlOptions,
    t0: Instant,
) -> RemlFit {
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
    finish(
        params,
        space,
        run.warnings,
        opts.method,
        backend,
        fx,
        end,
        run.history,
        t0,
    )
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
    fx: &FixedPart,
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

/// Log-likelihood, score and AI matrix at `x`.
pub(crate) fn evaluate_at(
    params: &ParamInfo,
    ev: &mut dyn Evaluator,
    fx: &FixedPart,
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

/// `name = free (natural)` for messages.
pub(crate) fn describe_point(names: &[String], tr: &[Transform], x: &[f64]) -> String {
    super::describe::describe_point(names, tr, x)
}
