//! Two crossed random factors, n = 2000: `y ~ 1 + x1 + (1|f1) + (1|f2)`.
//!
//! `cargo run --release --example crossed [-- [path.csv] [--json] [--trace]]`
//! (default: `tests/data/crossed_2000.csv`).

#[path = "common/mod.rs"]
mod common;

use covreml::data::Table;
use covreml::datasets::crossed_model;
use covreml::reml::RemlOptions;
use serde_json::Map;

fn main() {
    let (path, as_json, trace) = common::args();
    let path = path.unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/crossed_2000.csv").to_string()
    });
    let table = Table::read(&path).unwrap_or_else(|e| common::fail(e));
    let model = crossed_model(&table).unwrap_or_else(|e| common::fail(e));
    let fit = model
        .fit(&RemlOptions::default().trace(trace))
        .unwrap_or_else(|e| common::fail(e));
    common::report(
        "crossed_2000: y ~ 1 + x1 + (1|f1) + (1|f2), REML",
        &fit,
        Map::new(),
        as_json,
    );
}
