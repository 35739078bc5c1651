//! Spatial structures tied to the data: the runtime shape holds the field
//! position of every row (plot), so the matrix follows the data, not the row
//! order, and missing plots need nothing special.
//!
//! | structure | `V_ij` | nlme / ASReml |
//! |---|---|---|
//! | [`AR1xAR1`] | `σ² ρ_r^\|rᵢ−rⱼ\| ρ_c^\|cᵢ−cⱼ\|` on row and column indices | `ar1(row):ar1(col)` |
//! | [`Isotropic<Exponential>`] | `σ² ((1−ν) e^{−d/r} + ν δᵢⱼ)` | `corExp(nugget = TRUE)` |
//! | [`Isotropic<Gaussian>`] | `σ² ((1−ν) e^{−(d/r)²} + ν δᵢⱼ)` | `corGaus(nugget = TRUE)` |
//! | [`Isotropic<Spherical>`] | `σ² ((1−ν) (1 − 1.5 d/r + 0.5 (d/r)³)₊ + ν δᵢⱼ)` | `corSpher(nugget = TRUE)` |
//!
//! `d` is the Euclidean distance between the rows' coordinates.

mod ar1_ar1;
mod coordinates;
mod grid;
mod isotropic;
mod kernel;

pub use ar1_ar1::AR1xAR1;
pub use coordinates::Coordinates;
pub use grid::Grid;
pub use isotropic::Isotropic;
pub use kernel::{Exponential, Gaussian, Kernel, Spherical};
