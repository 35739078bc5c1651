//! The machine's dense rate, the baseline for the sparse factorization's
//! dense fill block: faer's dense Cholesky (`n³/3` flops) and a dense
//! product (`2n³`) on one thread and on all, for `n` up to the given size
//! (default 4,000; the restricted ml-32m block is 16,034 columns, 2.1 GB).
//!
//! Run: `cargo bench --bench dense_block [-- N]`

mod common;
use common::median_secs;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{
    cholesky_in_place, cholesky_in_place_scratch, LltRegularization,
};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};

fn main() {
    let max: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(4000);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("dense kernels, faer, {threads} threads available (GFLOP/s, median of 3)");
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
            let mut stack = MemBuffer::new(cholesky_in_place_scratch::<f64>(n, par, Default::default()));
            let chol = median_secs(3, || {
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
            let prod = median_secs(3, || {
                matmul(c.as_mut(), Accum::Replace, a.as_ref(), b.as_ref(), 1.0, par);
            });
            let nf = n as f64;
            println!(
                "n = {n:5}  {label}  cholesky {:6.1}  ({:.3} s)   matmul {:6.1}  ({:.3} s)",
                nf.powi(3) / 3.0 / chol / 1e9,
                chol,
                2.0 * nf.powi(3) / prod / 1e9,
                prod
            );
        }
        n *= 2;
    }
}
