//! Shared plumbing of the one-operand operators: the operand is `op_0` (or
//! its label).

use super::operands::operand_name;
use crate::{ParamSpec, Structure};

/// The operand's table, namespaced as operand 0.
pub fn specs<A: Structure>(shape: &A::Shape) -> Vec<ParamSpec> {
    let name = operand_name::<A>(0);
    A::param_specs(shape)
        .into_iter()
        .map(|s| s.within(name.clone()))
        .collect()
}
