//! `Structure::diagonal` (the O(n) path for diagonal structures) agrees with
//! the dense value and closed-form Jacobian, and is `None` for structures
//! that are not diagonal by type.

use covreml::ops::{BlockDiag, Kron, Sum};
use covreml::{Covariance, Diagonal, Identity, Scalar, Structure, AR1};
use nalgebra::DMatrix;
use proptest::prelude::*;

fn agrees<S: Structure>(c: &Covariance<S>, free: &[f64]) {
    let (d, dd) = c.diagonal(free).expect("diagonal by type").unwrap();
    let (v, j) = c.value_and_jacobian(free).unwrap();
    let n = v.nrows();
    assert_eq!(d.len(), n);
    let off_diagonal_zero =
        |m: &DMatrix<f64>| (0..n).all(|a| (0..n).all(|b| a == b || m[(a, b)] == 0.0));
    assert!(off_diagonal_zero(&v));
    for i in 0..n {
        assert!((d[i] - v[(i, i)]).abs() <= 1e-14 * v[(i, i)].abs().max(1.0));
    }
    assert_eq!(dd.len(), j.len());
    for (g, m) in dd.iter().zip(&j) {
        assert!(off_diagonal_zero(m));
        for i in 0..n {
            assert!((g[i] - m[(i, i)]).abs() <= 1e-14 * m[(i, i)].abs().max(1.0));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn diagonal_structures_agree_with_the_dense_path(
        x in prop::collection::vec(-3.0f64..3.0, 8),
        n in 1usize..5,
        m in 1usize..4,
    ) {
        agrees(&Covariance::<Scalar>::new(n).unwrap(), &x[..1]);
        agrees(&Covariance::<Identity>::new(n).unwrap(), &[]);
        agrees(&Covariance::<Diagonal>::new(n).unwrap(), &x[..n]);
        agrees(&Covariance::<Kron<Diagonal, Scalar>>::new((n, m)).unwrap(), &x[..n + 1]);
        agrees(&Covariance::<Kron<Identity, Diagonal>>::new((m, n)).unwrap(), &x[..n]);
        agrees(&Covariance::<Sum<(Scalar, Diagonal)>>::new((n, n)).unwrap(), &x[..n + 1]);
        agrees(&Covariance::<BlockDiag<(Scalar, Diagonal)>>::new((m, n)).unwrap(), &x[..n + 1]);
        // fixed parameters drop out of the Jacobian
        let mut c = Covariance::<Sum<(Scalar, Diagonal)>>::new((n, n)).unwrap();
        c.fix("op_0/sigma^2", 0.3).unwrap();
        agrees(&c, &x[..n]);
    }
}

#[test]
fn non_diagonal_structures_say_so() {
    assert!(Covariance::<AR1>::new(3)
        .unwrap()
        .diagonal(&[0.0, 0.0])
        .is_none());
    assert!(Covariance::<Kron<Diagonal, AR1>>::new((2, 3))
        .unwrap()
        .diagonal(&[0.0; 4])
        .is_none());
    // wrong length is still an error, not a panic
    let e = Covariance::<Scalar>::new(3).unwrap().diagonal(&[0.0, 1.0]);
    assert!(matches!(
        e,
        Some(Err(covreml::CovError::WrongParamCount { .. }))
    ));
}
