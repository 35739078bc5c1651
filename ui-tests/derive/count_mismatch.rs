use covreml::Transform;

#[derive(Clone, Copy, Default, Debug, covreml::Structure)]
#[params("sigma^2", "rho")]
#[transforms(Transform::ExpPow2, Transform::Identity, Transform::Exp)]
#[defaults(0.0)]
struct Mismatch;

fn main() {}
