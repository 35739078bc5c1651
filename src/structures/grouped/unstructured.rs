//! `V_ij = Σ[lᵢ, lⱼ]` for rows `i`, `j` of the same group, 0 across groups,
//! where `lᵢ` is the time level of row `i` (its index among the distinct
//! times) and `Σ` is an unstructured `L × L` matrix over the `L` levels
//! (ASReml `us(time):id(subject)`). Parameters `sigma^2_a_b` for levels
//! `b ≤ a` in row-major order of the lower triangle, named by the level
//! labels (`sigma^2_10_8`); variances `e^{2x}`, covariances the identity.
//!
//! `∂V_ij/∂σ²_ab = 1` where `{lᵢ, lⱼ} = {a, b}`, else 0. Groups with missed
//! visits take the rows and columns of `Σ` of the times they have.

use super::{leaf, within, GroupedTimes};
use crate::{CovError, ParamKind, ParamSpec, Real, Structure, Transform};
use nalgebra::{DMatrix, Dyn};

leaf! {
    /// An unstructured covariance over the time levels, within each group.
    ///
    /// Nothing keeps `Σ` positive definite; [`CorGH`](super::CorGH) is the
    /// same model as correlations times standard deviations.
    ///
    /// ```
    /// use covreml::structures::grouped::{GroupedTimes, RepeatedUnstructured};
    /// use covreml::{Covariance, Structure};
    /// // subject b misses time 2
    /// let s = GroupedTimes::new(&["a", "b", "a", "b", "a"], &[3.0, 1.0, 1.0, 3.0, 2.0]).unwrap();
    /// let c = Covariance::<RepeatedUnstructured>::new(s.clone()).unwrap();
    /// assert_eq!(
    ///     c.names(),
    ///     ["sigma^2_1_1", "sigma^2_2_1", "sigma^2_2_2", "sigma^2_3_1", "sigma^2_3_2", "sigma^2_3_3"]
    /// );
    /// let v = RepeatedUnstructured::value(&s, &[4.0, 1.0, 5.0, 0.5, 2.0, 6.0]);
    /// assert_eq!(v[(1, 3)], 0.5); // b: times 1 and 3
    /// assert_eq!(v[(0, 4)], 2.0); // a: times 3 and 2
    /// assert_eq!(v[(0, 0)], 6.0);
    /// assert_eq!(v[(0, 1)], 0.0);
    /// ```
    RepeatedUnstructured
}

/// Index of `σ²_ab` (`b ≤ a`) in the row-major lower triangle.
fn tri(a: usize, b: usize) -> usize {
    let (a, b) = if a >= b { (a, b) } else { (b, a) };
    a * (a + 1) / 2 + b
}

impl Structure for RepeatedUnstructured {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = Dyn;
    type Shape = GroupedTimes;
    const NAME: &'static str = "RepeatedUnstructured";

    fn check_shape(shape: &GroupedTimes) -> Result<(), CovError> {
        shape.require_distinct_times(Self::NAME)
    }
    fn dims(shape: &GroupedTimes) -> (usize, usize) {
        (shape.len(), shape.len())
    }
    fn param_count(shape: &GroupedTimes) -> usize {
        let l = shape.levels().len();
        l * (l + 1) / 2
    }
    fn param_specs(shape: &GroupedTimes) -> Vec<ParamSpec> {
        let labels = shape.level_labels();
        let mut specs = Vec::new();
        for a in 0..labels.len() {
            for b in 0..=a {
                let t = if a == b {
                    Transform::ExpPow2
                } else {
                    Transform::Identity
                };
                let name = format!("sigma^2_{}_{}", labels[a], labels[b]);
                let kind = if a == b {
                    ParamKind::Variance
                } else {
                    ParamKind::OffDiagonal
                };
                specs.push(ParamSpec::new(name, 0.0, t).kind(kind));
            }
        }
        specs
    }
    fn value<T: Real>(shape: &GroupedTimes, theta: &[T]) -> DMatrix<T> {
        let l = shape.level_of_rows();
        within(shape, |i, j| theta[tri(l[i], l[j])])
    }
    fn jacobian<T: Real>(shape: &GroupedTimes, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        let l = shape.level_of_rows();
        let n = shape.len();
        let mut out = vec![DMatrix::zeros(n, n); Self::param_count(shape)];
        for rows in shape.members() {
            for &i in rows {
                for &j in rows {
                    out[tri(l[i], l[j])][(i, j)] = T::one();
                }
            }
        }
        Some(out)
    }
    /// Block diagonal over the groups: each group's small dense inverse.
    fn sparse_inverse<T: Real>(
        shape: &GroupedTimes,
        theta: &[T],
    ) -> Option<crate::SparseInverse<T>> {
        super::block_inverse::<Self, T>(shape, theta)
    }
}
