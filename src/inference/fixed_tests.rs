//! The fixed-effect tests of a fit: an F test per fixed term (all of its
//! coefficients 0) and a t test per coefficient, with Satterthwaite's,
//! Kenward–Roger's or the residual denominator df — lmerTest's
//! `anova(m, ddf = …)` and `summary(m, ddf = …)`.

use super::distributions::{f_sf, t_two_sided};
use super::kenward_roger::KenwardRoger;
use super::lrt::InferenceError;
use super::satterthwaite::Satterthwaite;
use crate::reml::{MixedModel, RemlFit};
use nalgebra::{DMatrix, DVector};

/// How denominator degrees of freedom are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Ddf {
    /// Satterthwaite's approximation (lmerTest's default).
    Satterthwaite,
    /// Kenward–Roger: adjusted covariance of β̂, scaled F (pbkrtest).
    KenwardRoger,
    /// `n − p` for every test (the residual df of a linear model).
    Residual,
}

impl std::fmt::Display for Ddf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ddf::Satterthwaite => "Satterthwaite",
            Ddf::KenwardRoger => "Kenward-Roger",
            Ddf::Residual => "residual",
        })
    }
}

impl std::str::FromStr for Ddf {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "satterthwaite" => Ok(Ddf::Satterthwaite),
            "kenward-roger" | "kr" | "kenward_roger" => Ok(Ddf::KenwardRoger),
            "residual" => Ok(Ddf::Residual),
            other => Err(format!(
                "`{other}` is not a df method: satterthwaite, kenward-roger or residual"
            )),
        }
    }
}

/// The F test of one fixed term.
#[derive(Clone, Debug, PartialEq)]
pub struct TermTest {
    /// The term (`Days`, `rep`, `x:trt`).
    pub term: String,
    /// Numerator df: the term's coefficients.
    pub num_df: usize,
    /// Denominator df.
    pub den_df: f64,
    /// The F statistic (Kenward–Roger's scaled one for that method).
    pub f: f64,
    /// `P(F(num_df, den_df) > f)`.
    pub p_value: f64,
}

/// The t test of one coefficient.
#[derive(Clone, Debug, PartialEq)]
pub struct CoefficientTest {
    /// The coefficient's name.
    pub name: String,
    /// β̂.
    pub estimate: f64,
    /// Its standard error (from Kenward–Roger's adjusted covariance for
    /// that method).
    pub standard_error: f64,
    /// The df of the t test.
    pub df: f64,
    /// `estimate / standard_error`.
    pub t: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// An ANOVA table of the fixed terms and the coefficient tests.
#[derive(Clone, Debug, PartialEq)]
pub struct FixedTests {
    /// The df method.
    pub ddf: Ddf,
    /// One F test per term, in the order given.
    pub terms: Vec<TermTest>,
    /// One t test per coefficient.
    pub coefficients: Vec<CoefficientTest>,
    /// Kenward–Roger's adjusted covariance of β̂ (that method only).
    pub adjusted_beta_cov: Option<DMatrix<f64>>,
}

/// The tests of the fixed effects of `fit` (a fit of `model`): `terms` are
/// `(name, L)` pairs, each tested for `Lβ = 0` (`L` of full row rank, its
/// rows the term's hypotheses; [`term_rows`] selects coefficients).
///
/// ```
/// use covreml::datasets::{john_alpha, john_alpha_model};
/// use covreml::inference::{fixed_effect_tests, Ddf};
/// use covreml::reml::RemlOptions;
/// let m = john_alpha_model(&john_alpha()).unwrap();
/// let fit = m.fit(&RemlOptions::default().tolerance(1e-10)).unwrap();
/// let l = covreml::inference::term_rows(&[1, 2], 3);
/// let t = fixed_effect_tests(&m, &fit, &[("rep".to_string(), l)], Ddf::Satterthwaite).unwrap();
/// assert!((t.terms[0].f - 8.4629629347494).abs() < 1e-6); // lmerTest
/// assert_eq!(t.coefficients.len(), 3);
/// ```
pub fn fixed_effect_tests(
    model: &MixedModel,
    fit: &RemlFit,
    terms: &[(String, DMatrix<f64>)],
    ddf: Ddf,
) -> Result<FixedTests, InferenceError> {
    let mut out = FixedTests {
        ddf,
        terms: Vec::new(),
        coefficients: Vec::new(),
        adjusted_beta_cov: None,
    };
    match ddf {
        Ddf::Satterthwaite => satterthwaite_tests(model, fit, terms, &mut out)?,
        Ddf::KenwardRoger => kenward_roger_tests(model, fit, terms, &mut out)?,
        Ddf::Residual => residual_tests(model, fit, terms, &mut out)?,
    }
    Ok(out)
}

/// The `j`-th unit vector of length `p`: the hypothesis "coefficient `j`
/// is 0".
fn unit(p: usize, j: usize) -> DVector<f64> {
    let mut v = DVector::zeros(p);
    v[j] = 1.0;
    v
}

/// The t test of coefficient `j` of `fit` with standard error `se` and
/// `df` degrees of freedom.
fn coefficient_test(fit: &RemlFit, j: usize, se: f64, df: f64) -> CoefficientTest {
    let t = fit.beta[j] / se;
    CoefficientTest {
        name: fit.beta_names[j].clone(),
        estimate: fit.beta[j],
        standard_error: se,
        df,
        t,
        p_value: t_two_sided(t, df),
    }
}

/// The F test of term `name` from its statistic `f` and its df.
fn term_test(name: &str, num_df: usize, den_df: f64, f: f64) -> TermTest {
    TermTest {
        term: name.to_string(),
        num_df,
        den_df,
        f,
        p_value: f_sf(f, num_df as f64, den_df),
    }
}

/// The tests with Satterthwaite's df, written into `out`.
fn satterthwaite_tests(
    model: &MixedModel,
    fit: &RemlFit,
    terms: &[(String, DMatrix<f64>)],
    out: &mut FixedTests,
) -> Result<(), InferenceError> {
    let p = fit.beta.len();
    let s = Satterthwaite::new(model, fit)?;
    for (name, cols) in terms {
        let t = s.test(cols)?;
        out.terms.push(term_test(name, t.num_df, t.den_df, t.f));
    }
    for j in 0..p {
        out.coefficients.push(coefficient_test(
            fit,
            j,
            fit.beta_se[j],
            s.df_1d(&unit(p, j)),
        ));
    }
    Ok(())
}

/// The tests with Kenward–Roger's df, scaled F and adjusted covariance,
/// written into `out`.
fn kenward_roger_tests(
    model: &MixedModel,
    fit: &RemlFit,
    terms: &[(String, DMatrix<f64>)],
    out: &mut FixedTests,
) -> Result<(), InferenceError> {
    let p = fit.beta.len();
    let kr = KenwardRoger::new(model, fit)?;
    for (name, cols) in terms {
        let t = kr.test(cols)?;
        out.terms.push(term_test(name, t.num_df, t.den_df, t.f));
    }
    for j in 0..p {
        let (se, df) = kr.t_1d(&unit(p, j))?;
        out.coefficients.push(coefficient_test(fit, j, se, df));
    }
    out.adjusted_beta_cov = Some(kr.phi_adjusted);
    Ok(())
}

/// The tests with the residual df `n − p` (Wald F from the covariance of
/// β̂ at the estimate), written into `out`.
fn residual_tests(
    model: &MixedModel,
    fit: &RemlFit,
    terms: &[(String, DMatrix<f64>)],
    out: &mut FixedTests,
) -> Result<(), InferenceError> {
    let p = fit.beta.len();
    let df = (fit.n - p) as f64;
    let cov = model
        .evaluate(
            &fit.free,
            &crate::reml::RemlOptions::default().method(fit.method),
        )
        .map_err(|e| InferenceError::Invalid {
            reason: e.to_string(),
        })?
        .beta_cov;
    let b = DVector::from_column_slice(&fit.beta);
    for (name, cols) in terms {
        let l = cols;
        let m = (l * &cov * l.transpose())
            .cholesky()
            .ok_or_else(|| InferenceError::Invalid {
                reason: format!("the covariance of the coefficients of `{name}` is singular"),
            })?
            .inverse();
        let lb = l * &b;
        let f = (lb.transpose() * m * &lb)[(0, 0)] / l.nrows() as f64;
        out.terms.push(term_test(name, l.nrows(), df, f));
    }
    for j in 0..p {
        out.coefficients
            .push(coefficient_test(fit, j, fit.beta_se[j], df));
    }
    Ok(())
}

/// The rows of the identity of size `p` at `cols`: the hypothesis "these
/// coefficients are 0".
pub fn term_rows(cols: &[usize], p: usize) -> DMatrix<f64> {
    let mut l = DMatrix::zeros(cols.len(), p);
    for (r, &c) in cols.iter().enumerate() {
        l[(r, c)] = 1.0;
    }
    l
}

/// lmerTest's type I hypothesis matrix: `t(doolittle(XᵀX)$L)` (its
/// `doolittle`, with entries below 1e-6 in absolute value set to 0); the
/// rows of a term's columns test the term after the terms before it.
pub fn doolittle_rows(xtx: &DMatrix<f64>) -> DMatrix<f64> {
    let n = xtx.nrows();
    let eps = 1e-6;
    let mut l = DMatrix::<f64>::identity(n, n);
    let mut u = DMatrix::<f64>::zeros(n, n);
    for i in 0..n {
        for j in 0..n {
            let mut v = xtx[(i, j)];
            for k in 0..i {
                v -= l[(i, k)] * u[(k, j)];
            }
            u[(i, j)] = v;
        }
        for j in i + 1..n {
            let mut v = xtx[(j, i)];
            for k in 0..i {
                v -= l[(j, k)] * u[(k, i)];
            }
            l[(j, i)] = if u[(i, i)].abs() < eps {
                0.0
            } else {
                v / u[(i, i)]
            };
        }
    }
    l.iter_mut().for_each(|v| {
        if v.abs() < eps {
            *v = 0.0
        }
    });
    l.transpose()
}
