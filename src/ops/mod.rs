//! Operators: compositions of structures resolved at compile time.
//!
//! One file per operator. Each composes the value of its operands and their
//! closed-form Jacobians by the product and chain rules; the operand names
//! prefix the operands' parameter names (`op_0/rho`, or a label given with
//! [`Named`]). Operand sizes fixed by the types (`Const<N>`) are checked at
//! compile time; runtime sizes are checked by [`Covariance::new`](crate::Covariance::new).
//!
//! | operator | value |
//! |---|---|
//! | [`Sum<(A, B, …)>`](Sum) | `A + B + …` |
//! | [`Kron<A, B>`](Kron) | `A ⊗ B` |
//! | [`Hadamard<A, B>`](Hadamard) | `A ∘ B` |
//! | [`BlockDiag<(A, B, …)>`](BlockDiag) | `diag(A, B, …)` |
//! | [`Propagate<Z, G>`](Propagate) | `Z G Zᵀ` |
//! | [`Gram<X>`](Gram), `Gram<X, Outer>` | `XᵀX`, `XXᵀ` |
//! | [`Augment<(A, B, …)>`](Augment) | `[A B …]` |
//! | [`Stack<(A, B, …)>`](Stack) | `[A; B; …]` |
//! | [`Product<A, B>`](Product) | `A B` |
//! | [`Inverse<A>`](Inverse) | `A⁻¹` |
//! | [`Transpose<A>`](Transpose) | `Aᵀ` |
//! | [`Named<S, L>`](Named) | `S`, named `L::NAME` as an operand |
//! | [`Adapter<S, M>`](Adapter) | `S` at `θ = m(φ)`: new parameters `φ` (tied, linked, renamed) |

mod adapter;
mod binary;
mod block_diag;
mod concat;
mod gram;
mod hadamard;
mod inverse;
mod kron;
mod linear_map;
mod named;
mod operands;
mod product;
mod propagate;
pub mod size;
mod static_operands;
mod sum;
mod tie;
mod transpose;
mod unary;

pub use adapter::{Adapter, ParamMap};
pub use block_diag::BlockDiag;
pub use concat::{Augment, Stack};
pub use gram::{Gram, GramKind, Inner, Outer};
pub use hadamard::Hadamard;
pub use inverse::Inverse;
pub use kron::Kron;
pub use linear_map::{Linear, LinearMap, Target};
pub use named::{Label, Named};
pub use operands::{AllSameCols, AllSameRows, Operands, ParamSum, ValueJac};
pub use product::Product;
pub use propagate::Propagate;
pub use static_operands::{StaticOperands, StaticSums};
pub use sum::Sum;
pub use tie::{Source, Tie, TieAll, TieTable};
pub use transpose::Transpose;

/// `Clone`, `Copy`, `Default` and `Debug` for a zero-sized operator type,
/// with no bounds on its operands.
macro_rules! zst_impls {
    ($name:ident < $($p:ident),+ >) => {
        impl<$($p),+> Clone for $name<$($p),+> {
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<$($p),+> Copy for $name<$($p),+> {}
        impl<$($p),+> Default for $name<$($p),+> {
            fn default() -> Self {
                $name(std::marker::PhantomData)
            }
        }
        impl<$($p),+> std::fmt::Debug for $name<$($p),+> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(std::any::type_name::<Self>())
            }
        }
    };
}
use zst_impls;
