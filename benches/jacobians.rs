//! Closed-form Jacobians against dual numbers: median times of one value +
//! Jacobian evaluation, the chunked dual pass (4 directions per pass) and the
//! one-pass `DualSVec64<N>` where the count is static.
//!
//! Run: `cargo bench --bench jacobians`

mod common;
use common::median_secs;
use covreml::ops::{Kron, Sum};
use covreml::{Const, Covariance, Diagonal, Scalar, Structure, AR1};
use std::hint::black_box;

fn report<S: Structure>(label: &str, c: &Covariance<S>, free: &[f64], one_pass: Option<f64>) {
    let runs = 31;
    let closed = median_secs(runs, || {
        black_box(c.value_and_jacobian(black_box(free)).unwrap());
    });
    let dual = median_secs(runs, || {
        black_box(c.dual_jacobian(black_box(free)).unwrap());
    });
    print!(
        "{label:<44} k={:<2} closed {:>9.1} µs   dual(4/pass) {:>9.1} µs ({:>5.1}×)",
        free.len(),
        closed * 1e6,
        dual * 1e6,
        dual / closed
    );
    if let Some(op) = one_pass {
        print!(
            "   dual(one pass) {:>9.1} µs ({:>5.1}×)",
            op * 1e6,
            op / closed
        );
    }
    println!();
}

fn main() {
    println!("median of 31 runs, release build");
    let k = Covariance::<Kron<AR1, Diagonal>>::new((20, 10)).unwrap();
    let free: Vec<f64> = (0..k.n_free()).map(|i| 0.1 * i as f64 - 0.3).collect();
    report("Kron<AR1(20), Diagonal(10)> 200×200", &k, &free, None);

    let s = Covariance::<Sum<(Kron<AR1, Scalar>, Scalar)>>::new(((30, 10), 300)).unwrap();
    let free = [0.2, 0.4, -0.1, 0.3];
    report(
        "Sum<(Kron<AR1(30), Scalar(10)>, Scalar)> 300²",
        &s,
        &free,
        None,
    );

    type Static = Kron<AR1<Const<10>>, Scalar<Const<10>>>;
    let st = Covariance::<Static>::new(((), ())).unwrap();
    let free3 = [0.2, 0.4, -0.1];
    let one = median_secs(31, || {
        black_box(st.dual_jacobian_one_pass(black_box(free3)).unwrap());
    });
    report("Kron<AR1<10>, Scalar<10>> 100×100", &st, &free3, Some(one));
}
