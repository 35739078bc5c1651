//! Derive macros for covreml: parameter tables, user structures and operand
//! labels.
//!
//! The macros are re-exported by `covreml`; use them from there:
//! `#[derive(covreml::ParamTable)]`, `#[derive(covreml::Structure)]`,
//! `#[derive(covreml::Label)]`. Generated code names the library through
//! `::covreml::…` paths.
//!
//! Every derive runs the same pipeline: [`parse`] reads the attributes into
//! plain data, [`validate`] checks them and collects every problem as a
//! spanned [`syn::Error`], and [`expand`] writes the impls. Errors become
//! `compile_error!` invocations; the macros never panic.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use proc_macro::TokenStream;
use syn::DeriveInput;

mod expand;
mod parse;
mod validate;

/// Runs one derive: parse the input, then `f`, turning errors into
/// `compile_error!`.
fn run(
    input: TokenStream,
    f: impl FnOnce(&DeriveInput) -> syn::Result<proc_macro2::TokenStream>,
) -> TokenStream {
    let input = match syn::parse::<DeriveInput>(input) {
        Ok(i) => i,
        Err(e) => return e.into_compile_error().into(),
    };
    match f(&input) {
        Ok(ts) => ts.into(),
        Err(e) => e.into_compile_error().into(),
    }
}

/// Derives `covreml::ParamTable` from `#[params("name", …)]`.
///
/// ```ignore
/// #[derive(covreml::ParamTable)]
/// #[params("sigma^2", "rho")]
/// struct MyTable;
/// // impl ::covreml::ParamTable for MyTable {
/// //     const PARAM_NAMES: &'static [&'static str] = &["sigma^2", "rho"];
/// //     type Count = ::covreml::Const<2>;
/// // }
/// ```
///
/// Names must be non-empty string literals without whitespace or `/` (the
/// operand separator), and distinct. Generic types get a generic impl.
#[proc_macro_derive(ParamTable, attributes(params))]
pub fn derive_param_table(input: TokenStream) -> TokenStream {
    run(input, |input| {
        let parsed = parse::parse_table(input)?;
        let table = validate::validate_table(parsed)?;
        Ok(expand::param_table(input, &table))
    })
}

/// Derives `covreml::ParamTable` and `covreml::Structure` for a zero-sized
/// user structure that implements `covreml::Custom`.
///
/// Attributes: `#[params("name", …)]` (required), `#[transforms(expr, …)]`
/// (optional, one `covreml::Transform` expression per name, default
/// `Transform::Identity`) and `#[defaults(expr, …)]` (optional, one `f64`
/// expression per name on the free scale, default `0.0`). The expressions
/// are evaluated in the scope of the type's definition.
#[proc_macro_derive(Structure, attributes(params, transforms, defaults))]
pub fn derive_structure(input: TokenStream) -> TokenStream {
    run(input, |input| {
        let parsed = parse::parse_structure(input)?;
        let s = validate::validate_structure(parsed)?;
        Ok(expand::structure(input, &s))
    })
}

/// Derives `covreml::Label` from `#[label("name")]`; without the attribute
/// the label is the type name in lower case.
#[proc_macro_derive(Label, attributes(label))]
pub fn derive_label(input: TokenStream) -> TokenStream {
    run(input, |input| {
        let parsed = parse::parse_label(input)?;
        let label = validate::validate_label(parsed)?;
        Ok(expand::label(input, &label))
    })
}
