//! The core trait: a covariance structure as a zero-sized type.
//!
//! A structure type such as [`AR1`](crate::AR1) or
//! `Kron<AR1, Real>` carries no data. What the type cannot know — a size
//! fixed at run time, a data matrix — travels beside it as a runtime
//! [`Structure::Shape`] value. Sizes and parameter counts that the type does
//! fix are nalgebra dimensions: [`Const<N>`] when known at compile time,
//! [`Dyn`] otherwise, exactly as nalgebra splits matrix sizes.
//!
//! Structures evaluate on the **natural** scale: `value(shape, θ)` builds the
//! matrix from the natural parameters, and `jacobian(shape, θ)` returns
//! `∂V/∂θ_k` for every parameter `k`. Transforms, fixed parameters and the
//! free scale are the business of the runtime layer,
//! [`Covariance`](crate::Covariance).

use crate::{ParamSpec, Real, SparseInverse};
use nalgebra::{Const, DMatrix, Dim, Dyn};
use std::fmt;

/// A covariance structure (or any parameterised matrix) as a type.
///
/// Implemented by every leaf in [`structures`](crate::structures), every
/// operator in [`ops`](crate::ops), and by user types through
/// `#[derive(Structure)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a covariance structure",
    label = "expected a covariance structure here",
    note = "use a leaf such as `AR1` or `Scalar`, an operator such as `Kron<A, B>`, the data operand `Fixed`, or derive one with `#[derive(covreml::Structure)]`"
)]
pub trait Structure: Copy + Default + fmt::Debug + Send + Sync + 'static {
    /// Number of rows as a type: `Const<N>` when the type fixes it, else `Dyn`.
    type Rows: Dim;
    /// Number of columns as a type.
    type Cols: Dim;
    /// Number of parameters as a type: `Const<N>` when the type fixes it, else `Dyn`.
    type NParams: Dim;
    /// What the type cannot know: runtime sizes and data.
    type Shape: Clone + fmt::Debug + PartialEq + Send + Sync + 'static;

    /// The structure's name in messages, such as `"AR1"`.
    const NAME: &'static str;
    /// The operand name this structure takes inside an operator (see
    /// [`Named`](crate::ops::Named)); `None` gives the positional `op_i`.
    const LABEL: Option<&'static str> = None;
    /// Number of operands for an operator (named `op_0`, `op_1`, …); 0 for a leaf.
    const OPERANDS: usize = 0;

    /// The parameter count if the type fixes it (`Const<N>`), else `None`.
    ///
    /// ```
    /// use covreml::{ops::Kron, Const, Diagonal, Structure, Scalar, AR1};
    /// assert_eq!(<Kron<AR1, Scalar>>::static_param_count(), Some(3));
    /// assert_eq!(<Diagonal>::static_param_count(), None);
    /// assert_eq!(<Diagonal<Const<4>>>::static_param_count(), Some(4));
    /// ```
    fn static_param_count() -> Option<usize> {
        <Self::NParams as Dim>::try_to_usize()
    }

    /// Checks that `shape` is valid for this structure (sizes, operand fit).
    fn check_shape(_shape: &Self::Shape) -> Result<(), crate::CovError> {
        Ok(())
    }

    /// `(rows, columns)` of the matrix.
    fn dims(shape: &Self::Shape) -> (usize, usize);

    /// Number of parameters (fixed ones included).
    fn param_count(shape: &Self::Shape) -> usize;

    /// The parameter table: names, defaults on the free scale, transforms.
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec>;

    /// The matrix at the natural parameters `theta` (length [`param_count`](Self::param_count)).
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T>;

    /// Closed-form `∂V/∂θ_k` for every parameter `k`, on the natural scale.
    ///
    /// `None` means the structure has no closed form; the runtime layer then
    /// differentiates [`value`](Self::value) with dual numbers.
    fn jacobian<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        let _ = (shape, theta);
        None
    }

    /// Value and closed-form Jacobian together; operators override this to
    /// evaluate each operand once.
    fn value_and_jacobian<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> (DMatrix<T>, Option<Vec<DMatrix<T>>>) {
        (Self::value(shape, theta), Self::jacobian(shape, theta))
    }

    /// For structures whose matrix is diagonal at every parameter value
    /// (`Identity`, `Scalar`, `Diagonal`, and `Kron`, `Sum`, `BlockDiag`,
    /// `Named` of such): the diagonal of the value and of each closed-form
    /// `∂V/∂θ_k`. `None` for every other structure (the default).
    ///
    /// The REML engine uses it to treat a diagonal residual in `O(n)`
    /// instead of as a dense `n × n` matrix.
    fn diagonal<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Diagonals<T>> {
        let _ = (shape, theta);
        None
    }

    /// `G⁻¹`, `∂G⁻¹/∂θ_k` (natural scale), `log|G|` and its derivatives on a
    /// sparse pattern that depends on the shape only: what the sparse
    /// mixed-model-equations backend needs of a random term's covariance.
    /// `None` means "no sparse inverse" (the engine then uses the dense path).
    ///
    /// The default gives it for structures with a [`diagonal`](Self::diagonal);
    /// `AR1` (tridiagonal inverse), `Kron`, `BlockDiag`, `Named` and the small
    /// dense leaves (`Unconstrained`, `CompoundSymmetric`, `Equicorrelation`)
    /// override it.
    fn sparse_inverse<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<SparseInverse<T>> {
        let (d, dd) = Self::diagonal(shape, theta)?;
        Some(SparseInverse::from_diagonal(&d, &dd))
    }

    /// [`sparse_inverse`](Self::sparse_inverse) written into `out`, which
    /// holds the pattern `sparse_inverse` gives for `shape` (fixed once, as
    /// lme4's `Lind` fixes where each entry of `Λ` goes): only the numbers
    /// change, and the pattern is never touched. `Some(false)` when `out`
    /// is not that pattern (nothing usable written); `None` when the
    /// structure has no sparse inverse.
    ///
    /// The default builds the inverse and moves its numbers in
    /// ([`SparseInverse::take_numbers`]); diagonal leaves and `Kron` write
    /// in place.
    fn sparse_inverse_into<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
        out: &mut SparseInverse<T>,
    ) -> Option<bool> {
        Some(out.take_numbers(Self::sparse_inverse(shape, theta)?))
    }

    /// For a matrix whose inverse is sparse only once it is completed to a
    /// larger set of cells — `AR1 ⊗ AR1` over a field trial's full grid when
    /// some plots are missing: `(Q, cell)` with `Q` the sparse inverse over
    /// all cells (in the form of [`sparse_inverse`](Self::sparse_inverse))
    /// and `cell[i]` the cell of row `i`; the cells no row maps to are the
    /// missing ones. The sparse backend fits such a residual exactly by
    /// adding one fixed effect per missing cell. `None` (the default) when
    /// the structure has no such form.
    fn sparse_inverse_completed<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> Option<(SparseInverse<T>, Vec<usize>)> {
        let _ = (shape, theta);
        None
    }

    /// The matrix at the **free** parameters `free`, with the default
    /// transforms, where the type fixes the parameter count: a vector of the
    /// wrong length does not compile.
    ///
    /// ```
    /// use covreml::{Structure, AR1};
    /// let v = <AR1>::value_static(&3, [0.0f64, 0.0]); // σ² = 1, ρ = 0
    /// assert_eq!(v, nalgebra::DMatrix::identity(3, 3));
    /// ```
    fn value_static<T: Real>(
        shape: &Self::Shape,
        free: <Self::NParams as ParamArray>::Array<T>,
    ) -> DMatrix<T>
    where
        Self::NParams: ParamArray,
    {
        let free = free.as_ref();
        let mut theta = vec![T::zero(); free.len()];
        Self::default_transforms(shape, free, &mut theta, None);
        Self::value(shape, &theta)
    }

    /// Applies the default transforms (those of
    /// [`param_specs`](Self::param_specs)) to the free values `free`:
    /// `theta[k] = t_k(free[k])` and, when given, `dtheta[k] = t_k'(free[k])`.
    ///
    /// The built-in leaves and operators build no parameter table (no names,
    /// no allocation) here; the default reads the transforms from
    /// `param_specs`.
    ///
    /// ```
    /// use covreml::{Structure, AR1};
    /// let (mut theta, mut d) = ([0.0; 2], [0.0; 2]);
    /// <AR1>::default_transforms(&3, &[0.5, 0.0], &mut theta, Some(&mut d));
    /// assert_eq!(theta, [1f64.exp(), 0.0]);
    /// assert_eq!(d, [2.0 * 1f64.exp(), 0.5]);
    /// ```
    fn default_transforms<T: Real>(
        shape: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        mut dtheta: Option<&mut [T]>,
    ) {
        for (k, s) in Self::param_specs(shape).iter().enumerate() {
            theta[k] = s.transform.forward(free[k]);
            if let Some(d) = dtheta.as_deref_mut() {
                d[k] = s.transform.derivative(free[k]);
            }
        }
    }
}

/// The diagonal of a diagonal structure's value and of its Jacobian
/// (one vector per parameter), from [`Structure::diagonal`].
pub type Diagonals<T> = (Vec<T>, Vec<Vec<T>>);

/// Parameter counts known at compile time: the array type of that length.
#[diagnostic::on_unimplemented(
    message = "the parameter count of this structure is only known at run time",
    note = "use `Covariance::value` with a slice for structures with a runtime size"
)]
pub trait ParamArray: Dim {
    /// `[T; N]`.
    type Array<T>: AsRef<[T]>;
}

impl<const N: usize> ParamArray for Const<N> {
    type Array<T> = [T; N];
}

/// A leaf's size parameter: `Dyn` (size given at run time as a `usize`) or
/// `Const<N>` (size fixed by the type; nothing to give at run time).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a size",
    note = "leaf sizes are `Dyn` (the default: runtime size) or `Const<N>`"
)]
pub trait Size: Dim + Copy + fmt::Debug + Send + Sync + 'static {
    /// What must be given at run time: `usize` for `Dyn`, `()` for `Const<N>`.
    type Shape: Clone + fmt::Debug + PartialEq + Send + Sync + 'static;
    /// The size.
    fn get(shape: &Self::Shape) -> usize;
}

impl Size for Dyn {
    type Shape = usize;
    #[inline]
    fn get(shape: &usize) -> usize {
        *shape
    }
}

impl<const N: usize> Size for Const<N> {
    type Shape = ();
    #[inline]
    fn get(_: &()) -> usize {
        N
    }
}
