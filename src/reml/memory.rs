//! Memory checks made before a large allocation: the size it needs against
//! what the system says is available, so that a model too large for the
//! machine is an [`RemlError::OutOfMemory`] naming the allocation, not an
//! abort.

use super::RemlError;

/// Memory available to this process (`MemAvailable` of `/proc/meminfo`),
/// where the system tells.
pub(crate) fn available_memory() -> Option<u128> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Below this many bytes an allocation is not checked (reading
/// `/proc/meminfo` costs more than a small model's evaluation).
const UNCHECKED: u128 = 1 << 26;

/// Errors with [`RemlError::OutOfMemory`] naming `what` (made only then)
/// when `bytes` exceed the memory available, or cannot be reserved, with
/// `advice` on what to do instead.
pub(crate) fn check_memory(
    what: impl FnOnce() -> String,
    bytes: u128,
    advice: &str,
) -> Result<(), RemlError> {
    if bytes < UNCHECKED {
        return Ok(());
    }
    let too_big = available_memory().is_some_and(|a| bytes > a)
        || usize::try_from(bytes).is_err()
        || Vec::<u8>::new().try_reserve_exact(bytes as usize).is_err();
    if too_big {
        return Err(RemlError::OutOfMemory {
            what: what(),
            bytes,
            advice: advice.to_string(),
        });
    }
    Ok(())
}

/// Columns of a supernode up to which the selected inverse multiplies by
/// `Z_RR` without gathering it (`NARROW` in `sparse/selinv.rs`).
const SELINV_NARROW: usize = 8;

/// Columns of the selected inverse's triangular product panel (`PANEL` in
/// `sparse/lauum.rs`).
const LAUUM_PANEL: usize = 128;

/// The memory an exact sparse fit holds beyond its analysis (the rows of
/// `W`, the pattern of `C` and the maps, already resident when this is
/// asked), in bytes, by what holds it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExactNeed {
    /// The values of `L` (8 bytes a nonzero).
    pub factor: u128,
    /// The selected inverse, laid out like `L` (the score keeps the factor
    /// and computes it out of place).
    pub inverse: u128,
    /// The selected inverse's buffers (the gathered `Z_RR` of the widest
    /// supernode, `L_RJ L_JJ⁻¹`, the triangular product's scratch) and the
    /// factorization's update product.
    pub workspace: u128,
    /// `C` and `C⁻¹` on the pattern of `C` (8 bytes each a nonzero).
    pub pattern: u128,
    /// Per-row and per-unknown buffers of one evaluation: the residuals,
    /// the working vectors `F` and `QF` of the AI matrix (one per
    /// parameter), and its right-hand sides `WᵀQF` with their solutions.
    pub rows: u128,
}

impl ExactNeed {
    /// The sizes for a factor of `nnz_l` nonzeros with supernodes
    /// `(columns, rows below)` (`supernodal`: that layout; the simplicial
    /// one needs two vectors of the order), `nnz_c` nonzeros on the
    /// pattern of `C` of order `dim`, `n` rows and `k` parameters.
    pub fn new(
        nnz_l: usize,
        supernodes: &[(usize, usize)],
        supernodal: bool,
        nnz_c: usize,
        dim: usize,
        n: usize,
        k: usize,
    ) -> Self {
        let w8 = |x: usize| x as u128 * 8;
        let workspace = if supernodal {
            let (mut zrr, mut y, mut lauum) = (0u128, 0u128, 0u128);
            for &(w, m) in supernodes {
                let (w, m) = (w as u128, m as u128);
                zrr = zrr.max(if w <= SELINV_NARROW as u128 {
                    m * w
                } else {
                    m * m
                });
                y = y.max(m * w);
                if w > 32 {
                    lauum = lauum.max((w - w / 2) * (LAUUM_PANEL as u128).min(w / 2));
                }
            }
            // The factorization's update product is at most `m × w` too.
            (zrr + 2 * y + lauum) * 8
        } else {
            w8(2 * dim)
        };
        ExactNeed {
            factor: w8(nnz_l),
            inverse: w8(nnz_l),
            workspace,
            pattern: w8(2 * nnz_c),
            rows: w8((2 * k + 2) * n + 2 * k * dim),
        }
    }

    /// The sum.
    pub fn total(&self) -> u128 {
        self.factor + self.inverse + self.workspace + self.pattern + self.rows
    }
}

/// Bytes in GB or MB, one decimal.
pub(crate) fn human(b: u128) -> String {
    let b = b as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.1} MB", b / 1e6)
    }
}

impl std::fmt::Display for ExactNeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: the factor {}, its selected inverse {}, their workspaces {}, C and C⁻¹ on \
             the pattern of C {}, per-row buffers {}",
            human(self.total()),
            human(self.factor),
            human(self.inverse),
            human(self.workspace),
            human(self.pattern),
            human(self.rows)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_need_counts_factor_inverse_workspaces_pattern_and_rows() {
        // Supernodes (columns, rows below): a narrow one (8 × 1000 → m·w =
        // 8000 for Z_RR) and a wide dense one (100 columns, 50 rows below →
        // Z_RR 50² = 2500, y 5000, lauum (100 − 50)·50 = 2500).
        let need = ExactNeed::new(
            1_000_000,
            &[(8, 1000), (100, 50)],
            true,
            30_000,
            5000,
            20_000,
            3,
        );
        assert_eq!(need.factor, 8_000_000);
        assert_eq!(need.inverse, 8_000_000);
        assert_eq!(need.workspace, (8000 + 2 * 8000 + 2500) * 8);
        assert_eq!(need.pattern, 480_000);
        assert_eq!(need.rows, (8 * 20_000 + 6 * 5000) * 8);
        assert_eq!(need.total(), 16_000_000 + 212_000 + 480_000 + 1_520_000);
        // More than the values of L alone (the old estimate, nnz(L) × 16).
        assert!(need.total() > 16_000_000);
        let simplicial = ExactNeed::new(10, &[(1, 3)], false, 10, 4, 5, 1);
        assert_eq!(simplicial.workspace, 64);
        assert!(need.to_string().starts_with("18.2 MB: the factor 8.0 MB"));
    }
}
