//! `cargo bench --bench pedigree`: reading, sorting, inbreeding (Meuwissen–
//! Luo) and the direct sparse `A⁻¹` of a simulated pedigree of 100,000
//! animals in 5 generations (20,000 per generation; each generation's
//! parents are 100 sires and 10,000 dams of the one before, so half-sib
//! families are large and inbreeding builds up; 5% of parents unknown;
//! rows shuffled). Medians of several runs, and the peak resident memory
//! of the process (VmHWM from /proc/self/status).

mod common;
use common::animal::simulate;
use common::{median, peak_rss_mb};
use covreml::pedigree::Pedigree;
use std::time::Instant;

fn main() {
    let runs = 7;
    let [a, s, d] = simulate(20_000, 5, 100, 10_000);
    println!(
        "simulated pedigree: {} rows; peak RSS after simulation {:.1} MB",
        a.len(),
        peak_rss_mb()
    );
    let (mut t_read, mut t_f, mut t_ainv) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let p = Pedigree::from_columns(&a, &s, &d).expect("pedigree");
        t_read.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let f = p.inbreeding();
        t_f.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let ainv = p.a_inverse();
        t_ainv.push(t.elapsed().as_secs_f64());
        last = Some((p, f, ainv));
    }
    let (p, f, ainv) = last.expect("at least one run");
    let inbred = f.iter().filter(|&&x| x > 0.0).count();
    let mean_f = f.iter().sum::<f64>() / f.len() as f64;
    let max_f = f.iter().copied().fold(0.0, f64::max);
    println!(
        "{} animals; inbred {inbred} (mean F {mean_f:.4}, max F {max_f:.4}); nnz(lower A⁻¹) {} ({:.2} per animal)",
        p.len(),
        ainv.nnz(),
        ainv.nnz() as f64 / p.len() as f64
    );
    println!(
        "medians of {runs} runs: read + sort {:.1} ms, inbreeding (Meuwissen–Luo) {:.1} ms, \
         A⁻¹ (includes its own inbreeding pass) {:.1} ms",
        median(t_read) * 1e3,
        median(t_f) * 1e3,
        median(t_ainv) * 1e3
    );
    println!("peak RSS (VmHWM) {:.1} MB", peak_rss_mb());
    animal_model(&p, &ainv);
}

/// The animal model on the whole pedigree, fitted on the sparse backend.
fn animal_model(p: &Pedigree, ainv: &covreml::pedigree::SymmetricCsc) {
    use covreml::reml::{Backend, RemlOptions};
    let n = p.len();
    let t = Instant::now();
    let model = common::animal::animal_model(p, ainv);
    let build = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let fit = model
        .fit(&RemlOptions::default().backend(Backend::Sparse))
        .expect("fit");
    println!(
        "animal model, {n} animals with records: build {build:.2} s, fit {:.2} s ({} iterations, {}), \
         σ²ₐ = {:.4} ± {:.4}, σ²ₑ = {:.4} ± {:.4} (simulated 1 and 2); {}; peak RSS {:.1} MB",
        t.elapsed().as_secs_f64(),
        fit.iterations,
        fit.termination,
        fit.natural[0],
        fit.natural_se[0],
        fit.natural[1],
        fit.natural_se[1],
        fit.backend,
        peak_rss_mb()
    );
}
