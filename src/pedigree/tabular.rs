//! The numerator relationship matrix `A` by the tabular method (Emik &
//! Terrill 1949; Henderson 1976), parents before offspring:
//!
//! `A_ii = 1 + ½ A_sd`, `A_ij = A_ji = ½ (A_js + A_jd)` for `j < i`,
//!
//! with the terms of unknown parents zero. Dense, `O(n²)` memory and time:
//! for small pedigrees, checks, and `A` as a fixed operand of the dense
//! engine.

use super::{Pedigree, PedigreeError};
use nalgebra::DMatrix;

/// The largest pedigree [`Pedigree::a_matrix`] builds (20,000² entries of
/// 8 bytes are 3.2 GB).
pub const MAX_DENSE_ANIMALS: usize = 20_000;

impl Pedigree {
    /// The numerator relationship matrix `A` (dense, tabular method), in
    /// the pedigree's order. An error for more than [`MAX_DENSE_ANIMALS`]
    /// animals.
    ///
    /// ```
    /// use covreml::pedigree::Pedigree;
    /// // 3 = 1 × 2, 4 = 1 × 3 (a sire–daughter mating)
    /// let p = Pedigree::from_columns(
    ///     &["1", "2", "3", "4"], &["0", "0", "1", "1"], &["0", "0", "2", "3"],
    /// ).unwrap();
    /// let a = p.a_matrix().unwrap();
    /// assert_eq!(a[(2, 0)], 0.5);
    /// assert_eq!(a[(3, 0)], 0.75);
    /// assert_eq!(a[(3, 3)], 1.25); // F = ½ A(1, 3) = 0.25
    /// ```
    pub fn a_matrix(&self) -> Result<DMatrix<f64>, PedigreeError> {
        let n = self.len();
        if n > MAX_DENSE_ANIMALS {
            return Err(PedigreeError::TooLarge {
                what: "relationship matrix A",
                n,
                max: MAX_DENSE_ANIMALS,
            });
        }
        let mut a = DMatrix::<f64>::zeros(n, n);
        for i in 0..n {
            let (s, d) = (self.sire(i), self.dam(i));
            for j in 0..i {
                let v = 0.5 * (s.map_or(0.0, |s| a[(j, s)]) + d.map_or(0.0, |d| a[(j, d)]));
                a[(i, j)] = v;
                a[(j, i)] = v;
            }
            a[(i, i)] = 1.0
                + match (s, d) {
                    (Some(s), Some(d)) => 0.5 * a[(s, d)],
                    _ => 0.0,
                };
        }
        Ok(a)
    }
}
