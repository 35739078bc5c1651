//! Isotropic correlation kernels `k(u)` of the scaled distance `u = d/r`,
//! with their derivatives `k'(u)`, in nlme's parameterisation (`r` is
//! nlme's `range`):
//!
//! | kernel | `k(u)` | `k'(u)` |
//! |---|---|---|
//! | [`Exponential`] | `e^{−u}` | `−e^{−u}` |
//! | [`Gaussian`] | `e^{−u²}` | `−2u e^{−u²}` |
//! | [`Spherical`] | `1 − 1.5u + 0.5u³` for `u < 1`, else 0 | `1.5(u² − 1)` for `u < 1`, else 0 |

use crate::Real;
use std::fmt;

/// A correlation kernel of the scaled distance, for [`Isotropic`](super::Isotropic).
pub trait Kernel: Copy + Default + fmt::Debug + Send + Sync + 'static {
    /// The structure's name in messages (`"Exponential"`).
    const NAME: &'static str;
    /// `k(u)`, with `k(0) = 1`.
    fn k<T: Real>(u: T) -> T;
    /// `k'(u)`.
    fn dk<T: Real>(u: T) -> T;
}

/// `k(u) = e^{−u}` (nlme `corExp`).
///
/// ```
/// use covreml::structures::spatial::{Exponential, Kernel};
/// assert_eq!(Exponential::k(1.0f64), (-1f64).exp());
/// ```
#[derive(Clone, Copy, Default, Debug)]
pub struct Exponential;

impl Kernel for Exponential {
    const NAME: &'static str = "Exponential";
    fn k<T: Real>(u: T) -> T {
        (-u).exp()
    }
    fn dk<T: Real>(u: T) -> T {
        -(-u).exp()
    }
}

/// `k(u) = e^{−u²}` (nlme `corGaus`).
///
/// ```
/// use covreml::structures::spatial::{Gaussian, Kernel};
/// assert_eq!(Gaussian::k(2.0f64), (-4f64).exp());
/// ```
#[derive(Clone, Copy, Default, Debug)]
pub struct Gaussian;

impl Kernel for Gaussian {
    const NAME: &'static str = "Gaussian";
    fn k<T: Real>(u: T) -> T {
        (-u * u).exp()
    }
    fn dk<T: Real>(u: T) -> T {
        -(u + u) * (-u * u).exp()
    }
}

/// `k(u) = 1 − 1.5u + 0.5u³` for `u < 1`, 0 beyond (nlme `corSpher`).
///
/// ```
/// use covreml::structures::spatial::{Kernel, Spherical};
/// assert_eq!(Spherical::k(0.5f64), 0.3125);
/// assert_eq!(Spherical::k(1.5f64), 0.0);
/// ```
#[derive(Clone, Copy, Default, Debug)]
pub struct Spherical;

impl Kernel for Spherical {
    const NAME: &'static str = "Spherical";
    fn k<T: Real>(u: T) -> T {
        if u < T::one() {
            T::one() - T::c(1.5) * u + T::c(0.5) * u * u * u
        } else {
            T::zero()
        }
    }
    fn dk<T: Real>(u: T) -> T {
        if u < T::one() {
            T::c(1.5) * (u * u - T::one())
        } else {
            T::zero()
        }
    }
}
