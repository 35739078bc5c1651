//! Derive macros for covreml: parameter tables, user structures and operand
//! labels.
//!
//! The macros are re-exported by `covreml`; use them from there:
//! `#[derive(covreml::ParamTable)]`, `#[derive(covreml::Structure)]`,
//! `#[derive(covreml::Label)]`. Generated code names the library through
//! `::covreml::…` paths.
//!
//! Every derive runs the same pipeline: `parse` reads the attributes into
//! plain data, `validate` checks them and collects every problem as a
//! spanned [`syn::Error`], and `expand` writes the impls. Errors become
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

/// The `ParamTable` pipeline.
fn param_table_impl(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let parsed = parse::parse_table(input)?;
    let table = validate::validate_table(parsed)?;
    Ok(expand::param_table(input, &table))
}

/// The `Structure` pipeline.
fn structure_impl(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let parsed = parse::parse_structure(input)?;
    let s = validate::validate_structure(parsed)?;
    Ok(expand::structure(input, &s))
}

/// The `Label` pipeline.
fn label_impl(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let parsed = parse::parse_label(input)?;
    let label = validate::validate_label(parsed)?;
    Ok(expand::label(input, &label))
}

/// Derives `covreml::ParamTable` from `#[params("name", …)]`.
///
/// ```text
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
    run(input, param_table_impl)
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
    run(input, structure_impl)
}

/// Derives `covreml::Label` from `#[label("name")]`; without the attribute
/// the label is the type name in lower case.
#[proc_macro_derive(Label, attributes(label))]
pub fn derive_label(input: TokenStream) -> TokenStream {
    run(input, label_impl)
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn errors(r: syn::Result<proc_macro2::TokenStream>) -> Vec<String> {
        match r {
            Ok(ts) => panic!("expected errors, got {ts}"),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn table_expansion() {
        let input: DeriveInput = parse_quote! {
            #[params("sigma^2", "rho")]
            struct AR1<N = Dyn>(PhantomData<N>);
        };
        let out = param_table_impl(&input).unwrap().to_string();
        assert!(
            out.contains("impl < N > :: covreml :: ParamTable for AR1 < N >"),
            "{out}"
        );
        assert!(out.contains(r#"& ["sigma^2" , "rho"]"#), "{out}");
        assert!(out.contains(":: covreml :: Const < 2 >"), "{out}");
    }

    #[test]
    fn structure_expansion() {
        let input: DeriveInput = parse_quote! {
            #[params("sigma^2", "rho")]
            #[transforms(Transform::ExpPow2, Transform::Identity)]
            struct Mine;
        };
        let out = structure_impl(&input).unwrap().to_string();
        assert!(out.contains(":: covreml :: Structure for Mine"), "{out}");
        assert!(
            out.contains(r#"const NAME : & 'static :: core :: primitive :: str = "Mine""#),
            "{out}"
        );
        assert!(out.contains("Transform :: ExpPow2"), "{out}");
        // no defaults given: 0.0 each
        assert_eq!(out.matches(", 0.0 ,").count(), 2, "{out}");
    }

    #[test]
    fn every_problem_is_reported() {
        let input: DeriveInput = parse_quote! {
            #[params("a", "a", "b/c", "", "d e", x, 1)]
            #[defaults(0.0)]
            struct S { n: usize }
        };
        let e = errors(structure_impl(&input));
        assert_eq!(e.len(), 7, "{e:#?}");
        assert!(e[0].contains("field `n`"));
        assert!(e[1].contains("duplicate parameter name `a`"));
        assert!(e[2].contains("reserved for operand paths"));
        assert!(e[3].contains("empty parameter name"));
        assert!(e[4].contains("whitespace"));
        assert!(e[5].contains(r#"write `"x"`"#));
        assert!(e[6].contains("string literal"));
    }

    #[test]
    fn count_mismatch_and_missing_table() {
        let input: DeriveInput = parse_quote! {
            #[params("a", "b")]
            #[transforms(T::Exp)]
            #[defaults(0.0, 1.0, 2.0)]
            struct S;
        };
        let e = errors(structure_impl(&input));
        assert_eq!(e.len(), 2, "{e:#?}");
        assert!(
            e[0].contains("`#[transforms]` gives 1 transform but"),
            "{}",
            e[0]
        );
        assert!(
            e[1].contains("`#[defaults]` gives 3 defaults but"),
            "{}",
            e[1]
        );

        let input: DeriveInput = parse_quote!(
            struct S;
        );
        let e = errors(param_table_impl(&input));
        assert!(e[0].contains("needs a parameter table"));
        let input: DeriveInput = parse_quote!(
            #[params()]
            struct S;
        );
        assert!(errors(param_table_impl(&input))[0].contains("empty"));
        let input: DeriveInput = parse_quote!(
            #[params("a")]
            enum S {
                A,
            }
        );
        assert!(errors(structure_impl(&input))[0].contains("needs a struct"));
    }

    #[test]
    fn labels() {
        let input: DeriveInput = parse_quote!(
            struct Time;
        );
        assert!(label_impl(&input)
            .unwrap()
            .to_string()
            .contains(r#""time""#));
        let input: DeriveInput = parse_quote!(
            #[label("block")]
            struct B;
        );
        assert!(label_impl(&input)
            .unwrap()
            .to_string()
            .contains(r#""block""#));
        let input: DeriveInput = parse_quote!(
            #[label("a", "b")]
            struct B;
        );
        assert!(errors(label_impl(&input))[0].contains("exactly one"));
        let input: DeriveInput = parse_quote!(
            #[label("a b")]
            struct B;
        );
        assert!(errors(label_impl(&input))[0].contains("whitespace"));
    }
}
