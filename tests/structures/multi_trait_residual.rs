//! The multi-trait residual structures: the closed-form Jacobian against
//! dual numbers, and the sparse inverse (one inverse per missing pattern,
//! scattered onto the records) against the dense inverse of the value, with
//! `∂R⁻¹/∂x = −R⁻¹ Ṙ R⁻¹` and `log|R|`, on three traits with every missing
//! pattern.

use crate::common::{assert_close_scaled, assert_closed_form_matches_dual};
use covreml::multi_trait::{TraitDiagonal, TraitRecords, TraitUnstructured};
use covreml::{Covariance, Structure};
use nalgebra::DMatrix;

fn records() -> TraitRecords {
    let masks: Vec<Vec<bool>> = (1..8u8)
        .chain([7, 3, 5, 1])
        .map(|m| (0..3).map(|k| m & (1 << k) != 0).collect())
        .collect();
    TraitRecords::new(3, &masks).unwrap()
}

fn check_inverse<S: Structure<Shape = TraitRecords>>(c: &Covariance<S>, free: &[f64], what: &str) {
    let (v, dv) = c.value_and_jacobian(free).unwrap();
    let inv = c.sparse_inverse(free).unwrap().unwrap();
    let dense = v.clone().try_inverse().unwrap();
    assert_close_scaled(&inv.to_dense(), &dense, 1e-12, 0.0, &format!("{what}: R⁻¹"));
    let logdet = v
        .clone()
        .cholesky()
        .unwrap()
        .l()
        .diagonal()
        .iter()
        .map(|l| 2.0 * l.ln())
        .sum::<f64>();
    assert!((inv.logdet - logdet).abs() < 1e-12, "{what}: log|R|");
    for (k, d) in dv.iter().enumerate() {
        let want: DMatrix<f64> = -(&dense * d * &dense);
        assert_close_scaled(
            &inv.jacobian_dense(k),
            &want,
            1e-12,
            0.0,
            &format!("{what}: ∂R⁻¹/∂x_{k}"),
        );
        let tr = (&dense * d).trace();
        assert!(
            (inv.logdet_jacobian[k] - tr).abs() < 1e-12,
            "{what}: ∂log|R|/∂x_{k}"
        );
    }
}

#[test]
fn unstructured_trait_residual_jacobian_and_sparse_inverse() {
    let s = records();
    assert_eq!(s.patterns().len(), 7);
    let c = Covariance::<TraitUnstructured>::new(s).unwrap();
    // R0 = [[e^0.4, .3, -.2], [.3, e^0.2, .1], [-.2, .1, e^-0.2]]
    let free = [0.2, 0.3, 0.1, -0.2, 0.1, -0.1];
    assert_closed_form_matches_dual(&c, &free, 1e-13, "TraitUnstructured");
    check_inverse(&c, &free, "TraitUnstructured");
}

#[test]
fn diagonal_trait_residual_jacobian_and_sparse_inverse() {
    let c = Covariance::<TraitDiagonal>::new(records()).unwrap();
    let free = [0.2, -0.3, 0.1];
    assert_closed_form_matches_dual(&c, &free, 1e-13, "TraitDiagonal");
    check_inverse(&c, &free, "TraitDiagonal");
}

#[test]
fn trait_records_refuse_bad_masks() {
    assert!(TraitRecords::new(2, &[vec![false, false]]).is_err());
    assert!(TraitRecords::new(2, &[vec![true]]).is_err());
    assert!(TraitRecords::new(0, &[]).is_err());
}
