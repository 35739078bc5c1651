//! The derives: user structures through `#[derive(Structure)]`, parameter
//! tables, labels, and the tables of the built-in leaves.

use covreml::{
    CompoundSymmetric, Covariance, Custom, EqualEntry, Equicorrelation, JacobianMethod, Kron,
    Label, Named, ParamTable, Real, Scalar, Structure, Transform, AR1,
};
use nalgebra::{Const, DMatrix, Dyn};
use num_dual::Dual64;
use std::marker::PhantomData;

/// AR(1) written by a user, without a closed form.
#[derive(Clone, Copy, Default, Debug, covreml::Structure)]
#[params("sigma^2", "rho")]
#[transforms(Transform::ExpPow2, Transform::correlation(-1.0, 1.0))]
#[defaults(0.0, 0.0)]
struct MyAr1;

impl Custom for MyAr1 {
    type Shape = usize;
    fn dims(n: &usize) -> (usize, usize) {
        (*n, *n)
    }
    fn value<T: Real>(n: &usize, theta: &[T]) -> DMatrix<T> {
        DMatrix::from_fn(*n, *n, |i, j| {
            theta[0] * theta[1].powi(i.abs_diff(j) as i32)
        })
    }
}

/// The same with a closed form.
#[derive(Clone, Copy, Default, Debug, covreml::Structure)]
#[params("sigma^2", "rho")]
#[transforms(Transform::ExpPow2, Transform::correlation(-1.0, 1.0))]
struct MyAr1Closed;

impl Custom for MyAr1Closed {
    type Shape = usize;
    fn check_shape(n: &usize) -> Result<(), covreml::CovError> {
        if *n == 0 {
            Err(covreml::CovError::InvalidShape {
                structure: "MyAr1Closed",
                reason: "needs n > 0".into(),
            })
        } else {
            Ok(())
        }
    }
    fn dims(n: &usize) -> (usize, usize) {
        (*n, *n)
    }
    fn value<T: Real>(n: &usize, theta: &[T]) -> DMatrix<T> {
        <MyAr1 as Custom>::value(n, theta)
    }
    fn jacobian<T: Real>(n: &usize, theta: &[T]) -> Option<Vec<DMatrix<T>>> {
        let (s2, rho) = (theta[0], theta[1]);
        let d_s2 = DMatrix::from_fn(*n, *n, |i, j| rho.powi(i.abs_diff(j) as i32));
        let d_rho = DMatrix::from_fn(*n, *n, |i, j| match i.abs_diff(j) {
            0 => T::zero(),
            k => s2 * T::c(k as f64) * rho.powi(k as i32 - 1),
        });
        Some(vec![d_s2, d_rho])
    }
}

/// A generic user structure: its size is a type parameter.
#[derive(Clone, Copy, Default, Debug, covreml::Structure)]
#[params("tau")]
#[transforms(Transform::Exp)]
#[defaults(DEFAULT_LOG_TAU)]
struct Sized_<N>(PhantomData<N>);

/// A size marker for `Sized_`.
#[derive(Clone, Copy, Default, Debug)]
struct Two;

const DEFAULT_LOG_TAU: f64 = 0.25;

impl Custom for Sized_<Two> {
    type Shape = ();
    fn dims(_: &()) -> (usize, usize) {
        (2, 2)
    }
    fn value<T: Real>(_: &(), theta: &[T]) -> DMatrix<T> {
        DMatrix::from_diagonal_element(2, 2, theta[0])
    }
}

#[test]
fn names_and_types() {
    assert_eq!(MyAr1::PARAM_NAMES, ["sigma^2", "rho"]);
    assert_eq!(<MyAr1 as Structure>::NAME, "MyAr1");
    let _: <MyAr1 as Structure>::NParams = Const::<2>;
    let _: <MyAr1 as Structure>::Rows = Dyn(0);
    let _: <MyAr1 as Structure>::Cols = Dyn(0);
    let c = Covariance::<MyAr1>::new(4).unwrap();
    assert_eq!(c.names(), ["sigma^2", "rho"]);
    assert_eq!(c.free_defaults(), [0.0, 0.0]);
    assert_eq!(
        c.free_transforms(),
        [Transform::ExpPow2, Transform::correlation(-1.0, 1.0)]
    );
    assert_eq!(c.dims(), (4, 4));
}

#[test]
fn matches_the_built_in_ar1() {
    let mine = Covariance::<MyAr1>::new(5).unwrap();
    let ar1 = Covariance::<AR1>::new(5).unwrap();
    let x = [0.3, -0.7];
    let (a, b) = (mine.value(&x).unwrap(), ar1.value(&x).unwrap());
    assert!((a - b).abs().max() < 1e-15);
    assert_eq!(mine.specs(), ar1.specs());
}

#[test]
fn evaluates_over_f32_f64_and_duals() {
    let c = Covariance::<MyAr1>::new(3).unwrap();
    let v64 = c.value(&[0.5, 0.0]).unwrap(); // σ² = e, ρ = 0
    assert_eq!(v64[(0, 0)], std::f64::consts::E);
    assert_eq!(v64[(0, 1)], 0.0);
    let v32 = c.value_in(&[0.5f32, 0.0]).unwrap();
    assert!((v32[(1, 1)] - std::f32::consts::E).abs() < 1e-6);
    // d/dx of σ² = e^{2x} along the first parameter
    let vd = c
        .value_in(&[Dual64::new(0.5, 1.0), Dual64::new(0.0, 0.0)])
        .unwrap();
    assert_eq!(vd[(2, 2)].re, std::f64::consts::E);
    assert!((vd[(2, 2)].eps - 2.0 * std::f64::consts::E).abs() < 1e-15);
    // the fixed-length array form
    let vs = <MyAr1>::value_static(&3, [0.5f64, 0.0]);
    assert_eq!(vs, v64);
}

#[test]
fn dual_jacobian_without_closed_form() {
    let c = Covariance::<MyAr1>::new(4).unwrap();
    let ar1 = Covariance::<AR1>::new(4).unwrap();
    let x = [0.2, 0.9];
    assert!(matches!(
        c.jacobian(&x),
        Err(covreml::CovError::NoClosedForm { structure: "MyAr1" })
    ));
    let dual = c.dual_jacobian(&x).unwrap();
    let closed = ar1.jacobian(&x).unwrap();
    for (d, e) in dual.iter().zip(&closed) {
        assert!((d - e).abs().max() < 1e-14);
    }
    let (_, fallback) = c
        .value_and_jacobian_with(&x, JacobianMethod::ClosedForm)
        .unwrap();
    assert_eq!(fallback, dual);
}

#[test]
fn closed_form_matches_dual() {
    let c = Covariance::<MyAr1Closed>::new(5).unwrap();
    for x in [[0.0, 0.0], [0.4, -1.3], [-0.2, 2.0]] {
        let check = c.check_gradients(&x).unwrap();
        assert!(check.passes(1e-13, 1e-13), "{check}");
    }
    assert!(Covariance::<MyAr1Closed>::new(0).is_err());
}

#[test]
fn generic_user_structure() {
    assert_eq!(<Sized_<Two>>::PARAM_NAMES, ["tau"]);
    let c = Covariance::<Sized_<Two>>::new(()).unwrap();
    assert_eq!(c.free_defaults(), [DEFAULT_LOG_TAU]);
    let v = c.value(&[0.0]).unwrap();
    assert_eq!(v, DMatrix::identity(2, 2));
    assert_eq!(<Sized_<Two> as Structure>::NAME, "Sized_");
}

#[test]
fn built_in_tables() {
    assert_eq!(<Scalar>::PARAM_NAMES, ["sigma^2"]);
    assert_eq!(<EqualEntry>::PARAM_NAMES, ["sigma^2"]);
    assert_eq!(<Equicorrelation>::PARAM_NAMES, ["rho"]);
    assert_eq!(<CompoundSymmetric>::PARAM_NAMES, ["sigma^2", "rho"]);
    assert_eq!(<AR1>::PARAM_NAMES, ["sigma^2", "rho"]);
    assert_eq!(<AR1<Const<3>>>::PARAM_NAMES, ["sigma^2", "rho"]);
    // the names the runtime layer reports come from the tables
    assert_eq!(
        Covariance::<CompoundSymmetric>::new(3).unwrap().names(),
        <CompoundSymmetric>::PARAM_NAMES
    );
    assert_eq!(
        Covariance::<EqualEntry>::new((2, 3)).unwrap().names(),
        <EqualEntry>::PARAM_NAMES
    );
    assert_eq!(
        Covariance::<Equicorrelation>::new(3).unwrap().names(),
        <Equicorrelation>::PARAM_NAMES
    );
    // counts are types
    let _: <AR1 as ParamTable>::Count = Const::<2>;
    let _: <Scalar as Structure>::NParams = Const::<1>;
}

#[derive(Clone, Copy, Default, Debug, Label)]
#[label("time")]
struct Time;

#[derive(Clone, Copy, Default, Debug, Label)]
struct Subject;

#[derive(Clone, Copy, Default, Debug, Label)]
struct Tagged<T>(PhantomData<T>);

#[derive(ParamTable)]
#[params("a", "b", "c")]
struct Three;

#[test]
fn labels_and_tables() {
    assert_eq!(Time::NAME, "time");
    assert_eq!(Subject::NAME, "subject");
    assert_eq!(<Tagged<u8>>::NAME, "tagged");
    // labels name operands
    let k = Covariance::<Kron<Named<AR1, Time>, Named<Scalar, Subject>>>::new((2, 3)).unwrap();
    assert_eq!(k.names(), ["time/sigma^2", "time/rho", "subject/sigma^2"]);
    assert_eq!(Three::PARAM_NAMES, ["a", "b", "c"]);
    let _: <Three as ParamTable>::Count = Const::<3>;
}
