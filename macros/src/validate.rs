//! Validation: checks the parsed attributes and turns them into the data
//! that [`expand`](crate::expand) needs, collecting every problem as a
//! spanned error that says what to do.

use crate::parse::{Body, Entries, Errors, ParsedLabel, ParsedStructure, ParsedTable};
use proc_macro2::Span;
use syn::{Expr, ExprLit, Lit, LitStr, Type};

/// A checked parameter table.
pub(crate) struct Table {
    /// The names, in order, as string literals (their spans kept).
    pub(crate) names: Vec<LitStr>,
}

/// A checked `#[derive(Structure)]` input.
pub(crate) struct ValidStructure {
    /// The parameter table.
    pub(crate) table: Table,
    /// One transform expression per name, if given.
    pub(crate) transforms: Option<Vec<Expr>>,
    /// One default expression per name, if given.
    pub(crate) defaults: Option<Vec<Expr>>,
}

/// A checked label.
pub(crate) struct ValidLabel {
    /// The label text.
    pub(crate) name: String,
    /// Where it came from (the literal, or the type name for the default).
    pub(crate) span: Span,
}

/// Checks one name (a parameter name or a label): non-empty, no whitespace,
/// no `/`.
fn check_name(what: &str, lit: &LitStr, errors: &mut Errors) {
    let v = lit.value();
    if v.is_empty() {
        errors.spanned(lit, format!("empty {what}; give it a name such as \"rho\""));
    } else if v.contains('/') {
        errors.spanned(
            lit,
            format!(
                "{what} `{v}` contains `/`, which is reserved for operand paths such as `time/rho`; \
                 use another character, e.g. `{}`",
                v.replace('/', "_")
            ),
        );
    } else if v.chars().any(char::is_whitespace) {
        errors.spanned(
            lit,
            format!(
                "{what} `{v}` contains whitespace; names are single words, e.g. `{}`",
                v.split_whitespace().collect::<Vec<_>>().join("_")
            ),
        );
    }
}

/// The string literal inside `e`, or an error saying how to write it.
fn string_literal(what: &str, e: &Expr, errors: &mut Errors) -> Option<LitStr> {
    // A `$s:literal` passed through `macro_rules!` arrives wrapped in an
    // invisible group: look inside it.
    let mut e = e;
    while let Expr::Group(g) = e {
        e = &g.expr;
    }
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.clone()),
        Expr::Path(p) if p.path.get_ident().is_some() => {
            let id = p
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            errors.spanned(
                e,
                format!("{what}s are string literals: write `\"{id}\"` instead of `{id}`"),
            );
            None
        }
        _ => {
            errors.spanned(
                e,
                format!("expected a string literal for the {what}, such as `\"rho\"`"),
            );
            None
        }
    }
}

fn table(parsed: &ParsedTable, errors: &mut Errors) -> Option<Table> {
    let Some(params) = &parsed.params else {
        if parsed.params_written {
            return None; // malformed: already reported
        }
        errors.spanned(
            &parsed.ident,
            format!(
                "`#[derive({})]` needs a parameter table: add `#[params(\"sigma^2\", …)]` \
                 naming each parameter in order",
                parsed.derive
            ),
        );
        return None;
    };
    if params.items.is_empty() {
        errors.spanned(
            &params.attr,
            "the parameter table is empty: name at least one parameter, e.g. \
             `#[params(\"sigma^2\")]`; a structure without parameters implements \
             `Structure` by hand, as `Identity` does",
        );
        return None;
    }
    let mut names: Vec<LitStr> = Vec::new();
    let mut ok = true;
    for e in &params.items {
        let Some(lit) = string_literal("parameter name", e, errors) else {
            ok = false;
            continue;
        };
        check_name("parameter name", &lit, errors);
        let v = lit.value();
        if let Some(k) = names.iter().position(|n| n.value() == v) {
            errors.spanned(
                &lit,
                format!(
                    "duplicate parameter name `{v}` (already entry {} of the table); \
                     every parameter needs its own name",
                    k + 1
                ),
            );
        }
        names.push(lit);
    }
    ok.then_some(Table { names })
}

/// Checks `#[derive(ParamTable)]`.
pub(crate) fn validate_table(mut parsed: ParsedTable) -> syn::Result<Table> {
    let mut errors = std::mem::take(&mut parsed.errors);
    let t = table(&parsed, &mut errors);
    errors.finish()?;
    t.ok_or_else(|| syn::Error::new(parsed.ident.span(), "invalid parameter table"))
}

/// Checks that a per-parameter list has one entry per name.
fn per_param(
    list: &Option<Entries>,
    attr: &str,
    noun: &str,
    fallback: &str,
    table: Option<&Table>,
    errors: &mut Errors,
) -> Option<Vec<Expr>> {
    let list = list.as_ref()?;
    let Some(table) = table else {
        return Some(list.items.clone());
    };
    let (want, got) = (table.names.len(), list.items.len());
    if want != got {
        let names = table
            .names
            .iter()
            .map(|n| n.value())
            .collect::<Vec<_>>()
            .join(", ");
        let msg = format!(
            "`#[{attr}]` gives {got} {noun}{} but `#[params]` names {want} parameter{} ({names}); \
             give one {noun} per parameter, in order, or drop `#[{attr}]` to use {fallback} for each",
            if got == 1 { "" } else { "s" },
            if want == 1 { "" } else { "s" },
        );
        match list.items.get(want) {
            Some(extra) => errors.spanned(extra, msg),
            None => errors.spanned(&list.attr, msg),
        }
    }
    Some(list.items.clone())
}

/// Whether `ty` is `PhantomData<…>` (by any path).
fn is_phantom(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "PhantomData"),
        Type::Paren(p) => is_phantom(&p.elem),
        Type::Group(g) => is_phantom(&g.elem),
        _ => false,
    }
}

/// Checks `#[derive(Structure)]`.
pub(crate) fn validate_structure(mut parsed: ParsedStructure) -> syn::Result<ValidStructure> {
    let mut errors = std::mem::take(&mut parsed.table.errors);
    let ident = parsed.table.ident.clone();
    match &parsed.body {
        Body::Struct(fields) => {
            for (span, name, ty) in fields {
                if !is_phantom(ty) {
                    let field = match name {
                        Some(n) => format!("field `{n}`"),
                        None => "this field".to_owned(),
                    };
                    errors.push(syn::Error::new(
                        *span,
                        format!(
                            "{field} makes `{ident}` carry data, but structures are zero-sized \
                             types (a unit struct, or only `PhantomData` fields); move runtime \
                             sizes and data into `type Shape` of `impl covreml::Custom for {ident}`"
                        ),
                    ));
                }
            }
        }
        Body::Enum(span) | Body::Union(span) => errors.push(syn::Error::new(
            *span,
            format!(
                "`#[derive(Structure)]` needs a struct: declare `struct {ident};` (structures \
                 are zero-sized types) and put runtime sizes and data in `type Shape` of \
                 `impl covreml::Custom for {ident}`"
            ),
        )),
    }
    let table = table(&parsed.table, &mut errors);
    let transforms = per_param(
        &parsed.transforms,
        "transforms",
        "transform",
        "`Transform::Identity`",
        table.as_ref(),
        &mut errors,
    );
    let defaults = per_param(
        &parsed.defaults,
        "defaults",
        "default",
        "`0.0`",
        table.as_ref(),
        &mut errors,
    );
    errors.finish()?;
    let table = table.ok_or_else(|| syn::Error::new(ident.span(), "invalid parameter table"))?;
    Ok(ValidStructure {
        table,
        transforms,
        defaults,
    })
}

/// Checks `#[derive(Label)]`.
pub(crate) fn validate_label(mut parsed: ParsedLabel) -> syn::Result<ValidLabel> {
    let mut errors = std::mem::take(&mut parsed.errors);
    let out = match &parsed.label {
        Some(e) => string_literal("label", e, &mut errors).map(|lit| {
            check_name("label", &lit, &mut errors);
            ValidLabel {
                name: lit.value(),
                span: lit.span(),
            }
        }),
        None => {
            use syn::ext::IdentExt;
            Some(ValidLabel {
                name: parsed.ident.unraw().to_string().to_lowercase(),
                span: parsed.ident.span(),
            })
        }
    };
    errors.finish()?;
    out.ok_or_else(|| syn::Error::new(parsed.ident.span(), "invalid label"))
}
