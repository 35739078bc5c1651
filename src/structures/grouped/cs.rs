//! `V_ij = σ² (ρ + (1 − ρ) δᵢⱼ)` for rows `i`, `j` of the same group, 0
//! across groups (nlme `corCompSymm(form = ~ 1 | group)`; the marginal form
//! of a random intercept). Parameters `sigma^2` (`e^{2x}`) and `rho`
//! (sigmoid onto `(−1/(m−1), 1)`, `m` the size of the largest group: the
//! range where every block is positive definite).
//!
//! `∂V_ij/∂σ² = ρ + (1 − ρ) δᵢⱼ`, `∂V_ij/∂ρ = σ² (1 − δᵢⱼ)`.

use super::{leaf, within, GroupedTimes};
use crate::structures::{equicorrelation_transform, need_two};
use crate::{CovError, ParamSpec, ParamTable, Real, Structure};
use nalgebra::{DMatrix, Dyn};

leaf! {
    /// Compound symmetry within each group; groups of any sizes, rows in any
    /// order. Times are not used (repeated times are allowed).
    ///
    /// ```
    /// use covreml::structures::grouped::{GroupedTimes, RepeatedCS};
    /// use covreml::Structure;
    /// let s = GroupedTimes::new(&["a", "b", "a", "a"], &[0.0, 0.0, 1.0, 1.0]).unwrap();
    /// let v = RepeatedCS::value(&s, &[2.0, 0.25]);
    /// assert_eq!(v[(0, 2)], 0.5);
    /// assert_eq!(v[(2, 3)], 0.5);
    /// assert_eq!(v[(0, 1)], 0.0);
    /// assert_eq!(v[(1, 1)], 2.0);
    /// ```
    #[derive(crate::ParamTable)]
    #[params("sigma^2", "rho")]
    RepeatedCS
}

impl Structure for RepeatedCS {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = <Self as ParamTable>::Count;
    type Shape = GroupedTimes;
    const NAME: &'static str = "RepeatedCS";

    fn check_shape(shape: &GroupedTimes) -> Result<(), CovError> {
        need_two(Self::NAME, shape.max_group_size())
    }
    fn dims(shape: &GroupedTimes) -> (usize, usize) {
        (shape.len(), shape.len())
    }
    fn param_count(_: &GroupedTimes) -> usize {
        2
    }
    fn param_specs(shape: &GroupedTimes) -> Vec<ParamSpec> {
        let m = shape.max_group_size().max(2);
        vec![
            ParamSpec::variance(Self::PARAM_NAMES[0]),
            ParamSpec::new(Self::PARAM_NAMES[1], 0.0, equicorrelation_transform(m)),
        ]
    }
    fn value<T: Real>(shape: &GroupedTimes, theta: &[T]) -> DMatrix<T> {
        let (s2, rho) = (theta[0], theta[1]);
        within(shape, |i, j| if i == j { s2 } else { s2 * rho })
    }
    fn jacobian<T: Real>(shape: &GroupedTimes, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        let (s2, rho) = (theta[0], theta[1]);
        let d_s2 = within(shape, |i, j| if i == j { T::one() } else { rho });
        let d_rho = within(shape, |i, j| if i == j { T::zero() } else { s2 });
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
