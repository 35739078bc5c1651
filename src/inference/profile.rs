//! Confidence intervals (95 %) for the coefficients and the variance
//! parameters of a fit.
//!
//! **Wald**: `β̂_j ± z·se_j` for the coefficients (lme4's
//! `confint(method = "Wald")`, `z = qnorm(0.975)`); for a variance, on the
//! standard-deviation scale by the delta method, `σ̂ ± z·se(σ̂²)/(2σ̂)`
//! (truncated at 0), with `se(σ̂²)` from the inverse average-information
//! matrix; for other parameters (covariances, correlations) `θ̂ ± z·se`.
//!
//! **Profile**: for each variance parameter, the values of `σ` where the
//! profile **ML** log-likelihood falls `χ²₁(0.95)/2` below its maximum —
//! as lme4's `confint(method = "profile")`, which refits a REML fit by ML
//! before profiling (`devfun2` calls `refitML`); the model is refitted by
//! ML here too, and the interval's `estimate` is the ML one; each point of the profile
//! refits the other parameters with that variance held fixed (Fisher
//! scoring with the AI matrix, warm-started). The bound is found by
//! bracketing and regula falsi to 1e-9 in `log σ`; a lower bound the
//! profile never reaches before `σ = σ̂·e⁻²⁰` is 0. Coefficients and
//! non-variance parameters get their Wald interval, marked so.

use super::distributions::Z_975;
use super::lrt::InferenceError;
use crate::reml::{MixedModel, RemlFit, RemlOptions};
use crate::ParamKind;

/// `qchisq(0.95, 1)`.
const CHI2_95: f64 = 3.841_458_820_694_124;

/// How intervals are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CiMethod {
    /// Wald intervals (delta method on the SD scale for variances).
    Wald,
    /// Profile-likelihood intervals for the variances, Wald for the rest.
    Profile,
}

impl std::str::FromStr for CiMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "wald" => Ok(CiMethod::Wald),
            "profile" => Ok(CiMethod::Profile),
            other => Err(format!(
                "`{other}` is not an interval method: wald or profile"
            )),
        }
    }
}

/// One 95 % interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Interval {
    /// The parameter (`Subject/cov/sigma^2_0_0`, `residual/sigma^2`) or
    /// coefficient name.
    pub name: String,
    /// The scale of `estimate`, `lower`, `upper`: `sd` for variances (the
    /// square root of the parameter), `natural` for other variance
    /// parameters, `coefficient` for fixed effects.
    pub scale: &'static str,
    /// How this interval was computed: `wald` or `profile`.
    pub method: &'static str,
    /// The estimate on that scale.
    pub estimate: f64,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

fn fail(reason: impl Into<String>) -> InferenceError {
    InferenceError::Invalid {
        reason: reason.into(),
    }
}

/// 95 % intervals for the variance parameters (first, in the fit's order)
/// and the coefficients of `fit`, a fit of `model`.
///
/// ```
/// use covreml::datasets::{john_alpha, john_alpha_model};
/// use covreml::inference::{intervals, CiMethod};
/// use covreml::reml::RemlOptions;
/// let m = john_alpha_model(&john_alpha()).unwrap();
/// let fit = m.fit(&RemlOptions::default().tolerance(1e-10)).unwrap();
/// let ci = intervals(&m, &fit, CiMethod::Profile).unwrap();
/// let res = ci.iter().find(|c| c.name == "residual/sigma^2").unwrap();
/// assert_eq!((res.scale, res.method), ("sd", "profile"));
/// assert!(res.lower < res.estimate && res.estimate < res.upper);
/// ```
pub fn intervals(
    model: &MixedModel,
    fit: &RemlFit,
    method: CiMethod,
) -> Result<Vec<Interval>, InferenceError> {
    let info = model.params();
    let mut out = Vec::new();
    let mut profiler = match method {
        CiMethod::Profile => Some(Profiler::new(model, fit)?),
        CiMethod::Wald => None,
    };
    for k in 0..fit.names.len() {
        let (est, se) = (fit.natural[k], fit.natural_se[k]);
        let variance = info.kinds[k] == ParamKind::Variance;
        let iv = if !variance {
            Interval {
                name: fit.names[k].clone(),
                scale: "natural",
                method: "wald",
                estimate: est,
                lower: est - Z_975 * se,
                upper: est + Z_975 * se,
            }
        } else if let Some(p) = profiler.as_mut() {
            let (lo, hi) = p.bounds(k)?;
            let sd = |x: f64| info.transforms[k].forward(x).max(0.0).sqrt();
            Interval {
                name: fit.names[k].clone(),
                scale: "sd",
                method: "profile",
                estimate: p.ml.natural[k].max(0.0).sqrt(),
                lower: lo.map_or(0.0, sd),
                upper: sd(hi),
            }
        } else {
            let sd = est.max(0.0).sqrt();
            let half = Z_975 * se / (2.0 * sd);
            Interval {
                name: fit.names[k].clone(),
                scale: "sd",
                method: "wald",
                estimate: sd,
                lower: (sd - half).max(0.0),
                upper: sd + half,
            }
        };
        out.push(iv);
    }
    for (j, name) in fit.beta_names.iter().enumerate() {
        let (b, se) = (fit.beta[j], fit.beta_se[j]);
        out.push(Interval {
            name: name.clone(),
            scale: "coefficient",
            method: "wald",
            estimate: b,
            lower: b - Z_975 * se,
            upper: b + Z_975 * se,
        });
    }
    Ok(out)
}

/// The profile log-likelihood of one free parameter at a time.
struct Profiler<'a> {
    model: &'a MixedModel,
    opts: RemlOptions,
    x_hat: Vec<f64>,
    se: Vec<f64>,
    ll_hat: f64,
    /// The ML fit the profile is made around.
    ml: RemlFit,
}

impl<'a> Profiler<'a> {
    fn new(model: &'a MixedModel, fit: &RemlFit) -> Result<Self, InferenceError> {
        let opts = RemlOptions::default().method(crate::reml::Method::Ml);
        let ml = if fit.method == crate::reml::Method::Ml {
            fit.clone()
        } else {
            model
                .fit(&opts.clone().tolerance(1e-10).start(fit.free.clone()))
                .map_err(|e| fail(format!("the ML refit for the profile failed: {e}")))?
        };
        if !ml.termination.is_converged() {
            return Err(fail(format!(
                "the ML refit for the profile did not converge ({})",
                ml.termination
            )));
        }
        let ll_hat = model
            .evaluate(&ml.free, &opts)
            .map_err(|e| fail(e.to_string()))?
            .loglik;
        Ok(Profiler {
            model,
            opts,
            x_hat: ml.free.clone(),
            se: ml.free_se.clone(),
            ll_hat,
            ml,
        })
    }

    /// The maximum of the log-likelihood over the other parameters with
    /// parameter `k` at `c`, from the start `x` (updated to the maximiser).
    fn profile(&self, k: usize, c: f64, x: &mut Vec<f64>) -> Result<f64, InferenceError> {
        x[k] = c;
        let others: Vec<usize> = (0..x.len()).filter(|&i| i != k).collect();
        let eval = |x: &[f64]| self.model.evaluate(x, &self.opts).ok();
        let mut at = eval(x).ok_or_else(|| {
            fail(format!(
                "the profile of `{}` cannot be evaluated at {c}",
                self.model.param_names()[k]
            ))
        })?;
        if others.is_empty() {
            return Ok(at.loglik);
        }
        for _ in 0..200 {
            let m = others.len();
            let ai = nalgebra::DMatrix::from_fn(m, m, |i, j| at.ai[(others[i], others[j])]);
            let g = nalgebra::DVector::from_fn(m, |i, _| at.score[others[i]]);
            let step = match ai.clone().cholesky() {
                Some(ch) => ch.solve(&g),
                None => g.clone() * 1e-3,
            };
            let mut scale = 1.0;
            let mut moved = false;
            for _ in 0..30 {
                let mut trial = x.clone();
                for (i, &o) in others.iter().enumerate() {
                    trial[o] += scale * step[i];
                }
                if let Some(e) = eval(&trial) {
                    if e.loglik >= at.loglik - 1e-12 * at.loglik.abs() {
                        let change = e.loglik - at.loglik;
                        *x = trial;
                        at = e;
                        moved = true;
                        if change.abs() < 1e-11 && scale * step.amax() < 1e-8 {
                            return Ok(at.loglik);
                        }
                        break;
                    }
                }
                scale *= 0.5;
            }
            if !moved {
                return Ok(at.loglik);
            }
        }
        Ok(at.loglik)
    }

    /// The free values of parameter `k` where the profile deviance reaches
    /// `χ²₁(0.95)`: below (None when it is never reached) and above.
    fn bounds(&mut self, k: usize) -> Result<(Option<f64>, f64), InferenceError> {
        let lower = self.side(k, -1.0)?;
        let upper = self.side(k, 1.0)?.ok_or_else(|| {
            fail(format!(
                "the profile of `{}` stays within the 95 % limit however large it gets",
                self.model.param_names()[k]
            ))
        })?;
        Ok((lower, upper))
    }

    fn side(&self, k: usize, dir: f64) -> Result<Option<f64>, InferenceError> {
        let c0 = self.x_hat[k];
        let f = |c: f64, x: &mut Vec<f64>| -> Result<f64, InferenceError> {
            Ok(2.0 * (self.ll_hat - self.profile(k, c, x)?) - CHI2_95)
        };
        let se = self.se[k];
        let step = if se.is_finite() {
            se.clamp(0.05, 1.0)
        } else {
            0.5
        };
        let mut x = self.x_hat.clone();
        let (mut a, mut fa) = (c0, -CHI2_95);
        let mut xa = x.clone();
        let mut b = c0;
        let mut fb = fa;
        let mut found = false;
        while (b - c0).abs() < 20.0 {
            b += dir * step;
            fb = f(b, &mut x)?;
            if fb > 0.0 {
                found = true;
                break;
            }
            a = b;
            fa = fb;
            xa = x.clone();
        }
        if !found {
            return Ok(None);
        }
        // Regula falsi (Illinois) between a (f < 0) and b (f > 0).
        let mut x = xa;
        let mut side = 0;
        for _ in 0..100 {
            let c = (a * fb - b * fa) / (fb - fa);
            let fc = f(c, &mut x)?;
            if fc > 0.0 {
                b = c;
                fb = fc;
                if side == 1 {
                    fa *= 0.5;
                }
                side = 1;
            } else {
                a = c;
                fa = fc;
                if side == -1 {
                    fb *= 0.5;
                }
                side = -1;
            }
            if (b - a).abs() < 1e-9 || fc.abs() < 1e-10 {
                return Ok(Some(c));
            }
        }
        Ok(Some(0.5 * (a + b)))
    }
}
