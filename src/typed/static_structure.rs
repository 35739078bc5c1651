//! Static evaluation: structures whose sizes are all in the type evaluate
//! into stack-allocated nalgebra matrices, with no heap allocation.
//!
//! A [`StaticStructure`] is a [`Structure`] whose row count, column count and
//! parameter count are all `Const<N>`: every leaf with a size `Const<N>`
//! (`AR1<Const<3>>`, `Diagonal<Const<6>>`, …) and every operator of such
//! operands, nested to any depth. Its value is an `OMatrix<T, R, C>` (for
//! `Kron<AR1<Const<3>>, Scalar<Const<2>>>` that is `SMatrix<T, 6, 6>`) and its
//! Jacobian a fixed-length vector of such matrices, over `f32`, `f64` and dual
//! numbers. Parameters go in as arrays whose length the type fixes, so a wrong
//! length does not compile.
//!
//! | method | scale | result |
//! |---|---|---|
//! | [`value_s`](StaticStructure::value_s) | natural `θ` | `V` |
//! | [`jacobian_s`](StaticStructure::jacobian_s) | natural `θ` | `∂V/∂θ_k` (closed form) |
//! | [`natural_s`](StaticStructure::natural_s) | free `x` | `θ = t(x)` (default transforms) |
//! | [`value_free_s`](StaticStructure::value_free_s) | free `x` | `V` |
//! | [`jacobian_free_s`](StaticStructure::jacobian_free_s) | free `x` | `∂V/∂x_k` (closed form) |
//! | [`dual_jacobian_free_s`](StaticStructure::dual_jacobian_free_s) | free `x` | `V` and `∂V/∂x_k` in one dual-number pass |
//!
//! The values are those of the dynamic [`Structure::value`] and
//! [`Covariance`](crate::Covariance) paths: bit for bit, except where an
//! operator multiplies matrices (`Product`, `Propagate`, `Gram`, `Inverse`),
//! whose static and dynamic products may round differently (a few ulps).
//!
//! ```
//! use covreml::{ops::Kron, Const, Scalar, StaticStructure, AR1};
//! use nalgebra::SMatrix;
//! type K = Kron<AR1<Const<3>>, Scalar<Const<2>>>;
//! let v: SMatrix<f64, 6, 6> = K::value_s([2.0, 0.5, 3.0]); // σ² = 2, ρ = 0.5, s = 3
//! assert_eq!(v[(0, 0)], 6.0);
//! assert_eq!(v[(0, 2)], 3.0); // 2 · 0.5 · 3
//! assert_eq!(v[(0, 1)], 0.0);
//! let j = K::jacobian_s([2.0, 0.5, 3.0]);
//! assert_eq!(j.len(), 3);
//! assert_eq!(j[1][(0, 2)], 6.0); // ∂/∂ρ: σ² · 3 on the first off-diagonal block
//! ```

use crate::structure::ParamArray;
use crate::{Real, Structure};
use nalgebra::allocator::Allocator;
use nalgebra::{Const, DefaultAllocator, Dim, DimName, OMatrix, OVector};
use num_dual::{DualNum, DualNumFloat, DualSVec};

/// A parameter count fixed by the type: `Const<N>`.
#[diagnostic::on_unimplemented(
    message = "the parameter count `{Self}` is only known at run time",
    note = "static evaluation needs a parameter count fixed by the type; give every leaf a size `Const<N>`"
)]
pub trait StaticCount: DimName + ParamArray {}

impl<const N: usize> StaticCount for Const<N> {}

/// `DefaultAllocator` can store `R × C` matrices and `P`-vectors on the stack
/// (for static sizes it always can): one bound instead of two.
pub trait Allocates<R: Dim, C: Dim, P: Dim>: Allocator<R, C> + Allocator<P> {}

impl<R: Dim, C: Dim, P: Dim> Allocates<R, C, P> for DefaultAllocator where
    DefaultAllocator: Allocator<R, C> + Allocator<P>
{
}

/// The value of a static structure: `OMatrix<T, Rows, Cols>` (an `SMatrix`).
pub type StaticValue<T, S> =
    OMatrix<T, <S as StaticStructure>::SRows, <S as StaticStructure>::SCols>;

/// The Jacobian of a static structure: one value-sized matrix per parameter,
/// in a fixed-length (stack-allocated) vector; index it with `j[k]`.
pub type StaticJacobian<T, S> = OVector<StaticValue<T, S>, <S as Structure>::NParams>;

/// The parameters of a static structure: `[T; N]` with `N` its parameter count.
pub type StaticParams<T, S> = <<S as Structure>::NParams as ParamArray>::Array<T>;

/// A structure whose sizes and parameter count are all fixed by its type,
/// evaluated into stack-allocated matrices with no heap allocation.
///
/// Implemented by every leaf with a static size (except `LowerTriangular`,
/// whose parameter count is a runtime value) and by every operator of static
/// operands. See the [module documentation](crate::static_structure).
///
/// The `*_slice` methods are the building blocks operators call on their
/// operands (their `theta` has the parameter count as its length); use the
/// array-taking methods, whose length the compiler checks.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not have static sizes",
    label = "a size here is only known at run time",
    note = "static evaluation needs every size in the type: give each leaf a size `Const<N>`, such as `AR1<Const<3>>`; structures with `Dyn` sizes, `Fixed` and `LowerTriangular` evaluate through `Covariance` instead"
)]
pub trait StaticStructure: Structure<NParams: StaticCount, Shape: Default>
where
    DefaultAllocator: Allocates<Self::SRows, Self::SCols, Self::NParams>,
{
    /// Number of rows, `Const<R>`.
    type SRows: DimName;
    /// Number of columns, `Const<C>`.
    type SCols: DimName;

    /// The value at the natural parameters `theta` (length: the parameter count).
    fn value_slice<T: Real>(theta: &[T]) -> StaticValue<T, Self>;

    /// Closed-form `∂V/∂θ_k` at the natural parameters `theta`.
    fn jacobian_slice<T: Real>(theta: &[T]) -> StaticJacobian<T, Self>;

    /// Value and Jacobian together (operators evaluate each operand once).
    fn value_and_jacobian_slice<T: Real>(
        theta: &[T],
    ) -> (StaticValue<T, Self>, StaticJacobian<T, Self>) {
        (Self::value_slice(theta), Self::jacobian_slice(theta))
    }

    /// The value at the natural parameters `theta`.
    #[inline]
    fn value_s<T: Real>(theta: StaticParams<T, Self>) -> StaticValue<T, Self> {
        Self::value_slice(theta.as_ref())
    }

    /// Closed-form `∂V/∂θ_k` for every parameter at the natural parameters `theta`.
    #[inline]
    fn jacobian_s<T: Real>(theta: StaticParams<T, Self>) -> StaticJacobian<T, Self> {
        Self::jacobian_slice(theta.as_ref())
    }

    /// Value and closed-form Jacobian at the natural parameters `theta`.
    #[inline]
    fn value_and_jacobian_s<T: Real>(
        theta: StaticParams<T, Self>,
    ) -> (StaticValue<T, Self>, StaticJacobian<T, Self>) {
        Self::value_and_jacobian_slice(theta.as_ref())
    }

    /// The natural parameters `θ_k = t_k(x_k)` at the free values `free`, with
    /// the default transforms (those of [`Structure::param_specs`]).
    ///
    /// ```
    /// use covreml::{Const, StaticStructure, AR1};
    /// let theta = AR1::<Const<4>>::natural_s([0.5, 0.0]);
    /// assert_eq!(theta[0], 1f64.exp()); // e^{2·0.5}
    /// assert_eq!(theta[1], 0.0); // 2σ(0) − 1
    /// ```
    #[inline]
    fn natural_s<T: Real>(free: StaticParams<T, Self>) -> OVector<T, Self::NParams> {
        let mut theta = zeros::<T, Self::NParams, Const<1>>();
        Self::default_transforms(
            &Default::default(),
            free.as_ref(),
            theta.as_mut_slice(),
            None,
        );
        theta
    }

    /// The value at the free values `free` (default transforms).
    #[inline]
    fn value_free_s<T: Real>(free: StaticParams<T, Self>) -> StaticValue<T, Self> {
        Self::value_slice(Self::natural_s(free).as_slice())
    }

    /// Value and closed-form `∂V/∂x_k` at the free values `free` (default
    /// transforms): `∂V/∂θ_k · dθ_k/dx_k`, as
    /// [`Covariance::value_and_jacobian`](crate::Covariance::value_and_jacobian).
    fn jacobian_free_s<T: Real>(
        free: StaticParams<T, Self>,
    ) -> (StaticValue<T, Self>, StaticJacobian<T, Self>) {
        let mut theta = zeros::<T, Self::NParams, Const<1>>();
        let mut dtheta = zeros::<T, Self::NParams, Const<1>>();
        Self::default_transforms(
            &Default::default(),
            free.as_ref(),
            theta.as_mut_slice(),
            Some(dtheta.as_mut_slice()),
        );
        let (v, mut jac) = Self::value_and_jacobian_slice(theta.as_slice());
        // plain slices, so the scaling vectorises (nalgebra's element
        // iterators over a vector of matrices did not)
        for (m, t) in jac.as_mut_slice().iter_mut().zip(dtheta.as_slice()) {
            for e in m.as_mut_slice() {
                *e *= *t;
            }
        }
        (v, jac)
    }

    /// Value and `∂V/∂x_k` at the free values `free` (default transforms) in
    /// **one** forward pass with `N`-direction dual numbers (`DualSVec<F, N>`),
    /// through the generic value function: no closed form involved.
    ///
    /// ```
    /// use covreml::{ops::Kron, Const, Scalar, StaticStructure, AR1};
    /// type K = Kron<AR1<Const<3>>, Scalar<Const<2>>>;
    /// let (v, dual) = K::dual_jacobian_free_s([0.2, 0.4, -0.1]);
    /// let (v2, closed) = K::jacobian_free_s([0.2, 0.4, -0.1]);
    /// assert_eq!(v, v2);
    /// for k in 0..3 {
    ///     assert!((dual[k] - closed[k]).abs().max() < 1e-14);
    /// }
    /// ```
    fn dual_jacobian_free_s<F, const N: usize>(
        free: [F; N],
    ) -> (StaticValue<F, Self>, StaticJacobian<F, Self>)
    where
        Self: Structure<NParams = Const<N>>,
        F: DualNumFloat + Real + DualNum<Primitive = F>,
        DualSVec<F, N>: Real,
    {
        let x: [DualSVec<F, N>; N] =
            std::array::from_fn(|i| DualSVec::<F, N>::from_re(free[i]).derivative(i));
        let mut theta = [DualSVec::<F, N>::from_re(F::zero()); N];
        Self::default_transforms(&Default::default(), &x, &mut theta, None);
        let v = Self::value_slice(&theta);
        let jac = jacobian_from_fn::<F, Self::SRows, Self::SCols, Const<N>>(|k| {
            v.map(|e| e.eps.0.as_ref().map_or(F::zero(), |m| m[k]))
        });
        (v.map(|e| e.re), jac)
    }
}

/// Places or adds operand values (and Jacobians) into an operator's output:
/// the visitor that [`StaticOperands`](crate::ops::StaticOperands) walks.
pub trait OperandVisitor<T: Real> {
    /// Receives operand `S` (its parameters start at `param_offset`) with its
    /// value and its Jacobian, each if asked for.
    fn visit<S: StaticStructure>(
        &mut self,
        param_offset: usize,
        value: Option<&StaticValue<T, S>>,
        jacobian: Option<&StaticJacobian<T, S>>,
    ) where
        DefaultAllocator: Allocates<S::SRows, S::SCols, S::NParams>;
}

/// A Jacobian `[f(0), …, f(P − 1)]` (static sizes, no allocation).
#[inline]
pub(crate) fn jacobian_from_fn<T: Real, R: DimName, C: DimName, P: DimName>(
    mut f: impl FnMut(usize) -> OMatrix<T, R, C>,
) -> OVector<OMatrix<T, R, C>, P>
where
    DefaultAllocator: Allocates<R, C, P>,
{
    OVector::from_fn_generic(P::name(), Const::<1>, |k, _| f(k))
}

/// The zero Jacobian `[0, …, 0]` (`P` matrices `R × C`), for operators to
/// fill in place.
#[inline]
pub(crate) fn zero_jacobian<T: Real, R: DimName, C: DimName, P: DimName>(
) -> OVector<OMatrix<T, R, C>, P>
where
    DefaultAllocator: Allocates<R, C, P>,
{
    jacobian_from_fn(|_| zeros())
}

/// The `R × C` zero matrix (static sizes).
#[inline]
pub(crate) fn zeros<T: Real, R: DimName, C: DimName>() -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    OMatrix::zeros_generic(R::name(), C::name())
}
