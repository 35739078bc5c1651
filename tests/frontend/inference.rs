//! Issue 21, inference through `covreml::cli::run`: `fit --ddf` (lmerTest's
//! anova and summary with Satterthwaite and Kenward–Roger df, pbkrtest's
//! adjusted covariance), `fit --ci` (lme4's confint, Wald and profile),
//! `predict --se`, `fit --plots` and `--progress`. References:
//! `tests/data/inference/references.json`, made by
//! `tests/data/r/make_inference.R`.

use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

fn run(args: &[&str]) -> covreml::cli::Outcome {
    let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    covreml::cli::run(&argv)
}

fn reference(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DATA}/inference/references.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()[name].clone()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn check(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol * want.abs().max(1e-300),
        "{what}: {got} vs {want} (relative {:.2e})",
        ((got - want) / want).abs()
    );
}

/// Fits with `extra` options and returns the JSON.
fn fit_json(r: &Value, extra: &[&str]) -> Value {
    let data = format!("{DATA}/{}", r["data"].as_str().unwrap());
    let formula = r["formula"].as_str().unwrap();
    let mut args = vec![
        "fit",
        data.as_str(),
        "--formula",
        formula,
        "--tolerance",
        "1e-10",
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert_eq!(out.status, 0, "{formula}: {}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

/// The last, n = 2000 with 280 random effects, goes through the
/// mixed-model equations at a size where the dense route would be slow.
const MODELS: [&str; 5] = [
    "sleepstudy",
    "penicillin",
    "john_alpha_gen",
    "john_alpha_unbalanced",
    "crossed_2000",
];

#[test]
fn ddf_tests_match_lmertest_and_pbkrtest() {
    for name in MODELS {
        let r = reference(name);
        for (flag, key) in [
            ("satterthwaite", "satterthwaite"),
            ("kenward-roger", "kenward_roger"),
        ] {
            let j = fit_json(&r, &["--ddf", flag]);
            let what = |s: &str| format!("{name} {flag} {s}");
            let want = r["anova"][key].as_object().unwrap();
            let got = j["anova"].as_array().unwrap();
            assert_eq!(got.len(), want.len(), "{}", what("terms"));
            for g in got {
                let term = g["term"].as_str().unwrap();
                let w = &want[term];
                assert_eq!(num(&g["num_df"]), num(&w["num_df"]), "{}", what(term));
                check(
                    &what(&format!("{term} F")),
                    num(&g["F"]),
                    num(&w["f"]),
                    1e-6,
                );
                check(
                    &what(&format!("{term} den df")),
                    num(&g["den_df"]),
                    num(&w["den_df"]),
                    1e-6,
                );
                check(
                    &what(&format!("{term} p")),
                    num(&g["p"]),
                    num(&w["p_value"]),
                    1e-5,
                );
            }
            let want = &r["coefficients"][key];
            let got = j["coefficient_tests"].as_array().unwrap();
            assert_eq!(got.len(), want.as_object().unwrap().len());
            for g in got {
                let c = g["name"].as_str().unwrap();
                let w = &want[c];
                check(
                    &what(&format!("{c} estimate")),
                    num(&g["estimate"]),
                    num(&w["estimate"]),
                    1e-6,
                );
                check(
                    &what(&format!("{c} se")),
                    num(&g["standard_error"]),
                    num(&w["se"]),
                    1e-6,
                );
                check(
                    &what(&format!("{c} df")),
                    num(&g["df"]),
                    num(&w["df"]),
                    1e-6,
                );
                check(&what(&format!("{c} t")), num(&g["t"]), num(&w["t"]), 1e-6);
                check(
                    &what(&format!("{c} p")),
                    num(&g["p"]),
                    num(&w["p_value"]),
                    1e-5,
                );
            }
            if key == "kenward_roger" {
                let got = j["adjusted_beta_cov"].as_array().unwrap();
                let want = r["vcov_kr"].as_array().unwrap();
                for (gr, wr) in got.iter().zip(want) {
                    for (g, w) in gr.as_array().unwrap().iter().zip(wr.as_array().unwrap()) {
                        let (g, w) = (num(g), num(w));
                        assert!(
                            (g - w).abs() < 1e-6 * w.abs().max(1e-3),
                            "{name} vcovAdj {g} vs {w}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn kenward_and_satterthwaite_differ_on_unbalanced_data() {
    // The point of the unbalanced reference: the two methods' df differ there.
    let r = reference("john_alpha_unbalanced");
    let s = num(&r["anova"]["satterthwaite"]["rep"]["den_df"]);
    let k = num(&r["anova"]["kenward_roger"]["rep"]["den_df"]);
    assert!((s - k).abs() > 1.0);
    let j = fit_json(&r, &["--ddf", "residual"]);
    let rep = &j["anova"][0];
    assert_eq!(rep["term"], "rep");
    assert_eq!(num(&rep["den_df"]), num(&j["n"]) - 26.0);
}

#[test]
fn kenward_roger_refuses_ml_fits() {
    let data = format!("{DATA}/sleepstudy.csv");
    let out = run(&[
        "fit",
        &data,
        "--formula",
        "Reaction ~ Days + (Days|Subject)",
        "--method",
        "ml",
        "--ddf",
        "kenward-roger",
    ]);
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert!(out.stderr.contains("REML"), "{}", out.stderr);
}

#[test]
fn kenward_roger_refuses_a_covariance_not_linear_in_its_parameters() {
    // An AR1 residual: V is not linear in rho, and pbkrtest's formula
    // (without second derivatives of V) does not apply.
    let data = format!("{DATA}/sleepstudy.csv");
    let out = run(&[
        "fit",
        &data,
        "--formula",
        "Reaction ~ Days + (1|Subject)",
        "--residual",
        "ar1(Days | Subject)",
        "--ddf",
        "kenward-roger",
    ]);
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("linear in its parameters"),
        "{}",
        out.stderr
    );
    // Satterthwaite needs no linearity.
    let out = run(&[
        "fit",
        &data,
        "--formula",
        "Reaction ~ Days + (1|Subject)",
        "--residual",
        "ar1(Days | Subject)",
        "--ddf",
        "satterthwaite",
        "--json",
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
}

#[test]
fn ddf_text_report_has_the_anova_table() {
    let data = format!("{DATA}/sleepstudy.csv");
    let out = run(&[
        "fit",
        &data,
        "--formula",
        "Reaction ~ Days + (Days|Subject)",
        "--ddf",
        "satterthwaite",
        "--ci",
        "wald",
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out
        .stdout
        .contains("Type III tests of fixed effects (Satterthwaite"));
    assert!(out.stdout.contains("95% confidence intervals"));
    let anova = &out.stdout[out.stdout.find("Type III").unwrap()..];
    let line = anova
        .lines()
        .find(|l| l.trim_start().starts_with("Days "))
        .unwrap();
    assert!(line.contains("45.85"), "{line}");
}

/// The interval of `name` in the fit's JSON.
fn interval(j: &Value, name: &str) -> (f64, f64, String) {
    let c = j["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no interval {name} in {}", j["intervals"]));
    (
        num(&c["lower"]),
        num(&c["upper"]),
        c["method"].as_str().unwrap().to_string(),
    )
}

#[test]
fn intervals_match_lme4_confint() {
    // (reference, [(covreml parameter, lme4 confint row)])
    let cases: [(&str, &[(&str, &str)]); 2] = [
        (
            "sleepstudy",
            &[
                ("Subject/cov/sigma^2_0_0", "sd_(Intercept)|Subject"),
                ("Subject/cov/sigma^2_1_1", "sd_Days|Subject"),
                ("residual/sigma^2", "sigma"),
            ],
        ),
        (
            "penicillin",
            &[
                ("plate/sigma^2", "sd_(Intercept)|plate"),
                ("sample/sigma^2", "sd_(Intercept)|sample"),
                ("residual/sigma^2", "sigma"),
            ],
        ),
    ];
    for (name, params) in cases {
        let r = reference(name);
        for method in ["wald", "profile"] {
            let j = fit_json(&r, &["--ci", method]);
            // Coefficients: Wald (lme4's confint(method = "Wald")) either way.
            for (coef, w) in r["wald"].as_object().unwrap() {
                let (lo, hi, m) = interval(&j, coef);
                assert_eq!(m, "wald");
                check(&format!("{name} {coef} lower"), lo, num(&w["lower"]), 1e-6);
                check(&format!("{name} {coef} upper"), hi, num(&w["upper"]), 1e-6);
            }
            if method == "profile" {
                // lme4 profiles the ML likelihood on a grid and interpolates
                // with splines (differences up to 4e-5 seen); covreml finds
                // the crossing by root finding.
                for (p, row) in params {
                    let (lo, hi, m) = interval(&j, p);
                    assert_eq!(m, "profile");
                    let w = &r["profile"][*row];
                    check(&format!("{name} {p} lower"), lo, num(&w["lower"]), 1e-4);
                    check(&format!("{name} {p} upper"), hi, num(&w["upper"]), 1e-4);
                }
            } else {
                for (p, _) in params {
                    let (lo, hi, m) = interval(&j, p);
                    assert_eq!(m, "wald");
                    let k = j["parameters"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .position(|n| n == p)
                        .unwrap();
                    let (v, se) = (num(&j["natural"][k]), num(&j["standard_errors"][k]));
                    let sd = v.sqrt();
                    let half = covreml::inference::Z_975 * se / (2.0 * sd);
                    check(&format!("{name} {p} wald upper"), hi, sd + half, 1e-12);
                    check(
                        &format!("{name} {p} wald lower"),
                        lo,
                        (sd - half).max(0.0),
                        1e-12,
                    );
                }
            }
        }
    }
}

#[test]
fn prediction_standard_errors_match_the_mixed_model_equations() {
    let cases = [
        ("sleepstudy", "predict_sleepstudy_new.csv"),
        ("penicillin", "predict_penicillin_new.csv"),
    ];
    for (name, new) in cases {
        let r = reference(name);
        let data = format!("{DATA}/{}", r["data"].as_str().unwrap());
        let new = format!("{DATA}/{new}");
        let formula = r["formula"].as_str().unwrap();
        for population in [false, true] {
            let mut args = vec![
                "predict",
                &data,
                "--formula",
                formula,
                "--newdata",
                &new,
                "--se",
                "--json",
                "--tolerance",
                "1e-10",
            ];
            if population {
                args.push("--population");
            }
            let out = run(&args);
            assert_eq!(out.status, 0, "{}", out.stderr);
            let j: Value = serde_json::from_str(&out.stdout).unwrap();
            let (pk, sk) = if population {
                ("predict_population", "se_population")
            } else {
                ("predict", "se")
            };
            let want_p = r["predict"][pk].as_array().unwrap();
            let want_se = r["predict"][sk].as_array().unwrap();
            for (i, (p, se)) in want_p.iter().zip(want_se).enumerate() {
                check(
                    &format!("{name} {pk} {i}"),
                    num(&j["predictions"][i]),
                    num(p),
                    1e-6,
                );
                check(
                    &format!("{name} {sk} {i}"),
                    num(&j["standard_errors"][i]),
                    num(se),
                    1e-6,
                );
            }
            // The CSV form has the column too.
            args.retain(|a| *a != "--json");
            let out = run(&args);
            assert!(
                out.stdout.starts_with("line,prediction,se\n"),
                "{}",
                out.stdout
            );
        }
    }
}

#[test]
fn se_belongs_to_predict() {
    let data = format!("{DATA}/sleepstudy.csv");
    let out = run(&[
        "fit",
        &data,
        "--formula",
        "Reaction ~ Days + (1|Subject)",
        "--se",
    ]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("--se belongs to `predict`"),
        "{}",
        out.stderr
    );
}

fn fit_json_of(data: &str, formula: &str) -> Value {
    let out = run(&["fit", data, "--formula", formula, "--json"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

/// A light well-formedness check: one root, every `<text>` closed.
fn check_svg(text: &str) {
    assert!(text.starts_with("<svg"), "{}", &text[..text.len().min(80)]);
    assert!(text.trim_end().ends_with("</svg>"));
    assert_eq!(text.matches("<svg").count(), 1);
    assert_eq!(
        text.matches("<text").count(),
        text.matches("</text>").count()
    );
}

#[test]
fn plots_are_written_as_svg() {
    let dir = std::env::temp_dir().join(format!("covreml_plots_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = format!("{DATA}/sleepstudy.csv");
    let d = dir.to_str().unwrap();
    let out = run(&[
        "fit",
        &data,
        "--formula",
        "Reaction ~ Days + (Days|Subject)",
        "--plots",
        d,
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let read =
        |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    for (file, points) in [
        ("residuals_fitted.svg", 180),
        ("qq.svg", 180),
        ("blups_Subject__Intercept_.svg", 18),
        ("blups_Subject_Days.svg", 18),
    ] {
        let s = read(file);
        check_svg(&s);
        assert_eq!(s.matches("<circle").count(), points, "{file}");
    }
    // The caterpillar plot: one interval per level besides the axes.
    let s = read("blups_Subject_Days.svg");
    assert!(s.contains("BLUPs of Subject: Days"));
    assert!(s.contains(">\n308\n</text>"), "level labels");
    // One point per iteration of the fit.
    let j = fit_json_of(&data, "Reaction ~ Days + (Days|Subject)");
    let s = read("loglik.svg");
    check_svg(&s);
    assert_eq!(s.matches("<circle").count() as f64, num(&j["iterations"]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn progress_lines_one_per_iteration_and_quiet_silences_them() {
    let data = format!("{DATA}/sleepstudy.csv");
    let f = "Reaction ~ Days + (Days|Subject)";
    let out = run(&["fit", &data, "--formula", f, "--progress", "--json"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let j: Value = serde_json::from_str(&out.stdout).unwrap();
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("iteration"))
        .collect();
    assert_eq!(lines.len() as f64, num(&j["iterations"]), "{}", out.stderr);
    assert!(
        lines[0].contains("log-likelihood")
            && lines[0].contains("step")
            && lines[0].ends_with(" s")
    );
    let out = run(&["fit", &data, "--formula", f, "--progress", "--quiet"]);
    assert_eq!(out.status, 0);
    assert!(!out.stderr.contains("iteration"), "{}", out.stderr);

    // `lrt`: the lines of each model's fit, labelled m0 and m1.
    let m0 = "Reaction ~ Days + (1|Subject)";
    let out = run(&[
        "lrt",
        &data,
        "--formula",
        m0,
        "--formula",
        f,
        "--progress",
        "--json",
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let j: Value = serde_json::from_str(&out.stdout).unwrap();
    for (k, fit) in j["fits"].as_array().unwrap().iter().enumerate() {
        let n = out
            .stderr
            .lines()
            .filter(|l| l.starts_with(&format!("m{k} iteration")))
            .count();
        assert_eq!(n as f64, num(&fit["iterations"]), "{}", out.stderr);
    }
    let out = run(&[
        "lrt",
        &data,
        "--formula",
        m0,
        "--formula",
        f,
        "--progress",
        "--quiet",
    ]);
    assert_eq!(out.status, 0);
    assert!(!out.stderr.contains("iteration"), "{}", out.stderr);
}

/// `--plots` with `gau(latitude + longitude, nugget)` on Wheat2 writes
/// `semivariogram.svg` and `.csv`: one point per non-empty distance bin
/// (20 equal-width bins over (0, max distance], counted here from the
/// coordinates), and the model line `σ²ν + σ²(1 − ν)(1 − e^{−(d/r)²})`
/// written here from the fit's reported σ², range and nugget: σ²ν at 0+,
/// the sill σ² far away.
#[test]
fn semivariogram_plot_for_a_spatial_residual() {
    let dir = std::env::temp_dir().join(format!("covreml_semivar_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = format!("{DATA}/Wheat2.csv");
    let out = run(&[
        "fit",
        &data,
        "--formula",
        "yield ~ variety - 1",
        "--residual",
        "gau(latitude + longitude, nugget)",
        "--json",
        "--plots",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let j: Value = serde_json::from_str(&out.stdout).unwrap();
    let comp = |var1: Option<&str>| {
        num(&j["variance_components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["group"] == "Residual" && c["var1"].as_str() == var1)
            .unwrap()["value"])
    };
    let (s2, r, nu) = (comp(None), comp(Some("range")), comp(Some("nugget")));
    let model = |d: f64| s2 * nu + s2 * (1.0 - nu) * (1.0 - (-(d / r) * (d / r)).exp());

    // Non-empty bins, from the coordinates.
    let text = std::fs::read_to_string(&data).unwrap();
    let xy: Vec<(f64, f64)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[3].parse().unwrap(), f[4].parse().unwrap())
        })
        .collect();
    let mut ds = Vec::new();
    for i in 0..xy.len() {
        for k in 0..i {
            ds.push(((xy[i].0 - xy[k].0).powi(2) + (xy[i].1 - xy[k].1).powi(2)).sqrt());
        }
    }
    let dmax = ds.iter().cloned().fold(0.0, f64::max);
    let mut used = [false; 20];
    for d in ds.iter().filter(|d| **d > 0.0) {
        used[((d / dmax * 20.0).ceil() as usize).clamp(1, 20) - 1] = true;
    }
    let bins = used.iter().filter(|u| **u).count();

    let svg = std::fs::read_to_string(dir.join("semivariogram.svg")).unwrap();
    check_svg(&svg);
    assert_eq!(svg.matches("<circle").count(), bins);
    let csv = std::fs::read_to_string(dir.join("semivariogram.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let empirical: Vec<_> = rows.iter().filter(|r| r[0] == "empirical").collect();
    let line: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| r[0] == "model")
        .map(|r| (r[1].parse().unwrap(), r[3].parse().unwrap()))
        .collect();
    assert_eq!(empirical.len(), bins);
    let pairs: usize = empirical
        .iter()
        .map(|r| r[2].parse::<usize>().unwrap())
        .sum();
    assert_eq!(pairs, ds.iter().filter(|d| **d > 0.0).count());
    assert!(line.len() > 50);
    for &(d, g) in &line {
        check("model semivariance", g, model(d), 1e-9);
    }
    // 0+: the nugget σ²ν; far away (the line ends at the largest
    // distance): the sill σ².
    assert!(line[0].0 < 1e-6 * dmax);
    check("nugget at 0+", line[0].1, s2 * nu, 1e-9);
    check("largest distance", line[line.len() - 1].0, dmax, 1e-12);
    assert!(dmax > 3.0 * r, "range {r} vs largest distance {dmax}");
    check("sill", line[line.len() - 1].1, s2, 1e-3);
    let _ = std::fs::remove_dir_all(&dir);
}
