//! The fixed-effect design as a user hands it to a model: the matrix `X`,
//! optional column names, and what to do with aliased columns.
//!
//! A column of `X` that is (numerically) a linear combination of the columns
//! before it makes β unidentifiable. By default that is an error naming the
//! columns; [`FixedEffects::drop_aliased`] instead drops them, as lme4 does
//! ("fixed-effect model matrix is rank deficient so dropping 1 column"), and
//! the fit says which in [`RemlFit::warnings`](crate::RemlFit::warnings).

use nalgebra::DMatrix;

/// What a model does with columns of `X` that are linear combinations of
/// the columns before them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Aliased {
    /// Refuse the model with [`RemlError::RankDeficient`](crate::RemlError::RankDeficient),
    /// naming the columns (the default).
    #[default]
    Error,
    /// Drop them and note which in the fit's warnings (lme4's behaviour).
    Drop,
}

/// The fixed-effect design `X` (`n × p`), its column names and the
/// [`Aliased`] policy. Every model constructor takes `impl Into<FixedEffects>`,
/// so a plain `&DMatrix<f64>` still works.
///
/// ```
/// use covreml::reml::{FixedEffects, MarginalModel, RemlOptions};
/// use covreml::{Covariance, Scalar};
/// use nalgebra::DMatrix;
/// // `b` is twice `a`: aliased.
/// let x = DMatrix::from_row_slice(4, 3, &[
///     1.0, 1.0, 2.0,
///     1.0, 2.0, 4.0,
///     1.0, 3.0, 6.0,
///     1.0, 5.0, 10.0,
/// ]);
/// let y = [1.0, 2.5, 2.9, 5.2];
/// let v = || Box::new(Covariance::<Scalar>::new(4).unwrap());
///
/// let refused = MarginalModel::new(&y, FixedEffects::new(x.clone()).named(&["(Intercept)", "a", "b"]), v());
/// assert!(refused.unwrap_err().to_string().contains("`b`"));
///
/// let fe = FixedEffects::new(x).named(&["(Intercept)", "a", "b"]).drop_aliased();
/// let m = MarginalModel::new(&y, fe, v()).unwrap();
/// let fit = m.fit(&RemlOptions::default()).unwrap();
/// assert_eq!(fit.beta_names, ["(Intercept)", "a"]);
/// assert!(fit.warnings[0].contains("`b`"));
/// ```
#[derive(Clone, Debug)]
pub struct FixedEffects {
    pub(crate) x: DMatrix<f64>,
    pub(crate) names: Option<Vec<String>>,
    pub(crate) aliased: Aliased,
}

impl FixedEffects {
    /// The design `x`, columns unnamed (`beta[0]`, `beta[1]`, …), aliased
    /// columns refused.
    pub fn new(x: DMatrix<f64>) -> Self {
        FixedEffects {
            x,
            names: None,
            aliased: Aliased::Error,
        }
    }

    /// Names the columns (checked against the column count and for
    /// duplicates when the model is built).
    pub fn named(mut self, names: &[&str]) -> Self {
        self.names = Some(names.iter().map(|s| s.to_string()).collect());
        self
    }

    /// Sets the policy for aliased columns.
    pub fn aliased(mut self, policy: Aliased) -> Self {
        self.aliased = policy;
        self
    }

    /// Drops aliased columns instead of refusing them: shorthand for
    /// `aliased(Aliased::Drop)`.
    pub fn drop_aliased(self) -> Self {
        self.aliased(Aliased::Drop)
    }

    /// The design.
    pub fn matrix(&self) -> &DMatrix<f64> {
        &self.x
    }
}

impl From<DMatrix<f64>> for FixedEffects {
    fn from(x: DMatrix<f64>) -> Self {
        FixedEffects::new(x)
    }
}

impl From<&DMatrix<f64>> for FixedEffects {
    fn from(x: &DMatrix<f64>) -> Self {
        FixedEffects::new(x.clone())
    }
}
