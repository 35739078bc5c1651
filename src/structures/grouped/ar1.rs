//! `V_ij = σ² ρ^|tᵢ−tⱼ|` for rows `i`, `j` of the same group, 0 across
//! groups; `t` is a whole-number visit index (nlme
//! `corAR1(form = ~ visit | subject)`, ASReml `ar1(visit):id(subject)`).
//! Parameters `sigma^2` (`e^{2x}`) and `rho` (`2·sigmoid(x) − 1`).
//!
//! `∂V_ij/∂σ² = ρ^|tᵢ−tⱼ|`, `∂V_ij/∂ρ = σ² k ρ^{k−1}` with `k = |tᵢ−tⱼ|`
//! (0 for `k = 0`); powers by repeated multiplication, exact at `ρ = 0`.
//! A missed visit leaves a gap: visits 1 and 3 are `ρ²` apart.

use super::{leaf, power_and_derivative, powers, within, GroupedTimes};
use crate::{CovError, ParamSpec, ParamTable, Real, Structure, Transform};
use nalgebra::{DMatrix, Dyn};

leaf! {
    /// AR1 within each group over a whole-number visit index, in any row
    /// order, with unbalanced groups and missed visits.
    ///
    /// ```
    /// use covreml::structures::grouped::{GroupedTimes, RepeatedAR1};
    /// use covreml::{Covariance, Structure};
    /// // subject b's visit 2 is missing; rows in no particular order
    /// let s = GroupedTimes::new(&["b", "a", "b", "a"], &[3.0, 1.0, 1.0, 2.0]).unwrap();
    /// let v = RepeatedAR1::value(&s, &[2.0, 0.5]); // σ² = 2, ρ = 0.5
    /// assert_eq!(v[(0, 2)], 0.5); // b: visits 3 and 1, 2 · 0.5²
    /// assert_eq!(v[(1, 3)], 1.0); // a: visits 1 and 2, 2 · 0.5
    /// assert_eq!(v[(0, 1)], 0.0); // different subjects
    /// assert_eq!(v[(3, 3)], 2.0);
    /// // a repeated visit, or a time that is not a whole number, is an error
    /// let dup = GroupedTimes::new(&["a", "a"], &[1.0, 1.0]).unwrap();
    /// let e = Covariance::<RepeatedAR1>::new(dup).unwrap_err().to_string();
    /// assert!(e.contains("group `a` has time 1 twice (row 1 and row 2)"), "{e}");
    /// let frac = GroupedTimes::new(&["a", "a"], &[1.0, 1.5]).unwrap();
    /// assert!(Covariance::<RepeatedAR1>::new(frac).is_err());
    /// ```
    #[derive(crate::ParamTable)]
    #[params("sigma^2", "rho")]
    RepeatedAR1
}

impl Structure for RepeatedAR1 {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = <Self as ParamTable>::Count;
    type Shape = GroupedTimes;
    const NAME: &'static str = "RepeatedAR1";

    fn check_shape(shape: &GroupedTimes) -> Result<(), CovError> {
        shape.require_integer_times(Self::NAME)?;
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
            ParamSpec::new(Self::PARAM_NAMES[1], 0.0, Transform::correlation(-1.0, 1.0)),
        ]
    }
    fn value<T: Real>(shape: &GroupedTimes, theta: &[T]) -> DMatrix<T> {
        let p = powers(theta[1], shape.max_lag());
        within(shape, |i, j| theta[0] * p[shape.lag(i, j)])
    }
    fn jacobian<T: Real>(shape: &GroupedTimes, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        let p = powers(theta[1], shape.max_lag());
        let d_s2 = within(shape, |i, j| p[shape.lag(i, j)]);
        let d_rho = within(shape, |i, j| {
            theta[0] * power_and_derivative(&p, shape.lag(i, j)).1
        });
        Some(vec![d_s2, d_rho])
    }
    /// Block diagonal over the groups: each group's small dense inverse.
    fn sparse_inverse<T: Real>(
        shape: &GroupedTimes,
        theta: &[T],
    ) -> Option<crate::SparseInverse<T>> {
        super::block_inverse::<Self, T>(shape, theta)
    }
}
