//! Type-level size rules: operands whose sizes the types fix must agree.
//!
//! Like nalgebra's `ShapeConstraint`, a `Dyn` size agrees with anything (it is
//! checked at run time instead), and two `Const` sizes agree only if equal.
//! A `1 × 1` operand broadcasts in `Sum` and `Hadamard` only when its size is
//! `Dyn` (such as a `Fixed` value): `Const<1>` against `Const<3>` does not
//! compile.

use nalgebra::{Const, Dim, Dyn};

/// `Self` and `D` can be the same size; `Output` is the more precise of the two.
#[diagnostic::on_unimplemented(
    message = "operand sizes do not match: `{Self}` and `{D}`",
    label = "these operands must have equal sizes here",
    note = "operators check static sizes (`Const<N>`) at compile time; give the operands equal sizes, or use the runtime size `Dyn`"
)]
pub trait SameSize<D: Dim>: Dim {
    /// `Const<N>` if either side is `Const<N>`, else `Dyn`.
    type Output: Dim;
}

impl<const N: usize> SameSize<Const<N>> for Const<N> {
    type Output = Const<N>;
}

impl<const N: usize> SameSize<Dyn> for Const<N> {
    type Output = Const<N>;
}

impl<D: Dim> SameSize<D> for Dyn {
    type Output = D;
}

/// The common size of two dimensions that must agree.
pub type Common<A, B> = <A as SameSize<B>>::Output;
