//! The analysis of a model's mixed-model equations, made once and kept:
//! `W` by rows, the pattern of `C` with the positions every `Q` and `G⁻¹`
//! entry is written to (lme4's `Lind`), the symbolic factorizations of `C`,
//! of each non-diagonal `G⁻¹` and of a non-diagonal `Q`, and the patterns of
//! `Q` and the `G⁻¹`s it was made for.
//!
//! A [`MixedModel`](crate::reml::MixedModel) keeps its analysis in an [`AnalysisCache`]: the first
//! sparse evaluation builds it, and every later `fit`, `evaluate`,
//! `loglik`, `post_at`, `pev_matrix`, formula `predict` and Satterthwaite
//! test borrows it, writing only values per θ: `Q` and every `G⁻¹` are
//! kept on their analysed patterns and rewritten in place
//! ([`CovarianceModel::sparse_inverse_into_f64`](crate::CovarianceModel::sparse_inverse_into_f64)),
//! which checks that the inverse at θ still has that pattern
//! ([`Structure::sparse_inverse`](crate::Structure::sparse_inverse) promises
//! a pattern that depends on the shape only): a structure that breaks the
//! promise is an error naming it, never values written to the wrong places.

use super::design::RowDesign;
use super::pattern::Pattern;
use super::{ordering, sparse_err};
use crate::reml::error::cov_err;
use crate::reml::terms::{Parts, RESIDUAL_UNAVAILABLE};
use crate::reml::RemlError;
use crate::sparse::{EntryMap, SparseCholesky, SparseOptions};
use crate::SparseInverse;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Everything about a model's mixed-model equations that does not depend
/// on θ, and the buffers its numeric work reuses.
pub(crate) struct Analysis {
    pub w: RowDesign,
    pub pat: Pattern,
    pub chol: SparseCholesky,
    /// Positions of `C`'s pattern in the selected inverse.
    pub zmap: EntryMap,
    /// `C` on its pattern.
    pub values: Vec<f64>,
    /// `C⁻¹` on the pattern of `C` (from the selected inverse), reused.
    pub zc: Vec<f64>,
    /// Per term with a non-diagonal `G⁻¹`: its factorization, for `G v`.
    pub h_chol: Vec<Option<SparseCholesky>>,
    /// For a non-diagonal `Q`: its factorization, for `R v` (factored at
    /// every evaluation, which also checks that `Q` is positive definite).
    pub q_chol: Option<SparseCholesky>,
    /// The response, with a 0 for each missing cell of a completed residual.
    pub y: Vec<f64>,
    /// `Wᵀy`: with `Q = s I` (an iid residual), `WᵀQy = s Wᵀy` without a
    /// pass over the rows.
    pub wty: Vec<f64>,
    /// `s` when the last assembled `Q` was `s I` (see [`Analysis::assemble`]).
    pub scale: Option<f64>,
    /// Missing cells of a completed residual (rows `n..` of `W`, and as
    /// many indicator fixed effects after the terms' unknowns).
    pub missing: usize,
    /// `Q = R⁻¹` on the pattern analysed, rewritten in place at every
    /// evaluation (its numbers are those of the last one).
    pub q: SparseInverse<f64>,
    /// Each term's `G⁻¹`, likewise.
    pub hs: Vec<SparseInverse<f64>>,
}

fn unavailable(reason: String) -> RemlError {
    RemlError::BackendUnavailable {
        backend: "sparse",
        reason,
    }
}

/// A symbolic factorization of a sparse inverse that is not diagonal.
fn analyse_offdiagonal(s: &SparseInverse<f64>) -> Result<Option<SparseCholesky>, RemlError> {
    if s.nnz() == s.n {
        return Ok(None);
    }
    SparseCholesky::analyse(s.n, &s.col_ptr, &s.row_idx, &SparseOptions::default())
        .map(Some)
        .map_err(sparse_err)
}

impl Analysis {
    /// Analyses a model's `parts` at its structures' defaults.
    pub fn new(model: Parts<'_>) -> Result<Self, RemlError> {
        let terms = model.terms;
        let x0 = terms.params().defaults;
        let parts = terms.split(&x0);
        let mut hs = Vec::with_capacity(terms.list.len());
        for (t, xs) in terms.list.iter().zip(&parts) {
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
        let xr = parts[terms.list.len()];
        let (q, missing) = match terms.residual_inverse(xr) {
            Some(q) => q.map_err(cov_err("residual"))?,
            None => return Err(unavailable(RESIDUAL_UNAVAILABLE.to_string())),
        };
        let mut w = RowDesign::new(model.fixed, terms.list)?;
        w.complete(missing);
        let mut y = model.fixed.y.clone();
        y.resize(w.n, 0.0);
        let wty = w.tmul(&[&y]);
        // Closed under the levels of unstructured terms, for the Λ form.
        let mix = super::lambda::mixing_groups(model, &w.offsets);
        let pat = Pattern::new(&w, &hs, &q, &mix)?;
        let q_chol = analyse_offdiagonal(&q)?;
        let chol = SparseCholesky::analyse_best(
            w.dim,
            &pat.col_ptr,
            &pat.row_idx,
            &SparseOptions::default(),
            &[ordering::terms_by_levels(&w)],
        )
        .map_err(sparse_err)?;
        let zmap = chol.entry_map(&pat.entries()).map_err(sparse_err)?;
        let h_chol = hs
            .iter()
            .map(analyse_offdiagonal)
            .collect::<Result<_, _>>()?;
        Ok(Analysis {
            values: vec![0.0; pat.nnz()],
            zc: vec![0.0; pat.nnz()],
            w,
            pat,
            chol,
            zmap,
            h_chol,
            q_chol,
            y,
            wty,
            scale: None,
            missing,
            q,
            hs,
        })
    }
}

/// A model's analysis, built at its first sparse evaluation and lent to
/// every later one; with a count of the analyses made.
#[derive(Default)]
pub(crate) struct AnalysisCache {
    slot: Mutex<Option<Box<Analysis>>>,
    made: AtomicUsize,
}

impl AnalysisCache {
    /// The kept analysis, or a new one (counted) if there is none or another
    /// evaluator holds it.
    pub fn take(&self, model: Parts<'_>) -> Result<Box<Analysis>, RemlError> {
        let kept = self.slot.lock().ok().and_then(|mut s| s.take());
        match kept {
            Some(a) => Ok(a),
            None => {
                self.made.fetch_add(1, Ordering::Relaxed);
                Analysis::new(model).map(Box::new)
            }
        }
    }

    /// Gives an analysis back (kept unless one already is).
    pub fn put(&self, a: Box<Analysis>) {
        if let Ok(mut s) = self.slot.lock() {
            if s.is_none() {
                *s = Some(a);
            }
        }
    }

    /// Whether an analysis is kept (the model is known to suit the sparse
    /// backend).
    pub fn is_kept(&self) -> bool {
        self.slot.lock().map(|s| s.is_some()).unwrap_or(false)
    }

    /// Symbolic analyses made so far.
    pub fn count(&self) -> usize {
        self.made.load(Ordering::Relaxed)
    }
}
