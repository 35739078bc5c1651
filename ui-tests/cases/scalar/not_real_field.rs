// Integers are not real scalars.
use covreml::{Covariance, AR1};

fn main() {
    let ar1 = Covariance::<AR1>::new(3).unwrap();
    let _ = ar1.value_in(&[1i32, 2]);
}
