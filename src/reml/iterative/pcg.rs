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
        let xtx_inv = if p == 0 {
            DMatrix::zeros(0, 0)
        } else {
            xtx.cholesky()
                .ok_or_else(|| "XᵀX is not positive definite".to_string())?
                .inverse()
        };
        let threads = rayon::current_num_threads().clamp(1, 64);
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

    /// `C V` for a `dim × m` block `V` (one pass over the data).
    pub fn mul(&self, v: &[f64], m: usize, lambda: &[f64]) -> Vec<f64> {
        let p = self.p;
        let mut out = self.pass(self.dim * m, |rows, out| {
            let mut t = vec![0.0; m];
            for r in rows {
                t.iter_mut().for_each(|x| *x = 0.0);
                let xr = &self.x[r * p..(r + 1) * p];
                for (j, &xv) in xr.iter().enumerate() {
                    if xv != 0.0 {
                        for (t, vv) in t.iter_mut().zip(&v[j * m..(j + 1) * m]) {
                            *t += xv * vv;
                        }
                    }
                }
                for (k, l) in self.levels.iter().enumerate() {
                    let i = self.off[k] + l[r];
                    for (t, vv) in t.iter_mut().zip(&v[i * m..(i + 1) * m]) {
                        *t += vv;
                    }
                }
                for (j, &xv) in xr.iter().enumerate() {
                    if xv != 0.0 {
                        for (o, tv) in out[j * m..(j + 1) * m].iter_mut().zip(&t) {
                            *o += xv * tv;
                        }
                    }
                }
                for (k, l) in self.levels.iter().enumerate() {
                    let i = self.off[k] + l[r];
                    for (o, tv) in out[i * m..(i + 1) * m].iter_mut().zip(&t) {
                        *o += tv;
                    }
                }
            }
        });
        for (k, &lk) in lambda.iter().enumerate() {
            let a = self.off[k] * m;
            let b = (self.off[k] + self.q[k]) * m;
            for (o, vv) in out[a..b].iter_mut().zip(&v[a..b]) {
                *o += lk * vv;
            }
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
    let bnorm: Vec<f64> = dots(b, b, m).into_iter().map(f64::sqrt).collect();
    let mut active: Vec<bool> = (0..m).map(|j| bnorm[j] > 0.0).collect::<Vec<_>>();
    for j in 0..m {
        if bnorm[j] == 0.0 {
            for i in 0..d.dim {
                x[i * m + j] = 0.0;
            }
        }
    }
    let mut z = vec![0.0; len];
    d.precondition(&r, m, lambda, &mut z);
    let mut dir = z.clone();
    let mut rz = dots(&r, &z, m);
    let mut steps = 0;
    let done = |r: &[f64], active: &mut Vec<bool>| {
        let rn = dots(r, r, m);
        for j in 0..m {
            if active[j] && rn[j].sqrt() <= tol * bnorm[j] {
                active[j] = false;
            }
        }
    };
    done(&r, &mut active);
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
        for i in 0..d.dim {
            for j in 0..m {
                let k = i * m + j;
                x[k] += alpha[j] * dir[k];
                r[k] -= alpha[j] * q[k];
            }
        }
        for j in 0..m {
            if active[j] && pq[j] <= 0.0 {
                // Breakdown (C is positive definite in exact arithmetic):
                // the column is as solved as it gets.
                active[j] = false;
            }
        }
        done(&r, &mut active);
        d.precondition(&r, m, lambda, &mut z);
        let rz_new = dots(&r, &z, m);
        let beta: Vec<f64> = (0..m)
            .map(|j| if rz[j] > 0.0 { rz_new[j] / rz[j] } else { 0.0 })
            .collect();
        for ((dr, zr), _) in dir.chunks_exact_mut(m).zip(z.chunks_exact(m)).zip(0..) {
            for j in 0..m {
                if active[j] {
                    dr[j] = zr[j] + beta[j] * dr[j];
                }
            }
        }
        rz = rz_new;
    }
    let converged = !active.iter().any(|a| *a);
    Solved {
        x,
        steps,
        converged,
    }
}
