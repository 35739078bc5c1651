//! `V = diag(σ²_0, …, σ²_{n−1})`. Parameters `sigma^2_i`, transform `e^{2x}` each.
//!
//! `∂V/∂σ²_i = E_ii`.

use super::zero_sized;
use crate::structure::{Diagonals, Size};
use crate::{ParamSpec, Real, Structure};
use nalgebra::DMatrix;

zero_sized! {
    /// Diagonal matrix with its own variance per row: `n` parameters
    /// `sigma^2_0 … sigma^2_{n-1}` (a static size `Const<N>` gives `Const<N>` parameters).
    ///
    /// ```
    /// use covreml::{Covariance, Diagonal};
    /// let d = Covariance::<Diagonal>::new(3).unwrap();
    /// let v = d.value(&[0.1, -0.2, 0.4]).unwrap();
    /// assert!((v[(1, 1)] - 0.6703200460356393).abs() < 1e-15);
    /// assert_eq!(d.names(), ["sigma^2_0", "sigma^2_1", "sigma^2_2"]);
    /// ```
    Diagonal<N>
}

impl<N: Size> Structure for Diagonal<N> {
    type Rows = N;
    type Cols = N;
    type NParams = N;
    type Shape = N::Shape;
    const NAME: &'static str = "Diagonal";

    fn dims(shape: &Self::Shape) -> (usize, usize) {
        (N::get(shape), N::get(shape))
    }
    fn param_count(shape: &Self::Shape) -> usize {
        N::get(shape)
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        (0..N::get(shape))
            .map(|i| ParamSpec::variance(format!("sigma^2_{i}")))
            .collect()
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let n = N::get(shape);
        DMatrix::from_fn(n, n, |i, j| if i == j { theta[i] } else { T::zero() })
    }
    fn jacobian<T: Real>(shape: &Self::Shape, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        let n = N::get(shape);
        Some((0..n).map(|k| super::symmetric_unit(n, k, k)).collect())
    }
    fn diagonal<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Diagonals<T>> {
        let n = N::get(shape);
        let unit = |k: usize| {
            (0..n)
                .map(|i| if i == k { T::one() } else { T::zero() })
                .collect()
        };
        Some((theta[..n].to_vec(), (0..n).map(unit).collect()))
    }
}
