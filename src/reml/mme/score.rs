//! The REML (or ML) score and Average-Information matrix on the sparse
//! backend, from the selected inverse of `C` at an evaluated point (see the
//! formulas in the module above).

use super::analysis::Analysis;
use super::pattern::{quad_form, sym_matvec};
use super::State;
use crate::reml::evaluator::ScoreAi;
use crate::reml::terms::Term;
use crate::reml::RemlError;
use faer::MatMut;
use nalgebra::DMatrix;

impl Analysis {
    /// Score and AI at the point `st` was evaluated at (`C` factored there).
    ///
    /// The working variates and the AI matrix come first (their solve needs
    /// the factor); then the selected inverse overwrites the factor
    /// ([`SparseCholesky::selected_inverse_in_place`](crate::sparse::SparseCholesky::selected_inverse_in_place):
    /// one copy of a crossed model's dense block, not two) and gives the
    /// traces.
    pub fn score_and_ai(
        &mut self,
        terms: &[Term],
        st: &State,
        ml: bool,
    ) -> Result<ScoreAi, RemlError> {
        let k = st.x.len();
        // Per parameter, `∂log|·|` and the quadratic form of the score.
        let mut parts = Vec::with_capacity(k);
        let mut f: Vec<Vec<f64>> = Vec::with_capacity(k);
        self.g_variates(terms, st, &mut parts, &mut f)?;
        self.r_variates(st, &mut parts, &mut f);
        let mut ai = self.ai_matrix(&st.q, &f);
        let mut ml_score = Vec::new();
        if ml {
            // tr(V⁻¹V̇) = tr(PV̇) + correction; FᵀV⁻¹F = FᵀPF + (AᵀF)ᵀ C^{ββ} (AᵀF).
            let (corr, a) = self.ml_corrections(st);
            ml_score = corr;
            let (n, p) = (self.w.n, self.w.p);
            let af = DMatrix::from_fn(p, k, |j, c| (0..n).map(|i| a[j][i] * f[c][i]).sum::<f64>());
            let extra = af.transpose() * &st.beta_cov * &af;
            ai += 0.5 * extra;
        }
        drop(f);
        self.chol.selected_inverse_in_place();
        let mut zc = std::mem::take(&mut self.zc);
        self.chol.gather(&self.zmap, &mut zc);
        let mut traces = self.g_traces(st, &zc);
        traces.extend(self.r_traces(st, &zc));
        self.zc = zc;
        let mut score: Vec<f64> = parts
            .iter()
            .zip(&traces)
            .map(|(&(logdet, quad), &trace)| -0.5 * (logdet + trace + quad))
            .collect();
        for (sc, c) in score.iter_mut().zip(&ml_score) {
            *sc -= 0.5 * c;
        }
        Ok(ScoreAi { score, ai })
    }

    /// `tr(C^{uu}Ḣ)` for every parameter of every `G`.
    fn g_traces(&self, st: &State, zc: &[f64]) -> Vec<f64> {
        let mut out = Vec::new();
        for (t, h) in st.hs.iter().enumerate() {
            let pos = &self.pat.g_pos[t];
            for dh in &h.jacobian {
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
                out.push(trace);
            }
        }
        out
    }

    /// The parts of the scores (`∂log|G|`, `ûᵀḢû`) and the working variates
    /// of the parameters of every `G`:
    /// `∂ℓ/∂θ = −½[∂log|G| + tr(C^{uu}Ḣ) + ûᵀḢû]`, `f = −Z G Ḣ û`.
    fn g_variates(
        &mut self,
        terms: &[Term],
        st: &State,
        parts: &mut Vec<(f64, f64)>,
        f: &mut Vec<Vec<f64>>,
    ) -> Result<(), RemlError> {
        for (t, h) in st.hs.iter().enumerate() {
            let (lo, hi) = (self.w.offsets[t], self.w.offsets[t + 1]);
            let u = &st.sol[lo..hi];
            if let Some(c) = self.h_chol[t].as_mut() {
                c.factor(&h.values).map_err(|e| RemlError::InvalidModel {
                    reason: format!("G⁻¹ of `{}` is not positive definite ({e})", terms[t].name),
                })?;
            }
            for (kk, dh) in h.jacobian.iter().enumerate() {
                let quad = quad_form(h, dh, u);
                parts.push((h.logdet_jacobian[kk], quad));
                // f = −Z G (Ḣ û)
                let mut gv = sym_matvec(h, dh, u);
                match self.h_chol[t].as_ref() {
                    None => gv.iter_mut().zip(&h.values).for_each(|(a, b)| *a /= b),
                    Some(c) => {
                        c.solve_in_place(MatMut::from_column_major_slice_mut(&mut gv, h.n, 1))
                    }
                }
                let mut zf = self.w.term_mul(t, &gv);
                zf.iter_mut().for_each(|v| *v = -*v);
                f.push(zf);
            }
        }
        Ok(())
    }

    /// The parts of the scores (`∂log|R|`, `êᵀḢê`) and the working
    /// variates of the parameters of `R`:
    /// `∂ℓ/∂θ = −½[∂log|R| + tr(C⁻¹WᵀḢW) + êᵀḢê]`, `f = −R(Ḣê)`.
    fn r_variates(&self, st: &State, parts: &mut Vec<(f64, f64)>, f: &mut Vec<Vec<f64>>) {
        let rq = &st.q;
        for (kk, dq) in rq.jacobian.iter().enumerate() {
            let quad = self.qquad(rq, dq, &st.e);
            parts.push((rq.logdet_jacobian[kk], quad));
            // f = ṘQê = −R(Ḣê)
            let he = self.qmul(rq, dq, &st.e);
            let mut fc = self.r_mul(rq, &he);
            fc.iter_mut().for_each(|v| *v = -*v);
            f.push(fc);
        }
    }

    /// `tr(C⁻¹WᵀḢW)` for every parameter of `R`.
    fn r_traces(&self, st: &State, zc: &[f64]) -> Vec<f64> {
        let rq = &st.q;
        if rq.n_params() == 0 {
            return Vec::new();
        }
        // Per-row leverages only when some derivative of `Q` is not a
        // multiple of the identity: otherwise `Σ_i Ḣ_ii h_i = Ḣ_00 tr(C⁻¹WᵀW)`.
        let diag = &self.pat.q_diag;
        let uniform = |dq: &[f64]| diag.iter().all(|&k| dq[k] == dq[diag[0]]);
        let per_row = !self.pat.q_off.is_empty() || !rq.jacobian.iter().all(|d| uniform(d));
        let lev = if per_row {
            self.leverages(zc)
        } else {
            Vec::new()
        };
        let total = if per_row { 0.0 } else { self.pat.trace_wtw(zc) };
        let cross = self.cross_leverages(zc);
        rq.jacobian
            .iter()
            .map(|dq| {
                // tr(C⁻¹WᵀḢW) = Σ_i Ḣ_ii h_i + 2 Σ_{i>j} Ḣ_ij w_iᵀC⁻¹w_j
                let mut trace = 0.0;
                if per_row {
                    for (&k, &h) in diag.iter().zip(&lev) {
                        trace += dq[k] * h;
                    }
                } else {
                    trace = dq[diag[0]] * total;
                }
                for (&(k, _, _), &c) in self.pat.q_off.iter().zip(&cross) {
                    trace += 2.0 * dq[k] * c;
                }
                trace
            })
            .collect()
    }

    /// `AI = ½ (FᵀQF − BᵀC⁻¹B)`, `B = WᵀQF`: one multi-column solve. For a
    /// diagonal `Q`, `QF` is never formed (`B = Wᵀ diag(q) F`).
    fn ai_matrix(&self, rq: &crate::SparseInverse<f64>, f: &[Vec<f64>]) -> DMatrix<f64> {
        let (n, dim, k) = (self.w.n, self.w.dim, f.len());
        let fr: Vec<&[f64]> = f.iter().map(|c| c.as_slice()).collect();
        let (b, qf) = if self.q_chol.is_none() {
            (self.w.tmul_weighted(&rq.values, &fr), Vec::new())
        } else {
            let qf: Vec<Vec<f64>> = f.iter().map(|c| self.qmul(rq, &rq.values, c)).collect();
            let qr: Vec<&[f64]> = qf.iter().map(|c| c.as_slice()).collect();
            (self.w.tmul(&qr), qf)
        };
        let mut cb = b.clone();
        self.solve(&mut cb, k);
        let ai = DMatrix::from_fn(k, k, |a, c| {
            let ff: f64 = if qf.is_empty() {
                (0..n).map(|i| f[a][i] * (rq.values[i] * f[c][i])).sum()
            } else {
                (0..n).map(|i| f[a][i] * qf[c][i]).sum()
            };
            let bb: f64 = (0..dim).map(|i| b[a * dim + i] * cb[c * dim + i]).sum();
            0.5 * (ff - bb)
        });
        DMatrix::from_fn(k, k, |a, c| 0.5 * (ai[(a, c)] + ai[(c, a)]))
    }
}
