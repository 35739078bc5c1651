// A 3 × 3 and a 4 × 4 structure cannot be added.
use covreml::{Const, Covariance, Scalar, Sum, AR1};

fn main() {
    let _ = Covariance::<Sum<(AR1<Const<3>>, Scalar<Const<4>>)>>::new(((), ()));
}
