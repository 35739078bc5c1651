//! The mixed model on the dense backend: `V = Σ_i Z_i G_i Z_iᵀ + R`
//! assembled as an `n × n` matrix.
//!
//! Random terms with an indicator design ([`Incidence`]) are never
//! expanded: `Z G Zᵀ` is gathered from `G` into the lower triangle of `V`,
//! `Zᵀ P Z` is gathered from `P` in `O(n²)`, and
//! `tr(P Z ∂G Zᵀ) = Σ (Zᵀ P Z) ∘ ∂G`.

use super::dense::{Dense, Derivatives, Problem};
use super::error::cov_err;
use super::linalg::{self, gemm};
use super::pev::Pev;
use super::post::MixedPost;
use super::terms::{Parts, RandomDesign, Term, Terms};
use super::RemlError;
use crate::data::Incidence;
use crate::JacobianMethod;
use faer::{Accum, Mat, MatRef};
use nalgebra::{DMatrix, DVector};

/// Post-estimation on the dense backend: `û = G Zᵀ P y` and
/// `PEV = G − G Zᵀ P Z G` per term, from one `P` (the model `prob` gives
/// `V`; `parts` the terms).
pub(crate) fn post(
    prob: &dyn Problem,
    parts: Parts<'_>,
    free: &[f64],
) -> Result<MixedPost, RemlError> {
    let mut ev = Dense::new(prob, parts.fixed)?;
    let (pt, p, py) = ev.p_at(free)?;
    let terms = parts.terms;
    let quantities = term_quantities(terms.list, p, &py);
    let mut blups = Vec::with_capacity(terms.list.len());
    for ((t, xs), (ztpz, zpy)) in terms.list.iter().zip(terms.split(free)).zip(quantities) {
        let g = t.g.value_f64(xs).map_err(cov_err(&t.name))?;
        let u = &g * DVector::from_vec(zpy);
        let pev = &g - &g * ztpz * &g;
        blups.push((u.as_slice().to_vec(), Pev::from_dense(&pev)));
    }
    Ok(MixedPost::assemble(parts, &pt, blups))
}

/// `Zᵀ P Z` and `Zᵀ P y` of every term; incidence terms are gathered
/// from the lower triangle of `P`, two terms per pass.
pub(crate) fn term_quantities(
    terms: &[Term],
    p: MatRef<'_, f64>,
    py: &[f64],
) -> Vec<(DMatrix<f64>, Vec<f64>)> {
    let mut out: Vec<Option<(DMatrix<f64>, Vec<f64>)>> = vec![None; terms.len()];
    let inc: Vec<(usize, &Incidence)> = terms
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match &t.z {
            RandomDesign::Incidence(z) => Some((i, z)),
            _ => None,
        })
        .collect();
    for chunk in inc.chunks(2) {
        let zs: Vec<&Incidence> = chunk.iter().map(|c| c.1).collect();
        for ((i, _), m) in chunk.iter().zip(incidence_ztpz(p, &zs)) {
            out[*i] = Some((m, Vec::new()));
        }
    }
    terms
        .iter()
        .zip(out)
        .map(|(t, o)| match (&t.z, o) {
            (RandomDesign::Incidence(inc), Some((m, _))) => {
                let mut zpy = vec![0.0; inc.n_levels()];
                for (v, &l) in py.iter().zip(inc.levels()) {
                    zpy[l] += v;
                }
                (m, zpy)
            }
            _ => dense_quantities(t, p, py),
        })
        .collect()
}

/// `Zᵀ P Z` of one or two incidence terms in one pass over the lower
/// triangle of `P`: with `S = Σ_{i≥j} P_ij e_{l_i} e_{l_j}ᵀ` and
/// `D = Σ_i P_ii e_{l_i} e_{l_i}ᵀ`, `Zᵀ P Z = S + Sᵀ − D`.
fn incidence_ztpz(p: MatRef<'_, f64>, zs: &[&Incidence]) -> Vec<DMatrix<f64>> {
    let n = p.nrows();
    let col = |j: usize| -> &[f64] {
        p.col(j)
            .try_as_col_major()
            .expect("faer matrices are column major")
            .as_slice()
    };
    let mut s: Vec<DMatrix<f64>> = zs
        .iter()
        .map(|z| DMatrix::zeros(z.n_levels(), z.n_levels()))
        .collect();
    match zs {
        [a, b] => {
            let (la, lb) = (a.levels(), b.levels());
            let (qa, qb) = (a.n_levels(), b.n_levels());
            let (sa, sb) = s.split_at_mut(1);
            let (sa, sb) = (sa[0].as_mut_slice(), sb[0].as_mut_slice());
            for j in 0..n {
                let pc = &col(j)[j..n];
                let ca = &mut sa[la[j] * qa..(la[j] + 1) * qa];
                let cb = &mut sb[lb[j] * qb..(lb[j] + 1) * qb];
                for ((v, &ia), &ib) in pc.iter().zip(&la[j..n]).zip(&lb[j..n]) {
                    ca[ia] += v;
                    cb[ib] += v;
                }
            }
        }
        _ => {
            for (z, m) in zs.iter().zip(s.iter_mut()) {
                let (l, q) = (z.levels(), z.n_levels());
                let ms = m.as_mut_slice();
                for j in 0..n {
                    let pc = &col(j)[j..n];
                    let c = &mut ms[l[j] * q..(l[j] + 1) * q];
                    for (v, &i) in pc.iter().zip(&l[j..n]) {
                        c[i] += v;
                    }
                }
            }
        }
    }
    s.into_iter()
        .zip(zs)
        .map(|(m, z)| {
            let mut full = &m + m.transpose();
            for (i, &l) in z.levels().iter().enumerate() {
                full[(l, l)] -= p[(i, i)];
            }
            full
        })
        .collect()
}

/// `Zᵀ P Z` and `Zᵀ P y` of a dense term.
fn dense_quantities(t: &Term, p: MatRef<'_, f64>, py: &[f64]) -> (DMatrix<f64>, Vec<f64>) {
    let n = py.len();
    let zf = t.z_dense();
    let q = zf.ncols();
    let mut pz = Mat::<f64>::zeros(n, q);
    gemm(pz.as_mut(), Accum::Replace, p, zf.as_ref(), 1.0);
    let mut m = Mat::<f64>::zeros(q, q);
    gemm(m.as_mut(), Accum::Replace, zf.transpose(), pz.as_ref(), 1.0);
    let m = DMatrix::from_fn(q, q, |i, j| 0.5 * (m[(i, j)] + m[(j, i)]));
    let zpy = (0..q)
        .map(|j| zf.col_as_slice(j).iter().zip(py).map(|(a, b)| a * b).sum())
        .collect();
    (m, zpy)
}

/// Adds `Z G Zᵀ` of one or two incidence terms to the lower triangle of
/// `v` in one pass.
fn gather_add(v: &mut Mat<f64>, terms: &[(&Incidence, &DMatrix<f64>)]) {
    let n = v.nrows();
    match terms {
        [(a, ga), (b, gb)] => {
            let (la, lb) = (a.levels(), b.levels());
            let (qa, qb) = (a.n_levels(), b.n_levels());
            for j in 0..n {
                let ca = &ga.as_slice()[la[j] * qa..(la[j] + 1) * qa];
                let cb = &gb.as_slice()[lb[j] * qb..(lb[j] + 1) * qb];
                let vc = &mut v.col_as_slice_mut(j)[j..n];
                for ((x, &ia), &ib) in vc.iter_mut().zip(&la[j..n]).zip(&lb[j..n]) {
                    *x += ca[ia] + cb[ib];
                }
            }
        }
        _ => {
            for (z, g) in terms {
                let (l, q) = (z.levels(), z.n_levels());
                for j in 0..n {
                    let c = &g.as_slice()[l[j] * q..(l[j] + 1) * q];
                    let vc = &mut v.col_as_slice_mut(j)[j..n];
                    for (x, &i) in vc.iter_mut().zip(&l[j..n]) {
                        *x += c[i];
                    }
                }
            }
        }
    }
}

/// Writes the lower triangle of `V(x) = Σ_i Z_i G_i Z_iᵀ + R` into `v`.
pub(crate) fn assemble(terms: Terms<'_>, x: &[f64], v: &mut Mat<f64>) -> Result<(), RemlError> {
    let parts = terms.split(x);
    let n = v.nrows();
    let xr = parts[terms.list.len()];
    let r = terms.residual;
    match r.diagonal_f64(xr) {
        // A diagonal R (σ²I, Diagonal, I ⊗ Diagonal, …) in O(n).
        Some(d) => {
            let (d, _) = d.map_err(cov_err("residual"))?;
            for (j, dj) in d.iter().enumerate() {
                let c = &mut v.col_as_slice_mut(j)[j..n];
                c.fill(0.0);
                c[0] = *dj;
            }
        }
        None => {
            let r = r.value_f64(xr).map_err(cov_err("residual"))?;
            linalg::copy_into(v, &r);
        }
    }
    let mut gs = Vec::with_capacity(terms.list.len());
    for (t, xs) in terms.list.iter().zip(&parts) {
        gs.push(t.g.value_f64(xs).map_err(cov_err(&t.name))?);
    }
    let mut inc: Vec<(&Incidence, &DMatrix<f64>)> = Vec::new();
    for (t, g) in terms.list.iter().zip(&gs) {
        match &t.z {
            RandomDesign::Incidence(z) => inc.push((z, g)),
            _ => {
                let zf = t.z_dense();
                let gf = linalg::to_faer(g);
                let mut zg = Mat::<f64>::zeros(zf.nrows(), gf.ncols());
                gemm(zg.as_mut(), Accum::Replace, zf.as_ref(), gf.as_ref(), 1.0);
                gemm(v.as_mut(), Accum::Add, zg.as_ref(), zf.transpose(), 1.0);
            }
        }
    }
    for chunk in inc.chunks(2) {
        gather_add(v, chunk);
    }
    Ok(())
}

/// The traces `tr(P ∂V/∂x_k)` and the vectors `∂V/∂x_k P y` at `x`.
pub(crate) fn derivatives(
    terms: Terms<'_>,
    x: &[f64],
    p: MatRef<'_, f64>,
    py: &[f64],
    method: JacobianMethod,
) -> Result<Derivatives, RemlError> {
    let n = py.len();
    let k = x.len();
    let parts = terms.split(x);
    let mut w = Mat::<f64>::zeros(n, k);
    let mut traces = Vec::with_capacity(k);
    let quantities = term_quantities(terms.list, p, py);
    for ((t, xs), (ztpz, zpy)) in terms.list.iter().zip(&parts).zip(&quantities) {
        let (_, dg) =
            t.g.value_and_jacobian_f64(xs, method)
                .map_err(cov_err(&t.name))?;
        for d in &dg {
            traces.push(ztpz.dot(d));
            let u = linalg::matvec_na(d, zpy);
            let col = traces.len() - 1;
            w.col_as_slice_mut(col).copy_from_slice(&t.z.mul(&u));
        }
    }
    let xr = parts[terms.list.len()];
    let r = terms.residual;
    let diagonal = match method {
        JacobianMethod::ClosedForm => r.diagonal_f64(xr),
        JacobianMethod::DualNumbers => None,
    };
    if let Some(d) = diagonal {
        // tr(P ∂R) = Σ P_ii ∂R_ii, and ∂R P y row-wise.
        let (_, dr) = d.map_err(cov_err("residual"))?;
        for d in &dr {
            let col = traces.len();
            let wc = w.col_as_slice_mut(col);
            let mut tr = 0.0;
            for i in 0..n {
                tr += p[(i, i)] * d[i];
                wc[i] = d[i] * py[i];
            }
            traces.push(tr);
        }
        return Ok(Derivatives { traces, w });
    }
    let (_, dr) = r
        .value_and_jacobian_f64(xr, method)
        .map_err(cov_err("residual"))?;
    for d in &dr {
        let col = traces.len();
        if linalg::is_diagonal(d) {
            let mut tr = 0.0;
            let wc = w.col_as_slice_mut(col);
            for i in 0..n {
                let di = d[(i, i)];
                tr += p[(i, i)] * di;
                wc[i] = di * py[i];
            }
            traces.push(tr);
        } else {
            traces.push(linalg::frobenius_dot(p, d));
            w.col_as_slice_mut(col)
                .copy_from_slice(&linalg::matvec_na(d, py));
        }
    }
    Ok(Derivatives { traces, w })
}
