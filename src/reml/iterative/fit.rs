//! The iterative backend's outer loop: the start, the probe budget, the AI
//! iteration with its Monte Carlo convergence rule, the progress line, and
//! the fit it returns (see the module above for the mathematics).

use super::pcg::Data;
use super::{
    norm, support, unavailable, AtPoint, Fitter, Warm, BOUNDARY, CAP, FINAL_PROBES, LOOSE_CG,
    MAX_FIXED, START_PROBES,
};
use crate::reml::evaluator::ParamInfo;
use crate::reml::fixed::FixedPart;
use crate::reml::forecast::StepForecast;
use crate::reml::memory::available_memory;
use crate::reml::mixed::MixedModel;
use crate::reml::options::Method;
use crate::reml::{Iteration, RemlError, RemlFit, RemlOptions, Termination};
use crate::Transform;
use nalgebra::DMatrix;
use std::time::Instant;

/// Fits `model` by the iterative backend (`note`: why `auto` chose it).
pub(crate) fn fit(
    model: &MixedModel,
    opts: &RemlOptions,
    observer: &mut dyn FnMut(&Iteration),
    note: Option<String>,
) -> Result<RemlFit, RemlError> {
    let t0 = Instant::now();
    let levels = check_supported(model, opts)?;
    let params: ParamInfo = model.params();
    let q: Vec<usize> = model.terms.iter().map(|t| t.z.dims().1).collect();
    let fx = &model.fixed;
    let d = Data::new(&fx.x, levels, q).map_err(unavailable)?;
    let x = start(opts, &params, fx.var_y(), model.terms.len())?;
    let mut warnings: Vec<String> = fx.notes.clone();
    warnings.extend(note);
    let probes = ProbeBudget::new(opts, &d, &mut warnings);
    let fitter = Fitter {
        d: &d,
        y: &fx.y,
        k: model.terms.len(),
        transforms: &params.transforms,
        opts,
    };
    if opts.iterative.progress {
        eprintln!(
            "iterative REML: n = {}, {} unknowns, {} probes to start (seed {})",
            d.n, d.dim, probes.m, opts.iterative.seed
        );
    }
    let run = iterate(&fitter, &params, fx, x, probes, observer, t0);
    Ok(finish(run, &params, fx, &d, opts, warnings, t0))
}

/// The data shape the backend needs (`(1|f)` terms with a scaled-identity
/// `G`, an iid residual, REML, no bounds, at most [`MAX_FIXED`] fixed
/// effects): the level codes of every term, or an error naming what is
/// not supported.
fn check_supported<'m>(
    model: &'m MixedModel,
    opts: &RemlOptions,
) -> Result<Vec<&'m [usize]>, RemlError> {
    if opts.method != Method::Reml {
        return Err(unavailable(
            "it maximises the REML likelihood only (use --method reml, or an exact backend)".into(),
        ));
    }
    if opts.lower.is_some()
        || opts.upper.is_some()
        || opts.lower_all.is_finite()
        || opts.upper_all.is_finite()
    {
        return Err(unavailable("it does not take bounds".into()));
    }
    let levels = support(model).map_err(unavailable)?;
    if model.fixed.p() > MAX_FIXED {
        return Err(unavailable(format!(
            "it solves once per fixed effect for their standard errors, and this model has {} \
             (at most {MAX_FIXED}); fit a large fixed factor as a random term",
            model.fixed.p()
        )));
    }
    Ok(levels)
}

/// The start on the free scale: the user's, or `var(y)` shared equally
/// between the `terms` random terms and the residual.
fn start(
    opts: &RemlOptions,
    params: &ParamInfo,
    var_y: f64,
    terms: usize,
) -> Result<Vec<f64>, RemlError> {
    match &opts.start {
        Some(s) => {
            crate::reml::options::check_len("start", s, &params.names)?;
            Ok(s.clone())
        }
        None => Ok(params
            .transforms
            .iter()
            .map(|t| t.inverse(var_y.max(1e-300) / (terms + 1) as f64))
            .collect()),
    }
}

/// The number of probes in use and the most the memory allows.
struct ProbeBudget {
    m: usize,
    max: usize,
}

impl ProbeBudget {
    /// The user's number of probes (or [`START_PROBES`]), at most what fits
    /// in memory (with a warning when fewer are used than asked for).
    fn new(opts: &RemlOptions, d: &Data<'_>, warnings: &mut Vec<String>) -> Self {
        let io = &opts.iterative;
        let cap = memory_probe_cap(d);
        let mut m = io.probes.unwrap_or(START_PROBES).max(2);
        if m > cap {
            warnings.push(format!(
                "{m} probes would not fit in memory; {cap} are used"
            ));
            m = cap;
        }
        ProbeBudget {
            m,
            max: io.max_probes.min(cap).max(m),
        }
    }
}

/// The most probes whose solver blocks fit in a quarter of the memory
/// available (at most 8 GB).
fn memory_probe_cap(d: &Data<'_>) -> usize {
    let budget = available_memory()
        .map(|a| (a / 4).min(8 << 30))
        .unwrap_or(2 << 30) as f64;
    let per = d.dim as f64 * 8.0 * (7 + d.threads) as f64;
    ((budget / per) as usize)
        .saturating_sub(1 + d.p + d.q.len())
        .max(2)
}

/// What one iteration's point says about the next step.
struct Assessed {
    /// Monte Carlo standard errors of the free parameters.
    mcse_x: Vec<f64>,
    /// The capped AI step.
    step: Vec<f64>,
    step_norm: f64,
    /// The largest ratio of a Monte Carlo to a statistical standard error.
    ratio: f64,
    /// The step is below the noise and the solves were at full tolerance.
    converged: bool,
}

/// The AI step at `pt` and the convergence rule (every component below a
/// tenth of its Monte Carlo error or the step tolerance, the solves
/// converged at the full tolerance `tight`); `None` when the AI matrix is
/// not positive definite.
fn assess(pt: &AtPoint, x: &[f64], tight: bool, opts: &RemlOptions) -> Option<Assessed> {
    let ai_inv = pt.ai.clone().cholesky().map(|c| c.inverse())?;
    let cov_x = &ai_inv * &pt.score_cov * &ai_inv;
    let mcse_x: Vec<f64> = (0..x.len())
        .map(|i| cov_x[(i, i)].max(0.0).sqrt())
        .collect();
    let se_x: Vec<f64> = (0..x.len()).map(|i| ai_inv[(i, i)].sqrt()).collect();
    let mut step: Vec<f64> = (&ai_inv * nalgebra::DVector::from_vec(pt.score.clone()))
        .iter()
        .copied()
        .collect();
    let big = step.iter().fold(0.0f64, |a, s| a.max(s.abs()));
    if big > CAP {
        step.iter_mut().for_each(|s| *s *= CAP / big);
    }
    let step_norm = norm(&step);
    let small = step
        .iter()
        .enumerate()
        .all(|(i, s)| s.abs() <= 0.1 * mcse_x[i] || s.abs() <= opts.tol_step * (1.0 + x[i].abs()));
    let ratio = (0..x.len())
        .map(|i| mcse_x[i] / se_x[i])
        .fold(0.0f64, f64::max);
    Some(Assessed {
        converged: small && pt.cg_ok && tight,
        mcse_x,
        step,
        step_norm,
        ratio,
    })
}

/// How the loop ended: the last point, its parameters, and what was seen.
struct Run {
    x: Vec<f64>,
    last: AtPoint,
    mcse_x: Vec<f64>,
    history: Vec<Iteration>,
    termination: Termination,
    /// Probes in use at the end.
    m: usize,
}

/// The AI iteration from `x`: inexact Newton far from the optimum (solves
/// to a relative residual of `1e-2 ×` the last step², at most
/// [`LOOSE_CG`]), more probes where the Monte Carlo error is too large,
/// and an end only at an iteration at the full tolerance.
fn iterate(
    fitter: &Fitter<'_, '_>,
    params: &ParamInfo,
    fx: &FixedPart,
    mut x: Vec<f64>,
    mut probes: ProbeBudget,
    observer: &mut dyn FnMut(&Iteration),
    t0: Instant,
) -> Run {
    let (opts, tr) = (fitter.opts, &params.transforms);
    let io = &opts.iterative;
    let var_y = fx.var_y();
    let mut warm = Warm { s1: None, s2: None };
    let mut history: Vec<Iteration> = Vec::new();
    let mut prev_step = f64::NAN;
    let mut forecast = StepForecast::default();
    loop {
        let it = history.len() + 1;
        let ti = Instant::now();
        let tol = cg_tolerance(prev_step, io.cg_tolerance);
        let tight = tol <= io.cg_tolerance;
        if tight && io.probes.is_none() {
            probes.m = probes.m.max(FINAL_PROBES.min(probes.max));
        }
        let m = probes.m;
        let pt = fitter.at(&x, m, tol, &mut warm);
        let end = |pt, mcse_x, history, termination, x| Run {
            x,
            last: pt,
            mcse_x,
            history,
            termination,
            m,
        };
        let Some(a) = assess(&pt, &x, tight, opts) else {
            let reason = "the AI matrix is not positive definite".into();
            let nan = vec![f64::NAN; x.len()];
            return end(pt, nan, history, Termination::Stalled { reason }, x);
        };
        let more_probes =
            a.converged && io.probes.is_none() && a.ratio > io.mc_target && m < probes.max;
        let finished = a.converged && !more_probes;
        let out_of_iter = !finished && it >= opts.max_iter;
        history.push(iteration(it, &x, tr, fx, &pt, &a, finished || out_of_iter));
        if io.progress {
            let timing = (ti.elapsed().as_secs_f64(), t0.elapsed().as_secs_f64());
            let target = 0.1 * norm(&a.mcse_x).max(1e-300);
            let iterations = forecast.record(a.step_norm, target);
            let state = if finished {
                Left::Done
            } else if more_probes {
                Left::MoreProbes
            } else {
                Left::Stepping { iterations }
            };
            progress_line(it, &pt, &a, m, tol, timing, state);
        }
        observer(history.last().expect("just pushed"));
        prev_step = a.step_norm;
        if !pt.cg_ok {
            let reason = format!(
                "the conjugate gradients did not reach a relative residual of {tol:e} in {} \
                 steps",
                io.max_cg_steps
            );
            return end(pt, a.mcse_x, history, Termination::Stalled { reason }, x);
        }
        if finished {
            return end(pt, a.mcse_x, history, Termination::Converged, x);
        }
        if out_of_iter {
            return end(pt, a.mcse_x, history, Termination::IterationLimit, x);
        }
        if more_probes {
            let want = (m as f64 * (a.ratio / io.mc_target).powi(2) * 1.2).ceil() as usize;
            probes.m = want.max(2 * m).min(probes.max);
            continue;
        }
        for (xi, s) in x.iter_mut().zip(&a.step) {
            *xi += s;
        }
        if let Some(reason) = at_boundary(&x, params, var_y) {
            return end(pt, a.mcse_x, history, Termination::Stalled { reason }, x);
        }
    }
}

/// The relative residual the solves stop at after a step of norm
/// `prev_step` (NaN before the first): `1e-2 ×` its square between the
/// user's `tight` tolerance and [`LOOSE_CG`] (inexact Newton).
fn cg_tolerance(prev_step: f64, tight: f64) -> f64 {
    let loose = LOOSE_CG.max(tight);
    if prev_step.is_nan() {
        loose
    } else {
        (1e-2 * prev_step * prev_step).clamp(tight, loose)
    }
}

/// Why the fit stops when a variance at `x` ran to the boundary 0 (the
/// backend does not fit boundary estimates).
fn at_boundary(x: &[f64], params: &ParamInfo, var_y: f64) -> Option<String> {
    let tr = &params.transforms;
    let low: Vec<&str> = (0..x.len())
        .filter(|&i| tr[i].forward(x[i]) < BOUNDARY * var_y)
        .map(|i| params.names[i].as_str())
        .collect();
    (!low.is_empty()).then(|| {
        format!(
            "{} ran to the boundary 0; the iterative backend does not fit boundary estimates \
             (use an exact backend)",
            low.join(", ")
        )
    })
}

/// The history entry of iteration `it` at `x` (no step when `last`).
fn iteration(
    it: usize,
    x: &[f64],
    tr: &[Transform],
    fx: &FixedPart,
    pt: &AtPoint,
    a: &Assessed,
    last: bool,
) -> Iteration {
    Iteration {
        iter: it,
        free: x.to_vec(),
        natural: x.iter().zip(tr).map(|(&v, t)| t.forward(v)).collect(),
        beta: fx.unshift_beta(pt.beta.clone()),
        loglik: f64::NAN,
        loglik_change: f64::NAN,
        score: pt.score.clone(),
        score_norm: norm(&pt.score),
        ai: pt.ai.clone(),
        step: if last { Vec::new() } else { a.step.clone() },
        step_norm: a.step_norm,
        halvings: 0,
    }
}

/// What the progress line says is left.
enum Left {
    Done,
    MoreProbes,
    /// Still stepping: the iterations left by the steps' rate and order
    /// (`None`: unknown).
    Stepping {
        iterations: Option<usize>,
    },
}

/// The `--progress` line of iteration `it` (`timing`: this iteration's and
/// the elapsed seconds).
fn progress_line(
    it: usize,
    pt: &AtPoint,
    a: &Assessed,
    m: usize,
    tol: f64,
    timing: (f64, f64),
    state: Left,
) {
    let (this, elapsed) = timing;
    let per = elapsed / it as f64;
    let left = match state {
        Left::Done => "0 s".to_string(),
        Left::MoreProbes => "? (more probes)".to_string(),
        Left::Stepping {
            iterations: Some(k),
        } => format!("≈ {:.0} s", k as f64 * per),
        Left::Stepping { iterations: None } => format!("≥ {:.0} s", per),
    };
    eprintln!(
        "iter {it:>3}  |score| {:.3e}  |step| {:.3e}  max MC/SE {:.3}  probes {m}  CG {}+{} (tol {tol:.0e})  {this:.1} s this, {elapsed:.1} s elapsed, left {left}",
        norm(&pt.score),
        a.step_norm,
        a.ratio,
        pt.cg_steps.0,
        pt.cg_steps.1,
    );
}

/// The fit from the loop's end: standard errors from the last AI matrix,
/// Monte Carlo errors on the natural scale (a warning where one is above
/// the target), and the word that the log-likelihood is not computed.
fn finish(
    run: Run,
    params: &ParamInfo,
    fx: &FixedPart,
    d: &Data<'_>,
    opts: &RemlOptions,
    mut warnings: Vec<String>,
    t0: Instant,
) -> RemlFit {
    let io = &opts.iterative;
    let tr = &params.transforms;
    let Run {
        x,
        last,
        mcse_x,
        history,
        termination,
        m,
    } = run;
    let k = x.len();
    let x_last = history.last().map(|h| h.free.clone()).unwrap_or(x);
    let natural: Vec<f64> = x_last.iter().zip(tr).map(|(&v, t)| t.forward(v)).collect();
    let jac: Vec<f64> = x_last
        .iter()
        .zip(tr)
        .map(|(&v, t)| t.derivative(v))
        .collect();
    let ai_inv = last
        .ai
        .clone()
        .cholesky()
        .map(|c| c.inverse())
        .unwrap_or_else(|| DMatrix::from_element(k, k, f64::NAN));
    let free_se: Vec<f64> = (0..k).map(|i| ai_inv[(i, i)].sqrt()).collect();
    let natural_se: Vec<f64> = (0..k).map(|i| free_se[i] * jac[i].abs()).collect();
    let mc_nat: Vec<f64> = (0..k).map(|i| mcse_x[i] * jac[i].abs()).collect();
    let ai_inverse_natural = DMatrix::from_fn(k, k, |i, j| jac[i] * ai_inv[(i, j)] * jac[j]);
    warnings.extend(mc_warnings(params, &mc_nat, &natural_se, io.mc_target));
    warnings.push(format!(
        "iterative backend: the log-likelihood is not computed (NaN, and so are AIC and BIC); \
         convergence is judged on the AI step against the Monte Carlo error of the traces \
         ({m} probes, seed {})",
        io.seed
    ));
    let beta_se: Vec<f64> = (0..d.p).map(|j| last.beta_cov[(j, j)].sqrt()).collect();
    RemlFit {
        names: params.names.clone(),
        free: x_last,
        natural,
        natural_se,
        free_se,
        beta: fx.unshift_beta(last.beta.clone()),
        beta_se,
        beta_names: fx.names.clone(),
        loglik: f64::NAN,
        loglik_no_constant: f64::NAN,
        aic: f64::NAN,
        bic: f64::NAN,
        n: d.n,
        p: d.p,
        iterations: history.len(),
        termination,
        singular: false,
        history,
        ai: last.ai.clone(),
        ai_inverse_natural,
        method: Method::Reml,
        backend: format!(
            "iterative (block-Jacobi PCG on the data, Hutchinson traces with {m} probes, seed \
             {}; {} unknowns)",
            io.seed, d.dim
        ),
        warnings,
        seconds: t0.elapsed().as_secs_f64(),
        mc_standard_errors: Some(mc_nat),
    }
}

/// A warning for every parameter whose Monte Carlo standard error is above
/// `target` times its statistical one.
fn mc_warnings(params: &ParamInfo, mc: &[f64], se: &[f64], target: f64) -> Vec<String> {
    (0..mc.len())
        .filter(|&i| mc[i] > target * se[i])
        .map(|i| {
            format!(
                "the Monte Carlo standard error of {} is {:.2} of its standard error (more \
                 probes, --probes, would lower it)",
                params.names[i],
                mc[i] / se[i]
            )
        })
        .collect()
}
