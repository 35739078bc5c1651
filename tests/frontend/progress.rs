//! `--progress` on long fits: a line after reading the file and one after
//! building the model, then one per iteration with the log-likelihood, the
//! step, the estimated time left and the elapsed time.

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

fn run(args: &[&str]) -> covreml::cli::Outcome {
    let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    covreml::cli::run(&argv)
}

#[test]
fn progress_reports_reading_building_and_time_left() {
    let data = format!("{DATA}/crossed_2000.csv");
    let f = "y ~ 1 + x1 + (1|f1) + (1|f2)";
    let out = run(&["fit", &data, "--formula", f, "--progress"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines[0].starts_with(&format!("read {data}: 2000 rows, ")) && lines[0].ends_with(" s"),
        "{}",
        out.stderr
    );
    assert!(lines[1].starts_with("built the model  "), "{}", out.stderr);
    let its: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("iteration"))
        .collect();
    assert!(its.len() >= 3, "{}", out.stderr);
    // No estimate before two steps; one from the second on while the steps
    // fall (the last iterations, where they do, give seconds).
    assert!(its[0].contains("est. left ?"), "{}", its[0]);
    assert!(
        its[1..]
            .iter()
            .any(|l| l.contains("est. left ") && l.contains(" s  elapsed ")),
        "{}",
        out.stderr
    );
    assert!(its
        .iter()
        .all(|l| l.contains("log-likelihood") && l.ends_with(" s")));
    // --quiet silences them all.
    let out = run(&["fit", &data, "--formula", f, "--progress", "--quiet"]);
    assert_eq!(out.status, 0);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}
