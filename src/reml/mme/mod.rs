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
    /// `Q = R⁻¹` with `∂Q/∂x_k`, `log|R|` and its derivatives.
    q: SparseInverse<f64>,
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
    /// For a non-diagonal `Q`: its factorization, for `R v` (factored at
    /// every evaluation, which also checks that `Q` is positive definite).
    q_chol: Option<SparseCholesky>,
    /// `n` ones (`Wᵀ v` through the weighted product).
    ones: Vec<f64>,
    /// The response, with a 0 for each missing cell of a completed residual.
    y: Vec<f64>,
    /// Missing cells of a completed residual (rows `n..` of `W`, and as
    /// many indicator fixed effects after the terms' unknowns).
    missing: usize,
    st: Option<State>,
    method: Method,
}

/// Why an ML fit with a completed residual cannot go to the sparse backend.
pub(crate) const ML_COMPLETED: &str =
    "ML with a residual completed to more cells (a field trial with \
     missing plots) is not invariant under the completion; the dense backend fits it";

/// Why a residual cannot go to the sparse backend.
pub(crate) const RESIDUAL_UNAVAILABLE: &str =
    "the residual has no sparse inverse (it is neither diagonal by type nor has \
     Structure::sparse_inverse; isotropic spatial kernels have dense inverses)";

/// `Q = R⁻¹` of the residual at its free parameters `xr` and the number of
/// missing cells it was completed with: from the diagonal when the residual
/// is diagonal by type (also for a model that gives a diagonal but no sparse
/// inverse), else its sparse inverse, else its completed sparse inverse
/// (rows `n..` are then the missing cells); `None` if it has none.
///
/// A completed residual is fitted exactly by augmenting the data with one
/// row per missing cell (`y = 0`, `X` and `Z` rows zero) and one fixed
/// effect per missing cell (its indicator): with `X* = [X D]`,
/// `log|V_g| + log|X*ᵀV_g⁻¹X*| = log|V| + log|XᵀV⁻¹X|` (a Schur complement
/// on the indicator block), `y*ᵀP*y* = yᵀPy`, `n* − p* = n − p`, and the
/// `β` block of `C⁻¹` is `(XᵀV⁻¹X)⁻¹`, so REML, β, its covariance, BLUPs and
/// PEV are those of the observed data. ML is not invariant this way and is
/// refused (the dense backend fits it).
pub(crate) fn residual_inverse(
    model: &MixedModel,
    xr: &[f64],
) -> Option<Result<(SparseInverse<f64>, usize), crate::CovError>> {
    if let Some(d) = model.residual.diagonal_f64(xr) {
        return Some(d.map(|(r, dr)| (SparseInverse::from_diagonal(&r, &dr), 0)));
    }
    if let Some(q) = model.residual.sparse_inverse_f64(xr) {
        return Some(q.map(|q| (q, 0)));
    }
    // Sparse only on completed cells (a field trial with missing plots):
    // the observed rows first, in data order, then the missing cells.
    Some(
        model
            .residual
            .sparse_inverse_completed_f64(xr)?
            .map(|(q, cells)| {
                let mut to = vec![usize::MAX; q.n];
                for (i, &c) in cells.iter().enumerate() {
                    to[c] = i;
                }
                let missing = to.iter_mut().filter(|t| **t == usize::MAX);
                for (next, t) in (cells.len()..).zip(missing) {
                    *t = next;
                }
                (q.relabel(&to), q.n - cells.len())
            }),
    )
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
        let (q, missing) = match residual_inverse(model, xr) {
            Some(q) => q.map_err(cov_err("residual"))?,
            None => return Err(unavailable(RESIDUAL_UNAVAILABLE.to_string())),
        };
        let mut w = RowDesign::new(fx, &model.terms)?;
        w.complete(missing);
        let mut y = fx.y.clone();
        y.resize(w.n, 0.0);
        let pat = Pattern::new(&w, &hs, &q).ok_or_else(|| {
            unavailable("the sparse inverse of the residual lacks a diagonal entry".into())
        })?;
        let q_chol = if q.nnz() == q.n {
            None
        } else {
            Some(
                SparseCholesky::analyse(q.n, &q.col_ptr, &q.row_idx, &SparseOptions::default())
                    .map_err(sparse_err)?,
            )
        };
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
        let rows = w.n;
        Ok(Mme {
            model,
            fx,
            w,
            pat,
            chol,
            zmap,
            values,
            h_chol,
            q_chol,
            ones: vec![1.0; rows],
            y,
            missing,
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
        // M = X + Z U S, n × p (column major); A = Q M
        let mut m = vec![0.0; n * p];
        for i in 0..n {
            let (cols, vals) = self.w.row(i);
            for j in 0..p {
                let mut v = vals[j];
                for (&c, &w) in cols[p..].iter().zip(&vals[p..]) {
                    v += w * us[j * q + c as usize - p];
                }
                m[j * n + i] = v;
            }
        }
        let rq = &st.q;
        let m_cols: Vec<&[f64]> = (0..p).map(|j| &m[j * n..(j + 1) * n]).collect();
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
        for dq in &rq.jacobian {
            // tr(AᵀṘA C^{ββ}) with ṘA = −RḢRA = −RḢM and AᵀR = Mᵀ:
            // −Σ_ab (MᵀḢM)_ab C^{ββ}_ab (Σ_i ṙ_i a_iᵀC^{ββ}a_i for a diagonal R)
            let hm: Vec<Vec<f64>> = m_cols.iter().map(|c| sym_matvec(rq, dq, c)).collect();
            let mut tr = 0.0;
            for (aa, ma) in m_cols.iter().enumerate() {
                for (bb, hb) in hm.iter().enumerate() {
                    let mhm: f64 = ma.iter().zip(hb).map(|(x, y)| x * y).sum();
                    tr -= mhm * st.beta_cov[(aa, bb)];
                }
            }
            corr.push(tr);
        }
        let a_cols = m_cols
            .iter()
            .map(|c| sym_matvec(rq, &rq.values, c))
            .collect();
        (corr, a_cols)
    }

    /// Fills `C` at the given `Q = R⁻¹` and `G⁻¹`s.
    fn assemble(&mut self, rq: &SparseInverse<f64>, hs: &[SparseInverse<f64>]) {
        let d0 = rq.values[self.pat.q_diag[0]];
        let constant =
            self.pat.q_off.is_empty() && self.pat.q_diag.iter().all(|&k| rq.values[k] == d0);
        if constant {
            for (v, &a) in self.values.iter_mut().zip(&self.pat.wtw) {
                *v = a * d0;
            }
        } else {
            self.values.fill(0.0);
            for (i, &k) in self.pat.q_diag.iter().enumerate() {
                let (_, vals) = self.w.row(i);
                let sc = &self.pat.scatter[self.pat.scatter_ptr[i]..self.pat.scatter_ptr[i + 1]];
                let inv = rq.values[k];
                let mut q = 0;
                for a in 0..vals.len() {
                    let va = vals[a] * inv;
                    for &vb in &vals[..=a] {
                        self.values[sc[q] as usize] += va * vb;
                        q += 1;
                    }
                }
            }
            // Q_ij, i > j: v·w_ix·w_jy at lower(x, y) for every pair, twice
            // when x = y (the pair (j, i) gives the transpose).
            for (e, &(k, i, j)) in self.pat.q_off.iter().enumerate() {
                let v = rq.values[k];
                let (ci, vi) = self.w.row(i as usize);
                let (cj, vj) = self.w.row(j as usize);
                let sc = &self.pat.cross[self.pat.cross_ptr[e]..self.pat.cross_ptr[e + 1]];
                let mut q = 0;
                for (&x, &wx) in ci.iter().zip(vi) {
                    let a = v * wx;
                    for (&y, &wy) in cj.iter().zip(vj) {
                        let f = if x == y { 2.0 } else { 1.0 };
                        self.values[sc[q] as usize] += f * a * wy;
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
        self.chol
            .solve_in_place(faer::MatMut::from_column_major_slice_mut(b, dim, k));
    }

    fn ensure_at(&mut self, x: &[f64]) -> Result<(), RemlError> {
        if self.st.as_ref().map(|s| &s.x[..]) != Some(x) {
            super::dense::evaluate_or_error(self, x)?;
        }
        Ok(())
    }

    /// `w_iᵀ C⁻¹ w_j` for every off-diagonal entry `(i, j)` of `Q`, from
    /// `C⁻¹` on the pattern.
    fn cross_leverages(&self, zc: &[f64]) -> Vec<f64> {
        self.pat
            .q_off
            .iter()
            .enumerate()
            .map(|(e, &(_, i, j))| {
                let (_, vi) = self.w.row(i as usize);
                let (_, vj) = self.w.row(j as usize);
                let sc = &self.pat.cross[self.pat.cross_ptr[e]..self.pat.cross_ptr[e + 1]];
                let mut s = 0.0;
                let mut q = 0;
                for &wx in vi {
                    for &wy in vj {
                        s += wx * wy * zc[sc[q] as usize];
                        q += 1;
                    }
                }
                s
            })
            .collect()
    }

    /// `M v` for a symmetric `M` on `Q`'s pattern (elementwise when `Q` is
    /// diagonal: one entry per column, the diagonal).
    fn qmul(&self, rq: &SparseInverse<f64>, m: &[f64], v: &[f64]) -> Vec<f64> {
        if self.q_chol.is_none() {
            m.iter().zip(v).map(|(a, b)| a * b).collect()
        } else {
            sym_matvec(rq, m, v)
        }
    }

    /// `vᵀ M v` for a symmetric `M` on `Q`'s pattern.
    fn qquad(&self, rq: &SparseInverse<f64>, m: &[f64], v: &[f64]) -> f64 {
        if self.q_chol.is_none() {
            m.iter().zip(v).map(|(a, b)| a * b * b).sum()
        } else {
            quad_form(rq, m, v)
        }
    }

    /// `R v` for the columns `v`: a solve with the factor of `Q`, or a
    /// division by the diagonal.
    fn r_mul(&self, rq: &SparseInverse<f64>, v: &[f64]) -> Vec<f64> {
        match &self.q_chol {
            None => v
                .iter()
                .zip(&self.pat.q_diag)
                .map(|(a, &k)| a / rq.values[k])
                .collect(),
            Some(c) => {
                let mut m = Mat::<f64>::from_fn(v.len(), 1, |i, _| v[i]);
                c.solve_in_place(m.as_mut());
                m.col_as_slice(0).to_vec()
            }
        }
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
        // `None` here (the residual had a sparse inverse at its defaults)
        // means a dense-inverse structure that is not positive definite.
        let rq = match residual_inverse(model, xr) {
            Some(q) => q.map_err(|e| EvalFail::Model(cov_err("residual")(e)))?.0,
            None => return Err(EvalFail::NotPd),
        };
        if self.missing > 0 && self.method == Method::Ml {
            return Err(EvalFail::Model(RemlError::BackendUnavailable {
                backend: "sparse",
                reason: ML_COMPLETED.into(),
            }));
        }
        if !rq.logdet.is_finite()
            || self
                .pat
                .q_diag
                .iter()
                .any(|&k| !(rq.values[k] > 0.0 && rq.values[k].is_finite()))
        {
            return Err(EvalFail::NotPd);
        }
        if let Some(c) = self.q_chol.as_mut() {
            if c.factor(&rq.values).is_err() {
                return Err(EvalFail::NotPd);
            }
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
        self.assemble(&rq, &hs);
        if self.chol.factor(&self.values).is_err() {
            return Err(EvalFail::NotPd);
        }
        let logdet_c = self.chol.log_det();
        // [WᵀQy, e_1 … e_p]: the solution and the β block of C⁻¹.
        let qy = self.qmul(&rq, &rq.values, &self.y);
        let mut rhs = self.w.tmul_weighted(&self.ones, &[&qy]);
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
        let e: Vec<f64> = self.y.iter().zip(&ws).map(|(a, b)| a - b).collect();
        let mut ypy: f64 = self.qquad(&rq, &rq.values, &e);
        let mut logdet_g = 0.0;
        for (t, h) in hs.iter().enumerate() {
            let u = &sol[self.w.offsets[t]..self.w.offsets[t + 1]];
            ypy += quad_form(h, &h.values, u);
            logdet_g += h.logdet;
        }
        let logdet_r = rq.logdet;
        let (ll_no_constant, df) = match self.method {
            // log|V| = log|R| + log|G| + log|C| − log|XᵀV⁻¹X|
            Method::Ml => {
                let chol = beta_cov.clone().cholesky().ok_or(EvalFail::SingularC)?;
                let logdet_bc: f64 = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
                (-0.5 * (logdet_r + logdet_g + logdet_c + logdet_bc + ypy), n)
            }
            // n − p of the observed data (the completion adds as many rows
            // as fixed effects).
            _ => (-0.5 * (logdet_r + logdet_g + logdet_c + ypy), fx.n() - p),
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
            q: rq,
            hs,
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
        let rq = &st.q;
        if rq.n_params() > 0 {
            let lev = self.leverages(&zc);
            let cross = self.cross_leverages(&zc);
            for (kk, dq) in rq.jacobian.iter().enumerate() {
                // tr(C⁻¹WᵀḢW) = Σ_i Ḣ_ii h_i + 2 Σ_{i>j} Ḣ_ij w_iᵀC⁻¹w_j
                let mut trace = 0.0;
                for (&k, &h) in self.pat.q_diag.iter().zip(&lev) {
                    trace += dq[k] * h;
                }
                for (&(k, _, _), &c) in self.pat.q_off.iter().zip(&cross) {
                    trace += 2.0 * dq[k] * c;
                }
                let quad = self.qquad(rq, dq, &st.e);
                score.push(-0.5 * (rq.logdet_jacobian[kk] + trace + quad));
                // f = ṘQê = −R(Ḣê)
                let he = self.qmul(rq, dq, &st.e);
                let mut fc = self.r_mul(rq, &he);
                fc.iter_mut().for_each(|v| *v = -*v);
                f.push(fc);
            }
        }
        // AI = ½ (FᵀQF − BᵀC⁻¹B), B = WᵀQF
        let qf: Vec<Vec<f64>> = f.iter().map(|c| self.qmul(rq, &rq.values, c)).collect();
        let fr: Vec<&[f64]> = qf.iter().map(|c| c.as_slice()).collect();
        let b = self.w.tmul_weighted(&self.ones, &fr);
        let mut cb = b.clone();
        self.solve(&mut cb, k);
        let dim = self.w.dim;
        let ai = DMatrix::from_fn(k, k, |a, c| {
            let ff: f64 = (0..n).map(|i| f[a][i] * qf[c][i]).sum();
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
