//! Fits `y ~ 1 + x1 + (1|f1) + (1|f2)` from a CSV file (made by
//! `make_crossed`) and reports the wall time and peak memory of each phase:
//! reading the CSV, building the model, fitting. The `covreml` CLI does the
//! same three phases (`/usr/bin/time -v covreml fit …` gives its totals).
//!
//! ```text
//! cargo run --release --example make_crossed -- /tmp/c5m.csv 5000000 94380 16034
//! cargo run --release --example crossed_large -- /tmp/c5m.csv [--read-only | --build-only] [--trace] [--max-iter N]
//! ```

#[path = "../benches/common/mod.rs"]
mod bench_common;
use bench_common::peak_rss_mb;
use covreml::data::Table;
use covreml::formula::FormulaModel;
use covreml::reml::RemlOptions;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args
        .iter()
        .enumerate()
        .find(|(k, a)| !a.starts_with("--") && (*k == 0 || args[k - 1] != "--max-iter"))
        .map(|(_, a)| a)
    else {
        eprintln!(
            "usage: crossed_large DATA.csv [--read-only | --build-only] [--trace] [--max-iter N]"
        );
        std::process::exit(2);
    };
    let read_only = args.iter().any(|a| a == "--read-only");
    let build_only = args.iter().any(|a| a == "--build-only");
    let trace = args.iter().any(|a| a == "--trace");
    // `--max-iter N`: stop after N iterations (a memory measurement needs
    // only the first, which makes every buffer).
    let max_iter = args
        .iter()
        .position(|a| a == "--max-iter")
        .and_then(|k| args.get(k + 1))
        .map(|v| v.parse::<usize>().expect("--max-iter N"));
    let all = Instant::now();

    let t = Instant::now();
    let table = Table::read(path).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    println!(
        "read:  {:8.2} s  {} rows  peak {:.0} MB",
        t.elapsed().as_secs_f64(),
        table.n_rows(),
        peak_rss_mb()
    );
    if read_only {
        return;
    }

    let t = Instant::now();
    let model = FormulaModel::new("y ~ 1 + x1 + (1|f1) + (1|f2)", &table).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    drop(table);
    println!(
        "build: {:8.2} s  peak {:.0} MB",
        t.elapsed().as_secs_f64(),
        peak_rss_mb()
    );
    if build_only {
        return;
    }

    let t = Instant::now();
    let mut opts = RemlOptions::default().trace(trace);
    if let Some(n) = max_iter {
        opts = opts.max_iter(n);
    }
    let fit = model.fit(&opts).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    println!(
        "fit:   {:8.2} s  {} iterations ({})  peak {:.0} MB",
        t.elapsed().as_secs_f64(),
        fit.iterations,
        fit.termination,
        peak_rss_mb()
    );
    println!("total: {:8.2} s", all.elapsed().as_secs_f64());
    println!("{fit}");
}
