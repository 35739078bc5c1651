//! The machine's dense rate, the baseline for the sparse factorization's
//! dense fill block: faer's dense Cholesky (`n³/3` flops) and a dense
//! product (`2n³`) on one thread and on all, for `n` up to the given size
//! (default 4,000; the restricted ml-32m block is 16,034 columns, 2.1 GB).
//!
//! Each rate is given per second of wall time and per second of CPU time
//! of the process (all its threads): on a machine shared with other jobs
//! the second is what a core gives when it runs.
//!
//! Run: `cargo bench --bench dense_block [-- N]`

mod common;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{
    cholesky_in_place, cholesky_in_place_scratch, LltRegularization,
};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use std::time::Instant;

/// CPU seconds of this process so far (user + system, all threads).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // After the command name the state (field 3) comes first, so utime and
    // stime (fields 14 and 15, clock ticks of 1/100 s) are at 11 and 12.
    let tick = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok());
    tick(11)
        .zip(tick(12))
        .map_or(f64::NAN, |(u, s)| (u + s) / 100.0)
}

/// Median wall seconds and median CPU seconds of `runs` calls of `f`.
fn timed(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..runs {
        let (w, c) = (Instant::now(), cpu_seconds());
        f();
        wall.push(w.elapsed().as_secs_f64());
        cpu.push(cpu_seconds() - c);
    }
    (common::median(wall), common::median(cpu))
}

fn main() {
    let max: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(4000);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("dense kernels, faer, {threads} threads available (GFLOP/s per wall and per CPU second, medians of 3)");
    let mut n = 1000;
    while n <= max {
        // A = B Bᵀ / n + I: positive definite, well conditioned.
        let b = Mat::<f64>::from_fn(n, n, |i, j| {
            (((i * 7919 + j * 104_729) % 1000) as f64) / 1000.0 - 0.5
        });
        let mut a = Mat::<f64>::identity(n, n);
        matmul(
            a.as_mut(),
            Accum::Add,
            b.as_ref(),
            b.transpose(),
            1.0 / n as f64,
            Par::rayon(0),
        );
        for (label, par) in [("1 thread ", Par::Seq), ("all      ", Par::rayon(0))] {
            let mut stack =
                MemBuffer::new(cholesky_in_place_scratch::<f64>(n, par, Default::default()));
            let (chol, chol_cpu) = timed(3, || {
                let mut l = a.clone();
                cholesky_in_place(
                    l.as_mut(),
                    LltRegularization::default(),
                    par,
                    MemStack::new(&mut stack),
                    Default::default(),
                )
                .expect("positive definite");
            });
            let mut c = Mat::<f64>::zeros(n, n);
            let (prod, prod_cpu) = timed(3, || {
                matmul(c.as_mut(), Accum::Replace, a.as_ref(), b.as_ref(), 1.0, par);
            });
            let nf = n as f64;
            let (fc, fp) = (nf.powi(3) / 3.0 / 1e9, 2.0 * nf.powi(3) / 1e9);
            println!(
                "n = {n:5}  {label}  cholesky {:6.1} wall {:6.1} cpu ({:.3} s)   \
                 matmul {:6.1} wall {:6.1} cpu ({:.3} s)",
                fc / chol,
                fc / chol_cpu,
                chol,
                fp / prod,
                fp / prod_cpu,
                prod
            );
        }
        n *= 2;
    }
}
