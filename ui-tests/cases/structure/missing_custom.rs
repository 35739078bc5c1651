// `#[derive(Structure)]` without `impl Custom`.
#[derive(Clone, Copy, Default, Debug, covreml::Structure)]
#[params("sigma^2")]
struct NoFormula;

fn main() {}
