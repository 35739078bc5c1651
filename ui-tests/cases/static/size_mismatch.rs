// A 4 × 4 and a 3 × 3 structure cannot be multiplied entry by entry.
use covreml::{Const, CompoundSymmetric, Equicorrelation, Hadamard, StaticStructure};

type H = Hadamard<Equicorrelation<Const<4>>, CompoundSymmetric<Const<3>>>;

fn main() {
    let _ = <H as StaticStructure>::value_s([0.5f64, 0.1, 0.0]);
}
