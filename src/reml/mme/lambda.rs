//! Henderson's equations in lme4's `Λ` form, for a random term whose `G`
//! is singular.
//!
//! For a term with `G = Σ ⊗ K` (coefficient-major unknowns, as the formula
//! layer builds `(1 + x | g)` with `K = I` and `(0 + sex | animal)` with
//! `K = A`) or `G = K ⊗ Σ` (level-major), and any square root
//! `Σ = ΛΛᵀ` (a Cholesky factor whose diagonal may be exactly 0), let
//! `T = blockdiag(I_p, Λ ⊗ I or I ⊗ Λ per such term, I elsewhere)` and
//! `u = T v`. With `M = WᵀQW` and `D` the prior precision of `v`
//! (`I ⊗ K⁻¹`: `G⁻¹` at `Σ = I`; `G⁻¹` itself for the other terms),
//!
//! `C* = Tᵀ M T + D`
//!
//! has eigenvalues `≥ 1` (times those of `K⁻¹`) in the `v` blocks and stays
//! well conditioned where `Σ` is singular, where `C = M + G⁻¹` does not
//! exist. For a nonsingular `Σ`, `C* = TᵀCT`, so
//! `log|G| + log|C| = log|C*| + Σ_Λ-terms log|G(Σ = I)| + Σ_other log|G|`,
//! and with `s* = C*⁻¹TᵀWᵀQy = [β̂; v̂]`, `û = Λ v̂`, `ê = y − Wŝ`:
//!
//! `ℓ_REML = −½[(n − p) log 2π + log|R| + log|G_other| + Σ log|G(I)| + log|C*| + yᵀPy]`,
//! `yᵀPy = êᵀQê + Σ_Λ v̂ᵀDv̂ + Σ_other ûᵀG⁻¹û`;
//!
//! every term is continuous in `Λ` up to and including a singular `Σ`
//! (lme4's profiled deviance is the same function). The `β` block of `T` is
//! the identity, so `C*^{ββ} = C^{ββ} = (XᵀV⁻¹X)⁻¹`, and ML is
//! `−½[n log 2π + log|R| + log|G| + log|C| + log|C^{ββ}| + yᵀPy]` with the
//! same substitution.
//!
//! `C*` lives on the pattern of `C` when every pair of level blocks that
//! meets in `C` meets there in full (the `G⁻¹` pattern holds each level's
//! `k × k` block; a row of `X`, or another term, holds all coefficients of a
//! level unless some are stored zeros): [`LambdaForm::new`] checks this and
//! refuses otherwise, naming the entry.

use super::pattern::quad_form;
use super::{EvalFail, Mme};
use crate::reml::boundary::IMPRECISE_PIVOT;
use crate::reml::constrain::{min_relative_pivot, tri, Block, Plan};
use crate::reml::evaluator::Point;
use crate::reml::post::MixedPost;
use crate::reml::RemlError;
use nalgebra::DMatrix;
use std::collections::BTreeSet;

/// A random term fitted in `Λ` form.
#[derive(Clone, Debug)]
pub(crate) struct LambdaTerm {
    /// The term's index in the model.
    pub term: usize,
    /// Order of `Σ`.
    pub k: usize,
    /// Positions of the block's parameters `sigma^2_i_j` in θ
    /// (`idx[tri(i, j)]`).
    pub idx: Vec<usize>,
}

/// A group of unknowns that `T` mixes: one level of a `Λ`-form term (its
/// `k` coefficients in order), or a single unknown.
#[derive(Clone, Debug)]
struct Group {
    /// The `Λ`-form term (index in [`LambdaForm::terms`]), if any.
    lt: Option<usize>,
    members: Vec<usize>,
}

/// Two groups that meet in `C`, with the positions of their block.
#[derive(Clone, Debug)]
struct PairBlock {
    a: usize,
    b: usize,
    /// `pos[i * kb + j]`: position in `C`'s values of entry
    /// `(members_a[i], members_b[j])` (either triangle).
    pos: Vec<usize>,
}

/// The congruence `C ↦ TᵀCT` on the pattern of `C`, for a model's
/// `Λ`-form terms.
#[derive(Clone, Debug)]
pub(crate) struct LambdaForm {
    pub terms: Vec<LambdaTerm>,
    groups: Vec<Group>,
    pairs: Vec<PairBlock>,
}

/// The Λ-form estimates at a point.
#[derive(Clone, Debug)]
pub(crate) struct LambdaPoint {
    /// The full log-likelihood (REML or ML).
    pub ll: f64,
    /// The same without its `2π` term.
    pub ll_no_constant: f64,
    /// `β̂`.
    pub beta: Vec<f64>,
    /// `C^{ββ}`.
    pub beta_cov: DMatrix<f64>,
    /// `[β̂; û]`.
    pub sol: Vec<f64>,
    /// `yᵀPy`.
    pub ypy: f64,
    /// `n − p` (REML) or `n` (ML).
    pub df: usize,
}

/// Position of the lower-triangle entry `(r, c)` in a compressed-column
/// lower triangle with sorted rows.
fn position(col_ptr: &[usize], row_idx: &[usize], r: usize, c: usize) -> Option<usize> {
    let (r, c) = if r >= c { (r, c) } else { (c, r) };
    let s = col_ptr[c];
    row_idx[s..col_ptr[c + 1]]
        .binary_search(&r)
        .ok()
        .map(|k| s + k)
}

/// `Σ₀`, a positive definite test matrix with distinct entries.
fn probe_sigma(k: usize) -> DMatrix<f64> {
    DMatrix::from_fn(k, k, |i, j| {
        if i == j {
            1.0 + 0.5 * i as f64
        } else {
            0.25 + 0.01 * (i + j) as f64
        }
    })
}

/// The user's free parameters of a block at `Σ`.
fn block_params(b: &Block, s: &DMatrix<f64>, xs: &mut [f64], off: usize) {
    for i in 0..b.n {
        for j in 0..=i {
            let v = s[(i, j)];
            xs[b.idx[tri(i, j)] - off] = if i == j { 0.5 * v.ln() } else { v };
        }
    }
}

/// Whether `G⁻¹` at `Σ₀` (`h0`) is `Σ₀⁻¹ ⊗ K⁻¹` with `K⁻¹` read from `G⁻¹`
/// at `Σ = I` (`h1`), in coefficient-major (`a·q + l`) or level-major
/// (`l·k + a`) order.
fn kron_order(
    h0: &crate::SparseInverse<f64>,
    h1: &crate::SparseInverse<f64>,
    s0_inv: &DMatrix<f64>,
    k: usize,
    q: usize,
) -> Option<bool> {
    if h0.values.len() != h1.values.len() || h0.n != k * q {
        return None;
    }
    let kinv = |l: usize, m: usize, coef_major: bool| -> f64 {
        let (r, c) = if coef_major { (l, m) } else { (l * k, m * k) };
        position(&h1.col_ptr, &h1.row_idx, r, c)
            .map(|p| h1.values[p])
            .unwrap_or(0.0)
    };
    let fits = |coef_major: bool| {
        h0.entries().zip(&h0.values).all(|((r, c), &v)| {
            let (a, l, b, m) = if coef_major {
                (r / q, r % q, c / q, c % q)
            } else {
                (r % k, r / k, c % k, c / k)
            };
            let want = s0_inv[(a, b)] * kinv(l, m, coef_major);
            (v - want).abs() <= 1e-10 * (1.0 + want.abs())
        })
    };
    if fits(true) {
        Some(true)
    } else if fits(false) {
        Some(false)
    } else {
        None
    }
}

/// The unknowns of each level of `term` (its coefficients in order) when
/// its `G` is `Σ ⊗ K` or `K ⊗ Σ` with `Σ` the unstructured block `b`
/// (all of the term's parameters, the first at `first` in θ) and `K`
/// without parameters; `offsets` the term's first unknown and the next
/// term's. `None` otherwise.
fn term_levels(
    term: &crate::reml::terms::Term,
    b: &Block,
    first: usize,
    offsets: &[usize],
) -> Option<Vec<Vec<usize>>> {
    let nf = term.g.n_free();
    if b.idx.len() != nf || b.idx.iter().any(|&i| i < first || i >= first + nf) {
        return None;
    }
    let k = b.n;
    let width = offsets[1] - offsets[0];
    if width % k != 0 {
        return None;
    }
    let q = width / k;
    let mut x1 = vec![0.0; nf];
    block_params(b, &DMatrix::identity(k, k), &mut x1, first);
    let s0 = probe_sigma(k);
    let mut x0 = vec![0.0; nf];
    block_params(b, &s0, &mut x0, first);
    let (Some(Ok(h1)), Some(Ok(h0)), Some(s0_inv)) = (
        term.g.sparse_inverse_f64(&x1),
        term.g.sparse_inverse_f64(&x0),
        s0.clone().try_inverse(),
    ) else {
        return None;
    };
    let coef_major = kron_order(&h0, &h1, &s0_inv, k, q)?;
    let base = offsets[0];
    Some(
        (0..q)
            .map(|l| {
                (0..k)
                    .map(|a| base + if coef_major { a * q + l } else { l * k + a })
                    .collect()
            })
            .collect(),
    )
}

/// The groups of unknowns the `Λ` form of a model may mix: every level of
/// every random term whose `G` is `Σ ⊗ K` or `K ⊗ Σ` with an unstructured
/// `Σ` (see [`LambdaForm`]). The pattern of `C` is closed under them at the
/// analysis (a level's coefficients meet whatever one of them meets), so
/// that `C*` lies on it whatever `Σ` becomes singular.
pub(crate) fn mixing_groups(
    model: crate::reml::terms::Parts<'_>,
    offsets: &[usize],
) -> Vec<Vec<usize>> {
    let params = model.terms.params();
    let k = params.names.len();
    let inf = f64::INFINITY;
    let plan = Plan::new(&params, &vec![-inf; k], &vec![inf; k], 1e-10, 1.0);
    let mut out = Vec::new();
    let mut off = 0;
    for (t, term) in model.terms.list.iter().enumerate() {
        let nf = term.g.n_free();
        let range = off..off + nf;
        off += nf;
        let Some(b) = plan
            .blocks
            .iter()
            .find(|b| b.idx.iter().all(|i| range.contains(i)))
        else {
            continue;
        };
        if let Some(levels) = term_levels(term, b, range.start, &offsets[t..t + 2]) {
            out.extend(levels);
        }
    }
    out
}

impl LambdaForm {
    /// The `Λ` form of the evaluator's model for the unstructured blocks
    /// `blocks` (each must be the whole parameter set of one random term
    /// with `G = Σ ⊗ K` or `K ⊗ Σ`): `Ok(None)` when some block is not of
    /// that kind, an error naming the entry when `C*` would leave the
    /// pattern of `C`.
    pub fn new(mme: &Mme<'_>, blocks: &[&Block]) -> Result<Option<LambdaForm>, String> {
        let terms_list = mme.model.terms.list;
        let an = mme.an();
        let dim = an.w.dim;
        let mut terms = Vec::new();
        let mut group_of = vec![usize::MAX; dim];
        let mut groups: Vec<Group> = Vec::new();
        let mut off = 0;
        for (t, term) in terms_list.iter().enumerate() {
            let nf = term.g.n_free();
            let range = off..off + nf;
            off += nf;
            let Some(b) = blocks
                .iter()
                .find(|b| b.idx.iter().all(|i| range.contains(i)))
            else {
                continue;
            };
            let Some(levels) = term_levels(term, b, range.start, &an.w.offsets[t..t + 2]) else {
                return Ok(None);
            };
            let lt = terms.len();
            terms.push(LambdaTerm {
                term: t,
                k: b.n,
                idx: b.idx.clone(),
            });
            for members in levels {
                for &m in &members {
                    group_of[m] = groups.len();
                }
                groups.push(Group {
                    lt: Some(lt),
                    members,
                });
            }
        }
        if terms.len() != blocks.len() {
            return Ok(None);
        }
        for (i, g) in group_of.iter_mut().enumerate() {
            if *g == usize::MAX {
                *g = groups.len();
                groups.push(Group {
                    lt: None,
                    members: vec![i],
                });
            }
        }
        let pat = &an.pat;
        let mut pairs_set = BTreeSet::new();
        for c in 0..dim {
            for &r in &pat.row_idx[pat.col_ptr[c]..pat.col_ptr[c + 1]] {
                let (a, b) = (group_of[r], group_of[c]);
                if groups[a].lt.is_some() || groups[b].lt.is_some() {
                    pairs_set.insert((a.max(b), a.min(b)));
                }
            }
        }
        let mut pairs = Vec::with_capacity(pairs_set.len());
        for (a, b) in pairs_set {
            let (ma, mb) = (&groups[a].members, &groups[b].members);
            let mut pos = Vec::with_capacity(ma.len() * mb.len());
            for &r in ma {
                for &c in mb {
                    match position(&pat.col_ptr, &pat.row_idx, r, c) {
                        Some(p) => pos.push(p),
                        None => {
                            return Err(format!(
                                "entry ({r}, {c}) of the mixed-model equations, which the Λ form \
                                 needs, is not in their pattern"
                            ))
                        }
                    }
                }
            }
            pairs.push(PairBlock { a, b, pos });
        }
        Ok(Some(LambdaForm {
            terms,
            groups,
            pairs,
        }))
    }

    /// `T_g` of group `g` (`None` for the identity).
    fn t_of<'l>(&self, g: usize, lambdas: &'l [DMatrix<f64>]) -> Option<&'l DMatrix<f64>> {
        self.groups[g].lt.map(|lt| &lambdas[lt])
    }

    /// `values ← Tᵀ values T` on the pattern (`T values Tᵀ` when
    /// `transpose`).
    fn congruence(&self, values: &mut [f64], lambdas: &[DMatrix<f64>], transpose: bool) {
        for pb in &self.pairs {
            let (ka, kb) = (
                self.groups[pb.a].members.len(),
                self.groups[pb.b].members.len(),
            );
            let mut blk = DMatrix::from_fn(ka, kb, |i, j| values[pb.pos[i * kb + j]]);
            if let Some(ta) = self.t_of(pb.a, lambdas) {
                blk = if transpose {
                    ta * blk
                } else {
                    ta.transpose() * blk
                };
            }
            if let Some(tb) = self.t_of(pb.b, lambdas) {
                blk = if transpose {
                    blk * tb.transpose()
                } else {
                    blk * tb
                };
            }
            for i in 0..ka {
                for j in 0..kb {
                    values[pb.pos[i * kb + j]] = blk[(i, j)];
                }
            }
        }
    }

    /// `v ← T_gᵀ v` (`transpose`) or `v ← T_g v` on every `Λ` group.
    fn apply(&self, v: &mut [f64], lambdas: &[DMatrix<f64>], transpose: bool) {
        for g in self.groups.iter().filter(|g| g.lt.is_some()) {
            let l = &lambdas[g.lt.expect("filtered")];
            let x: Vec<f64> = g.members.iter().map(|&m| v[m]).collect();
            for (a, &m) in g.members.iter().enumerate() {
                v[m] = (0..x.len())
                    .map(|b| if transpose { l[(b, a)] } else { l[(a, b)] } * x[b])
                    .sum();
            }
        }
    }
}

impl Mme<'_> {
    /// Builds the `Λ` form of this evaluator's model for `blocks` (see
    /// [`LambdaForm::new`]).
    pub(crate) fn lambda_form(&self, blocks: &[&Block]) -> Result<Option<LambdaForm>, String> {
        LambdaForm::new(self, blocks)
    }

    /// The log-likelihood and estimates in `Λ` form at the free parameters
    /// `x` (the `Λ`-form terms' parameters are ignored) and the square
    /// roots `lambdas` of their `Σ` (in `form.terms` order).
    pub(crate) fn lambda_evaluate(
        &mut self,
        form: &LambdaForm,
        x: &[f64],
        lambdas: &[DMatrix<f64>],
    ) -> Result<LambdaPoint, EvalFail> {
        self.st = None;
        // `G⁻¹` at `Σ = I` for the Λ-form terms: their prior precision `D`
        // and `log|G(I)|`.
        let mut xe = x.to_vec();
        for lt in &form.terms {
            for i in 0..lt.k {
                for j in 0..=i {
                    xe[lt.idx[tri(i, j)]] = 0.0;
                }
            }
        }
        self.inverses_at(&xe)?;
        let an = self.an_mut();
        an.assemble();
        for lt in &form.terms {
            for (&v, &q) in an.hs[lt.term].values.iter().zip(&an.pat.g_pos[lt.term]) {
                an.values[q] -= v;
            }
        }
        let mut values = std::mem::take(&mut an.values);
        form.congruence(&mut values, lambdas, false);
        for lt in &form.terms {
            for (&v, &q) in an.hs[lt.term].values.iter().zip(&an.pat.g_pos[lt.term]) {
                values[q] += v;
            }
        }
        let factored = an.chol.factor(&values);
        an.values = values;
        if factored.is_err() {
            return Err(EvalFail::NotPd);
        }
        let logdet_c = an.chol.log_det();
        let qy = an.qmul(&an.q.values, &an.y);
        let (n, p, dim) = (an.w.n, an.w.p, an.w.dim);
        let mut sol = an.w.tmul(&[qy.as_slice()]);
        form.apply(&mut sol, lambdas, true);
        an.solve(&mut sol, 1);
        let mut beta_cov = DMatrix::zeros(p, p);
        let mut start = 0;
        while start < p {
            let k = 64.min(p - start);
            let mut b = vec![0.0; dim * k];
            for c in 0..k {
                b[c * dim + start + c] = 1.0;
            }
            an.solve(&mut b, k);
            for c in 0..k {
                beta_cov
                    .column_mut(start + c)
                    .copy_from_slice(&b[c * dim..c * dim + p]);
            }
            start += k;
        }
        beta_cov = (&beta_cov + beta_cov.transpose()) * 0.5;
        // v̂ in `sol`; û = Λ v̂ in `u_sol`.
        let mut u_sol = sol.clone();
        form.apply(&mut u_sol, lambdas, false);
        let mut e = an.w.mul(&u_sol);
        e.iter_mut().zip(&an.y).for_each(|(w, y)| *w = y - *w);
        let mut ypy = an.qquad(&an.q.values, &e);
        let mut logdet_g = 0.0;
        for (t, h) in an.hs.iter().enumerate() {
            // D-weighted v̂ for a Λ-form term, G⁻¹-weighted û otherwise.
            let lambda_term = form.terms.iter().any(|lt| lt.term == t);
            let src = if lambda_term { &sol } else { &u_sol };
            ypy += quad_form(h, &h.values, &src[an.w.offsets[t]..an.w.offsets[t + 1]]);
            logdet_g += h.logdet;
        }
        let logdets = an.q.logdet + logdet_g + logdet_c;
        let (ll, ll_no_constant, df) = super::loglik(
            self.method,
            logdets,
            ypy,
            &beta_cov,
            (n, self.model.fixed.n(), p),
        )?;
        Ok(LambdaPoint {
            ll,
            ll_no_constant,
            beta: u_sol[..p].to_vec(),
            beta_cov,
            sol: u_sol,
            ypy,
            df,
        })
    }
}

/// Refuses a model error as a Λ-form failure (for callers that want a
/// [`RemlError`]).
pub(crate) fn eval_error(e: EvalFail) -> RemlError {
    match e {
        EvalFail::Model(e) => e,
        EvalFail::NotPd => RemlError::InvalidModel {
            reason: "the Λ-form mixed-model equations are not positive definite".into(),
        },
        EvalFail::SingularC => RemlError::InvalidModel {
            reason: "XᵀV⁻¹X is singular in the Λ form".into(),
        },
    }
}

/// The lower Cholesky factor of a positive semi-definite `s`, a vanishing
/// pivot (below `1e-14` of its diagonal) giving a zero column.
pub(crate) fn psd_cholesky(s: &DMatrix<f64>) -> DMatrix<f64> {
    let n = s.nrows();
    let mut l = DMatrix::<f64>::zeros(n, n);
    for i in 0..n {
        let d2 = s[(i, i)] - (0..i).map(|k| l[(i, k)] * l[(i, k)]).sum::<f64>();
        if d2.is_nan() || d2 <= 1e-14 * s[(i, i)].abs() {
            continue;
        }
        let d = d2.sqrt();
        l[(i, i)] = d;
        for j in i + 1..n {
            let v = s[(j, i)] - (0..i).map(|k| l[(j, k)] * l[(i, k)]).sum::<f64>();
            l[(j, i)] = v / d;
        }
    }
    l
}

impl Mme<'_> {
    /// The `Λ` form at the free parameters `free` of every unstructured
    /// block of a random term that is nearly singular there (relative
    /// pivot below [`IMPRECISE_PIVOT`]), with `Λ` the Cholesky factor of
    /// each `Σ`; `None` when there is none or the `Λ` form does not apply.
    pub(crate) fn lambda_at(&self, free: &[f64]) -> Option<(LambdaForm, Vec<DMatrix<f64>>)> {
        let params = self.model.terms.params();
        let k = params.names.len();
        let inf = f64::INFINITY;
        let plan = Plan::new(&params, &vec![-inf; k], &vec![inf; k], 1e-10, 1.0);
        let blocks: Vec<&Block> = plan
            .blocks
            .iter()
            .filter(|b| b.idx.iter().all(|&i| i < params.random))
            .filter(|b| {
                let p = min_relative_pivot(&b.sigma(free));
                p.is_nan() || p < IMPRECISE_PIVOT
            })
            .collect();
        if blocks.is_empty() {
            return None;
        }
        let form = self.lambda_form(&blocks).ok()??;
        let lambdas = form
            .terms
            .iter()
            .map(|lt| {
                let b = blocks.iter().find(|b| b.idx == lt.idx).expect("a block");
                psd_cholesky(&b.sigma(free))
            })
            .collect();
        Some((form, lambdas))
    }

    /// The BLUPs of every term at `free` in `Λ` form (`û = Λv̂`) when a
    /// block of `G` is nearly singular there, else `None`.
    pub(crate) fn lambda_blups(
        &mut self,
        free: &[f64],
    ) -> Result<Option<Vec<Vec<f64>>>, RemlError> {
        let Some((form, l)) = self.lambda_at(free) else {
            return Ok(None);
        };
        let lp = self.lambda_evaluate(&form, free, &l).map_err(eval_error)?;
        let o = &self.an().w.offsets;
        Ok(Some(
            (0..o.len() - 1)
                .map(|t| lp.sol[o[t]..o[t + 1]].to_vec())
                .collect(),
        ))
    }

    /// Post-estimation at `free` in `Λ` form when a block of `G` is nearly
    /// singular there (else `None`): BLUPs `û = Λv̂`, and PEV from the
    /// selected inverse of `C*` on the pattern of `C`, as `C⁻¹ = T C*⁻¹ Tᵀ`
    /// (per pair of level blocks `Λ_a C*^{ab} Λ_bᵀ`), continuous up to a
    /// singular `Σ`.
    pub(crate) fn lambda_post(&mut self, free: &[f64]) -> Result<Option<MixedPost>, RemlError> {
        let Some((form, l)) = self.lambda_at(free) else {
            return Ok(None);
        };
        let lp = self.lambda_evaluate(&form, free, &l).map_err(eval_error)?;
        let pt = Point {
            x: free.to_vec(),
            ll: lp.ll,
            ll_no_constant: lp.ll_no_constant,
            profiled_scale: lp.ypy / lp.df as f64,
            beta: lp.beta.clone(),
            beta_cov: lp.beta_cov.clone(),
        };
        let an = self.an_mut();
        let (dim, m) = (an.w.dim, an.w.offsets.len() - 1);
        // 1ᵀ C^{uu}_t 1 = (Tᵀ1_t)ᵀ C*⁻¹ (Tᵀ1_t).
        let mut b = vec![0.0; dim * m];
        for t in 0..m {
            let col = &mut b[t * dim..(t + 1) * dim];
            col[an.w.offsets[t]..an.w.offsets[t + 1]].fill(1.0);
            form.apply(col, &l, true);
        }
        let ones = b.clone();
        an.solve(&mut b, m);
        let sums: Vec<f64> = (0..m)
            .map(|t| {
                let r = t * dim..(t + 1) * dim;
                b[r.clone()].iter().zip(&ones[r]).map(|(a, c)| a * c).sum()
            })
            .collect();
        an.chol.selected_inverse_in_place();
        let mut zc = std::mem::take(&mut an.zc);
        an.chol.gather(&an.zmap, &mut zc);
        form.congruence(&mut zc, &l, true);
        let blups = (0..m)
            .map(|t| {
                let u = lp.sol[an.w.offsets[t]..an.w.offsets[t + 1]].to_vec();
                (u, an.term_pev(t, &an.hs[t], &zc, sums[t]))
            })
            .collect();
        an.zc = zc;
        Ok(Some(MixedPost::assemble(self.model, &pt, blups)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Table;
    use crate::reml::evaluator::Evaluator as _;
    use crate::reml::mme::AnalysisCache;
    use crate::reml::Method;

    fn sleepstudy() -> crate::reml::MixedModel {
        let t = Table::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/sleepstudy.csv"
        ))
        .unwrap();
        crate::datasets::sleepstudy_model(&t).unwrap()
    }

    /// At a well-conditioned `Σ` the `Λ` form is the same function as the
    /// `G⁻¹` form (REML and ML), with the same β, its covariance, BLUPs
    /// and PEV.
    #[test]
    fn lambda_form_equals_the_inverse_form_where_both_exist() {
        let m = sleepstudy();
        // Σ = [[600, 10], [10, 35]], σ² = 650 in the user's parameters.
        let x = [0.5 * 600f64.ln(), 10.0, 0.5 * 35f64.ln(), 0.5 * 650f64.ln()];
        let params = m.params();
        let k = params.names.len();
        let inf = f64::INFINITY;
        let plan = Plan::new(&params, &vec![-inf; k], &vec![inf; k], 1e-10, 1.0);
        let blocks: Vec<&Block> = plan.blocks.iter().collect();
        assert_eq!(blocks.len(), 1);
        let l = vec![psd_cholesky(&blocks[0].sigma(&x))];
        for method in [Method::Reml, Method::Ml] {
            let cache = AnalysisCache::default();
            let mut mme = Mme::new(m.parts(), &cache).unwrap().with_method(method);
            let form = mme.lambda_form(&blocks).unwrap().expect("Σ ⊗ I");
            let lp = mme.lambda_evaluate(&form, &x, &l).ok().unwrap();
            let pt = mme.evaluate(&x).ok().unwrap();
            assert!(
                (lp.ll - pt.ll).abs() < 1e-9,
                "{method:?}: {} vs {}",
                lp.ll,
                pt.ll
            );
            for (a, b) in lp.beta.iter().zip(&pt.beta) {
                assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()));
            }
            assert!((&lp.beta_cov - &pt.beta_cov).amax() < 1e-9 * pt.beta_cov.amax());
        }
        // Post-estimation: the Λ form is used below IMPRECISE_PIVOT only,
        // so compare its pieces by hand at this point.
        let cache = AnalysisCache::default();
        let post = Mme::new(m.parts(), &cache).unwrap().post(&x).unwrap();
        let mut mme = Mme::new(m.parts(), &cache).unwrap();
        let form = mme.lambda_form(&blocks).unwrap().unwrap();
        let lp = mme.lambda_evaluate(&form, &x, &l).ok().unwrap();
        let p = 2;
        for (a, b) in lp.sol[p..].iter().zip(&post.blups[0].values) {
            assert!((a - b).abs() < 1e-8 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }

    /// At a singular `Σ` (correlation 1, exactly) the `Λ` form evaluates and
    /// is continuous: `ℓ` there is the limit of `ℓ` at nearby regular `Σ`.
    #[test]
    fn lambda_form_is_continuous_at_a_singular_sigma() {
        let m = sleepstudy();
        let params = m.params();
        let k = params.names.len();
        let inf = f64::INFINITY;
        let plan = Plan::new(&params, &vec![-inf; k], &vec![inf; k], 1e-10, 1.0);
        let blocks: Vec<&Block> = plan.blocks.iter().collect();
        let x = [0.0, 0.0, 0.0, 0.5 * 650f64.ln()];
        let cache = AnalysisCache::default();
        let mut mme = Mme::new(m.parts(), &cache).unwrap();
        let form = mme.lambda_form(&blocks).unwrap().unwrap();
        let at = |mme: &mut Mme<'_>, d: f64| {
            let l = DMatrix::from_row_slice(2, 2, &[24.0, 0.0, 1.5, d]);
            mme.lambda_evaluate(&form, &x, &[l]).ok().unwrap().ll
        };
        let l0 = at(&mut mme, 0.0);
        let l1 = at(&mut mme, 1e-6);
        assert!(l0.is_finite() && (l0 - l1).abs() < 1e-8, "{l0} vs {l1}");
    }
}
