//! `covreml predict`, `fit --blups` and `fit --residuals` through
//! `covreml::cli::run`, against lme4 (`tests/data/predict.json`, made by
//! `tests/data/r/make_predict.R`): predictions with the BLUPs (new levels
//! at the population value, `allow.new.levels = TRUE`) and without
//! (`re.form = NA`), BLUPs with √PEV, fitted values and residuals.

use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

fn run(args: &[&str]) -> covreml::cli::Outcome {
    let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    covreml::cli::run(&argv)
}

fn reference(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DATA}/predict.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()[name].clone()
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Relative difference, against an absolute floor for values near 0.
fn close(a: f64, b: f64, tol: f64, floor: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(floor)
}

/// `(data file, reference name, formula, new-data file)`.
const CASES: [(&str, &str, &str, &str); 2] = [
    (
        "sleepstudy.csv",
        "sleepstudy",
        "Reaction ~ Days + (Days | Subject)",
        "predict_sleepstudy_new.csv",
    ),
    (
        "Penicillin.csv",
        "penicillin",
        "diameter ~ 1 + (1 | plate) + (1 | sample)",
        "predict_penicillin_new.csv",
    ),
];

/// Parses a CSV the command wrote: rows of fields (no quoting needed here).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn predict_matches_lme4_with_and_without_random_effects() {
    for (data, name, formula, new) in CASES {
        let r = reference(name);
        for (population, key) in [(false, "predict"), (true, "predict_population")] {
            let (d, n) = (format!("{DATA}/{data}"), format!("{DATA}/{new}"));
            let mut args = vec!["predict", &d, "--formula", formula, "--newdata", &n];
            args.extend(["--tolerance", "1e-10", "--json"]);
            if population {
                args.push("--population");
            }
            let out = run(&args);
            assert_eq!(out.status, 0, "{name}: {}", out.stderr);
            let j: Value = serde_json::from_str(&out.stdout).unwrap();
            let got = numbers(&j["predictions"]);
            let want = numbers(&r[key]);
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert!(close(*g, *w, 1e-7, 1.0), "{name} {key}: {g} vs lme4 {w}");
            }
            assert_eq!(j["lines"][0], 2, "file lines of the new data");
        }
    }
}

#[test]
fn predict_text_is_one_csv_row_per_new_row() {
    let (d, n) = (
        format!("{DATA}/sleepstudy.csv"),
        format!("{DATA}/predict_sleepstudy_new.csv"),
    );
    let out = run(&[
        "predict",
        &d,
        "--formula",
        "Reaction ~ Days + (Days | Subject)",
        "--newdata",
        &n,
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("line,prediction\n"));
    let want = numbers(&reference("sleepstudy")["predict"]);
    let rows = csv_rows(&out.stdout);
    assert_eq!(rows.len(), want.len());
    for (i, (row, w)) in rows.iter().zip(&want).enumerate() {
        assert_eq!(row[0], (i + 2).to_string());
        let g: f64 = row[1].parse().unwrap();
        assert!(close(g, *w, 1e-5, 1.0), "{g} vs {w}");
    }
}

#[test]
fn blups_and_residuals_files_match_lme4() {
    let dir = std::env::temp_dir().join(format!("covreml_predict_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (data, name, formula, _) in CASES {
        let r = reference(name);
        let blups = dir.join(format!("{name}_blups.csv"));
        let resid = dir.join(format!("{name}_resid.csv"));
        let d = format!("{DATA}/{data}");
        let out = run(&[
            "fit",
            &d,
            "--formula",
            formula,
            "--tolerance",
            "1e-10",
            "--blups",
            blups.to_str().unwrap(),
            "--residuals",
            resid.to_str().unwrap(),
        ]);
        assert_eq!(out.status, 0, "{name}: {}", out.stderr);

        let text = std::fs::read_to_string(&blups).unwrap();
        assert!(text.starts_with("term,coefficient,level,blup,se\n"));
        let rows = csv_rows(&text);
        let want = r["blups"].as_array().unwrap();
        assert_eq!(rows.len(), want.len(), "{name}: one row per effect");
        let blup_scale = want
            .iter()
            .map(|w| w["blup"].as_f64().unwrap().abs())
            .fold(0.0, f64::max);
        for w in want {
            let key = |k: &str| w[k].as_str().unwrap().to_string();
            let row = rows
                .iter()
                .find(|r| r[0] == key("term") && r[1] == key("coefficient") && r[2] == key("level"))
                .unwrap_or_else(|| panic!("{name}: no row for {w}"));
            let (b, se): (f64, f64) = (row[3].parse().unwrap(), row[4].parse().unwrap());
            let (wb, wse) = (w["blup"].as_f64().unwrap(), w["pev_se"].as_f64().unwrap());
            assert!(
                close(b, wb, 1e-6, 1e-3 * blup_scale),
                "{name} {w}: BLUP {b}"
            );
            assert!(
                close(se, wse, 1e-6, 0.0),
                "{name} {w}: se {se} vs √PEV {wse}"
            );
            // √PEV includes the uncertainty of β̂: above lme4's condVar
            assert!(se > w["lme4_condvar_se"].as_f64().unwrap());
        }

        let text = std::fs::read_to_string(&resid).unwrap();
        assert!(text.starts_with("line,fitted,residual\n"));
        let rows = csv_rows(&text);
        let (fitted, residuals) = (numbers(&r["fitted"]), numbers(&r["residuals"]));
        assert_eq!(rows.len(), fitted.len());
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row[0], (i + 2).to_string(), "file line of row {i}");
            let (f, e): (f64, f64) = (row[1].parse().unwrap(), row[2].parse().unwrap());
            assert!(close(f, fitted[i], 1e-7, 1.0), "{name} fitted {i}: {f}");
            // y − fitted: its error is the fitted value's, relative to that
            assert!(
                close(e, residuals[i], 1e-7, fitted[i].abs()),
                "{name} residual {i}: {e} vs lme4 {}",
                residuals[i]
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn residuals_skip_the_dropped_lines() {
    let dir = std::env::temp_dir().join(format!("covreml_resid_na_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let resid = dir.join("r.csv");
    let d = format!("{DATA}/sleepstudy_na.csv");
    let out = run(&[
        "fit",
        &d,
        "--formula",
        "Reaction ~ Days + (Days | Subject)",
        "--residuals",
        resid.to_str().unwrap(),
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let rows = csv_rows(&std::fs::read_to_string(&resid).unwrap());
    let lines: Vec<usize> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    // 180 rows, 7 with a missing value (tests/data/r/make_frontend.R)
    assert_eq!(lines.len(), 173);
    for dropped in [6, 41, 122, 18, 89, 61, 151] {
        assert!(
            !lines.contains(&dropped),
            "line {dropped} has a missing value"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn options_belong_to_their_command() {
    let d = format!("{DATA}/sleepstudy.csv");
    let f = "Reaction ~ Days + (1 | Subject)";
    let out = run(&["predict", &d, "--formula", f]);
    assert_eq!(out.status, 2);
    assert!(out.stderr.contains("needs --newdata"), "{}", out.stderr);
    let out = run(&["fit", &d, "--formula", f, "--population"]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("--population belongs to `predict`"),
        "{}",
        out.stderr
    );
    let out = run(&[
        "predict",
        &d,
        "--formula",
        f,
        "--newdata",
        "x.csv",
        "--blups",
        "b.csv",
    ]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("--blups belongs to `fit`"),
        "{}",
        out.stderr
    );
    let out = run(&[
        "predict",
        &d,
        "--formula",
        f,
        "--newdata",
        "no_such_new.csv",
    ]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("--newdata") && out.stderr.contains("no_such_new.csv"),
        "{}",
        out.stderr
    );
}

#[test]
fn unknown_fixed_level_in_new_data_is_a_data_error() {
    let dir = std::env::temp_dir().join(format!("covreml_newlevel_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let new = dir.join("new.csv");
    std::fs::write(&new, "plate,sample\nzz,A\n").unwrap();
    let d = format!("{DATA}/Penicillin.csv");
    let out = run(&[
        "predict",
        &d,
        "--formula",
        "diameter ~ plate + (1 | sample)",
        "--newdata",
        new.to_str().unwrap(),
    ]);
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert!(out.stderr.contains("`zz` is not a level"), "{}", out.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}
