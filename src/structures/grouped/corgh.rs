//! `V_ij = σ_{lᵢ} σ_{lⱼ} C[lᵢ, lⱼ]` for rows `i`, `j` of the same group, 0
//! across groups: an unstructured covariance over the time levels written as
//! a general correlation matrix `C` times standard deviations (ASReml
//! `corgh`; nlme `corSymm(form = ~ 1 | group)` × `varIdent(form = ~ 1 | time)`).
//! `lᵢ` is the time level of row `i`, `σ_l = √σ²_l`, `C[l, l] = 1`.
//!
//! Parameters: `sigma^2_<level>` (`e^{2x}`, one per level), then
//! `rho_<a>_<b>` for levels `a < b` in row-major order of the upper
//! triangle — nlme's order `(1,2), (1,3), …, (2,3), …` — each
//! `2·sigmoid(x) − 1`. nlme's `varIdent` ratios `δ_l` and residual `σ²`
//! give `σ²_l = σ² δ_l²`.
//!
//! `∂V_ij/∂σ²_l = ([lᵢ = l] σ_{lⱼ}/(2σ_{lᵢ}) + [lⱼ = l] σ_{lᵢ}/(2σ_{lⱼ})) C[lᵢ, lⱼ]`,
//! `∂V_ij/∂ρ_ab = σ_{lᵢ} σ_{lⱼ}` where `{lᵢ, lⱼ} = {a, b}`.
//!
//! The correlations are each in `(−1, 1)`; nothing keeps `C` positive
//! definite (the REML step control halves steps that leave the cone).

use super::{leaf, GroupedTimes};
use crate::{CovError, ParamSpec, Real, Structure, Transform};
use nalgebra::{DMatrix, Dyn};

leaf! {
    /// Correlations times standard deviations over the time levels, within
    /// each group.
    ///
    /// ```
    /// use covreml::structures::grouped::{CorGH, GroupedTimes};
    /// use covreml::{Covariance, Structure};
    /// let s = GroupedTimes::new(&["a", "a", "a", "b", "b"], &[8.0, 10.0, 12.0, 12.0, 8.0]).unwrap();
    /// let c = Covariance::<CorGH>::new(s.clone()).unwrap();
    /// assert_eq!(
    ///     c.names(),
    ///     ["sigma^2_8", "sigma^2_10", "sigma^2_12", "rho_8_10", "rho_8_12", "rho_10_12"]
    /// );
    /// let v = CorGH::value(&s, &[1.0, 4.0, 9.0, 0.5, 0.25, -0.5]);
    /// assert_eq!(v[(0, 1)], 1.0); // 1 · 2 · 0.5
    /// assert_eq!(v[(1, 2)], -3.0); // 2 · 3 · (−0.5)
    /// assert_eq!(v[(3, 4)], 0.75); // 3 · 1 · 0.25
    /// assert_eq!(v[(4, 4)], 1.0);
    /// ```
    CorGH
}

/// Index of `ρ_ab` (`a < b`) among the correlations, row-major upper triangle of `L × L`.
fn upper(a: usize, b: usize, l: usize) -> usize {
    let (a, b) = if a < b { (a, b) } else { (b, a) };
    a * l - a * (a + 1) / 2 + (b - a - 1)
}

impl Structure for CorGH {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = Dyn;
    type Shape = GroupedTimes;
    const NAME: &'static str = "CorGH";

    fn check_shape(shape: &GroupedTimes) -> Result<(), CovError> {
        shape.require_distinct_times(Self::NAME)
    }
    fn dims(shape: &GroupedTimes) -> (usize, usize) {
        (shape.len(), shape.len())
    }
    fn param_count(shape: &GroupedTimes) -> usize {
        let l = shape.levels().len();
        l + l * (l - 1) / 2
    }
    fn param_specs(shape: &GroupedTimes) -> Vec<ParamSpec> {
        let labels = shape.level_labels();
        let mut specs = super::level_variances(&labels);
        for a in 0..labels.len() {
            for b in a + 1..labels.len() {
                let name = format!("rho_{}_{}", labels[a], labels[b]);
                specs.push(ParamSpec::new(name, 0.0, Transform::correlation(-1.0, 1.0)));
            }
        }
        specs
    }
    fn value<T: Real>(shape: &GroupedTimes, theta: &[T]) -> DMatrix<T> {
        let nl = shape.levels().len();
        let l = shape.level_of_rows();
        super::heterogeneous(shape, &theta[..nl], |i, j| {
            if l[i] == l[j] {
                T::one()
            } else {
                theta[nl + upper(l[i], l[j], nl)]
            }
        })
    }
    fn jacobian<T: Real>(shape: &GroupedTimes, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        let nl = shape.levels().len();
        let l = shape.level_of_rows();
        let corr = |i: usize, j: usize| {
            if l[i] == l[j] {
                (T::one(), None)
            } else {
                let k = upper(l[i], l[j], nl);
                (theta[nl + k], Some((k, T::one())))
            }
        };
        Some(super::heterogeneous_jacobian(
            shape,
            &theta[..nl],
            nl * (nl - 1) / 2,
            corr,
        ))
    }
    /// Block diagonal over the groups: each group's small dense inverse.
    fn sparse_inverse<T: Real>(
        shape: &GroupedTimes,
        theta: &[T],
    ) -> Option<crate::SparseInverse<T>> {
        super::block_inverse::<Self, T>(shape, theta)
    }
}
