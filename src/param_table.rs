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
