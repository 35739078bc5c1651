//! Helpers shared by the integration tests: matrix comparisons with
//! tolerances scaled to the magnitude of the expected entries.
#![allow(dead_code)]

use nalgebra::DMatrix;

/// Largest absolute entry (0 for an empty matrix, `∞` if an entry is NaN).
pub fn max_abs(m: &DMatrix<f64>) -> f64 {
    m.iter().fold(0.0, |a, x| {
        if x.is_nan() {
            f64::INFINITY
        } else {
            a.max(x.abs())
        }
    })
}

/// Largest entry-wise difference, `∞` if the shapes differ or an entry is NaN.
pub fn max_diff(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    if a.shape() != b.shape() {
        return f64::INFINITY;
    }
    a.iter().zip(b.iter()).fold(0.0, |acc, (x, y)| {
        let d = (x - y).abs();
        if d.is_nan() {
            f64::INFINITY
        } else {
            acc.max(d)
        }
    })
}

/// Asserts `|a_ij − b_ij| ≤ atol + rtol·|b_ij|` for every entry.
pub fn assert_close_entries(a: &DMatrix<f64>, b: &DMatrix<f64>, atol: f64, rtol: f64, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes differ");
    for ((i, j), x) in a
        .iter()
        .enumerate()
        .map(|(k, x)| ((k % a.nrows(), k / a.nrows()), x))
    {
        let y = b[(i, j)];
        assert!(
            (x - y).abs() <= atol + rtol * y.abs(),
            "{what}: entry ({i}, {j}) is {x:e}, expected {y:e} (diff {:e})\ngot {a}\nexpected {b}",
            (x - y).abs()
        );
    }
}

/// Asserts `max|a − b| ≤ rtol · max|b| + atol`: a tolerance relative to the
/// magnitude of the expected matrix as a whole.
pub fn assert_close_scaled(a: &DMatrix<f64>, b: &DMatrix<f64>, rtol: f64, atol: f64, what: &str) {
    let d = max_diff(a, b);
    let tol = rtol * max_abs(b) + atol;
    assert!(
        d <= tol,
        "{what}: max |diff| = {d:e} > tol {tol:e}\ngot {a}\nexpected {b}"
    );
}

/// Compares two lists of Jacobian matrices, each matrix with a tolerance
/// relative to its own largest entry (plus `atol`).
pub fn assert_jacobians_close(
    got: &[DMatrix<f64>],
    expected: &[DMatrix<f64>],
    names: &[String],
    rtol: f64,
    atol: f64,
    what: &str,
) {
    assert_eq!(
        got.len(),
        expected.len(),
        "{what}: {} Jacobian matrices, expected {}",
        got.len(),
        expected.len()
    );
    for (k, (g, e)) in got.iter().zip(expected).enumerate() {
        let name = names.get(k).map_or("?", |s| s.as_str());
        assert_close_scaled(g, e, rtol, atol, &format!("{what}: ∂V/∂{name}"));
    }
}

/// A small deterministic generator (SplitMix64) for seeded loops.
pub struct SplitMix(pub u64);

impl SplitMix {
    /// Seeds from a string (a test name), so that each test has its own stream.
    pub fn from_name(name: &str) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        SplitMix(h)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * u
    }
}

/// Absolute floor of the Jacobian comparison, relative to the largest entry
/// of the value and of all Jacobians: a few ulps, for matrices that are zero up
/// to rounding. Kept at rounding level so that it cannot hide a relative
/// error in a Jacobian much smaller than the value.
pub const FLOOR: f64 = 0.0;

/// Compares the closed-form Jacobian of `cov` with the dual-number one at
/// `free`: each `∂V/∂x_k` within `rtol` of its own largest entry, plus
/// [`FLOOR`] times the largest entry of the value and of all Jacobians.
pub fn assert_closed_form_matches_dual<S: covreml::Structure>(
    cov: &covreml::Covariance<S>,
    free: &[f64],
    rtol: f64,
    what: &str,
) {
    assert_closed_form_matches_dual_with(cov, free, rtol, None, what)
}

/// [`assert_closed_form_matches_dual`] where `∂V/∂x_k` is a sum of products
/// that can cancel: `term_scales[k]` is the largest entry of the sum of the
/// terms' magnitudes (such as `|∂A|·|B|` for `A B`), and the tolerance is
/// `rtol` times the sum of it and the largest entry of `∂V/∂x_k`.
pub fn assert_closed_form_matches_dual_with<S: covreml::Structure>(
    cov: &covreml::Covariance<S>,
    free: &[f64],
    rtol: f64,
    term_scales: Option<&[f64]>,
    what: &str,
) {
    let (value, closed) = cov
        .value_and_jacobian(free)
        .unwrap_or_else(|e| panic!("{what}: closed form: {e}"));
    let dual = cov
        .dual_jacobian(free)
        .unwrap_or_else(|e| panic!("{what}: dual: {e}"));
    let plain = cov.value(free).unwrap();
    assert_close_scaled(
        &value,
        &plain,
        1e-14,
        0.0,
        &format!("{what}: value_and_jacobian value"),
    );
    assert_eq!(closed.len(), cov.n_free(), "{what}: Jacobian length");
    assert_eq!(dual.len(), cov.n_free(), "{what}: dual Jacobian length");
    let global = dual.iter().map(max_abs).fold(max_abs(&plain), f64::max);
    assert!(
        global.is_finite(),
        "{what}: non-finite value or dual Jacobian at {free:?}"
    );
    let names = cov.free_names();
    if let Some(t) = term_scales {
        assert_eq!(t.len(), dual.len(), "{what}: term scales");
    }
    for (k, (c, d)) in closed.iter().zip(&dual).enumerate() {
        let terms = term_scales.map_or(0.0, |t| t[k]);
        assert_close_scaled(
            c,
            d,
            rtol,
            // (+ the smallest normal number: subnormal entries round
            // differently on the two paths)
            rtol * terms + FLOOR * global + f64::MIN_POSITIVE,
            &format!("{what}: ∂V/∂{} at {free:?}", names[k]),
        );
    }
}

pub mod john_alpha;
