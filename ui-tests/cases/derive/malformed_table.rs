#[derive(Clone, Copy, Default, Debug, covreml::Structure)]
#[params("sigma^2", rho, 3)]
struct NotStrings;

#[derive(covreml::ParamTable)]
#[params("a" "b")]
struct NoComma;

#[derive(covreml::Label)]
#[label(time)]
struct Time;

fn main() {}
