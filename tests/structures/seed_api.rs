//! The seed system's API (issue 11): subtree keys, fixing at the default,
//! renaming nested operands by path, natural-scale evaluation, one scalar
//! bound for every parameter, re-exports and `Fixed` constructors.
//!
//! Expected values are closed forms written out here (AR(1): `σ² ρ^|i−j|`,
//! `e^{2x}`, `2/(1 + e^{−x}) − 1`), independent of the code under test.

use covreml::nalgebra::DMatrix;
use covreml::ops::Kron;
use covreml::reml::{MarginalModel, RemlOptions};
use covreml::{CovError, Covariance, Fixed, Scalar, Transform, AR1};

fn ar1_closed(n: usize, s2: f64, rho: f64) -> DMatrix<f64> {
    DMatrix::from_fn(n, n, |i, j| s2 * rho.powi(i.abs_diff(j) as i32))
}

fn corr(x: f64) -> f64 {
    2.0 / (1.0 + (-x).exp()) - 1.0
}

fn close(a: &DMatrix<f64>, b: &DMatrix<f64>, tol: f64) -> bool {
    a.shape() == b.shape() && a.iter().zip(b.iter()).all(|(x, y)| (x - y).abs() <= tol)
}

#[test]
fn subtree_fix_sets_every_parameter_under_the_operand() {
    let mut k = Covariance::<Kron<AR1, Scalar>>::new((3, 2)).unwrap();
    k.fix("op_0/", 0.2).unwrap();
    assert_eq!(k.free_names(), ["op_1/sigma^2"]);
    assert_eq!(k.fixed_names(), ["op_0/sigma^2", "op_0/rho"]);
    let v = k.value(&[0.1]).unwrap();
    let a = ar1_closed(3, (0.4f64).exp(), corr(0.2));
    let expected = a.kronecker(&DMatrix::from_diagonal_element(2, 2, (0.2f64).exp()));
    assert!(close(&v, &expected, 1e-14));
    k.unfix("/").unwrap();
    assert_eq!(k.n_free(), 3);
    // The defaults stay where they were fixed.
    assert_eq!(k.free_defaults(), [0.2, 0.2, 0.0]);
}

#[test]
fn fix_at_default_keeps_the_current_default() {
    let mut k = Covariance::<Kron<AR1, Scalar>>::new((2, 2)).unwrap();
    k.set_default("/", 0.5).unwrap();
    k.fix_at_default("op_1/sigma^2").unwrap();
    assert_eq!(k.free_names(), ["op_0/sigma^2", "op_0/rho"]);
    assert_eq!(k.specs()[2].default, 0.5);
    k.fix_at_default("/").unwrap();
    assert_eq!(k.n_free(), 0);
    let v = k.value(&[]).unwrap();
    // e^{1} · e^{1} on the diagonal.
    assert!((v[(0, 0)] - 2f64.exp()).abs() < 1e-13);
}

#[test]
fn subtree_transform_and_natural_fix() {
    let mut k = Covariance::<Kron<AR1, Scalar>>::new((3, 2)).unwrap();
    k.set_transform("op_0/", Transform::Identity).unwrap();
    k.fix_natural("op_1/", 1.0).unwrap();
    // Identity transforms: the free values are σ² and ρ themselves.
    let v = k.value(&[2.0, 0.25]).unwrap();
    let expected = ar1_closed(3, 2.0, 0.25).kronecker(&DMatrix::identity(2, 2));
    assert!(close(&v, &expected, 1e-14));
}

#[test]
fn unknown_subtree_is_an_error_naming_the_operand() {
    let mut k = Covariance::<Kron<AR1, Scalar>>::new((3, 2)).unwrap();
    match k.fix("gen/", 0.0) {
        Err(CovError::UnknownOperand { name }) => assert_eq!(name, "gen"),
        other => panic!("expected UnknownOperand, got {other:?}"),
    }
    assert!(k.unfix("op_0/nope").is_err());
}

#[test]
fn nested_operands_renamed_by_path() {
    // torch-openreml: KroneckerProduct(a=KroneckerProduct(x=AR1, y=Scalar), b=Scalar)
    let mut k = Covariance::<Kron<Kron<AR1, Scalar>, Scalar>>::new(((2, 2), 3)).unwrap();
    k.rename_operand("op_0/op_0", "x").unwrap();
    k.rename_operand("op_0/op_1/", "y").unwrap();
    k.rename_operand("op_0", "a").unwrap();
    k.rename_operand("op_1", "b").unwrap();
    assert_eq!(
        k.names(),
        ["a/x/sigma^2", "a/x/rho", "a/y/sigma^2", "b/sigma^2"]
    );
    // Subtree keys work on the new names.
    k.fix("a/x/", 0.0).unwrap();
    assert_eq!(k.free_names(), ["a/y/sigma^2", "b/sigma^2"]);
    assert!(matches!(
        k.rename_operand("a/z", "w"),
        Err(CovError::UnknownOperand { .. })
    ));
    assert!(matches!(
        k.rename_operand("a/x", "y"),
        Err(CovError::DuplicateParam { .. })
    ));
}

#[test]
fn natural_scale_evaluation() {
    let ar1 = Covariance::<AR1>::new(4).unwrap();
    let v = ar1.value_natural(&[2.5, -0.4]).unwrap();
    assert!(close(&v, &ar1_closed(4, 2.5, -0.4), 1e-13));
    let x = ar1.free_from_natural(&[2.5, -0.4]).unwrap();
    assert!((x[0] - 2.5f64.ln() / 2.0).abs() < 1e-15);
    assert!((corr(x[1]) + 0.4).abs() < 1e-15);
    // ρ = 1 is outside (−1, 1): the error names the parameter.
    match ar1.value_natural(&[1.0, 1.5]) {
        Err(CovError::NotInRange { name, .. }) => assert_eq!(name, "rho"),
        other => panic!("expected NotInRange, got {other:?}"),
    }
    assert!(ar1.value_natural(&[1.0]).is_err());
}

#[test]
fn natural_scale_jacobian_is_the_closed_form() {
    let ar1 = Covariance::<AR1>::new(3).unwrap();
    let (s2, rho) = (1.7, 0.6);
    let d = ar1.jacobian_natural(&[s2, rho]).unwrap();
    let ds2 = DMatrix::from_fn(3, 3, |i, j| rho.powi(i.abs_diff(j) as i32));
    let drho = DMatrix::from_fn(3, 3, |i, j| {
        let k = i.abs_diff(j) as i32;
        if k == 0 {
            0.0
        } else {
            s2 * f64::from(k) * rho.powi(k - 1)
        }
    });
    assert!(close(&d[0], &ds2, 1e-14));
    assert!(close(&d[1], &drho, 1e-14));
}

#[test]
fn one_scalar_bound_for_every_parameter() {
    let y = [1.0, 2.0, 4.0, 3.0, 5.0];
    let x = Fixed::column(&[1.0; 5]);
    let v = Covariance::<Scalar>::new(5).unwrap();
    let model = MarginalModel::new(&y, &x, Box::new(v)).unwrap();
    // Unbounded, σ² is the sample variance 2.5 (x = ln 2.5 / 2 ≈ 0.458).
    let fit = model
        .fit(
            &RemlOptions::default()
                .tolerance(1e-10)
                .bounds_all(-1.0, 0.2),
        )
        .unwrap();
    assert!((fit.free[0] - 0.2).abs() < 1e-12, "{:?}", fit.free);
    assert!((fit.natural[0] - 0.4f64.exp()).abs() < 1e-12);
    // A default start outside the bounds is projected onto them, with a warning.
    let fit = model
        .fit(&RemlOptions::default().bounds_all(0.5, 1.0))
        .unwrap();
    assert!(!fit.warnings.is_empty());
    assert!(fit.free[0] >= 0.5 && fit.free[0] <= 1.0, "{:?}", fit.free);
}

#[test]
fn fixed_constructors_and_reexports() {
    let z = Fixed::from_rows(&[[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]);
    let same = covreml::nalgebra::dmatrix![1.0, 0.0; 1.0, 1.0; 0.0, 1.0];
    assert_eq!(z, same);
    assert_eq!(
        Fixed::from_row_slice(3, 2, z.transpose().as_slice()).unwrap(),
        z
    );
    assert!(matches!(
        Fixed::from_row_slice(2, 3, &[1.0; 5]),
        Err(CovError::InvalidShape { .. })
    ));
    // num-dual through covreml: d/dx e^{2x} at 0 is 2.
    use covreml::num_dual::{Dual64, DualNum};
    let d = (Dual64::from_re(0.0).derivative() * 2.0).exp();
    assert_eq!(d.eps, 2.0);
}

// `$s:literal` arrives in the derive as an invisible group (issue 11).
macro_rules! label_type {
    ($t:ident, $s:literal) => {
        #[derive(Clone, Copy, Default, Debug, covreml::Label)]
        #[label($s)]
        struct $t;
    };
}
label_type!(Time, "time");

macro_rules! param_table {
    ($t:ident, $a:literal, $b:literal) => {
        #[derive(covreml::ParamTable)]
        #[params($a, $b)]
        struct $t;
    };
}
param_table!(TwoNames, "sigma^2", "phi");

#[test]
fn derives_accept_literals_passed_through_macro_rules() {
    use covreml::{Label, Named, ParamTable};
    assert_eq!(Time::NAME, "time");
    assert_eq!(TwoNames::PARAM_NAMES, ["sigma^2", "phi"]);
    let k = Covariance::<Kron<Named<AR1, Time>, Scalar>>::new((2, 2)).unwrap();
    assert_eq!(k.names(), ["time/sigma^2", "time/rho", "op_1/sigma^2"]);
}

/// Dyestuff (6 batches × 5, intercept only) is balanced, so the BLUPs and
/// their prediction-error variances have closed forms in the variance
/// components: `û_i = σ²_u n / (n σ²_u + σ²_e) · (ȳ_i − ȳ)` and
/// `PEV = σ²_e [I / d + n / (a d λ) 11ᵀ]` with `d = n + λ`, `λ = σ²_e / σ²_u`
/// (the `u` block of the inverse mixed-model equations, by Sherman–Morrison).
#[test]
fn blups_carry_level_names_and_standard_errors() {
    use covreml::data::Table;
    use covreml::datasets::intercepts_model;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/lme4/Dyestuff.csv");
    let t = Table::read(path).unwrap();
    let m = intercepts_model(&t, "Yield", &[], &[&["Batch"]]).unwrap();
    let fit = m.fit(&RemlOptions::default().tolerance(1e-10)).unwrap();
    let post = m.post(&fit).unwrap();
    let b = post.blup("Batch").unwrap();
    assert_eq!(b.levels, ["A", "B", "C", "D", "E", "F"]);

    let (su, se) = (
        fit.natural("Batch/sigma^2").unwrap(),
        fit.natural("residual/sigma^2").unwrap(),
    );
    let y = t.numeric("Yield").unwrap();
    let batch = t.column("Batch").unwrap();
    let z = covreml::data::Incidence::from_columns(&[batch]).unwrap();
    let (a, n) = (6.0, 5.0);
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let lambda = se / su;
    let d = n + lambda;
    let pev_diag = se * (1.0 / d + n / (a * d * lambda));
    for (k, level) in b.levels.iter().enumerate() {
        let group: Vec<f64> = y
            .iter()
            .zip(z.levels())
            .filter(|(_, &l)| l == k)
            .map(|(v, _)| *v)
            .collect();
        let ybar = group.iter().sum::<f64>() / group.len() as f64;
        let want = su * n / (n * su + se) * (ybar - mean);
        let got = b.get(level).unwrap();
        assert!(
            (got - want).abs() < 1e-8 * (1.0 + want.abs()),
            "{level}: {got} vs {want}"
        );
    }
    let rows: Vec<(&str, f64, f64)> = b.rows().collect();
    assert_eq!(rows.len(), 6);
    for (level, v, s) in rows {
        assert_eq!(b.get(level), Some(v));
        assert!(
            (s - pev_diag.sqrt()).abs() < 1e-8 * pev_diag.sqrt(),
            "{level}: se {s}"
        );
    }
    assert!(b.get("G").is_none());
}

/// R: `model.matrix(~ relevel(factor(trt, levels = c("C","B","A","D")), "B"))`
/// without the intercept column: columns C, A, D; D never occurs.
#[test]
fn explicit_levels_reference_and_prefix() {
    use covreml::data::{LevelCoding, ModelMatrix};
    let trt: Vec<String> = ["B", "A", "B", "C", "A"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let d = LevelCoding::new(&["C", "B", "A", "D"])
        .reference("B")
        .prefix("trt")
        .dummy(&trt)
        .unwrap();
    assert_eq!(d.names, ["trtC", "trtA", "trtD"]);
    let want = covreml::nalgebra::dmatrix![
        0.0, 0.0, 0.0;
        0.0, 1.0, 0.0;
        0.0, 0.0, 0.0;
        1.0, 0.0, 0.0;
        0.0, 1.0, 0.0
    ];
    assert_eq!(d.matrix, want);
    assert_eq!(
        LevelCoding::sorted(&trt).dummy(&trt).unwrap().names,
        ["A", "B", "C"]
    );
    assert!(LevelCoding::new(&["A", "B", "C"])
        .reference("Z")
        .dummy(&trt)
        .is_err());
    assert!(LevelCoding::new(&["A", "A", "B", "C"]).dummy(&trt).is_err());
    // Two factors with the same level names collide without prefixes.
    let unprefixed = LevelCoding::sorted(&trt).reference("A");
    let x = ModelMatrix::new(5)
        .intercept()
        .dummy(unprefixed.dummy(&trt).unwrap())
        .unwrap();
    assert!(x.dummy(unprefixed.dummy(&trt).unwrap()).is_err());
}

#[test]
fn duplicate_fixed_effect_names_are_refused() {
    let y = [1.0, 2.0, 4.0, 3.0, 5.0];
    let x = Fixed::from_rows(&[[1.0, 0.0], [1.0, 1.0], [1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]);
    let v = Covariance::<Scalar>::new(5).unwrap();
    let m = MarginalModel::new(&y, &x, Box::new(v)).unwrap();
    let err = m.with_fixed_names(&["b", "b"]).unwrap_err();
    assert!(err.to_string().contains("`b`"), "{err}");
}
