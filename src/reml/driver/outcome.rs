//! The outcome of a fit: its termination, standard errors by the delta
//! method, and the [`RemlFit`](crate::reml::RemlFit) at the last point.

use super::*;

/// Where the loop ended (optimiser's parameters).
pub(super) struct End {
    pub(super) cur: Point,
    pub(super) termination: Termination,
    pub(super) held: Vec<usize>,
    pub(super) last_ai: DMatrix<f64>,
}

/// The outcome of a converged fit: singular, on the boundary, or interior.
pub(super) fn converged_outcome(space: &Space, end: &End, singular: &[String]) -> Termination {
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
pub(super) fn finish(
    params: &ParamInfo,
    space: &Space,
    mut warnings: Vec<String>,
    method: crate::reml::Method,
    backend: String,
    fx: &FixedPart,
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
    let (held_x, free_se) = free_standard_errors(space, k, &held, &cov, &mut warnings);
    let termination = outcome_of(
        &names,
        space,
        &end,
        &singular,
        &held_x,
        &free_se,
        &mut warnings,
    );
    let (ai_inverse_natural, natural_se) = natural_covariance(&x, tr, &cov, &held_x);
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

/// The standard errors of the `k` free parameters from `cov`: `NaN` for a
/// parameter held at a bound outside a Cholesky block (returned with them);
/// a held entry of a Cholesky block keeps its error, with a warning that
/// it is conditional on the singular matrix.
fn free_standard_errors(
    space: &Space,
    k: usize,
    held: &[usize],
    cov: &DMatrix<f64>,
    warnings: &mut Vec<String>,
) -> (Vec<usize>, Vec<f64>) {
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
    (held_x, free_se)
}

/// The termination of a fit (parameters `names`) that ended as `end`: for a converged one,
/// singular, on the boundary or interior ([`converged_outcome`]), or not
/// identified when a parameter not held (`held_x`) has no standard error
/// (`free_se`); with a word for parameters held without one.
fn outcome_of(
    names: &[String],
    space: &Space,
    end: &End,
    singular: &[String],
    held_x: &[usize],
    free_se: &[f64],
    warnings: &mut Vec<String>,
) -> Termination {
    let mut termination = end.termination.clone();
    if end.termination == Termination::Converged {
        termination = converged_outcome(space, end, singular);
        // A converged fit whose AI matrix does not identify some parameters
        // (not held at a bound) must not say "converged".
        let unidentified: Vec<String> = (0..free_se.len())
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
    termination
}

/// The inverse AI matrix on the natural scale (`J C J`, `J` the
/// derivatives of the transforms at `x`; NaN in the rows and columns of
/// `held_x`) and its diagonal's square roots.
fn natural_covariance(
    x: &[f64],
    tr: &[Transform],
    cov: &DMatrix<f64>,
    held_x: &[usize],
) -> (DMatrix<f64>, Vec<f64>) {
    let k = x.len();
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
    (ai_inverse_natural, natural_se)
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

pub(super) fn natural(x: &[f64], tr: &[Transform]) -> Vec<f64> {
    x.iter().zip(tr).map(|(v, t)| t.forward(*v)).collect()
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
