//! A user structure or model whose outputs disagree with the sizes it
//! declares is an error naming it, never a panic (found in review: a
//! `Custom` value of the wrong size panicked inside the estimator).

use covreml::data::Incidence;
use covreml::ops::{BlockDiag, Hadamard, Kron, Product, Sum};
use covreml::reml::{MixedModel, RemlError, RemlOptions};
use covreml::{
    CovError, Covariance, CovarianceModel, Custom, JacobianMethod, Real, Scalar, Transform,
};
use nalgebra::DMatrix;

/// Declares `n × n` but returns `(n − 1) × (n − 1)`.
#[derive(Clone, Copy, Default, Debug, covreml::Structure)]
#[params("sigma^2")]
#[transforms(Transform::ExpPow2)]
struct Shrunk;

impl Custom for Shrunk {
    type Shape = usize;
    fn dims(n: &usize) -> (usize, usize) {
        (*n, *n)
    }
    fn value<T: Real>(n: &usize, theta: &[T]) -> DMatrix<T> {
        DMatrix::from_diagonal_element(n - 1, n - 1, theta[0])
    }
}

#[test]
fn a_structure_of_the_wrong_size_is_an_error() {
    let c = Covariance::<Shrunk>::new(4).unwrap();
    for e in [
        c.value(&[0.0]).unwrap_err(),
        c.dual_jacobian(&[0.0]).unwrap_err(),
        c.value_and_jacobian_with(&[0.0], JacobianMethod::ClosedForm)
            .unwrap_err(),
    ] {
        let msg = e.to_string();
        assert!(
            msg.contains("Shrunk") && msg.contains("declared size"),
            "{msg}"
        );
    }
}

#[test]
fn a_structure_of_the_wrong_size_inside_operators_is_an_error_not_a_panic() {
    let free = [0.0, 0.0];
    let sum = Covariance::<Sum<(Shrunk, Scalar)>>::new((4, 4)).unwrap();
    assert!(sum
        .value(&free)
        .unwrap_err()
        .to_string()
        .contains("declared size"));
    assert!(sum.dual_jacobian(&free).is_err());
    let product = Covariance::<Product<Shrunk, Scalar>>::new((4, 4)).unwrap();
    assert!(product.value(&free).is_err());
    let hadamard = Covariance::<Hadamard<Shrunk, Scalar>>::new((4, 4)).unwrap();
    assert!(hadamard
        .value_and_jacobian_with(&free, JacobianMethod::ClosedForm)
        .is_err());
    let kron = Covariance::<Kron<Shrunk, Scalar>>::new((4, 2)).unwrap();
    assert!(kron.value(&free).is_err());
    let blocks = Covariance::<BlockDiag<(Shrunk, Scalar)>>::new((4, 2)).unwrap();
    assert!(blocks.value(&free).is_err());
}

#[test]
fn a_random_term_of_the_wrong_size_fails_the_fit_cleanly() {
    let y = [1.0, 2.0, 3.5, 2.1, 1.1, 2.9, 3.9, 1.9];
    let z = Incidence::new(vec![0, 0, 1, 1, 2, 2, 3, 3], 4).unwrap();
    let m = MixedModel::with_iid_residual(&y, DMatrix::from_element(8, 1, 1.0))
        .unwrap()
        .random("g", z, Box::new(Covariance::<Shrunk>::new(4).unwrap()))
        .unwrap();
    let e = m.fit(&RemlOptions::default()).unwrap_err();
    assert!(matches!(e, RemlError::StructureFailed { .. }), "{e}");
}

/// A hand-written model whose name list is one short.
struct Inconsistent;

impl CovarianceModel for Inconsistent {
    fn dims(&self) -> (usize, usize) {
        (8, 8)
    }
    fn n_free(&self) -> usize {
        2
    }
    fn free_names(&self) -> Vec<String> {
        vec!["a".into()]
    }
    fn free_defaults(&self) -> Vec<f64> {
        vec![0.0; 2]
    }
    fn free_transforms(&self) -> Vec<Transform> {
        vec![Transform::Identity; 2]
    }
    fn value_f64(&self, _: &[f64]) -> Result<DMatrix<f64>, CovError> {
        Ok(DMatrix::identity(8, 8))
    }
    fn value_and_jacobian_f64(
        &self,
        _: &[f64],
        _: JacobianMethod,
    ) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), CovError> {
        Ok((DMatrix::identity(8, 8), vec![DMatrix::identity(8, 8)]))
    }
}

#[test]
fn an_inconsistent_model_is_refused_when_the_model_is_built() {
    let y = [1.0, 2.0, 3.5, 2.1, 1.1, 2.9, 3.9, 1.9];
    let x = DMatrix::from_element(8, 1, 1.0);
    let e = MixedModel::new(&y, &x, Box::new(Inconsistent)).unwrap_err();
    assert!(e.to_string().contains("1 names"), "{e}");
    // a consistent residual still works
    assert!(MixedModel::new(&y, &x, Box::new(Covariance::<Scalar>::new(8).unwrap())).is_ok());
}
