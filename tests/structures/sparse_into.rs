//! `sparse_inverse_into`: the numbers of a sparse inverse written into the
//! pattern fixed at a model's analysis equal those of a fresh
//! `sparse_inverse`, bit for bit, for the structures that write in place
//! (`Kron`, `Scalar`, `Identity`, `Named`) and for those that build and
//! move (the default); a pattern that is not the structure's is refused.

use covreml::{
    Covariance, CovarianceModel, Diagonal, Identity, Kron, Scalar, SparseInverse, Structure,
    Unconstrained, AR1,
};

/// Writes at `free` into the inverse made at `start` and compares with a
/// fresh one at `free`.
fn same<S: Structure>(c: &Covariance<S>, start: &[f64], free: &[f64]) {
    let mut kept = c.sparse_inverse(start).unwrap().unwrap();
    let fresh = c.sparse_inverse(free).unwrap().unwrap();
    assert!(c.sparse_inverse_into(free, &mut kept).unwrap().unwrap());
    assert_eq!(kept, fresh, "{}", S::NAME);
    // The same through the object-safe face.
    let mut kept = c.sparse_inverse(start).unwrap().unwrap();
    let model: &dyn CovarianceModel = c;
    assert!(model
        .sparse_inverse_into_f64(free, &mut kept)
        .unwrap()
        .unwrap());
    assert_eq!(kept, fresh, "{} (dyn)", S::NAME);
}

#[test]
fn written_in_place_equals_a_fresh_inverse() {
    let mut checked = 0;
    for &(a, b, c) in &[(0.3, -0.2, 0.7), (-1.1, 0.4, 0.0), (2.0, 1.5, -0.6)] {
        same(&Covariance::<Scalar>::new(7).unwrap(), &[0.0], &[a]);
        same(&Covariance::<Identity>::new(5).unwrap(), &[], &[]);
        same(
            &Covariance::<Diagonal>::new(3).unwrap(),
            &[0.0; 3],
            &[a, b, c],
        );
        same(&Covariance::<AR1>::new(6).unwrap(), &[0.0, 0.0], &[a, b]);
        let slopes = Covariance::<Kron<Unconstrained, Identity>>::new((2, 9)).unwrap();
        let x0 = slopes.free_defaults();
        same(&slopes, &x0, &[a.exp(), b, c.exp()]);
        let ks = Covariance::<Kron<Scalar, AR1>>::new((1, 4)).unwrap();
        same(&ks, &[0.0, 0.0, 0.0], &[a, b, c]);
        let kk = Covariance::<Kron<AR1, Scalar>>::new((3, 4)).unwrap();
        same(&kk, &[0.0, 0.0, 0.0], &[a, b, c]);
        checked += 7;
    }
    assert_eq!(checked, 21);
}

#[test]
fn a_pattern_that_is_not_the_structures_is_refused() {
    // A diagonal pattern for a Kron whose inverse has off-diagonal entries.
    let slopes = Covariance::<Kron<Unconstrained, Identity>>::new((2, 3)).unwrap();
    let x0 = slopes.free_defaults();
    let mut diag = SparseInverse::from_diagonal(&[1.0; 6], &vec![vec![0.0; 6]; 3]);
    assert!(!slopes.sparse_inverse_into(&x0, &mut diag).unwrap().unwrap());
    // The right order but one entry missing.
    let mut short = slopes.sparse_inverse(&x0).unwrap().unwrap();
    short.row_idx.remove(1);
    short.values.remove(1);
    short.jacobian.iter_mut().for_each(|d| {
        d.remove(1);
    });
    short.col_ptr[1..].iter_mut().for_each(|c| *c -= 1);
    assert!(!slopes
        .sparse_inverse_into(&x0, &mut short)
        .unwrap()
        .unwrap());
    // Scalar into a pattern of another order.
    let s = Covariance::<Scalar>::new(4).unwrap();
    let mut other = Covariance::<Scalar>::new(5)
        .unwrap()
        .sparse_inverse(&[0.0])
        .unwrap()
        .unwrap();
    assert!(!s.sparse_inverse_into(&[0.0], &mut other).unwrap().unwrap());
    // A wrong number of free parameters is an error, not a write.
    assert!(s
        .sparse_inverse_into(&[0.0, 1.0], &mut other)
        .unwrap()
        .is_err());
}
