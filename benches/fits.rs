//! `cargo bench --bench fits`: median REML fit time and time per iteration
//! on the dense backend
//! for john.alpha and crossed_2000, beside the time of one faer Cholesky
//! plus inverse of an n × n SPD matrix measured in the same run (the floor
//! of a dense AI-REML iteration).

mod common;
use common::median;
use covreml::data::{Incidence, ModelMatrix, Table};
use covreml::datasets::{crossed_model, john_alpha, john_alpha_model};
use covreml::reml::{MixedModel, RemlOptions};
use covreml::{Covariance, Scalar};
use faer::linalg::solvers::DenseSolveCore;
use std::time::Instant;

/// One faer Cholesky plus inverse of an `n × n` SPD matrix (`I` + an AR(1)
/// correlation with ρ = ½), after an untimed run that touches the buffers.
fn cholesky_inverse_floor_seconds(n: usize) -> f64 {
    let a = faer::Mat::<f64>::from_fn(n, n, |i, j| {
        0.5f64.powi(i.abs_diff(j) as i32) + if i == j { 1.0 } else { 0.0 }
    });
    let mut t = 0.0;
    for _ in 0..2 {
        let start = Instant::now();
        let inv = a
            .llt(faer::Side::Lower)
            .expect("SPD by construction")
            .inverse();
        t = start.elapsed().as_secs_f64();
        std::hint::black_box(inv);
    }
    t
}

fn bench(name: &str, model: &MixedModel, runs: usize) {
    // The dense backend, against its floor (the sparse backend is in
    // `cargo bench --bench mme`).
    let opts = RemlOptions::default().backend(covreml::reml::Backend::Dense);
    let n = model.n();
    let _ = model.fit(&opts).expect("warm-up fit");
    let mut total = Vec::new();
    let mut per_iter = Vec::new();
    let mut floor = Vec::new();
    let mut iters = 0;
    // Fits and floor measurements alternate so that both see the same load
    // of the (shared) machine.
    for _ in 0..runs {
        let t = Instant::now();
        let fit = model.fit(&opts).expect("fit");
        let s = t.elapsed().as_secs_f64();
        iters = fit.iterations;
        total.push(s);
        per_iter.push(s / fit.iterations as f64);
        floor.push(cholesky_inverse_floor_seconds(n));
    }
    let floor = median(floor);
    let (fit_s, it_s) = (median(total), median(per_iter));
    println!(
        "{name:<18} n = {n:>5}  iterations {iters:>3}  fit {:>10.3} ms  per iteration {:>9.3} ms  \
         floor (Cholesky + inverse) {:>9.3} ms  ratio {:.2}",
        fit_s * 1e3,
        it_s * 1e3,
        floor * 1e3,
        it_s / floor
    );
}

fn main() {
    println!(
        "faer parallelism: {:?}; medians over 201 (john.alpha) and 7 (crossed_2000) fits",
        faer::get_global_parallelism()
    );
    let ja = john_alpha_model(&john_alpha()).expect("john.alpha model");
    bench("john.alpha", &ja, 201);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/crossed_2000.csv");
    let crossed = crossed_model(&Table::read(path).expect("crossed_2000.csv")).expect("model");
    bench("crossed_2000", &crossed, 7);

    // The same model with the residual given as a generic structure,
    // Scalar(2000): diagonal by type, so it takes the O(n) path too.
    let t = Table::read(path).expect("crossed_2000.csv");
    let n = t.n_rows();
    let x = ModelMatrix::new(n)
        .intercept()
        .numeric("x1", &t.numeric("x1").expect("x1"))
        .expect("x1")
        .matrix();
    let scalar = |q: usize| Box::new(Covariance::<Scalar>::new(q).expect("Scalar"));
    let f1 = Incidence::from_columns(&[t.column("f1").expect("f1")]).expect("f1");
    let f2 = Incidence::from_columns(&[t.column("f2").expect("f2")]).expect("f2");
    let (q1, q2) = (f1.n_levels(), f2.n_levels());
    let generic = MixedModel::new(&t.numeric("y").expect("y"), &x, scalar(n))
        .and_then(|m| m.random("f1", f1, scalar(q1)))
        .and_then(|m| m.random("f2", f2, scalar(q2)))
        .expect("model");
    bench("crossed, R=Scalar", &generic, 7);
}
