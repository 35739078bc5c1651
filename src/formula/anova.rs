//! Likelihood-ratio tests of two formula models by the rules of lme4's
//! `anova`: the models must fit the same observations (the same rows, after
//! dropping incomplete ones, and the same response); models with the same
//! fixed effects are compared by the method asked for (REML or ML); models
//! whose fixed effects differ are both (re)fitted by ML, and the result
//! says so. The smaller model (fewer parameters) comes first.

use super::error::FormulaError;
use super::formula_model::FormulaModel;
use crate::inference::{likelihood_ratio, InferenceError, LikelihoodRatio};
use crate::reml::{Iteration, Method, RemlFit, RemlOptions};

/// The result of [`anova`].
#[derive(Clone, Debug)]
pub struct Anova {
    /// The test, smaller model first.
    pub lrt: LikelihoodRatio,
    /// The method both fits used.
    pub method: Method,
    /// Whether REML was asked for but the models were fitted by ML, because
    /// their fixed effects differ.
    pub refitted_ml: bool,
    /// Whether the models were swapped to put the smaller first.
    pub swapped: bool,
    /// The two fits, in the order of the test (smaller first).
    pub fits: [RemlFit; 2],
}

/// Fits `m0` and `m1` with `opts` (by ML if their fixed effects differ) and
/// tests the smaller against the larger.
///
/// ```
/// use covreml::data::Table;
/// use covreml::formula::{anova, FormulaModel};
/// use covreml::reml::{Method, RemlOptions};
/// let t = covreml::datasets::john_alpha();
/// let m0 = FormulaModel::new("yield ~ 1 + (1|gen)", &t).unwrap();
/// let m1 = FormulaModel::new("yield ~ rep + (1|gen)", &t).unwrap();
/// let a = anova(&m0, &m1, &RemlOptions::default()).unwrap();
/// assert!(a.refitted_ml && a.method == Method::Ml);
/// assert_eq!(a.lrt.df, 2);
/// ```
pub fn anova(
    m0: &FormulaModel,
    m1: &FormulaModel,
    opts: &RemlOptions,
) -> Result<Anova, FormulaError> {
    anova_with(m0, m1, opts, |_, _| {})
}

/// [`anova`], calling `observer(k, iteration)` after every iteration of the
/// fit of model `k` (0 for `m0`, 1 for `m1`, in the order given).
pub fn anova_with(
    m0: &FormulaModel,
    m1: &FormulaModel,
    opts: &RemlOptions,
    mut observer: impl FnMut(usize, &Iteration),
) -> Result<Anova, FormulaError> {
    if m0.data_key() != m1.data_key() {
        return Err(not_comparable(format!(
            "the models fit different observations ({} rows with {} dropped for missing values, and {} rows with {} dropped); \
             a likelihood-ratio test needs the same rows and response: drop the incomplete rows of both from the data first",
            m0.n(),
            m0.n_dropped(),
            m1.n(),
            m1.n_dropped()
        )));
    }
    let same_fixed = m0.fixed_names() == m1.fixed_names();
    let method = if same_fixed { opts.method } else { Method::Ml };
    let refitted_ml = !same_fixed && opts.method != Method::Ml;
    let opts = opts.clone().method(method);
    let f0 = m0.fit_with(&opts, |it| observer(0, it))?;
    let f1 = m1.fit_with(&opts, |it| observer(1, it))?;
    let (k0, k1) = (f0.p + f0.names.len(), f1.p + f1.names.len());
    let swapped = k1 < k0;
    let fits = if swapped { [f1, f0] } else { [f0, f1] };
    let lrt = likelihood_ratio(&fits[0], &fits[1]).map_err(FormulaError::from)?;
    Ok(Anova {
        lrt,
        method,
        refitted_ml,
        swapped,
        fits,
    })
}

fn not_comparable(reason: String) -> FormulaError {
    FormulaError::Inference(InferenceError::NotComparable { reason })
}
