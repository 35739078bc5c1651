// `Z G Zᵀ` needs as many columns in Z as G has rows: 3 ≠ 2.
use covreml::{Const, Covariance, EqualEntry, Propagate, Unconstrained};

fn main() {
    let _ = Covariance::<Propagate<EqualEntry<Const<5>, Const<3>>, Unconstrained<Const<2>>>>::new(
        (((), ()), ()),
    );
}
