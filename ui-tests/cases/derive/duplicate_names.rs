#[derive(Clone, Copy, Default, Debug, covreml::Structure)]
#[params("sigma^2", "rho", "rho")]
struct Dup;

#[derive(covreml::ParamTable)]
#[params("a", "b", "a")]
struct DupTable;

fn main() {}
