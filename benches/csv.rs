//! Reading a 1,000,000-row CSV file (a numeric response, a numeric
//! covariate, two factors, and a quoted text field with a comma), written to
//! a temporary directory: median of 5 reads, and of parsing two columns as
//! numbers.
//!
//! Run: `cargo bench --bench csv`

mod common;
use common::median_secs;
use covreml::data::Table;
use std::fmt::Write as _;
use std::hint::black_box;

fn main() {
    let rows = 1_000_000;
    let mut text = String::with_capacity(rows * 40);
    text.push_str("y,x1,f1,f2,note\n");
    for i in 0..rows {
        let y = ((i * 7919) % 10007) as f64 / 97.0;
        let note = if i % 10 == 0 { "\"a, b\"" } else { "" };
        writeln!(text, "{y:.4},{},L{},B{},{note}", i % 1000, i % 500, i % 37).unwrap();
    }
    let dir = std::env::temp_dir().join(format!("covreml-csv-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("million.csv");
    std::fs::write(&path, &text).unwrap();
    let mb = text.len() as f64 / 1e6;

    let read = median_secs(5, || {
        black_box(Table::read(&path).unwrap());
    });
    let t = Table::read(&path).unwrap();
    assert_eq!(t.n_rows(), rows);
    let numeric = median_secs(5, || {
        black_box(t.numeric("y").unwrap());
        black_box(t.numeric("x1").unwrap());
    });
    println!(
        "Table::read of {rows} rows × 5 columns ({mb:.1} MB): {read:.3} s (median of 5); \
         numeric(\"y\") + numeric(\"x1\"): {numeric:.3} s"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
