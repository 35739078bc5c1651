//! Leaf structures: one file per structure, each with its formula, its value,
//! its closed-form Jacobian and a doctest.
//!
//! Every leaf takes its size as a type parameter that defaults to [`Dyn`]
//! (size given at run time as a `usize` shape); `Const<N>` fixes it in the
//! type, so that operators can check sizes at compile time.
//!
//! [`Dyn`]: nalgebra::Dyn

mod ar1;
mod compound_symmetric;
mod diagonal;
mod equal_entry;
mod equicorrelation;
mod factor_analytic;
mod fixed;
mod fixed_inverse;
pub mod grouped;
mod identity;
mod lower_triangular;
mod scalar;
pub mod spatial;
mod unconstrained;

pub use ar1::AR1;
pub use compound_symmetric::CompoundSymmetric;
pub use diagonal::Diagonal;
pub use equal_entry::EqualEntry;
pub use equicorrelation::Equicorrelation;
pub use factor_analytic::{FactorAnalytic, FA};
pub use fixed::Fixed;
pub use fixed_inverse::{FixedInverse, InverseData};
pub use identity::Identity;
pub use lower_triangular::LowerTriangular;
pub use scalar::Scalar;
pub use unconstrained::{TriangularNumber, Unconstrained};

use nalgebra::DMatrix;

/// Declares a zero-sized leaf type with size parameters defaulting to `Dyn`,
/// with `Clone`, `Copy`, `Default` and `Debug` that put no bound on the sizes.
macro_rules! zero_sized {
    ($(#[$m:meta])* $name:ident < $($p:ident),+ >) => {
        $(#[$m])*
        pub struct $name<$($p = nalgebra::Dyn),+>(core::marker::PhantomData<($($p,)+)>);
        impl<$($p),+> Clone for $name<$($p),+> {
            fn clone(&self) -> Self { *self }
        }
        impl<$($p),+> Copy for $name<$($p),+> {}
        impl<$($p),+> Default for $name<$($p),+> {
            fn default() -> Self { $name(core::marker::PhantomData) }
        }
        impl<$($p),+> core::fmt::Debug for $name<$($p),+> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(stringify!($name))
            }
        }
        // SAFETY-free: PhantomData of size markers is Send + Sync when they are.
    };
}
pub(crate) use zero_sized;

/// `J`: the `r × c` matrix of ones.
pub(crate) fn ones<T: crate::Real>(r: usize, c: usize) -> DMatrix<T> {
    DMatrix::from_element(r, c, T::one())
}

/// `J − I`: ones off the diagonal, zeros on it.
pub(crate) fn ones_off_diagonal<T: crate::Real>(n: usize) -> DMatrix<T> {
    DMatrix::from_fn(n, n, |i, j| if i == j { T::zero() } else { T::one() })
}

/// `E_ij + E_ji` (or `E_ii` when `i = j`) in an `n × n` matrix.
pub(crate) fn symmetric_unit<T: crate::Real>(n: usize, i: usize, j: usize) -> DMatrix<T> {
    let mut m = DMatrix::zeros(n, n);
    m[(i, j)] = T::one();
    m[(j, i)] = T::one();
    m
}

/// The correlation transform of equicorrelated structures: sigmoid, then onto
/// `(−1/(n−1), 1)`, the range where the `n × n` matrix is positive definite.
pub(crate) fn equicorrelation_transform(n: usize) -> crate::Transform {
    crate::Transform::correlation(-1.0 / (n as f64 - 1.0), 1.0)
}

/// Error for equicorrelated structures of size < 2.
pub(crate) fn need_two(structure: &'static str, n: usize) -> Result<(), crate::CovError> {
    if n < 2 {
        Err(crate::CovError::InvalidShape {
            structure,
            reason: format!("needs n > 1 (a correlation needs two rows), got n = {n}"),
        })
    } else {
        Ok(())
    }
}

/// The default transforms of the built-in leaves, applied without building a
/// parameter table (no allocation): bit for bit what
/// [`Transform::forward`](crate::Transform::forward) and
/// [`derivative`](crate::Transform::derivative) give for the transforms
/// that `param_specs` lists.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LeafTransform {
    /// `e^{2x}`, for variances.
    Variance,
    /// `x`.
    Identity,
    /// Sigmoid, then onto `(lo, hi)`: [`Transform::correlation`](crate::Transform::correlation).
    Correlation(f64, f64),
}

impl LeafTransform {
    fn forward<T: crate::Real>(self, x: T) -> T {
        use crate::Transform;
        match self {
            LeafTransform::Variance => Transform::ExpPow2.forward(x),
            LeafTransform::Identity => x,
            LeafTransform::Correlation(lo, hi) => {
                let s = Transform::Sigmoid.forward(x);
                Transform::ScaleShift { a: hi - lo, b: lo }.forward(s)
            }
        }
    }

    fn derivative<T: crate::Real>(self, x: T) -> T {
        use crate::Transform;
        match self {
            LeafTransform::Variance => Transform::ExpPow2.derivative(x),
            LeafTransform::Identity => T::one(),
            LeafTransform::Correlation(lo, hi) => {
                // the same steps as `Transform::Chain`'s derivative
                let mut d = T::one();
                d *= Transform::Sigmoid.derivative(x);
                let v = Transform::Sigmoid.forward(x);
                d *= Transform::ScaleShift { a: hi - lo, b: lo }.derivative(v);
                d
            }
        }
    }
}

/// `theta[k] = t_k(free[k])` (and `dtheta[k] = t_k'(free[k])`) with the leaf
/// transform `t_k = tf(k)`.
pub(crate) fn apply_transforms<T: crate::Real>(
    free: &[T],
    theta: &mut [T],
    mut dtheta: Option<&mut [T]>,
    tf: impl Fn(usize) -> LeafTransform,
) {
    for (k, (t, &x)) in theta.iter_mut().zip(free).enumerate() {
        let f = tf(k);
        *t = f.forward(x);
        if let Some(d) = dtheta.as_deref_mut() {
            d[k] = f.derivative(x);
        }
    }
}
