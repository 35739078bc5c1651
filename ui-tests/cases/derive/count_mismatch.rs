#[derive(Clone, Copy, Default, Debug, covreml::Structure)]
#[params("sigma^2", "rho")]
#[transforms(
    covreml::Transform::ExpPow2,
    covreml::Transform::Identity,
    covreml::Transform::Exp
)]
#[defaults(0.0)]
struct Mismatch;

fn main() {}
