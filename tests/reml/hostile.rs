//! Hostile data (issue 8): every finding as a regression test with its exact
//! expected value, the invariances a REML fit must have (offset, scale, row
//! order), and a property test that nothing in the dynamic API panics.
//!
//! Expected values are closed forms stated next to each test: the sample
//! variance and the REML log-likelihood of an iid model, the balanced
//! one-way ANOVA estimates, and the john.alpha optimum of
//! `tests/data/fits.json` (an independent R computation).

use covreml::data::{dummy, DataError, DummyOptions, Incidence, ModelMatrix, NaAction, Table};
use covreml::datasets::john_alpha;
use covreml::ops::Kron;
use covreml::reml::{MarginalModel, MixedModel, RemlError, RemlFit, RemlOptions};
use covreml::{
    CovError, Covariance, CovarianceModel, Diagonal, Equicorrelation, Scalar, Unconstrained, AR1,
};
use nalgebra::DMatrix;
use std::collections::HashMap;

fn ones(n: usize) -> DMatrix<f64> {
    DMatrix::from_element(n, 1, 1.0)
}

fn scalar(n: usize) -> Box<Covariance<Scalar>> {
    Box::new(Covariance::<Scalar>::new(n).unwrap())
}

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

fn tight() -> RemlOptions {
    RemlOptions::default().tolerance(1e-10)
}

// ---------------------------------------------------------------- CSV ----

#[test]
fn csv_quoted_commas_and_doubled_quotes_are_one_field() {
    let t = Table::parse("name,y\n\"Smith, J\",1\n\"O\"\"Brien\",2\n").unwrap();
    assert_eq!(t.column("name").unwrap(), ["Smith, J", "O\"Brien"]);
    assert_eq!(t.numeric("y").unwrap(), [1.0, 2.0]);
    // a quoted comma that would have split into a matching field count
    let t = Table::parse("a,b\n\"1,5\"\n").unwrap_err();
    assert_eq!(
        t,
        DataError::RaggedRow {
            line: 2,
            expected: 2,
            got: 1
        }
    );
}

#[test]
fn csv_cr_crlf_and_bom() {
    for text in [
        "y,g\r1,a\r2,b\r",
        "y,g\r\n1,a\r\n2,b\r\n",
        "\u{feff}y,g\n1,a\n2,b\n",
    ] {
        let t = Table::parse(text).unwrap();
        assert_eq!(t.names(), ["y", "g"], "{text:?}");
        assert_eq!(t.numeric("y").unwrap(), [1.0, 2.0], "{text:?}");
    }
}

#[test]
fn csv_quoted_newlines_header_only_and_duplicate_names() {
    let t = Table::parse("note,y\n\"line one\nline two\",3\nplain,4\n").unwrap();
    assert_eq!(t.column("note").unwrap(), ["line one\nline two", "plain"]);
    assert_eq!(t.lines(), [2, 4]);
    let t = Table::parse("y,x\n").unwrap();
    assert_eq!((t.n_rows(), t.names().len()), (0, 2));
    assert_eq!(t.numeric("y").unwrap(), Vec::<f64>::new());
    let e = Table::parse("y,x,y\n1,2,3\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "columns 1 and 3 are both named `y`; column names must be unique"
    );
    assert_eq!(Table::parse("").unwrap_err(), DataError::Empty);
    let e = Table::parse("a,b\n\"open,1\n").unwrap_err();
    assert!(
        matches!(e, DataError::Malformed { .. } | DataError::RaggedRow { .. }),
        "{e}"
    );
}

#[test]
fn csv_missing_values_are_missing_and_rows_name_file_lines() {
    let text = "y,g,x\n1.5,a,1\n,b,2\nNA,c,3\n4.5,,4\n2.0,d,NaN\n3.0,e,5\n";
    let t = Table::parse(text).unwrap();
    assert_eq!(
        t.numeric_opt("y").unwrap(),
        [Some(1.5), None, None, Some(4.5), Some(2.0), Some(3.0)]
    );
    assert_eq!(
        t.is_missing("g").unwrap(),
        [false, false, false, true, false, false]
    );
    assert_eq!(
        t.numeric("y").unwrap_err().to_string(),
        "column `y`, line 3: missing value (``)"
    );
    let c = t.complete_rows(&["y", "g", "x"], NaAction::Omit).unwrap();
    assert_eq!(c.dropped, 4);
    assert_eq!(c.dropped_lines, [3, 4, 5, 6]);
    assert_eq!(c.table.numeric("y").unwrap(), [1.5, 3.0]);
    assert_eq!(c.table.lines(), [2, 7]);
    let e = t.complete_rows(&["x", "g"], NaAction::Fail).unwrap_err();
    assert_eq!(e.to_string(), "column `g`, line 5: missing value (``)");
    // text that is no number names the file line, not a 0-based row
    let t = Table::parse("y\n1\n2\nabc\n1e400\n").unwrap();
    assert_eq!(
        t.numeric("y").unwrap_err().to_string(),
        "column `y`, line 4: `abc` is not a finite number"
    );
    // the model builders refuse a missing value with its column and line
    let jt = john_alpha::text_with_missing_yield(4);
    let e = covreml::datasets::john_alpha_model(&Table::parse(&jt).unwrap()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "data: column `yield`, line 6: missing value (`NA`)"
    );
    // and build from the complete rows when asked
    let t = Table::parse(&jt).unwrap();
    let c = t
        .complete_rows(&["yield", "rep", "block", "gen"], NaAction::Omit)
        .unwrap();
    assert_eq!((c.dropped, c.table.n_rows()), (1, 71));
    assert_eq!(
        covreml::datasets::john_alpha_model(&c.table).unwrap().n(),
        71
    );
}

mod john_alpha {
    /// john.alpha's CSV with the yield of data row `row` (0-based) set to `NA`.
    pub fn text_with_missing_yield(row: usize) -> String {
        let mut lines: Vec<String> = covreml::datasets::JOHN_ALPHA_CSV
            .lines()
            .map(String::from)
            .collect();
        let header: Vec<&str> = lines[0].split(',').collect();
        let col = header.iter().position(|h| *h == "yield").unwrap();
        let mut fields: Vec<String> = lines[row + 1].split(',').map(String::from).collect();
        fields[col] = "NA".into();
        lines[row + 1] = fields.join(",");
        lines.join("\n")
    }
}

#[test]
fn csv_file_with_crlf_reads_like_text() {
    let dir = std::env::temp_dir().join(format!("covreml-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("t.csv");
    std::fs::write(&p, "\u{feff}\"y\",g\r\n1,\"a, b\"\r\n2,c\r\n").unwrap();
    let t = Table::read(&p).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(t.names(), ["y", "g"]);
    assert_eq!(t.column("g").unwrap(), ["a, b", "c"]);
}

// ----------------------------------------------------------- messages ----

#[test]
fn fix_natural_out_of_range_says_so_and_gives_the_range() {
    let mut s = Covariance::<Scalar>::new(3).unwrap();
    let e = s.fix_natural("sigma^2", -1.0).map(|_| ()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "parameter `sigma^2` = -1 is out of range: its transform exp(2x) reaches (0, inf)"
    );
    assert!(matches!(e, CovError::NotInRange { .. }));
    let e = s.fix_natural("sigma^2", 0.0).map(|_| ()).unwrap_err();
    assert!(e.to_string().contains("= 0 is out of range"), "{e}");
    let mut a = Covariance::<AR1>::new(3).unwrap();
    let e = a.fix_natural("rho", 1.0).map(|_| ()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "parameter `rho` = 1 is out of range: its transform sigmoid then 2x-1 reaches (-1, 1)"
    );
    let mut q = Covariance::<Equicorrelation>::new(4).unwrap();
    let e = q.fix_natural("rho", -0.5).map(|_| ()).unwrap_err();
    assert!(e.to_string().contains("= -0.5 is out of range"), "{e}");
    assert!(e.to_string().contains("reaches (-0.333333333333333"), "{e}");
    let e = s.fix_natural("sigma^2", -1e300).map(|_| ()).unwrap_err();
    assert!(e.to_string().contains("`sigma^2` = -1e300 is"), "{e}");
}

#[test]
fn non_finite_inputs_are_named_and_huge_values_print_short() {
    let s = Covariance::<Scalar>::new(2).unwrap();
    let e = s.value(&[f64::NAN]).unwrap_err();
    assert_eq!(e.to_string(), "parameter `sigma^2` is not finite (NaN)");
    let e = s.jacobian(&[f64::NEG_INFINITY]).unwrap_err();
    assert_eq!(e.to_string(), "parameter `sigma^2` is not finite (-inf)");
    // an overflowing transform: the natural value is shown, in scientific notation
    let e = s.value(&[400.0]).unwrap_err();
    assert!(matches!(e, CovError::NonFiniteMatrix { .. }), "{e}");
    assert!(e.to_string().contains("sigma^2 = 400 (natural inf)"), "{e}");
    let e = s.value(&[200.0]).unwrap();
    assert_eq!(e[(0, 0)], (400.0f64).exp());
    let e = MarginalModel::new(&[1.0, 2.0, 1e300 * 1e10], ones(3), scalar(3)).unwrap_err();
    assert_eq!(e.to_string(), "y has a non-finite value (inf) at row 3");
}

#[test]
fn a_fixed_parameter_in_a_free_map_is_called_fixed() {
    let mut c = Covariance::<AR1>::new(3).unwrap();
    c.fix("rho", 0.3).unwrap();
    let map: HashMap<String, f64> = [("sigma^2".to_string(), 0.1), ("rho".to_string(), 0.2)]
        .into_iter()
        .collect();
    let e = c.free_from_map(&map).unwrap_err();
    assert_eq!(
        e.to_string(),
        "parameter `rho` is fixed, not free; the free parameters are: sigma^2"
    );
}

#[test]
fn rows_are_one_based_everywhere() {
    let mut y = vec![1.0, 1.5, 1.2, 3.0, 2.6, 3.3];
    y[2] = f64::NAN;
    let e = MarginalModel::new(&y, ones(6), scalar(6)).unwrap_err();
    assert_eq!(e.to_string(), "y has a non-finite value (NaN) at row 3");
    let mut x = ones(6);
    x[(0, 0)] = f64::INFINITY;
    let e = MarginalModel::new(&[1.0; 6], &x, scalar(6)).unwrap_err();
    assert_eq!(e.to_string(), "X has a non-finite value (inf) at (1, 1)");
    let e = Incidence::new(vec![0, 1, 5], 2).unwrap_err();
    assert_eq!(e.to_string(), "row 3: level 5 is outside 0..2");
}

#[test]
fn invalid_options_are_refused_and_a_start_outside_bounds_is_projected() {
    let y = [1.0, 2.0, 4.0, 3.0, 5.0];
    let m = MarginalModel::new(&y, ones(5), scalar(5)).unwrap();
    let e = m
        .fit(&RemlOptions::default().tolerance(f64::NAN))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid option `tol_score`: must be a number ≥ 0, got NaN"
    );
    assert!(m.fit(&RemlOptions::default().max_iter(0)).is_err());
    assert!(m.fit(&RemlOptions::default().step_size(f64::NAN)).is_err());
    // start 3 above the upper bound 1: projected to 1, said in the warnings
    let fit = m
        .fit(&tight().start(vec![3.0]).bounds(vec![-5.0], vec![1.0]))
        .unwrap();
    assert_eq!(
        fit.warnings,
        ["the start of sigma^2 (3) is outside its bounds [-5, 1]: started at 1"]
    );
    assert_eq!(fit.history[0].free, [1.0]);
    // σ² = sample variance 2.5 (inside the bounds: ln 2.5 / 2 = 0.458)
    assert!(rel(fit.natural[0], 2.5) < 1e-9, "{}", fit.natural[0]);
    let plain = m.fit(&tight()).unwrap();
    assert!(plain.warnings.is_empty());
}

#[test]
fn not_positive_definite_summarises_many_parameters() {
    // Unconstrained(11): 66 parameters; large off-diagonals make V indefinite.
    let v = Covariance::<Unconstrained>::new(11).unwrap();
    let names = v.free_names();
    let y: Vec<f64> = (0..11).map(|i| (i * i % 7) as f64).collect();
    let m = MarginalModel::new(&y, ones(11), Box::new(v)).unwrap();
    let start: Vec<f64> = names
        .iter()
        .map(|n| {
            let idx: Vec<usize> = n["sigma^2_".len()..]
                .split('_')
                .map(|s| s.parse().unwrap())
                .collect();
            if idx[0] == idx[1] {
                0.0
            } else {
                1.0 + (idx[0] * 11 + idx[1]) as f64 / 1024.0
            }
        })
        .collect();
    let e = m.fit(&RemlOptions::default().start(start)).unwrap_err();
    let s = e.to_string();
    assert!(matches!(e, RemlError::NotPositiveDefinite { .. }), "{s}");
    assert!(
        s.starts_with("V is not positive definite at 66 parameters; the 6 farthest"),
        "{s}"
    );
    // the largest off-diagonal is 1 + 119/1024, the seventh 1 + 113/1024
    assert!(
        s.contains("sigma^2_10_9 = 1.1162109375 (natural 1.1162109375)"),
        "{s}"
    );
    assert!(
        s.ends_with("the other 60 have |free| ≤ 1.1103515625"),
        "{s}"
    );
}

#[test]
fn lookups_by_name_list_the_names_that_exist() {
    let (fit, post) = {
        let m = one_way();
        let fit = m.fit(&tight()).unwrap();
        let post = m.post(&fit).unwrap();
        (fit, post)
    };
    assert!(rel(fit.natural_of("group/sigma^2").unwrap(), 1.4711111111111) < 1e-9);
    assert_eq!(fit.natural("subjetc"), None);
    assert_eq!(
        fit.natural_of("subjetc").unwrap_err().to_string(),
        "no parameter `subjetc`; the parameters are: group/sigma^2, residual/sigma^2"
    );
    assert!(fit.free_of("residual/sigma^2").is_ok());
    assert!(fit.natural_se_of("x").is_err());
    assert_eq!(
        fit.beta_of("b").unwrap_err().to_string(),
        "no fixed effect `b`; the fixed effects are: beta[0]"
    );
    assert!(post.blup_of("group").is_ok());
    assert_eq!(
        post.blup_of("subjetc").unwrap_err().to_string(),
        "no random term `subjetc`; the random terms are: group"
    );
}

// ---------------------------------------------------- identification ----

/// The `MixedModel` doc example: two groups of three; balanced one-way ANOVA
/// gives σ²_e = 0.37333/4 = 0.093333… and σ²_group = (4.50667 − 0.09333)/3.
fn one_way_data() -> (Vec<f64>, Incidence) {
    (
        vec![1.0, 1.5, 1.2, 3.0, 2.6, 3.3],
        Incidence::new(vec![0, 0, 0, 1, 1, 1], 2).unwrap(),
    )
}

fn one_way() -> MixedModel {
    let (y, z) = one_way_data();
    MixedModel::with_iid_residual(&y, ones(6))
        .unwrap()
        .random("group", z, scalar(2))
        .unwrap()
}

fn not_identified(e: RemlError, term: &str, says: &str) {
    let s = e.to_string();
    assert!(
        matches!(&e, RemlError::NotIdentified { term: t, .. } if t == term),
        "{s}"
    );
    assert!(s.contains(says), "{s}");
}

#[test]
fn one_observation_per_level_is_confounded_with_the_residual() {
    let (y, _) = one_way_data();
    let z = Incidence::new(vec![3, 1, 0, 2, 5, 4], 6).unwrap();
    let e = MixedModel::with_iid_residual(&y, ones(6))
        .unwrap()
        .random("plot", z.clone(), scalar(6))
        .unwrap_err();
    not_identified(e, "plot", "every level has exactly one observation, so its parameter `plot/sigma^2` is confounded with the residual variance (residual/sigma^2)");
    // the same design as a dense matrix
    let e = MixedModel::with_iid_residual(&y, ones(6))
        .unwrap()
        .random("plot", z.to_dense(), scalar(6))
        .unwrap_err();
    not_identified(e, "plot", "exactly one observation");
    // with the residual variance fixed, the term is identified
    let mut r = Covariance::<Scalar>::new(6).unwrap();
    r.fix_natural("sigma^2", 0.01).unwrap();
    assert!(MixedModel::new(&y, ones(6), Box::new(r))
        .unwrap()
        .random("plot", z, scalar(6))
        .is_ok());
}

#[test]
fn the_same_term_twice_is_refused() {
    let (_, z) = one_way_data();
    let e = one_way().random("again", z.clone(), scalar(2)).unwrap_err();
    not_identified(
        e,
        "again",
        "it has the same design Z as term `group`, and its parameter `again/sigma^2` duplicates a parameter of `group`",
    );
    // the same design with a structure that adds a new direction is fine
    let mut eq = Covariance::<covreml::CompoundSymmetric>::new(2).unwrap();
    eq.fix("sigma^2", 0.0).unwrap();
    assert!(one_way().random("corr", z, Box::new(eq)).is_ok());
}

#[test]
fn a_factor_with_one_level_and_a_term_without_columns_are_refused() {
    let (y, _) = one_way_data();
    let e = MixedModel::with_iid_residual(&y, ones(6))
        .unwrap()
        .random("site", Incidence::new(vec![0; 6], 1).unwrap(), scalar(1))
        .unwrap_err();
    not_identified(e, "site", "its factor has one level that occurs");
    // a dense Z in the span of X (a multiple of the intercept)
    let e = MixedModel::with_iid_residual(&y, ones(6))
        .unwrap()
        .random("c", DMatrix::from_element(6, 1, 2.0), scalar(1))
        .unwrap_err();
    not_identified(
        e,
        "c",
        "every column of its design Z is a linear combination of the columns of X",
    );
    let g: Box<dyn CovarianceModel> = Box::new(Covariance::<covreml::Identity>::new(0).unwrap());
    let e = MixedModel::with_iid_residual(&y, ones(6))
        .unwrap()
        .random("none", DMatrix::zeros(6, 0), g)
        .unwrap_err();
    not_identified(e, "none", "its design Z has no columns");
}

#[test]
fn a_parameter_on_levels_that_never_occur_is_refused() {
    let (y, _) = one_way_data();
    // level 1 of 3 never occurs: Diagonal's sigma^2_1 acts on nothing observed
    let z = Incidence::new(vec![0, 0, 0, 2, 2, 2], 3).unwrap();
    let e = MixedModel::with_iid_residual(&y, ones(6))
        .unwrap()
        .random(
            "g",
            z.clone(),
            Box::new(Covariance::<Diagonal>::new(3).unwrap()),
        )
        .unwrap_err();
    not_identified(
        e,
        "g",
        "parameter `g/sigma^2_1` of G acts only on levels without observations (empty levels, 0-based: 1)",
    );
    // a scaled identity over the same levels is identified
    assert!(MixedModel::with_iid_residual(&y, ones(6))
        .unwrap()
        .random("g", z, scalar(3))
        .is_ok());
}

// -------------------------------------------------------- invariances ----

/// REML log-likelihood of `y ~ 1` with `V = σ² I` at σ² = s² (the sample
/// variance): `−½[(n−1) ln 2π + (n−1) ln s² + ln n + (n−1)]`.
fn iid_loglik(n: f64, s2: f64) -> f64 {
    -0.5 * ((n - 1.0) * (2.0 * std::f64::consts::PI).ln()
        + (n - 1.0) * s2.ln()
        + n.ln()
        + (n - 1.0))
}

fn check_offset(c: f64) {
    let y: Vec<f64> = [1.0, 2.0, 4.0, 3.0, 5.0].iter().map(|v| v + c).collect();
    let fit = MarginalModel::new(&y, ones(5), scalar(5))
        .unwrap()
        .fit(&tight())
        .unwrap();
    assert!(
        rel(fit.natural[0], 2.5) < 1e-9,
        "c = {c:e}: σ² = {}",
        fit.natural[0]
    );
    let want = iid_loglik(5.0, 2.5);
    assert!(
        rel(fit.loglik, want) < 1e-9,
        "c = {c:e}: ℓ = {} vs {want}",
        fit.loglik
    );
    assert!(rel(fit.beta[0], 3.0 + c) < 1e-12, "c = {c:e}");

    // Values in eighths, so that y + c is exact for |c| ≤ 1e10 (the spacing
    // of doubles near 1e10 is 2⁻¹⁹): any change then comes from the fit,
    // not from rounding the data. Expected values: the balanced one-way
    // ANOVA estimates, σ²_e = MSW and σ²_g = (MSB − MSW)/3.
    let (_, z) = one_way_data();
    let base: [f64; 6] = [1.0, 1.5, 1.25, 3.0, 2.625, 3.25];
    let means = [
        (base[0] + base[1] + base[2]) / 3.0,
        (base[3] + base[4] + base[5]) / 3.0,
    ];
    let grand = (means[0] + means[1]) / 2.0;
    let msw: f64 = (0..6)
        .map(|i| (base[i] - means[i / 3]).powi(2))
        .sum::<f64>()
        / 4.0;
    let msb: f64 = 3.0 * means.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
    let y: Vec<f64> = base.iter().map(|v| v + c).collect();
    let fit = MixedModel::with_iid_residual(&y, ones(6))
        .unwrap()
        .random("group", z, scalar(2))
        .unwrap()
        .fit(&tight())
        .unwrap();
    assert!(
        rel(fit.natural[0], (msb - msw) / 3.0) < 1e-9,
        "c = {c:e}: {:?}",
        fit.natural
    );
    assert!(
        rel(fit.natural[1], msw) < 1e-9,
        "c = {c:e}: {:?}",
        fit.natural
    );
}

#[test]
fn a_small_offset_changes_nothing() {
    check_offset(0.0);
    check_offset(10.0);
    check_offset(-250.0);
}

#[test]
fn an_offset_up_to_1e10_changes_nothing() {
    for c in [1e4, 1e6, 1e8, 1e10, -1e10] {
        check_offset(c);
    }
}

#[test]
fn scaling_y_scales_variances_by_c_squared() {
    let base = one_way().fit(&tight()).unwrap();
    let (y, z) = one_way_data();
    for c in [1e8, 1e-8, 3.0] {
        let yc: Vec<f64> = y.iter().map(|v| v * c).collect();
        let fit = MixedModel::with_iid_residual(&yc, ones(6))
            .unwrap()
            .random("group", z.clone(), scalar(2))
            .unwrap()
            .fit(&tight())
            .unwrap();
        for i in 0..2 {
            assert!(
                rel(fit.natural[i], base.natural[i] * c * c) < 1e-9,
                "c = {c:e}, {}: {} vs {}",
                fit.names[i],
                fit.natural[i],
                base.natural[i] * c * c
            );
        }
        // and the closed forms
        assert!(rel(fit.natural[0], 1.471_111_111_111_111 * c * c) < 1e-9);
    }
}

fn john_alpha_fit(t: &Table) -> RemlFit {
    covreml::datasets::john_alpha_model(t)
        .unwrap()
        .fit(&tight())
        .unwrap()
}

#[test]
fn permuting_rows_changes_no_estimate() {
    let t = john_alpha();
    let base = john_alpha_fit(&t);
    // the exact optimum of tests/data/fits.json (independent R computation)
    for (v, want) in base
        .natural
        .iter()
        .zip([0.142901973, 0.070218318, 0.081617174])
    {
        assert!(rel(*v, want) < 1e-7, "{v} vs {want}");
    }
    for seed in [1usize, 7, 31] {
        // a permutation of 0..72: i ↦ (a i + b) mod 72 with a coprime to 72
        let a = [5, 7, 11, 13, 25][seed % 5];
        let perm: Vec<usize> = (0..72).map(|i| (a * i + seed) % 72).collect();
        let fit = john_alpha_fit(&t.select_rows(&perm).unwrap());
        for i in 0..3 {
            assert!(
                rel(fit.natural[i], base.natural[i]) < 1e-10,
                "{}: {} vs {}",
                fit.names[i],
                fit.natural[i],
                base.natural[i]
            );
        }
        for i in 0..3 {
            assert!((fit.beta[i] - base.beta[i]).abs() < 1e-10 * base.beta[0].abs());
        }
        assert!(rel(fit.loglik, base.loglik) < 1e-12);
    }
}

#[test]
fn permuting_rows_with_a_diagonal_residual_changes_no_estimate() {
    // R = I₂ ⊗ Diag(σ²₀, σ²₁, σ²₂): rows come in three strata; permuting whole
    // blocks of the same stratum keeps the structure, so a row permutation
    // that maps stratum to stratum must leave every estimate unchanged.
    let y = [1.0, 2.5, 0.2, 1.7, 3.9, 0.8, 1.2, 2.1, 0.1, 2.2, 3.3, 0.5];
    let x = DMatrix::from_fn(12, 2, |i, j| if j == 0 { 1.0 } else { (i / 3) as f64 });
    let fit_of = |y: &[f64], x: &DMatrix<f64>| {
        let r = Covariance::<Kron<covreml::Identity, Diagonal>>::new((4, 3)).unwrap();
        MarginalModel::new(y, x, Box::new(r))
            .unwrap()
            .fit(&tight())
            .unwrap()
    };
    let base = fit_of(&y, &x);
    // swap observation blocks 0 ↔ 3 and 1 ↔ 2 (each block holds strata 0, 1, 2)
    let perm: Vec<usize> = [3, 2, 1, 0]
        .iter()
        .flat_map(|b| (0..3).map(move |s| b * 3 + s))
        .collect();
    let yp: Vec<f64> = perm.iter().map(|&i| y[i]).collect();
    let xp = DMatrix::from_fn(12, 2, |i, j| x[(perm[i], j)]);
    let fit = fit_of(&yp, &xp);
    for i in 0..3 {
        assert!(
            rel(fit.natural[i], base.natural[i]) < 1e-10,
            "{:?} vs {:?}",
            fit.natural,
            base.natural
        );
    }
}

// ------------------------------------------------ nothing panics ----

mod no_panics {
    use super::*;
    use proptest::prelude::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    fn value(code: u8, base: f64) -> f64 {
        match code % 8 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => 1e300,
            3 => -1e-300,
            _ => base,
        }
    }

    fn structure(kind: u8, q: usize) -> Option<Box<dyn CovarianceModel>> {
        match kind % 5 {
            0 => Covariance::<Scalar>::new(q).ok().map(|c| Box::new(c) as _),
            1 => Covariance::<Diagonal>::new(q)
                .ok()
                .map(|c| Box::new(c) as _),
            2 => Covariance::<AR1>::new(q).ok().map(|c| Box::new(c) as _),
            3 => Covariance::<Unconstrained>::new(q)
                .ok()
                .map(|c| Box::new(c) as _),
            _ => Covariance::<Equicorrelation>::new(q)
                .ok()
                .map(|c| Box::new(c) as _),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

        #[test]
        fn the_dynamic_api_never_panics(
            n in 0usize..10,
            p in 0usize..3,
            q in 0usize..5,
            ys in proptest::collection::vec((any::<u8>(), -5.0f64..5.0), 0..10),
            levels in proptest::collection::vec(0usize..6, 0..10),
            kinds in proptest::collection::vec(any::<u8>(), 1..3),
            name in prop_oneof![Just("g"), Just("residual"), Just(""), Just("a/b"), Just("g")],
            start in proptest::collection::vec((any::<u8>(), -3.0f64..3.0), 0..5),
            tol in prop_oneof![Just(1e-6), Just(f64::NAN), Just(-1.0), Just(0.0)],
            max_iter in 0usize..4,
            bounds in any::<bool>(),
            csv in "[a-c,\"\n\r ]{0,30}",
        ) {
            let result = catch_unwind(AssertUnwindSafe(|| {
                let _ = Table::parse(&csv).map(|t| {
                    for nm in t.names().to_vec() {
                        let _ = t.numeric(&nm);
                        let _ = t.complete_rows(&[nm.as_str()], NaAction::Omit);
                    }
                });
                let y: Vec<f64> = ys.iter().take(n).map(|(c, b)| value(*c, *b)).collect();
                let x = DMatrix::from_fn(y.len(), p, |i, j| if j == 0 { 1.0 } else { (i * j) as f64 });
                let mut opts = RemlOptions::default().max_iter(max_iter).tolerance(tol);
                if !start.is_empty() {
                    opts = opts.start(start.iter().map(|(c, b)| value(*c, *b)).collect());
                }
                if bounds {
                    let k = start.len();
                    opts = opts.bounds(vec![-1.0; k], vec![f64::NAN; k]);
                }
                if let Some(r) = structure(kinds[0], y.len()) {
                    if let Ok(m) = MarginalModel::new(&y, &x, r) {
                        let _ = m.fit(&opts);
                        let _ = m.fit(&RemlOptions::default().max_iter(3));
                    }
                }
                let lv: Vec<usize> = levels.iter().take(y.len()).map(|l| l % q.max(1)).collect();
                if let (Ok(m), Ok(z)) = (
                    MixedModel::with_iid_residual(&y, &x),
                    Incidence::new(lv, q),
                ) {
                    if let Some(g) = structure(*kinds.last().unwrap(), q) {
                        if let Ok(m) = m.random(name, z, g) {
                            if let Ok(fit) = m.fit(&opts) {
                                let _ = m.post(&fit);
                                let _ = fit.natural_of(name);
                            }
                            let _ = m.fit(&RemlOptions::default().max_iter(3));
                        }
                    }
                }
                let _ = dummy(&[], DummyOptions::default());
                let _ = ModelMatrix::new(n).numeric("v", &[f64::NAN]);
            }));
            prop_assert!(result.is_ok(), "a call panicked");
        }
    }
}
