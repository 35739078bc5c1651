// Kron<AR1<3>, Scalar<2>> has three parameters (sigma^2, rho, sigma^2): a
// two-element array does not compile.
use covreml::{ops::Kron, Const, Scalar, StaticStructure, AR1};

fn main() {
    let _ = Kron::<AR1<Const<3>>, Scalar<Const<2>>>::value_s([0.5f64, 0.1]);
}
