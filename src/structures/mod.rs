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
    #[inline]
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

    /// `(t(x), t'(x))` in one pass: one exponential per parameter where
    /// `forward` and `derivative` separately take two or three. Bit for bit
    /// the values of `Transform::forward` and `Transform::derivative`: the
    /// same operations in the same order (`Chain` multiplies `1 · σ'(x) · a`).
    #[inline]
    fn forward_and_derivative<T: crate::Real>(self, x: T) -> (T, T) {
        match self {
            LeafTransform::Variance => {
                let v = (x + x).exp();
                (v, v * T::c(2.0))
            }
            LeafTransform::Identity => (x, T::one()),
            LeafTransform::Correlation(lo, hi) => {
                // e = e^{−|x|}, formed as `Transform::Sigmoid` forms it on
                // each side of 0 (from −x or x, not from |x|: a dual
                // number's |x| turns its derivative's sign at x = −0)
                let positive = x >= T::zero();
                let e = if positive { (-x).exp() } else { x.exp() };
                let d = T::one() + e;
                let s = if positive { T::one() / d } else { e / d };
                let a = T::c(hi - lo);
                let mut ds = T::one();
                ds *= e / (d * d);
                ds *= a;
                (s * a + T::c(lo), ds)
            }
        }
    }
}

/// `theta[k] = t_k(free[k])` (and `dtheta[k] = t_k'(free[k])`) with the leaf
/// transform `t_k = tf(k)`.
#[inline(always)]
pub(crate) fn apply_transforms<T: crate::Real>(
    free: &[T],
    theta: &mut [T],
    dtheta: Option<&mut [T]>,
    tf: impl Fn(usize) -> LeafTransform,
) {
    match dtheta {
        None => {
            for (k, (t, &x)) in theta.iter_mut().zip(free).enumerate() {
                *t = tf(k).forward(x);
            }
        }
        Some(d) => {
            for (k, ((t, dk), &x)) in theta.iter_mut().zip(d).zip(free).enumerate() {
                (*t, *dk) = tf(k).forward_and_derivative(x);
            }
        }
    }
}

#[cfg(test)]
mod leaf_transform_tests {
    use super::LeafTransform;
    use crate::Transform;
    use num_dual::Dual64;

    const XS: [f64; 14] = [
        -800.0, -40.0, -12.0, -1.3, -1e-300, -0.0, 0.0, 1e-300, 0.4, 1.0, 7.5, 12.0, 40.0, 800.0,
    ];

    fn pairs() -> [(LeafTransform, Transform); 4] {
        [
            (LeafTransform::Variance, Transform::ExpPow2),
            (LeafTransform::Identity, Transform::Identity),
            (
                LeafTransform::Correlation(-1.0, 1.0),
                Transform::correlation(-1.0, 1.0),
            ),
            (
                LeafTransform::Correlation(-1.0 / 3.0, 1.0),
                Transform::correlation(-1.0 / 3.0, 1.0),
            ),
        ]
    }

    /// The fused pass gives the parameter table's transforms bit for bit,
    /// in both tails and at ±0, on f64 and on dual numbers.
    #[test]
    fn fused_pass_equals_the_table_transforms_bit_for_bit() {
        for (leaf, t) in pairs() {
            for x in XS {
                let (v, d) = leaf.forward_and_derivative(x);
                assert_eq!(v.to_bits(), t.forward(x).to_bits(), "{t:?} forward at {x}");
                assert_eq!(
                    leaf.forward(x).to_bits(),
                    t.forward(x).to_bits(),
                    "{t:?} at {x}"
                );
                assert_eq!(
                    d.to_bits(),
                    t.derivative(x).to_bits(),
                    "{t:?} derivative at {x}"
                );
                let xd = Dual64::new(x, 1.0);
                let (vd, dd) = leaf.forward_and_derivative(xd);
                let (td, tdd) = (t.forward(xd), t.derivative(xd));
                assert_eq!(vd.re.to_bits(), td.re.to_bits(), "{t:?} dual at {x}");
                assert_eq!(vd.eps.to_bits(), td.eps.to_bits(), "{t:?} dual ∂ at {x}");
                assert_eq!(
                    dd.re.to_bits(),
                    tdd.re.to_bits(),
                    "{t:?} dual derivative at {x}"
                );
                // the second derivative at x = −0 exactly: `Transform`'s
                // derivative forms e^{−|x|} from |x|, whose dual derivative
                // has the wrong sign there (the fused pass has the right one)
                if x.to_bits() != (-0.0f64).to_bits() {
                    assert_eq!(dd.eps.to_bits(), tdd.eps.to_bits(), "{t:?} dual ∂² at {x}");
                }
            }
        }
    }
}
