//! The typed core, the bottom layer: the scalar bound ([`Real`](crate::Real)),
//! transforms, parameter specs and name tables, the
//! [`Structure`](crate::Structure) trait with its static evaluation
//! ([`StaticStructure`](crate::StaticStructure)), user structures
//! ([`Custom`](crate::Custom)) and the dual-number gradient checker. The
//! leaves (`structures/`) and operators (`ops/`) implement these traits;
//! nothing here imports from a layer above.

pub(crate) mod custom;
pub(crate) mod display;
pub(crate) mod error;
pub(crate) mod gradcheck;
pub(crate) mod param;
pub(crate) mod param_table;
pub(crate) mod real;
pub(crate) mod sparse_inverse;
pub mod static_structure;
pub mod structure;
pub(crate) mod transform;
