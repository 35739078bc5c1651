//! `R = diag(σ²_{f(1)}, …, σ²_{f(n)})`: a residual variance per level of a
//! factor `f` (nlme's `varIdent`, ASReml's `idh`), in any row order.
//! Parameters `sigma^2_<level>` (transform `e^{2x}`), one per level in the
//! sorted level order.
//!
//! `∂R/∂σ²_k = diag(1[f(i) = k])`. Diagonal by type, so the engine treats
//! it in `O(n)`.
//!
//! This is the formula layer's stop-gap for `--residual "diag(f)"` until
//! the data-linked structures (issue 9) provide the general one.

use crate::structure::Diagonals;
use crate::{CovError, ParamSpec, Real, Structure};
use nalgebra::{DMatrix, Dyn};

/// The runtime shape: the level of each row and the level names.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Levels {
    pub(crate) codes: Vec<usize>,
    pub(crate) names: Vec<String>,
}

/// A variance per level of a factor (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LevelVariance;

impl Structure for LevelVariance {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = Dyn;
    type Shape = Levels;
    const NAME: &'static str = "LevelVariance";

    fn check_shape(shape: &Levels) -> Result<(), CovError> {
        match shape.codes.iter().find(|&&c| c >= shape.names.len()) {
            Some(c) => Err(CovError::InvalidShape {
                structure: Self::NAME,
                reason: format!("level {c} of {} levels", shape.names.len()),
            }),
            None => Ok(()),
        }
    }
    fn dims(shape: &Levels) -> (usize, usize) {
        (shape.codes.len(), shape.codes.len())
    }
    fn param_count(shape: &Levels) -> usize {
        shape.names.len()
    }
    fn param_specs(shape: &Levels) -> Vec<ParamSpec> {
        shape
            .names
            .iter()
            .map(|l| ParamSpec::variance(format!("sigma^2_{l}")))
            .collect()
    }
    fn value<T: Real>(shape: &Levels, theta: &[T]) -> DMatrix<T> {
        let n = shape.codes.len();
        DMatrix::from_fn(n, n, |i, j| {
            if i == j {
                theta[shape.codes[i]]
            } else {
                T::zero()
            }
        })
    }
    fn jacobian<T: Real>(shape: &Levels, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        let n = shape.codes.len();
        Some(
            (0..shape.names.len())
                .map(|k| {
                    DMatrix::from_fn(n, n, |i, j| {
                        if i == j && shape.codes[i] == k {
                            T::one()
                        } else {
                            T::zero()
                        }
                    })
                })
                .collect(),
        )
    }
    fn diagonal<T: Real>(shape: &Levels, theta: &[T]) -> Option<Diagonals<T>> {
        let d = shape.codes.iter().map(|&c| theta[c]).collect();
        let jac = (0..shape.names.len())
            .map(|k| {
                shape
                    .codes
                    .iter()
                    .map(|&c| if c == k { T::one() } else { T::zero() })
                    .collect()
            })
            .collect();
        Some((d, jac))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Covariance;

    #[test]
    fn values_diagonal_and_gradients() {
        let shape = Levels {
            codes: vec![1, 0, 1],
            names: vec!["a".into(), "b".into()],
        };
        let c = Covariance::<LevelVariance>::new(shape).unwrap();
        assert_eq!(c.names(), ["sigma^2_a", "sigma^2_b"]);
        // free (0.5, −0.25) → σ² = (e, e^{−0.5})
        let v = c.value(&[0.5, -0.25]).unwrap();
        assert!((v[(1, 1)] - std::f64::consts::E).abs() < 1e-15);
        assert!((v[(0, 0)] - (-0.5f64).exp()).abs() < 1e-15);
        assert_eq!(v[(0, 1)], 0.0);
        let (d, _) = c.diagonal(&[0.5, -0.25]).unwrap().unwrap();
        assert_eq!(d, [v[(0, 0)], v[(1, 1)], v[(2, 2)]]);
        for x in [[0.0, 0.0], [0.5, -0.25], [-3.0, 2.0]] {
            let g = c.check_gradients(&x).unwrap();
            assert!(g.max_abs_diff() < 1e-12, "{g:?}");
        }
    }
}
