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
        let g = self.g_scores(terms, st, &zc, &mut score);
        let scaled = if ml { None } else { self.scaled() };
        let gvs = match (g, scaled) {
            (Err(e), _) => {
                self.zc = zc;
                return Err(e);
            }
            (Ok(gvs), Some((s, ds))) => {
                let ai = self.scaled_r_scores_and_ai(st, &zc, s, &ds, gvs, &mut score);
                self.zc = zc;
                return Ok(ScoreAi { score, ai });
            }
            (Ok(gvs), None) => gvs,
        };
        let mut f: Vec<Vec<f64>> = Vec::with_capacity(k);
        for (t, gv, np) in &gvs {
            f.extend(self.w.term_mul_neg(*t, gv, *np));
        }
        self.r_scores(st, &zc, &mut score, &mut f);
        self.zc = zc;
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

    /// Scores of the parameters of every `G`,
    /// `∂ℓ/∂θ = −½[∂log|G| + tr(C^{uu}Ḣ) + ûᵀḢû]`, and per term `t` the
    /// vectors `G Ḣ û` of its parameters (`q_t × n_params`, column major):
    /// the working variates are `f = −Z_t G Ḣ û`.
    #[allow(clippy::type_complexity)]
    fn g_scores(
        &mut self,
        terms: &[Term],
        st: &State,
        zc: &[f64],
        score: &mut Vec<f64>,
    ) -> Result<Vec<(usize, Vec<f64>, usize)>, RemlError> {
        let mut out = Vec::with_capacity(self.hs.len());
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
            out.push((t, gv, h.n_params()));
        }
        Ok(out)
    }

    /// `(s, ṡ_k)` when `Q = s I` and every `∂Q/∂θ_k = ṡ_k I` (an iid
    /// residual): the score and AI then need no pass over the rows.
    fn scaled(&self) -> Option<(f64, Vec<f64>)> {
        let s = self.scale?;
        let ds = self
            .q
            .jacobian
            .iter()
            .map(|d| {
                let d0 = *d.first()?;
                d.iter().all(|&v| v == d0).then_some(d0)
            })
            .collect::<Option<Vec<f64>>>()?;
        Some((s, ds))
    }

    /// With `Q = s I` and `∂Q/∂θ_k = ṡ_k I` ([`Analysis::scaled`]): the
    /// scores of the residual's parameters and the AI matrix from `WᵀW` on
    /// the pattern of `C`, with one pass over the rows (`Wᵀê`) instead of
    /// one per parameter and product:
    ///
    /// - `tr(C⁻¹WᵀḢW) = ṡ tr(C⁻¹WᵀW)` from `C⁻¹` and `WᵀW` on the pattern
    ///   (no leverages), `êᵀḢê = ṡ êᵀê`;
    /// - working variates `f = W v` for a parameter of `G_t` (`v = −G Ḣ û`
    ///   in the rows of term `t`), `f = c ê` with `c = −ṡ/s` for one of `R`;
    /// - `B = WᵀQF`: `s WᵀW v` (on the pattern), or `c s Wᵀê`;
    /// - `FᵀQF`: `vᵀB_b` for a column `f_a = W v`, else `s Σ_i f_a f_b`.
    fn scaled_r_scores_and_ai(
        &self,
        st: &State,
        zc: &[f64],
        s: f64,
        ds: &[f64],
        gvs: Vec<(usize, Vec<f64>, usize)>,
        score: &mut Vec<f64>,
    ) -> DMatrix<f64> {
        let dim = self.w.dim;
        let wtw = &self.pat.wtw;
        let ete: f64 = st.e.iter().map(|v| v * v).sum();
        let mut trace = 0.0;
        for j in 0..dim {
            let r = self.pat.col_ptr[j]..self.pat.col_ptr[j + 1];
            let (rows, z) = (&self.pat.row_idx[r.clone()], &zc[r.clone()]);
            for ((&i, &z), &a) in rows.iter().zip(z).zip(&wtw[r]) {
                trace += if i == j { z * a } else { 2.0 * z * a };
            }
        }
        for (kk, &d) in ds.iter().enumerate() {
            score.push(-0.5 * (self.q.logdet_jacobian[kk] + d * trace + d * ete));
        }
        // `(term, G Ḣ û)` per parameter of a `G` (`v` is its negative).
        let mut vs: Vec<(usize, &[f64])> = Vec::new();
        for (t, gv, np) in &gvs {
            let q = self.w.offsets[t + 1] - self.w.offsets[*t];
            vs.extend(gv.chunks_exact(q.max(1)).take(*np).map(|v| (*t, v)));
        }
        let ng = vs.len();
        let k = ng + ds.len();
        let mut b = vec![0.0; dim * k];
        let mut bcols = b.chunks_exact_mut(dim);
        for &(t, gv) in &vs {
            // B = s WᵀW v = −s WᵀW (G Ḣ û).
            let bc = bcols.next().expect("k columns");
            self.pattern_matvec(wtw, self.w.offsets[t], gv, bc);
            bc.iter_mut().for_each(|x| *x *= -s);
        }
        // f = c ê and B = c s Wᵀê = −ṡ Wᵀê for the residual's parameters.
        let mut f: Vec<Vec<f64>> = Vec::with_capacity(ds.len());
        if !ds.is_empty() {
            let wte = self.w.tmul(&[&st.e]);
            for &d in ds {
                let bc = bcols.next().expect("k columns");
                bc.iter_mut().zip(&wte).for_each(|(x, w)| *x = -d * w);
                f.push(st.e.iter().map(|e| -d / s * e).collect());
            }
        }
        let mut cb = b.clone();
        self.solve(&mut cb, k);
        // vᵀB_c for f_a = W v (v = −G Ḣ û).
        let vb = |(t, gv): (usize, &[f64]), c: usize| -> f64 {
            let lo = self.w.offsets[t];
            -gv.iter()
                .zip(&b[c * dim + lo..])
                .map(|(x, y)| x * y)
                .sum::<f64>()
        };
        let ai = DMatrix::from_fn(k, k, |a, c| {
            let ff = if a < ng {
                vb(vs[a], c)
            } else if c < ng {
                vb(vs[c], a)
            } else {
                s * f[a - ng]
                    .iter()
                    .zip(&f[c - ng])
                    .map(|(x, y)| x * y)
                    .sum::<f64>()
            };
            let bb: f64 = b[a * dim..(a + 1) * dim]
                .iter()
                .zip(&cb[c * dim..(c + 1) * dim])
                .map(|(x, y)| x * y)
                .sum();
            0.5 * (ff - bb)
        });
        DMatrix::from_fn(k, k, |a, c| 0.5 * (ai[(a, c)] + ai[(c, a)]))
    }

    /// `out = M x` for a symmetric `M` on the pattern of `C` (lower
    /// triangle) and `x` zero outside `lo..lo + xs.len()`, where it is `xs`.
    fn pattern_matvec(&self, m: &[f64], lo: usize, xs: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        let (cp, ri) = (&self.pat.col_ptr, &self.pat.row_idx);
        let hi = lo + xs.len();
        for j in 0..self.w.dim {
            let r = cp[j]..cp[j + 1];
            let xj = if (lo..hi).contains(&j) {
                xs[j - lo]
            } else {
                0.0
            };
            let mut acc = 0.0;
            for (&i, &mq) in ri[r.clone()].iter().zip(&m[r]) {
                if i == j {
                    out[j] += mq * xj;
                } else {
                    out[i] += mq * xj;
                    if (lo..hi).contains(&i) {
                        acc += mq * xs[i - lo];
                    }
                }
            }
            out[j] += acc;
        }
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
