//! Completing a sparse fit at a singular unstructured `G` in lme4's `Λ`
//! form.
//!
//! Where a block `Σ` of `G` is nearly singular, Henderson's equations with
//! `G⁻¹` lose the digits the convergence test needs (see
//! [`singular_g`](super::singular_g)). The `Λ` form of the same equations
//! ([`LambdaForm`], formulas in its module) needs no inverse of `Σ` and
//! stays well conditioned up to and including a singular `Σ`. From where
//! the sparse fit ended, the fit is completed by a damped Newton iteration
//! on the `Λ`-form log-likelihood, with the gradient and Hessian by central
//! finite differences, in the parameters `θ`: the entries of each singular
//! block's Cholesky factor `L` (any sign: `ℓ` depends on `LLᵀ` only, so no
//! bound is needed and a diagonal may reach 0) and every other parameter
//! on its usual free scale. It converges when the Newton decrement
//! `gᵀ(−H)⁻¹g` relative to `1 + |ℓ|` is below `tol_score²` with `−H`
//! positive definite (the same scale-free rule as the AI iteration); a
//! diagonal of `L` below the driver's floor `√(1e-10 · var y)` is then
//! set to the floor (a change of `ℓ` far below the tolerance), so the
//! estimate is the driver's Cholesky parameterisation. Standard errors are
//! the delta method on the inverse of `−H`, conditioned on a diagonal held
//! there (as the driver does). No `n × n` matrix is formed; each evaluation
//! is one sparse factorisation of `C*` on the pattern of `C`.

use super::boundary::{singular_params, IMPRECISE_PIVOT};
use super::constrain::{min_relative_pivot, tri, Block, Plan};
use super::evaluator::{EvalFail, ParamInfo};
use super::fixed::FixedPart;
use super::mme::{psd_cholesky, LambdaForm, LambdaPoint, Mme};
use super::{Iteration, RemlFit, RemlOptions, Termination};
use nalgebra::DMatrix;

/// Newton iterations at most.
const MAX_NEWTON: usize = 60;

/// The floor of `Σ`'s Cholesky diagonals (as the driver's).
const BOUNDARY: f64 = 1e-10;

/// Relative finite-difference step.
const FD_STEP: f64 = 1e-4;

/// The `Λ`-form log-likelihood as a function of `θ`.
struct Objective<'m, 'a> {
    mme: &'m mut Mme<'a>,
    form: LambdaForm,
    /// The blocks in `Λ` form (`cholesky`), the others in the user's form.
    plan: Plan,
    evals: usize,
}

impl Objective<'_, '_> {
    fn lambdas(&self, theta: &[f64]) -> Vec<DMatrix<f64>> {
        self.form
            .terms
            .iter()
            .map(|lt| {
                DMatrix::from_fn(lt.k, lt.k, |i, j| {
                    if j <= i {
                        theta[lt.idx[tri(i, j)]]
                    } else {
                        0.0
                    }
                })
            })
            .collect()
    }

    fn eval(&mut self, theta: &[f64]) -> Result<LambdaPoint, EvalFail> {
        self.evals += 1;
        let l = self.lambdas(theta);
        self.mme.lambda_evaluate(&self.form, theta, &l)
    }

    fn ll(&mut self, theta: &[f64]) -> Result<f64, EvalFail> {
        self.eval(theta).map(|p| p.ll)
    }

    /// Gradient and Hessian by central differences with steps `h`.
    fn derivatives(
        &mut self,
        theta: &[f64],
        f0: f64,
        h: &[f64],
    ) -> Result<(Vec<f64>, DMatrix<f64>), EvalFail> {
        let k = theta.len();
        let mut g = vec![0.0; k];
        let mut hess = DMatrix::zeros(k, k);
        let at = |d: &[(usize, f64)]| {
            let mut t = theta.to_vec();
            for &(i, s) in d {
                t[i] += s * h[i];
            }
            t
        };
        for i in 0..k {
            let fp = self.ll(&at(&[(i, 1.0)]))?;
            let fm = self.ll(&at(&[(i, -1.0)]))?;
            g[i] = (fp - fm) / (2.0 * h[i]);
            hess[(i, i)] = (fp - 2.0 * f0 + fm) / (h[i] * h[i]);
        }
        for i in 0..k {
            for j in 0..i {
                let pp = self.ll(&at(&[(i, 1.0), (j, 1.0)]))?;
                let pm = self.ll(&at(&[(i, 1.0), (j, -1.0)]))?;
                let mp = self.ll(&at(&[(i, -1.0), (j, 1.0)]))?;
                let mm = self.ll(&at(&[(i, -1.0), (j, -1.0)]))?;
                let v = (pp - pm - mp + mm) / (4.0 * h[i] * h[j]);
                hess[(i, j)] = v;
                hess[(j, i)] = v;
            }
        }
        Ok((g, hess))
    }
}

/// The steps of the differences at `θ`: relative to each Cholesky row's
/// scale `√Σ_ii` inside a block, to `max(1, |θ_i|)` elsewhere.
fn steps(plan: &Plan, theta: &[f64], var_y: f64) -> Vec<f64> {
    let mut h: Vec<f64> = theta.iter().map(|t| FD_STEP * t.abs().max(1.0)).collect();
    let min_scale = 1e-3 * var_y.max(1e-300).sqrt();
    for b in plan.blocks.iter().filter(|b| b.cholesky) {
        for i in 0..b.n {
            let row: f64 = (0..=i)
                .map(|j| theta[b.idx[tri(i, j)]].powi(2))
                .sum::<f64>()
                .sqrt();
            for j in 0..=i {
                h[b.idx[tri(i, j)]] = FD_STEP * row.max(min_scale);
            }
        }
    }
    h
}

/// `(−H)⁻¹ g` with the eigenvalues of `−H` floored (a saddle or a flat
/// direction gets a finite, ascending step), and whether `−H` was positive
/// definite.
fn newton_step(g: &[f64], hess: &DMatrix<f64>) -> (Vec<f64>, bool) {
    let neg = -hess;
    let eig = nalgebra::SymmetricEigen::new(neg);
    let max = eig.eigenvalues.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let floor = (max * 1e-10).max(1e-300);
    let pd = eig.eigenvalues.iter().all(|&v| v > 0.0);
    let gv = nalgebra::DVector::from_column_slice(g);
    let c = eig.eigenvectors.transpose() * gv;
    let scaled =
        nalgebra::DVector::from_fn(c.len(), |i, _| c[i] / eig.eigenvalues[i].abs().max(floor));
    let d = &eig.eigenvectors * scaled;
    (d.iter().copied().collect(), pd)
}

/// The unstructured blocks of random terms that are nearly singular at the
/// user's free parameters `x`.
fn singular_blocks<'p>(plan: &'p Plan, params: &ParamInfo, x: &[f64]) -> Vec<&'p Block> {
    plan.blocks
        .iter()
        .filter(|b| b.idx.iter().all(|&i| i < params.random))
        .filter(|b| {
            let p = min_relative_pivot(&b.sigma(x));
            p.is_nan() || p < IMPRECISE_PIVOT
        })
        .collect()
}

/// Completes the sparse fit `fit` (evaluator `mme`, fixed part `fx`) in
/// `Λ` form. `Err` with the fit unchanged and the reason when the `Λ` form
/// does not apply to the model (a block that is not `Σ ⊗ K`, or `C*` off
/// the pattern of `C`) or an evaluation failed.
pub(crate) fn polish(
    fit: RemlFit,
    params: &ParamInfo,
    mme: &mut Mme<'_>,
    fx: &FixedPart,
    opts: &RemlOptions,
) -> Result<RemlFit, Box<(RemlFit, String)>> {
    let var_y = fx.var_y();
    let k = params.names.len();
    let inf = f64::INFINITY;
    let mut plan = Plan::new(params, &vec![-inf; k], &vec![inf; k], BOUNDARY, var_y);
    let chosen: Vec<String> = singular_blocks(&plan, params, &fit.free)
        .iter()
        .map(|b| b.prefix.clone())
        .collect();
    plan.blocks
        .iter_mut()
        .for_each(|b| b.cholesky = chosen.contains(&b.prefix));
    let blocks: Vec<&Block> = plan.blocks.iter().filter(|b| b.cholesky).collect();
    let form = match mme.lambda_form(&blocks) {
        Ok(Some(f)) => f,
        Ok(None) => {
            return Err(Box::new((
                fit,
                "the Λ form applies to a term whose G is Σ ⊗ K only".into(),
            )))
        }
        Err(why) => return Err(Box::new((fit, why))),
    };
    let mut theta = fit.free.clone();
    for b in plan.blocks.iter().filter(|b| b.cholesky) {
        let l = psd_cholesky(&b.sigma(&fit.free));
        for i in 0..b.n {
            for j in 0..=i {
                theta[b.idx[tri(i, j)]] = l[(i, j)];
            }
        }
    }
    let t0 = std::time::Instant::now();
    let mut obj = Objective {
        mme,
        form,
        plan,
        evals: 0,
    };
    match run(&mut obj, theta, var_y, opts) {
        Ok(end) => {
            let mut fit = finish(fit, params, &mut obj, end, fx);
            fit.seconds += t0.elapsed().as_secs_f64();
            Ok(fit)
        }
        Err(why) => Err(Box::new((fit, why))),
    }
}

/// Where the Newton iteration ended.
struct End {
    theta: Vec<f64>,
    converged: bool,
    steps: usize,
    why: String,
}

fn fail_word(e: EvalFail) -> String {
    format!(
        "the Λ-form evaluation failed: {}",
        super::mme::eval_error(e)
    )
}

fn run(
    obj: &mut Objective<'_, '_>,
    mut theta: Vec<f64>,
    var_y: f64,
    opts: &RemlOptions,
) -> Result<End, String> {
    let mut f0 = obj.ll(&theta).map_err(fail_word)?;
    let tol = opts.tol_score.powi(2);
    for it in 0..MAX_NEWTON {
        let h = steps(&obj.plan, &theta, var_y);
        let (g, hess) = obj.derivatives(&theta, f0, &h).map_err(fail_word)?;
        let (d, pd) = newton_step(&g, &hess);
        let decrement: f64 = g.iter().zip(&d).map(|(a, b)| a * b).sum();
        if pd && decrement / (1.0 + f0.abs()) <= tol {
            return Ok(End {
                theta,
                converged: true,
                steps: it,
                why: String::new(),
            });
        }
        let mut alpha = 1.0;
        let mut moved = false;
        for _ in 0..40 {
            let trial: Vec<f64> = theta.iter().zip(&d).map(|(t, s)| t + alpha * s).collect();
            if let Ok(f) = obj.ll(&trial) {
                if f > f0 {
                    theta = trial;
                    f0 = f;
                    moved = true;
                    break;
                }
            }
            alpha *= 0.5;
        }
        if !moved {
            // No ascent along the Newton direction: the gradient is noise
            // when the gain it promises is at the rounding level of ℓ.
            let noise = 1e-12 * (1.0 + f0.abs());
            let ok = pd && 0.5 * decrement <= noise.max(tol * (1.0 + f0.abs()));
            return Ok(End {
                theta,
                converged: ok,
                steps: it,
                why: format!(
                    "no ascent along the Newton direction (decrement {decrement:.1e}, \
                     −H {}positive definite)",
                    if pd { "" } else { "not " }
                ),
            });
        }
    }
    Ok(End {
        theta,
        converged: false,
        steps: MAX_NEWTON,
        why: format!("{MAX_NEWTON} Newton steps without meeting the tolerance"),
    })
}

/// Signs of `L`'s columns made so that each diagonal is `≥ 0` (`LLᵀ` is
/// unchanged), then each diagonal raised to the floor; the indices of the
/// diagonals so raised (held at 0 in the driver's sense).
fn canonical(plan: &Plan, theta: &mut [f64]) -> Vec<usize> {
    let mut held = Vec::new();
    for b in plan.blocks.iter().filter(|b| b.cholesky) {
        for c in 0..b.n {
            if theta[b.idx[tri(c, c)]] < 0.0 {
                for r in c..b.n {
                    theta[b.idx[tri(r, c)]] *= -1.0;
                }
            }
            let d = b.idx[tri(c, c)];
            let row: f64 = (0..=c).map(|j| theta[b.idx[tri(c, j)]].powi(2)).sum();
            if theta[d] < plan.floor || theta[d] * theta[d] < IMPRECISE_PIVOT * row {
                theta[d] = theta[d].max(plan.floor);
                held.push(d);
            }
        }
    }
    held
}

/// The fit at the end of the Newton iteration.
fn finish(
    mut fit: RemlFit,
    params: &ParamInfo,
    obj: &mut Objective<'_, '_>,
    end: End,
    fx: &FixedPart,
) -> RemlFit {
    let mut theta = end.theta;
    let held = canonical(&obj.plan, &mut theta);
    let var_y = fx.var_y();
    let point = match obj.eval(&theta) {
        Ok(p) => p,
        Err(e) => {
            fit.warnings.push(fail_word(e));
            return fit;
        }
    };
    let k = theta.len();
    let h = steps(&obj.plan, &theta, var_y);
    let hess = obj
        .derivatives(&theta, point.ll, &h)
        .map(|(_, hh)| hh)
        .unwrap_or_else(|_| DMatrix::from_element(k, k, f64::NAN));
    let x = obj.plan.to_x(&theta);
    let tr = &params.transforms;
    let nat: Vec<f64> = x.iter().zip(tr).map(|(v, t)| t.forward(*v)).collect();
    // Covariance of θ over the parameters not held, then the delta method.
    let cz = conditional_covariance(&hess, &held);
    let jac = obj.plan.jacobian(&theta);
    let cx = &jac * &cz * jac.transpose();
    let dn: Vec<f64> = x.iter().zip(tr).map(|(v, t)| t.derivative(*v)).collect();
    let ai_inverse_natural = DMatrix::from_fn(k, k, |i, j| dn[i] * cx[(i, j)] * dn[j]);
    fit.natural_se = (0..k).map(|i| ai_inverse_natural[(i, i)].sqrt()).collect();
    fit.free_se = (0..k).map(|i| cx[(i, i)].sqrt()).collect();
    fit.ai_inverse_natural = ai_inverse_natural;
    fit.ai = match jac.clone().try_inverse() {
        Some(ji) => ji.transpose() * (-&hess) * ji,
        None => DMatrix::from_element(k, k, f64::NAN),
    };
    let singular = singular_params(params, &x, &nat, &obj.plan, var_y);
    let df = (fit.p + k) as f64;
    fit.loglik = point.ll;
    fit.loglik_no_constant = point.ll_no_constant;
    fit.aic = -2.0 * point.ll + 2.0 * df;
    fit.bic = -2.0 * point.ll + df * (fit.n as f64).ln();
    fit.beta_se = (0..fit.p)
        .map(|i| point.beta_cov[(i, i)].max(0.0).sqrt())
        .collect();
    fit.beta = fx.unshift_beta(point.beta);
    fit.free = x;
    fit.natural = nat;
    fit.singular = !singular.is_empty();
    fit.iterations += end.steps;
    fit.backend = format!("{} + Λ form", fit.backend);
    for &i in &held {
        let name = obj.plan.params(params).names.get(i).cloned();
        fit.warnings.push(format!(
            "{} is held at 0: the unstructured matrix is singular (a variance 0 or a \
             correlation ±1); the standard errors of its entries are conditional on that",
            name.unwrap_or_else(|| params.names[i].clone())
        ));
    }
    fit.warnings.push(completion_word(obj, end.steps));
    fit.termination = if end.converged {
        if singular.is_empty() {
            Termination::Converged
        } else {
            Termination::Singular { params: singular }
        }
    } else {
        Termination::Stalled {
            reason: format!("the Λ-form completion did not converge: {}", end.why),
        }
    };
    fit
}

/// `(−H)⁻¹` over the parameters not in `held`, zero in the rows and
/// columns of those held (NaN when `−H` is not positive definite there).
fn conditional_covariance(hess: &DMatrix<f64>, held: &[usize]) -> DMatrix<f64> {
    let k = hess.nrows();
    let free: Vec<usize> = (0..k).filter(|i| !held.contains(i)).collect();
    let sub = DMatrix::from_fn(free.len(), free.len(), |a, b| -hess[(free[a], free[b])]);
    let mut cz = DMatrix::from_element(k, k, 0.0);
    match sub.cholesky() {
        Some(c) => {
            let inv = c.inverse();
            for (a, &i) in free.iter().enumerate() {
                for (b, &j) in free.iter().enumerate() {
                    cz[(i, j)] = inv[(a, b)];
                }
            }
        }
        None => cz.fill(f64::NAN),
    }
    cz
}

/// The warning that says the fit was completed in the `Λ` form, naming the
/// blocks and the work done.
fn completion_word(obj: &Objective<'_, '_>, steps: usize) -> String {
    let blocks: Vec<&str> = obj
        .plan
        .blocks
        .iter()
        .filter(|b| b.cholesky)
        .map(|b| {
            if b.prefix.is_empty() {
                "G"
            } else {
                b.prefix.as_str()
            }
        })
        .collect();
    format!(
        "the covariance matrix `{}` is nearly singular at the optimum, where the sparse \
         mixed-model equations lose digits in its inverse: the fit was completed in lme4's Λ \
         form (G = ΛΛᵀ, no inverse; {} Newton steps on finite differences, {} evaluations)",
        blocks.join("`, `"),
        steps,
        obj.evals
    )
}
/// A fit to complete at the user's free parameters `x` where the sparse
/// driver stopped with an error (a `G` nearly singular on the way), with
/// the iterations it made (`history`): only the fields [`polish`] does not
/// set are meaningful.
pub(crate) fn skeleton(
    params: &ParamInfo,
    fx: &FixedPart,
    opts: &RemlOptions,
    x: Vec<f64>,
    history: Vec<Iteration>,
    backend: String,
) -> RemlFit {
    let k = x.len();
    let nan = |m: usize| vec![f64::NAN; m];
    RemlFit {
        names: params.names.clone(),
        natural: x
            .iter()
            .zip(&params.transforms)
            .map(|(v, t)| t.forward(*v))
            .collect(),
        free: x,
        natural_se: nan(k),
        free_se: nan(k),
        beta: nan(fx.p()),
        beta_se: nan(fx.p()),
        beta_names: fx.names.clone(),
        loglik: f64::NAN,
        loglik_no_constant: f64::NAN,
        aic: f64::NAN,
        bic: f64::NAN,
        n: fx.n(),
        p: fx.p(),
        iterations: history.len(),
        termination: Termination::Stalled {
            reason: "not completed".into(),
        },
        singular: false,
        history,
        ai: DMatrix::from_element(k, k, f64::NAN),
        ai_inverse_natural: DMatrix::from_element(k, k, f64::NAN),
        method: opts.method,
        backend,
        warnings: Vec::new(),
        seconds: 0.0,
        mc_standard_errors: None,
    }
}
