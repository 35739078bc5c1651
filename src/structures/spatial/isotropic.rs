//! `V_ij = σ² ((1 − ν) k(dᵢⱼ/r) + ν δᵢⱼ)`: an isotropic spatial correlation
//! with a nugget, `dᵢⱼ` the Euclidean distance between the rows'
//! coordinates and `k` a [`Kernel`] — nlme's `corExp`, `corGaus`,
//! `corSpher` with `nugget = TRUE` (so `V_ij = σ²(1 − ν) k(d/r)` for `i ≠ j`,
//! even at `d = 0`, and `σ²` on the diagonal). Parameters `sigma^2`
//! (`e^{2x}`), `range` (`eˣ`, nlme's `range`, default the mean distance
//! between distinct positions) and `nugget` (`sigmoid(x)`, onto `(0, 1)`,
//! default 0.1 as in nlme).
//!
//! With `u = d/r`, off the diagonal: `∂V/∂σ² = (1 − ν) k(u)`,
//! `∂V/∂r = −σ² (1 − ν) k'(u) u / r`, `∂V/∂ν = −σ² k(u)`; on it
//! `∂V/∂σ² = 1` and the others 0.

use super::{Coordinates, Kernel};
use crate::{ParamKind, ParamSpec, Real, Structure, Transform};
use nalgebra::{Const, DMatrix, Dyn};
use std::fmt;
use std::marker::PhantomData;

/// Isotropic spatial covariance with a nugget, kernel `K`.
///
/// ```
/// use covreml::structures::spatial::{Coordinates, Exponential, Isotropic, Spherical};
/// use covreml::{Covariance, Structure};
/// let xy = Coordinates::new(&[&[0.0, 3.0, 0.0], &[0.0, 4.0, 1.0]]).unwrap();
/// // σ² = 2, range 5, nugget 0.2: between the first two points (5 apart)
/// let v = Isotropic::<Exponential>::value(&xy, &[2.0f64, 5.0, 0.2]);
/// assert!((v[(0, 1)] - 1.6 * (-1f64).exp()).abs() < 1e-15);
/// assert_eq!(v[(1, 1)], 2.0);
/// let s = Isotropic::<Spherical>::value(&xy, &[2.0f64, 2.0, 0.2]); // d = 1: u = 0.5
/// assert!((s[(0, 2)] - 1.6 * 0.3125).abs() < 1e-15);
/// assert_eq!(s[(0, 1)], 0.0); // beyond the range
/// let c = Covariance::<Isotropic<Exponential>>::new(xy).unwrap();
/// assert_eq!(c.names(), ["sigma^2", "range", "nugget"]);
/// ```
pub struct Isotropic<K>(PhantomData<K>);

impl<K> Clone for Isotropic<K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K> Copy for Isotropic<K> {}
impl<K> Default for Isotropic<K> {
    fn default() -> Self {
        Isotropic(PhantomData)
    }
}
impl<K: Kernel> fmt::Debug for Isotropic<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Isotropic<{}>", K::NAME)
    }
}

impl<K: Kernel> Structure for Isotropic<K> {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = Const<3>;
    type Shape = Coordinates;
    const NAME: &'static str = K::NAME;

    fn dims(shape: &Coordinates) -> (usize, usize) {
        (shape.len(), shape.len())
    }
    fn param_count(_: &Coordinates) -> usize {
        3
    }
    fn param_specs(shape: &Coordinates) -> Vec<ParamSpec> {
        vec![
            ParamSpec::variance("sigma^2"),
            ParamSpec::new("range", shape.mean_distance().ln(), Transform::Exp)
                .kind(ParamKind::Range),
            ParamSpec::new("nugget", (0.1f64 / 0.9).ln(), Transform::Sigmoid)
                .kind(ParamKind::Other),
        ]
    }
    fn value<T: Real>(shape: &Coordinates, theta: &[T]) -> DMatrix<T> {
        let (s2, r, nu) = (theta[0], theta[1], theta[2]);
        let c = s2 * (T::one() - nu);
        let n = shape.len();
        DMatrix::from_fn(n, n, |i, j| {
            if i == j {
                s2
            } else {
                c * K::k(T::c(shape.distance(i, j)) / r)
            }
        })
    }
    fn jacobian<T: Real>(shape: &Coordinates, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        let (s2, r, nu) = (theta[0], theta[1], theta[2]);
        let one_nu = T::one() - nu;
        let n = shape.len();
        let mut out = vec![DMatrix::zeros(n, n); 3];
        for j in 0..n {
            for i in 0..n {
                if i == j {
                    out[0][(i, i)] = T::one();
                    continue;
                }
                let u = T::c(shape.distance(i, j)) / r;
                let k = K::k(u);
                out[0][(i, j)] = one_nu * k;
                out[1][(i, j)] = -s2 * one_nu * K::dk(u) * u / r;
                out[2][(i, j)] = -s2 * k;
            }
        }
        Some(out)
    }
}
