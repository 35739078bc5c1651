//! lme4's InstEval (73,421 ratings, 2,972 students × 1,128 lecturers
//! crossed, 14 departments): `y ~ service + (1|s) + (1|d) + (1|dept)` by
//! AI-REML on the sparse mixed-model equations (`Backend::Auto` picks them).
//!
//! `cargo run --release --example insteval [-- [path.csv] [--json] [--trace]]`
//! (default: `tests/data/lme4/InstEval.csv`).

#[path = "common/mod.rs"]
mod common;

use covreml::data::Table;
use covreml::datasets::intercepts_model;
use covreml::reml::RemlOptions;
use serde_json::{json, Map};

fn main() {
    let (path, as_json, trace) = common::args();
    let path = path.unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/lme4/InstEval.csv").to_string()
    });
    let table = Table::read(&path).unwrap_or_else(|e| common::fail(e));
    let model = intercepts_model(&table, "y", &["service"], &[&["s"], &["d"], &["dept"]])
        .unwrap_or_else(|e| common::fail(e));
    let fit = model
        .fit(&RemlOptions::default().trace(trace))
        .unwrap_or_else(|e| common::fail(e));
    let mut extra = Map::new();
    extra.insert("backend".into(), json!(fit.backend));
    common::report(
        "InstEval: y ~ service + (1|s) + (1|d) + (1|dept), REML",
        &fit,
        extra,
        as_json,
    );
}
