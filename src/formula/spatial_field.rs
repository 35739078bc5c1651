//! `V_ij = σ² ((1 − ν) k(dᵢⱼ/r) + ν δᵢⱼ)` within each level of a grouping
//! column and 0 between levels: independent isotropic fields with common
//! parameters (one per trial, say), and the same without a nugget,
//! `V_ij = σ² k(dᵢⱼ/r)` — nlme's `corExp`, `corGaus`, `corSpher` with
//! `form = ~ x + y | g` and `nugget = TRUE` or `FALSE`. Parameters
//! `sigma^2` (`e^{2x}`), `range` (`eˣ`, default the mean distance between
//! distinct positions within a level with a nugget, 90 % of the smallest
//! without) and, with a nugget, `nugget`
//! (`sigmoid(x)`, default 0.1 as nlme). The residual keywords
//! `exp(x + y | g, nugget)` and `exp(x + y)` build it; `exp(x + y, nugget)`
//! (one field, nugget) is [`Isotropic`](crate::structures::spatial::Isotropic).
//!
//! With `u = d/r` and `c = 1 − ν` (1 without a nugget), off the diagonal
//! within a level: `∂V/∂σ² = c k(u)`, `∂V/∂r = −σ² c k'(u) u / r`,
//! `∂V/∂ν = −σ² k(u)`; on the diagonal `∂V/∂σ² = 1` and the others 0.

use crate::structures::spatial::{Coordinates, Kernel};
use crate::{CovError, ParamKind, ParamSpec, Real, Structure, Transform};
use nalgebra::{DMatrix, Dyn};
use std::fmt;
use std::marker::PhantomData;

/// The runtime shape: the coordinates, the level of each row (all 0 for
/// one field), and whether there is a nugget.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Field {
    pub(crate) coords: Coordinates,
    pub(crate) groups: Vec<usize>,
    pub(crate) nugget: bool,
}

impl Field {
    /// The default range: with a nugget the mean distance between distinct
    /// positions within a level (as [`Isotropic`](crate::structures::spatial::Isotropic)),
    /// without one 90 % of the smallest (nlme's start), where `V` is far
    /// from singular; 1 if no two positions differ.
    fn default_range(&self) -> f64 {
        let n = self.coords.len();
        let (mut sum, mut count, mut min) = (0.0, 0usize, f64::INFINITY);
        for i in 0..n {
            for j in 0..i {
                let d = self.coords.distance(i, j);
                if self.groups[i] == self.groups[j] && d > 0.0 {
                    sum += d;
                    count += 1;
                    min = min.min(d);
                }
            }
        }
        if count == 0 {
            1.0
        } else if self.nugget {
            sum / count as f64
        } else {
            0.9 * min
        }
    }
}

/// Independent isotropic fields per level, with or without a nugget (see
/// the module docs).
pub(crate) struct SpatialField<K>(PhantomData<K>);

impl<K> Clone for SpatialField<K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K> Copy for SpatialField<K> {}
impl<K> Default for SpatialField<K> {
    fn default() -> Self {
        SpatialField(PhantomData)
    }
}
impl<K: Kernel> fmt::Debug for SpatialField<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpatialField<{}>", K::NAME)
    }
}

impl<K: Kernel> Structure for SpatialField<K> {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = Dyn;
    type Shape = Field;
    const NAME: &'static str = K::NAME;

    fn check_shape(shape: &Field) -> Result<(), CovError> {
        if shape.groups.len() != shape.coords.len() {
            return Err(CovError::InvalidShape {
                structure: Self::NAME,
                reason: format!(
                    "{} group codes for {} rows",
                    shape.groups.len(),
                    shape.coords.len()
                ),
            });
        }
        Ok(())
    }
    fn dims(shape: &Field) -> (usize, usize) {
        (shape.coords.len(), shape.coords.len())
    }
    fn param_count(shape: &Field) -> usize {
        2 + usize::from(shape.nugget)
    }
    fn param_specs(shape: &Field) -> Vec<ParamSpec> {
        let mut p = vec![
            ParamSpec::variance("sigma^2"),
            ParamSpec::new("range", shape.default_range().ln(), Transform::Exp)
                .kind(ParamKind::Range),
        ];
        if shape.nugget {
            p.push(
                ParamSpec::new("nugget", (0.1f64 / 0.9).ln(), Transform::Sigmoid)
                    .kind(ParamKind::Other),
            );
        }
        p
    }
    fn value<T: Real>(shape: &Field, theta: &[T]) -> DMatrix<T> {
        let (s2, r) = (theta[0], theta[1]);
        let c = if shape.nugget {
            s2 * (T::one() - theta[2])
        } else {
            s2
        };
        let n = shape.coords.len();
        DMatrix::from_fn(n, n, |i, j| {
            if i == j {
                s2
            } else if shape.groups[i] != shape.groups[j] {
                T::zero()
            } else {
                c * K::k(T::c(shape.coords.distance(i, j)) / r)
            }
        })
    }
    fn jacobian<T: Real>(shape: &Field, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        let (s2, r) = (theta[0], theta[1]);
        let one_nu = if shape.nugget {
            T::one() - theta[2]
        } else {
            T::one()
        };
        let n = shape.coords.len();
        let mut out = vec![DMatrix::zeros(n, n); Self::param_count(shape)];
        for j in 0..n {
            for i in 0..n {
                if i == j {
                    out[0][(i, i)] = T::one();
                    continue;
                }
                if shape.groups[i] != shape.groups[j] {
                    continue;
                }
                let u = T::c(shape.coords.distance(i, j)) / r;
                let k = K::k(u);
                out[0][(i, j)] = one_nu * k;
                out[1][(i, j)] = -s2 * one_nu * K::dk(u) * u / r;
                if shape.nugget {
                    out[2][(i, j)] = -s2 * k;
                }
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structures::spatial::{Exponential, Gaussian, Isotropic};
    use crate::Covariance;

    fn field(groups: Vec<usize>, nugget: bool) -> Field {
        Field {
            coords: Coordinates::new(&[&[0.0, 3.0, 0.0, 1.0], &[0.0, 4.0, 1.0, 1.0]]).unwrap(),
            groups,
            nugget,
        }
    }

    #[test]
    fn one_group_with_a_nugget_is_isotropic() {
        let f = field(vec![0; 4], true);
        let theta = [2.0f64, 5.0, 0.2];
        let a = SpatialField::<Gaussian>::value(&f, &theta);
        let b = Isotropic::<Gaussian>::value(&f.coords, &theta);
        assert!((a - b).abs().max() < 1e-15);
    }

    #[test]
    fn groups_are_independent_and_gradients_hold() {
        let f = field(vec![0, 1, 0, 1], false);
        let v = SpatialField::<Exponential>::value(&f, &[2.0f64, 5.0]);
        assert_eq!(v[(0, 1)], 0.0);
        assert!((v[(0, 2)] - 2.0 * (-0.2f64).exp()).abs() < 1e-15);
        for nugget in [false, true] {
            let c = Covariance::<SpatialField<Exponential>>::new(field(vec![0, 1, 0, 1], nugget))
                .unwrap();
            let x = vec![0.1; c.n_params()];
            assert!(c.check_gradients(&x).unwrap().max_abs_diff() < 1e-10);
        }
    }
}
