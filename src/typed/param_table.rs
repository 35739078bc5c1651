//! Parameter-name tables as data.
//!
//! A structure whose parameters have fixed names declares them once, as a
//! table, with `#[derive(ParamTable)]`:
//!
//! ```
//! use covreml::ParamTable;
//! #[derive(ParamTable)]
//! #[params("sigma^2", "rho")]
//! struct MyTable;
//! assert_eq!(MyTable::PARAM_NAMES, ["sigma^2", "rho"]);
//! // the count is a type, so arrays of parameters have their length checked
//! let free: [f64; <MyTable as ParamTable>::PARAM_NAMES.len()] = [0.0, 0.5];
//! assert_eq!(free.len(), 2);
//! ```
//!
//! The built-in leaves with fixed names ([`Scalar`](crate::Scalar),
//! [`EqualEntry`](crate::EqualEntry), [`Equicorrelation`](crate::Equicorrelation),
//! [`CompoundSymmetric`](crate::CompoundSymmetric), [`AR1`](crate::AR1)) build
//! their parameter specs from their table:
//!
//! ```
//! use covreml::{ParamTable, AR1, CompoundSymmetric, Scalar};
//! assert_eq!(<AR1>::PARAM_NAMES, ["sigma^2", "rho"]);
//! assert_eq!(<CompoundSymmetric>::PARAM_NAMES, ["sigma^2", "rho"]);
//! assert_eq!(<Scalar>::PARAM_NAMES, ["sigma^2"]);
//! ```
//!
//! Operand names are derived the same way, with `#[derive(Label)]`
//! (`#[label("…")]`, or the type name in lower case):
//!
//! ```
//! use covreml::{Covariance, Kron, Label, Named, Scalar, AR1};
//! #[derive(Clone, Copy, Default, Debug, Label)]
//! #[label("time")]
//! struct Time;
//! #[derive(Clone, Copy, Default, Debug, Label)]
//! struct Subject;
//! assert_eq!(Subject::NAME, "subject");
//! let k = Covariance::<Kron<Named<AR1, Time>, Named<Scalar, Subject>>>::new((3, 2)).unwrap();
//! assert_eq!(k.names(), ["time/sigma^2", "time/rho", "subject/sigma^2"]);
//! let v = k.value(&[0.0, 0.0, 0.5]).unwrap(); // I₃ ⊗ e·I₂
//! assert_eq!(v[(1, 1)], std::f64::consts::E);
//! ```

use crate::structure::ParamArray;

/// A fixed table of parameter names, in parameter order.
///
/// Derive it with `#[derive(covreml::ParamTable)]` and
/// `#[params("name", …)]`; `#[derive(covreml::Structure)]` derives it too.
/// Names are non-empty, distinct, without whitespace and without `/` (the
/// separator of operand paths such as `time/rho`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no parameter-name table",
    label = "no `ParamTable` for this type",
    note = "derive one with `#[derive(covreml::ParamTable)]` and `#[params(\"sigma^2\", \"rho\")]`"
)]
pub trait ParamTable {
    /// The parameter names, in order (`["sigma^2", "rho"]`).
    const PARAM_NAMES: &'static [&'static str];
    /// The number of names as a type: `Const<N>` with `N = PARAM_NAMES.len()`.
    type Count: ParamArray;
}
