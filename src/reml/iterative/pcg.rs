//! The mixed-model equations as an operator on the data, and their solution
//! by block-Jacobi preconditioned conjugate gradients for many right-hand
//! sides at once.
//!
//! With `W = [X Z₁ … Z_K]` and `λ_k = σ²_e / σ²_k`, the coefficient matrix is
//! `C = WᵀW + diag(0, λ₁I, …, λ_K I)` (Henderson's equations multiplied by
//! `σ²_e`). `C` is never formed: one product `C V` is one pass over the
//! rows (each row meets `p` fixed columns and one level of every term), so
//! memory is `O(n p + dim · m)` for `m` right-hand sides. Blocks of vectors
//! are stored unknown-major (entry `(i, j)` at `i · m + j`), so that a row
//! reads and writes `m` contiguous values per level it meets.

// Index loops over blocks of vectors read clearer than zipped iterators.
#![allow(clippy::needless_range_loop)]

use nalgebra::DMatrix;
use std::ops::Range;

/// The data of a variance-component model, seen row by row.
pub(crate) struct Data<'a> {
    pub n: usize,
    pub p: usize,
    /// `X` by rows (`n × p`).
    pub x: Vec<f64>,
    /// The level of each row, per random term.
    pub levels: Vec<&'a [usize]>,
    /// Levels per term.
    pub q: Vec<usize>,
    /// First unknown of each term (`p + Σ q` before it).
    pub off: Vec<usize>,
    /// `p + Σ q`.
    pub dim: usize,
    /// Rows per level, per term (the diagonal of `Z_kᵀZ_k`).
    pub counts: Vec<Vec<f64>>,
    /// `(XᵀX)⁻¹`, the fixed block of the preconditioner.
    pub xtx_inv: DMatrix<f64>,
    /// `XᵀX`, row major (`p × p`).
    xtx: Vec<f64>,
    /// `Z_kᵀX` per term, row major (`q_k × p`).
    ztx: Vec<Vec<f64>>,
    /// `Z_aᵀZ_b` for every pair of terms, compressed.
    crosses: Vec<Cross>,
    /// Threads for a pass over the data.
    pub threads: usize,
}

impl<'a> Data<'a> {
    pub fn new(
        x: &faer::Mat<f64>,
        levels: Vec<&'a [usize]>,
        q: Vec<usize>,
    ) -> Result<Self, String> {
        let (n, p) = (x.nrows(), x.ncols());
        let mut xr = vec![0.0; n * p];
        for j in 0..p {
            let c = x.col_as_slice(j);
            for r in 0..n {
                xr[r * p + j] = c[r];
            }
        }
        let mut off = Vec::with_capacity(q.len());
        let mut dim = p;
        for &qk in &q {
            off.push(dim);
            dim += qk;
        }
        let counts = levels
            .iter()
            .zip(&q)
            .map(|(l, &qk)| {
                let mut c = vec![0.0; qk];
                for &i in l.iter() {
                    c[i] += 1.0;
                }
                c
            })
            .collect();
        let mut xtx = DMatrix::zeros(p, p);
        for r in 0..n {
            let row = &xr[r * p..(r + 1) * p];
            for a in 0..p {
                for b in 0..=a {
                    xtx[(a, b)] += row[a] * row[b];
                }
            }
        }
        for a in 0..p {
            for b in 0..a {
                xtx[(b, a)] = xtx[(a, b)];
            }
        }
        let xtx_flat: Vec<f64> = (0..p * p).map(|i| xtx[(i / p, i % p)]).collect();
        let xtx_inv = if p == 0 {
            DMatrix::zeros(0, 0)
        } else {
            xtx.cholesky()
                .ok_or_else(|| "XᵀX is not positive definite".to_string())?
                .inverse()
        };
        let threads = rayon::current_num_threads().clamp(1, 64);
        let mut ztx: Vec<Vec<f64>> = q.iter().map(|&qk| vec![0.0; qk * p]).collect();
        for (k, l) in levels.iter().enumerate() {
            for r in 0..n {
                let o = l[r] * p;
                for a in 0..p {
                    ztx[k][o + a] += xr[r * p + a];
                }
            }
        }
        let mut crosses = Vec::new();
        for a in 0..q.len() {
            for b in a + 1..q.len() {
                // Rows by the term with more levels: the scattered side is
                // the smaller one (it stays in cache longer).
                let (ra, rb) = if q[a] >= q[b] { (a, b) } else { (b, a) };
                crosses.push(Cross::new(ra, rb, levels[ra], levels[rb], q[ra], q[rb])?);
            }
        }
        Ok(Data {
            n,
            p,
            x: xr,
            levels,
            q,
            off,
            dim,
            counts,
            xtx_inv,
            xtx: xtx_flat,
            ztx,
            crosses,
            threads,
        })
    }

    fn ranges(&self) -> Vec<Range<usize>> {
        let t = self.threads.min(self.n.max(1) / 4096 + 1).max(1);
        let chunk = self.n.div_ceil(t);
        (0..t)
            .map(|i| (i * chunk).min(self.n)..((i + 1) * chunk).min(self.n))
            .collect()
    }

    /// Runs `f(rows, out)` on row ranges in parallel, each with its own
    /// zeroed `len`-vector, and returns their sum.
    pub fn pass<F>(&self, len: usize, f: F) -> Vec<f64>
    where
        F: Fn(Range<usize>, &mut [f64]) + Sync,
    {
        let ranges = self.ranges();
        let mut parts: Vec<Vec<f64>> = Vec::with_capacity(ranges.len());
        std::thread::scope(|s| {
            let handles: Vec<_> = ranges
                .into_iter()
                .map(|r| {
                    let f = &f;
                    s.spawn(move || {
                        let mut out = vec![0.0; len];
                        f(r, &mut out);
                        out
                    })
                })
                .collect();
            for h in handles {
                parts.push(h.join().expect("a data pass panicked"));
            }
        });
        let mut total = parts.pop().unwrap_or_else(|| vec![0.0; len]);
        for part in parts {
            for (t, v) in total.iter_mut().zip(part) {
                *t += v;
            }
        }
        total
    }

    /// `Wᵀ B` for an `n × m` block `B` given row by row by `row(r, out)`.
    pub fn wt_rows<F>(&self, m: usize, row: F) -> Vec<f64>
    where
        F: Fn(usize, &mut [f64]) + Sync,
    {
        let p = self.p;
        self.pass(self.dim * m, |rows, out| {
            let mut b = vec![0.0; m];
            for r in rows {
                row(r, &mut b);
                let xr = &self.x[r * p..(r + 1) * p];
                for (j, &xv) in xr.iter().enumerate() {
                    if xv != 0.0 {
                        let o = &mut out[j * m..(j + 1) * m];
                        for (o, bv) in o.iter_mut().zip(&b) {
                            *o += xv * bv;
                        }
                    }
                }
                for (k, l) in self.levels.iter().enumerate() {
                    let i = self.off[k] + l[r];
                    let o = &mut out[i * m..(i + 1) * m];
                    for (o, bv) in o.iter_mut().zip(&b) {
                        *o += bv;
                    }
                }
            }
        })
    }

    /// `C V` for a `dim × m` block `V`: from the cross products held in
    /// compressed form (`XᵀX`, `Z_kᵀX`, the level counts and `Z_aᵀZ_b`),
    /// not from the rows; the pairs of terms in parallel row ranges.
    pub fn mul(&self, v: &[f64], m: usize, lambda: &[f64]) -> Vec<f64> {
        let p = self.p;
        let mut out = vec![0.0; self.dim * m];
        for a in 0..p {
            for b in 0..p {
                let c = self.xtx[a * p + b];
                if c != 0.0 {
                    axpy(&mut out[a * m..(a + 1) * m], c, &v[b * m..(b + 1) * m]);
                }
            }
        }
        for k in 0..self.q.len() {
            let lk = lambda[k];
            for (i, &cnt) in self.counts[k].iter().enumerate() {
                let oi = (self.off[k] + i) * m;
                let (head, tail) = out.split_at_mut(oi);
                let oi_row = &mut tail[..m];
                axpy(oi_row, cnt + lk, &v[oi..oi + m]);
                let row = &self.ztx[k][i * p..(i + 1) * p];
                for (a, &c) in row.iter().enumerate() {
                    if c != 0.0 {
                        axpy(oi_row, c, &v[a * m..(a + 1) * m]);
                        axpy(&mut head[a * m..(a + 1) * m], c, &v[oi..oi + m]);
                    }
                }
            }
        }
        for cr in &self.crosses {
            cr.mul(self, v, m, &mut out);
        }
        out
    }

    /// The block-Jacobi preconditioner: `(XᵀX)⁻¹` on the fixed block,
    /// `1 / (count + λ_k)` on each level of term `k`.
    fn precondition(&self, r: &[f64], m: usize, lambda: &[f64], z: &mut [f64]) {
        let p = self.p;
        for j in 0..m {
            for a in 0..p {
                let mut s = 0.0;
                for b in 0..p {
                    s += self.xtx_inv[(a, b)] * r[b * m + j];
                }
                z[a * m + j] = s;
            }
        }
        for (k, &lk) in lambda.iter().enumerate() {
            for (l, &c) in self.counts[k].iter().enumerate() {
                let i = self.off[k] + l;
                let d = 1.0 / (c + lk);
                for j in 0..m {
                    z[i * m + j] = r[i * m + j] * d;
                }
            }
        }
    }
}

/// `y += c x`.
#[inline]
fn axpy(y: &mut [f64], c: f64, x: &[f64]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += c * x;
    }
}

/// `Z_aᵀZ_b` (`a ≠ b`) as sparse rows by the levels of `a`: the levels of
/// `b` met (`u32`) and how often (the number of rows with both).
pub(crate) struct Cross {
    a: usize,
    b: usize,
    /// Row starts, `q_a + 1`.
    start: Vec<usize>,
    col: Vec<u32>,
    count: Vec<u32>,
}

impl Cross {
    fn new(
        a: usize,
        b: usize,
        la: &[usize],
        lb: &[usize],
        qa: usize,
        qb: usize,
    ) -> Result<Self, String> {
        if qb > u32::MAX as usize || la.len() > u32::MAX as usize {
            return Err("a term with more than 2³² levels or rows".into());
        }
        let mut start = vec![0usize; qa + 1];
        for &i in la {
            start[i + 1] += 1;
        }
        for i in 0..qa {
            start[i + 1] += start[i];
        }
        let mut col = vec![0u32; la.len()];
        {
            let mut fill = start.clone();
            for (&i, &j) in la.iter().zip(lb) {
                col[fill[i]] = j as u32;
                fill[i] += 1;
            }
        }
        let mut count: Vec<u32> = Vec::new();
        let mut w = 0;
        for i in 0..qa {
            let (lo, hi) = (start[i], start[i + 1]);
            col[lo..hi].sort_unstable();
            start[i] = w;
            let mut k = lo;
            while k < hi {
                let c = col[k];
                let mut e = k + 1;
                while e < hi && col[e] == c {
                    e += 1;
                }
                col[w] = c;
                count.push((e - k) as u32);
                w += 1;
                k = e;
            }
        }
        start[qa] = w;
        col.truncate(w);
        col.shrink_to_fit();
        count.shrink_to_fit();
        Ok(Cross {
            a,
            b,
            start,
            col,
            count,
        })
    }

    /// Adds `Z_aᵀZ_b V_b` to the rows of `a` and `Z_bᵀZ_a V_a` to the rows
    /// of `b` (row ranges of `a` in parallel, each with its own copy of the
    /// rows of `b`).
    fn mul(&self, d: &Data<'_>, v: &[f64], m: usize, out: &mut [f64]) {
        let (oa, ob) = (d.off[self.a], d.off[self.b]);
        let (qa, qb) = (d.q[self.a], d.q[self.b]);
        let nnz = self.col.len();
        let t = d.threads.min(nnz / 65_536 + 1).max(1);
        // Row ranges of `a` with about equal numbers of entries.
        let mut cuts = vec![0usize];
        for s in 1..t {
            let target = nnz * s / t;
            let i = self.start.partition_point(|&x| x < target).min(qa);
            cuts.push(i.max(*cuts.last().unwrap_or(&0)));
        }
        cuts.push(qa);
        let va = &v[oa * m..(oa + qa) * m];
        let vb = &v[ob * m..(ob + qb) * m];
        let work = |lo: usize, hi: usize| {
            let mut ya = vec![0.0; (hi - lo) * m];
            let mut yb = vec![0.0; qb * m];
            for i in lo..hi {
                let acc = &mut ya[(i - lo) * m..(i - lo + 1) * m];
                let vi = &va[i * m..(i + 1) * m];
                for e in self.start[i]..self.start[i + 1] {
                    let j = self.col[e] as usize;
                    let c = self.count[e] as f64;
                    axpy(acc, c, &vb[j * m..(j + 1) * m]);
                    axpy(&mut yb[j * m..(j + 1) * m], c, vi);
                }
            }
            (ya, yb)
        };
        let parts: Vec<(Vec<f64>, Vec<f64>)> = if t == 1 {
            vec![work(0, qa)]
        } else {
            std::thread::scope(|s| {
                let hs: Vec<_> = cuts
                    .windows(2)
                    .map(|w| {
                        let (lo, hi) = (w[0], w[1]);
                        let work = &work;
                        s.spawn(move || work(lo, hi))
                    })
                    .collect();
                hs.into_iter()
                    .map(|h| h.join().expect("a product thread panicked"))
                    .collect()
            })
        };
        for (w, (ya, yb)) in cuts.windows(2).zip(parts) {
            let o = &mut out[(oa + w[0]) * m..(oa + w[1]) * m];
            for (o, y) in o.iter_mut().zip(&ya) {
                *o += y;
            }
            let o = &mut out[ob * m..(ob + qb) * m];
            for (o, y) in o.iter_mut().zip(&yb) {
                *o += y;
            }
        }
    }
}

/// Column-wise dot products of two `dim × m` blocks.
fn dots(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut d = vec![0.0; m];
    for (ra, rb) in a.chunks_exact(m).zip(b.chunks_exact(m)) {
        for j in 0..m {
            d[j] += ra[j] * rb[j];
        }
    }
    d
}

/// The result of a block solve.
pub(crate) struct Solved {
    /// The solutions, `dim × m`.
    pub x: Vec<f64>,
    /// Their residuals `B − C X` (as updated by the recurrence).
    pub r: Vec<f64>,
    /// CG steps (passes over the data) taken.
    pub steps: usize,
    /// Whether every column reached its tolerance.
    pub converged: bool,
}

/// Solves `C X = B` (`dim × m`) by preconditioned conjugate gradients, each
/// column its own Krylov sequence, all sharing one pass over the data per
/// step. Column `j` stops when `‖r_j‖ ≤ tol · ‖b_j‖`; `x0` is a start.
pub(crate) fn solve(
    d: &Data<'_>,
    b: &[f64],
    m: usize,
    lambda: &[f64],
    tol: f64,
    max_steps: usize,
    x0: Option<&[f64]>,
) -> Solved {
    let bnorm: Vec<f64> = dots(b, b, m).into_iter().map(f64::sqrt).collect();
    let (mut x, mut r) = start(d, b, m, lambda, x0, &bnorm);
    let mut active: Vec<bool> = bnorm.iter().map(|&n| n > 0.0).collect();
    let mut z = vec![0.0; d.dim * m];
    d.precondition(&r, m, lambda, &mut z);
    let mut dir = z.clone();
    let mut rz = dots(&r, &z, m);
    let mut steps = 0;
    retire_solved(&r, m, tol, &bnorm, &mut active);
    while active.iter().any(|a| *a) && steps < max_steps {
        let q = d.mul(&dir, m, lambda);
        steps += 1;
        let pq = dots(&dir, &q, m);
        let alpha: Vec<f64> = (0..m)
            .map(|j| {
                if active[j] && pq[j] > 0.0 {
                    rz[j] / pq[j]
                } else {
                    0.0
                }
            })
            .collect();
        for ((xr, rr), (dr, qr)) in x
            .chunks_exact_mut(m)
            .zip(r.chunks_exact_mut(m))
            .zip(dir.chunks_exact(m).zip(q.chunks_exact(m)))
        {
            for j in 0..m {
                xr[j] += alpha[j] * dr[j];
                rr[j] -= alpha[j] * qr[j];
            }
        }
        for j in 0..m {
            if active[j] && pq[j] <= 0.0 {
                // Breakdown (C is positive definite in exact arithmetic):
                // the column is as solved as it gets.
                active[j] = false;
            }
        }
        retire_solved(&r, m, tol, &bnorm, &mut active);
        d.precondition(&r, m, lambda, &mut z);
        let rz_new = dots(&r, &z, m);
        next_direction(&mut dir, &z, &rz, &rz_new, &active, m);
        rz = rz_new;
    }
    let converged = !active.iter().any(|a| *a);
    Solved {
        x,
        r,
        steps,
        converged,
    }
}

/// The start `x` (the warm start `x0` when it has the block's size, else
/// 0; a zero right-hand side's column 0) and its residual `r = b − Cx`.
fn start(
    d: &Data<'_>,
    b: &[f64],
    m: usize,
    lambda: &[f64],
    x0: Option<&[f64]>,
    bnorm: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let len = d.dim * m;
    let mut x = match x0 {
        Some(x0) if x0.len() == len => x0.to_vec(),
        _ => vec![0.0; len],
    };
    let mut r = b.to_vec();
    if x.iter().any(|v| *v != 0.0) {
        let cx = d.mul(&x, m, lambda);
        for (r, c) in r.iter_mut().zip(&cx) {
            *r -= c;
        }
    }
    for (j, _) in bnorm.iter().enumerate().filter(|(_, &n)| n == 0.0) {
        for i in 0..d.dim {
            x[i * m + j] = 0.0;
        }
    }
    (x, r)
}

/// Marks the columns whose residual is below `tol` times their
/// right-hand side's norm as solved.
fn retire_solved(r: &[f64], m: usize, tol: f64, bnorm: &[f64], active: &mut [bool]) {
    let rn = dots(r, r, m);
    for j in 0..m {
        if active[j] && rn[j].sqrt() <= tol * bnorm[j] {
            active[j] = false;
        }
    }
}

/// The next search direction of every active column:
/// `p ← z + (rᵀz)_new / (rᵀz)_old · p`.
fn next_direction(
    dir: &mut [f64],
    z: &[f64],
    rz: &[f64],
    rz_new: &[f64],
    active: &[bool],
    m: usize,
) {
    let beta: Vec<f64> = (0..m)
        .map(|j| if rz[j] > 0.0 { rz_new[j] / rz[j] } else { 0.0 })
        .collect();
    for (dr, zr) in dir.chunks_exact_mut(m).zip(z.chunks_exact(m)) {
        for j in 0..m {
            if active[j] {
                dr[j] = zr[j] + beta[j] * dr[j];
            }
        }
    }
}
