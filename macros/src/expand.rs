//! Expansion: writes the impls from validated data. Generated code names the
//! library only through `::covreml::…` paths.

use crate::validate::{Table, ValidLabel, ValidStructure};
use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::{DeriveInput, LitStr};

/// The supertraits that `Structure` and `Label` ask of a zero-sized type.
fn zst_bounds() -> TokenStream {
    quote! {
        ::core::marker::Copy
            + ::core::default::Default
            + ::core::fmt::Debug
            + ::core::marker::Send
            + ::core::marker::Sync
            + 'static
    }
}

/// The input's where clause; for a generic type, plus `Type<…>: bounds`, so
/// that the impl applies wherever the type meets them.
fn bounded(input: &DeriveInput, bounds: TokenStream) -> TokenStream {
    let (_, ty_g, where_c) = input.generics.split_for_impl();
    if input.generics.params.is_empty() {
        return quote!(#where_c);
    }
    let ident = &input.ident;
    let preds = where_c.map(|w| {
        let p = w.predicates.iter();
        quote!(#(#p,)*)
    });
    quote!(where #preds #ident #ty_g: #bounds)
}

/// `impl ParamTable`.
pub(crate) fn param_table(input: &DeriveInput, table: &Table) -> TokenStream {
    let ident = &input.ident;
    let (impl_g, ty_g, where_c) = input.generics.split_for_impl();
    let names = &table.names;
    let n = Literal::usize_unsuffixed(names.len());
    quote! {
        #[automatically_derived]
        impl #impl_g ::covreml::ParamTable for #ident #ty_g #where_c {
            const PARAM_NAMES: &'static [&'static ::core::primitive::str] = &[#(#names),*];
            type Count = ::covreml::Const<#n>;
        }
    }
}

/// `impl ParamTable` and `impl Structure` delegating to `Custom`.
pub(crate) fn structure(input: &DeriveInput, s: &ValidStructure) -> TokenStream {
    let table = param_table(input, &s.table);
    let ident = &input.ident;
    let name = LitStr::new(&ident.unraw().to_string(), ident.span());
    let (impl_g, ty_g, _) = input.generics.split_for_impl();
    // A generic type is a structure wherever it meets the bounds of
    // `Structure` and the user's `Custom` impl applies; a non-generic one must
    // implement them all (the error then points at the derive and says so).
    let bounds = zst_bounds();
    let where_c = bounded(input, quote!(::covreml::Custom + #bounds));
    let specs = s.table.names.iter().enumerate().map(|(i, lit)| {
        let transform = match &s.transforms {
            Some(t) => {
                let e = &t[i];
                quote_spanned!(lit.span()=> { let t: ::covreml::Transform = #e; t })
            }
            None => quote!(::covreml::Transform::Identity),
        };
        let default = match &s.defaults {
            Some(d) => {
                let e = &d[i];
                quote_spanned!(lit.span()=> { let d: ::core::primitive::f64 = #e; d })
            }
            None => quote!(0.0),
        };
        let i = Literal::usize_unsuffixed(i);
        quote! {
            ::covreml::ParamSpec::new(
                <Self as ::covreml::ParamTable>::PARAM_NAMES[#i],
                #default,
                #transform,
            )
        }
    });
    let p = quote!(::covreml::__private);
    quote! {
        #table

        #[automatically_derived]
        impl #impl_g ::covreml::Structure for #ident #ty_g #where_c {
            type Rows = ::covreml::Dyn;
            type Cols = ::covreml::Dyn;
            type NParams = <Self as ::covreml::ParamTable>::Count;
            type Shape = <Self as ::covreml::Custom>::Shape;
            const NAME: &'static ::core::primitive::str = #name;

            fn check_shape(shape: &Self::Shape) -> #p::Result<(), ::covreml::CovError> {
                <Self as ::covreml::Custom>::check_shape(shape)
            }
            fn dims(
                shape: &Self::Shape,
            ) -> (::core::primitive::usize, ::core::primitive::usize) {
                <Self as ::covreml::Custom>::dims(shape)
            }
            fn param_count(_: &Self::Shape) -> ::core::primitive::usize {
                <Self as ::covreml::ParamTable>::PARAM_NAMES.len()
            }
            fn param_specs(_: &Self::Shape) -> #p::Vec<::covreml::ParamSpec> {
                #p::vec![#(#specs),*]
            }
            fn value<CovremlT: ::covreml::Real>(
                shape: &Self::Shape,
                theta: &[CovremlT],
            ) -> #p::DMatrix<CovremlT> {
                #p::custom_value::<Self, CovremlT>(shape, theta)
            }
            fn jacobian<CovremlT: ::covreml::Real>(
                shape: &Self::Shape,
                theta: &[CovremlT],
            ) -> #p::Option<#p::Vec<#p::DMatrix<CovremlT>>> {
                #p::custom_jacobian::<Self, CovremlT>(shape, theta)
            }
        }
    }
}

/// `impl Label`.
pub(crate) fn label(input: &DeriveInput, label: &ValidLabel) -> TokenStream {
    let ident = &input.ident;
    let (impl_g, ty_g, _) = input.generics.split_for_impl();
    let name = LitStr::new(&label.name, label.span);
    let where_c = bounded(input, zst_bounds());
    quote! {
        #[automatically_derived]
        impl #impl_g ::covreml::Label for #ident #ty_g #where_c {
            const NAME: &'static ::core::primitive::str = #name;
        }
    }
}
