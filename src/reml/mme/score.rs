//! The REML (or ML) score and Average-Information matrix on the sparse
//! backend, from the selected inverse of `C` at an evaluated point (see the
//! formulas in the module above).

use super::analysis::Analysis;
use super::pattern::{quad_form, sym_matvec_into};
use super::State;
use crate::reml::evaluator::ScoreAi;
use crate::reml::terms::Term;
use crate::reml::RemlError;
use faer::MatMut;
use nalgebra::DMatrix;

impl Analysis {
    /// Score and AI at the point `st` was evaluated at (`C` factored there).
    pub fn score_and_ai(
        &mut self,
        terms: &[Term],
        st: &State,
        ml: bool,
    ) -> Result<ScoreAi, RemlError> {
        self.chol.selected_inverse();
        let mut zc = std::mem::take(&mut self.zc);
        self.chol.gather(&self.zmap, &mut zc);
        let k = st.x.len();
        let mut score = Vec::with_capacity(k);
        let mut f: Vec<Vec<f64>> = Vec::with_capacity(k);
        let g = self.g_scores(terms, st, &zc, &mut score, &mut f);
        if g.is_ok() {
            self.r_scores(st, &zc, &mut score, &mut f);
        }
        self.zc = zc;
        g?;
        let mut ai = self.ai_matrix(&f);
        if ml {
            // tr(V⁻¹V̇) = tr(PV̇) + correction; FᵀV⁻¹F = FᵀPF + (AᵀF)ᵀ C^{ββ} (AᵀF).
            let (corr, a) = self.ml_corrections(st);
            for (sc, c) in score.iter_mut().zip(&corr) {
                *sc -= 0.5 * c;
            }
            let (n, p) = (self.w.n, self.w.p);
            let af = DMatrix::from_fn(p, k, |j, c| (0..n).map(|i| a[j][i] * f[c][i]).sum::<f64>());
            let extra = af.transpose() * &st.beta_cov * &af;
            ai += 0.5 * extra;
        }
        Ok(ScoreAi { score, ai })
    }

    /// Scores and working variates of the parameters of every `G`:
    /// `∂ℓ/∂θ = −½[∂log|G| + tr(C^{uu}Ḣ) + ûᵀḢû]`, `f = −Z G Ḣ û`.
    fn g_scores(
        &mut self,
        terms: &[Term],
        st: &State,
        zc: &[f64],
        score: &mut Vec<f64>,
        f: &mut Vec<Vec<f64>>,
    ) -> Result<(), RemlError> {
        for (t, h) in self.hs.iter().enumerate() {
            let (lo, hi) = (self.w.offsets[t], self.w.offsets[t + 1]);
            let u = &st.sol[lo..hi];
            let pos = &self.pat.g_pos[t];
            if let Some(c) = self.h_chol[t].as_mut() {
                c.factor(&h.values)
                    .map_err(|e| RemlError::NearlySingularG {
                        term: terms[t].name.clone(),
                        detail: format!("its inverse is not positive definite: {e}"),
                    })?;
            }
            // G Ḣ_k û for every parameter, solved together below.
            let mut gv = vec![0.0; h.n * h.n_params()];
            for (kk, (dh, g)) in h.jacobian.iter().zip(gv.chunks_exact_mut(h.n)).enumerate() {
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
                sym_matvec_into(h, dh, u, g);
            }
            // f = −Z G (Ḣ û)
            match self.h_chol[t].as_ref() {
                None => gv
                    .chunks_exact_mut(h.n)
                    .for_each(|g| g.iter_mut().zip(&h.values).for_each(|(a, b)| *a /= b)),
                Some(c) if h.n_params() > 0 => c.solve_in_place(
                    MatMut::from_column_major_slice_mut(&mut gv, h.n, h.n_params()),
                ),
                Some(_) => {}
            }
            f.extend(self.w.term_mul_neg(t, &gv, h.n_params()));
        }
        Ok(())
    }

    /// Scores and working variates of the parameters of `R`:
    /// `∂ℓ/∂θ = −½[∂log|R| + tr(C⁻¹WᵀḢW) + êᵀḢê]`, `f = −R(Ḣê)`.
    fn r_scores(&self, st: &State, zc: &[f64], score: &mut Vec<f64>, f: &mut Vec<Vec<f64>>) {
        let rq = &self.q;
        if rq.n_params() == 0 {
            return;
        }
        let lev = self.leverages(zc);
        let cross = self.cross_leverages(zc);
        for (kk, dq) in rq.jacobian.iter().enumerate() {
            // tr(C⁻¹WᵀḢW) = Σ_i Ḣ_ii h_i + 2 Σ_{i>j} Ḣ_ij w_iᵀC⁻¹w_j
            let mut trace = 0.0;
            for (&k, &h) in self.pat.q_diag.iter().zip(&lev) {
                trace += dq[k] * h;
            }
            for (&(k, _, _), &c) in self.pat.q_off.iter().zip(&cross) {
                trace += 2.0 * dq[k] * c;
            }
            let quad = self.qquad(dq, &st.e);
            score.push(-0.5 * (rq.logdet_jacobian[kk] + trace + quad));
            // f = ṘQê = −R(Ḣê)
            let he = self.qmul(dq, &st.e);
            let mut fc = self.r_mul(&he);
            fc.iter_mut().for_each(|v| *v = -*v);
            f.push(fc);
        }
    }

    /// `AI = ½ (FᵀQF − BᵀC⁻¹B)`, `B = WᵀQF`: one multi-column solve.
    fn ai_matrix(&self, f: &[Vec<f64>]) -> DMatrix<f64> {
        let (n, dim, k) = (self.w.n, self.w.dim, f.len());
        let qf: Vec<Vec<f64>> = f.iter().map(|c| self.qmul(&self.q.values, c)).collect();
        let fr: Vec<&[f64]> = qf.iter().map(|c| c.as_slice()).collect();
        let b = self.w.tmul(&fr);
        let mut cb = b.clone();
        self.solve(&mut cb, k);
        let ai = DMatrix::from_fn(k, k, |a, c| {
            let ff: f64 = f[a][..n].iter().zip(&qf[c][..n]).map(|(x, y)| x * y).sum();
            let bb: f64 = b[a * dim..(a + 1) * dim]
                .iter()
                .zip(&cb[c * dim..(c + 1) * dim])
                .map(|(x, y)| x * y)
                .sum();
            0.5 * (ff - bb)
        });
        DMatrix::from_fn(k, k, |a, c| 0.5 * (ai[(a, c)] + ai[(c, a)]))
    }
}
