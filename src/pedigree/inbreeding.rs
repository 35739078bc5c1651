//! Inbreeding coefficients by Meuwissen & Luo (1992, *Genet. Sel. Evol.*
//! 24:305–313).
//!
//! With parents before offspring, `A = T D Tᵀ`: `T` is unit lower
//! triangular with row `i` equal to ½ (row of the sire + row of the dam)
//! plus `e_i`, and `D` is diagonal, the Mendelian sampling variances
//!
//! `d_i = 1 − ¼(1 + F_s) − ¼(1 + F_d)`,
//!
//! a term dropped for each unknown parent (`d_i = 1` for a founder). Then
//! `F_i = A_ii − 1 = Σ_j T_ij² d_j − 1`, with `j` over the ancestors of `i`
//! and `i` itself. Row `i` of `T` is built by walking the ancestors from the
//! youngest (largest index) down, passing ½ of each one's coefficient to
//! its parents; full sibs of the previous animal reuse its `F`. The work is
//! `O(m log m)` for an animal with `m` ancestors, the memory `O(n)`.

use super::Pedigree;
use std::collections::BinaryHeap;

impl Pedigree {
    /// The inbreeding coefficients `F_i` (Meuwissen & Luo), in the
    /// pedigree's order.
    ///
    /// ```
    /// use covreml::pedigree::Pedigree;
    /// // a full-sib mating: 3 and 4 are offspring of 1 × 2; 5 is 3 × 4
    /// let p = Pedigree::from_columns(
    ///     &["1", "2", "3", "4", "5"],
    ///     &["0", "0", "1", "1", "3"],
    ///     &["0", "0", "2", "2", "4"],
    /// ).unwrap();
    /// assert_eq!(p.inbreeding(), [0.0, 0.0, 0.0, 0.0, 0.25]);
    /// ```
    pub fn inbreeding(&self) -> Vec<f64> {
        self.inbreeding_and_d().0
    }

    /// The Mendelian sampling variances `d_i` (the diagonal of `D` in
    /// `A = T D Tᵀ`), in the pedigree's order.
    pub fn mendelian_variances(&self) -> Vec<f64> {
        self.inbreeding_and_d().1
    }

    /// `(F, d)`.
    pub(crate) fn inbreeding_and_d(&self) -> (Vec<f64>, Vec<f64>) {
        let n = self.len();
        let mut f = vec![0.0; n];
        let mut d = vec![0.0; n];
        let mut t = vec![0.0f64; n];
        let mut heap: BinaryHeap<usize> = BinaryHeap::new();
        for i in 0..n {
            let (s, m) = (self.sire(i), self.dam(i));
            d[i] = 1.0
                - s.map_or(0.0, |s| 0.25 * (1.0 + f[s]))
                - m.map_or(0.0, |m| 0.25 * (1.0 + f[m]));
            if s.is_none() || m.is_none() {
                // one parent unknown: no common ancestor of the parents
                f[i] = 0.0;
                continue;
            }
            if i > 0 && s == self.sire(i - 1) && m == self.dam(i - 1) {
                f[i] = f[i - 1];
                continue;
            }
            let mut a_ii = 0.0;
            t[i] = 1.0;
            heap.push(i);
            while let Some(j) = heap.pop() {
                let tj = t[j];
                t[j] = 0.0;
                a_ii += tj * tj * d[j];
                for p in [self.sire(j), self.dam(j)].into_iter().flatten() {
                    if t[p] == 0.0 {
                        heap.push(p);
                    }
                    t[p] += 0.5 * tj;
                }
            }
            f[i] = a_ii - 1.0;
        }
        (f, d)
    }
}
