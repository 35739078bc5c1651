// `AR1` without a size has a runtime size (`Dyn`): it has no static value.
use covreml::{ops::Kron, Const, Scalar, StaticStructure, AR1};

fn main() {
    let _ = <Kron<AR1, Scalar<Const<2>>> as StaticStructure>::value_s([0.5f64, 0.1, 0.0]);
}
