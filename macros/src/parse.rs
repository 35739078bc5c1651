//! Parsing: reads the derive input and its helper attributes into plain data.
//!
//! Nothing is checked here beyond the syntax of the attributes themselves;
//! problems are collected in [`Errors`] so that one compilation reports all
//! of them, and [`validate`](crate::validate) carries on from there.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Expr, Fields, Meta, Token, Type};

/// Collects spanned errors; [`finish`](Errors::finish) combines them.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Records an error.
    pub(crate) fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    /// Records an error spanning `tokens`.
    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, msg: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, msg));
    }

    /// `Ok(())` if nothing was recorded, else every error combined.
    pub(crate) fn finish(self) -> syn::Result<()> {
        match self.0 {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The comma-separated arguments of one helper attribute.
pub(crate) struct Entries {
    /// The whole attribute, for errors about the list as a whole.
    pub(crate) attr: TokenStream,
    /// The entries, unchecked.
    pub(crate) items: Vec<Expr>,
}

/// What the body of the input type looks like, for the zero-size check.
pub(crate) enum Body {
    /// A struct; the types of its fields (empty for a unit struct).
    Struct(Vec<(Span, Option<String>, Type)>),
    /// An enum; the span of the `enum` keyword.
    Enum(Span),
    /// A union; the span of the `union` keyword.
    Union(Span),
}

/// Input of `#[derive(ParamTable)]`.
pub(crate) struct ParsedTable {
    /// The type's name.
    pub(crate) ident: syn::Ident,
    /// `#[params(…)]`, if present and well-formed.
    pub(crate) params: Option<Entries>,
    /// Whether some `#[params]` attribute was written (well-formed or not).
    pub(crate) params_written: bool,
    /// Errors found so far.
    pub(crate) errors: Errors,
    /// Which derive is being expanded, for messages.
    pub(crate) derive: &'static str,
}

/// Input of `#[derive(Structure)]`.
pub(crate) struct ParsedStructure {
    /// The parameter table.
    pub(crate) table: ParsedTable,
    /// `#[transforms(…)]`, if present.
    pub(crate) transforms: Option<Entries>,
    /// `#[defaults(…)]`, if present.
    pub(crate) defaults: Option<Entries>,
    /// The body of the type.
    pub(crate) body: Body,
}

/// Input of `#[derive(Label)]`.
pub(crate) struct ParsedLabel {
    /// The type's name.
    pub(crate) ident: syn::Ident,
    /// The single argument of `#[label(…)]`, if present.
    pub(crate) label: Option<Expr>,
    /// Errors found so far.
    pub(crate) errors: Errors,
}

/// Reads every attribute named `name` as a comma-separated expression list;
/// reports repeated or malformed attributes (and then returns `None`).
fn entries(attrs: &[Attribute], name: &str, example: &str, errors: &mut Errors) -> Option<Entries> {
    let mut found: Option<Entries> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident(name)) {
        if found.is_some() {
            errors.spanned(
                attr,
                format!("`#[{name}]` is given more than once; put every entry in one list, e.g. `{example}`"),
            );
            continue;
        }
        let list = match &attr.meta {
            Meta::List(list) => list,
            _ => {
                errors.spanned(
                    attr,
                    format!("`#[{name}]` takes a parenthesised list, e.g. `{example}`"),
                );
                continue;
            }
        };
        match list.parse_args_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
            Ok(items) => {
                found = Some(Entries {
                    attr: attr.to_token_stream(),
                    items: items.into_iter().collect(),
                })
            }
            Err(e) => errors.push(syn::Error::new(
                e.span(),
                format!("{e}: `#[{name}]` takes comma-separated entries, e.g. `{example}`"),
            )),
        }
    }
    found
}

const PARAMS_EXAMPLE: &str = "#[params(\"sigma^2\", \"rho\")]";

fn table(input: &DeriveInput, derive: &'static str) -> ParsedTable {
    let mut errors = Errors::default();
    let params = entries(&input.attrs, "params", PARAMS_EXAMPLE, &mut errors);
    ParsedTable {
        ident: input.ident.clone(),
        params,
        params_written: input.attrs.iter().any(|a| a.path().is_ident("params")),
        errors,
        derive,
    }
}

/// Parses the input of `#[derive(ParamTable)]`.
pub(crate) fn parse_table(input: &DeriveInput) -> syn::Result<ParsedTable> {
    Ok(table(input, "ParamTable"))
}

/// Parses the input of `#[derive(Structure)]`.
pub(crate) fn parse_structure(input: &DeriveInput) -> syn::Result<ParsedStructure> {
    let mut table = table(input, "Structure");
    let transforms = entries(
        &input.attrs,
        "transforms",
        "#[transforms(Transform::ExpPow2, Transform::correlation(-1.0, 1.0))]",
        &mut table.errors,
    );
    let defaults = entries(
        &input.attrs,
        "defaults",
        "#[defaults(0.0, 0.5)]",
        &mut table.errors,
    );
    let body = match &input.data {
        Data::Struct(s) => Body::Struct(match &s.fields {
            Fields::Unit => Vec::new(),
            fields => fields
                .iter()
                .map(|f| {
                    (
                        f.span(),
                        f.ident.as_ref().map(|i| i.to_string()),
                        f.ty.clone(),
                    )
                })
                .collect(),
        }),
        Data::Enum(e) => Body::Enum(e.enum_token.span),
        Data::Union(u) => Body::Union(u.union_token.span),
    };
    Ok(ParsedStructure {
        table,
        transforms,
        defaults,
        body,
    })
}

/// Parses the input of `#[derive(Label)]`.
pub(crate) fn parse_label(input: &DeriveInput) -> syn::Result<ParsedLabel> {
    let mut errors = Errors::default();
    let label = entries(&input.attrs, "label", "#[label(\"time\")]", &mut errors).and_then(|e| {
        match <[Expr; 1]>::try_from(e.items) {
            Ok([x]) => Some(x),
            Err(items) => {
                let msg = "`#[label]` takes exactly one string literal, e.g. `#[label(\"time\")]`";
                match items.get(1) {
                    Some(extra) => errors.spanned(extra, msg),
                    None => errors.spanned(e.attr, msg),
                }
                None
            }
        }
    });
    Ok(ParsedLabel {
        ident: input.ident.clone(),
        label,
        errors,
    })
}
