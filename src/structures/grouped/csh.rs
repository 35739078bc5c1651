//! `V_ij = σ_{lᵢ} σ_{lⱼ} (ρ + (1 − ρ) δᵢⱼ)` for rows `i`, `j` of the same
//! group, 0 across groups: compound symmetry with a variance per time level
//! (ASReml `csh`). `lᵢ` is the time level of row `i`, `σ_l = √σ²_l`.
//! Parameters `sigma^2_<level>` (`e^{2x}`, one per time level) and `rho`
//! (sigmoid onto `(−1/(m−1), 1)`, `m` the size of the largest group).
//!
//! `∂V_ij/∂σ²_l = ([lᵢ = l] σ_{lⱼ}/(2σ_{lᵢ}) + [lⱼ = l] σ_{lᵢ}/(2σ_{lⱼ})) cᵢⱼ`
//! with `cᵢⱼ = ρ + (1 − ρ) δᵢⱼ`, and `∂V_ij/∂ρ = σ_{lᵢ} σ_{lⱼ} (1 − δᵢⱼ)`.

use super::{leaf, GroupedTimes};
use crate::structures::{equicorrelation_transform, need_two};
use crate::{CovError, ParamSpec, Real, Structure};
use nalgebra::{DMatrix, Dyn};

leaf! {
    /// Heterogeneous compound symmetry within each group.
    ///
    /// ```
    /// use covreml::structures::grouped::{GroupedTimes, CSH};
    /// use covreml::{Covariance, Structure};
    /// let s = GroupedTimes::new(&["a", "a", "b"], &[1.0, 2.0, 2.0]).unwrap();
    /// assert_eq!(Covariance::<CSH>::new(s.clone()).unwrap().names(), ["sigma^2_1", "sigma^2_2", "rho"]);
    /// let v = CSH::value(&s, &[4.0, 9.0, 0.5]); // σ = 2 and 3 at times 1 and 2
    /// assert_eq!(v[(0, 1)], 3.0); // 2 · 3 · 0.5
    /// assert_eq!(v[(1, 1)], 9.0);
    /// assert_eq!(v[(2, 2)], 9.0);
    /// assert_eq!(v[(1, 2)], 0.0);
    /// ```
    CSH
}

impl Structure for CSH {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = Dyn;
    type Shape = GroupedTimes;
    const NAME: &'static str = "CSH";

    fn check_shape(shape: &GroupedTimes) -> Result<(), CovError> {
        need_two(Self::NAME, shape.max_group_size())
    }
    fn dims(shape: &GroupedTimes) -> (usize, usize) {
        (shape.len(), shape.len())
    }
    fn param_count(shape: &GroupedTimes) -> usize {
        shape.levels().len() + 1
    }
    fn param_specs(shape: &GroupedTimes) -> Vec<ParamSpec> {
        let m = shape.max_group_size().max(2);
        let mut specs = super::level_variances(&shape.level_labels());
        specs.push(ParamSpec::new("rho", 0.0, equicorrelation_transform(m)));
        specs
    }
    fn value<T: Real>(shape: &GroupedTimes, theta: &[T]) -> DMatrix<T> {
        let nl = shape.levels().len();
        let rho = theta[nl];
        super::heterogeneous(
            shape,
            &theta[..nl],
            |i, j| if i == j { T::one() } else { rho },
        )
    }
    fn jacobian<T: Real>(shape: &GroupedTimes, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        let nl = shape.levels().len();
        let rho = theta[nl];
        let corr = |i: usize, j: usize| {
            if i == j {
                (T::one(), None)
            } else {
                (rho, Some((0, T::one())))
            }
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
