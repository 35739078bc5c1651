//! Relationship matrices for animal and plant breeding: pedigrees with the
//! sparse inverse numerator relationship matrix `A⁻¹` (built directly, with
//! inbreeding), the dense `A` and inbreeding coefficients, and the genomic
//! relationship matrix from markers.
//!
//! ```
//! use covreml::pedigree::Pedigree;
//! // any order; unknown parents as 0, NA, . or empty
//! let p = Pedigree::from_columns(
//!     &["calf", "bull", "cow1", "cow2"],
//!     &["bull", "0", "NA", "bull"],
//!     &["cow2", "0", ".", "cow1"],
//! ).unwrap();
//! assert_eq!(p.ids(), ["bull", "cow1", "cow2", "calf"]); // parents first
//! let f = p.inbreeding(); // calf: sire × daughter, F = ¼
//! assert_eq!(f[3], 0.25);
//! let ainv = p.a_inverse(); // sparse lower triangle, CSC
//! let a = p.a_matrix().unwrap(); // dense, tabular method
//! let check = a * ainv.to_dense();
//! assert!((check - nalgebra::DMatrix::identity(4, 4)).abs().max() < 1e-14);
//! ```

mod ainv;
mod csc;
mod error;
mod genomic;
mod inbreeding;
mod read;
mod tabular;

pub use csc::SymmetricCsc;
pub use error::PedigreeError;
pub use genomic::genomic_relationship;
pub use read::{Pedigree, UNKNOWN_PARENT};
pub use tabular::MAX_DENSE_ANIMALS;
