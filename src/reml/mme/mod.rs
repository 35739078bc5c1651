//! The sparse backend: AI-REML on Henderson's mixed-model equations
//!
//! `C = WᵀQW + blockdiag(0, G⁻¹)` with `W = [X Z]` and `Q = R⁻¹` (order
//! `p + Σ q_i`), factored by a sparse Cholesky whose pattern is analysed
//! once. The residual enters through its sparse inverse `Q` (diagonal for a
//! residual that is diagonal by type; block-sparse for the grouped and
//! spatial structures). No `n × n` dense matrix exists on this path: memory
//! is `O(nnz(L) + n·(p + m) + nnz(Q)·(p + m)²)`.
//!
//! With `ŝ = [β̂; û] = C⁻¹WᵀQy` and `ê = y − Wŝ` (so that `Py = Qê`):
//!
//! - `ℓ = −½[(n − p) log 2π + log|R| + log|G| + log|C| + yᵀPy]` with the
//!   stable `yᵀPy = êᵀQê + ûᵀG⁻¹û`;
//! - for a parameter of `G` (with `Ḣ = ∂G⁻¹/∂θ`):
//!   `∂ℓ/∂θ = −½[∂log|G| + tr(C^{uu}Ḣ) + ûᵀḢû]`, working variate
//!   `f = Z Ġ G⁻¹ û = −Z G Ḣ û`;
//! - for a parameter of `R` (with `Ḣ = ∂Q/∂θ = −QṘQ`):
//!   `∂ℓ/∂θ = −½[∂log|R| + tr(C⁻¹WᵀḢW) + êᵀḢê]`, where
//!   `tr(C⁻¹WᵀḢW) = Σ_{(i,j)} Ḣ_ij w_iᵀC⁻¹w_j (×2 if i ≠ j)` over the stored
//!   entries of `Q`, and working variate `f = ṘPy = ṘQê = −R(Ḣê)` (a solve
//!   with the factor of `Q`; `−Ḣ_ii ê_i / Q_ii` for a diagonal `Q`, which is
//!   `ṙ_i ê_i / r_i`);
//! - `AI = ½(FᵀQF − BᵀC⁻¹B)`, `B = WᵀQF`: one multi-column solve.
//!
//! The traces need `C⁻¹` only on the pattern of `C`, which lies inside the
//! pattern of the factor: a selected inverse gives it (every `w_iᵀC⁻¹w_j`
//! with `Q_ij` stored reads `C⁻¹` on positions of `C`'s pattern, which
//! includes the products of rows `i` and `j`).

mod analysis;
mod design;
mod kernels;
mod lambda;
mod ml;
mod ordering;
mod pattern;
mod post;
mod score;

pub(crate) use analysis::AnalysisCache;
pub(crate) use lambda::{eval_error, psd_cholesky, LambdaForm, LambdaPoint};

use super::error::cov_err;
use super::evaluator::{EvalFail, Evaluator, Point, ScoreAi};
use super::memory::check_memory;
use super::terms::{Parts, DUAL_UNAVAILABLE, ML_COMPLETED};
use super::{Method, RemlError};
use crate::sparse::SparseError;
use crate::JacobianMethod;
use analysis::Analysis;
use nalgebra::DMatrix;
use pattern::quad_form;

/// What the last successful evaluation left behind.
pub(crate) struct State {
    x: Vec<f64>,
    /// `[β̂; û]`.
    sol: Vec<f64>,
    /// `ê = y − W ŝ`.
    e: Vec<f64>,
    /// For ML only (empty for REML): `C^{uβ}`, the `u` rows of the `β`
    /// columns of `C⁻¹` (`(dim − p) × p`, column major).
    c_ub: Vec<f64>,
    /// `(Xᵀ V⁻¹ X)⁻¹ = C^{ββ}`.
    beta_cov: DMatrix<f64>,
}

/// The sparse evaluator of a mixed model's [`Parts`]: the model's kept
/// [`Analysis`] (borrowed from its cache, given back on drop) and the last
/// evaluation.
pub(crate) struct Mme<'a> {
    model: Parts<'a>,
    cache: &'a AnalysisCache,
    /// Always `Some` until dropped.
    an: Option<Box<Analysis>>,
    st: Option<State>,
    method: Method,
    /// A broken promise of a structure (a sparse inverse whose pattern
    /// changed), returned by every later call: the driver treats a failed
    /// trial point as a step to shorten, and must not finish a fit past it.
    broken: Option<RemlError>,
}

fn sparse_err(e: SparseError) -> RemlError {
    RemlError::InvalidModel {
        reason: format!("sparse mixed-model equations: {e}"),
    }
}

impl Drop for Mme<'_> {
    fn drop(&mut self) {
        if let Some(a) = self.an.take() {
            self.cache.put(a);
        }
    }
}

impl<'a> Mme<'a> {
    /// The sparse evaluator of a model's `parts`, with the analysis kept in
    /// `cache` (made now if there is none).
    pub fn new(model: Parts<'a>, cache: &'a AnalysisCache) -> Result<Self, RemlError> {
        Ok(Mme {
            model,
            cache,
            an: Some(cache.take(model)?),
            st: None,
            method: Method::Reml,
            broken: None,
        })
    }

    /// REML (the default) or ML.
    pub fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    fn an(&self) -> &Analysis {
        self.an.as_deref().expect("held until dropped")
    }

    fn an_mut(&mut self) -> &mut Analysis {
        self.an.as_deref_mut().expect("held until dropped")
    }

    fn ensure_at(&mut self, x: &[f64]) -> Result<(), RemlError> {
        // (The score's selected inverse overwrites the factor.)
        if self.st.as_ref().map(|s| &s.x[..]) != Some(x) || !self.an().chol.has_factor() {
            super::dense::evaluate_or_error(self, x)?;
        }
        Ok(())
    }

    /// `Q = R⁻¹` and every `G⁻¹` at `x`, written in place into the
    /// analysis's buffers and checked: finite, positive definite as far as
    /// cheaply seen, and on the analysed patterns (a structure whose
    /// pattern changed breaks the evaluator for good).
    fn inverses_at(&mut self, x: &[f64]) -> Result<(), EvalFail> {
        if let Some(e) = &self.broken {
            return Err(EvalFail::Model(e.clone()));
        }
        let terms = self.model.terms;
        let ml = self.method == Method::Ml;
        let an = self.an.as_deref_mut().expect("held until dropped");
        let n_random: usize = terms.list.iter().map(|t| t.g.n_free()).sum();
        let xr = &x[n_random..n_random + terms.residual.n_free()];
        // `None` here (the residual had a sparse inverse at its defaults)
        // means a dense-inverse structure that is not positive definite.
        let changed = match terms.residual_inverse_into(xr, &mut an.q) {
            Some(Ok(true)) => None,
            Some(Ok(false)) => Some("the residual".to_string()),
            Some(Err(e)) => return Err(EvalFail::Model(cov_err("residual")(e))),
            None => return Err(EvalFail::NotPd),
        };
        if an.missing > 0 && ml {
            return Err(EvalFail::Model(RemlError::BackendUnavailable {
                backend: "sparse",
                reason: ML_COMPLETED.into(),
            }));
        }
        let mut changed = changed.map(Err).unwrap_or(Ok(()));
        let mut off = 0;
        for (t, h) in terms.list.iter().zip(an.hs.iter_mut()) {
            let xs = &x[off..off + t.g.n_free()];
            off += xs.len();
            // `None` here (the structure had a sparse inverse at its
            // defaults) means a dense-inverse structure that is not
            // positive definite at this point.
            match t.g.sparse_inverse_into_f64(xs, h) {
                Some(Ok(true)) if !h.logdet.is_finite() => return Err(EvalFail::NotPd),
                Some(Ok(true)) => {}
                Some(Ok(false)) => {
                    changed = changed.and(Err(format!("G of `{}`", t.name)));
                }
                Some(Err(e)) => return Err(EvalFail::Model(cov_err(&t.name)(e))),
                None => return Err(EvalFail::NotPd),
            }
        }
        if let Err(what) = changed {
            let e = RemlError::InvalidModel {
                reason: format!(
                    "the sparse inverse of {what} changed its pattern between evaluations; \
                     Structure::sparse_inverse must give a pattern that depends on the shape only"
                ),
            };
            self.broken = Some(e.clone());
            return Err(EvalFail::Model(e));
        }
        let rq = &an.q;
        if !rq.logdet.is_finite()
            || an
                .pat
                .q_diag
                .iter()
                .any(|&k| !(rq.values[k] > 0.0 && rq.values[k].is_finite()))
        {
            return Err(EvalFail::NotPd);
        }
        if let Some(c) = an.q_chol.as_mut() {
            if c.factor(&an.q.values).is_err() {
                return Err(EvalFail::NotPd);
            }
        }
        Ok(())
    }

    /// `[β̂; û]` (one solve with `wqy = WᵀQy`), `C^{ββ}` and, for ML,
    /// `C^{uβ}` (solves with the unit vectors of `β`, a chunk at a time; the
    /// memory of the `p × p` block, and of `C^{uβ}`, checked first).
    fn solve_fixed(&self, wqy: Vec<f64>) -> Result<FixedSolve, EvalFail> {
        let an = self.an();
        let (p, dim) = (an.w.p, an.w.dim);
        let ml = self.method == Method::Ml;
        let kept = if ml { dim } else { p };
        check_memory(
            || format!("the β columns of C⁻¹ ({kept} × {p}) in the sparse mixed-model equations"),
            kept as u128 * p as u128 * 8 * 2,
            "a fixed effect with fewer columns (group the levels of a large fixed factor, \
             or fit it as a random term)",
        )
        .map_err(EvalFail::Model)?;
        let mut beta_cov = DMatrix::zeros(p, p);
        let mut c_ub = if ml {
            vec![0.0; (dim - p) * p]
        } else {
            Vec::new()
        };
        // `WᵀQy` first, then the unit columns of `β` a chunk at a time (the
        // first chunk in the same solve as `WᵀQy`).
        let mut b = wqy;
        let mut sol = Vec::new();
        let mut start = 0;
        loop {
            let k = BETA_CHUNK.min(p - start);
            let lead = usize::from(start == 0);
            b.resize(dim * (lead + k), 0.0);
            for c in 0..k {
                b[(lead + c) * dim + start + c] = 1.0;
            }
            an.solve(&mut b, lead + k);
            if lead == 1 {
                sol = b[..dim].to_vec();
            }
            for c in 0..k {
                let col = &b[(lead + c) * dim..(lead + c + 1) * dim];
                beta_cov.column_mut(start + c).copy_from_slice(&col[..p]);
                if ml {
                    c_ub[(start + c) * (dim - p)..(start + c + 1) * (dim - p)]
                        .copy_from_slice(&col[p..]);
                }
            }
            start += k;
            if start >= p {
                break;
            }
            b.clear();
        }
        for j in 0..p {
            for i in j + 1..p {
                let v = 0.5 * (beta_cov[(i, j)] + beta_cov[(j, i)]);
                beta_cov[(i, j)] = v;
                beta_cov[(j, i)] = v;
            }
        }
        Ok(FixedSolve {
            sol,
            beta_cov,
            c_ub,
        })
    }
}

/// What [`Mme::solve_fixed`] gives.
struct FixedSolve {
    /// `[β̂; û]`.
    sol: Vec<f64>,
    /// `C^{ββ}`.
    beta_cov: DMatrix<f64>,
    /// `C^{uβ}` for ML, else empty.
    c_ub: Vec<f64>,
}

/// `ℓ` (with and without its constant) and its degrees of freedom from the
/// parts of the mixed-model equations: `log|R| + log|G| + log|C|`
/// (`logdets`), `yᵀPy` and, for ML, `C^{ββ} = (XᵀV⁻¹X)⁻¹`
/// (`log|V| = log|R| + log|G| + log|C| − log|XᵀV⁻¹X|`). REML's `n − p` is
/// of the observed data `n_obs` (a completion adds as many rows as fixed
/// effects); ML's `n` counts the rows of the equations.
fn loglik(
    method: Method,
    logdets: f64,
    ypy: f64,
    beta_cov: &DMatrix<f64>,
    (n, n_obs, p): (usize, usize, usize),
) -> Result<(f64, f64, usize), EvalFail> {
    let (ll_no_constant, df) = match method {
        Method::Ml => {
            let chol = beta_cov.clone().cholesky().ok_or(EvalFail::SingularC)?;
            let logdet_bc: f64 = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
            (-0.5 * (logdets + logdet_bc + ypy), n)
        }
        _ => (-0.5 * (logdets + ypy), n_obs - p),
    };
    let ll = ll_no_constant - 0.5 * df as f64 * (2.0 * std::f64::consts::PI).ln();
    if !ll.is_finite() {
        return Err(EvalFail::NotPd);
    }
    Ok((ll, ll_no_constant, df))
}

/// Unit columns of `β` solved at a time.
const BETA_CHUNK: usize = 64;

impl Evaluator for Mme<'_> {
    fn evaluate(&mut self, x: &[f64]) -> Result<Point, EvalFail> {
        self.st = None;
        self.inverses_at(x)?;
        let an = self.an_mut();
        an.assemble();
        if an.chol.factor(&an.values).is_err() {
            return Err(EvalFail::NotPd);
        }
        let logdet_c = an.chol.log_det();
        // WᵀQy: `s Wᵀy` when `Q = s I`, else a pass over the rows.
        let wqy = match an.scale {
            Some(s) => an.wty.iter().map(|v| s * v).collect(),
            None => an.w.tmul(&[&an.qmul(&an.q.values, &an.y)]),
        };
        let FixedSolve {
            sol,
            beta_cov,
            c_ub,
        } = self.solve_fixed(wqy)?;
        let an = self.an();
        let (n, p) = (an.w.n, an.w.p);
        // ê = y − W ŝ, in the buffer of W ŝ.
        let mut e = an.w.mul(&sol);
        e.iter_mut().zip(&an.y).for_each(|(w, y)| *w = y - *w);
        let mut ypy: f64 = an.qquad(&an.q.values, &e);
        let mut logdet_g = 0.0;
        for (t, h) in an.hs.iter().enumerate() {
            let u = &sol[an.w.offsets[t]..an.w.offsets[t + 1]];
            ypy += quad_form(h, &h.values, u);
            logdet_g += h.logdet;
        }
        let (ll, ll_no_constant, df) = loglik(
            self.method,
            an.q.logdet + logdet_g + logdet_c,
            ypy,
            &beta_cov,
            (n, self.model.fixed.n(), p),
        )?;
        let beta = sol[..p].to_vec();
        self.st = Some(State {
            x: x.to_vec(),
            sol,
            e,
            c_ub,
            beta_cov: beta_cov.clone(),
        });
        Ok(Point {
            x: x.to_vec(),
            ll,
            ll_no_constant,
            profiled_scale: ypy / df as f64,
            beta,
            beta_cov,
        })
    }

    fn score_and_ai(&mut self, at: &Point, method: JacobianMethod) -> Result<ScoreAi, RemlError> {
        if method != JacobianMethod::ClosedForm {
            return Err(RemlError::BackendUnavailable {
                backend: "sparse",
                reason: DUAL_UNAVAILABLE.into(),
            });
        }
        if let Some(e) = &self.broken {
            return Err(e.clone());
        }
        self.ensure_at(&at.x)?;
        let st = self.st.take().expect("evaluated above");
        let model = self.model;
        let ml = self.method == Method::Ml;
        let out = self.an_mut().score_and_ai(model.terms.list, &st, ml);
        self.st = Some(st);
        out
    }

    fn inverts_g(&self) -> bool {
        true
    }

    fn last_x(&self) -> Option<Vec<f64>> {
        self.st.as_ref().map(|s| s.x.clone())
    }

    fn lambda_applies(&self, x: &[f64]) -> bool {
        let n = self.model.fixed.n();
        let k = x.len();
        (n > crate::reml::DENSE_COMPLETION_MAX || k <= crate::reml::LAMBDA_MAX_PARAMS)
            && self.lambda_at(x).is_some()
    }

    fn describe(&self) -> String {
        let an = self.an();
        format!(
            "sparse MME (order {}, nnz(C) {}, nnz(L) {}, {})",
            an.w.dim,
            an.pat.nnz(),
            an.chol.nnz_l(),
            if an.chol.is_supernodal() {
                "supernodal"
            } else {
                "simplicial"
            }
        )
    }
}
