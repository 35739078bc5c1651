//! `cargo bench --bench mme`: whole REML fits on the sparse mixed-model
//! equations (release, medians of several runs), beside lme4's and
//! mixeff-rs's times measured on the same 2-core machine (from issue 7 and
//! `tests/data/lme4/fits_lme4.json`), with peak RSS.
//!
//! Rows: sleepstudy (random slopes), Penicillin, crossed_2000, InstEval,
//! synthetic crossed models `y ~ 1 + x + (1|f1) + (1|f2)` at n = 16,000 and
//! at the MovieLens-1M shape (1,000,000 rows, 6,040 × 3,706 levels).
//! `--quick` skips the million-row model; other arguments select rows by
//! name (`cargo bench --bench mme -- movielens` runs only that one).

mod common;
use common::{median, peak_rss_mb};
use covreml::data::{Incidence, Table};
use covreml::datasets::{crossed_model, intercepts_model, sleepstudy_model};
use covreml::reml::{Backend, MixedModel, RemlOptions};
use covreml::{Covariance, Scalar};
use nalgebra::DMatrix;
use std::time::Instant;

fn bench(name: &str, build: &dyn Fn() -> MixedModel, runs: usize, reference: &str) {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if !wanted.is_empty() && !wanted.iter().any(|w| name.contains(w.as_str())) {
        return;
    }
    let opts = RemlOptions::default()
        .backend(Backend::Sparse)
        .trace(std::env::var("TRACE").is_ok())
        .rescale_start(std::env::var("NO_RESCALE").is_err());
    let t = Instant::now();
    let model = build();
    let build_s = t.elapsed().as_secs_f64();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let fit = model.fit(&opts).expect("fit");
        times.push(t.elapsed().as_secs_f64());
        last = Some(fit);
    }
    let fit = last.expect("at least one run");
    let s = median(times);
    println!(
        "{name:<14} n = {:>9}  fit {:>10.3} ms  ({} iterations, {}, {})  model build {:.3} s  peak RSS {:.0} MB  | {reference}",
        fit.n,
        s * 1e3,
        fit.iterations,
        fit.termination,
        fit.backend,
        build_s,
        peak_rss_mb()
    );
}

/// `y = 1 + x + a_f1 + b_f2 + e` with skewed level frequencies (a fixed
/// xorshift seed), as the synthetic crossed data.
fn synthetic(n: usize, q1: usize, q2: usize, seed: u64) -> MixedModel {
    let mut s = seed;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut unif = move || (next() >> 11) as f64 / (1u64 << 53) as f64;
    // Skewed: level = floor(q · u²).
    let a: Vec<f64> = (0..q1).map(|_| unif() - 0.5).collect();
    let b: Vec<f64> = (0..q2).map(|_| unif() - 0.5).collect();
    let mut f1 = Vec::with_capacity(n);
    let mut f2 = Vec::with_capacity(n);
    let mut x = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let l1 = if i < q1 {
            i
        } else {
            ((unif() * unif()) * q1 as f64) as usize
        };
        let l2 = if i < q2 {
            i
        } else {
            ((unif() * unif()) * q2 as f64) as usize
        };
        let xi = unif() * 2.0 - 1.0;
        f1.push(l1);
        f2.push(l2);
        x.push(xi);
        y.push(1.0 + xi + a[l1] + 0.7 * b[l2] + (unif() - 0.5) * 2.0);
    }
    let xm = DMatrix::from_fn(n, 2, |i, j| if j == 0 { 1.0 } else { x[i] });
    MixedModel::with_iid_residual(&y, &xm)
        .and_then(|m| {
            m.random(
                "f1",
                Incidence::new(f1, q1).expect("levels"),
                Box::new(Covariance::<Scalar>::new(q1).expect("Scalar")),
            )
        })
        .and_then(|m| {
            m.random(
                "f2",
                Incidence::new(f2, q2).expect("levels"),
                Box::new(Covariance::<Scalar>::new(q2).expect("Scalar")),
            )
        })
        .expect("model")
}

fn table(file: &str) -> Table {
    Table::read(format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"))).expect(file)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    println!(
        "sparse MME backend, faer parallelism {:?}; medians; reference times on the same machine",
        faer::get_global_parallelism()
    );
    let sleep = table("lme4/sleepstudy.csv");
    bench(
        "sleepstudy",
        &|| sleepstudy_model(&sleep).expect("model"),
        51,
        "lme4 51 ms (default optimizer), mixeff-rs 0.19 ms",
    );
    let pen = table("lme4/Penicillin.csv");
    bench(
        "Penicillin",
        &|| intercepts_model(&pen, "diameter", &[], &[&["plate"], &["sample"]]).expect("model"),
        51,
        "lme4 52 ms, mixeff-rs 0.25 ms",
    );
    let c2 = table("crossed_2000.csv");
    bench(
        "crossed_2000",
        &|| crossed_model(&c2).expect("model"),
        21,
        "lme4 48 ms, mixeff-rs 3.4 ms",
    );
    let ie = table("lme4/InstEval.csv");
    bench(
        "InstEval",
        &|| intercepts_model(&ie, "y", &["service"], &[&["s"], &["d"], &["dept"]]).expect("model"),
        3,
        "lme4 19.4 s (51.4 s under load), mixeff-rs 29.0 s",
    );
    bench(
        "crossed_16000",
        &|| synthetic(16_000, 400, 200, 7),
        5,
        "lme4 2.9 s, mixeff-rs 1.68 s",
    );
    let named = std::env::args().skip(1).any(|a| !a.starts_with("--"));
    if !quick || named {
        bench(
            "movielens_1m",
            &|| synthetic(1_000_000, 6_040, 3_706, 11),
            1,
            "MixedModels.jl 36.7 s (published, a laptop)",
        );
    }
}
