//! Repeated measures by subject and time: nlme's Orthodont data,
//! `distance ~ age + Sex`, a random intercept per `Subject` and a
//! continuous-time AR1 (CAR1) residual in `age` within `Subject`, by AI-REML.
//! The residual follows the `Subject` and `age` columns, so the rows may come
//! in any order (nlme: `lme(…, correlation = corCAR1(form = ~ age | Subject))`).
//!
//! `cargo run --release --example orthodont [-- [Orthodont.csv] [--json] [--trace]]`
//! (default: the copy of nlme's data in `tests/data/nlme/`).

#[path = "common/mod.rs"]
mod common;

use covreml::data::Table;
use covreml::datasets::orthodont_car1_model;
use covreml::reml::RemlOptions;
use serde_json::{json, Map};

const ORTHODONT: &str = include_str!("../tests/data/nlme/Orthodont.csv");

fn main() {
    let (path, as_json, trace) = common::args();
    let table = match path {
        Some(p) => Table::read(&p),
        None => Table::parse(ORTHODONT),
    }
    .unwrap_or_else(|e| common::fail(e));
    let model = orthodont_car1_model(&table).unwrap_or_else(|e| common::fail(e));
    let fit = model
        .fit(&RemlOptions::default().tolerance(1e-10).trace(trace))
        .unwrap_or_else(|e| common::fail(e));
    let mut extra = Map::new();
    if let Some(phi) = fit.natural("residual/phi") {
        // the correlation of two visits of one subject two years apart
        extra.insert(
            "residual_correlation_2_years_apart".into(),
            json!(phi * phi),
        );
    }
    common::report(
        "Orthodont: distance ~ age + Sex + (1|Subject), CAR1(age | Subject) residual, REML",
        &fit,
        extra,
        as_json,
    );
}
