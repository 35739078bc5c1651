//! `Named<S, L>`: the structure `S` under the operand name `L::NAME`, given
//! in the type. `Kron<Named<AR1, Time>, Named<Scalar, Subject>>` names its
//! parameters `time/sigma^2`, `time/rho`, `subject/sigma^2`.

use crate::{CovError, ParamSpec, Real, Structure};
use nalgebra::DMatrix;
use std::marker::PhantomData;

/// A type-level operand name: derive it with `#[derive(Label)]`, or implement
/// it by hand.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an operand label",
    note = "declare a label with `#[derive(covreml::Label)] #[label(\"time\")] struct Time;`"
)]
pub trait Label: Copy + Default + std::fmt::Debug + Send + Sync + 'static {
    /// The operand name.
    const NAME: &'static str;
}

/// `S` named `L::NAME` as an operand.
///
/// ```
/// use covreml::{ops::{Kron, Label, Named}, Covariance, Scalar, AR1};
/// #[derive(Clone, Copy, Default, Debug)]
/// struct Time;
/// impl Label for Time { const NAME: &'static str = "time"; }
/// #[derive(Clone, Copy, Default, Debug)]
/// struct Subject;
/// impl Label for Subject { const NAME: &'static str = "subject"; }
///
/// let k = Covariance::<Kron<Named<AR1, Time>, Named<Scalar, Subject>>>::new((2, 2)).unwrap();
/// assert_eq!(k.names(), ["time/sigma^2", "time/rho", "subject/sigma^2"]);
/// ```
pub struct Named<S, L>(PhantomData<(S, L)>);

super::zst_impls!(Named<S, L>);

impl<S: Structure, L: Label> Structure for Named<S, L> {
    type Rows = S::Rows;
    type Cols = S::Cols;
    type NParams = S::NParams;
    type Shape = S::Shape;
    const NAME: &'static str = S::NAME;
    const LABEL: Option<&'static str> = Some(L::NAME);
    const OPERANDS: usize = S::OPERANDS;

    fn default_transforms<T: Real>(
        shape: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        dtheta: Option<&mut [T]>,
    ) {
        S::default_transforms(shape, free, theta, dtheta)
    }

    fn check_shape(shape: &Self::Shape) -> Result<(), CovError> {
        S::check_shape(shape)
    }
    fn dims(shape: &Self::Shape) -> (usize, usize) {
        S::dims(shape)
    }
    fn param_count(shape: &Self::Shape) -> usize {
        S::param_count(shape)
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        S::param_specs(shape)
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        S::value(shape, theta)
    }
    fn jacobian<T: Real>(shape: &Self::Shape, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        S::jacobian(shape, theta)
    }
    fn value_and_jacobian<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> (DMatrix<T>, Option<Vec<DMatrix<T>>>) {
        S::value_and_jacobian(shape, theta)
    }
    fn diagonal<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> Option<crate::structure::Diagonals<T>> {
        S::diagonal(shape, theta)
    }
    fn sparse_inverse<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
    ) -> Option<crate::SparseInverse<T>> {
        S::sparse_inverse(shape, theta)
    }
    fn sparse_inverse_into<T: Real>(
        shape: &Self::Shape,
        theta: &[T],
        out: &mut crate::SparseInverse<T>,
    ) -> Option<bool> {
        S::sparse_inverse_into(shape, theta, out)
    }
}

/// Static evaluation of a named static structure: that of the structure (see
/// [`StaticStructure`](crate::StaticStructure)).
mod static_eval {
    use super::*;
    use crate::static_structure::{Allocates, StaticJacobian, StaticStructure, StaticValue};
    use nalgebra::DefaultAllocator;

    impl<S: StaticStructure, L: Label> StaticStructure for Named<S, L>
    where
        DefaultAllocator: Allocates<S::SRows, S::SCols, S::NParams>,
    {
        type SRows = S::SRows;
        type SCols = S::SCols;
        #[inline]
        fn value_slice<T: Real>(theta: &[T]) -> StaticValue<T, Self> {
            S::value_slice(theta)
        }
        #[inline]
        fn jacobian_slice<T: Real>(theta: &[T]) -> StaticJacobian<T, Self> {
            S::jacobian_slice(theta)
        }
        #[inline]
        fn value_and_jacobian_slice<T: Real>(
            theta: &[T],
        ) -> (StaticValue<T, Self>, StaticJacobian<T, Self>) {
            S::value_and_jacobian_slice(theta)
        }
    }
}
