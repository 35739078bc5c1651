//! `R = σ² diag(1/w_1, …, 1/w_n)`: an iid residual with prior weights
//! `w_i > 0` (lme4's and R's `weights =`: a row with weight 2 has half the
//! residual variance). One parameter `sigma^2` (transform `e^{2x}`).
//!
//! `∂R/∂σ² = diag(1/w_i)`. Diagonal by type, so the engine treats it in
//! `O(n)`; `log|R|` includes `−Σ log w_i`, so the log-likelihood is lme4's.

use crate::structure::Diagonals;
use crate::{ParamSpec, Real, Structure};
use nalgebra::{DMatrix, Dyn};

/// The runtime shape: `1/w_i` of each row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct InverseWeights(pub(crate) Vec<f64>);

/// A residual variance scaled by known prior weights (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Weighted;

impl Structure for Weighted {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = Dyn;
    type Shape = InverseWeights;
    const NAME: &'static str = "Weighted";

    fn dims(shape: &InverseWeights) -> (usize, usize) {
        (shape.0.len(), shape.0.len())
    }
    fn param_count(_: &InverseWeights) -> usize {
        1
    }
    fn param_specs(_: &InverseWeights) -> Vec<ParamSpec> {
        vec![ParamSpec::variance("sigma^2")]
    }
    fn value<T: Real>(shape: &InverseWeights, theta: &[T]) -> DMatrix<T> {
        let n = shape.0.len();
        DMatrix::from_fn(n, n, |i, j| {
            if i == j {
                theta[0] * T::c(shape.0[i])
            } else {
                T::zero()
            }
        })
    }
    fn jacobian<T: Real>(shape: &InverseWeights, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        let n = shape.0.len();
        Some(vec![DMatrix::from_fn(n, n, |i, j| {
            if i == j {
                T::c(shape.0[i])
            } else {
                T::zero()
            }
        })])
    }
    fn diagonal<T: Real>(shape: &InverseWeights, theta: &[T]) -> Option<Diagonals<T>> {
        let d = shape.0.iter().map(|&v| theta[0] * T::c(v)).collect();
        let jac = vec![shape.0.iter().map(|&v| T::c(v)).collect()];
        Some((d, jac))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Covariance;

    #[test]
    fn values_diagonal_and_gradients() {
        let c = Covariance::<Weighted>::new(InverseWeights(vec![1.0, 0.5, 0.25])).unwrap();
        assert_eq!(c.names(), ["sigma^2"]);
        let v = c.value(&[0.5]).unwrap(); // σ² = e
        assert!((v[(1, 1)] - 0.5 * std::f64::consts::E).abs() < 1e-15);
        assert_eq!(v[(0, 1)], 0.0);
        let (d, _) = c.diagonal(&[0.5]).unwrap().unwrap();
        assert_eq!(d, [v[(0, 0)], v[(1, 1)], v[(2, 2)]]);
        let g = c.check_gradients(&[0.3]).unwrap();
        assert!(g.max_abs_diff() < 1e-12, "{g:?}");
    }
}
