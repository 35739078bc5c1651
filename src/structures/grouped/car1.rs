//! `V_ij = σ² φ^|tᵢ−tⱼ|` for rows `i`, `j` of the same group, 0 across
//! groups, with `t` a continuous time (nlme `corCAR1(form = ~ t | group)`,
//! whose `Phi` is this `φ`: the correlation one time unit apart).
//! Parameters `sigma^2` (`e^{2x}`) and `phi` (`sigmoid(x)`, onto `(0, 1)`).
//!
//! `∂V_ij/∂σ² = φ^d`, `∂V_ij/∂φ = σ² d φ^{d−1}` with `d = |tᵢ−tⱼ|` (0 for `d = 0`).

use super::{leaf, within, GroupedTimes};
use crate::{CovError, ParamSpec, ParamTable, Real, Structure, Transform};
use nalgebra::{DMatrix, Dyn};

leaf! {
    /// Continuous-time AR1 within each group: unequally spaced times, any
    /// row order, unbalanced groups.
    ///
    /// ```
    /// use covreml::structures::grouped::{GroupedTimes, CAR1};
    /// use covreml::{Covariance, Structure};
    /// let s = GroupedTimes::new(&["a", "b", "a"], &[1.0, 2.0, 3.5]).unwrap();
    /// let v = CAR1::value(&s, &[2.0f64, 0.5]); // σ² = 2, φ = 0.5
    /// assert!((v[(0, 2)] - 0.3535533905932738).abs() < 1e-15); // 2 · 0.5^2.5
    /// assert_eq!(v[(0, 1)], 0.0);
    /// assert_eq!(v[(1, 1)], 2.0);
    /// let c = Covariance::<CAR1>::new(s).unwrap();
    /// assert_eq!(c.names(), ["sigma^2", "phi"]);
    /// let j = c.jacobian(&[0.0, 0.0]).unwrap(); // σ² = 1, φ = 0.5, dφ/dx = 0.25
    /// assert!((j[1][(0, 2)] - 0.25 * 2.5 * 0.5f64.powf(1.5)).abs() < 1e-15);
    /// ```
    #[derive(crate::ParamTable)]
    #[params("sigma^2", "phi")]
    CAR1
}

impl Structure for CAR1 {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = <Self as ParamTable>::Count;
    type Shape = GroupedTimes;
    const NAME: &'static str = "CAR1";

    fn check_shape(shape: &GroupedTimes) -> Result<(), CovError> {
        shape.require_distinct_times(Self::NAME)
    }
    fn dims(shape: &GroupedTimes) -> (usize, usize) {
        (shape.len(), shape.len())
    }
    fn param_count(_: &GroupedTimes) -> usize {
        2
    }
    fn param_specs(_: &GroupedTimes) -> Vec<ParamSpec> {
        vec![
            ParamSpec::variance(Self::PARAM_NAMES[0]),
            ParamSpec::new(Self::PARAM_NAMES[1], 0.0, Transform::Sigmoid),
        ]
    }
    fn value<T: Real>(shape: &GroupedTimes, theta: &[T]) -> DMatrix<T> {
        let t = shape.times();
        within(shape, |i, j| theta[0] * pow(theta[1], (t[i] - t[j]).abs()))
    }
    fn jacobian<T: Real>(shape: &GroupedTimes, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        let t = shape.times();
        let (s2, phi) = (theta[0], theta[1]);
        let d_s2 = within(shape, |i, j| pow(phi, (t[i] - t[j]).abs()));
        let d_phi = within(shape, |i, j| {
            let d = (t[i] - t[j]).abs();
            if d == 0.0 {
                T::zero()
            } else {
                s2 * T::c(d) * pow(phi, d - 1.0)
            }
        });
        Some(vec![d_s2, d_phi])
    }
    /// Block diagonal over the groups: each group's small dense inverse.
    fn sparse_inverse<T: Real>(
        shape: &GroupedTimes,
        theta: &[T],
    ) -> Option<crate::SparseInverse<T>> {
        super::block_inverse::<Self, T>(shape, theta)
    }
}

/// `φ^d` for `d ≥ 0`: 1 at `d = 0`, `φ` itself at `d = 1`.
fn pow<T: Real>(phi: T, d: f64) -> T {
    if d == 0.0 {
        T::one()
    } else if d == 1.0 {
        phi
    } else {
        phi.powf(T::c(d))
    }
}
