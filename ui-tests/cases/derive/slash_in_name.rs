#[derive(Clone, Copy, Default, Debug, covreml::Structure)]
#[params("time/rho", "sigma 2", "")]
struct BadNames;

#[derive(covreml::Label)]
#[label("op/0")]
struct BadLabel;

fn main() {}
