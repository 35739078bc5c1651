//! Parameter specifications and name tables.
//!
//! Every parameter has a name, a default (on the free scale) and a transform.
//! Leaf structures name their parameters with plain rows (`"sigma^2"`,
//! `"rho"`); operators prefix each operand's rows with the operand's name, so a
//! composite yields `(operand path, local name)` pairs that format as
//! `time/rho` or `op_0/a/rho` when asked.

use crate::{CovError, Transform};
use std::borrow::Cow;

use std::fmt;

/// A parameter's name: the operand path that leads to it and its local name.
///
/// ```
/// use covreml::ParamName;
/// let n = ParamName::new("rho").within("time").within("op_0");
/// assert_eq!(n.to_string(), "op_0/time/rho");
/// assert_eq!(n.local(), "rho");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ParamName {
    path: Vec<Cow<'static, str>>,
    local: Cow<'static, str>,
}

impl ParamName {
    /// A name with no operand path.
    pub fn new(local: impl Into<Cow<'static, str>>) -> Self {
        ParamName {
            path: Vec::new(),
            local: local.into(),
        }
    }

    /// The same name seen from an enclosing operator, inside operand `operand`.
    pub fn within(mut self, operand: impl Into<Cow<'static, str>>) -> Self {
        self.path.insert(0, operand.into());
        self
    }

    /// The local name, as the leaf structure calls it.
    pub fn local(&self) -> &str {
        &self.local
    }

    /// The operand path from the outermost operator inwards.
    pub fn path(&self) -> impl Iterator<Item = &str> {
        self.path.iter().map(|s| s.as_ref())
    }

    /// Replaces the first path segment `from` by `to` (renames an operand).
    pub(crate) fn rename_head(&mut self, from: &str, to: &str) -> bool {
        match self.path.first_mut() {
            Some(head) if head == from => {
                *head = Cow::Owned(to.to_owned());
                true
            }
            _ => false,
        }
    }

    /// Replaces the last segment of the operand path `prefix` by `to`, when
    /// this name lies under `prefix` (renames a nested operand).
    pub(crate) fn rename_at(&mut self, prefix: &[&str], to: &str) -> bool {
        let n = prefix.len();
        if n == 0 || self.path.len() < n || self.path[..n].iter().zip(prefix).any(|(a, b)| a != b) {
            return false;
        }
        self.path[n - 1] = Cow::Owned(to.to_owned());
        true
    }
}

impl fmt::Display for ParamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.path {
            write!(f, "{p}/")?;
        }
        f.write_str(&self.local)
    }
}

/// Written as its path string (`"op_0/time/rho"`) and read back by
/// splitting at `/`.
#[cfg(feature = "serde")]
impl serde::Serialize for ParamName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for ParamName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let mut parts: Vec<String> = text.split('/').map(str::to_owned).collect();
        let local = parts.pop().unwrap_or_default();
        if local.is_empty() || parts.iter().any(String::is_empty) {
            return Err(serde::de::Error::custom(format!(
                "`{text}` is not a parameter name (`a/b/name`, no empty parts)"
            )));
        }
        Ok(ParamName {
            path: parts.into_iter().map(Cow::Owned).collect(),
            local: Cow::Owned(local),
        })
    }
}

/// What a parameter is: how the estimator starts it, scales it with the
/// data, and reads a boundary.
///
/// | kind | examples | rescaled start (`c = yᵀPy/(n − p)`) | boundary meaning |
/// |---|---|---|---|
/// | `Variance` | `sigma^2` | `× c` | 0: a singular fit (random terms) |
/// | `SpecificVariance` | FA's `psi_i` | `× c` | 0: a Heywood case, not singular |
/// | `OffDiagonal` | `sigma^2_1_0` of `Unconstrained` | `× c` | |
/// | `Loading` | `lambda_i_j`, `L_i_j` | kept (see below) | |
/// | `Correlation` | `rho` | kept | ±1: a singular fit (random terms) |
/// | `Range` | spatial `range` | kept (starts from the data) | ∞: no interior optimum |
/// | `Other` | `nugget`, user parameters | kept | |
///
/// Loadings keep their defaults: scaled by `√c`, the equal default loadings
/// of an `FA(2)` start a fit on a saddle it does not leave.
///
/// [`ParamSpec::new`] infers the kind from the transform (a positive-scale
/// transform `exp`, `exp2`, `exp10`, `e^{2x}` is a variance, a sigmoid or
/// sigmoid-then-scale-shift a correlation, anything else `Other`);
/// [`ParamSpec::kind`] overrides it.
///
/// ```
/// use covreml::{ParamKind, ParamSpec, Transform};
/// assert_eq!(ParamSpec::variance("s2").kind, ParamKind::Variance);
/// let range = ParamSpec::new("range", 2.0, Transform::Exp).kind(ParamKind::Range);
/// assert_eq!(range.kind, ParamKind::Range);
/// assert_eq!(ParamKind::infer(&Transform::correlation(-1.0, 1.0)), ParamKind::Correlation);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ParamKind {
    /// A variance (natural scale `(0, ∞)`, in the units of the data squared).
    Variance,
    /// A variance added to a low-rank part, as the specific variances `ψ`
    /// of a factor-analytic structure: at 0 the matrix stays nonsingular
    /// (a Heywood case).
    SpecificVariance,
    /// A covariance: an off-diagonal entry of a covariance matrix (in the
    /// units of the data squared, any sign). (Not named `Covariance`, which
    /// is the runtime structure type.)
    OffDiagonal,
    /// A factor loading or Cholesky entry (in the units of the data).
    Loading,
    /// A correlation (dimensionless, bounded).
    Correlation,
    /// A range or distance (in the units of the coordinates).
    Range,
    /// Anything else (dimensionless).
    #[default]
    Other,
}

impl ParamKind {
    /// The kind a transform suggests: `exp`, `exp2`, `exp10`, `e^{2x}` map
    /// onto `(0, ∞)` like a variance; a sigmoid (alone or followed by a
    /// scale-shift) onto an interval like a correlation.
    pub fn infer(t: &Transform) -> ParamKind {
        match t {
            Transform::Exp | Transform::Exp2 | Transform::Exp10 | Transform::ExpPow2 => {
                ParamKind::Variance
            }
            Transform::Sigmoid => ParamKind::Correlation,
            Transform::Chain(ts)
                if matches!(ts.first(), Some(Transform::Sigmoid))
                    && ts[1..]
                        .iter()
                        .all(|t| matches!(t, Transform::ScaleShift { .. })) =>
            {
                ParamKind::Correlation
            }
            _ => ParamKind::Other,
        }
    }

    /// The power of the data's scale `c` by which the rescaled start
    /// multiplies the natural value: 1 for variances and covariances, 0
    /// otherwise (loadings included, see above).
    pub fn scale_power(self) -> f64 {
        match self {
            ParamKind::Variance | ParamKind::SpecificVariance | ParamKind::OffDiagonal => 1.0,
            _ => 0.0,
        }
    }
}

/// One row of a parameter table: name, default on the free scale, transform
/// and kind.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ParamSpec {
    /// The parameter's (possibly namespaced) name.
    pub name: ParamName,
    /// The default free value; a fixed parameter stays at it.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::float"))]
    pub default: f64,
    /// Free → natural map.
    pub transform: Transform,
    /// What the parameter is (see [`ParamKind`]).
    #[cfg_attr(feature = "serde", serde(default))]
    pub kind: ParamKind,
}

impl ParamSpec {
    /// A row with the given local name, default and transform; its kind is
    /// inferred from the transform ([`ParamKind::infer`]).
    pub fn new(name: impl Into<Cow<'static, str>>, default: f64, transform: Transform) -> Self {
        ParamSpec {
            name: ParamName::new(name),
            default,
            kind: ParamKind::infer(&transform),
            transform,
        }
    }

    /// A variance: default 0 on the free scale (σ² = 1), transform `e^{2x}`.
    pub fn variance(name: impl Into<Cow<'static, str>>) -> Self {
        ParamSpec::new(name, 0.0, Transform::ExpPow2)
    }

    /// The same row with kind `kind`.
    pub fn kind(mut self, kind: ParamKind) -> Self {
        self.kind = kind;
        self
    }

    /// The row seen from an enclosing operator, inside operand `operand`.
    pub fn within(mut self, operand: impl Into<Cow<'static, str>>) -> Self {
        self.name = self.name.within(operand);
        self
    }
}

/// Names identify parameters: two rows with one name are an error.
pub(crate) fn unique_names(specs: &[ParamSpec]) -> Result<(), CovError> {
    let mut seen = std::collections::HashSet::new();
    for s in specs {
        let name = s.name.to_string();
        if !seen.insert(name.clone()) {
            return Err(CovError::DuplicateParam { name });
        }
    }
    Ok(())
}

/// A default or given value must be finite; the error names the parameter.
pub(crate) fn finite(name: &str, value: f64) -> Result<(), CovError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(CovError::NotFinite {
            name: name.to_owned(),
            value,
        })
    }
}
