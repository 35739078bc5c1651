//! A diagonal residual structure (here heterogeneous residual variances per
//! replicate on john.alpha, `R = Diagonal(3) ⊗ I₂₄`) is handled in `O(n)`
//! through `Structure::diagonal`. The fit must equal the one that treats the
//! same `R` as a dense matrix (the structure wrapped in a `Sum` with a zero
//! data matrix, which is not diagonal by type), and the one with dual-number
//! Jacobians.

use covreml::ops::{Kron, Sum};
use covreml::reml::{MixedModel, RemlFit, RemlOptions, Termination};
use covreml::{Covariance, CovarianceModel, Diagonal, Fixed, Identity, JacobianMethod};
use nalgebra::DMatrix;

fn model(residual: Box<dyn CovarianceModel>) -> MixedModel {
    crate::common::john_alpha::model(residual, false)
}

fn tight() -> RemlOptions {
    RemlOptions::default().tolerance(1e-10)
}

fn assert_same(a: &RemlFit, b: &RemlFit) {
    assert_eq!(a.termination, Termination::Converged);
    assert_eq!(b.termination, Termination::Converged);
    assert_eq!(a.names.len(), b.names.len());
    for i in 0..a.natural.len() {
        let rel = ((a.natural[i] - b.natural[i]) / b.natural[i]).abs();
        assert!(
            rel < 1e-7,
            "{}: {} vs {}",
            a.names[i],
            a.natural[i],
            b.natural[i]
        );
        let rel = ((a.natural_se[i] - b.natural_se[i]) / b.natural_se[i]).abs();
        assert!(rel < 1e-6, "SE of {}", a.names[i]);
    }
    assert!((a.loglik - b.loglik).abs() < 1e-9);
}

#[test]
fn diagonal_residual_equals_the_dense_path() {
    let diag = Covariance::<Kron<Diagonal, Identity>>::new((3, 24))
        .unwrap()
        .with_operand_names(&["rep", "plot"])
        .unwrap();
    assert!(diag.diagonal(&[0.0; 3]).is_some(), "R is diagonal by type");
    let dense = Covariance::<Sum<(Kron<Diagonal, Identity>, Fixed)>>::new((
        (3, 24),
        DMatrix::zeros(72, 72),
    ))
    .unwrap();
    assert!(
        dense.diagonal(&[0.0; 3]).is_none(),
        "a Sum with data is dense"
    );

    let fast = model(Box::new(diag.clone())).fit(&tight()).unwrap();
    let slow = model(Box::new(dense)).fit(&tight()).unwrap();
    assert_same(&fast, &slow);
    assert_eq!(
        fast.names[2..],
        [
            "residual/rep/sigma^2_0",
            "residual/rep/sigma^2_1",
            "residual/rep/sigma^2_2"
        ]
    );
    // heterogeneous variances really differ between replicates
    assert!((fast.natural[2] - fast.natural[4]).abs() > 1e-3);

    let dual = model(Box::new(diag))
        .fit(&tight().jacobian(JacobianMethod::DualNumbers))
        .unwrap();
    assert_same(&fast, &dual);
}
