//! Writes a synthetic crossed data set as CSV, made as
//! `tests/data/crossed_2000.csv` was: every row gets a user (`f1`, levels
//! `L0…`) and a movie (`f2`, levels `M0…`) drawn uniformly at random, a
//! standard normal covariate `x1`, and
//! `y = 1 + 0.5·x1 + u[f1] + v[f2] + e` with `u ~ N(0, 0.5²)`,
//! `v ~ N(0, 0.7²)`, `e ~ N(0, 1)`; numbers are written in Rust's shortest
//! round-trip notation (as Python's `repr` writes them, 16–17 digits).
//!
//! ```text
//! cargo run --release --example make_crossed -- OUT.csv ROWS USERS MOVIES [SEED]
//! # the restricted ml-32m shape (1.4 GB):
//! cargo run --release --example make_crossed -- /tmp/ml32r.csv 27080000 94380 16034
//! # the MovieLens-1M shape:
//! cargo run --release --example make_crossed -- /tmp/ml1m.csv 1000209 6040 3706
//! ```
//!
//! Uniform assignment is not the skew of real ratings (a few users and
//! movies have most of them), which changes the fill of the factor.

use std::io::Write;

/// SplitMix64: a small, well-mixed generator (seeded, reproducible).
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform on [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform on 0..n.
    fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 4 {
        eprintln!("usage: make_crossed OUT.csv ROWS USERS MOVIES [SEED]");
        std::process::exit(2);
    }
    let num = |s: &str| -> usize {
        s.replace('_', "").parse().unwrap_or_else(|_| {
            eprintln!("`{s}` is not a count");
            std::process::exit(2)
        })
    };
    let (rows, users, movies) = (num(&a[1]), num(&a[2]), num(&a[3]));
    let seed = a.get(4).map_or(20_260_101, |s| num(s)) as u64;
    let mut rng = Rng(seed);
    let u: Vec<f64> = (0..users).map(|_| 0.5 * rng.normal()).collect();
    let v: Vec<f64> = (0..movies).map(|_| 0.7 * rng.normal()).collect();
    let file = std::fs::File::create(&a[0]).unwrap_or_else(|e| {
        eprintln!("cannot write {}: {e}", a[0]);
        std::process::exit(2)
    });
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    writeln!(out, "f1,f2,x1,y").expect("write");
    for _ in 0..rows {
        let (i, j) = (rng.below(users), rng.below(movies));
        let x1 = rng.normal();
        let y = 1.0 + 0.5 * x1 + u[i] + v[j] + rng.normal();
        writeln!(out, "L{i},M{j},{x1},{y}").expect("write");
    }
    out.flush().expect("write");
}
