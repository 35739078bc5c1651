//! The AI iteration on one parameterisation: the step over the parameters
//! not held at a bound, the line search, the fallbacks, and the switch to
//! Cholesky form near the edge of the cone.

use super::*;

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
pub(super) fn iterate(
    ev: &mut dyn Evaluator,
    space: &Space,
    run: &mut Run,
    params: &ParamInfo,
    fx: &FixedPart,
    opts: &RemlOptions,
    observer: &mut dyn FnMut(&Iteration),
    switchable: bool,
) -> Result<Stop, RemlError> {
    let b = space.bounds();
    let tr = &space.params.transforms;
    loop {
        let at = Here::assess(ev, run, &b, tr, opts)?;
        if switchable && near_edge(&space.plan, &run.cur.x, &at.e, &at.held) {
            return Ok(Stop::Switch);
        }
        let cur = &run.cur;
        let converged = at.converged(cur, opts);
        let at_noise_only = converged == Some(true);
        let entry = Iteration {
            iter: at.it,
            loglik_change: at.change,
            score: at.score.clone(),
            score_norm: at.score_norm,
            ai: at.ai.clone(),
            step_norm: at.step_norm,
            ..at_point(space, params, fx, cur)
        };
        record(&mut run.history, entry, opts, observer);
        if converged.is_some() {
            return Ok(at.done(Termination::Converged, at_noise_only));
        }
        if let Some(t) = out_of_bounds_or_time(space, &run.start, cur, &at.e, at.it, opts) {
            return Ok(at.done(t, at_noise_only));
        }
        let searched = if at.step_norm > 0.0 {
            line_search(
                ev,
                cur,
                &at.e,
                at.predicted,
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
            None => {
                let rescued = fallback(
                    ev,
                    cur,
                    &at,
                    &b,
                    tr,
                    (&mut run.warnings, &mut run.rescues),
                    opts,
                )?;
                match rescued {
                    Ok(p) => (p, 0),
                    Err(termination) => return Ok(at.done(termination, at_noise_only)),
                }
            }
        };
        advance(space, run, next, halvings);
    }
}

/// Moves the run to `next`, found after `halvings`, completing the last
/// history entry with its step.
fn advance(space: &Space, run: &mut Run, next: Point, halvings: usize) {
    let last = run.history.last_mut().expect("just pushed");
    last.step = user_step(space, &last.free, &next.x);
    last.halvings = halvings;
    run.prev_ll = run.cur.ll;
    run.cur = next;
}

/// Appends `entry` to the history, traced and observed.
fn record(
    history: &mut Vec<Iteration>,
    entry: Iteration,
    opts: &RemlOptions,
    observer: &mut dyn FnMut(&Iteration),
) {
    history.push(entry);
    let last = history.last().expect("just pushed");
    if opts.trace {
        print_trace_line(last);
    }
    observer(last);
}

/// The iteration's state at the current point: score, AI matrix, the AI
/// step `d` over the parameters not `held` at a bound and its projection
/// `e` onto the bounds, with the norms and log-likelihood changes the
/// convergence test and the fallbacks read.
struct Here {
    score: Vec<f64>,
    ai: DMatrix<f64>,
    held: Vec<usize>,
    d: Vec<f64>,
    e: Vec<f64>,
    it: usize,
    step_norm: f64,
    score_norm: f64,
    change: f64,
    predicted: f64,
}

impl Here {
    /// Score, AI matrix and the bounded, projected AI step at `run.cur`.
    fn assess(
        ev: &mut dyn Evaluator,
        run: &Run,
        b: &Bounds,
        tr: &[Transform],
        opts: &RemlOptions,
    ) -> Result<Self, RemlError> {
        let cur = &run.cur;
        let sa = ev.score_and_ai(cur, opts.jacobian)?;
        let (score, ai) = (sa.score, sa.ai);
        let (d, held) = bounded_step(
            &ai,
            &score,
            &cur.x,
            b,
            held_at_bounds(&score, &cur.x, b),
            0.0,
        );
        let e = project(&d, &cur.x, b, tr);
        let step_norm = norm(&e);
        let score_norm = norm(&free_part(&score, &held));
        let change = cur.ll - run.prev_ll;
        let predicted: f64 = 0.5 * score.iter().zip(&e).map(|(a, b)| a * b).sum::<f64>();
        Ok(Here {
            score,
            ai,
            held,
            d,
            e,
            it: run.history.len() + 1,
            step_norm,
            score_norm,
            change,
            predicted,
        })
    }

    /// The convergence test ([`converged`]) at `cur`.
    fn converged(&self, cur: &Point, opts: &RemlOptions) -> Option<bool> {
        converged(
            cur,
            &self.score,
            &self.d,
            &self.e,
            self.change,
            self.predicted,
            self.score_norm,
            opts,
        )
    }

    /// The end of the phase, for good, with `termination`.
    fn done(self, termination: Termination, at_noise_only: bool) -> Stop {
        Stop::Done(Done {
            termination,
            held: self.held,
            last_ai: self.ai,
            at_noise_only,
        })
    }
}

/// When no halving of the AI step raises the log-likelihood at `cur`: a
/// Levenberg–Marquardt step or a single-parameter probe ([`rescue`]), or
/// the end — converged along a flat ridge when nothing gains beyond the
/// rounding level, the last change was below the tolerance and the AI
/// step promises no more (a step that promises more and gains nothing
/// says the score is not to be trusted: lost digits), else stalled.
fn fallback(
    ev: &mut dyn Evaluator,
    cur: &Point,
    at: &Here,
    b: &Bounds,
    tr: &[Transform],
    (warnings, rescues): (&mut Vec<String>, &mut usize),
    opts: &RemlOptions,
) -> Result<Result<Point, Termination>, RemlError> {
    if let Some(r) = rescue(ev, cur, &at.score, &at.ai, &at.held, b, tr)? {
        if *rescues == 0 {
            warnings.push(format!(
                "the AI step failed at iteration {}; a {} took over",
                at.it, r.how
            ));
        }
        *rescues += 1;
        return Ok(Ok(r.point));
    }
    let tol = opts.tol_loglik * (1.0 + cur.ll.abs());
    let score_norm = at.score_norm;
    if at.step_norm > 0.0 && at.change.abs() <= tol && at.predicted.abs() <= tol {
        warnings.push(format!(
            "converged where no step (AI, Levenberg–Marquardt or a single-parameter \
             probe) raises the log-likelihood beyond its rounding level; a score \
             of norm {score_norm:.2e} remains along a flat ridge"
        ));
        return Ok(Err(Termination::Converged));
    }
    let reason = if at.step_norm == 0.0 {
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
    Ok(Err(Termination::Stalled { reason }))
}

/// The history entry of the point `cur` (on the user's scale), with
/// score, AI matrix and step still empty.
fn at_point(space: &Space, params: &ParamInfo, fx: &FixedPart, cur: &Point) -> Iteration {
    let x_user = space.plan.to_x(&cur.x);
    Iteration {
        iter: 0,
        natural: natural(&x_user, &params.transforms),
        free: x_user,
        beta: fx.unshift_beta(cur.beta.clone()),
        loglik: cur.ll,
        loglik_change: f64::NAN,
        score: Vec::new(),
        score_norm: f64::NAN,
        ai: DMatrix::zeros(0, 0),
        step: Vec::new(),
        step_norm: 0.0,
        halvings: 0,
    }
}

/// The step from the user's free parameters `from` to the optimiser's `to`,
/// on the user's scale.
fn user_step(space: &Space, from: &[f64], to: &[f64]) -> Vec<f64> {
    space
        .plan
        .to_x(to)
        .iter()
        .zip(from)
        .map(|(a, b)| a - b)
        .collect()
}

/// The entries of `v` outside `held`.
fn free_part(v: &[f64], held: &[usize]) -> Vec<f64> {
    (0..v.len())
        .filter(|i| !held.contains(i))
        .map(|i| v[i])
        .collect()
}

/// The end of an iteration that did not converge: a parameter running
/// towards infinity ([`diverging`]: no interior optimum) or the iteration
/// limit.
fn out_of_bounds_or_time(
    space: &Space,
    start: &[f64],
    cur: &Point,
    e: &[f64],
    it: usize,
    opts: &RemlOptions,
) -> Option<Termination> {
    if let Some(i) = diverging(&space.params, start, &cur.x, e, &space.hi) {
        return Some(Termination::NoInteriorOptimum {
            param: space.params.names[i].clone(),
        });
    }
    (it >= opts.max_iter).then_some(Termination::IterationLimit)
}
