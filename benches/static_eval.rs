//! Static evaluation against hand-written nalgebra `SMatrix` code, and the
//! dynamic path for comparison: nanoseconds per evaluation, the median of
//! 7 runs of 200,000 evaluations each (inputs and outputs through
//! `std::hint::black_box`).
//!
//! Run: `cargo bench --bench static_eval`

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

/// Median time of one call of `f`, in ns.
fn ns<R>(mut f: impl FnMut() -> R) -> f64 {
    let mut t: Vec<f64> = (0..RUNS)
        .map(|_| {
            let s = Instant::now();
            for _ in 0..EVALS {
                black_box(f());
            }
            s.elapsed().as_secs_f64() * 1e9 / EVALS as f64
        })
        .collect();
    t.sort_by(|a, b| a.total_cmp(b));
    t[RUNS / 2]
}

// ------------------------------------------------------------ hand-written

/// `σ² ρ^|i−j|` and its two derivatives, by hand.
fn ar1<const N: usize>(s2: f64, rho: f64) -> [SMatrix<f64, N, N>; 3] {
    let mut p = [1.0; N];
    for k in 1..N {
        p[k] = p[k - 1] * rho;
    }
    [
        SMatrix::from_fn(|i, j| s2 * p[i.abs_diff(j)]),
        SMatrix::from_fn(|i, j| p[i.abs_diff(j)]),
        SMatrix::from_fn(|i, j| match i.abs_diff(j) {
            0 => 0.0,
            k => s2 * k as f64 * p[k - 1],
        }),
    ]
}

fn hand_kron_value(t: [f64; 3]) -> SMatrix<f64, 6, 6> {
    let a = SMatrix::<f64, 3, 3>::from_fn(|i, j| t[0] * t[1].powi(i.abs_diff(j) as i32));
    a.kronecker(&SMatrix::<f64, 2, 2>::from_diagonal_element(t[2]))
}

fn hand_kron_jacobian(t: [f64; 3]) -> [SMatrix<f64, 6, 6>; 3] {
    let [a, da_s2, da_rho] = ar1::<3>(t[0], t[1]);
    let b = SMatrix::<f64, 2, 2>::from_diagonal_element(t[2]);
    [
        da_s2.kronecker(&b),
        da_rho.kronecker(&b),
        a.kronecker(&SMatrix::<f64, 2, 2>::identity()),
    ]
}

fn hand_sum_value(t: [f64; 3]) -> SMatrix<f64, 4, 4> {
    let a = SMatrix::<f64, 4, 4>::from_fn(|i, j| t[0] * t[1].powi(i.abs_diff(j) as i32));
    a + SMatrix::<f64, 4, 4>::from_diagonal_element(t[2])
}

fn hand_sum_jacobian(t: [f64; 3]) -> [SMatrix<f64, 4, 4>; 3] {
    let [_, da_s2, da_rho] = ar1::<4>(t[0], t[1]);
    [da_s2, da_rho, SMatrix::identity()]
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
    let unit = |i: usize, j: usize| {
        let mut m = SMatrix::<f64, 3, 3>::zeros();
        m[(i, j)] = 1.0;
        m[(j, i)] = 1.0;
        m
    };
    [
        unit(0, 0),
        unit(1, 0),
        unit(1, 1),
        unit(2, 0),
        unit(2, 1),
        unit(2, 2),
    ]
}

// ------------------------------------------------------------ table

struct Row {
    name: &'static str,
    hand_value: f64,
    static_value: f64,
    hand_jac: f64,
    static_jac: f64,
    static_free_jac: f64,
    static_dual: f64,
    dyn_value: f64,
    dyn_value_static: f64,
    dyn_jac: f64,
}

/// Times one structure type `$s` (free-parameter count `$n`) against its
/// hand-written value and closed-form Jacobian at natural parameters `$theta`.
macro_rules! measure {
    ($s:ty, $n:literal, $name:expr, $theta:expr, $hand_value:expr, $hand_jac:expr $(,)?) => {{
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
        let shape = <S as Structure>::Shape::default();
        let cov = Covariance::<S>::new(shape).unwrap();
        Row {
            name,
            hand_value: ns(|| $hand_value(black_box(theta))),
            static_value: ns(|| S::value_s(black_box(theta))),
            hand_jac: ns(|| $hand_jac(black_box(theta))),
            static_jac: ns(|| S::jacobian_s(black_box(theta))),
            static_free_jac: ns(|| S::jacobian_free_s(black_box(free))),
            static_dual: ns(|| S::dual_jacobian_free_s(black_box(free))),
            dyn_value: ns(|| cov.value(black_box(&free)).unwrap()),
            dyn_value_static: ns(|| S::value_static(&shape, black_box(free))),
            dyn_jac: ns(|| cov.jacobian(black_box(&free)).unwrap()),
        }
    }};
}

fn main() {
    let rows = [
        measure!(
            Kron<AR1<Const<3>>, Scalar<Const<2>>>,
            3,
            "`Kron<AR1<3>, Scalar<2>>`",
            [1.3, 0.4, 0.8],
            hand_kron_value,
            hand_kron_jacobian,
        ),
        measure!(
            Sum<(AR1<Const<4>>, Scalar<Const<4>>)>,
            3,
            "`Sum<(AR1<4>, Scalar<4>)>`",
            [1.3, 0.4, 0.8],
            hand_sum_value,
            hand_sum_jacobian,
        ),
        measure!(
            Hadamard<Equicorrelation<Const<4>>, CompoundSymmetric<Const<4>>>,
            3,
            "`Hadamard<Equicorrelation<4>, CompoundSymmetric<4>>`",
            [0.3, 1.3, 0.4],
            hand_hadamard_value,
            hand_hadamard_jacobian,
        ),
        measure!(
            Unconstrained<Const<3>>,
            6,
            "`Unconstrained<3>`",
            [1.3, 0.4, 0.8, -0.2, 0.1, 2.0],
            hand_unconstrained_value,
            hand_unconstrained_jacobian,
        ),
    ];
    println!("ns per evaluation, median of {RUNS} runs of {EVALS} evaluations (release build)\n");
    println!("| structure | hand value | static `value_s` | ratio | hand Jacobian | static `jacobian_s` | ratio | static `jacobian_free_s` | static `dual_jacobian_free_s` | dynamic `Covariance::value` | dynamic `Structure::value_static` | dynamic `Covariance::jacobian` |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.1} | {:.1} | {:.2}× | {:.1} | {:.1} | {:.2}× | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            r.name,
            r.hand_value,
            r.static_value,
            r.static_value / r.hand_value,
            r.hand_jac,
            r.static_jac,
            r.static_jac / r.hand_jac,
            r.static_free_jac,
            r.static_dual,
            r.dyn_value,
            r.dyn_value_static,
            r.dyn_jac,
        );
    }
}
