//! Derive macros for covreml.
use proc_macro::TokenStream;

/// Placeholder.
#[proc_macro_derive(Label, attributes(label))]
pub fn derive_label(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
