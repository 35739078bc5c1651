//! The iterative backend (`--backend iterative`): AI-REML for
//! variance-component models without factoring anything, for models whose
//! exact factor does not fit in memory.
//!
//! Scope: random terms with one indicator per row and a scaled-identity
//! `G = σ²_k I` (`(1|f1) + (1|f2)`, crossed or nested), any fixed effects,
//! an iid residual `σ²_e I`, REML. Anything else is an error naming the
//! term.
//!
//! One iteration at `θ = (σ²_1 … σ²_K, σ²_e)`, with `C = WᵀW + diag(0, λ_k I)`
//! and `λ_k = σ²_e / σ²_k` (see `pcg.rs`):
//! 1. one block solve `C S = [Wᵀy, e_1 … e_p, 1_1 … 1_K, v_1 … v_m]` by
//!    preconditioned conjugate gradients (`1_k` the indicator of term `k`'s
//!    levels, `v_j` Rademacher probes on the random unknowns, centred within
//!    each term): `β̂`, `û`, `(XᵀV⁻¹X)⁻¹ = σ²_e C⁻¹_ββ`, and the estimates
//!    `t_k = 1_kᵀC⁻¹1_k / q_k + (1/m) Σ_j v_jkᵀ (C⁻¹ v_j)_k` of `tr C⁻¹_kk`
//!    (the block mean exactly, the rest by Hutchinson's estimator; a term
//!    with at most [`IterativeOptions::exact_trace_levels`] levels is traced
//!    exactly, with one unit vector per level);
//! 2. the score, exact except for those traces:
//!    `∂ℓ/∂σ²_k = −½[q_k/σ²_k − σ²_e t_k/σ⁴_k − û_kᵀû_k/σ⁴_k]`,
//!    `∂ℓ/∂σ²_e = −½[(n − p − Σ_k(q_k − σ²_e t_k/σ²_k))/σ²_e − êᵀê/σ⁴_e]`;
//! 3. the AI matrix `½ w_kᵀ P w_l` with the working vectors `w_k = Z_k û_k/σ²_k`,
//!    `w_e = ê/σ²_e`: one more block solve with `K + 1` right-hand sides,
//!    exact given the solves (no probes);
//! 4. the AI step on the free (log-standard-deviation) scale, capped at a
//!    factor `e⁴` in any variance. There is no line search: the
//!    log-likelihood is not computed.
//!
//! The probes are fixed within a fit (common random numbers), so the score
//! is a deterministic function of `θ` and the iteration converges to the
//! root of the estimated score. Its Monte Carlo error is `AI⁻¹ Cov(ŝ) AI⁻¹`,
//! `Cov(ŝ)` from the spread of the `m` single-probe trace estimates (the
//! delta method; reported as [`RemlFit::mc_standard_errors`]). The fit has
//! converged when every component of the AI step is below a tenth of its
//! Monte Carlo standard error (or below the step tolerance): iterating
//! further would move the estimate by less than its noise. Unless the user
//! fixes the number of probes, it is then raised (keeping the earlier
//! probes) until every Monte Carlo standard error is below
//! [`IterativeOptions::mc_target`] times the statistical one, and the fit
//! continues from where it is.

// Index loops over blocks of vectors read clearer than zipped iterators.
#![allow(clippy::needless_range_loop)]

mod pcg;
mod probes;

use super::evaluator::ParamInfo;
use super::memory::{available_memory, human, ExactNeed};
use super::mixed::MixedModel;
use super::options::Method;
use super::terms::RandomDesign;
use super::{Iteration, RemlError, RemlFit, RemlOptions, Termination};
use crate::CovarianceModel;
use nalgebra::DMatrix;
use pcg::{solve, Data};
use std::time::Instant;

/// Options of the iterative backend ([`Backend::Iterative`](super::Backend::Iterative)).
///
/// ```
/// use covreml::reml::{IterativeOptions, RemlOptions};
/// let opts = RemlOptions::default().iterative(IterativeOptions::default().probes(64).seed(7));
/// assert_eq!(opts.iterative.probes, Some(64));
/// assert_eq!(IterativeOptions::default().mc_target, 0.1);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct IterativeOptions {
    /// A fixed number of probes (Hutchinson vectors); `None` (the default)
    /// takes 8 while far from the optimum, at least 24 once close (at the
    /// solves' full tolerance), and raises it until every Monte Carlo
    /// standard error is below `mc_target` times the statistical standard
    /// error.
    pub probes: Option<usize>,
    /// The seed of the probes (the fit is deterministic given it).
    pub seed: u64,
    /// The largest number of probes the automatic choice takes (lowered
    /// further if the solver's blocks would not fit in memory).
    pub max_probes: usize,
    /// The largest ratio of Monte Carlo to statistical standard error the
    /// automatic choice of probes accepts (0.1).
    pub mc_target: f64,
    /// Relative residual at which a conjugate-gradient solve stops.
    pub cg_tolerance: f64,
    /// The most conjugate-gradient steps per solve.
    pub max_cg_steps: usize,
    /// One line per iteration on standard error (the CLI turns it on unless
    /// `--quiet`).
    pub progress: bool,
    /// Terms with at most this many levels have their trace computed
    /// exactly (one more right-hand side per level), without probes (64).
    pub exact_trace_levels: usize,
    /// For [`Backend::Auto`](super::Backend::Auto): the bytes the exact
    /// sparse factor may take before the iterative backend is used instead
    /// (`None`: the memory available).
    pub exact_memory_limit: Option<u128>,
}

impl Default for IterativeOptions {
    fn default() -> Self {
        IterativeOptions {
            probes: None,
            seed: 20_231_203,
            max_probes: 1024,
            mc_target: 0.1,
            cg_tolerance: 1e-8,
            max_cg_steps: 5000,
            progress: false,
            exact_trace_levels: 64,
            exact_memory_limit: None,
        }
    }
}

impl IterativeOptions {
    /// A fixed number of probes.
    pub fn probes(mut self, m: usize) -> Self {
        self.probes = Some(m.max(2));
        self
    }
    /// The seed of the probes.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// The progress lines on standard error on or off.
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }
    /// The largest term whose trace is computed exactly (0: probes for
    /// every term).
    pub fn exact_trace_levels(mut self, q: usize) -> Self {
        self.exact_trace_levels = q;
        self
    }
    /// The memory limit of the exact factor for `Backend::Auto`.
    pub fn exact_memory_limit(mut self, bytes: u128) -> Self {
        self.exact_memory_limit = Some(bytes);
        self
    }
}

/// The most fixed effects (each is one more right-hand side per iteration).
const MAX_FIXED: usize = 256;

/// Probes of the automatic choice at the start.
const START_PROBES: usize = 8;

/// The fewest probes of the automatic choice at a tight iteration (one
/// that can end the fit): a spread from fewer is too rough an estimate of
/// the Monte Carlo error.
const FINAL_PROBES: usize = 24;

/// The loosest relative residual of a solve (far from the optimum).
const LOOSE_CG: f64 = 1e-5;

/// The largest factor a variance may change by in one step is `e^{2·CAP}`.
const CAP: f64 = 2.0;

/// Variances below this fraction of `var(y)` count as the boundary 0.
const BOUNDARY: f64 = 1e-10;

fn unavailable(reason: String) -> RemlError {
    RemlError::BackendUnavailable {
        backend: "iterative",
        reason,
    }
}

/// Whether `g` is `θ I` with `θ` its one free parameter's natural value.
fn scaled_identity(g: &dyn CovarianceModel) -> bool {
    if g.n_free() != 1 {
        return false;
    }
    let t = &g.free_transforms()[0];
    [0.0, -0.7].iter().all(|&x: &f64| {
        let (v, d) = (t.forward(x), t.derivative(x));
        match g.diagonal_f64(&[x]) {
            Some(Ok((vals, ders))) => {
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1e-300);
                ders.len() == 1
                    && vals.iter().all(|&a| close(a, v))
                    && ders[0].iter().all(|&a| close(a, d))
            }
            _ => false,
        }
    })
}

/// The level vectors of the random terms, or why the iterative backend
/// cannot take the model (naming the term).
pub(crate) fn support(model: &MixedModel) -> Result<Vec<&[usize]>, String> {
    let mut levels = Vec::new();
    for t in &model.terms {
        let RandomDesign::Incidence(inc) = &t.z else {
            return Err(format!(
                "the term `{}` is not a single indicator per row (a random slope or a dense \
                 design); it fits `(1|f)` terms with G = σ² I only",
                t.name
            ));
        };
        if !scaled_identity(&*t.g) {
            return Err(format!(
                "the term `{}` does not have G = σ² I (one variance); it fits `(1|f)` terms \
                 with independent levels only",
                t.name
            ));
        }
        levels.push(inc.levels());
    }
    if !scaled_identity(&*model.residual) {
        return Err("the residual is not iid (σ² I); it fits `--residual iid` only".into());
    }
    Ok(levels)
}

/// For `Backend::Auto`: the reason to use the iterative backend (the exact
/// factor would not fit in memory), or `None` to fit exactly.
pub(crate) fn auto_choice(model: &MixedModel, opts: &RemlOptions) -> Option<String> {
    if opts.method != Method::Reml || support(model).is_err() {
        return None;
    }
    let limit = opts.iterative.exact_memory_limit.or_else(available_memory);
    match model.analysis.take(model.parts()) {
        Ok(an) => {
            let need = ExactNeed::new(
                an.chol.nnz_l(),
                &an.chol.supernode_sizes(),
                an.chol.is_supernodal(),
                an.pat.nnz(),
                an.w.dim,
                an.w.n,
                model.params().names.len(),
            );
            if limit.is_some_and(|l| need.total() > l) {
                drop(an);
                Some(format!(
                    "the exact sparse backend would need {need} (nnz(L) = {}), more than the {} \
                     available: fitted by the iterative backend",
                    need.factor / 8,
                    human(limit.unwrap_or(0))
                ))
            } else {
                model.analysis.put(an);
                None
            }
        }
        Err(RemlError::OutOfMemory { what, bytes, .. }) => Some(format!(
            "the exact sparse backend would need {} for {what}, more than available: fitted \
             by the iterative backend",
            human(bytes)
        )),
        Err(RemlError::InvalidModel { reason }) if reason.contains("out of memory") => {
            Some(format!(
                "the exact sparse backend ran out of memory ({reason}): fitted by the \
                 iterative backend"
            ))
        }
        Err(_) => None,
    }
}

/// What one iteration computes at `θ`.
struct AtPoint {
    beta: Vec<f64>,
    beta_cov: DMatrix<f64>,
    /// Score and AI on the free scale.
    score: Vec<f64>,
    ai: DMatrix<f64>,
    /// `Cov(ŝ)` of the Monte Carlo error of the score (free scale).
    score_cov: DMatrix<f64>,
    cg_steps: (usize, usize),
    cg_ok: bool,
}

/// The state carried between iterations: warm starts of both solves.
struct Warm {
    s1: Option<(usize, Vec<f64>)>,
    s2: Option<Vec<f64>>,
}

/// Copies the columns of an old `dim × m_old` block into the first columns
/// of a `dim × m` block (the probes common to both sit after `lead`).
fn widen(old: &[f64], m_old: usize, m: usize, dim: usize) -> Vec<f64> {
    let mut out = vec![0.0; dim * m];
    let k = m_old.min(m);
    for i in 0..dim {
        out[i * m..i * m + k].copy_from_slice(&old[i * m_old..i * m_old + k]);
    }
    out
}

struct Fitter<'m, 'a> {
    d: &'a Data<'m>,
    y: &'a [f64],
    k: usize,
    transforms: &'a [crate::Transform],
    opts: &'a RemlOptions,
}

/// The columns of the first block solve: `Wᵀy` (column 0), the unit
/// vectors of `β` (`1..=p`), the block indicators `1_k` (`p + 1..ec`), the
/// unit vectors of the levels of the small terms (`ec..pc`), the probes
/// (`pc..m1`).
struct Layout {
    /// The terms traced exactly (at most `exact_trace_levels` levels).
    small: Vec<usize>,
    ec: usize,
    pc: usize,
    m1: usize,
    /// Probes.
    m: usize,
}

impl Fitter<'_, '_> {
    fn at(&self, x: &[f64], m: usize, tol: f64, warm: &mut Warm) -> AtPoint {
        let (d, kk) = (self.d, self.k);
        let p = d.p;
        let theta: Vec<f64> = x
            .iter()
            .zip(self.transforms)
            .map(|(&v, t)| t.forward(v))
            .collect();
        let jac: Vec<f64> = x
            .iter()
            .zip(self.transforms)
            .map(|(&v, t)| t.derivative(v))
            .collect();
        let se2 = theta[kk];
        let lambda: Vec<f64> = theta[..kk].iter().map(|s| se2 / s).collect();
        let io = &self.opts.iterative;

        // Round 1: one block solve (see `Layout`).
        let lay = self.layout(m);
        let b = self.round1_rhs(&lay);
        let m1 = lay.m1;
        let x0 = warm.s1.as_ref().map(|(mo, s)| widen(s, *mo, m1, d.dim));
        let s1 = solve(d, &b, m1, &lambda, tol, io.max_cg_steps, x0.as_deref());
        let s = &s1.x;
        let beta: Vec<f64> = (0..p).map(|j| s[j * m1]).collect();
        let mut beta_cov = DMatrix::from_fn(p, p, |a, c| se2 * s[a * m1 + 1 + c]);
        beta_cov = (&beta_cov + beta_cov.transpose()) * 0.5;
        let ehat = self.residuals(s, m1, &beta);
        let ete: f64 = ehat.iter().map(|e| e * e).sum();
        let (utu, t) = self.traces(&lay, &b, s, &s1.r);
        let tbar: Vec<f64> = t
            .iter()
            .map(|tk| tk.iter().sum::<f64>() / m as f64)
            .collect();
        let score = self.natural_score(&theta, &tbar, &utu, ete);
        let cov_s = score_covariance(&theta, kk, &lay, &t, &tbar);

        // Round 2: the AI matrix from the working vectors.
        let (ai_nat, s2) = self.round2_ai(&theta, (s, m1), &ehat, &lambda, tol, warm);
        let jd = DMatrix::from_diagonal(&nalgebra::DVector::from_vec(jac.clone()));
        let ai = &jd * ai_nat * &jd;
        let score_free: Vec<f64> = score.iter().zip(&jac).map(|(s, j)| s * j).collect();
        let score_cov = &jd * cov_s * &jd;
        let cg_ok = s1.converged && s2.converged;
        let cg_steps = (s1.steps, s2.steps);
        warm.s1 = Some((m1, s1.x));
        warm.s2 = Some(s2.x);
        AtPoint {
            beta,
            beta_cov,
            score: score_free,
            ai,
            score_cov,
            cg_steps,
            cg_ok,
        }
    }

    /// The columns of the first block solve with `m` probes.
    fn layout(&self, m: usize) -> Layout {
        let (d, kk) = (self.d, self.k);
        let small: Vec<usize> = (0..kk)
            .filter(|&k| d.q[k] <= self.opts.iterative.exact_trace_levels)
            .collect();
        let n_exact: usize = small.iter().map(|&k| d.q[k]).sum();
        let ec = 1 + d.p + kk;
        let pc = ec + n_exact;
        Layout {
            small,
            ec,
            pc,
            m1: pc + m,
            m,
        }
    }

    /// The right-hand sides of the first block solve (`dim × m1`, row
    /// major): `Wᵀy`, the unit vectors of `β`, the block indicators, the
    /// unit vectors of the small terms' levels, the probes (centred within
    /// each term's block).
    fn round1_rhs(&self, lay: &Layout) -> Vec<f64> {
        let (d, y, kk) = (self.d, self.y, self.k);
        let (p, dim, m1, m, pc) = (d.p, d.dim, lay.m1, lay.m, lay.pc);
        let wty = d.wt_rows(1, |r, out| out[0] = y[r]);
        let mut b = vec![0.0; dim * m1];
        for i in 0..dim {
            b[i * m1] = wty[i];
        }
        for j in 0..p {
            b[j * m1 + 1 + j] = 1.0;
        }
        for k in 0..kk {
            for i in d.off[k]..d.off[k] + d.q[k] {
                b[i * m1 + 1 + p + k] = 1.0;
            }
        }
        let mut col = lay.ec;
        for &k in &lay.small {
            for i in d.off[k]..d.off[k] + d.q[k] {
                b[i * m1 + col] = 1.0;
                col += 1;
            }
        }
        for j in 0..m {
            probes::rademacher(self.opts.iterative.seed, j, p, &mut b, m1, pc + j);
        }
        for k in 0..kk {
            let r = d.off[k]..d.off[k] + d.q[k];
            for j in 0..m {
                let mean = r.clone().map(|i| b[i * m1 + pc + j]).sum::<f64>() / d.q[k] as f64;
                for i in r.clone() {
                    b[i * m1 + pc + j] -= mean;
                }
            }
        }
        b
    }

    /// Residuals `ê = y − Xβ̂ − Zû` (`û` in column 0 of the solution `s`).
    fn residuals(&self, s: &[f64], m1: usize, beta: &[f64]) -> Vec<f64> {
        let (d, y) = (self.d, self.y);
        let p = d.p;
        let u = |i: usize| s[i * m1];
        (0..d.n)
            .map(|r| {
                let mut f = 0.0;
                for j in 0..p {
                    f += d.x[r * p + j] * beta[j];
                }
                for (k, l) in d.levels.iter().enumerate() {
                    f += u(d.off[k] + l[r]);
                }
                y[r] - f
            })
            .collect()
    }

    /// `ûᵀû` per term and the single-probe estimates `t_kj` of
    /// `tr C⁻¹_kk`: `1ᵀC⁻¹_kk 1 / q_k` (exact, from the solve with `1_k`)
    /// plus `tr(Π C⁻¹_kk Π)` (Hutchinson with the centred probes; `Π`
    /// removes the block mean, the direction in which the intercept makes
    /// `C⁻¹_kk` nearly constant and single-probe estimates heavy-tailed); a
    /// small term's trace is exact.
    fn traces(&self, lay: &Layout, b: &[f64], s: &[f64], res: &[f64]) -> (Vec<f64>, Vec<Vec<f64>>) {
        let (d, kk) = (self.d, self.k);
        let (p, m1, m, pc) = (d.p, lay.m1, lay.m, lay.pc);
        let u = |i: usize| s[i * m1];
        // `bᵀx + xᵀr` for a solve `x` of `C x = b` with residual `r`
        // equals `bᵀC⁻¹b − ‖x − C⁻¹b‖²_C`: its error is the square of the
        // solve's (used for the block means `1_kᵀC⁻¹1_k`).
        let quad =
            |i: usize, c: usize, bv: f64| bv * s[i * m1 + c] + s[i * m1 + c] * res[i * m1 + c];
        let mut utu = vec![0.0; kk];
        let mut t = vec![vec![0.0; m]; kk];
        let mut ones = vec![0.0; kk];
        for k in 0..kk {
            for i in d.off[k]..d.off[k] + d.q[k] {
                utu[k] += u(i) * u(i);
            }
            // `1_kᵀC⁻¹1_k` (the residual of that solve lives on all unknowns).
            let c = 1 + p + k;
            for i in 0..d.dim {
                ones[k] += quad(i, c, b[i * m1 + c]);
            }
            // A probe's single-block estimate `v_kᵀ(C⁻¹v)_k` is bilinear
            // (the probe spans every term): its error is linear in the
            // solve's, which the final, tight iteration makes negligible.
            for i in d.off[k]..d.off[k] + d.q[k] {
                for j in 0..m {
                    let c = pc + j;
                    t[k][j] += b[i * m1 + c] * s[i * m1 + c];
                }
            }
            let exact = ones[k] / d.q[k] as f64;
            t[k].iter_mut().for_each(|v| *v += exact);
        }
        let mut col = lay.ec;
        for &k in &lay.small {
            let mut tr = 0.0;
            for i in d.off[k]..d.off[k] + d.q[k] {
                tr += s[i * m1 + col];
                col += 1;
            }
            t[k].iter_mut().for_each(|v| *v = tr);
        }
        (utu, t)
    }

    /// The score on the natural scale, from the mean traces `tbar`.
    fn natural_score(&self, theta: &[f64], tbar: &[f64], utu: &[f64], ete: f64) -> Vec<f64> {
        let (d, kk) = (self.d, self.k);
        let se2 = theta[kk];
        let mut score = vec![0.0; kk + 1];
        let mut used = 0.0;
        for k in 0..kk {
            let s2 = theta[k];
            let q = d.q[k] as f64;
            score[k] = -0.5 * (q / s2 - se2 * tbar[k] / (s2 * s2) - utu[k] / (s2 * s2));
            used += q - se2 * tbar[k] / s2;
        }
        score[kk] = -0.5 * ((d.n as f64 - d.p as f64 - used) / se2 - ete / (se2 * se2));
        score
    }

    /// Round 2: the natural-scale AI matrix `½ w_kᵀ P w_l` of the working
    /// vectors (one block solve, warm-started), and that solve; `(s, m1)`
    /// is the first solve's block and its width.
    fn round2_ai(
        &self,
        theta: &[f64],
        (s, m1): (&[f64], usize),
        ehat: &[f64],
        lambda: &[f64],
        tol: f64,
        warm: &Warm,
    ) -> (DMatrix<f64>, pcg::Solved) {
        let (d, kk) = (self.d, self.k);
        let (dim, se2) = (d.dim, theta[kk]);
        let io = &self.opts.iterative;
        let u = |i: usize| s[i * m1];
        let a: Vec<Vec<f64>> = (0..kk)
            .map(|k| {
                (d.off[k]..d.off[k] + d.q[k])
                    .map(|i| u(i) / theta[k])
                    .collect()
            })
            .collect();
        let w = kk + 1;
        let work = |r: usize, out: &mut [f64]| {
            for k in 0..kk {
                out[k] = a[k][d.levels[k][r]];
            }
            out[kk] = ehat[r] / se2;
        };
        let bw = d.wt_rows(w, work);
        let gram = d.pass(w * w, |rows, out| {
            let mut v = vec![0.0; w];
            for r in rows {
                work(r, &mut v);
                for i in 0..w {
                    for j in 0..w {
                        out[i * w + j] += v[i] * v[j];
                    }
                }
            }
        });
        let s2 = solve(d, &bw, w, lambda, tol, io.max_cg_steps, warm.s2.as_deref());
        let ai_nat = DMatrix::from_fn(w, w, |i, j| {
            let mut v = gram[i * w + j];
            for r in 0..dim {
                v -= 0.5 * (bw[r * w + i] * s2.x[r * w + j] + bw[r * w + j] * s2.x[r * w + i]);
            }
            0.5 * v / se2
        });
        (ai_nat, s2)
    }
}

/// The Monte Carlo covariance of the natural-scale score: `∂score/∂t`
/// times `Cov(t̄)` (zero for the exactly traced terms).
fn score_covariance(
    theta: &[f64],
    kk: usize,
    lay: &Layout,
    t: &[Vec<f64>],
    tbar: &[f64],
) -> DMatrix<f64> {
    let (se2, m) = (theta[kk], lay.m);
    let mut js = DMatrix::zeros(kk + 1, kk);
    for k in 0..kk {
        js[(k, k)] = 0.5 * se2 / (theta[k] * theta[k]);
        js[(kk, k)] = -0.5 / theta[k];
    }
    let cov_t = DMatrix::from_fn(kk, kk, |a, c| {
        if lay.small.contains(&a) || lay.small.contains(&c) {
            return 0.0;
        }
        let mut v = 0.0;
        for j in 0..m {
            v += (t[a][j] - tbar[a]) * (t[c][j] - tbar[c]);
        }
        v / ((m.max(2) - 1) as f64 * m as f64)
    });
    &js * cov_t * js.transpose()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
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

/// Fits `model` by the iterative backend (`note`: why `auto` chose it).
pub(crate) fn fit(
    model: &MixedModel,
    opts: &RemlOptions,
    observer: &mut dyn FnMut(&Iteration),
    note: Option<String>,
) -> Result<RemlFit, RemlError> {
    let t0 = Instant::now();
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
    let params: ParamInfo = model.params();
    let kk = model.terms.len();
    let q: Vec<usize> = model.terms.iter().map(|t| t.z.dims().1).collect();
    let fx = &model.fixed;
    let d = Data::new(&fx.x, levels, q).map_err(unavailable)?;
    let var_y = fx.var_y();
    let tr = &params.transforms;
    let mut x: Vec<f64> = match &opts.start {
        Some(s) => {
            super::options::check_len("start", s, &params.names)?;
            s.clone()
        }
        None => tr
            .iter()
            .map(|t| t.inverse(var_y.max(1e-300) / (kk + 1) as f64))
            .collect(),
    };
    let io = &opts.iterative;
    let cap = memory_probe_cap(&d);
    let mut warnings: Vec<String> = fx.notes.clone();
    if let Some(n) = note {
        warnings.push(n);
    }
    let mut m = io.probes.unwrap_or(START_PROBES).max(2);
    if m > cap {
        warnings.push(format!(
            "{m} probes would not fit in memory; {cap} are used"
        ));
        m = cap;
    }
    let max_probes = io.max_probes.min(cap).max(m);
    let fitter = Fitter {
        d: &d,
        y: &fx.y,
        k: kk,
        transforms: tr,
        opts,
    };
    let mut warm = Warm { s1: None, s2: None };
    let mut history: Vec<Iteration> = Vec::new();
    let termination;
    let last;
    let mut mcse_x;
    let mut prev_step = f64::NAN;
    if io.progress {
        eprintln!(
            "iterative REML: n = {}, {} unknowns, {} probes to start (seed {})",
            d.n, d.dim, m, io.seed
        );
    }
    loop {
        let it = history.len() + 1;
        let ti = Instant::now();
        // Inexact Newton: far from the optimum the solves stop early (a
        // relative residual of 1e-2 × the last step², at most 1e-5); only
        // an iteration at the full tolerance can end the fit.
        let tol = if prev_step.is_nan() {
            LOOSE_CG.max(io.cg_tolerance)
        } else {
            (1e-2 * prev_step * prev_step).clamp(io.cg_tolerance, LOOSE_CG.max(io.cg_tolerance))
        };
        let tight = tol <= io.cg_tolerance;
        if tight && io.probes.is_none() {
            m = m.max(FINAL_PROBES.min(max_probes));
        }
        let pt = fitter.at(&x, m, tol, &mut warm);
        let ai_inv = pt.ai.clone().cholesky().map(|c| c.inverse());
        let Some(ai_inv) = ai_inv else {
            last = pt;
            mcse_x = vec![f64::NAN; x.len()];
            termination = Termination::Stalled {
                reason: "the AI matrix is not positive definite".into(),
            };
            break;
        };
        let cov_x = &ai_inv * &pt.score_cov * &ai_inv;
        mcse_x = (0..x.len())
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
        let small = step.iter().enumerate().all(|(i, s)| {
            s.abs() <= 0.1 * mcse_x[i] || s.abs() <= opts.tol_step * (1.0 + x[i].abs())
        });
        let converged = small && pt.cg_ok && tight;
        let ratio = (0..x.len())
            .map(|i| mcse_x[i] / se_x[i])
            .fold(0.0f64, f64::max);
        let more_probes =
            converged && io.probes.is_none() && ratio > io.mc_target && m < max_probes;
        let finished = converged && !more_probes;
        let out_of_iter = !finished && it >= opts.max_iter;
        let natural: Vec<f64> = x.iter().zip(tr).map(|(&v, t)| t.forward(v)).collect();
        history.push(Iteration {
            iter: it,
            free: x.clone(),
            natural: natural.clone(),
            beta: fx.unshift_beta(pt.beta.clone()),
            loglik: f64::NAN,
            loglik_change: f64::NAN,
            score: pt.score.clone(),
            score_norm: norm(&pt.score),
            ai: pt.ai.clone(),
            step: if finished || out_of_iter {
                Vec::new()
            } else {
                step.clone()
            },
            step_norm,
            halvings: 0,
        });
        if io.progress {
            let elapsed = t0.elapsed().as_secs_f64();
            let per = elapsed / it as f64;
            let target = 0.1 * norm(&mcse_x).max(1e-300);
            let rate = step_norm / prev_step;
            let left = if finished {
                "0 s".to_string()
            } else if more_probes {
                "? (more probes)".to_string()
            } else if rate < 0.9 && step_norm > target {
                let k = ((target / step_norm).ln() / rate.ln()).ceil().max(1.0);
                format!("≈ {:.0} s", k * per)
            } else {
                format!("≥ {:.0} s", per)
            };
            eprintln!(
                "iter {it:>3}  |score| {:.3e}  |step| {:.3e}  max MC/SE {:.3}  probes {m}  CG {}+{} (tol {tol:.0e})  {:.1} s this, {:.1} s elapsed, left {left}",
                norm(&pt.score),
                step_norm,
                ratio,
                pt.cg_steps.0,
                pt.cg_steps.1,
                ti.elapsed().as_secs_f64(),
                elapsed,
            );
        }
        observer(history.last().expect("just pushed"));
        prev_step = step_norm;
        if !pt.cg_ok {
            last = pt;
            termination = Termination::Stalled {
                reason: format!(
                    "the conjugate gradients did not reach a relative residual of {tol:e} in {} \
                     steps",
                    io.max_cg_steps
                ),
            };
            break;
        }
        if finished {
            last = pt;
            termination = Termination::Converged;
            break;
        }
        if out_of_iter {
            last = pt;
            termination = Termination::IterationLimit;
            break;
        }
        if more_probes {
            let want = (m as f64 * (ratio / io.mc_target).powi(2) * 1.2).ceil() as usize;
            m = want.max(2 * m).min(max_probes);
            continue;
        }
        for (xi, s) in x.iter_mut().zip(&step) {
            *xi += s;
        }
        let low: Vec<usize> = (0..x.len())
            .filter(|&i| tr[i].forward(x[i]) < BOUNDARY * var_y)
            .collect();
        if !low.is_empty() {
            last = pt;
            termination = Termination::Stalled {
                reason: format!(
                    "{} ran to the boundary 0; the iterative backend does not fit boundary \
                     estimates (use an exact backend)",
                    low.iter()
                        .map(|&i| params.names[i].as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            break;
        }
    }
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
    for i in 0..k {
        if mc_nat[i] > io.mc_target * natural_se[i] {
            warnings.push(format!(
                "the Monte Carlo standard error of {} is {:.2} of its standard error (more \
                 probes, --probes, would lower it)",
                params.names[i],
                mc_nat[i] / natural_se[i]
            ));
        }
    }
    warnings.push(format!(
        "iterative backend: the log-likelihood is not computed (NaN, and so are AIC and BIC); \
         convergence is judged on the AI step against the Monte Carlo error of the traces \
         ({m} probes, seed {})",
        io.seed
    ));
    let beta_se: Vec<f64> = (0..d.p).map(|j| last.beta_cov[(j, j)].sqrt()).collect();
    Ok(RemlFit {
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
    })
}
