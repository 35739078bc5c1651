//! Bad input gets a clear error, never a panic; fit control behaves.

use covreml::data::{dummy, DummyOptions, Incidence, Table};
use covreml::datasets::ar1_repeated_model;
use covreml::reml::{MarginalModel, MixedModel, RemlError, RemlOptions, Termination};
use covreml::{Covariance, Scalar, AR1};
use nalgebra::DMatrix;

fn ones(n: usize) -> DMatrix<f64> {
    DMatrix::from_element(n, 1, 1.0)
}

fn y6() -> Vec<f64> {
    vec![1.0, 1.5, 1.2, 3.0, 2.6, 3.3]
}

fn scalar(n: usize) -> Box<Covariance<Scalar>> {
    Box::new(Covariance::<Scalar>::new(n).unwrap())
}

#[test]
fn mismatched_lengths() {
    let e = MarginalModel::new(&y6(), ones(5), scalar(6)).unwrap_err();
    assert!(matches!(e, RemlError::DimensionMismatch { .. }), "{e}");
    assert!(e.to_string().contains("X"), "{e}");
    let e = MarginalModel::new(&y6(), ones(6), scalar(7)).unwrap_err();
    assert!(e.to_string().contains("V is 7 × 7"), "{e}");
    let e = MixedModel::new(&y6(), ones(6), scalar(6))
        .unwrap()
        .random(
            "g",
            Incidence::new(vec![0, 0, 1, 1, 1], 2).unwrap(),
            scalar(2),
        )
        .unwrap_err();
    assert!(e.to_string().contains("Z of `g`"), "{e}");
    let e = MixedModel::new(&y6(), ones(6), scalar(6))
        .unwrap()
        .random(
            "g",
            Incidence::new(vec![0, 0, 0, 1, 1, 1], 2).unwrap(),
            scalar(3),
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("G of `g` is 3 × 3, expected 2 × 2"),
        "{e}"
    );
    let e = MixedModel::new(&y6(), ones(6), scalar(6))
        .unwrap()
        .random("g", DMatrix::from_element(6, 2, 0.5), scalar(3))
        .unwrap_err();
    assert!(matches!(e, RemlError::DimensionMismatch { .. }), "{e}");
}

#[test]
fn non_finite_values() {
    let mut y = y6();
    y[2] = f64::NAN;
    let e = MarginalModel::new(&y, ones(6), scalar(6)).unwrap_err();
    assert_eq!(e.to_string(), "y has a non-finite value (NaN) at row 3");
    let mut x = ones(6);
    x[(4, 0)] = f64::INFINITY;
    let e = MarginalModel::new(&y6(), &x, scalar(6)).unwrap_err();
    assert!(matches!(e, RemlError::NotFinite { .. }), "{e}");
    let mut z = DMatrix::from_element(6, 2, 0.5);
    z[(0, 1)] = f64::NEG_INFINITY;
    let e = MixedModel::new(&y6(), ones(6), scalar(6))
        .unwrap()
        .random("g", z, scalar(2))
        .unwrap_err();
    assert!(e.to_string().contains("Z of `g`"), "{e}");
    let m = MarginalModel::new(&y6(), ones(6), scalar(6)).unwrap();
    let e = m
        .fit(&RemlOptions::default().start(vec![f64::NAN]))
        .unwrap_err();
    assert!(matches!(e, RemlError::NotFinite { .. }), "{e}");
}

#[test]
fn too_few_rows_and_rank_deficiency() {
    let e = MarginalModel::new(&[1.0, 2.0], DMatrix::identity(2, 2), scalar(2)).unwrap_err();
    assert_eq!(e, RemlError::TooFewRows { rows: 2, cols: 2 });
    // Intercept plus both dummy columns: column 2 = column 0 − column 1.
    let f: Vec<String> = ["a", "a", "b", "b", "a", "b"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let d = dummy(&[&f], DummyOptions::default()).unwrap();
    let x = DMatrix::from_fn(6, 3, |i, j| if j == 0 { 1.0 } else { d.matrix[(i, j - 1)] });
    let e = MarginalModel::new(&y6(), &x, scalar(6)).unwrap_err();
    assert_eq!(
        e,
        RemlError::RankDeficient {
            columns: "`beta[2]`".into()
        }
    );
    let zero = DMatrix::from_fn(6, 2, |_, j| if j == 0 { 1.0 } else { 0.0 });
    let e = MarginalModel::new(&y6(), &zero, scalar(6)).unwrap_err();
    assert!(e.to_string().contains("column(s) `beta[1]`"), "{e}");
}

#[test]
fn wrong_start_and_bounds() {
    let m = MarginalModel::new(&y6(), ones(6), scalar(6)).unwrap();
    let e = m
        .fit(&RemlOptions::default().start(vec![0.0, 1.0]))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "start has 2 values, but the model has 1 free parameters (sigma^2)"
    );
    let e = m
        .fit(&RemlOptions::default().bounds(vec![1.0], vec![0.0]))
        .unwrap_err();
    assert!(
        matches!(
            e,
            RemlError::InvalidOption {
                option: "bounds",
                ..
            }
        ),
        "{e}"
    );
    let e = m.fit(&RemlOptions::default().step_size(0.0)).unwrap_err();
    assert!(
        matches!(
            e,
            RemlError::InvalidOption {
                option: "step_size",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn not_positive_definite_at_start_names_the_parameters() {
    // An AR1 with ρ → 1 on the free scale is singular in floating point.
    let v = Covariance::<AR1>::new(6).unwrap();
    let m = MarginalModel::new(&y6(), ones(6), Box::new(v)).unwrap();
    let e = m
        .fit(&RemlOptions::default().start(vec![0.0, 40.0]))
        .unwrap_err();
    assert!(matches!(e, RemlError::NotPositiveDefinite { .. }), "{e}");
    let s = e.to_string();
    assert!(s.contains("sigma^2 = 0") && s.contains("rho = 40"), "{s}");
}

#[test]
fn bounds_hold_and_are_reported() {
    // One-way layout whose between-group variance estimate is large; an
    // upper bound on the group variance stops it there.
    let y = y6();
    let z = Incidence::new(vec![0, 0, 0, 1, 1, 1], 2).unwrap();
    let m = MixedModel::new(&y, ones(6), scalar(6))
        .unwrap()
        .random("g", z, scalar(2))
        .unwrap();
    let free = m.fit(&RemlOptions::default()).unwrap();
    assert!(free.termination.is_converged());
    let cap = free.free[0] - 0.5;
    let fit = m
        .fit(
            &RemlOptions::default()
                .start(vec![cap - 1.0, 0.0])
                .bounds(vec![-10.0, -10.0], vec![cap, 10.0]),
        )
        .unwrap();
    assert_eq!(
        fit.termination,
        Termination::AtBound {
            params: vec!["g/sigma^2".into()],
            bounds: vec![(2.0 * cap).exp()],
        },
        "{fit}"
    );
    assert!(fit.free[0] <= cap);
    assert!((fit.free[0] - cap).abs() < 1e-12);
    for it in &fit.history {
        assert!(it.free[0] <= cap);
    }
}

#[test]
fn iteration_limit_observer_and_history() {
    let t = Table::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/ar1_repeated.csv"
    ))
    .unwrap();
    let m = ar1_repeated_model(&t).unwrap();
    let mut seen = Vec::new();
    let fit = m
        .fit_with(&RemlOptions::default().max_iter(2), |it| {
            seen.push((it.iter, it.loglik))
        })
        .unwrap();
    assert_eq!(fit.termination, Termination::IterationLimit);
    assert_eq!(fit.iterations, 2);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].0, 2);
    assert_eq!(fit.history[0].step.len(), 2);
    assert!(fit.history[1].step.is_empty());
    assert_eq!(fit.history[0].ai.shape(), (2, 2));
    assert!(fit.history[1].loglik >= fit.history[0].loglik);
    assert_eq!(fit.names, ["time/sigma^2", "time/rho"]);
}

#[test]
fn step_halving_keeps_the_loglik_from_falling() {
    // A huge step size forces halvings; the fit still converges and never
    // accepts a worse point.
    let t = Table::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/ar1_repeated.csv"
    ))
    .unwrap();
    let m = ar1_repeated_model(&t).unwrap();
    let fit = m.fit(&RemlOptions::default().step_size(64.0)).unwrap();
    assert!(fit.termination.is_converged(), "{fit}");
    assert!(fit.history.iter().any(|it| it.halvings > 0));
    for w in fit.history.windows(2) {
        assert!(w[1].loglik >= w[0].loglik);
    }
}

#[test]
fn data_errors() {
    assert!(Table::parse("a,b\n1\n").is_err());
    let t = Table::parse("a,b\n1,x\n").unwrap();
    assert!(t
        .numeric("b")
        .unwrap_err()
        .to_string()
        .contains("`x` is not a finite number"));
    assert!(t
        .column("c")
        .unwrap_err()
        .to_string()
        .contains("the columns are: a, b"));
    assert!(Incidence::new(vec![0, 3], 2).is_err());
}
