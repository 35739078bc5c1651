//! Error paths of the runtime layer: wrong free-vector lengths, unknown,
//! missing and non-free names, non-finite values. Each is an `Err` whose
//! message names the problem, and a failed call leaves the structure as it was.

use covreml::ops::Inverse;
use covreml::{CovError, Covariance, Kron, LowerTriangular, Scalar, Sum, Transform, AR1};
use std::collections::HashMap;

fn kron() -> Covariance<Kron<AR1, Scalar>> {
    Covariance::<Kron<AR1, Scalar>>::new((3, 2))
        .unwrap()
        .with_operand_names(&["time", "subject"])
        .unwrap()
}

fn mentions(e: &CovError, parts: &[&str]) {
    let msg = e.to_string();
    for p in parts {
        assert!(msg.contains(p), "`{msg}` does not mention `{p}`");
    }
}

#[test]
fn wrong_free_vector_length_is_an_error_everywhere() {
    let cov = kron();
    for bad in [&[][..], &[0.1, 0.2][..], &[0.1, 0.2, 0.3, 0.4][..]] {
        let errs = [
            cov.value(bad).unwrap_err(),
            cov.value_in::<f32>(&bad.iter().map(|&x| x as f32).collect::<Vec<_>>())
                .unwrap_err(),
            cov.jacobian(bad).unwrap_err(),
            cov.value_and_jacobian(bad).unwrap_err(),
            cov.dual_jacobian(bad).unwrap_err(),
            cov.check_gradients(bad).unwrap_err(),
            cov.params(bad, true, true).unwrap_err(),
            cov.natural(bad).unwrap_err(),
            cov.transform_derivatives(bad).unwrap_err(),
            cov.full_free(bad).unwrap_err(),
        ];
        for e in errs {
            assert_eq!(
                e,
                CovError::WrongParamCount {
                    expected: 3,
                    got: bad.len(),
                    names: "time/sigma^2, time/rho, subject/sigma^2".into(),
                }
            );
            mentions(
                &e,
                &[
                    "expected 3",
                    &format!("got {}", bad.len()),
                    "time/sigma^2, time/rho, subject/sigma^2",
                ],
            );
        }
    }
}

#[test]
fn fixing_shortens_the_free_vector() {
    let mut cov = kron();
    cov.fix("subject/sigma^2", 0.0).unwrap();
    assert!(cov.value(&[0.1, 0.2]).is_ok());
    let e = cov.value(&[0.1, 0.2, 0.0]).unwrap_err();
    assert!(matches!(
        e,
        CovError::WrongParamCount {
            expected: 2,
            got: 3,
            ..
        }
    ));
    mentions(&e, &["time/sigma^2, time/rho"]);
    assert!(!e.to_string().contains("subject"), "{e}");
}

#[test]
fn unknown_names_are_errors_that_list_the_known_ones() {
    let mut cov = kron();
    let known = "time/sigma^2, time/rho, subject/sigma^2";
    let errs = [
        cov.fix("rho", 0.5).map(|_| ()).unwrap_err(),
        cov.fix_natural("time/ro", 0.5).map(|_| ()).unwrap_err(),
        cov.unfix("sigma^2").map(|_| ()).unwrap_err(),
        cov.set_default("", 0.0).map(|_| ()).unwrap_err(),
        cov.set_transform("op_0/rho", Transform::Identity)
            .map(|_| ())
            .unwrap_err(),
    ];
    for (e, name) in errs
        .iter()
        .zip(["rho", "time/ro", "sigma^2", "", "op_0/rho"])
    {
        assert_eq!(
            *e,
            CovError::UnknownParam {
                name: name.into(),
                known: known.into()
            }
        );
        mentions(e, &[&format!("`{name}`"), known]);
    }
    assert_eq!(cov.n_free(), 3, "failed calls fixed nothing");
}

#[test]
fn non_finite_fix_values_are_errors_and_change_nothing() {
    let mut cov = kron();
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e = cov.fix("time/rho", v).map(|_| ()).unwrap_err();
        assert!(matches!(&e, CovError::NotFinite { name, .. } if name == "time/rho"));
        mentions(&e, &["time/rho", "not finite"]);
        let e = cov.set_default("time/rho", v).map(|_| ()).unwrap_err();
        assert!(matches!(e, CovError::NotFinite { .. }));
    }
    // natural values outside the transform's range have no finite free
    // value: out of range, with the range; a NaN is not finite
    for (name, natural) in [
        ("time/rho", 1.0),
        ("time/rho", -1.0),
        ("time/rho", 1.5),
        ("subject/sigma^2", 0.0),
        ("subject/sigma^2", -1.0),
    ] {
        let e = cov.fix_natural(name, natural).map(|_| ()).unwrap_err();
        assert!(
            matches!(&e, CovError::NotInRange { name: n, .. } if n == name),
            "{name} = {natural}: {e:?}"
        );
        mentions(&e, &[name, "out of range"]);
    }
    let e = cov
        .fix_natural("subject/sigma^2", f64::NAN)
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(&e, CovError::NotFinite { .. }), "{e:?}");
    assert_eq!(cov.n_free(), 3);
    assert_eq!(cov.free_defaults(), [0.0, 0.0, 0.0]);
    // and a valid natural value works
    cov.fix_natural("time/rho", 0.5).unwrap();
    let rho: f64 = cov.natural(&[0.0f64, 0.0]).unwrap()[1];
    assert!((rho - 0.5).abs() < 1e-15);
}

#[test]
fn free_from_map_rejects_unknown_fixed_and_missing_names() {
    let mut cov = kron();
    cov.fix("time/rho", 0.3).unwrap();
    let map = |pairs: &[(&str, f64)]| -> HashMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    };

    let ok = cov
        .free_from_map(&map(&[("subject/sigma^2", 0.2), ("time/sigma^2", 0.1)]))
        .unwrap();
    assert_eq!(ok, [0.1, 0.2], "in free-vector order");

    let e = cov
        .free_from_map(&map(&[
            ("time/sigma^2", 0.1),
            ("subject/sigma^2", 0.2),
            ("trait/sigma^2", 0.0),
        ]))
        .unwrap_err();
    assert!(matches!(&e, CovError::UnknownParam { name, .. } if name == "trait/sigma^2"));
    mentions(&e, &["trait/sigma^2", "time/sigma^2, subject/sigma^2"]);

    // a fixed parameter is not a free one
    let e = cov
        .free_from_map(&map(&[
            ("time/sigma^2", 0.1),
            ("subject/sigma^2", 0.2),
            ("time/rho", 0.0),
        ]))
        .unwrap_err();
    assert!(matches!(&e, CovError::FixedParam { name, .. } if name == "time/rho"));

    let e = cov.free_from_map(&map(&[])).unwrap_err();
    assert_eq!(
        e,
        CovError::MissingParams {
            names: "time/sigma^2, subject/sigma^2".into()
        }
    );
    mentions(&e, &["missing", "time/sigma^2, subject/sigma^2"]);
    let e = cov
        .free_from_map(&map(&[("time/sigma^2", 0.1)]))
        .unwrap_err();
    assert_eq!(
        e,
        CovError::MissingParams {
            names: "subject/sigma^2".into()
        }
    );
}

#[test]
fn unknown_operands_are_errors() {
    let e = Covariance::<Kron<AR1, Scalar>>::new((3, 2))
        .unwrap()
        .with_operand_names(&["a", "b", "c"])
        .unwrap_err();
    assert_eq!(
        e,
        CovError::UnknownOperand {
            name: "op_2".into()
        }
    );
    mentions(&e, &["op_2"]);
    let mut cov = kron();
    let e = cov.rename_operand("space", "x").map(|_| ()).unwrap_err();
    assert_eq!(
        e,
        CovError::UnknownOperand {
            name: "space".into()
        }
    );
    cov.rename_operand("time", "t").unwrap();
    assert_eq!(cov.names()[0], "t/sigma^2");
    let mut leaf = Covariance::<AR1>::new(3).unwrap();
    assert!(leaf.rename_operand("op_0", "time").is_err());
    // an operand without parameters is still an operand
    let mut s =
        Covariance::<Sum<(covreml::Fixed, Scalar)>>::new((nalgebra::DMatrix::identity(2, 2), 2))
            .unwrap();
    s.rename_operand("op_0", "A").unwrap();
    assert_eq!(s.names(), ["op_1/sigma^2"]);
    // once renamed, the positional name is gone
    assert!(s.rename_operand("op_0", "B").is_err());
    let mut k = Covariance::<Kron<AR1, Scalar>>::new((3, 2)).unwrap();
    k.rename_operand("op_0", "time").unwrap();
    assert!(k.rename_operand("op_0", "again").is_err());
}

/// A singular operand of `Inverse` never panics and never gives a
/// finite-looking wrong value: value, closed-form and dual Jacobians are
/// errors that name the structure and the parameters.
#[test]
fn a_singular_inverse_is_an_error() {
    let cov = Covariance::<Inverse<LowerTriangular>>::new((2, 2)).unwrap();
    let at = [0.0, 1.0, 0.0]; // L = [0 0; 1 0]: singular
    let e = cov.value(&at).unwrap_err();
    mentions(&e, &["Inverse", "non-finite", "op_0/L_0_0 = 0"]);
    mentions(&cov.jacobian(&at).unwrap_err(), &["Inverse"]);
    mentions(&cov.dual_jacobian(&at).unwrap_err(), &["Inverse"]);
}

/// Names identify parameters (found in review: a repeated label made `fix`
/// act on the first of two parameters and `free_from_map` tie them).
#[test]
fn duplicate_names_are_errors() {
    use covreml::{Label, Named};
    #[derive(Clone, Copy, Default, Debug, Label)]
    struct Time;
    let e = Covariance::<Sum<(Named<AR1, Time>, Named<Scalar, Time>)>>::new((3, 3)).unwrap_err();
    assert_eq!(
        e,
        CovError::DuplicateParam {
            name: "time/sigma^2".into()
        }
    );
    let mut s = Covariance::<Sum<(AR1, Scalar)>>::new((3, 3)).unwrap();
    mentions(
        &s.rename_operand("op_1", "op_0").map(|_| ()).unwrap_err(),
        &["op_0/sigma^2"],
    );
    assert_eq!(s.names(), ["op_0/sigma^2", "op_0/rho", "op_1/sigma^2"]);
    for bad in ["", "x/y", "a b"] {
        let e = s.rename_operand("op_0", bad).map(|_| ()).unwrap_err();
        assert_eq!(e, CovError::InvalidOperandName { name: bad.into() });
    }
}

/// `fix_natural` refuses a value the transform does not reach, instead of
/// fixing the parameter somewhere else (found in review with `Pow(0)`).
#[test]
fn unreachable_natural_values_are_errors() {
    let mut s = Covariance::<Scalar>::new(2).unwrap();
    s.set_transform("sigma^2", covreml::Transform::Pow(0.0))
        .unwrap();
    let e = s.fix_natural("sigma^2", 0.5).map(|_| ()).unwrap_err();
    mentions(&e, &["sigma^2", "0.5", "x^0"]);
    assert_eq!(s.fixed_names(), Vec::<String>::new(), "nothing fixed");
    // a reachable value still works
    s.set_transform("sigma^2", covreml::Transform::ExpPow2)
        .unwrap();
    s.fix_natural("sigma^2", 0.5).unwrap();
    assert!((s.natural(&[] as &[f64]).unwrap()[0] - 0.5).abs() < 1e-15);
}
