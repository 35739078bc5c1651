//! The sparse Cholesky layer against faer's dense Cholesky, an independent
//! algorithm: log-determinants, solves and the selected inverse (Takahashi)
//! on the factor's pattern, in both layouts and both orderings, on random
//! sparse SPD matrices and on matrices where supernodes form (a dense block,
//! an arrowhead, a crossed design `WᵀW + diag(0, λI)`).

use covreml::__sparse_testing::{Layout, Ordering, SparseCholesky, SparseError, SparseOptions};
use faer::linalg::solvers::{DenseSolveCore, Solve};
use faer::{Mat, Side};
use proptest::prelude::*;

/// A small deterministic generator (xorshift64*) for the matrices.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform on [0, 1).
    fn unif(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The lower triangle of a dense symmetric matrix as CSC (pattern = the
/// nonzeros plus the diagonal).
fn lower_csc(a: &Mat<f64>) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
    let n = a.nrows();
    let (mut col_ptr, mut row_idx, mut values) = (vec![0], Vec::new(), Vec::new());
    for j in 0..n {
        for i in j..n {
            if i == j || a[(i, j)] != 0.0 {
                row_idx.push(i);
                values.push(a[(i, j)]);
            }
        }
        col_ptr.push(row_idx.len());
    }
    (col_ptr, row_idx, values)
}

/// Random sparse pattern, diagonally dominant (so SPD).
fn random_spd(n: usize, density: f64, seed: u64) -> Mat<f64> {
    let mut rng = Rng::new(seed);
    let mut a = Mat::<f64>::zeros(n, n);
    for j in 0..n {
        for i in j + 1..n {
            if rng.unif() < density {
                let v = 2.0 * rng.unif() - 1.0;
                a[(i, j)] = v;
                a[(j, i)] = v;
            }
        }
    }
    dominate(&mut a, &mut rng);
    a
}

fn dominate(a: &mut Mat<f64>, rng: &mut Rng) {
    let n = a.nrows();
    for i in 0..n {
        let off: f64 = (0..n).filter(|&j| j != i).map(|j| a[(i, j)].abs()).sum();
        a[(i, i)] = off + 0.5 + rng.unif();
    }
}

/// A random sparse matrix whose last `k` rows/columns are dense (a block of
/// dense columns; `k = 1` is an arrowhead).
fn dense_tail(n: usize, k: usize, density: f64, seed: u64) -> Mat<f64> {
    let mut a = random_spd(n, density, seed);
    let mut rng = Rng::new(seed ^ 0xABCD);
    for j in n - k..n {
        for i in 0..n {
            if i != j {
                let v = 2.0 * rng.unif() - 1.0;
                a[(i, j)] = v;
                a[(j, i)] = v;
            }
        }
    }
    dominate(&mut a, &mut rng);
    a
}

/// `C = [XᵀX XᵀZ; ZᵀX ZᵀZ + λI]` for an intercept, one covariate and two
/// crossed factors with `qa` and `qb` levels over `nobs` observations.
fn crossed(nobs: usize, qa: usize, qb: usize, lambda: f64, seed: u64) -> Mat<f64> {
    let mut rng = Rng::new(seed);
    let p = 2;
    let q = p + qa + qb;
    let mut c = Mat::<f64>::zeros(q, q);
    for _ in 0..nobs {
        let x = [1.0, 2.0 * rng.unif() - 1.0];
        let cols = [p + rng.below(qa), p + qa + rng.below(qb)];
        let mut w: Vec<(usize, f64)> = vec![(0, x[0]), (1, x[1])];
        w.extend(cols.iter().map(|&c| (c, 1.0)));
        for &(i, vi) in &w {
            for &(j, vj) in &w {
                c[(i, j)] += vi * vj;
            }
        }
    }
    for i in p..q {
        c[(i, i)] += lambda;
    }
    c
}

struct Dense {
    inv: Mat<f64>,
    log_det: f64,
    llt: faer::linalg::solvers::Llt<f64>,
}

fn dense(a: &Mat<f64>) -> Dense {
    let llt = a.llt(Side::Lower).expect("the test matrix is SPD");
    let l = llt.L();
    let log_det = 2.0 * (0..a.nrows()).map(|i| l[(i, i)].ln()).sum::<f64>();
    Dense {
        inv: llt.inverse(),
        log_det,
        llt,
    }
}

fn max_abs(m: &Mat<f64>) -> f64 {
    let mut r = 0.0f64;
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            r = r.max(m[(i, j)].abs());
        }
    }
    r
}

const ALL: [(Layout, Ordering); 4] = [
    (Layout::Simplicial, Ordering::Amd),
    (Layout::Simplicial, Ordering::Identity),
    (Layout::Supernodal, Ordering::Amd),
    (Layout::Supernodal, Ordering::Identity),
];

/// Checks everything against the dense computation; returns, per
/// configuration, the layout, whether it is supernodal and the number of
/// supernodes.
fn check_all(a: &Mat<f64>, seed: u64) -> Vec<(Layout, bool, usize)> {
    let n = a.nrows();
    let (col_ptr, row_idx, values) = lower_csc(a);
    let d = dense(a);
    let scale = max_abs(&d.inv);
    let mut rng = Rng::new(seed ^ 0x5151);
    let mut b = Mat::<f64>::zeros(n, 3);
    for j in 0..3 {
        for i in 0..n {
            b[(i, j)] = 2.0 * rng.unif() - 1.0;
        }
    }
    let x_dense = d.llt.solve(&b);
    let mut formed = Vec::new();
    for (layout, ordering) in ALL {
        let opts = SparseOptions {
            ordering,
            layout,
            threads: 1,
        };
        let what = format!("{layout:?}/{ordering:?}, n = {n}");
        let mut chol = SparseCholesky::analyse(n, &col_ptr, &row_idx, &opts).unwrap();
        assert_eq!(chol.is_supernodal(), layout == Layout::Supernodal, "{what}");
        // Factor twice (buffers reused): the second must give the same.
        for _ in 0..2 {
            chol.factor(&values).unwrap();
            let ld = chol.log_det();
            assert!(
                (ld - d.log_det).abs() <= 1e-10 * d.log_det.abs().max(1.0),
                "{what}: log det {ld} vs dense {}",
                d.log_det
            );
            let mut x = b.clone();
            chol.solve_in_place(x.as_mut());
            let err = max_abs(&(&x - &x_dense));
            assert!(
                err <= 1e-10 * max_abs(&x_dense).max(1e-300),
                "{what}: solve error {err}"
            );

            chol.selected_inverse();
            // Every entry of A's pattern (either triangle) is held.
            let entries: Vec<(usize, usize)> = (0..n)
                .flat_map(|j| (col_ptr[j]..col_ptr[j + 1]).map(move |p| (j, p)))
                .flat_map(|(j, p)| [(row_idx[p], j), (j, row_idx[p])])
                .collect();
            let map = chol.entry_map(&entries).unwrap();
            assert_eq!(map.len(), entries.len());
            let mut got = vec![0.0; entries.len()];
            chol.gather(&map, &mut got);
            for (&(i, j), &g) in entries.iter().zip(&got) {
                let e = d.inv[(i, j)];
                assert!(
                    (g - e).abs() <= 1e-10 * scale,
                    "{what}: Z[{i},{j}] = {g}, dense {e}"
                );
            }
            // Every pair: inside the factor's pattern it equals the dense
            // inverse; outside it is an error naming the entry.
            let mut held = 0;
            for i in 0..n {
                for j in 0..n {
                    match chol.entry_map(&[(i, j)]) {
                        Ok(m) => {
                            let mut g = [0.0];
                            chol.gather(&m, &mut g);
                            let e = d.inv[(i, j)];
                            assert!(
                                (g[0] - e).abs() <= 1e-10 * scale,
                                "{what}: Z[{i},{j}] = {}, dense {e}",
                                g[0]
                            );
                            held += 1;
                        }
                        Err(err) => {
                            assert_eq!(err, SparseError::OutOfPattern { row: i, col: j })
                        }
                    }
                }
            }
            // L + Lᵀ holds at least A's pattern (2 nnz(A) − n entries), and
            // exactly 2 nnz(L) − n entries in the simplicial layout.
            assert!(held >= 2 * values.len() - n, "{what}: {held} entries held");
            if layout == Layout::Simplicial {
                assert_eq!(held, 2 * chol.nnz_l() - n, "{what}");
            }
        }
        // The selected inverse written over the factor: the same inverse
        // and log det; the supernodal factor is gone until the next
        // factorization, after which it solves again.
        chol.selected_inverse_in_place();
        assert_eq!(chol.has_factor(), !chol.is_supernodal(), "{what}");
        let entries: Vec<(usize, usize)> = (0..n)
            .flat_map(|j| (col_ptr[j]..col_ptr[j + 1]).map(move |p| (p, j)))
            .map(|(p, j)| (row_idx[p], j))
            .collect();
        let mut got = vec![0.0; entries.len()];
        chol.gather(&chol.entry_map(&entries).unwrap(), &mut got);
        for (&(i, j), &g) in entries.iter().zip(&got) {
            let e = d.inv[(i, j)];
            assert!(
                (g - e).abs() <= 1e-10 * scale,
                "{what}, in place: Z[{i},{j}] = {g}, dense {e}"
            );
        }
        assert!((chol.log_det() - d.log_det).abs() <= 1e-10 * d.log_det.abs().max(1.0));
        chol.factor(&values).unwrap();
        assert!(chol.has_factor());
        let mut x = b.clone();
        chol.solve_in_place(x.as_mut());
        assert!(max_abs(&(&x - &x_dense)) <= 1e-10 * max_abs(&x_dense).max(1e-300));
        formed.push((layout, chol.is_supernodal(), chol.n_supernodes()));
    }
    formed
}

/// Makes column `k` alone indefinite (its diagonal entry far below zero)
/// for each `k` of `ks`, in every layout and ordering. Every principal
/// submatrix without `k` stays positive definite, so in any elimination
/// order the first pivot to fail is `k`'s: the error must name `k`, and the
/// same object must factor the good values afterwards.
fn check_fails_at(a: &Mat<f64>, ks: &[usize]) {
    let n = a.nrows();
    let (col_ptr, row_idx, values) = lower_csc(a);
    for (layout, ordering) in ALL {
        let opts = SparseOptions {
            ordering,
            layout,
            threads: 1,
        };
        let mut chol = SparseCholesky::analyse(n, &col_ptr, &row_idx, &opts).unwrap();
        for &k in ks {
            let mut bad = values.clone();
            bad[col_ptr[k]] = -10.0 * values[col_ptr[k]];
            assert_eq!(
                chol.factor(&bad).unwrap_err(),
                SparseError::NotPositiveDefinite { column: k },
                "{layout:?}/{ordering:?} n = {n}"
            );
            assert!(chol.log_det().is_nan());
            chol.factor(&values).unwrap();
            assert!(chol.log_det().is_finite());
        }
    }
}

/// An indefinite column and a NaN value are errors naming the column,
/// never panics.
fn check_not_pd(a: &Mat<f64>) {
    let n = a.nrows();
    check_fails_at(a, &[n / 2]);
    let (col_ptr, row_idx, values) = lower_csc(a);
    for (layout, ordering) in ALL {
        let opts = SparseOptions {
            ordering,
            layout,
            threads: 1,
        };
        let mut chol = SparseCholesky::analyse(n, &col_ptr, &row_idx, &opts).unwrap();
        let mut nan = values.clone();
        nan[col_ptr[n - 1]] = f64::NAN;
        assert_eq!(
            chol.factor(&nan).unwrap_err(),
            SparseError::NotPositiveDefinite { column: n - 1 }
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_sparse_spd(n in 1usize..60, density in 0.0f64..0.25, seed in any::<u64>()) {
        let a = random_spd(n, density, seed);
        check_all(&a, seed);
        check_not_pd(&a);
    }

    #[test]
    fn dense_block_forms_supernodes(n in 12usize..60, k in 1usize..12, seed in any::<u64>()) {
        let k = k.min(n - 1);
        let a = dense_tail(n, k, 0.05, seed);
        for (layout, supernodal, n_super) in check_all(&a, seed) {
            if layout == Layout::Supernodal {
                prop_assert!(supernodal);
                prop_assert!(n_super < n, "no supernode formed: {n_super} of {n}");
            }
        }
    }

    #[test]
    fn crossed_design(qa in 3usize..25, qb in 2usize..15, per in 2usize..6, seed in any::<u64>()) {
        let a = crossed(per * (qa + qb), qa, qb, 0.7, seed);
        let n = a.nrows();
        for (layout, supernodal, n_super) in check_all(&a, seed) {
            if layout == Layout::Supernodal {
                prop_assert!(supernodal);
                prop_assert!(n_super < n, "no supernode formed: {n_super} of {n}");
            }
        }
        check_not_pd(&a);
    }
}

/// The supernodal selected inverse has three kernels: supernodes at most 8
/// columns wide read `Z_RR` in place, wider ones gather it into a dense
/// block, and one-column supernodes under one block of at least 512
/// columns go as a batch. Crossed designs whose second factor has 40 or 90
/// levels (its eliminated block is one wide supernode) under many
/// one-column supernodes of the first factor, and sparse matrices with a
/// dense tail of 9 to 520 columns, exercise all three, and their mixture of
/// ancestors.
#[test]
fn narrow_and_wide_supernodes() {
    for (qb, seed) in [(40, 11), (90, 12)] {
        let a = crossed(15 * (150 + qb), 150, qb, 0.7, seed);
        let n = a.nrows();
        for (layout, supernodal, n_super) in check_all(&a, seed) {
            if layout == Layout::Supernodal {
                assert!(supernodal);
                assert!(n_super + 30 < n, "no wide supernode: {n_super} of {n}");
            }
        }
    }
    // A 520-column dense tail: the sparse columns eliminated before it are
    // one-column supernodes done as a batch, column by column of the tail.
    for (k, seed) in [(9, 1), (17, 2), (40, 3), (520, 4)] {
        let n = k + 80;
        let a = dense_tail(n, k, 0.08, seed);
        for (layout, supernodal, n_super) in check_all(&a, seed) {
            if layout == Layout::Supernodal {
                assert!(supernodal);
                assert!(
                    n_super + k <= n + 1,
                    "{n_super} supernodes with a {k}-column tail"
                );
            }
        }
    }
}

#[test]
fn arrowhead_and_tridiagonal_patterns() {
    // Arrowhead: the last column dense, AMD puts it last; no fill.
    let a = dense_tail(30, 1, 0.0, 7);
    check_all(&a, 7);
    // Tridiagonal, identity ordering: L is bidiagonal, so (2, 0) is outside
    // the pattern of L + Lᵀ and must be refused.
    let n = 6;
    let mut t = Mat::<f64>::zeros(n, n);
    for i in 0..n {
        t[(i, i)] = 4.0;
        if i + 1 < n {
            t[(i + 1, i)] = -1.0;
            t[(i, i + 1)] = -1.0;
        }
    }
    check_all(&t, 3);
    let (col_ptr, row_idx, values) = lower_csc(&t);
    for layout in [Layout::Simplicial, Layout::Supernodal] {
        let opts = SparseOptions {
            ordering: Ordering::Identity,
            layout,
            threads: 1,
        };
        let mut chol = SparseCholesky::analyse(n, &col_ptr, &row_idx, &opts).unwrap();
        chol.factor(&values).unwrap();
        chol.selected_inverse();
        // (The supernodal layout may store it as an explicit zero of a
        // relaxed supernode; its value is then checked by `check_all`.)
        if layout == Layout::Simplicial {
            assert_eq!(
                chol.entry_map(&[(1, 0), (2, 0)]).unwrap_err(),
                SparseError::OutOfPattern { row: 2, col: 0 }
            );
        }
        assert_eq!(
            chol.entry_map(&[(0, 6)]).unwrap_err(),
            SparseError::OutOfPattern { row: 0, col: 6 }
        );
        // Closed form by cofactors: Z_00 = det(T[1.., 1..]) / det(T), with the
        // determinants of the (4, −1) tridiagonal matrices by recurrence.
        let det = |m: usize| {
            // det of the m × m tridiagonal (4, −1): d_m = 4 d_{m−1} − d_{m−2}.
            let (mut a, mut b) = (1.0f64, 4.0f64);
            for _ in 1..m {
                let c = 4.0 * b - a;
                a = b;
                b = c;
            }
            if m == 0 {
                1.0
            } else {
                b
            }
        };
        let map = chol.entry_map(&[(0, 0)]).unwrap();
        let mut z = [0.0];
        chol.gather(&map, &mut z);
        let expected = det(n - 1) / det(n);
        assert!(
            (z[0] - expected).abs() <= 1e-14 * expected,
            "{} vs {expected}",
            z[0]
        );
        assert!((chol.log_det() - det(n).ln()).abs() <= 1e-13 * det(n).ln());
    }
}

#[test]
fn invalid_patterns_are_errors() {
    let opts = SparseOptions::default();
    let invalid = |n: usize, cp: &[usize], ri: &[usize]| {
        matches!(
            SparseCholesky::analyse(n, cp, ri, &opts),
            Err(SparseError::InvalidPattern { .. })
        )
    };
    // An upper-triangle entry (row 0 in column 1).
    assert!(invalid(2, &[0, 1, 3], &[0, 0, 1]));
    // A missing diagonal.
    assert!(invalid(2, &[0, 1, 1], &[1]));
    // col_ptr of the wrong length.
    assert!(invalid(2, &[0, 2], &[0, 1]));
    // Unsorted rows.
    assert!(invalid(3, &[0, 3, 4, 5], &[0, 2, 1, 1, 2]));
    // Row out of range.
    assert!(invalid(2, &[0, 2, 3], &[0, 5, 1]));
    // Values of the wrong length.
    let mut chol = SparseCholesky::analyse(2, &[0, 2, 3], &[0, 1, 1], &opts).unwrap();
    let err = chol.factor(&[2.0, 1.0]).unwrap_err();
    assert!(err.to_string().contains("values has length 2"), "{err}");
    chol.factor(&[2.0, 1.0, 2.0]).unwrap();
    assert!((chol.log_det() - 3.0f64.ln()).abs() < 1e-15);
}

/// `analyse_best` keeps the cheaper of AMD and a structural candidate, and
/// the factor, solves and selected inverse under the chosen ordering are
/// still the dense ones.
#[test]
fn analyse_best_keeps_the_cheaper_ordering_and_stays_exact() {
    // Heavily crossed: 120 × 30 levels, 20 observations per level of `a`.
    let (qa, qb) = (120, 30);
    let a = crossed(20 * qa, qa, qb, 0.7, 42);
    let n = a.nrows();
    let (col_ptr, row_idx, values) = lower_csc(&a);
    let opts = SparseOptions {
        ordering: Ordering::Amd,
        layout: Layout::Auto,
        threads: 1,
    };
    // The larger term first, the smaller next, the two fixed effects last:
    // the fill is confined to the 30 + 2 trailing columns.
    let by_levels: Vec<usize> = (2..2 + qa).chain(2 + qa..n).chain(0..2).collect();
    let amd = SparseCholesky::analyse(n, &col_ptr, &row_idx, &opts).unwrap();
    let mut best = SparseCholesky::analyse_best(
        n,
        &col_ptr,
        &row_idx,
        &opts,
        std::slice::from_ref(&by_levels),
    )
    .unwrap();
    let structural = {
        let id = SparseOptions {
            ordering: Ordering::Identity,
            ..opts
        };
        // The same ordering, applied by hand: permute A and factor it as given.
        let p = Mat::<f64>::from_fn(n, n, |i, j| a[(by_levels[i], by_levels[j])]);
        let (cp, ri, _) = lower_csc(&p);
        SparseCholesky::analyse(n, &cp, &ri, &id).unwrap()
    };
    assert!(
        best.nnz_l() <= amd.nnz_l().min(structural.nnz_l()),
        "best {} vs AMD {} and structural {}",
        best.nnz_l(),
        amd.nnz_l(),
        structural.nnz_l()
    );
    let d = dense(&a);
    best.factor(&values).unwrap();
    assert!((best.log_det() - d.log_det).abs() <= 1e-10 * d.log_det.abs());
    let mut x = Mat::<f64>::from_fn(n, 1, |i, _| (i as f64).sin());
    let x_dense = d.llt.solve(&x);
    best.solve_in_place(x.as_mut());
    assert!(max_abs(&(&x - &x_dense)) <= 1e-10 * max_abs(&x_dense));
    best.selected_inverse();
    let rows = &row_idx;
    let entries: Vec<(usize, usize)> = (0..n)
        .flat_map(|j| (col_ptr[j]..col_ptr[j + 1]).map(move |p| (rows[p], j)))
        .collect();
    let map = best.entry_map(&entries).unwrap();
    let mut got = vec![0.0; entries.len()];
    best.gather(&map, &mut got);
    let scale = max_abs(&d.inv);
    for (&(i, j), &g) in entries.iter().zip(&got) {
        assert!((g - d.inv[(i, j)]).abs() <= 1e-10 * scale, "Z[{i},{j}]");
    }
    // A candidate that is not a permutation is an error, not a panic.
    let mut bad = by_levels;
    bad[0] = bad[1];
    let e = SparseCholesky::analyse_best(n, &col_ptr, &row_idx, &opts, &[bad]).unwrap_err();
    assert!(e.to_string().contains("not a permutation"), "{e}");
}

/// The numeric factorization and the selected inverse take the one-column
/// supernodes under a wide block as a batch, column by column of the block,
/// on several threads when the batch is large enough (here 1,500 levels of
/// one factor, about 90 levels of the other each, under the other's
/// 600-column block). On one thread and on two, the factor must give the
/// dense log determinant and solves and the selected inverse the dense
/// inverse (on the columns of seven levels, from dense solves),
/// and the two must agree on every entry of the pattern of `A`.
#[test]
fn batched_factorization_and_inverse_on_two_threads() {
    let a = crossed(150_000, 1500, 600, 0.7, 21);
    let n = a.nrows();
    let (col_ptr, row_idx, values) = lower_csc(&a);
    let llt = a.llt(Side::Lower).expect("the test matrix is SPD");
    let log_det = 2.0 * (0..n).map(|i| llt.L()[(i, i)].ln()).sum::<f64>();
    let mut rng = Rng::new(7);
    let b = Mat::<f64>::from_fn(n, 2, |_, _| 2.0 * rng.unif() - 1.0);
    let x_dense = llt.solve(&b);
    let columns = [2, 3, 700, 1501, 1502, 1900, 2101];
    let unit = Mat::<f64>::from_fn(n, columns.len(), |i, k| {
        f64::from(u8::from(i == columns[k]))
    });
    let inv_columns = llt.solve(&unit);
    let pattern: Vec<(usize, usize)> = (0..n)
        .flat_map(|j| (col_ptr[j]..col_ptr[j + 1]).map(move |p| (j, p)))
        .map(|(j, p)| (row_idx[p], j))
        .collect();
    let mut results = Vec::new();
    for threads in [1, 2] {
        let opts = SparseOptions {
            ordering: Ordering::Amd,
            layout: Layout::Supernodal,
            threads,
        };
        let mut chol = SparseCholesky::analyse(n, &col_ptr, &row_idx, &opts).unwrap();
        let sizes = chol.supernode_sizes();
        let widest = sizes.iter().map(|&(w, _)| w).max().unwrap();
        let single = sizes.iter().filter(|&&(w, _)| w == 1).count();
        assert!(
            widest >= 600 && single >= 1400,
            "{widest} wide, {single} single"
        );
        chol.factor(&values).unwrap();
        let ld = chol.log_det();
        assert!(
            (ld - log_det).abs() <= 1e-10 * log_det.abs(),
            "{threads} threads: log det {ld} vs dense {log_det}"
        );
        let mut x = b.clone();
        chol.solve_in_place(x.as_mut());
        let err = max_abs(&(&x - &x_dense));
        assert!(
            err <= 1e-10 * max_abs(&x_dense),
            "{threads} threads: solve error {err}"
        );
        chol.selected_inverse();
        let scale = max_abs(&inv_columns);
        for (k, &j) in columns.iter().enumerate() {
            let held: Vec<(usize, usize)> = (0..n)
                .map(|i| (i, j))
                .filter(|&e| chol.entry_map(&[e]).is_ok())
                .collect();
            assert!(held.len() > 1, "column {j}");
            let mut got = vec![0.0; held.len()];
            chol.gather(&chol.entry_map(&held).unwrap(), &mut got);
            for (&(i, _), g) in held.iter().zip(got) {
                let e = inv_columns[(i, k)];
                assert!(
                    (g - e).abs() <= 1e-10 * scale,
                    "{threads} threads: Z[{i},{j}] = {g}, dense {e}"
                );
            }
        }
        let mut z = vec![0.0; pattern.len()];
        chol.gather(&chol.entry_map(&pattern).unwrap(), &mut z);
        // Written over the factor (the batch reads a copy of its members'
        // columns): the same values.
        chol.factor(&values).unwrap();
        chol.selected_inverse_in_place();
        let mut z2 = vec![0.0; pattern.len()];
        chol.gather(&chol.entry_map(&pattern).unwrap(), &mut z2);
        for (a, b) in z.iter().zip(&z2) {
            assert!(
                (a - b).abs() <= 1e-12 * scale,
                "{threads} threads: in place {b}, {a}"
            );
        }
        results.push((ld, x, z));
    }
    let (ld1, x1, z1) = &results[0];
    let (ld2, x2, z2) = &results[1];
    assert!((ld1 - ld2).abs() <= 1e-12 * ld1.abs());
    assert!(max_abs(&(x1 - x2)) <= 1e-12 * max_abs(x1));
    let z_scale = z1.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (k, (u, v)) in z1.iter().zip(z2).enumerate() {
        assert!(
            (u - v).abs() <= 1e-12 * z_scale,
            "entry {:?}: {u} on one thread, {v} on two",
            pattern[k]
        );
    }
}

/// `g` groups, each a 5-column clique tied to a one-column `u` and to 3
/// rows of a dense tail of `k` columns, `u` tied to `wide` tail rows
/// (including the first): under the identity ordering every `u` is a batch
/// member with a multi-column descendant, whose updates must reach `u`
/// before `u` updates the tail.
fn members_with_children(g: usize, wide: usize, k: usize, seed: u64) -> Mat<f64> {
    let mut rng = Rng::new(seed);
    let n = 6 * g + k;
    let tail0 = 6 * g;
    let mut a = Mat::<f64>::zeros(n, n);
    let set = |a: &mut Mat<f64>, i: usize, j: usize, rng: &mut Rng| {
        if i != j {
            let v = 2.0 * rng.unif() - 1.0;
            a[(i, j)] = v;
            a[(j, i)] = v;
        }
    };
    for i in tail0..n {
        for j in tail0..n {
            if i < j {
                set(&mut a, i, j, &mut rng);
            }
        }
    }
    for gi in 0..g {
        let c0 = 6 * gi;
        let u = c0 + 5;
        // u's wide rows: first tail column plus random others.
        let mut rows = vec![tail0];
        while rows.len() < wide {
            let r = tail0 + 1 + rng.below(k - 1);
            if !rows.contains(&r) {
                rows.push(r);
            }
        }
        for &r in &rows {
            set(&mut a, u, r, &mut rng);
        }
        for x in c0..u {
            for y in x + 1..=u {
                set(&mut a, x, y, &mut rng);
            }
            for &r in &rows[..3] {
                set(&mut a, x, r, &mut rng);
            }
        }
    }
    dominate(&mut a, &mut rng);
    a
}

/// Factors `a` in the supernodal layout; checks log det and every entry of
/// the selected inverse against the dense computation; returns both.
fn check_supernodal(a: &Mat<f64>, ordering: Ordering, threads: usize) -> (f64, Vec<f64>) {
    let n = a.nrows();
    let (col_ptr, row_idx, values) = lower_csc(a);
    let d = dense(a);
    let scale = max_abs(&d.inv);
    let opts = SparseOptions {
        ordering,
        layout: Layout::Supernodal,
        threads,
    };
    let mut chol = SparseCholesky::analyse(n, &col_ptr, &row_idx, &opts).unwrap();
    chol.factor(&values).unwrap();
    let ld = chol.log_det();
    assert!(
        (ld - d.log_det).abs() <= 1e-10 * d.log_det.abs().max(1.0),
        "{ld} vs {}",
        d.log_det
    );
    chol.selected_inverse();
    let mut entries = Vec::new();
    for i in 0..n {
        for j in 0..n {
            if chol.entry_map(&[(i, j)]).is_ok() {
                entries.push((i, j));
            }
        }
    }
    let mut got = vec![0.0; entries.len()];
    chol.gather(&chol.entry_map(&entries).unwrap(), &mut got);
    for (&(i, j), &g) in entries.iter().zip(&got) {
        let e = d.inv[(i, j)];
        assert!(
            (g - e).abs() <= 1e-10 * scale,
            "{threads} thr: Z[{i},{j}] = {g}, dense {e}"
        );
    }
    (ld, got)
}

/// Batch members with descendants, on 1, 2 and 64 threads (one member per
/// group of the selected inverse), all equal to the dense results and to
/// each other.
#[test]
fn batch_members_with_descendants() {
    let a = members_with_children(45, 500, 520, 5);
    let n = a.nrows();
    let (col_ptr, row_idx, _) = lower_csc(&a);
    let opts = SparseOptions {
        ordering: Ordering::Identity,
        layout: Layout::Supernodal,
        threads: 1,
    };
    let sizes = SparseCholesky::analyse(n, &col_ptr, &row_idx, &opts)
        .unwrap()
        .supernode_sizes();
    // The cliques (5 columns), the members under the tail (one column, 500
    // rows), the tail (520 columns).
    let count = |f: &dyn Fn(usize, usize) -> bool| sizes.iter().filter(|&&(w, m)| f(w, m)).count();
    assert!(count(&|w, _| w == 5) >= 40, "{sizes:?}");
    assert!(count(&|w, m| w == 1 && m >= 499) >= 40, "{sizes:?}");
    assert_eq!(count(&|w, _| w >= 520), 1, "{sizes:?}");
    let mut res = Vec::new();
    for threads in [1, 2, 64] {
        res.push(check_supernodal(&a, Ordering::Identity, threads));
    }
    for r in &res[1..] {
        assert_eq!(r.1.len(), res[0].1.len());
        for (u, v) in r.1.iter().zip(&res[0].1) {
            assert!((u - v).abs() <= 1e-12 * u.abs().max(1e-300));
        }
    }
    check_supernodal(&a, Ordering::Amd, 2);
}

/// Orders 0 and 1 and a diagonal matrix in the supernodal layout.
#[test]
fn edge_sizes() {
    let opts = SparseOptions {
        ordering: Ordering::Amd,
        layout: Layout::Supernodal,
        threads: 2,
    };
    let mut c = SparseCholesky::analyse(0, &[0], &[], &opts).unwrap();
    c.factor(&[]).unwrap();
    assert_eq!(c.log_det(), 0.0);
    c.selected_inverse();
    let mut c = SparseCholesky::analyse(1, &[0, 1], &[0], &opts).unwrap();
    c.factor(&[4.0]).unwrap();
    c.selected_inverse();
    let mut z = [0.0];
    c.gather(&c.entry_map(&[(0, 0)]).unwrap(), &mut z);
    assert_eq!(z[0], 0.25);
    assert_eq!(
        c.factor(&[-4.0]).unwrap_err(),
        SparseError::NotPositiveDefinite { column: 0 }
    );
    assert_eq!(
        c.factor(&[0.0]).unwrap_err(),
        SparseError::NotPositiveDefinite { column: 0 }
    );
    let mut d = Mat::<f64>::zeros(7, 7);
    for i in 0..7 {
        d[(i, i)] = 1.0 + i as f64;
    }
    check_all(&d, 1);
}

/// The error names the indefinite column, wherever it lies, in matrices
/// that exercise every kernel of the factorization (a dense block, dense
/// tails, a crossed design, batch members with descendants).
#[test]
fn a_non_positive_pivot_names_its_column() {
    let mats = vec![
        dense_tail(30, 30, 0.0, 3),
        dense_tail(60, 12, 0.05, 4),
        crossed(8 * 30, 20, 10, 0.7, 5),
        dense_tail(600, 520, 0.08, 6),
        members_with_children(4, 30, 40, 7),
    ];
    for a in &mats {
        let n = a.nrows();
        check_fails_at(a, &[0, 1, n / 3, n / 2, n - 2, n - 1]);
    }
}
