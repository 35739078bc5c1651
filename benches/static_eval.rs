//! Static evaluation against hand-written nalgebra `SMatrix` code, and the
//! dynamic path for comparison: nanoseconds per evaluation, the median of
//! 7 runs of 200,000 evaluations each (inputs and outputs through
//! `std::hint::black_box`).
//!
//! Run: `cargo bench --bench static_eval`
//!
//! Instruction counts (stable under load): `STATIC_EVAL_CELL=<row>/<column>`
//! times only that cell (row 0–3 as in the table; column `hv`, `sv`, `hj`, `hf`,
//! `sj`, `fj`, `dj`, `cv`, `vs`, `cj`), `STATIC_EVAL_RUNS` and
//! `STATIC_EVAL_EVALS` set the repetitions; run it under
//! `valgrind --tool=callgrind` at two repetition counts and divide the
//! difference in instructions by the difference in evaluations
//! (`benches/static_eval_callgrind.sh` does this).

use covreml::ops::{Hadamard, Kron, Sum};
use covreml::{
    CompoundSymmetric, Const, Covariance, Equicorrelation, Scalar, StaticStructure, Structure,
    Unconstrained, AR1,
};
use nalgebra::SMatrix;
use std::hint::black_box;
use std::time::Instant;

const RUNS: usize = 7;
const EVALS: usize = 200_000;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Which cells to time: all, or the one `STATIC_EVAL_CELL=<row>/<column>` names.
struct Plan {
    cell: Option<(usize, String)>,
    runs: usize,
    evals: usize,
}

impl Plan {
    fn from_env() -> Self {
        let cell = std::env::var("STATIC_EVAL_CELL").ok().map(|c| {
            let (r, col) = c.split_once('/').expect("STATIC_EVAL_CELL=<row>/<column>");
            (r.parse().expect("row number"), col.to_owned())
        });
        Plan {
            cell,
            runs: env_usize("STATIC_EVAL_RUNS", RUNS),
            evals: env_usize("STATIC_EVAL_EVALS", EVALS),
        }
    }

    /// Median time of one call of `f`, in ns (`NaN` for a cell not asked for).
    fn ns<R>(&self, row: usize, column: &str, mut f: impl FnMut() -> R) -> f64 {
        if let Some((r, c)) = &self.cell {
            if (*r, c.as_str()) != (row, column) {
                return f64::NAN;
            }
        }
        let mut t: Vec<f64> = (0..self.runs)
            .map(|_| {
                let s = Instant::now();
                for _ in 0..self.evals {
                    black_box(f());
                }
                s.elapsed().as_secs_f64() * 1e9 / self.evals as f64
            })
            .collect();
        t.sort_by(|a, b| a.total_cmp(b));
        t[self.runs / 2]
    }
}

// ------------------------------------------------------------ hand-written

/// `ρ^0 … ρ^{N−1}`.
fn powers<const N: usize>(rho: f64) -> [f64; N] {
    let mut p = [1.0; N];
    for k in 1..N {
        p[k] = p[k - 1] * rho;
    }
    p
}

// `AR1<3> ⊗ σ_s² I_2` entry by entry: entry (i, j) is
// `σ² ρ^|i/2 − j/2| σ_s²` where i and j have the same parity, else 0 (a
// direct closed form; nalgebra's `kronecker` of the two factors is slower).

/// The 6 × 6 matrix with `f(|i/2 − j/2|)` where `i`, `j` have the same parity.
#[inline]
fn kron_pattern(f: impl Fn(usize) -> f64) -> SMatrix<f64, 6, 6> {
    SMatrix::from_fn(|i, j| {
        if i % 2 == j % 2 {
            f((i / 2).abs_diff(j / 2))
        } else {
            0.0
        }
    })
}

fn hand_kron_value(t: [f64; 3]) -> SMatrix<f64, 6, 6> {
    let (s2, s) = (t[0], t[2]);
    let p = powers::<3>(t[1]);
    kron_pattern(|k| s2 * p[k] * s)
}

fn hand_kron_jacobian(t: [f64; 3]) -> [SMatrix<f64, 6, 6>; 3] {
    let (s2, s) = (t[0], t[2]);
    let p = powers::<3>(t[1]);
    [
        kron_pattern(|k| p[k] * s),
        kron_pattern(|k| {
            if k == 0 {
                0.0
            } else {
                s2 * k as f64 * p[k - 1] * s
            }
        }),
        kron_pattern(|k| s2 * p[k]),
    ]
}

fn hand_sum_value(t: [f64; 3]) -> SMatrix<f64, 4, 4> {
    let p = powers::<4>(t[1]);
    SMatrix::from_fn(|i, j| t[0] * p[i.abs_diff(j)] + if i == j { t[2] } else { 0.0 })
}

fn hand_sum_jacobian(t: [f64; 3]) -> [SMatrix<f64, 4, 4>; 3] {
    let (s2, p) = (t[0], powers::<4>(t[1]));
    [
        SMatrix::from_fn(|i, j| p[i.abs_diff(j)]),
        SMatrix::from_fn(|i, j| match i.abs_diff(j) {
            0 => 0.0,
            k => s2 * k as f64 * p[k - 1],
        }),
        SMatrix::identity(),
    ]
}

fn hand_hadamard_value(t: [f64; 3]) -> SMatrix<f64, 4, 4> {
    SMatrix::from_fn(|i, j| if i == j { t[1] } else { t[0] * (t[1] * t[2]) })
}

fn hand_hadamard_jacobian(t: [f64; 3]) -> [SMatrix<f64, 4, 4>; 3] {
    let (r, s2, rho) = (t[0], t[1], t[2]);
    [
        SMatrix::from_fn(|i, j| if i == j { 0.0 } else { s2 * rho }),
        SMatrix::from_fn(|i, j| if i == j { 1.0 } else { r * rho }),
        SMatrix::from_fn(|i, j| if i == j { 0.0 } else { r * s2 }),
    ]
}

fn hand_unconstrained_value(t: [f64; 6]) -> SMatrix<f64, 3, 3> {
    SMatrix::<f64, 3, 3>::new(t[0], t[1], t[3], t[1], t[2], t[4], t[3], t[4], t[5])
}

fn hand_unconstrained_jacobian(_: [f64; 6]) -> [SMatrix<f64, 3, 3>; 6] {
    // the derivative by the k-th lower-triangle entry (column-major by rows
    // of the lower triangle: (0,0), (1,0), (1,1), (2,0), (2,1), (2,2))
    const AT: [(usize, usize); 6] = [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1), (2, 2)];
    std::array::from_fn(|k| {
        let (a, b) = AT[k];
        SMatrix::from_fn(|i, j| {
            if (i, j) == (a, b) || (j, i) == (a, b) {
                1.0
            } else {
                0.0
            }
        })
    })
}

// ------------------------------------------------------------ hand-written transforms

/// `σ(x)` and `σ'(x)`, stable in both tails.
#[inline]
fn sigmoid(x: f64) -> (f64, f64) {
    let e = (-x.abs()).exp();
    let s = if x >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    };
    (s, e / ((1.0 + e) * (1.0 + e)))
}

/// `e^{2x}` and its derivative.
#[inline]
fn variance(x: f64) -> (f64, f64) {
    let v = (x + x).exp();
    (v, 2.0 * v)
}

/// `lo + (hi − lo) σ(x)` and its derivative.
#[inline]
fn correlation(x: f64, lo: f64, hi: f64) -> (f64, f64) {
    let (s, d) = sigmoid(x);
    (lo + (hi - lo) * s, (hi - lo) * d)
}

/// Natural parameters and their derivatives of `Kron<AR1, Scalar>` and
/// `Sum<(AR1, Scalar)>`: `(e^{2x}, 2σ(x) − 1, e^{2x})`.
fn ar1_scalar_transforms(x: [f64; 3]) -> ([f64; 3], [f64; 3]) {
    let (a, b, c) = (variance(x[0]), correlation(x[1], -1.0, 1.0), variance(x[2]));
    ([a.0, b.0, c.0], [a.1, b.1, c.1])
}

/// `Hadamard<Equicorrelation<4>, CompoundSymmetric<4>>`: `(ρ, σ², ρ)` with
/// correlations on `(−1/3, 1)`.
fn hadamard_transforms(x: [f64; 3]) -> ([f64; 3], [f64; 3]) {
    let lo = -1.0 / 3.0;
    let (a, b, c) = (
        correlation(x[0], lo, 1.0),
        variance(x[1]),
        correlation(x[2], lo, 1.0),
    );
    ([a.0, b.0, c.0], [a.1, b.1, c.1])
}

/// `Unconstrained<3>`: `e^{2x}` on the diagonal entries, identity elsewhere.
fn unconstrained_transforms(x: [f64; 6]) -> ([f64; 6], [f64; 6]) {
    let mut t = x;
    let mut d = [1.0; 6];
    for k in [0, 2, 5] {
        (t[k], d[k]) = variance(x[k]);
    }
    (t, d)
}

/// Transforms by hand: `θ = t(x)` and `dθ/dx`, leaf by leaf.
type HandTransforms<const N: usize> = fn([f64; N]) -> ([f64; N], [f64; N]);

/// The hand-written free-scale value and Jacobian: the transforms by hand,
/// then the hand-written value and closed form at `θ`, `∂V/∂x_k = ∂V/∂θ_k ·
/// dθ_k/dx_k` — what `jacobian_free_s` computes.
#[inline]
fn hand_free<const N: usize, M: std::ops::MulAssign<f64>, V>(
    x: [f64; N],
    transforms: HandTransforms<N>,
    value: fn([f64; N]) -> V,
    jacobian: fn([f64; N]) -> [M; N],
) -> (V, [M; N]) {
    let (t, d) = transforms(x);
    let mut j = jacobian(t);
    for (m, dk) in j.iter_mut().zip(d) {
        *m *= dk;
    }
    (value(t), j)
}

// ------------------------------------------------------------ table

struct Row {
    name: &'static str,
    hand_value: f64,
    static_value: f64,
    hand_jac: f64,
    static_jac: f64,
    hand_free_jac: f64,
    static_free_jac: f64,
    static_dual: f64,
    dyn_value: f64,
    dyn_value_static: f64,
    dyn_jac: f64,
}

/// Times one structure type `$s` (free-parameter count `$n`) against its
/// hand-written value and closed-form Jacobian at natural parameters `$theta`.
macro_rules! measure {
    ($plan:expr, $row:expr, $s:ty, $n:literal, $name:expr, $theta:expr, $hand_value:expr, $hand_jac:expr, $hand_transforms:expr $(,)?) => {{
        let (plan, row): (&Plan, usize) = (&$plan, $row);
        type S = $s;
        let name: &'static str = $name;
        let theta: [f64; $n] = $theta;
        // the static and hand-written results agree (both compute the same thing)
        assert!(
            (S::value_s(theta) - $hand_value(theta)).abs().max() < 1e-14,
            "{name}"
        );
        let js = S::jacobian_s(theta);
        for (k, h) in $hand_jac(theta).iter().enumerate() {
            assert!((js[k] - h).abs().max() < 1e-14, "{name} ∂{k}");
        }
        let free: [f64; $n] = std::array::from_fn(|i| 0.1 * i as f64 - 0.2);
        // the hand-written transforms are the structure's defaults
        let (hv, hj) = hand_free(free, $hand_transforms, $hand_value, $hand_jac);
        let (sv, sj) = S::jacobian_free_s(free);
        assert!((sv - hv).abs().max() < 1e-14, "{name} free value");
        for k in 0..$n {
            assert!((sj[k] - hj[k]).abs().max() < 1e-13, "{name} free ∂{k}");
        }
        let shape = <S as Structure>::Shape::default();
        let cov = Covariance::<S>::new(shape).unwrap();
        Row {
            name,
            hand_value: plan.ns(row, "hv", || $hand_value(black_box(theta))),
            static_value: plan.ns(row, "sv", || S::value_s(black_box(theta))),
            hand_jac: plan.ns(row, "hj", || $hand_jac(black_box(theta))),
            static_jac: plan.ns(row, "sj", || S::jacobian_s(black_box(theta))),
            hand_free_jac: plan.ns(row, "hf", || {
                hand_free(black_box(free), $hand_transforms, $hand_value, $hand_jac)
            }),
            static_free_jac: plan.ns(row, "fj", || S::jacobian_free_s(black_box(free))),
            static_dual: plan.ns(row, "dj", || S::dual_jacobian_free_s(black_box(free))),
            dyn_value: plan.ns(row, "cv", || cov.value(black_box(&free)).unwrap()),
            dyn_value_static: plan.ns(row, "vs", || S::value_static(&shape, black_box(free))),
            dyn_jac: plan.ns(row, "cj", || cov.jacobian(black_box(&free)).unwrap()),
        }
    }};
}

fn main() {
    let plan = Plan::from_env();
    let rows = [
        measure!(
            plan,
            0,
            Kron<AR1<Const<3>>, Scalar<Const<2>>>,
            3,
            "`Kron<AR1<3>, Scalar<2>>`",
            [1.3, 0.4, 0.8],
            hand_kron_value,
            hand_kron_jacobian,
            ar1_scalar_transforms,
        ),
        measure!(
            plan,
            1,
            Sum<(AR1<Const<4>>, Scalar<Const<4>>)>,
            3,
            "`Sum<(AR1<4>, Scalar<4>)>`",
            [1.3, 0.4, 0.8],
            hand_sum_value,
            hand_sum_jacobian,
            ar1_scalar_transforms,
        ),
        measure!(
            plan,
            2,
            Hadamard<Equicorrelation<Const<4>>, CompoundSymmetric<Const<4>>>,
            3,
            "`Hadamard<Equicorrelation<4>, CompoundSymmetric<4>>`",
            [0.3, 1.3, 0.4],
            hand_hadamard_value,
            hand_hadamard_jacobian,
            hadamard_transforms,
        ),
        measure!(
            plan,
            3,
            Unconstrained<Const<3>>,
            6,
            "`Unconstrained<3>`",
            [1.3, 0.4, 0.8, -0.2, 0.1, 2.0],
            hand_unconstrained_value,
            hand_unconstrained_jacobian,
            unconstrained_transforms,
        ),
    ];
    let (runs, evals) = (plan.runs, plan.evals);
    println!("ns per evaluation, median of {runs} runs of {evals} evaluations (release build)\n");
    println!("| structure | hand value | static `value_s` | ratio | hand Jacobian | static `jacobian_s` | ratio | hand free Jacobian | static `jacobian_free_s` | ratio | static `dual_jacobian_free_s` | dynamic `Covariance::value` | dynamic `Structure::value_static` | dynamic `Covariance::jacobian` |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.1} | {:.1} | {:.2}× | {:.1} | {:.1} | {:.2}× | {:.1} | {:.1} | {:.2}× | {:.1} | {:.1} | {:.1} | {:.1} |",
            r.name,
            r.hand_value,
            r.static_value,
            r.static_value / r.hand_value,
            r.hand_jac,
            r.static_jac,
            r.static_jac / r.hand_jac,
            r.hand_free_jac,
            r.static_free_jac,
            r.static_free_jac / r.hand_free_jac,
            r.static_dual,
            r.dyn_value,
            r.dyn_value_static,
            r.dyn_jac,
        );
    }
}
