//! The genomic relationship matrix by VanRaden's first method (VanRaden
//! 2008, *J. Dairy Sci.* 91:4414–4423):
//!
//! `G = Z Zᵀ / (2 Σ_j p_j (1 − p_j))`, `Z = M − 2p`,
//!
//! where `M` (individuals × markers) counts copies of one allele (0, 1 or
//! 2) and `p_j` is that allele's frequency in the sample (the column mean
//! of `M` over 2). Monomorphic markers add nothing to either side.

use super::PedigreeError;
use nalgebra::DMatrix;

/// VanRaden's first genomic relationship matrix from a marker matrix
/// (`n` individuals × `m` markers, genotypes 0, 1 or 2), dense `n × n` —
/// ready to be a [`Fixed`](crate::Fixed) operand. A genotype other than
/// 0, 1 or 2 and a matrix without a polymorphic marker are errors.
///
/// ```
/// use covreml::pedigree::genomic_relationship;
/// // 3 individuals × 2 markers: p = (1/2, 1/3), 2 Σ p(1 − p) = 17/18
/// let m = nalgebra::dmatrix![2.0, 0.0; 1.0, 1.0; 0.0, 1.0];
/// let g = genomic_relationship(&m).unwrap();
/// // Z = [[1, −2/3], [0, 1/3], [−1, 1/3]]; G₀₀ = (1 + 4/9) / (17/18) = 26/17
/// assert!((g[(0, 0)] - 26.0 / 17.0).abs() < 1e-15);
/// assert!((g[(0, 2)] - -22.0 / 17.0).abs() < 1e-15);
/// ```
pub fn genomic_relationship(markers: &DMatrix<f64>) -> Result<DMatrix<f64>, PedigreeError> {
    let (n, m) = markers.shape();
    for ((row, col), &value) in (0..m)
        .flat_map(|c| (0..n).map(move |r| (r, c)))
        .zip(markers.iter())
    {
        if value != 0.0 && value != 1.0 && value != 2.0 {
            return Err(PedigreeError::InvalidGenotype { row, col, value });
        }
    }
    let p: Vec<f64> = (0..m)
        .map(|j| markers.column(j).sum() / (2.0 * n as f64))
        .collect();
    let scale: f64 = 2.0 * p.iter().map(|p| p * (1.0 - p)).sum::<f64>();
    if n == 0 || scale <= 0.0 {
        return Err(PedigreeError::NoPolymorphicMarker { rows: n, cols: m });
    }
    let z = DMatrix::from_fn(n, m, |i, j| markers[(i, j)] - 2.0 * p[j]);
    let g = &z * z.transpose() / scale;
    // exactly symmetric
    Ok(DMatrix::from_fn(n, n, |i, j| {
        if i >= j {
            g[(i, j)]
        } else {
            g[(j, i)]
        }
    }))
}
