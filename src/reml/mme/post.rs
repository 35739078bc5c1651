//! Post-estimation on the sparse backend: BLUE and its covariance, BLUPs
//! `û` from the solution of the mixed-model equations, and their
//! prediction-error variances, the `u`-blocks of `C⁻¹`.

use super::super::dense::evaluate_or_error;
use super::super::post::{Blup, MarginalPost, MixedPost};
use super::super::RemlError;
use super::Mme;
use nalgebra::DMatrix;

/// Columns of `C⁻¹` computed per solve.
const CHUNK: usize = 256;

impl Mme<'_> {
    /// Post-estimation at the free parameters `free`.
    pub fn post(mut self, free: &[f64]) -> Result<MixedPost, RemlError> {
        let pt = evaluate_or_error(&mut self, free)?;
        let marginal = MarginalPost::new(self.fx, &pt);
        let st = self.st.take().expect("just evaluated");
        let dim = self.w.dim;
        let mut conditional_fitted = marginal.fitted.clone();
        let mut blups = Vec::with_capacity(self.model.terms.len());
        for (t, term) in self.model.terms.iter().enumerate() {
            let (lo, hi) = (self.w.offsets[t], self.w.offsets[t + 1]);
            let q = hi - lo;
            let u = st.sol[lo..hi].to_vec();
            let zu = self.w.term_mul(t, &u);
            for (c, v) in conditional_fitted.iter_mut().zip(&zu) {
                *c += v;
            }
            let mut pev = DMatrix::zeros(q, q);
            let mut start = 0;
            while start < q {
                let k = CHUNK.min(q - start);
                let mut b = vec![0.0; dim * k];
                for c in 0..k {
                    b[c * dim + lo + start + c] = 1.0;
                }
                self.solve(&mut b, k);
                for c in 0..k {
                    for i in 0..q {
                        pev[(i, start + c)] = b[c * dim + lo + i];
                    }
                }
                start += k;
            }
            let pev = DMatrix::from_fn(q, q, |i, j| 0.5 * (pev[(i, j)] + pev[(j, i)]));
            blups.push(Blup {
                term: term.name.clone(),
                levels: Vec::new(),
                values: u,
                pev,
            });
        }
        let conditional_residuals = self
            .fx
            .y_orig
            .iter()
            .zip(&conditional_fitted)
            .map(|(a, b)| a - b)
            .collect();
        Ok(MixedPost {
            marginal,
            blups,
            conditional_fitted,
            conditional_residuals,
        })
    }
}
