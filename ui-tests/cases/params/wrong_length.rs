// AR1 has two parameters: a three-element array does not compile.
use covreml::{Structure, AR1};

fn main() {
    let _ = <AR1>::value_static(&3, [0.0f64, 0.0, 1.0]);
}
