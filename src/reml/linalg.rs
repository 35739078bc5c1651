//! The dense kernels of the engine, on faer: Cholesky in place, the inverse
//! from the factor, triangular solves and products.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::{factor, inverse};
use faer::linalg::matmul::matmul;
use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::reborrow::ReborrowMut;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use nalgebra::DMatrix;

/// The parallelism of a dense kernel of size `n`: faer's global setting,
/// or sequential below 256 where threads cost more than they save.
pub(crate) fn par(n: usize) -> Par {
    if n < 256 {
        Par::Seq
    } else {
        faer::get_global_parallelism()
    }
}

/// Factors the symmetric matrix `a` (only its lower triangle is read) in
/// place into its Cholesky factor `L` (lower triangle; the strict upper
/// triangle is left untouched). Returns `false` if `a` is not positive
/// definite (including NaN entries).
pub(crate) fn cholesky_in_place(a: MatMut<'_, f64>) -> bool {
    let n = a.nrows();
    let par = par(n);
    let mut mem = MemBuffer::new(factor::cholesky_in_place_scratch::<f64>(
        n,
        par,
        Default::default(),
    ));
    let ok = factor::cholesky_in_place(
        a,
        Default::default(),
        par,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .is_ok();
    ok
}

/// `log|A| = 2 Σ log L_ii` from the factor; `None` if a pivot is not a
/// positive finite number.
pub(crate) fn logdet_from_factor(l: MatRef<'_, f64>) -> Option<f64> {
    let mut s = 0.0;
    for i in 0..l.nrows() {
        let d = l[(i, i)];
        if !(d > 0.0 && d.is_finite()) {
            return None;
        }
        s += d.ln();
    }
    Some(2.0 * s)
}

/// `out = A⁻¹` from the Cholesky factor `L` of `A`, both triangles filled.
pub(crate) fn inverse_from_factor(l: MatRef<'_, f64>, mut out: MatMut<'_, f64>) {
    let n = l.nrows();
    let par = par(n);
    let mut mem = MemBuffer::new(inverse::inverse_scratch::<f64>(n, par));
    inverse::inverse(out.rb_mut(), l, par, MemStack::new(&mut mem));
    symmetrize_from_lower(out);
}

/// Copies the strict lower triangle onto the upper one.
pub(crate) fn symmetrize_from_lower(mut a: MatMut<'_, f64>) {
    let n = a.nrows();
    // Blocked transpose copy for cache friendliness.
    const B: usize = 64;
    let mut jb = 0;
    while jb < n {
        let je = (jb + B).min(n);
        let mut ib = jb;
        while ib < n {
            let ie = (ib + B).min(n);
            for j in jb..je {
                for i in ib.max(j + 1)..ie {
                    let v = a[(i, j)];
                    a[(j, i)] = v;
                }
            }
            ib = ie;
        }
        jb = je;
    }
}

/// Solves `L Z = B` in place (`L` lower triangular).
pub(crate) fn solve_lower(l: MatRef<'_, f64>, b: MatMut<'_, f64>) {
    let n = l.nrows();
    solve_lower_triangular_in_place(l, b, par(n));
}

/// Solves `Lᵀ Z = B` in place (`L` lower triangular; only its lower
/// triangle is read).
pub(crate) fn solve_lower_transpose(l: MatRef<'_, f64>, b: MatMut<'_, f64>) {
    let n = l.nrows();
    solve_upper_triangular_in_place(l.transpose(), b, par(n));
}

/// `dst = beta·dst + alpha · lhs · rhs`.
pub(crate) fn gemm(
    dst: MatMut<'_, f64>,
    accum: Accum,
    lhs: MatRef<'_, f64>,
    rhs: MatRef<'_, f64>,
    alpha: f64,
) {
    let n = lhs.nrows().max(lhs.ncols()).max(rhs.ncols());
    matmul(dst, accum, lhs, rhs, alpha, par(n));
}

/// A faer copy of an nalgebra matrix.
pub(crate) fn to_faer(m: &DMatrix<f64>) -> Mat<f64> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)])
}

/// Copies the column-major nalgebra matrix `src` into `dst` (same shape).
pub(crate) fn copy_into(dst: &mut Mat<f64>, src: &DMatrix<f64>) {
    let n = src.nrows();
    for j in 0..src.ncols() {
        let s = &src.as_slice()[j * n..(j + 1) * n];
        dst.col_as_slice_mut(j).copy_from_slice(s);
    }
}

/// `Σ_ij A_ij B_ij` for a faer and an nalgebra matrix of the same shape.
pub(crate) fn frobenius_dot(a: MatRef<'_, f64>, b: &DMatrix<f64>) -> f64 {
    let n = b.nrows();
    let mut s = 0.0;
    for j in 0..b.ncols() {
        let bj = &b.as_slice()[j * n..(j + 1) * n];
        let aj = a.col(j);
        for (i, bv) in bj.iter().enumerate() {
            s += aj[i] * bv;
        }
    }
    s
}

/// `out = A x` for a dense nalgebra `A`.
pub(crate) fn matvec_na(a: &DMatrix<f64>, x: &[f64]) -> Vec<f64> {
    let n = a.nrows();
    let mut out = vec![0.0; n];
    for (j, xj) in x.iter().enumerate() {
        if *xj == 0.0 {
            continue;
        }
        let col = &a.as_slice()[j * n..(j + 1) * n];
        for (o, v) in out.iter_mut().zip(col) {
            *o += v * xj;
        }
    }
    out
}

/// Whether the off-diagonal entries of `a` are all zero.
pub(crate) fn is_diagonal(a: &DMatrix<f64>) -> bool {
    let n = a.nrows();
    for j in 0..a.ncols() {
        for (i, v) in a.as_slice()[j * n..(j + 1) * n].iter().enumerate() {
            if i != j && *v != 0.0 {
                return false;
            }
        }
    }
    true
}
