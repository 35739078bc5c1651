// A structure's value function cannot be evaluated over `u8`.
use covreml::{Structure, AR1};

fn main() {
    let _ = <AR1>::value(&3, &[1u8, 2]);
}
