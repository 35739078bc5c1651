//! Random formulas and data (missing cells, one-level factors, duplicated
//! column names, text in numeric columns) through the command's own entry
//! point, `covreml::cli::run`: never a panic, and either a fit or an error
//! that names a column, a line or a term.

use covreml::cli::run;
use proptest::prelude::*;

/// A CSV text: columns y, x, z (numbers), g, h (labels), with holes.
fn table() -> impl Strategy<Value = String> {
    let cell = |numeric: bool| {
        prop_oneof![
            6 => (0u32..50).prop_map(move |v| if numeric { format!("{}", v as f64 * 0.37) } else { format!("L{}", v % 4) }),
            1 => Just("NA".to_string()),
            1 => Just(String::new()),
            1 => Just("oops".to_string()),
        ]
    };
    let row = (cell(true), cell(true), cell(true), cell(false), cell(false));
    (
        prop::collection::vec(row, 0..25),
        prop::bool::ANY,
        prop::bool::ANY,
    )
        .prop_map(|(rows, dup, one_level)| {
            let mut s = String::from(if dup { "y,x,z,g,g\n" } else { "y,x,z,g,h\n" });
            for (y, x, z, g, h) in rows {
                let h = if one_level { "only".to_string() } else { h };
                s.push_str(&format!("{y},{x},{z},{g},{h}\n"));
            }
            s
        })
}

fn formula() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "1",
        "x",
        "z",
        "x + z",
        "x*g",
        "factor(h)",
        "0 + g",
        "log(x)",
        "I(x^2)",
        "poly(x, 2)",
        "scale(z)",
        "y",
        "((x))",
        "w",
        "sin(x)",
    ]);
    let random = prop::sample::select(vec![
        "",
        " + (1|g)",
        " + (1|h)",
        " + (x|g)",
        " + (1|g:h)",
        " + (1|g/h)",
        " + (0 + z||g)",
        " + (1|q)",
    ]);
    (fixed, random).prop_map(|(f, r)| format!("y ~ {f}{r}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn no_panic_and_a_fit_or_a_named_error(csv in table(), f in formula(), fail in prop::bool::ANY) {
        let dir = std::env::temp_dir().join(format!("covreml-random-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data.csv");
        std::fs::write(&path, &csv).unwrap();
        let mut argv = vec!["fit".to_string(), path.display().to_string(), "--formula".into(), f.clone(), "--max-iter".into(), "30".into()];
        if fail {
            argv.extend(["--na".to_string(), "fail".to_string()]);
        }
        let out = std::panic::catch_unwind(|| run(&argv));
        prop_assert!(out.is_ok(), "panic on {f} with\n{csv}");
        let out = out.unwrap();
        match out.status {
            0 | 3 => prop_assert!(out.stdout.contains("Fixed effects"), "{}", out.stdout),
            1 | 2 => {
                let e = &out.stderr;
                let named = e.contains("column") || e.contains("line") || e.contains('`')
                    || e.contains("no data rows") || e.contains("usage");
                prop_assert!(named, "{f}: an error that names nothing: {e}\n{csv}");
            }
            s => prop_assert!(false, "exit status {s}"),
        }
    }
}
