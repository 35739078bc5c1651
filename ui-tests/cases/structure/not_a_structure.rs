// `String` and a plain unit struct are not covariance structures.
use covreml::Covariance;

#[derive(Clone, Copy, Default, Debug)]
struct NotAStructure;

fn main() {
    let _ = Covariance::<String>::new(3);
    let _ = Covariance::<NotAStructure>::new(3);
}
