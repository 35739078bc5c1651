//! Rademacher probe vectors for Hutchinson's trace estimator, reproducible
//! from a seed: probe `j` depends on the seed and `j` only, so adding probes
//! keeps the earlier ones (common random numbers across iterations).

/// SplitMix64: a small, well-mixed 64-bit generator.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Writes probe `j` (±1 entries on rows `from..dim`, 0 before) into column
/// `col` of the unknown-major `dim × m` block `out`.
pub(crate) fn rademacher(seed: u64, j: usize, from: usize, out: &mut [f64], m: usize, col: usize) {
    let dim = out.len() / m;
    let mut g = SplitMix(seed ^ (j as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
    g.next();
    for i in 0..from {
        out[i * m + col] = 0.0;
    }
    let mut bits = 0u64;
    let mut left = 0;
    for i in from..dim {
        if left == 0 {
            bits = g.next();
            left = 64;
        }
        out[i * m + col] = if bits & 1 == 1 { 1.0 } else { -1.0 };
        bits >>= 1;
        left -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_are_balanced_reproducible_and_distinct() {
        let (dim, m) = (10_000, 2);
        let mut a = vec![9.0; dim * m];
        rademacher(7, 0, 3, &mut a, m, 0);
        rademacher(7, 1, 3, &mut a, m, 1);
        let mut b = vec![0.0; dim * m];
        rademacher(7, 0, 3, &mut b, m, 0);
        assert_eq!(a[0], 0.0);
        let col0: Vec<f64> = (0..dim).map(|i| a[i * m]).collect();
        let col0b: Vec<f64> = (0..dim).map(|i| b[i * m]).collect();
        assert_eq!(col0, col0b);
        let sum: f64 = col0.iter().sum();
        assert!(sum.abs() < 400.0, "{sum}");
        let same = (3..dim).filter(|&i| a[i * m] == a[i * m + 1]).count();
        assert!((same as f64 - 4998.5).abs() < 400.0, "{same}");
    }
}
