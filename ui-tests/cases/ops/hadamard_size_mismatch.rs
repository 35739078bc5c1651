// The elementwise product needs operands of equal size.
use covreml::{Const, Covariance, Equicorrelation, Hadamard, AR1};

fn main() {
    let _ = Covariance::<Hadamard<AR1<Const<2>>, Equicorrelation<Const<5>>>>::new(((), ()));
}
