//! The README's worked example ("A whole analysis from the command line")
//! cannot drift: every command between `<!-- worked-example:begin -->` and
//! `<!-- worked-example:end -->` is run through `covreml::cli::run` (the
//! `head -n K FILE` and `ls DIR` lines are done here), and every output
//! line the README shows must be printed, in order and contiguous except
//! where the README writes `…`. The numbers shown are then compared with
//! the R references (lme4, lmerTest/pbkrtest, lme4's `predict`) to the
//! digits printed.
//!
//! The formula section's table of keywords (between `<!-- keywords:begin -->`
//! and `<!-- keywords:end -->`): every example runs (exit 0, or 3 where the
//! row says so), and no residual keyword or random-term structure is
//! missing from it.

use serde_json::Value;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// One step of the example: its `sh` block and the `text` block after it.
struct Step {
    commands: Vec<Vec<String>>,
    expected: Vec<String>,
}

/// The fenced blocks of kind `lang` between the markers, in order.
fn blocks(section: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = section.lines();
    while let Some(l) = lines.next() {
        if let Some(lang) = l.strip_prefix("```") {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            out.push((lang.to_string(), body.join("\n")));
        }
    }
    out
}

/// Splits a command line as a POSIX shell would for these commands:
/// words separated by blanks, double quotes grouping.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut cur, mut quoted, mut any) = (String::new(), false, false);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    assert!(!quoted, "unbalanced quotes in `{line}`");
    if any {
        out.push(cur);
    }
    out
}

fn steps() -> Vec<Step> {
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap();
    let begin = readme
        .find("<!-- worked-example:begin -->")
        .expect("the README has the worked example's begin marker");
    let end = readme
        .find("<!-- worked-example:end -->")
        .expect("the README has the worked example's end marker");
    let b = blocks(&readme[begin..end]);
    let mut steps = Vec::new();
    let mut i = 0;
    while i < b.len() {
        assert_eq!(b[i].0, "sh", "a step starts with a sh block: {:?}", b[i]);
        assert_eq!(b[i + 1].0, "text", "a sh block is followed by its output");
        let joined = b[i].1.replace("\\\n", " ");
        let commands = joined
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(words)
            .collect();
        let expected = b[i + 1]
            .1
            .lines()
            .map(|l| l.trim_end().to_string())
            .collect();
        steps.push(Step { commands, expected });
        i += 2;
    }
    steps
}

/// A path of the README: the repository's data stays where it is, what
/// the commands write goes to `tmp`.
fn path(p: &str, tmp: &Path) -> PathBuf {
    if p.starts_with("tests/") {
        Path::new(ROOT).join(p)
    } else {
        tmp.join(p)
    }
}

/// Runs one step's commands, returning what they print.
fn run_step(step: &Step, tmp: &Path) -> String {
    let mut printed = String::new();
    for cmd in &step.commands {
        match cmd[0].as_str() {
            "covreml" => {
                let mut argv = Vec::new();
                let mut previous = "";
                for w in &cmd[1..] {
                    let is_path = w.ends_with(".csv")
                        || matches!(previous, "--plots" | "--blups" | "--residuals");
                    argv.push(if is_path && !previous.starts_with("--formula") {
                        path(w, tmp).to_str().unwrap().to_string()
                    } else {
                        w.clone()
                    });
                    previous = w;
                }
                let out = covreml::cli::run(&argv);
                assert_eq!(out.status, 0, "{cmd:?}: {}", out.stderr);
                printed.push_str(&out.stdout);
            }
            "head" => {
                assert_eq!(cmd[1], "-n");
                let k: usize = cmd[2].parse().unwrap();
                let text = std::fs::read_to_string(path(&cmd[3], tmp)).unwrap();
                for l in text.lines().take(k) {
                    printed.push_str(l);
                    printed.push('\n');
                }
            }
            "ls" => {
                let mut names: Vec<String> = std::fs::read_dir(path(&cmd[1], tmp))
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
                names.sort();
                for n in names {
                    printed.push_str(&n);
                    printed.push('\n');
                }
            }
            other => panic!("the worked example runs `{other}`, which this test does not know"),
        }
    }
    printed
}

/// Does `expected` line match `actual`? A line ending in `…` is a prefix.
fn line_matches(expected: &str, actual: &str) -> bool {
    match expected.strip_suffix('…') {
        Some(prefix) => actual.starts_with(prefix),
        None => expected == actual,
    }
}

/// The README's lines shown (segments between `…` lines) must be printed:
/// each segment contiguously, in order, the first at the start unless a
/// `…` precedes it, the last at the end unless a `…` follows it.
fn check_shown(expected: &[String], printed: &str) {
    let actual: Vec<&str> = printed.lines().map(str::trim_end).collect();
    let segments: Vec<&[String]> = expected.split(|l| l == "…").collect();
    let mut at = 0;
    for (k, seg) in segments.iter().enumerate() {
        if seg.is_empty() {
            continue;
        }
        let anchored_start = k == 0;
        let anchored_end = k == segments.len() - 1;
        let fits = |s: usize| {
            s + seg.len() <= actual.len()
                && seg
                    .iter()
                    .zip(&actual[s..])
                    .all(|(e, a)| line_matches(e, a))
                && (!anchored_end || s + seg.len() == actual.len())
        };
        let start = if anchored_start {
            Some(at).filter(|s| fits(*s))
        } else {
            (at..=actual.len()).find(|s| fits(*s))
        };
        let s = start.unwrap_or_else(|| {
            panic!(
                "the README shows\n{}\nbut the command printed\n{}",
                seg.join("\n"),
                actual[at..].join("\n")
            )
        });
        at = s + seg.len();
    }
}

#[test]
fn readme_worked_example_prints_what_the_readme_shows() {
    let tmp = std::env::temp_dir().join(format!("covreml_readme_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let steps = steps();
    assert_eq!(steps.len(), 5, "fit, compare, test, predict, look");
    for step in &steps {
        let printed = run_step(step, &tmp);
        check_shown(&step.expected, &printed);
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

fn json(file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{ROOT}/tests/data/{file}")).unwrap())
        .unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// A number printed in the README agrees with R's `r`: within half a unit
/// of its last printed digit, or 2·10⁻⁶ relative (the optimisers'
/// agreement) for numbers printed to more digits than that.
fn agrees(printed: &str, r: f64) {
    let (mantissa, exp) = match printed.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().unwrap()),
        None => (printed, 0),
    };
    let decimals = mantissa.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    let half_unit = 0.5 * 10f64.powi(exp - decimals);
    let p: f64 = printed.parse().unwrap();
    let tol = half_unit.max(2e-6 * r.abs()) * (1.0 + 1e-9);
    assert!(
        (p - r).abs() <= tol,
        "README {printed} against R {r} (tolerance {tol:e})"
    );
}

/// The whitespace-separated fields of the first line of `lines` that
/// starts with `prefix` (after leading blanks).
fn fields<'a>(lines: &'a [String], prefix: &str) -> Vec<&'a str> {
    fields_after(lines, "", prefix)
}

/// [`fields`] of the first such line after the first line starting with
/// `after`.
fn fields_after<'a>(lines: &'a [String], after: &str, prefix: &str) -> Vec<&'a str> {
    let from = lines
        .iter()
        .position(|l| l.starts_with(after))
        .unwrap_or_else(|| panic!("no line `{after}` in the README's output"));
    lines[from..]
        .iter()
        .find(|l| l.trim_start().starts_with(prefix))
        .unwrap_or_else(|| panic!("no line `{prefix}` in the README's output"))
        .split_whitespace()
        .collect()
}

#[test]
fn readme_worked_example_numbers_are_r_s() {
    let steps = steps();
    let refs = json("r/references.json");
    let lme4 = &refs["fits"]["sleepstudy"]["reml"];
    let vc = |var1: Option<&str>, var2: Option<&str>| {
        num(&lme4["varcorr"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["var1"].as_str() == var1 && c["var2"].as_str() == var2)
            .unwrap()["vcov"])
    };

    // Fit: lme4's REML fit.
    let fit = &steps[0].expected;
    agrees(
        fields(fit, "REML criterion")[4],
        num(&lme4["deviance_or_remlcrit"]),
    );
    let (v0, v1, c01) = (
        vc(Some("(Intercept)"), None),
        vc(Some("Days"), None),
        vc(Some("(Intercept)"), Some("Days")),
    );
    let intercept = fields(fit, "Subject  (Intercept)");
    agrees(intercept[2], v0);
    agrees(intercept[3], v0.sqrt());
    let days = fields(fit, "Days           35");
    agrees(days[1], v1);
    agrees(days[2], v1.sqrt());
    agrees(days[4], c01 / (v0 * v1).sqrt());
    let residual = fields(fit, "Residual  ");
    agrees(residual[1], vc(None, None));
    agrees(residual[2], vc(None, None).sqrt());
    for (k, name) in ["(Intercept)", "Days"].iter().enumerate() {
        let f = fields_after(fit, "Fixed effects:", &format!("{name} "));
        agrees(f[1], num(&lme4["beta"][k]));
        agrees(f[2], num(&lme4["beta_se"][k]));
    }
    let ll = fields(fit, "REML log-likelihood");
    agrees(ll[2].trim_end_matches(','), num(&lme4["loglik"]));
    agrees(ll[4].trim_end_matches(','), num(&lme4["aic"]));
    agrees(ll[6], num(&lme4["bic"]));

    // Compare: anova(m0, m1, refit = FALSE).
    let lrt = &refs["lrt"]["sleepstudy_slope"]["reml"];
    let cmp = &steps[1].expected;
    let ll = |prefix: &str| fields(cmp, prefix)[4].trim_end_matches(',').to_string();
    agrees(&ll("parameters 4"), num(&lrt["loglik"][0]));
    agrees(&ll("parameters 6"), num(&lrt["loglik"][1]));
    let chisq = fields(cmp, "Chisq");
    agrees(chisq[1], num(&lrt["chisq"]));
    assert_eq!(chisq[3], "2");
    agrees(chisq[7], num(&lrt["p_value"]));

    // Test: pbkrtest / lmerTest Kenward–Roger.
    let inf = json("inference/references.json");
    let kr = &inf["sleepstudy"];
    let test = &steps[2].expected;
    let row = fields(test, "Days      1");
    let a = &kr["anova"]["kenward_roger"]["Days"];
    agrees(row[2], num(&a["den_df"]));
    agrees(row[3], num(&a["f"]));
    agrees(row[4], num(&a["p_value"]));
    for name in ["(Intercept)", "Days"] {
        let c = &kr["coefficients"]["kenward_roger"][name];
        let f = fields_after(test, "Coefficients", &format!("{name}  "));
        agrees(f[1], num(&c["estimate"]));
        agrees(f[2], num(&c["se"]));
        agrees(f[3], num(&c["df"]));
        agrees(f[4], num(&c["t"]));
    }

    // Predict: lme4's predict and the standard errors of make_inference.R.
    let p = &kr["predict"];
    for (k, line) in steps[3].expected[1..].iter().enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        agrees(f[1], num(&p["predict"][k]));
        agrees(f[2], num(&p["se"][k]));
    }

    // Look: lme4's ranef and the PEV standard errors of make_predict.R.
    let blups = json("predict.json");
    let blups = blups["sleepstudy"]["blups"].as_array().unwrap();
    let rows: Vec<&String> = steps[4]
        .expected
        .iter()
        .filter(|l| l.starts_with("Subject,"))
        .collect();
    assert_eq!(rows.len(), 3);
    for line in rows {
        let f: Vec<&str> = line.split(',').collect();
        let r = blups
            .iter()
            .find(|b| b["coefficient"] == f[1] && b["level"] == f[2])
            .unwrap();
        agrees(f[3], num(&r["blup"]));
        agrees(f[4], num(&r["pev_se"]));
    }
}

/// The rows of the README's keyword table: (keyword cell, meaning, argv).
fn keyword_rows() -> Vec<(String, String, Vec<String>)> {
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap();
    let begin = readme
        .find("<!-- keywords:begin -->")
        .expect("keywords:begin marker");
    let end = readme
        .find("<!-- keywords:end -->")
        .expect("keywords:end marker");
    readme[begin..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            // Cells are separated by `|` not preceded by a backslash.
            let mut cells = Vec::new();
            let mut cur = String::new();
            let mut chars = l.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' if chars.peek() == Some(&'|') => {
                        cur.push('|');
                        chars.next();
                    }
                    '|' => cells.push(std::mem::take(&mut cur).trim().to_string()),
                    c => cur.push(c),
                }
            }
            assert_eq!(cells.len(), 4, "a row of three cells: {l}");
            let example = cells[3].trim_matches('`');
            let mut argv = words(example);
            assert_eq!(argv.remove(0), "covreml", "{example}");
            (cells[1].clone(), cells[2].clone(), argv)
        })
        .collect()
}

#[test]
fn readme_keyword_table_runs_and_is_complete() {
    let rows = keyword_rows();
    let mut residuals = Vec::new();
    let mut formulas = Vec::new();
    for (keyword, meaning, argv) in &rows {
        let argv: Vec<String> = argv
            .iter()
            .map(|w| match w.find("tests/data/") {
                Some(i) => format!("{}{ROOT}/{}", &w[..i], &w[i..]),
                None => w.clone(),
            })
            .chain(["--quiet".to_string()])
            .collect();
        let out = covreml::cli::run(&argv);
        let allowed: &[u8] = if meaning.contains("exit 3") {
            &[3]
        } else {
            &[0]
        };
        assert!(
            allowed.contains(&out.status),
            "{keyword}: exit {} for {argv:?}: {}",
            out.status,
            out.stderr
        );
        let after = |opt: &str| {
            argv.iter()
                .position(|w| w == opt)
                .map(|i| argv[i + 1].clone())
        };
        residuals.extend(after("--residual"));
        formulas.extend(after("--formula"));
    }
    // Every residual keyword the parser knows (its error message lists them).
    for k in [
        "iid",
        "diag(",
        "ar1(",
        "car1(",
        "cs(",
        "us(",
        "arh(",
        "csh(",
        "exp(",
        "gau(",
        "sph(",
        ", nugget",
        "ar1(row):ar1(col)",
    ] {
        assert!(
            residuals
                .iter()
                .any(|r| r.starts_with(k) || (k.starts_with(',') && r.contains(k))),
            "no example of the residual keyword `{k}` in the README's table"
        );
    }
    // Every random-term structure and form.
    for k in [
        "us(", "diag(", "cs(", "ar1(", "fa(", "||", "(1 + ", "/", "(Days | ",
    ] {
        assert!(
            formulas.iter().any(|f| f.contains(k)),
            "no example of the random-term form `{k}` in the README's table"
        );
    }
}
