//! Sparse Cholesky + selected inverse on mixed-model equations of the shape of
//! two real crossed data sets:
//!
//! `C = [XᵀX XᵀZ; ZᵀX ZᵀZ + λI]`, `p = 2` (an intercept and one covariate),
//! with synthetic crossed factors of skewed level frequencies (a fixed seed):
//!
//! - lme4's `InstEval`: 73,421 rows, 2,972 × 1,128 × 14 levels;
//! - MovieLens-1M: 1,000,000 rows, 6,040 × 3,706 levels.
//!
//! Prints medians over several runs of analyse / factor / selected inverse /
//! solve, nnz(L), the layout, and the peak RSS (VmHWM).
//!
//! `cargo bench --bench sparse [-- insteval|movielens]`

mod common;
use common::{median, peak_rss_mb};
use std::time::Instant;

use covreml::__sparse_testing::{Layout, Ordering, SparseCholesky, SparseOptions};
use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};

/// xorshift64* — enough randomness for a synthetic design.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unif(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// A level in `0..q` with skewed frequencies: `level = ⌊q u^1.5⌋`, a
    /// density ∝ level^(−1/3), so the most frequent level has about
    /// `q^(−2/3)` of the rows (MovieLens-1M: the busiest of 6,040 users has
    /// 2,314 of 1,000,209 ratings, here about 3,000; the busiest movie 3,428,
    /// here about 4,200); then scattered by a fixed multiplicative hash so
    /// that frequent levels are not all at the start.
    fn skewed(&mut self, q: usize) -> usize {
        let u = self.unif();
        let level = ((q as f64) * u * u.sqrt()) as usize;
        (level.min(q - 1) * 7919) % q
    }
}

/// The lower triangle of `C` in CSC, original ordering `[X, Z₁, Z₂, …]`.
struct Mme {
    n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    values: Vec<f64>,
}

// Index loops mirror the block formulas of C.
#[allow(clippy::needless_range_loop)]
fn build(rows: usize, levels: &[usize], lambda: f64, seed: u64) -> Mme {
    let p = 2;
    let mut rng = Rng(seed);
    let mut offset = vec![p];
    for &q in levels {
        offset.push(offset.last().unwrap() + q);
    }
    let n = *offset.last().unwrap();
    let mut xtx = [[0.0; 2]; 2];
    let mut xtz = vec![[0.0; 2]; n];
    let mut diag = vec![0.0; n];
    let mut pairs: Vec<(u32, u32)> =
        Vec::with_capacity(rows * levels.len() * (levels.len() - 1) / 2);
    let mut cols = vec![0usize; levels.len()];
    for _ in 0..rows {
        let x = [1.0, if rng.unif() < 0.45 { 1.0 } else { 0.0 }];
        for (f, &q) in levels.iter().enumerate() {
            cols[f] = offset[f] + rng.skewed(q);
        }
        for a in 0..2 {
            for b in 0..2 {
                xtx[a][b] += x[a] * x[b];
            }
        }
        for &c in &cols {
            diag[c] += 1.0;
            xtz[c][0] += x[0];
            xtz[c][1] += x[1];
        }
        for f in 0..cols.len() {
            for g in f + 1..cols.len() {
                pairs.push((cols[f] as u32, cols[g] as u32));
            }
        }
    }
    pairs.sort_unstable();
    let (mut col_ptr, mut row_idx, mut values) = (vec![0], Vec::new(), Vec::new());
    // Fixed-effect columns: XᵀX then XᵀZ (every level, intercept nonzero).
    for j in 0..p {
        for i in j..p {
            row_idx.push(i);
            values.push(xtx[i][j]);
        }
        for (i, xz) in xtz.iter().enumerate().skip(p) {
            row_idx.push(i);
            values.push(xz[j]);
        }
        col_ptr.push(row_idx.len());
    }
    let mut k = 0;
    for j in p..n {
        row_idx.push(j);
        values.push(diag[j] + lambda);
        while k < pairs.len() && pairs[k].0 as usize == j {
            let i = pairs[k].1 as usize;
            let mut count = 0.0;
            while k < pairs.len() && pairs[k] == (j as u32, i as u32) {
                count += 1.0;
                k += 1;
            }
            row_idx.push(i);
            values.push(count);
        }
        col_ptr.push(row_idx.len());
    }
    Mme {
        n,
        col_ptr,
        row_idx,
        values,
    }
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

fn run(name: &str, rows: usize, levels: &[usize], runs: usize, layout: Layout) {
    let t = Instant::now();
    let mme = build(rows, levels, 1.5, 0x1234_5678_9ABC_DEF1);
    let build_s = secs(t);
    let opts = SparseOptions {
        ordering: Ordering::Amd,
        layout,
        threads: 0,
    };
    let (mut ta, mut tf, mut ts, mut tv) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut chol = None;
    for _ in 0..runs {
        let t = Instant::now();
        let c = SparseCholesky::analyse(mme.n, &mme.col_ptr, &mme.row_idx, &opts).unwrap();
        ta.push(secs(t));
        chol = Some(c);
    }
    let mut chol = chol.unwrap();
    let mut rhs = Mat::<f64>::zeros(mme.n, 1);
    for run in 0..runs {
        let t = Instant::now();
        chol.factor(&mme.values).unwrap();
        tf.push(secs(t));
        let t = Instant::now();
        chol.selected_inverse();
        tv.push(secs(t));
        for i in 0..mme.n {
            rhs[(i, 0)] = ((i * 31 + run) % 17) as f64 - 8.0;
        }
        let t = Instant::now();
        chol.solve_in_place(rhs.as_mut());
        ts.push(secs(t));
    }
    // Sanity: Z_ii from the selected inverse against a solve with e_i.
    let probe: Vec<usize> = vec![0, 1, mme.n / 2, mme.n - 1];
    let map = chol
        .entry_map(&probe.iter().map(|&i| (i, i)).collect::<Vec<_>>())
        .unwrap();
    let mut z = vec![0.0; probe.len()];
    chol.gather(&map, &mut z);
    let mut worst = 0.0f64;
    for (&i, &zi) in probe.iter().zip(&z) {
        let mut e = Mat::<f64>::zeros(mme.n, 1);
        e[(i, 0)] = 1.0;
        chol.solve_in_place(e.as_mut());
        worst = worst.max(((e[(i, 0)] - zi) / zi).abs());
    }
    println!(
        "{name}: {rows} rows, levels {levels:?}, C of order {} with {} stored entries (lower), built in {build_s:.2} s",
        mme.n,
        mme.values.len()
    );
    let sizes = chol.supernode_sizes();
    let big = sizes
        .iter()
        .max_by_key(|(w, m)| w * (w + m))
        .copied()
        .unwrap_or((0, 0));
    let flops: f64 = sizes
        .iter()
        .map(|&(w, m)| {
            let (w, m) = (w as f64, m as f64);
            w * w * w / 3.0 + w * w * m + w * m * m
        })
        .sum();
    println!(
        "  largest supernode: {} columns × {} rows below; factor ≈ {:.1} GFlop",
        big.0,
        big.1,
        flops / 1e9
    );
    println!(
        "  layout {:?} → {} ({} supernodes), nnz(L) = {}",
        layout,
        if chol.is_supernodal() {
            "supernodal"
        } else {
            "simplicial"
        },
        chol.n_supernodes(),
        chol.nnz_l()
    );
    println!(
        "  medians of {runs}: analyse {:.4} s | factor {:.4} s | selected inverse {:.4} s | solve (1 rhs) {:.4} s | factor + selinv {:.4} s",
        median(ta),
        median(tf.clone()),
        median(tv.clone()),
        median(ts),
        median(tf.iter().zip(&tv).map(|(a, b)| a + b).collect())
    );
    // The floor, timed in the same run: faer's dense Cholesky and inverse
    // from the factor of a matrix of the order of the fill block (the
    // largest factor's levels plus p), which the sparse factor contains.
    let rss = peak_rss_mb();
    let mut sorted = levels.to_vec();
    sorted.sort_unstable();
    let nd = sorted[..sorted.len() - 1].iter().sum::<usize>() + 2;
    let mut dense = Mat::<f64>::from_fn(nd, nd, |i, j| {
        if i == j {
            nd as f64
        } else {
            1.0 / (1.0 + (i + j) as f64)
        }
    });
    dense[(0, 0)] += 1.0;
    let (mut tc, mut ti) = (Vec::new(), Vec::new());
    for _ in 0..runs.min(3) {
        let t = Instant::now();
        let llt = dense.llt(Side::Lower).unwrap();
        tc.push(secs(t));
        let t = Instant::now();
        let inv = llt.inverse();
        ti.push(secs(t));
        assert!(inv[(0, 0)].is_finite());
    }
    println!(
        "  floor (dense {nd} × {nd}, same run): Cholesky {:.4} s | inverse from the factor {:.4} s",
        median(tc),
        median(ti)
    );
    println!(
        "  log det {:.6}; max rel. diff of Z_ii vs solves with e_i: {worst:.1e}; peak RSS {rss:.0} MB (before the floor)",
        chol.log_det()
    );
}

fn main() {
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |name: &str| which.is_empty() || which.iter().any(|w| w == name);
    if want("insteval") {
        run(
            "InstEval shape",
            73_421,
            &[2_972, 1_128, 14],
            7,
            Layout::Auto,
        );
    }
    if want("insteval-simplicial") {
        run(
            "InstEval shape",
            73_421,
            &[2_972, 1_128, 14],
            3,
            Layout::Simplicial,
        );
    }
    if want("movielens") {
        run(
            "MovieLens-1M shape",
            1_000_000,
            &[6_040, 3_706],
            5,
            Layout::Auto,
        );
    }
}
