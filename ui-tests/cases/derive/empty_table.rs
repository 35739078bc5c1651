#[derive(Clone, Copy, Default, Debug, covreml::Structure)]
#[params()]
struct Empty;

#[derive(Clone, Copy, Default, Debug, covreml::Structure)]
struct Missing;

#[derive(covreml::ParamTable)]
#[params]
struct NoList;

fn main() {}
