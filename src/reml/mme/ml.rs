//! The ML corrections of the sparse backend: REML's traces `tr(P V̇)` turned
//! into ML's `tr(V⁻¹ V̇)`, from the `u` rows of the `β` columns of `C⁻¹`.

use super::analysis::Analysis;
use super::pattern::sym_matvec;
use super::State;
use nalgebra::DMatrix;

impl Analysis {
    /// The ML corrections: `tr(V⁻¹ V̇_k) − tr(P V̇_k)` for every parameter
    /// (`G` terms first, then `R`), and `A = V⁻¹X = R⁻¹(X + Z C^{uβ} S)`
    /// with `S = XᵀV⁻¹X`.
    pub fn ml_corrections(&self, st: &State) -> (Vec<f64>, Vec<Vec<f64>>) {
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
            for (&c, &w) in cols.iter().zip(vals) {
                let c = c as usize;
                if c < p {
                    m[c * n + i] += w;
                } else {
                    for j in 0..p {
                        m[j * n + i] += w * us[j * q + c - p];
                    }
                }
            }
        }
        let rq = &self.q;
        let m_cols: Vec<&[f64]> = (0..p).map(|j| &m[j * n..(j + 1) * n]).collect();
        let mut corr = Vec::new();
        for (t, h) in self.hs.iter().enumerate() {
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
}
