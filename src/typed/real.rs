//! The scalar bound every structure is evaluated over.
//!
//! One alias trait, [`Real`], stands for nalgebra's `RealField + Copy`. It
//! holds for `f32`, `f64` and the copyable dual numbers of `num-dual`
//! ([`Dual64`](num_dual::Dual64), [`DualSVec64`](num_dual::DualSVec64) and other copyable
//! duals), so one generic value function gives plain values and exact
//! derivatives alike.

use nalgebra::RealField;

/// The scalar bound of the library: nalgebra's [`RealField`] plus `Copy`.
///
/// Implemented automatically for every type that satisfies both.
///
/// ```
/// use covreml::Real;
/// fn twice<T: Real>(x: T) -> T { x + x }
/// assert_eq!(twice(1.5f32), 3.0);
/// assert_eq!(twice(1.5f64), 3.0);
/// let d = twice(num_dual::Dual64::new(1.5, 1.0));
/// assert_eq!((d.re, d.eps), (3.0, 2.0));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as the scalar of a covariance structure",
    label = "not a real scalar",
    note = "structures evaluate over nalgebra `RealField + Copy` types: use f32, f64 or a num-dual dual number such as `Dual64`"
)]
pub trait Real: RealField + Copy {
    /// Converts an `f64` constant into this scalar (exact for f64, rounded for f32).
    #[inline]
    fn c(x: f64) -> Self {
        nalgebra::convert(x)
    }
}

impl<T: RealField + Copy> Real for T {}

#[cfg(test)]
mod tests {
    use super::*;
    use num_dual::{Dual64, DualSVec64};

    fn is_scalar<T: Real>() {}

    #[test]
    fn holds_for_floats_and_duals() {
        is_scalar::<f32>();
        is_scalar::<f64>();
        is_scalar::<Dual64>();
        is_scalar::<DualSVec64<3>>();
        assert_eq!(<f32 as Real>::c(0.5), 0.5f32);
    }
}
