//! The README's main job: the john.alpha alpha-lattice trial by AI-REML.
//!
//! `cargo run --release --example john_alpha [-- [path.csv] [--json] [--trace]]`
//! (default: the data embedded in the crate).

#[path = "common/mod.rs"]
mod common;

use covreml::data::Table;
use covreml::datasets::{john_alpha, john_alpha_model};
use covreml::reml::RemlOptions;
use serde_json::{json, Map};

fn main() {
    let (path, as_json, trace) = common::args();
    let table = match path {
        Some(p) => Table::read(&p).unwrap_or_else(|e| common::fail(e)),
        None => john_alpha(),
    };
    let model = john_alpha_model(&table).unwrap_or_else(|e| common::fail(e));
    let fit = model
        .fit(&RemlOptions::default().trace(trace))
        .unwrap_or_else(|e| common::fail(e));
    let post = model.post(&fit).unwrap_or_else(|e| common::fail(e));
    let gen = post.blup("gen").expect("the model has a gen term");
    let mut extra = Map::new();
    extra.insert(
        "mean_variance_of_difference_of_gen_blups".into(),
        json!(gen.mean_variance_of_difference()),
    );
    common::report(
        "john.alpha: yield ~ rep + (1|gen) + (1|rep:block), REML",
        &fit,
        extra,
        as_json,
    );
    if !as_json {
        // Genotype BLUPs with their standard errors (√PEV), labelled by level.
        let line: Vec<String> = gen
            .rows()
            .map(|(level, v, se)| format!("{level} {v:+.4} ({se:.4})"))
            .collect();
        println!("gen BLUPs (s.e.): {}", line.join("  "));
    }
}
