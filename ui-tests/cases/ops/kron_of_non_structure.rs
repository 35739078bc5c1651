// Operands of an operator must be structures.
use covreml::{Covariance, Kron, AR1};

fn main() {
    let _ = Covariance::<Kron<AR1, f64>>::new((3, 2));
}
