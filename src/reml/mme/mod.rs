//! The sparse backend: AI-REML on Henderson's mixed-model equations
//!
//! `C = [XᵀR⁻¹X, XᵀR⁻¹Z; ZᵀR⁻¹X, ZᵀR⁻¹Z + G⁻¹]` (order `p + Σ q_i`),
//!
//! factored by a sparse Cholesky whose pattern is analysed once. No
//! `n × n` matrix exists on this path: memory is `O(nnz(L) + n·(p + m))`.
//!
//! With `ŝ = [β̂; û] = C⁻¹WᵀR⁻¹y` and `ê = y − Wŝ`:
//!
//! - `ℓ = −½[(n − p) log 2π + log|R| + log|G| + log|C| + yᵀPy]` with the
//!   stable `yᵀPy = êᵀR⁻¹ê + ûᵀG⁻¹û`;
//! - for a parameter of `G` (with `Ḣ = ∂G⁻¹/∂θ`):
//!   `∂ℓ/∂θ = −½[∂log|G| + tr(C^{uu}Ḣ) + ûᵀḢû]`, working variate
//!   `f = Z Ġ G⁻¹ û = −Z G Ḣ û`;
//! - for a parameter of the diagonal `R`: `∂ℓ/∂θ = −½[tr(R⁻¹Ṙ) −
//!   Σ_i ṙ_i h_i / r_i² − Σ_i ṙ_i ê_i² / r_i²]` with `h_i = w_iᵀC⁻¹w_i`,
//!   working variate `f = Ṙ R⁻¹ ê`;
//! - `AI = ½(FᵀR⁻¹F − BᵀC⁻¹B)`, `B = WᵀR⁻¹F`: one multi-column solve.
//!
//! The traces need `C⁻¹` only on the pattern of `C`, which lies inside the
//! pattern of the factor: a selected inverse gives it.

mod design;
mod ordering;
mod pattern;
mod post;

use super::evaluator::{EvalFail, Evaluator, Point, ScoreAi};
use super::fixed::Fixed;
use super::mixed::{cov_err, MixedModel};
use super::{Method, RemlError};
use crate::sparse::{EntryMap, SparseCholesky, SparseError, SparseOptions};
use crate::{JacobianMethod, SparseInverse};
use design::RowDesign;
use faer::Mat;
use nalgebra::DMatrix;
use pattern::{quad_form, sym_matvec, Pattern};

/// What the last successful evaluation left behind.
struct State {
    x: Vec<f64>,
    /// `[β̂; û]`.
    sol: Vec<f64>,
    /// `ê = y − W ŝ`.
    e: Vec<f64>,
    /// The diagonal of `R` and its derivatives (free parameters of `R`).
    r: Vec<f64>,
    dr: Vec<Vec<f64>>,
    /// Each term's `G⁻¹`.
    hs: Vec<SparseInverse<f64>>,
    /// `C^{uβ}`, the `u` rows of the `β` columns of `C⁻¹` (`(dim − p) × p`,
    /// column major), and `(Xᵀ V⁻¹ X)⁻¹ = C^{ββ}`: for ML.
    c_ub: Vec<f64>,
    beta_cov: DMatrix<f64>,
}

/// The sparse evaluator of a [`MixedModel`].
pub(crate) struct Mme<'a> {
    model: &'a MixedModel,
    fx: &'a Fixed,
    w: RowDesign,
    pat: Pattern,
    chol: SparseCholesky,
    /// Positions of `C`'s pattern in the selected inverse.
    zmap: EntryMap,
    /// `C` on its pattern.
    values: Vec<f64>,
    /// Per term with a non-diagonal `G⁻¹`: its factorization, for `G v`.
    h_chol: Vec<Option<SparseCholesky>>,
    st: Option<State>,
    method: Method,
}

fn sparse_err(e: SparseError) -> RemlError {
    RemlError::InvalidModel {
        reason: format!("sparse mixed-model equations: {e}"),
    }
}

impl<'a> Mme<'a> {
    /// Analyses the model: `W` by rows, the pattern of `C`, the symbolic
    /// factorization.
    pub fn new(
        model: &'a MixedModel,
        fx: &'a Fixed,
        opts: &SparseOptions,
    ) -> Result<Self, RemlError> {
        let x0 = model.params().defaults;
        let parts = model.split(&x0);
        let unavailable = |reason: String| RemlError::BackendUnavailable {
            backend: "sparse",
            reason,
        };
        let mut hs = Vec::with_capacity(model.terms.len());
        for (t, xs) in model.terms.iter().zip(&parts) {
            match t.g.sparse_inverse_f64(xs) {
                Some(h) => hs.push(h.map_err(cov_err(&t.name))?),
                None => {
                    return Err(unavailable(format!(
                        "G of `{}` has no sparse inverse",
                        t.name
                    )))
                }
            }
        }
        let xr = parts[model.terms.len()];
        if model.residual.diagonal_f64(xr).is_none() {
            return Err(unavailable(
                "the residual is not diagonal by type".to_string(),
            ));
        }
        let w = RowDesign::new(fx, &model.terms)?;
        let pat = Pattern::new(&w, &hs);
        let chol = SparseCholesky::analyse_best(
            w.dim,
            &pat.col_ptr,
            &pat.row_idx,
            opts,
            &[ordering::terms_by_levels(&w)],
        )
        .map_err(sparse_err)?;
        let zmap = chol.entry_map(&pat.entries()).map_err(sparse_err)?;
        let mut h_chol = Vec::with_capacity(hs.len());
        for h in &hs {
            h_chol.push(if h.nnz() == h.n {
                None
            } else {
                Some(
                    SparseCholesky::analyse(h.n, &h.col_ptr, &h.row_idx, &SparseOptions::default())
                        .map_err(sparse_err)?,
                )
            });
        }
        let values = vec![0.0; pat.nnz()];
        Ok(Mme {
            model,
            fx,
            w,
            pat,
            chol,
            zmap,
            values,
            h_chol,
            st: None,
            method: Method::Reml,
        })
    }

    /// REML (the default) or ML.
    pub fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// The ML corrections: `tr(V⁻¹ V̇_k) − tr(P V̇_k)` for every parameter
    /// (`G` terms first, then `R`), and `A = V⁻¹X = R⁻¹(X + Z C^{uβ} S)`
    /// with `S = XᵀV⁻¹X`.
    fn ml_corrections(&self, st: &State) -> (Vec<f64>, Vec<Vec<f64>>) {
        let (n, p, dim) = (self.w.n, self.w.p, self.w.dim);
        let q = dim - p;
        let s = st
            .beta_cov
            .clone()
            .cholesky()
            .map(|c| c.inverse())
            .unwrap_or_else(|| DMatrix::from_element(p, p, f64::NAN));
        // US = C^{uβ} S, q × p
        let us: Vec<f64> = {
            let mut out = vec![0.0; q * p];
            for b in 0..p {
                for a in 0..p {
                    let sab = s[(a, b)];
                    for i in 0..q {
                        out[b * q + i] += st.c_ub[a * q + i] * sab;
                    }
                }
            }
            out
        };
        // A = R⁻¹(X + Z U S), n × p (column major)
        let mut a = vec![0.0; n * p];
        for i in 0..n {
            let (cols, vals) = self.w.row(i);
            for j in 0..p {
                let mut v = vals[j];
                for (&c, &w) in cols[p..].iter().zip(&vals[p..]) {
                    v += w * us[j * q + c as usize - p];
                }
                a[j * n + i] = v / st.r[i];
            }
        }
        let mut corr = Vec::new();
        for (t, h) in st.hs.iter().enumerate() {
            let (lo, hi) = (self.w.offsets[t] - p, self.w.offsets[t + 1] - p);
            let ut: Vec<&[f64]> = (0..p).map(|j| &st.c_ub[j * q + lo..j * q + hi]).collect();
            for dh in &h.jacobian {
                // −tr(Uᵀ Ḣ U S)
                let hu: Vec<Vec<f64>> = ut.iter().map(|u| sym_matvec(h, dh, u)).collect();
                let mut tr = 0.0;
                for aa in 0..p {
                    for bb in 0..p {
                        let m: f64 = ut[aa].iter().zip(&hu[bb]).map(|(x, y)| x * y).sum();
                        tr += m * s[(bb, aa)];
                    }
                }
                corr.push(-tr);
            }
        }
        for d in &st.dr {
            // Σ_i ṙ_i a_iᵀ C^{ββ} a_i
            let mut tr = 0.0;
            for i in 0..n {
                let mut qf = 0.0;
                for aa in 0..p {
                    for bb in 0..p {
                        qf += a[aa * n + i] * st.beta_cov[(aa, bb)] * a[bb * n + i];
                    }
                }
                tr += d[i] * qf;
            }
            corr.push(tr);
        }
        let a_cols = (0..p).map(|j| a[j * n..(j + 1) * n].to_vec()).collect();
        (corr, a_cols)
    }

    /// Fills `C` at the given `R` diagonal and `G⁻¹`s.
    fn assemble(&mut self, r: &[f64], hs: &[SparseInverse<f64>]) {
        let constant = r.iter().all(|&v| v == r[0]);
        if constant {
            let ri = 1.0 / r[0];
            for (v, &a) in self.values.iter_mut().zip(&self.pat.wtw) {
                *v = a * ri;
            }
        } else {
            self.values.fill(0.0);
            for (i, &ri) in r.iter().enumerate() {
                let (_, vals) = self.w.row(i);
                let sc = &self.pat.scatter[self.pat.scatter_ptr[i]..self.pat.scatter_ptr[i + 1]];
                let inv = 1.0 / ri;
                let mut q = 0;
                for a in 0..vals.len() {
                    let va = vals[a] * inv;
                    for &vb in &vals[..=a] {
                        self.values[sc[q] as usize] += va * vb;
                        q += 1;
                    }
                }
            }
        }
        for (h, pos) in hs.iter().zip(&self.pat.g_pos) {
            for (&v, &q) in h.values.iter().zip(pos) {
                self.values[q] += v;
            }
        }
    }

    /// Solves `C X = B` for the columns of `b` (`dim × k`, column major).
    fn solve(&self, b: &mut [f64], k: usize) {
        let dim = self.w.dim;
        let mut m = Mat::<f64>::from_fn(dim, k, |i, j| b[j * dim + i]);
        self.chol.solve_in_place(m.as_mut());
        for j in 0..k {
            b[j * dim..(j + 1) * dim].copy_from_slice(m.col_as_slice(j));
        }
    }

    fn ensure_at(&mut self, x: &[f64]) -> Result<(), RemlError> {
        if self.st.as_ref().map(|s| &s.x[..]) != Some(x) {
            super::dense::evaluate_or_error(self, x)?;
        }
        Ok(())
    }

    /// `h_i = w_iᵀ C⁻¹ w_i` for every row, from `C⁻¹` on the pattern.
    fn leverages(&self, zc: &[f64]) -> Vec<f64> {
        (0..self.w.n)
            .map(|i| {
                let (_, vals) = self.w.row(i);
                let sc = &self.pat.scatter[self.pat.scatter_ptr[i]..self.pat.scatter_ptr[i + 1]];
                let mut s = 0.0;
                let mut q = 0;
                for a in 0..vals.len() {
                    for b in 0..=a {
                        let f = if a == b { 1.0 } else { 2.0 };
                        s += f * vals[a] * vals[b] * zc[sc[q] as usize];
                        q += 1;
                    }
                }
                s
            })
            .collect()
    }
}

impl Evaluator for Mme<'_> {
    fn evaluate(&mut self, x: &[f64]) -> Result<Point, EvalFail> {
        self.st = None;
        let model = self.model;
        let fx = self.fx;
        let (n, p, dim) = (self.w.n, self.w.p, self.w.dim);
        let parts = model.split(x);
        let xr = parts[model.terms.len()];
        let (r, dr) = match model.residual.diagonal_f64(xr) {
            Some(d) => d.map_err(|e| EvalFail::Model(cov_err("residual")(e)))?,
            None => {
                return Err(EvalFail::Model(RemlError::BackendUnavailable {
                    backend: "sparse",
                    reason: "the residual is not diagonal by type".into(),
                }))
            }
        };
        if r.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
            return Err(EvalFail::NotPd);
        }
        let mut hs = Vec::with_capacity(model.terms.len());
        for (t, xs) in model.terms.iter().zip(&parts) {
            // `None` here (the structure had a sparse inverse at its
            // defaults) means a dense-inverse structure that is not
            // positive definite at this point.
            let h = match t.g.sparse_inverse_f64(xs) {
                Some(h) => h.map_err(|e| EvalFail::Model(cov_err(&t.name)(e)))?,
                None => return Err(EvalFail::NotPd),
            };
            if !h.logdet.is_finite() {
                return Err(EvalFail::NotPd);
            }
            hs.push(h);
        }
        self.assemble(&r, &hs);
        if self.chol.factor(&self.values).is_err() {
            return Err(EvalFail::NotPd);
        }
        let logdet_c = self.chol.log_det();
        // [WᵀR⁻¹y, e_1 … e_p]: the solution and the β block of C⁻¹.
        let rinv: Vec<f64> = r.iter().map(|v| 1.0 / v).collect();
        let mut rhs = self.w.tmul_weighted(&rinv, &[&fx.y]);
        rhs.resize(dim * (1 + p), 0.0);
        for j in 0..p {
            rhs[(1 + j) * dim + j] = 1.0;
        }
        self.solve(&mut rhs, 1 + p);
        let sol = rhs[..dim].to_vec();
        let beta_cov = DMatrix::from_fn(p, p, |i, j| {
            0.5 * (rhs[(1 + j) * dim + i] + rhs[(1 + i) * dim + j])
        });
        let c_ub: Vec<f64> = (0..p)
            .flat_map(|j| rhs[(1 + j) * dim + p..(2 + j) * dim].iter().copied())
            .collect();
        let ws = self.w.mul(&sol);
        let e: Vec<f64> = fx.y.iter().zip(&ws).map(|(a, b)| a - b).collect();
        let mut ypy: f64 = e.iter().zip(&rinv).map(|(a, b)| a * a * b).sum();
        let mut logdet_g = 0.0;
        for (t, h) in hs.iter().enumerate() {
            let u = &sol[self.w.offsets[t]..self.w.offsets[t + 1]];
            ypy += quad_form(h, &h.values, u);
            logdet_g += h.logdet;
        }
        let logdet_r: f64 = r.iter().map(|v| v.ln()).sum();
        let (ll_no_constant, df) = match self.method {
            // log|V| = log|R| + log|G| + log|C| − log|XᵀV⁻¹X|
            Method::Ml => {
                let chol = beta_cov.clone().cholesky().ok_or(EvalFail::SingularC)?;
                let logdet_bc: f64 = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
                (-0.5 * (logdet_r + logdet_g + logdet_c + logdet_bc + ypy), n)
            }
            _ => (-0.5 * (logdet_r + logdet_g + logdet_c + ypy), n - p),
        };
        let ll = ll_no_constant - 0.5 * df as f64 * (2.0 * std::f64::consts::PI).ln();
        if !ll.is_finite() {
            return Err(EvalFail::NotPd);
        }
        let beta = sol[..p].to_vec();
        self.st = Some(State {
            x: x.to_vec(),
            sol,
            e,
            r,
            dr,
            hs,
            c_ub,
            beta_cov: beta_cov.clone(),
        });
        Ok(Point {
            x: x.to_vec(),
            ll,
            ll_no_constant,
            beta,
            beta_cov,
        })
    }

    fn score_and_ai(&mut self, at: &Point, _method: JacobianMethod) -> Result<ScoreAi, RemlError> {
        self.ensure_at(&at.x)?;
        self.chol.selected_inverse();
        let mut zc = vec![0.0; self.pat.nnz()];
        self.chol.gather(&self.zmap, &mut zc);
        let st = self.st.take().expect("evaluated above");
        let n = self.w.n;
        let k = at.x.len();
        let mut score = Vec::with_capacity(k);
        let mut f: Vec<Vec<f64>> = Vec::with_capacity(k);
        for (t, h) in st.hs.iter().enumerate() {
            let (lo, hi) = (self.w.offsets[t], self.w.offsets[t + 1]);
            let u = &st.sol[lo..hi];
            let pos = &self.pat.g_pos[t];
            if let Some(c) = self.h_chol[t].as_mut() {
                c.factor(&h.values).map_err(|e| RemlError::InvalidModel {
                    reason: format!(
                        "G⁻¹ of `{}` is not positive definite ({e})",
                        self.model.terms[t].name
                    ),
                })?;
            }
            for (kk, dh) in h.jacobian.iter().enumerate() {
                let mut trace = 0.0;
                for (&q, &d) in pos.iter().zip(dh) {
                    trace += zc[q] * d;
                }
                // off-diagonal entries count twice
                for j in 0..h.n {
                    for q in h.col_ptr[j] + 1..h.col_ptr[j + 1] {
                        trace += zc[pos[q]] * dh[q];
                    }
                }
                let quad = quad_form(h, dh, u);
                score.push(-0.5 * (h.logdet_jacobian[kk] + trace + quad));
                // f = −Z G (Ḣ û)
                let v = sym_matvec(h, dh, u);
                let gv: Vec<f64> = match self.h_chol[t].as_ref() {
                    None => v.iter().zip(&h.values).map(|(a, b)| a / b).collect(),
                    Some(c) => {
                        let mut m = Mat::<f64>::from_fn(h.n, 1, |i, _| v[i]);
                        c.solve_in_place(m.as_mut());
                        m.col_as_slice(0).to_vec()
                    }
                };
                let mut zf = self.w.term_mul(t, &gv);
                zf.iter_mut().for_each(|v| *v = -*v);
                f.push(zf);
            }
        }
        let rinv: Vec<f64> = st.r.iter().map(|v| 1.0 / v).collect();
        if !st.dr.is_empty() {
            let lev = self.leverages(&zc);
            for d in &st.dr {
                let mut tr1 = 0.0;
                let mut tr2 = 0.0;
                let mut quad = 0.0;
                let mut fc = Vec::with_capacity(n);
                for i in 0..n {
                    let (di, ri, ei) = (d[i], rinv[i], st.e[i]);
                    tr1 += di * ri;
                    tr2 += di * ri * ri * lev[i];
                    quad += di * ei * ei * ri * ri;
                    fc.push(di * ei * ri);
                }
                score.push(-0.5 * (tr1 - tr2 - quad));
                f.push(fc);
            }
        }
        // AI = ½ (FᵀR⁻¹F − BᵀC⁻¹B), B = WᵀR⁻¹F
        let fr: Vec<&[f64]> = f.iter().map(|c| c.as_slice()).collect();
        let b = self.w.tmul_weighted(&rinv, &fr);
        let mut cb = b.clone();
        self.solve(&mut cb, k);
        let dim = self.w.dim;
        let ai = DMatrix::from_fn(k, k, |a, c| {
            let ff: f64 = (0..n).map(|i| f[a][i] * rinv[i] * f[c][i]).sum();
            let bb: f64 = (0..dim).map(|i| b[a * dim + i] * cb[c * dim + i]).sum();
            0.5 * (ff - bb)
        });
        let mut ai = DMatrix::from_fn(k, k, |a, c| 0.5 * (ai[(a, c)] + ai[(c, a)]));
        if self.method == Method::Ml {
            // tr(V⁻¹V̇) = tr(PV̇) + correction; FᵀV⁻¹F = FᵀPF + (AᵀF)ᵀ C^{ββ} (AᵀF).
            let (corr, a) = self.ml_corrections(&st);
            for (sc, c) in score.iter_mut().zip(&corr) {
                *sc -= 0.5 * c;
            }
            let p = self.w.p;
            let af = DMatrix::from_fn(p, k, |j, c| (0..n).map(|i| a[j][i] * f[c][i]).sum::<f64>());
            let extra = af.transpose() * &st.beta_cov * &af;
            ai += 0.5 * extra;
        }
        self.st = Some(st);
        Ok(ScoreAi { score, ai })
    }

    fn describe(&self) -> String {
        format!(
            "sparse MME (order {}, nnz(C) {}, nnz(L) {}, {})",
            self.w.dim,
            self.pat.nnz(),
            self.chol.nnz_l(),
            if self.chol.is_supernodal() {
                "supernodal"
            } else {
                "simplicial"
            }
        )
    }
}
