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
//! delta method; reported as [`RemlFit::mc_standard_errors`](crate::reml::RemlFit::mc_standard_errors)). The fit has
//! converged when every component of the AI step is below a tenth of its
//! Monte Carlo standard error (or below the step tolerance): iterating
//! further would move the estimate by less than its noise. Unless the user
//! fixes the number of probes, it is then raised (keeping the earlier
//! probes) until every Monte Carlo standard error is below
//! [`IterativeOptions::mc_target`] times the statistical one, and the fit
//! continues from where it is.

// Index loops over blocks of vectors read clearer than zipped iterators.
#![allow(clippy::needless_range_loop)]

mod fit;
mod pcg;
mod probes;

pub(crate) use fit::fit;

use super::memory::{available_memory, human, ExactNeed};
use super::mixed::MixedModel;
use super::options::Method;
use super::terms::RandomDesign;
use super::{RemlError, RemlOptions};
use crate::CovarianceModel;
use nalgebra::DMatrix;
use pcg::{solve, Data};

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
