//! The iterative backend against the exact sparse one on large crossed
//! models (a release example, not part of the test suite):
//!
//! ```text
//! cargo run --release --example iterative -- SHAPE BACKEND [PROBES]
//! ```
//!
//! SHAPE is `ml1m` (the MovieLens-1M shape: 1,000,209 rows, 6,040 users ×
//! 3,706 movies), `ml32m` (the full MovieLens-32M shape: 32,000,204 rows,
//! 200,948 × 84,432), both synthetic with users and movies assigned to rows
//! uniformly at random (a fixed xorshift seed; the real ratings are skewed,
//! which changes the fill of the exact factor), or `insteval`
//! (`tests/data/lme4/InstEval.csv`, `y ~ service + (1|s) + (1|d) + (1|dept)`).
//! BACKEND is `sparse`, `iterative` or `auto`. It prints one JSON line: the
//! estimates, their standard errors (and Monte Carlo errors), iterations,
//! seconds building and fitting, and the peak resident memory of the
//! process (VmHWM). `benches/iterative.sh` runs both backends and compares.

#[path = "../benches/common/mod.rs"]
mod bench_common;
use bench_common::peak_rss_mb;
use covreml::data::{Incidence, Table};
use covreml::datasets::intercepts_model;
use covreml::reml::{Backend, IterativeOptions, MixedModel, RemlOptions};
use covreml::{Covariance, Scalar};
use nalgebra::DMatrix;
use serde_json::json;
use std::time::Instant;

/// `y = 3.5 + 0.2 x + a_user + b_movie + e` with uniform random users and
/// movies (every level used at least once).
fn synthetic(n: usize, q1: usize, q2: usize, seed: u64) -> MixedModel {
    let mut s = seed;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut unif = move || (next() >> 11) as f64 / (1u64 << 53) as f64;
    let a: Vec<f64> = (0..q1).map(|_| (unif() - 0.5) * 1.5).collect();
    let b: Vec<f64> = (0..q2).map(|_| (unif() - 0.5) * 2.0).collect();
    let mut f1 = Vec::with_capacity(n);
    let mut f2 = Vec::with_capacity(n);
    let mut x = DMatrix::from_element(n, 2, 1.0);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let l1 = if i < q1 {
            i
        } else {
            (unif() * q1 as f64) as usize
        };
        let l2 = if i < q2 {
            i
        } else {
            (unif() * q2 as f64) as usize
        };
        let xi = unif() * 2.0 - 1.0;
        f1.push(l1);
        f2.push(l2);
        x[(i, 1)] = xi;
        y.push(3.5 + 0.2 * xi + a[l1] + b[l2] + (unif() - 0.5) * 3.0);
    }
    MixedModel::with_iid_residual(&y, x)
        .and_then(|m| {
            m.random(
                "user",
                Incidence::new(f1, q1).expect("levels"),
                Box::new(Covariance::<Scalar>::new(q1).expect("Scalar")),
            )
        })
        .and_then(|m| {
            m.random(
                "movie",
                Incidence::new(f2, q2).expect("levels"),
                Box::new(Covariance::<Scalar>::new(q2).expect("Scalar")),
            )
        })
        .expect("model")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let shape = args.first().map_or("ml1m", |s| s.as_str());
    let backend: Backend = args
        .get(1)
        .map_or("iterative", |s| s.as_str())
        .parse()
        .expect("backend");
    let t0 = Instant::now();
    let model = match shape {
        "ml1m" => synthetic(1_000_209, 6_040, 3_706, 0x5EED_1111),
        "ml32m" => synthetic(32_000_204, 200_948, 84_432, 0x5EED_3232),
        "insteval" => {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/lme4/InstEval.csv");
            let t = Table::read(path).expect("InstEval.csv");
            intercepts_model(&t, "y", &["service"], &[&["s"], &["d"], &["dept"]]).expect("model")
        }
        other => panic!("unknown shape `{other}` (ml1m, ml32m, insteval)"),
    };
    let build = t0.elapsed().as_secs_f64();
    let mut io = IterativeOptions::default().progress(true);
    if let Some(m) = args.get(2) {
        io = io.probes(m.parse().expect("probes"));
    }
    let opts = RemlOptions::default().backend(backend).iterative(io);
    let t1 = Instant::now();
    let fit = model.fit(&opts).expect("fit");
    let secs = t1.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "shape": shape,
            "backend": backend.to_string(),
            "n": fit.n,
            "names": fit.names,
            "natural": fit.natural,
            "standard_errors": fit.natural_se,
            "mc_standard_errors": fit.mc_standard_errors,
            "beta": fit.beta,
            "loglik": fit.loglik,
            "iterations": fit.iterations,
            "termination": fit.termination.to_string(),
            "converged": fit.termination.is_converged(),
            "build_seconds": build,
            "fit_seconds": secs,
            "peak_rss_mb": peak_rss_mb(),
            "fit_backend": fit.backend,
            "warnings": fit.warnings,
        })
    );
}
