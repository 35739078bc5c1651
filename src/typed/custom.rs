//! User structures: `#[derive(Structure)]` plus an `impl Custom`.
//!
//! A user structure is a zero-sized type with a parameter table in
//! attributes and its formula in an implementation of [`Custom`]; the derive
//! writes the [`ParamTable`](crate::ParamTable) and the
//! [`Structure`](crate::Structure) impls (runtime sizes, `Dyn` rows and
//! columns, `Const<N>` parameters, `NAME` = the type name).
//!
//! | attribute | content | default |
//! |---|---|---|
//! | `#[params(…)]` | the parameter names, string literals, in order | required |
//! | `#[transforms(…)]` | one [`Transform`](crate::Transform) expression per name | `Transform::Identity` each |
//! | `#[defaults(…)]` | one `f64` expression per name (free scale) | `0.0` each |
//!
//! The expressions are evaluated where the type is defined, so names in scope
//! there (such as an imported `Transform`) can be used.
//!
//! Without a closed-form Jacobian, the runtime layer differentiates the
//! generic value function with dual numbers:
//!
//! ```
//! use covreml::{Covariance, Custom, JacobianMethod, Real, Structure, Transform};
//! use nalgebra::DMatrix;
//!
//! /// `V_ij = σ² exp(−|i − j| / φ)`.
//! #[derive(Clone, Copy, Default, Debug, covreml::Structure)]
//! #[params("sigma^2", "phi")]
//! #[transforms(Transform::ExpPow2, Transform::Exp)]
//! struct Exponential;
//!
//! impl Custom for Exponential {
//!     type Shape = usize;
//!     fn dims(n: &usize) -> (usize, usize) {
//!         (*n, *n)
//!     }
//!     fn value<T: Real>(n: &usize, theta: &[T]) -> DMatrix<T> {
//!         let (s2, phi) = (theta[0], theta[1]);
//!         DMatrix::from_fn(*n, *n, |i, j| s2 * (-T::c(i.abs_diff(j) as f64) / phi).exp())
//!     }
//! }
//!
//! assert_eq!(<Exponential as Structure>::NAME, "Exponential");
//! let e = Covariance::<Exponential>::new(3).unwrap();
//! assert_eq!(e.names(), ["sigma^2", "phi"]);
//! // free (0.5, ln 2): σ² = e, φ = 2
//! let v = e.value(&[0.5, 2f64.ln()]).unwrap();
//! assert!((v[(0, 2)] - 1.0).abs() < 1e-15); // e · e^{−2/2}
//! // over f32 too
//! let v32 = e.value_in(&[0.5f32, 2f32.ln()]).unwrap();
//! assert!((v32[(0, 1)] - 0.5f32.exp()).abs() < 1e-6);
//!
//! // no closed form: the dual-number Jacobian, ∂V/∂x_k
//! let j = e.dual_jacobian(&[0.0, 0.0]).unwrap(); // σ² = 1, φ = 1
//! assert!((j[0][(0, 1)] - 2.0 * (-1f64).exp()).abs() < 1e-15); // ∂σ²/∂x = 2σ²
//! assert!((j[1][(0, 1)] - (-1f64).exp()).abs() < 1e-15); // σ² e^{−d/φ} d/φ² · φ
//! assert!(e.jacobian(&[0.0, 0.0]).is_err()); // asks for the closed form explicitly
//! // the default method falls back to dual numbers
//! let (_, jac) = e
//!     .value_and_jacobian_with(&[0.0, 0.0], JacobianMethod::ClosedForm)
//!     .unwrap();
//! assert_eq!(jac, j);
//! ```

use crate::{CovError, Real};
use nalgebra::DMatrix;
use std::fmt;

/// The formula of a user structure; pair it with `#[derive(covreml::Structure)]`.
///
/// Only [`dims`](Custom::dims) and [`value`](Custom::value) are required.
/// `value` is generic over the scalar, which gives `f32`/`f64` values and
/// dual-number derivatives from one function. A closed-form
/// [`jacobian`](Custom::jacobian) can be checked against the dual numbers
/// with [`Covariance::check_gradients`](crate::Covariance::check_gradients):
///
/// ```
/// use covreml::{Covariance, Custom, Real, Transform};
/// use nalgebra::DMatrix;
///
/// /// `V = σ² (I + ρ (J − I))` restricted to two rows: `[[σ², σ²ρ], [σ²ρ, σ²]]`.
/// #[derive(Clone, Copy, Default, Debug, covreml::Structure)]
/// #[params("sigma^2", "rho")]
/// #[transforms(Transform::ExpPow2, Transform::correlation(-1.0, 1.0))]
/// #[defaults(0.0, 0.5)]
/// struct Pair;
///
/// impl Custom for Pair {
///     type Shape = ();
///     fn dims(_: &()) -> (usize, usize) {
///         (2, 2)
///     }
///     fn value<T: Real>(_: &(), theta: &[T]) -> DMatrix<T> {
///         let (s2, rho) = (theta[0], theta[1]);
///         DMatrix::from_row_slice(2, 2, &[s2, s2 * rho, s2 * rho, s2])
///     }
///     fn jacobian<T: Real>(_: &(), theta: &[T]) -> Option<Vec<DMatrix<T>>> {
///         let (s2, rho) = (theta[0], theta[1]);
///         let (o, z) = (T::one(), T::zero());
///         Some(vec![
///             DMatrix::from_row_slice(2, 2, &[o, rho, rho, o]),
///             DMatrix::from_row_slice(2, 2, &[z, s2, s2, z]),
///         ])
///     }
/// }
///
/// let p = Covariance::<Pair>::new(()).unwrap();
/// assert_eq!(p.free_defaults(), [0.0, 0.5]);
/// let check = p.check_gradients(&[0.3, -0.2]).unwrap();
/// assert!(check.max_abs_diff() < 1e-15, "{check}");
/// let j = p.jacobian(&[0.0, 0.0]).unwrap(); // σ² = 1, ρ = 0
/// assert_eq!(j[0], DMatrix::from_row_slice(2, 2, &[2.0, 0.0, 0.0, 2.0]));
/// assert_eq!(j[1], DMatrix::from_row_slice(2, 2, &[0.0, 0.5, 0.5, 0.0]));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no formula: it does not implement `covreml::Custom`",
    label = "`#[derive(Structure)]` needs `impl covreml::Custom for {Self}`",
    note = "implement `Custom` with `type Shape`, `fn dims` and `fn value<T: Real>`; see the `covreml::Custom` docs"
)]
pub trait Custom: 'static {
    /// What the type cannot know: runtime sizes and data (`usize`, `()`, …).
    type Shape: Clone + fmt::Debug + PartialEq + Send + Sync + 'static;

    /// Checks that `shape` is valid (sizes, data); the default accepts all.
    fn check_shape(_shape: &Self::Shape) -> Result<(), CovError> {
        Ok(())
    }

    /// `(rows, columns)` of the matrix.
    fn dims(shape: &Self::Shape) -> (usize, usize);

    /// The matrix at the natural parameters `theta`, in table order.
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T>;

    /// Closed-form `∂V/∂θ_k` on the natural scale, one matrix per parameter;
    /// the default `None` makes the runtime layer use dual numbers.
    fn jacobian<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        let _ = (shape, theta);
        None
    }
}

/// `Custom::value`, with a matrix of the wrong size replaced by NaN of the
/// declared size, so that operators around a faulty user structure never
/// index out of bounds; the runtime layer reports the NaN as an error.
/// Called by the code `#[derive(Structure)]` generates.
#[doc(hidden)]
pub fn custom_value<S: Custom, T: Real>(shape: &S::Shape, theta: &[T]) -> DMatrix<T> {
    let v = S::value(shape, theta);
    let (r, c) = S::dims(shape);
    if v.shape() == (r, c) {
        v
    } else {
        DMatrix::from_element(r, c, T::c(f64::NAN))
    }
}

/// `Custom::jacobian`, with derivative matrices of the wrong size replaced
/// by NaN of the declared size (see [`custom_value`]).
#[doc(hidden)]
pub fn custom_jacobian<S: Custom, T: Real>(
    shape: &S::Shape,
    theta: &[T],
) -> Option<Vec<DMatrix<T>>> {
    let (r, c) = S::dims(shape);
    Some(
        S::jacobian(shape, theta)?
            .into_iter()
            .map(|d| {
                if d.shape() == (r, c) {
                    d
                } else {
                    DMatrix::from_element(r, c, T::c(f64::NAN))
                }
            })
            .collect(),
    )
}
