//! `cargo bench --bench mme`: whole REML fits on the sparse mixed-model
//! equations (release, medians of several runs), beside lme4's and
//! mixeff-rs's times measured on the same 2-core machine (from issue 7 and
//! `tests/data/lme4/fits_lme4.json`), with peak RSS.
//!
//! Rows: sleepstudy (random slopes), Penicillin, crossed_2000, InstEval,
//! synthetic crossed models `y ~ 1 + x + (1|f1) + (1|f2)` at n = 16,000 and
//! at the MovieLens-1M shape (1,000,000 rows, 6,040 × 3,706 levels); fixed
//! factors with many levels, `y ~ f + (1|g)` from a formula with 1,000
//! levels (n = 2,000) and 3,000 levels (n = 6,000); post-estimation (BLUPs
//! and the PEV diagonal) of the animal model on a pedigree of 100,000
//! animals; `predict` of 7 rows from the InstEval formula model.
//! `--quick` skips the million-row model; other arguments select rows by
//! name (`cargo bench --bench mme -- movielens` runs only that one).
//!
//! A model keeps its analysis: the first fit (`first`) makes it, the
//! others (`fit`, the median) reuse it. Peak RSS is each row's own (the
//! peak is reset before the row where Linux allows).

mod common;
use common::{median, peak_rss_mb, reset_peak_rss};
use covreml::data::{Incidence, Table};
use covreml::datasets::{crossed_model, intercepts_model, sleepstudy_model};
use covreml::formula::FormulaModel;
use covreml::reml::{Backend, MixedModel, RemlOptions};
use covreml::{Covariance, Scalar};
use nalgebra::DMatrix;
use std::time::Instant;

/// Whether the command line asks for the row `name` (all rows without names).
fn wanted(name: &str) -> bool {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    wanted.is_empty() || wanted.iter().any(|w| name.contains(w.as_str()))
}

fn options() -> RemlOptions {
    RemlOptions::default()
        .backend(Backend::Sparse)
        .trace(std::env::var("TRACE").is_ok())
        .rescale_start(std::env::var("NO_RESCALE").is_err())
}

fn bench(name: &str, build: &dyn Fn() -> MixedModel, runs: usize, reference: &str) {
    if !wanted(name) {
        return;
    }
    reset_peak_rss();
    let opts = options();
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
    let first = times[0];
    let s = median(times);
    println!(
        "{name:<14} n = {:>9}  fit {:>10.3} ms  first {:>10.3} ms  ({} iterations, {}, {})  model build {:.3} s  peak RSS {:.0} MB  | {reference}",
        fit.n,
        s * 1e3,
        first * 1e3,
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
    bench_evaluation(&sleep);
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
    bench_fixed_factor("fixed_factor_1000", 1_000, 2_000, "lme4 10.6 s (issue 20)");
    bench_fixed_factor("fixed_factor_3000", 3_000, 6_000, "aborted before issue 20");
    bench_pedigree_post();
    bench_predict(&ie);
}

/// The cost of one evaluation of the sleepstudy model at its estimate,
/// after a fit (the analysis kept): `loglik` (the log-likelihood alone)
/// and `evaluate` (log-likelihood, score and AI matrix), medians of 2,001
/// calls in µs. The per-iteration overhead of a small model.
fn bench_evaluation(sleep: &Table) {
    if !wanted("sleepstudy_eval") {
        return;
    }
    let model = sleepstudy_model(sleep).expect("model");
    let opts = options();
    let fit = model.fit(&opts).expect("fit");
    let runs = 2001;
    let ll = common::median_secs(runs, || {
        std::hint::black_box(
            model
                .loglik(std::hint::black_box(&fit.free))
                .expect("loglik"),
        );
    });
    let ev = common::median_secs(runs, || {
        std::hint::black_box(
            model
                .evaluate(std::hint::black_box(&fit.free), &opts)
                .expect("evaluate"),
        );
    });
    println!(
        "sleepstudy_eval  loglik {:>8.2} µs  evaluate (ll + score + AI) {:>8.2} µs  \
         (medians of {runs}, after a fit; {} analysis)",
        ll * 1e6,
        ev * 1e6,
        model.sparse_analyses()
    );
}

/// `y ~ f + (1|g)` with an `nf`-level fixed factor `f` (every level at
/// least once, the rest at random) and a 100-level random factor `g`:
/// the formula front door's build and fit, one run (the whole time a user
/// waits), then the median of two more fits.
fn bench_fixed_factor(name: &str, nf: usize, n: usize, reference: &str) {
    if !wanted(name) {
        return;
    }
    reset_peak_rss();
    let mut s = 0x9e37_79b9_7f4a_7c15u64 ^ nf as u64;
    let mut unif = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let ng = 100;
    let a: Vec<f64> = (0..nf).map(|_| 4.0 * (unif() - 0.5)).collect();
    let b: Vec<f64> = (0..ng).map(|_| 2.0 * (unif() - 0.5)).collect();
    let mut csv = String::from("y,f,g\n");
    for i in 0..n {
        let f = if i < nf {
            i
        } else {
            (unif() * nf as f64) as usize
        };
        let g = (unif() * ng as f64) as usize;
        let y = 10.0 + a[f] + b[g] + 2.0 * (unif() - 0.5);
        csv.push_str(&format!("{y:.6},f{f:05},g{g:03}\n"));
    }
    let table = Table::parse(&csv).expect("table");
    let opts = options();
    let t = Instant::now();
    let m = FormulaModel::new("y ~ f + (1|g)", &table).expect("model");
    let build_s = t.elapsed().as_secs_f64();
    let fit = m.fit(&opts).expect("fit");
    let total = t.elapsed().as_secs_f64();
    let again = median(
        (0..2)
            .map(|_| {
                let t = Instant::now();
                m.fit(&opts).expect("fit");
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    println!(
        "{name:<14} n = {n:>9}  build + first fit {:>8.3} s (build {build_s:.3} s)  refit {:>8.3} s  \
         ({} fixed effects, {} iterations, {}, {})  peak RSS {:.0} MB  | {reference}",
        total,
        again,
        fit.beta.len(),
        fit.iterations,
        fit.termination,
        fit.backend,
        peak_rss_mb()
    );
}

/// BLUPs and the PEV diagonal of the animal model on 100,000 animals
/// (`MixedModel::post` after a fit).
fn bench_pedigree_post() {
    if !wanted("pedigree_post") {
        return;
    }
    reset_peak_rss();
    let p = common::animal::pedigree_100k();
    let model = common::animal::animal_model(&p, &p.a_inverse());
    let t = Instant::now();
    let fit = model.fit(&options()).expect("fit");
    let fit_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let post = model.post(&fit).expect("post");
    let post_s = t.elapsed().as_secs_f64();
    let b = post.blup("animal").expect("animal");
    let mean_pev = b.pev.trace() / b.pev.len() as f64;
    println!(
        "pedigree_post  n = {:>9}  BLUPs + PEV (diagonal and A⁻¹'s pattern, {} entries) {:>8.3} s  \
         after a fit of {fit_s:.2} s ({} analysis)  mean PEV {mean_pev:.4}  peak RSS {:.0} MB  \
         | dense PEV: an 80 GB allocation before issue 20",
        fit.n,
        b.pev.nnz(),
        post_s,
        model.sparse_analyses(),
        peak_rss_mb()
    );
}

/// `predict` of 7 new rows from the InstEval formula model after its fit.
fn bench_predict(ie: &Table) {
    if !wanted("predict") {
        return;
    }
    reset_peak_rss();
    let m = FormulaModel::new("y ~ service + (1|s) + (1|d) + (1|dept)", ie).expect("model");
    let fit = m.fit(&options()).expect("fit");
    let new = Table::parse(
        "service,s,d,dept\n0,1,1,1\n1,1,1,1\n0,2,6,4\n1,3,7,8\n0,999999,1,2\n1,5,999999,3\n0,9,9,9\n",
    )
    .expect("new rows");
    let times: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            m.predict(&fit, &new).expect("predict");
            t.elapsed().as_secs_f64()
        })
        .collect();
    println!(
        "predict        n = {:>9}  7 rows {:>8.3} ms (median of 5, after the fit)  peak RSS {:.0} MB  \
         | 7 s for 7 rows of a 24,613-row model before issue 20",
        fit.n,
        median(times) * 1e3,
        peak_rss_mb()
    );
}
