//! Repeated measures with AR(1) errors: `y ~ 1 + time + x`,
//! `V = I₄₀ ⊗ σ² AR1(6)`, fitted from the default start (ρ = 0).
//!
//! `cargo run --release --example ar1_repeated [-- [path.csv] [--json] [--trace]]`
//! (default: `tests/data/ar1_repeated.csv`).

#[path = "common/mod.rs"]
mod common;

use covreml::data::Table;
use covreml::datasets::ar1_repeated_model;
use covreml::reml::RemlOptions;
use serde_json::Map;

fn main() {
    let (path, as_json, trace) = common::args();
    let path = path.unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ar1_repeated.csv").to_string()
    });
    let table = Table::read(&path).unwrap_or_else(|e| common::fail(e));
    let model = ar1_repeated_model(&table).unwrap_or_else(|e| common::fail(e));
    let fit = model
        .fit(&RemlOptions::default().trace(trace))
        .unwrap_or_else(|e| common::fail(e));
    common::report(
        "ar1_repeated: y ~ 1 + time + x, V = I ⊗ σ² AR1, REML",
        &fit,
        Map::new(),
        as_json,
    );
}
