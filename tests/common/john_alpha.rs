//! The john.alpha mixed model for the REML tests: `yield ~ rep`, random
//! `gen` and `rep:block` (scaled identity each), with the residual and the
//! form of `Z` (incidence or dense) chosen by the test.

use covreml::data::{dummy, DummyOptions, Incidence, ModelMatrix};
use covreml::datasets::john_alpha;
use covreml::reml::MixedModel;
use covreml::{Covariance, CovarianceModel, Scalar};

/// The model with residual `residual`; `dense_z` gives the random terms
/// dense design matrices instead of incidence designs.
pub fn model(residual: Box<dyn CovarianceModel>, dense_z: bool) -> MixedModel {
    let t = john_alpha();
    let rep = t.column("rep").unwrap();
    let treatment = DummyOptions {
        drop_first: true,
        drop_empty: false,
    };
    let x = ModelMatrix::new(t.n_rows())
        .intercept()
        .dummy(dummy(&[rep], treatment).unwrap())
        .unwrap()
        .matrix();
    let zg = Incidence::from_columns(&[t.column("gen").unwrap()]).unwrap();
    let zb = Incidence::from_columns(&[rep, t.column("block").unwrap()]).unwrap();
    assert_eq!((zg.n_levels(), zb.n_levels()), (24, 18));
    let scalar = |q| Box::new(Covariance::<Scalar>::new(q).unwrap());
    let m = MixedModel::new(&t.numeric("yield").unwrap(), &x, residual).unwrap();
    let m = if dense_z {
        m.random("gen", zg.to_dense(), scalar(24))
            .and_then(|m| m.random("rep:block", zb.to_dense(), scalar(18)))
    } else {
        m.random("gen", zg, scalar(24))
            .and_then(|m| m.random("rep:block", zb, scalar(18)))
    };
    m.unwrap()
}
