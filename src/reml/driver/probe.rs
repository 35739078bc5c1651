//! Probes of a converged fit along its range parameters towards `∞`, and
//! the end of a fit on a ridge rising towards that limit.

use super::*;

/// How many times a converged fit is probed along its ranges and, when a
/// probe finds a higher point, continued from there.
pub(super) const PROBE_ROUNDS: usize = 3;

/// The factors by which a converged range is multiplied to probe it
/// towards its limit `∞`.
const RANGE_PROBES: [f64; 4] = [10.0, 1e2, 1e3, 1e4];

/// The most iterations of one probe (a fit with the range held).
const PROBE_ITER: usize = 12;

/// What [`probe_ranges`] found: a point above the converged one.
pub(super) struct Probed {
    pub(super) point: Point,
    /// The range parameter probed.
    pub(super) param: usize,
    /// Whether the profile log-likelihood rose over every probe, the
    /// highest being the farthest: the range has no interior optimum.
    pub(super) rising: bool,
    /// The word for the user.
    pub(super) word: String,
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
pub(super) fn probe_ranges(
    ev: &mut dyn Evaluator,
    space: &Space,
    cur: &Point,
    held: &[usize],
    params: &ParamInfo,
    fx: &FixedPart,
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
        let (profile, top) = profile_range(ev, space, cur, i, params, fx, &quiet, bar);
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

/// The profile of range `i` from the converged point `cur`: the range held
/// at each of [`RANGE_PROBES`] times its value, the others fitted (each
/// probe from the last one's end; `quiet` options); stops when the profile
/// has fallen twice in a row with nothing above `bar`. Returns the
/// `(range, log-likelihood)` pairs and the highest probe.
#[allow(clippy::too_many_arguments)]
fn profile_range(
    ev: &mut dyn Evaluator,
    space: &Space,
    cur: &Point,
    i: usize,
    params: &ParamInfo,
    fx: &FixedPart,
    quiet: &RemlOptions,
    bar: f64,
) -> (Vec<(f64, f64)>, Option<Point>) {
    let tr = &space.params.transforms;
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
            quiet,
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
    (profile, top)
}

/// Ends a fit at `run.cur`, on a ridge rising towards the limit of the
/// parameter `param`: one more history entry (score and AI matrix there)
/// and the outcome "no interior optimum".
#[allow(clippy::too_many_arguments)]
pub(super) fn on_ridge(
    ev: &mut dyn Evaluator,
    space: &Space,
    run: &mut Run,
    params: &ParamInfo,
    fx: &FixedPart,
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
