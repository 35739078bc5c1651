//! Multi-trait (multivariate) mixed models: several responses fitted
//! jointly, with a trait × trait covariance for every random term and for
//! the residual, and missing traits handled record by record.
//!
//! In long format (one observation per observed trait of a record) the
//! model is `y = Xβ + Σ Z u + e` with `Var(u) = G0 ⊗ I` (or `G0 ⊗ A` for
//! a pedigree term) and `R = ⊕_records R0[o, o]`, `o` the traits observed
//! on the record. Every covariance has a sparse inverse (`G0⁻¹ ⊗ A⁻¹`, and
//! `R⁻¹` one small block per record from one inverse per missing
//! pattern), so the sparse mixed-model-equations backend fits models at
//! breeding scale.
//!
//! - [`MultiTrait`]: the typed builder (responses, fixed terms, random
//!   terms, residual);
//! - [`MultiTraitModel::fit`]: the fit read as [`TraitMatrix`]es (`G0` per
//!   term and `R0`, covariances and correlations with standard errors) and
//!   [`Heritability`]s;
//! - [`TraitUnstructured`], [`TraitDiagonal`]: the residual structures;
//! - the formula front door `cbind(y1, y2) ~ trait + trait:x + (0 + trait | g)`
//!   is [`formula::multi_trait`](crate::formula::multi_trait).

mod builder;
mod fit;
mod residual;

pub use builder::{MultiTrait, MultiTraitModel, TraitCovariance, TraitLabel, TraitResidual};
pub use fit::{Heritability, MultiTraitFit, TraitBlups, TraitMatrix};
pub use residual::{TraitDiagonal, TraitRecords, TraitUnstructured};
