//! The sparse layer: sparse inverses of structures and the selected inverse
//! of the sparse Cholesky factor.
//!
//! One test binary per layer (each binary costs a link of the whole crate);
//! every file here is a module.

mod sparse_inverse;
mod sparse_selinv;
