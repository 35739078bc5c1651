//! The dense steps of the selected inverse of a block in place, without a
//! second `w × w` buffer (2 GB for the 16,034-column block of the
//! restricted ml-32m shape): the inverse of a lower-triangular matrix
//! (LAPACK's `trtri`) and `MᵀM` for a lower-triangular `M` (`lauum`), so
//! that `Z_JJ = L_JJ⁻ᵀ L_JJ⁻¹` overwrites `L_JJ`.
//!
//! The inverse: with `L = [A 0; B C]`, `L⁻¹ = [A⁻¹ 0; −C⁻¹BA⁻¹ C⁻¹]`;
//! `B ← −C⁻¹ B A⁻¹` by two triangular solves in place with the original
//! `A` and `C`, then `A` and `C` are inverted recursively.
//!
//! With `M = [A 0; B C]` (`A`, `C` lower triangular),
//! `MᵀM = [AᵀA + BᵀB, ·; CᵀB, CᵀC]`, computed in this order so that every
//! block is read before it is overwritten: `A ← AᵀA` (recursively),
//! `A += BᵀB` (lower triangle), `B ← CᵀB` (a panel of `B`'s columns at a
//! time through a buffer of `rows(C) × PANEL`), `C ← CᵀC` (recursively).
//! Every product is one of faer's (triangular) matrix products, so the
//! `n³/3` flops run at its dense rate.

use faer::linalg::matmul::triangular::{self as tri, BlockStructure::*};
use faer::linalg::triangular_inverse::invert_lower_triangular;
use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, MatMut, MatRef, Par};

use super::parallel::{cube, par_for};

/// Blocks at most this wide are done by faer's kernels on a stack copy.
const BASE: usize = 32;

/// Columns of `B` per triangular product in `B ← CᵀB`.
pub(super) const PANEL: usize = 128;

/// The length of the buffer [`lauum_lower`] needs for an `n × n` matrix.
pub(super) fn scratch_len(n: usize) -> usize {
    if n <= BASE {
        0
    } else {
        (n - n / 2) * PANEL.min(n / 2)
    }
}

/// Overwrites the lower triangle of `m` (holding a lower-triangular `M`;
/// the strict upper triangle is neither read nor written) with the lower
/// triangle of `MᵀM`. `tmp` holds at least [`scratch_len`]`(n)` values.
pub(super) fn lauum_lower(m: MatMut<'_, f64>, tmp: &mut [f64], par: Par) {
    let n = m.nrows();
    debug_assert_eq!(n, m.ncols());
    if n <= BASE {
        base(m);
        return;
    }
    let n1 = n / 2;
    let n2 = n - n1;
    let (mut a, _, mut b, mut c) = m.split_at_mut(n1, n1);
    lauum_lower(a.rb_mut(), tmp, par);
    tri::matmul(
        a.rb_mut(),
        TriangularLower,
        Accum::Add,
        b.rb().transpose(),
        Rectangular,
        b.rb(),
        Rectangular,
        1.0,
        par_for(par, (n1 * n1 * n2) as f64),
    );
    let mut c0 = 0;
    while c0 < n1 {
        let k = PANEL.min(n1 - c0);
        let mut t = MatMut::from_column_major_slice_mut(&mut tmp[..n2 * k], n2, k);
        tri::matmul(
            t.rb_mut(),
            Rectangular,
            Accum::Replace,
            c.rb().transpose(),
            TriangularUpper,
            b.rb().subcols(c0, k),
            Rectangular,
            1.0,
            par_for(par, (n2 * n2 * k) as f64),
        );
        b.rb_mut().subcols_mut(c0, k).copy_from(t.rb());
        c0 += k;
    }
    lauum_lower(c.rb_mut(), tmp, par_for(par, cube(n2)));
}

/// Overwrites the lower triangle of `m` (a nonsingular lower-triangular
/// matrix; the strict upper triangle is neither read nor written) with its
/// inverse.
pub(super) fn invert_lower(m: MatMut<'_, f64>, par: Par) {
    let n = m.nrows();
    debug_assert_eq!(n, m.ncols());
    if n <= BASE {
        invert_base(m);
        return;
    }
    let n1 = n / 2;
    let n2 = n - n1;
    let (mut a, _, mut b, mut c) = m.split_at_mut(n1, n1);
    // B A⁻¹: (B A⁻¹)ᵀ = A⁻ᵀ Bᵀ.
    solve_upper_triangular_in_place(
        a.rb().transpose(),
        b.rb_mut().transpose_mut(),
        par_for(par, (n1 * n1 * n2) as f64),
    );
    solve_lower_triangular_in_place(c.rb(), b.rb_mut(), par_for(par, (n2 * n2 * n1) as f64));
    for j in 0..n1 {
        for i in 0..n2 {
            b[(i, j)] = -b[(i, j)];
        }
    }
    invert_lower(a.rb_mut(), par_for(par, cube(n1)));
    invert_lower(c.rb_mut(), par_for(par, cube(n2)));
}

/// The inverse of a base block (at most [`BASE`] wide) by faer's kernel on
/// a stack copy of its lower triangle.
fn invert_base(mut m: MatMut<'_, f64>) {
    let n = m.nrows();
    let mut src = [0.0; BASE * BASE];
    let mut dst = [0.0; BASE * BASE];
    for j in 0..n {
        for i in j..n {
            src[j * n + i] = m[(i, j)];
        }
    }
    invert_lower_triangular(
        MatMut::from_column_major_slice_mut(&mut dst[..n * n], n, n),
        MatRef::from_column_major_slice(&src[..n * n], n, n),
        Par::Seq,
    );
    for j in 0..n {
        for i in j..n {
            m[(i, j)] = dst[j * n + i];
        }
    }
}

/// The lower triangle of `MᵀM` of a base block (at most [`BASE`] wide) by
/// faer's triangular product on a stack copy of `M`.
fn base(mut m: MatMut<'_, f64>) {
    let n = m.nrows();
    let mut src = [0.0; BASE * BASE];
    for j in 0..n {
        for i in j..n {
            src[j * n + i] = m[(i, j)];
        }
    }
    let src = MatRef::from_column_major_slice(&src[..n * n], n, n);
    tri::matmul(
        m.rb_mut(),
        TriangularLower,
        Accum::Replace,
        src.transpose(),
        TriangularUpper,
        src,
        TriangularLower,
        1.0,
        Par::Seq,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lower-triangular `n × n` matrix (column major), well conditioned.
    fn lower(n: usize) -> Vec<f64> {
        let mut full = vec![0.0; n * n];
        let mut seed = 12345u64 + n as u64;
        for j in 0..n {
            for i in j..n {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let v = ((seed >> 11) as f64 / (1u64 << 53) as f64) - 0.5;
                full[j * n + i] = if i == j {
                    1.0 + v.abs()
                } else {
                    v / (n as f64).sqrt()
                };
            }
        }
        full
    }

    #[test]
    fn inverts_in_place() {
        for n in [0usize, 1, 2, 5, 32, 33, 70, 301] {
            let full = lower(n);
            let mut work = full.clone();
            for j in 0..n {
                for i in 0..j {
                    work[j * n + i] = 7.0;
                }
            }
            invert_lower(
                MatMut::from_column_major_slice_mut(&mut work, n, n),
                Par::Seq,
            );
            // L⁻¹ L = I on the lower triangle; the upper triangle untouched.
            for j in 0..n {
                for i in 0..n {
                    if i < j {
                        assert_eq!(work[j * n + i], 7.0);
                        continue;
                    }
                    let got: f64 = (j..=i).map(|k| work[k * n + i] * full[j * n + k]).sum();
                    let want = if i == j { 1.0 } else { 0.0 };
                    assert!((got - want).abs() < 1e-12, "n {n} ({i}, {j}): {got}");
                }
            }
        }
    }

    #[test]
    fn matches_the_product() {
        for n in [0usize, 1, 5, 32, 33, 70, 301] {
            let mut full = vec![0.0; n * n];
            let mut seed = 12345u64 + n as u64;
            for j in 0..n {
                for i in j..n {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let v = ((seed >> 11) as f64 / (1u64 << 53) as f64) - 0.5;
                    full[j * n + i] = if i == j { 1.0 + v.abs() } else { v };
                }
            }
            // A marker in the strict upper triangle: never read, never written.
            let mut work = full.clone();
            for j in 0..n {
                for i in 0..j {
                    work[j * n + i] = 7.0;
                }
            }
            let mut tmp = vec![0.0; scratch_len(n)];
            lauum_lower(
                MatMut::from_column_major_slice_mut(&mut work, n, n),
                &mut tmp,
                Par::Seq,
            );
            for j in 0..n {
                for i in 0..n {
                    let got = work[j * n + i];
                    if i < j {
                        assert_eq!(got, 7.0);
                        continue;
                    }
                    let want: f64 = (i..n).map(|k| full[i * n + k] * full[j * n + k]).sum();
                    assert!(
                        (got - want).abs() <= 1e-12 * (1.0 + want.abs()),
                        "n {n} ({i}, {j})"
                    );
                }
            }
        }
    }
}
