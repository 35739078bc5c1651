//! The response and the fixed-effect design, checked, with the response
//! shifted for numerical stability.
//!
//! REML depends on `y` only through error contrasts, so adding any
//! multiple of a constant column of `X` to `y` changes nothing but the
//! intercept. When `X` has a constant column, the engine fits
//! `y − c` (`c` the mean of `y`) and adds `c` back to that coefficient: an
//! offset such as 1e8 in `y` then never meets the arithmetic, and the
//! estimates do not depend on it.

use super::RemlError;
use faer::Mat;

/// The fixed part of a model: the response and the fixed-effect design,
/// checked (named apart from the structure `Fixed`, a known matrix, and
/// the public `FixedEffects`, the design a user gives).
pub(crate) struct FixedPart {
    /// The response as given.
    pub y_orig: Vec<f64>,
    /// The response the engine fits: `y_orig − shift` (see the module docs).
    pub y: Vec<f64>,
    pub x: Mat<f64>,
    /// Names of the columns of `X` (`beta[j]` unless named).
    pub names: Vec<String>,
    /// `(column j, c / X[·, j])`: the shift and the coefficient it moves.
    pub shift: Option<(usize, f64)>,
    /// What was done to the design the user gave (dropped columns), for the
    /// fit's warnings.
    pub notes: Vec<String>,
}

impl FixedPart {
    /// Builds from checked `y` and `X` (column major, faer), shifting `y`
    /// when `X` has a constant nonzero column.
    pub fn new(y: Vec<f64>, x: Mat<f64>) -> Self {
        let n = y.len();
        let names = (0..x.ncols()).map(|j| format!("beta[{j}]")).collect();
        let constant = (0..x.ncols()).find(|&j| {
            let c = x.col_as_slice(j);
            c[0] != 0.0 && c.iter().all(|&v| v == c[0])
        });
        let (y_fit, shift) = match constant {
            Some(j) if n > 0 => {
                let c = y.iter().sum::<f64>() / n as f64;
                let a = x[(0, j)];
                (y.iter().map(|v| v - c).collect(), Some((j, c / a)))
            }
            _ => (y.clone(), None),
        };
        FixedPart {
            y_orig: y,
            y: y_fit,
            x,
            names,
            shift,
            notes: Vec::new(),
        }
    }

    /// Names the columns of `X`; the number of names must match.
    pub fn set_names(&mut self, names: &[&str]) -> Result<(), RemlError> {
        check_names(names, self.p())?;
        self.names = names.iter().map(|s| s.to_string()).collect();
        Ok(())
    }

    pub fn n(&self) -> usize {
        self.y.len()
    }

    pub fn p(&self) -> usize {
        self.x.ncols()
    }

    /// The fixed effects of the original `y` from those of the shifted one.
    pub fn unshift_beta(&self, mut beta: Vec<f64>) -> Vec<f64> {
        if let Some((j, b)) = self.shift {
            beta[j] += b;
        }
        beta
    }

    /// The variance of `y` (population form), for the boundary of variances.
    pub fn var_y(&self) -> f64 {
        let n = self.n().max(1) as f64;
        let mean = self.y.iter().sum::<f64>() / n;
        self.y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n
    }
}

/// Errors unless `names` has one distinct name per column of `X`.
pub(crate) fn check_names<S: AsRef<str>>(names: &[S], p: usize) -> Result<(), RemlError> {
    if names.len() != p {
        return Err(RemlError::DimensionMismatch {
            operand: "fixed-effect names".into(),
            got: names.len().to_string(),
            expected: format!("{p} (the columns of X)"),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for d in names {
        if !seen.insert(d.as_ref()) {
            return Err(RemlError::InvalidOption {
                option: "fixed-effect names",
                reason: format!(
                    "`{}` names two columns of X; names must be distinct",
                    d.as_ref()
                ),
            });
        }
    }
    Ok(())
}
