//! Operand lists of static structures: the tuple side of the static
//! evaluation of `Sum`, `BlockDiag`, `Augment` and `Stack`.
//!
//! Every operand is evaluated into its own stack-allocated matrix and handed
//! to a visitor that adds it (`Sum`) or copies it (`BlockDiag`, `Augment`,
//! `Stack`) into the operator's output at its offset; [`Place`] is that
//! visitor and the one implementation of the four operators' evaluation.
//! [`binary_jacobian_into`] is the shared Jacobian of the bilinear binary
//! operators (`Kron`, `Hadamard`, `Product`).

use super::operands::Operands;
use crate::static_structure::{
    zero_jacobian, zeros, Allocates, OperandVisitor, StaticStructure, StaticValue,
};
use crate::Real;
use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, DimAdd, DimName, DimSum, OMatrix, OVector};

/// Total rows and columns of a tuple of static structures (as types).
pub trait StaticSums {
    /// Sum of the operands' row counts.
    type Rows: DimName;
    /// Sum of the operands' column counts.
    type Cols: DimName;
}

/// A tuple of two or more static structures: the operand list of a static
/// `Sum`, `BlockDiag`, `Augment` or `Stack`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of structures with static sizes",
    note = "static evaluation needs every operand's sizes in its type: give each leaf a size `Const<N>`"
)]
pub trait StaticOperands: Operands<Shape: Default> + StaticSums {
    /// Rows of the first operand.
    type Rows0: DimName;
    /// Columns of the first operand.
    type Cols0: DimName;
    /// Evaluates each operand at its share of the natural parameters `theta`
    /// (its value if `values`, its Jacobian if `jacobians`) and hands it to
    /// `visitor`.
    fn visit<T: Real, V: OperandVisitor<T>>(
        theta: &[T],
        values: bool,
        jacobians: bool,
        visitor: &mut V,
    );
}

macro_rules! static_sums {
    ($a:ident) => {
        impl<$a: StaticStructure> StaticSums for ($a,)
        where
            DefaultAllocator: Allocates<$a::SRows, $a::SCols, $a::NParams>,
        {
            type Rows = $a::SRows;
            type Cols = $a::SCols;
        }
    };
    ($a:ident $($rest:ident)+) => {
        impl<$a: StaticStructure, $($rest),+> StaticSums for ($a, $($rest),+)
        where
            DefaultAllocator: Allocates<$a::SRows, $a::SCols, $a::NParams>,
            ($($rest,)+): StaticSums,
            $a::SRows: DimAdd<<($($rest,)+) as StaticSums>::Rows>,
            $a::SCols: DimAdd<<($($rest,)+) as StaticSums>::Cols>,
            DimSum<$a::SRows, <($($rest,)+) as StaticSums>::Rows>: DimName,
            DimSum<$a::SCols, <($($rest,)+) as StaticSums>::Cols>: DimName,
        {
            type Rows = DimSum<$a::SRows, <($($rest,)+) as StaticSums>::Rows>;
            type Cols = DimSum<$a::SCols, <($($rest,)+) as StaticSums>::Cols>;
        }
        static_sums!($($rest)+);
    };
}
static_sums!(O0 O1 O2 O3 O4 O5 O6 O7);

macro_rules! static_operands {
    ($o0:ident $($o:ident)*) => {
        impl<$o0: StaticStructure, $($o: StaticStructure),*> StaticOperands for ($o0, $($o,)*)
        where
            ($o0, $($o,)*): Operands<Shape: Default> + StaticSums,
            DefaultAllocator: Allocates<$o0::SRows, $o0::SCols, $o0::NParams>,
            $(DefaultAllocator: Allocates<$o::SRows, $o::SCols, $o::NParams>,)*
        {
            type Rows0 = $o0::SRows;
            type Cols0 = $o0::SCols;
            #[inline]
            fn visit<T: Real, V: OperandVisitor<T>>(
                theta: &[T],
                values: bool,
                jacobians: bool,
                visitor: &mut V,
            ) {
                let mut off = 0;
                visit_one::<$o0, T, V>(theta, &mut off, values, jacobians, visitor);
                $(visit_one::<$o, T, V>(theta, &mut off, values, jacobians, visitor);)*
                debug_assert_eq!(off, theta.len());
            }
        }
    };
}
static_operands!(O0 O1);
static_operands!(O0 O1 O2);
static_operands!(O0 O1 O2 O3);
static_operands!(O0 O1 O2 O3 O4);
static_operands!(O0 O1 O2 O3 O4 O5);
static_operands!(O0 O1 O2 O3 O4 O5 O6);
static_operands!(O0 O1 O2 O3 O4 O5 O6 O7);

#[inline]
fn visit_one<S: StaticStructure, T: Real, V: OperandVisitor<T>>(
    theta: &[T],
    off: &mut usize,
    values: bool,
    jacobians: bool,
    visitor: &mut V,
) where
    DefaultAllocator: Allocates<S::SRows, S::SCols, S::NParams>,
{
    let k = <S::NParams as DimName>::DIM;
    let t = &theta[*off..*off + k];
    match (values, jacobians) {
        (true, true) => {
            let (v, j) = S::value_and_jacobian_slice(t);
            visitor.visit::<S>(*off, Some(&v), Some(&j));
        }
        (true, false) => visitor.visit::<S>(*off, Some(&S::value_slice(t)), None),
        (false, true) => visitor.visit::<S>(*off, None, Some(&S::jacobian_slice(t))),
        (false, false) => {}
    }
    *off += k;
}

/// How [`Place`] puts operands into the output.
pub(crate) mod mode {
    /// Added, all at the top-left corner (`Sum`; equal sizes).
    pub const SUM: u8 = 0;
    /// Copied along the diagonal (`BlockDiag`).
    pub const DIAGONAL: u8 = 1;
    /// Copied side by side (`Augment`; equal row counts).
    pub const COLUMNS: u8 = 2;
    /// Copied on top of each other (`Stack`; equal column counts).
    pub const ROWS: u8 = 3;
}

/// `P` matrices `R × C`: a list operator's Jacobian.
type Jacobian<T, R, C, P> = OVector<OMatrix<T, R, C>, P>;

/// A list operator's value and Jacobian.
type ValueAndJacobian<T, R, C, P> = (OMatrix<T, R, C>, Jacobian<T, R, C, P>);

/// The output of a static list operator, filled operand by operand in place
/// (through `&mut`, so nothing is built and then copied), and the evaluation
/// of `Sum`, `BlockDiag`, `Augment` and `Stack` ([`value`](Place::value),
/// [`jacobian`](Place::jacobian), [`value_and_jacobian`](Place::value_and_jacobian)).
pub(crate) struct Place<'a, T: Real, R: DimName, C: DimName, P: DimName, const MODE: u8>
where
    DefaultAllocator: Allocates<R, C, P>,
{
    value: Option<&'a mut OMatrix<T, R, C>>,
    jacobian: Option<&'a mut Jacobian<T, R, C, P>>,
    at: (usize, usize),
    first: bool,
}

impl<'a, T: Real, R: DimName, C: DimName, P: DimName, const MODE: u8> Place<'a, T, R, C, P, MODE>
where
    DefaultAllocator: Allocates<R, C, P>,
{
    /// Visits the operands `L` into `value` and `jacobian` (those given).
    #[inline]
    fn fill<L: StaticOperands>(
        theta: &[T],
        value: Option<&'a mut OMatrix<T, R, C>>,
        jacobian: Option<&'a mut Jacobian<T, R, C, P>>,
    ) {
        let (values, jacobians) = (value.is_some(), jacobian.is_some());
        let mut place = Place::<T, R, C, P, MODE> {
            value,
            jacobian,
            at: (0, 0),
            first: true,
        };
        L::visit(theta, values, jacobians, &mut place);
    }

    /// The operator's value at the natural parameters `theta`.
    #[inline]
    pub fn value<L: StaticOperands>(theta: &[T]) -> OMatrix<T, R, C> {
        let mut v = zeros();
        Place::<T, R, C, P, MODE>::fill::<L>(theta, Some(&mut v), None);
        v
    }

    /// The operator's Jacobian at `theta` (the operands' values are not formed).
    #[inline]
    pub fn jacobian<L: StaticOperands>(theta: &[T]) -> Jacobian<T, R, C, P> {
        let mut j = zero_jacobian();
        Place::<T, R, C, P, MODE>::fill::<L>(theta, None, Some(&mut j));
        j
    }

    /// The operator's value and Jacobian at `theta`.
    #[inline]
    pub fn value_and_jacobian<L: StaticOperands>(theta: &[T]) -> ValueAndJacobian<T, R, C, P> {
        let (mut v, mut j) = (zeros(), zero_jacobian());
        Place::<T, R, C, P, MODE>::fill::<L>(theta, Some(&mut v), Some(&mut j));
        (v, j)
    }
}

impl<T: Real, R: DimName, C: DimName, P: DimName, const MODE: u8> OperandVisitor<T>
    for Place<'_, T, R, C, P, MODE>
where
    DefaultAllocator: Allocates<R, C, P>,
{
    #[inline]
    fn visit<S: StaticStructure>(
        &mut self,
        param_offset: usize,
        value: Option<&StaticValue<T, S>>,
        jacobian: Option<&crate::static_structure::StaticJacobian<T, S>>,
    ) where
        DefaultAllocator: Allocates<S::SRows, S::SCols, S::NParams>,
    {
        const {
            let (r, c) = (<S::SRows as DimName>::DIM, <S::SCols as DimName>::DIM);
            let fits = match MODE {
                mode::SUM => r == R::DIM && c == C::DIM,
                mode::COLUMNS => r == R::DIM,
                mode::ROWS => c == C::DIM,
                _ => true,
            };
            assert!(
                fits,
                "static operand sizes do not fit: Sum needs equal sizes, Augment equal row counts, Stack equal column counts"
            );
        }
        let shape = (S::SRows::name(), S::SCols::name());
        if let (Some(out), Some(value)) = (self.value.as_deref_mut(), value) {
            let mut view = out.generic_view_mut(self.at, shape);
            if MODE == mode::SUM && !self.first {
                view += value;
            } else {
                // the first term of a sum is copied, as the dynamic `Sum` does
                view.copy_from(value);
            }
        }
        self.first = false;
        if let (Some(out), Some(jac)) = (self.jacobian.as_deref_mut(), jacobian) {
            for (k, d) in jac.iter().enumerate() {
                out[param_offset + k]
                    .generic_view_mut(self.at, shape)
                    .copy_from(d);
            }
        }
        let (r, c) = (<S::SRows as DimName>::DIM, <S::SCols as DimName>::DIM);
        match MODE {
            mode::DIAGONAL => self.at = (self.at.0 + r, self.at.1 + c),
            mode::COLUMNS => self.at.1 += c,
            mode::ROWS => self.at.0 += r,
            _ => {}
        }
    }
}

/// The Jacobian of a bilinear binary operator `V = f(A, B)` (`Kron`,
/// `Hadamard`, `Product`) written in place: `jac[k] = f(∂A/∂θ_k, B)` for
/// `A`'s parameters, then `f(A, ∂B/∂θ_k)` for `B`'s, with `f(x, y, out)`
/// writing into `out`. Returns the operands' values `(A, B)`.
#[inline]
pub(crate) fn binary_jacobian_into<A, B, T, R, C>(
    theta: &[T],
    jac: &mut [OMatrix<T, R, C>],
    f: impl Fn(&StaticValue<T, A>, &StaticValue<T, B>, &mut OMatrix<T, R, C>),
) -> (StaticValue<T, A>, StaticValue<T, B>)
where
    A: StaticStructure,
    B: StaticStructure,
    T: Real,
    R: DimName,
    C: DimName,
    DefaultAllocator: Allocates<A::SRows, A::SCols, A::NParams>
        + Allocates<B::SRows, B::SCols, B::NParams>
        + Allocator<R, C>,
{
    let na = <A::NParams as DimName>::DIM;
    let (ta, tb) = theta.split_at(na);
    let (a, ja) = A::value_and_jacobian_slice(ta);
    let (b, jb) = B::value_and_jacobian_slice(tb);
    let (out_a, out_b) = jac.split_at_mut(na);
    for (out, d) in out_a.iter_mut().zip(ja.iter()) {
        f(d, &b, out);
    }
    for (out, d) in out_b.iter_mut().zip(jb.iter()) {
        f(&a, d, out);
    }
    (a, b)
}
