//! `A⁻¹` built directly (Henderson 1976; Quaas 1976, with inbreeding):
//! from `A = T D Tᵀ`, `A⁻¹ = T⁻ᵀ D⁻¹ T⁻¹`, where row `i` of `T⁻¹` is
//! `e_i − ½ e_s − ½ e_d`. Each animal `i` with `b_i = 1/d_i` (the
//! inbreeding-corrected Mendelian sampling variance, see
//! [`inbreeding`](super::Pedigree::inbreeding)) adds
//!
//! - `b_i` to `(i, i)`;
//! - `−b_i/2` to `(i, p)` and `(p, i)` for each known parent `p`;
//! - `b_i/4` to `(p, q)` for each pair of known parents `p, q` (both orders
//!   and `p = q`).
//!
//! At most six triplets (four new lower-triangle entries) per animal: `O(n)` memory, no
//! `n × n` storage.

use super::{Pedigree, SymmetricCsc};

impl Pedigree {
    /// The inverse of the numerator relationship matrix, built directly and
    /// sparsely with inbreeding, in the pedigree's order (see
    /// [`ids`](Pedigree::ids) and [`index_of`](Pedigree::index_of)).
    ///
    /// ```
    /// use covreml::pedigree::Pedigree;
    /// // 3 is an offspring of the founders 1 and 2
    /// let p = Pedigree::from_columns(&["1", "2", "3"], &["0", "0", "1"], &["0", "0", "2"]).unwrap();
    /// let ainv = p.a_inverse();
    /// assert_eq!(ainv.get(0, 0), 1.5);
    /// assert_eq!(ainv.get(0, 1), 0.5);
    /// assert_eq!(ainv.get(2, 0), -1.0);
    /// assert_eq!(ainv.get(2, 2), 2.0);
    /// assert_eq!(ainv.nnz(), 6);
    /// ```
    pub fn a_inverse(&self) -> SymmetricCsc {
        let n = self.len();
        let (_, d) = self.inbreeding_and_d();
        let mut triplets: Vec<(usize, usize, f64)> = Vec::with_capacity(6 * n);
        let mut lower = |i: usize, j: usize, v: f64| {
            triplets.push(if i >= j { (i, j, v) } else { (j, i, v) });
        };
        for (i, &di) in d.iter().enumerate() {
            let b = 1.0 / di;
            lower(i, i, b);
            let known = [self.sire(i), self.dam(i)];
            for p in known.iter().flatten() {
                lower(i, *p, -0.5 * b);
            }
            for (k, p) in known.iter().enumerate() {
                for q in known[k..].iter() {
                    if let (Some(p), Some(q)) = (p, q) {
                        // (p, q) and (q, p): once on the diagonal, twice off it
                        // in the full matrix, once in the lower triangle
                        lower(*p, *q, 0.25 * b);
                    }
                }
            }
        }
        SymmetricCsc::from_lower_triplets(n, &triplets)
    }
}
