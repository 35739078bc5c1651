//! `V_ij = σ_{lᵢ} σ_{lⱼ} ρ^|tᵢ−tⱼ|` for rows `i`, `j` of the same group, 0
//! across groups: AR1 over a whole-number visit index with a variance per
//! visit (ASReml `arh`). `lᵢ` is the time level of row `i`, `σ_l = √σ²_l`.
//! Parameters `sigma^2_<level>` (`e^{2x}`, one per visit) and `rho`
//! (`2·sigmoid(x) − 1`).
//!
//! `∂V_ij/∂σ²_l = ([lᵢ = l] σ_{lⱼ}/(2σ_{lᵢ}) + [lⱼ = l] σ_{lᵢ}/(2σ_{lⱼ})) ρ^k`,
//! `∂V_ij/∂ρ = σ_{lᵢ} σ_{lⱼ} k ρ^{k−1}` with `k = |tᵢ−tⱼ|`.

use super::{leaf, power_and_derivative, powers, GroupedTimes};
use crate::{CovError, ParamSpec, Real, Structure, Transform};
use nalgebra::{DMatrix, Dyn};

leaf! {
    /// Heterogeneous AR1 within each group over a visit index.
    ///
    /// ```
    /// use covreml::structures::grouped::{GroupedTimes, ARH};
    /// use covreml::{Covariance, Structure};
    /// // subject b misses visit 2
    /// let s = GroupedTimes::new(&["a", "a", "a", "b", "b"], &[1.0, 2.0, 3.0, 3.0, 1.0]).unwrap();
    /// let c = Covariance::<ARH>::new(s.clone()).unwrap();
    /// assert_eq!(c.names(), ["sigma^2_1", "sigma^2_2", "sigma^2_3", "rho"]);
    /// let v = ARH::value(&s, &[1.0, 4.0, 9.0, 0.5]); // σ = 1, 2, 3
    /// assert_eq!(v[(0, 1)], 1.0); // 1 · 2 · 0.5
    /// assert_eq!(v[(3, 4)], 0.75); // 3 · 1 · 0.5²
    /// assert_eq!(v[(2, 2)], 9.0);
    /// assert_eq!(v[(2, 3)], 0.0);
    /// ```
    ARH
}

impl Structure for ARH {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = Dyn;
    type Shape = GroupedTimes;
    const NAME: &'static str = "ARH";

    fn check_shape(shape: &GroupedTimes) -> Result<(), CovError> {
        shape.require_integer_times(Self::NAME)?;
        shape.require_distinct_times(Self::NAME)
    }
    fn dims(shape: &GroupedTimes) -> (usize, usize) {
        (shape.len(), shape.len())
    }
    fn param_count(shape: &GroupedTimes) -> usize {
        shape.levels().len() + 1
    }
    fn param_specs(shape: &GroupedTimes) -> Vec<ParamSpec> {
        let mut specs = super::level_variances(&shape.level_labels());
        specs.push(ParamSpec::new(
            "rho",
            0.0,
            Transform::correlation(-1.0, 1.0),
        ));
        specs
    }
    fn value<T: Real>(shape: &GroupedTimes, theta: &[T]) -> DMatrix<T> {
        let nl = shape.levels().len();
        let p = powers(theta[nl], shape.max_lag());
        super::heterogeneous(shape, &theta[..nl], |i, j| p[shape.lag(i, j)])
    }
    fn jacobian<T: Real>(shape: &GroupedTimes, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        let nl = shape.levels().len();
        let p = powers(theta[nl], shape.max_lag());
        let corr = |i: usize, j: usize| {
            let (c, d) = power_and_derivative(&p, shape.lag(i, j));
            (c, Some((0, d)))
        };
        Some(super::heterogeneous_jacobian(shape, &theta[..nl], 1, corr))
    }
    /// Block diagonal over the groups: each group's small dense inverse.
    fn sparse_inverse<T: Real>(
        shape: &GroupedTimes,
        theta: &[T],
    ) -> Option<crate::SparseInverse<T>> {
        super::block_inverse::<Self, T>(shape, theta)
    }
}
