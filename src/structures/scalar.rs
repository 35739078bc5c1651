//! `V = σ² I` (n × n). Parameter `sigma^2`, transform `e^{2x}`.
//!
//! `∂V/∂σ² = I`.

use super::zero_sized;
use crate::structure::{Diagonals, Size};
use crate::{ParamSpec, ParamTable, Real, Structure};
use nalgebra::DMatrix;

zero_sized! {
    /// Scaled identity `σ² I_n`: one parameter `sigma^2` (transform `e^{2x}`).
    ///
    /// ```
    /// use covreml::{Covariance, Scalar};
    /// let s = Covariance::<Scalar>::new(3).unwrap();
    /// let v = s.value(&[0.3]).unwrap(); // σ² = e^{0.6}
    /// assert!((v[(0, 0)] - 1.8221188003905089).abs() < 1e-15);
    /// assert_eq!(v[(0, 1)], 0.0);
    /// assert_eq!(s.names(), ["sigma^2"]);
    /// ```
    #[derive(crate::ParamTable)]
    #[params("sigma^2")]
    Scalar<N>
}

impl<N: Size> Structure for Scalar<N> {
    type Rows = N;
    type Cols = N;
    type NParams = <Self as ParamTable>::Count;
    type Shape = N::Shape;
    const NAME: &'static str = "Scalar";

    fn dims(shape: &Self::Shape) -> (usize, usize) {
        (N::get(shape), N::get(shape))
    }
    fn param_count(_: &Self::Shape) -> usize {
        Self::PARAM_NAMES.len()
    }
    fn param_specs(_: &Self::Shape) -> Vec<ParamSpec> {
        vec![ParamSpec::variance(Self::PARAM_NAMES[0])]
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let n = N::get(shape);
        DMatrix::from_diagonal_element(n, n, theta[0])
    }
    fn jacobian<T: Real>(shape: &Self::Shape, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        let n = N::get(shape);
        Some(vec![DMatrix::identity(n, n)])
    }
    fn diagonal<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Diagonals<T>> {
        let n = N::get(shape);
        Some((vec![theta[0]; n], vec![vec![T::one(); n]]))
    }
}
