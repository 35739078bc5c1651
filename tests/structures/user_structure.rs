//! A user structure in a downstream crate: the derives expand to paths that
//! work outside covreml (formerly a trybuild pass test; every integration
//! test is a downstream crate).

use covreml::{Covariance, Custom, Label, Real, Structure, Transform};
use nalgebra::DMatrix;

#[derive(Clone, Copy, Default, Debug, Structure)]
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

#[derive(Clone, Copy, Default, Debug, Label)]
#[label("time")]
struct Time;

#[test]
fn derives_and_custom_work_in_a_downstream_crate() {
    let c = Covariance::<MyAr1>::new(3).unwrap();
    assert_eq!(c.value(&[0.0, 0.0]).unwrap(), DMatrix::identity(3, 3));
    assert_eq!(
        <MyAr1 as Structure>::value_static(&2, [0.0f32, 0.0]),
        DMatrix::identity(2, 2)
    );
    assert_eq!(<Time as Label>::NAME, "time");
}
