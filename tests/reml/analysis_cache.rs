//! A model's sparse analysis is made once (issue 18): fitting, evaluating,
//! post-estimation, the full PEV matrix, formula predictions and
//! Satterthwaite tests after a fit do no new symbolic analysis; a structure
//! whose sparse inverse changes its pattern is an error, not values
//! written to the wrong places; PEVs from the selected inverse equal the
//! full matrix's entries (issue 20, item 8).

use covreml::data::{Incidence, Table};
use covreml::datasets::{john_alpha, john_alpha_model};
use covreml::formula::FormulaModel;
use covreml::inference::satterthwaite;
use covreml::reml::{Backend, MixedModel, RemlError, RemlOptions};
use covreml::structure::Diagonals;
use covreml::{
    CovError, Covariance, CovarianceModel, JacobianMethod, Scalar, SparseInverse, Transform,
};
use nalgebra::DMatrix;

#[test]
fn a_fitted_model_is_analysed_once() {
    let m = john_alpha_model(&john_alpha()).unwrap();
    assert_eq!(m.sparse_analyses(), 0);
    let fit = m.fit(&RemlOptions::default()).unwrap();
    assert!(fit.backend.starts_with("sparse"), "{}", fit.backend);
    assert_eq!(m.sparse_analyses(), 1);
    m.fit(&RemlOptions::default()).unwrap();
    m.post(&fit).unwrap();
    m.post_at(&fit.free, Backend::Sparse).unwrap();
    m.evaluate(&fit.free, &RemlOptions::default()).unwrap();
    m.loglik(&fit.free).unwrap();
    m.pev_matrix(&fit, "gen").unwrap();
    let l = DMatrix::from_row_slice(1, 3, &[0.0, 1.0, 0.0]);
    satterthwaite(&m, &fit, &l).unwrap();
    assert_eq!(m.sparse_analyses(), 1, "post-estimation analysed again");
    // The dense backend makes no analysis.
    m.post_at(&fit.free, Backend::Dense).unwrap();
    assert_eq!(m.sparse_analyses(), 1);
}

#[test]
fn formula_predictions_reuse_the_analysis() {
    let m = FormulaModel::new("yield ~ rep + (1|gen) + (1|rep:block)", &john_alpha()).unwrap();
    let fit = m.fit(&RemlOptions::default()).unwrap();
    assert_eq!(m.mixed().sparse_analyses(), 1);
    let new = Table::parse("rep,gen,block\nR1,G01,B1\nR2,new,B9\n").unwrap();
    let p = m.predict(&fit, &new).unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(m.mixed().sparse_analyses(), 1);
}

#[test]
fn pev_entries_match_the_full_matrix() {
    let m = john_alpha_model(&john_alpha()).unwrap();
    let fit = m.fit(&RemlOptions::default().tolerance(1e-10)).unwrap();
    let post = m.post(&fit).unwrap();
    for b in &post.blups {
        let full = m.pev_matrix(&fit, &b.term).unwrap();
        let dense = m.post_at(&fit.free, Backend::Dense).unwrap();
        let d = dense.blup(&b.term).unwrap();
        let scale = full.diagonal().max();
        assert_eq!(b.pev.len(), full.nrows());
        for (i, j, v) in b.pev.entries() {
            assert!((v - full[(i, j)]).abs() < 1e-10 * scale, "({i}, {j})");
            assert!((v - d.pev.get(i, j).unwrap()).abs() < 1e-9 * scale);
        }
        assert!((b.pev.sum() - full.sum()).abs() < 1e-9 * scale * full.nrows() as f64);
        // the mean variance of a difference, from the trace and the sum
        let q = full.nrows();
        let mut s = 0.0;
        for a in 0..q {
            for c in a + 1..q {
                s += full[(a, a)] + full[(c, c)] - 2.0 * full[(a, c)];
            }
        }
        let mvd = s / (q * (q - 1) / 2) as f64;
        assert!((b.mean_variance_of_difference() - mvd).abs() < 1e-9 * mvd);
        for (se, k) in b.standard_errors().iter().zip(0..q) {
            assert!((se - full[(k, k)].sqrt()).abs() < 1e-10 * se);
        }
    }
    let e = m.pev_matrix(&fit, "nope").unwrap_err();
    assert!(matches!(e, RemlError::UnknownName { .. }), "{e}");
}

/// `σ² I` whose sparse inverse gains an explicit zero at (1, 0) away from
/// its default: a pattern that depends on θ, which the trait forbids.
struct Shifty(Covariance<Scalar>);

impl CovarianceModel for Shifty {
    fn dims(&self) -> (usize, usize) {
        self.0.dims()
    }
    fn n_free(&self) -> usize {
        self.0.n_free()
    }
    fn free_names(&self) -> Vec<String> {
        self.0.free_names()
    }
    fn free_defaults(&self) -> Vec<f64> {
        self.0.free_defaults()
    }
    fn free_transforms(&self) -> Vec<Transform> {
        self.0.free_transforms()
    }
    fn value_f64(&self, free: &[f64]) -> Result<DMatrix<f64>, CovError> {
        self.0.value(free)
    }
    fn value_and_jacobian_f64(
        &self,
        free: &[f64],
        method: JacobianMethod,
    ) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), CovError> {
        CovarianceModel::value_and_jacobian_f64(&self.0, free, method)
    }
    fn diagonal_f64(&self, _free: &[f64]) -> Option<Result<Diagonals<f64>, CovError>> {
        None
    }
    fn sparse_inverse_f64(&self, free: &[f64]) -> Option<Result<SparseInverse<f64>, CovError>> {
        let mut s = self.0.sparse_inverse(free)?.ok()?;
        if free[0] != 0.0 {
            s.row_idx.insert(1, 1);
            s.values.insert(1, 0.0);
            s.jacobian.iter_mut().for_each(|d| d.insert(1, 0.0));
            s.col_ptr[1..].iter_mut().for_each(|c| *c += 1);
        }
        Some(Ok(s))
    }
}

#[test]
fn a_pattern_that_changes_is_an_error() {
    let n = 40;
    let levels: Vec<usize> = (0..n).map(|i| i % 8).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| ((i * 7919) % 13) as f64 + (i % 8) as f64)
        .collect();
    let x = DMatrix::from_element(n, 1, 1.0);
    let m = MixedModel::with_iid_residual(&y, &x)
        .unwrap()
        .random(
            "g",
            Incidence::new(levels, 8).unwrap(),
            Box::new(Shifty(Covariance::<Scalar>::new(8).unwrap())),
        )
        .unwrap();
    let opts = RemlOptions::default().backend(Backend::Sparse);
    assert!(m.loglik(&[0.0, 0.0]).is_ok());
    let e = m.loglik(&[0.3, 0.0]).unwrap_err();
    assert!(e.to_string().contains("changed its pattern"), "{e}");
    assert!(e.to_string().contains("`g`"), "{e}");
    assert!(m.fit(&opts).is_err());
    // The dense backend does not use the sparse inverse.
    assert!(m.fit(&opts.clone().backend(Backend::Dense)).is_ok());
}

#[test]
fn dual_numbers_are_not_ignored_by_the_sparse_backend() {
    let m = john_alpha_model(&john_alpha()).unwrap();
    let dual = RemlOptions::default().jacobian(JacobianMethod::DualNumbers);
    let e = m.fit(&dual.clone().backend(Backend::Sparse)).unwrap_err();
    assert!(matches!(e, RemlError::BackendUnavailable { .. }), "{e}");
    assert!(e.to_string().contains("DualNumbers"), "{e}");
    // Auto takes the dense backend, which honours them.
    let fit = m.fit(&dual).unwrap();
    assert!(fit.backend.starts_with("dense"), "{}", fit.backend);
    let closed = m.fit(&RemlOptions::default()).unwrap();
    assert!((fit.loglik - closed.loglik).abs() < 1e-8);
}

#[test]
fn a_model_with_its_kept_analysis_is_still_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let m = john_alpha_model(&john_alpha()).unwrap();
    m.fit(&RemlOptions::default()).unwrap();
    send_sync(&m);
    // Two threads fitting one model: each gets an analysis, the numbers agree.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| m.fit(&RemlOptions::default()).unwrap());
        let b = s.spawn(|| m.fit(&RemlOptions::default()).unwrap());
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(a.natural, b.natural);
    assert!(m.sparse_analyses() <= 2);
}
