//! Kenward & Roger (1997): the adjusted covariance of β̂ and the scaled F
//! test with its denominator df, as pbkrtest computes them (`vcovAdj`,
//! `KRmodcomp`, `Lb_ddf`).
//!
//! With `Σ = V(γ)` linear in the variance parameters `γ` (variances and
//! covariances of the random terms and of the residual: lme4's models),
//! `G_r = ∂Σ/∂γ_r`, `Φ = (XᵀΣ⁻¹X)⁻¹`, `P_r = −XᵀΣ⁻¹G_rΣ⁻¹X`,
//! `Q_rs = XᵀΣ⁻¹G_rΣ⁻¹G_sΣ⁻¹X`, the expected information
//! `I_rs = ½[tr(Σ⁻¹G_rΣ⁻¹G_s) − 2 tr(ΦQ_rs) + tr(ΦP_rΦP_s)]` and
//! `W = I⁻¹`: `Φ_A = Φ + 2Φ[Σ_rs W_rs (Q_rs − P_rΦP_s)]Φ` (the second
//! derivatives of `Σ` vanish). For `H₀: Lβ = 0` (`q` rows),
//! `Θ = Lᵀ(LΦLᵀ)⁻¹L`, `A₁ = Σ W_rs tr(ΘΦP_rΦ) tr(ΘΦP_sΦ)`,
//! `A₂ = Σ W_rs tr(ΘΦP_rΦΘΦP_sΦ)`, and pbkrtest's `B`, `g`, `c₁…c₃`, `ρ`
//! give `m = 4 + (q + 2)/(qρ − 1)` and the scale `λ = m(1 − A₂/q)/(m − 2)`;
//! `F = λ (Lβ̂)ᵀ(LΦ_ALᵀ)⁻¹(Lβ̂)/q ~ F(q, m)`.
//!
//! When the residual is diagonal and every `G` invertible (the usual case),
//! nothing of size `n × n` is formed: `Σ⁻¹M = R⁻¹M − R⁻¹Z C⁻¹ ZᵀR⁻¹M` with
//! `C = ZᵀR⁻¹Z + G⁻¹` (the mixed-model equations' matrix, dense `q × q`),
//! and the traces reduce to `q × q` products (`Z` is held dense, `n·q` at
//! most [`MAX_NQ`]). Otherwise (a correlated residual, a variance on its
//! boundary) the computation forms the dense `Σ⁻¹`, for at most [`MAX_N`]
//! observations.

use super::lrt::InferenceError;
use crate::reml::{MixedModel, RemlFit};
use crate::{JacobianMethod, Transform};
use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

/// The largest number of observations of the dense computation (which
/// holds several `n × n` matrices per variance parameter).
pub const MAX_N: usize = 3000;

/// The largest `n·q` (observations times random effects) of the computation
/// through the mixed-model equations (it holds `Z` dense).
pub const MAX_NQ: usize = 20_000_000;

/// What every Kenward–Roger quantity is made of: `Φ`, the `P_r`, the
/// `Q_rs` and `tr(Σ⁻¹G_rΣ⁻¹G_s)`.
struct Pieces {
    phi: DMatrix<f64>,
    p_mats: Vec<DMatrix<f64>>,
    q_all: Vec<Vec<DMatrix<f64>>>,
    ktrace: DMatrix<f64>,
}

/// `∂Σ/∂γ_k`: `Z_t D Z_tᵀ` of a random term, or a diagonal of the residual.
enum Deriv {
    Term(usize, DMatrix<f64>),
    Residual(DVector<f64>),
}

/// Each row `i` of `m` times `w[i]`.
fn scale_rows(m: &DMatrix<f64>, w: &DVector<f64>) -> DMatrix<f64> {
    let mut out = m.clone();
    for (i, mut row) in out.row_iter_mut().enumerate() {
        row *= w[i];
    }
    out
}

fn not_linear() -> InferenceError {
    fail("Kenward–Roger needs a covariance linear in its parameters (variances and covariances, as lme4's models); this model's is not: use --ddf satterthwaite")
}

/// `∂Σ/∂γ_k` of every variance parameter, with what the mixed-model
/// equations are built from: each term's dense `Z_t` and `G_t⁻¹`, the
/// first column of each term in `Z` (the total `q` last) and the
/// residual's diagonal `r`.
struct Linearized {
    derivs: Vec<Deriv>,
    zs: Vec<DMatrix<f64>>,
    offs: Vec<usize>,
    ginv_blocks: Vec<DMatrix<f64>>,
    r: DVector<f64>,
}

/// The slope of parameter `k`'s transform at `free[k]` (natural per free
/// unit); `None` when it is zero or not finite.
fn slope_at(transforms: &[Transform], free: &[f64], k: usize) -> Option<f64> {
    let s = transforms[k].derivative(free[k]);
    (s.is_finite() && s != 0.0).then_some(s)
}

/// The derivatives of `Σ` at `free` when the residual is diagonal and every
/// `G` invertible (`None` otherwise, or when a transform's slope
/// vanishes); an error when a covariance is not linear in its parameters.
fn linearize(model: &MixedModel, free: &[f64]) -> Result<Option<Linearized>, InferenceError> {
    let transforms = model.params().transforms;
    let parts = model.random_part().split(free);
    let res_x = parts[parts.len() - 1];
    let Some(diag) = model.residual.diagonal_f64(res_x) else {
        return Ok(None);
    };
    let (r, dr) = diag.map_err(|e| fail(format!("the residual: {e}")))?;
    let mut derivs = Vec::with_capacity(free.len());
    let mut zs = Vec::new();
    let mut offs = vec![0];
    let mut ginv_blocks = Vec::new();
    for (ti, (t, x)) in model.terms.iter().zip(&parts).enumerate() {
        let Some(ginv) = term_derivs(model, ti, x, free, &transforms, &mut derivs)? else {
            return Ok(None);
        };
        ginv_blocks.push(ginv);
        let z = t.z.to_dense();
        offs.push(offs[offs.len() - 1] + z.ncols());
        zs.push(z);
    }
    let Some(r) = residual_derivs(r, dr, free, &transforms, &mut derivs)? else {
        return Ok(None);
    };
    Ok(Some(Linearized {
        derivs,
        zs,
        offs,
        ginv_blocks,
        r,
    }))
}

/// Term `ti`'s `∂G/∂γ_k` at its parameters `x` (appended to `derivs`, the
/// parameter index `k` being `derivs.len()`) and its `G⁻¹`; `None` when `G`
/// is singular or a slope vanishes, an error when `G` is not linear.
fn term_derivs(
    model: &MixedModel,
    ti: usize,
    x: &[f64],
    free: &[f64],
    transforms: &[Transform],
    derivs: &mut Vec<Deriv>,
) -> Result<Option<DMatrix<f64>>, InferenceError> {
    let t = &model.terms[ti];
    let (g, dg) =
        t.g.value_and_jacobian_f64(x, JacobianMethod::ClosedForm)
            .map_err(|e| fail(format!("G of `{}`: {e}", t.name)))?;
    let Some(ch) = g.clone().cholesky() else {
        return Ok(None);
    };
    let mut lin = DMatrix::zeros(g.nrows(), g.ncols());
    for d in dg {
        let k = derivs.len();
        let Some(slope) = slope_at(transforms, free, k) else {
            return Ok(None);
        };
        let d = d / slope;
        lin += &d * transforms[k].forward(free[k]);
        derivs.push(Deriv::Term(ti, d));
    }
    if (&lin - &g).amax() > 1e-8 * g.amax().max(f64::MIN_POSITIVE) {
        return Err(not_linear());
    }
    Ok(Some(ch.inverse()))
}

/// The residual's diagonal `r` from its value and Jacobian `dr` (each
/// `∂r/∂γ_k` appended to `derivs`); `None` when a slope vanishes or a
/// variance is not positive, an error when `R` is not linear.
fn residual_derivs(
    r: Vec<f64>,
    dr: Vec<Vec<f64>>,
    free: &[f64],
    transforms: &[Transform],
    derivs: &mut Vec<Deriv>,
) -> Result<Option<DVector<f64>>, InferenceError> {
    let mut lin = DVector::zeros(r.len());
    for d in dr {
        let k = derivs.len();
        let Some(slope) = slope_at(transforms, free, k) else {
            return Ok(None);
        };
        let e = DVector::from_vec(d) / slope;
        lin += &e * transforms[k].forward(free[k]);
        derivs.push(Deriv::Residual(e));
    }
    let r = DVector::from_vec(r);
    if (&lin - &r).amax() > 1e-8 * r.amax().max(f64::MIN_POSITIVE) {
        return Err(not_linear());
    }
    if r.iter().any(|v| v.is_nan() || *v <= 0.0) {
        return Ok(None);
    }
    Ok(Some(r))
}

/// The mixed-model equations at the estimate: `Z = [Z_1 … Z_T]` dense,
/// `R⁻¹` (a diagonal), `B = R⁻¹Z` and the Cholesky factor of
/// `C = ZᵀR⁻¹Z + G⁻¹`.
struct MmeSystem {
    z: DMatrix<f64>,
    rinv: DVector<f64>,
    b: DMatrix<f64>,
    c_ch: Cholesky<f64, Dyn>,
    offs: Vec<usize>,
}

/// What the traces of [`MmeSystem::pair_trace`] share: `Σ⁻¹Z`, the blocks
/// `ZᵀΣ⁻¹Z` and the diagonal `U_ii = b_iᵀC⁻¹b_i`.
struct TraceParts {
    sz: DMatrix<f64>,
    a: DMatrix<f64>,
    u_diag: Vec<f64>,
}

impl MmeSystem {
    /// The system of `lin` over `n` observations; `None` when `C` is not
    /// positive definite.
    fn new(lin: &Linearized, n: usize) -> Option<Self> {
        let rinv = lin.r.map(|v| 1.0 / v);
        let offs = lin.offs.clone();
        let q = offs[offs.len() - 1];
        let mut z = DMatrix::zeros(n, q);
        for (t, zt) in lin.zs.iter().enumerate() {
            z.view_mut((0, offs[t]), (n, zt.ncols())).copy_from(zt);
        }
        // B = R⁻¹Z, C = ZᵀR⁻¹Z + G⁻¹.
        let b = scale_rows(&z, &rinv);
        let mut c = z.transpose() * &b;
        for (t, gi) in lin.ginv_blocks.iter().enumerate() {
            let mut v = c.view_mut((offs[t], offs[t]), (gi.nrows(), gi.ncols()));
            v += gi;
        }
        let c_ch = c.cholesky()?;
        Some(MmeSystem {
            z,
            rinv,
            b,
            c_ch,
            offs,
        })
    }

    /// `Σ⁻¹M = R⁻¹M − B C⁻¹ Zᵀ R⁻¹ M`.
    fn sinv_mul(&self, m: &DMatrix<f64>) -> DMatrix<f64> {
        let rm = scale_rows(m, &self.rinv);
        let inner = self.c_ch.solve(&(self.z.transpose() * &rm));
        rm - &self.b * inner
    }

    /// The number of columns of term `t` in `Z`.
    fn width(&self, t: usize) -> usize {
        self.offs[t + 1] - self.offs[t]
    }

    /// `O_r = G_r Σ⁻¹X` of every parameter, from `sx = Σ⁻¹X`.
    fn o_mats(&self, lin: &Linearized, sx: &DMatrix<f64>) -> Vec<DMatrix<f64>> {
        let zsx = self.z.transpose() * sx; // q × p
        lin.derivs
            .iter()
            .map(|d| match d {
                Deriv::Term(t, dm) => &lin.zs[*t] * (dm * zsx.rows(self.offs[*t], self.width(*t))),
                Deriv::Residual(e) => scale_rows(sx, e),
            })
            .collect()
    }

    /// The products every trace of a pair of parameters reads.
    fn trace_parts(&self) -> TraceParts {
        let n = self.z.nrows();
        let sz = self.sinv_mul(&self.z);
        // Z_tᵀ Σ⁻¹ Z_u blocks; for the residual's traces U_ii = b_iᵀC⁻¹b_i.
        let a = self.z.transpose() * &sz;
        let cinv_bt = self.c_ch.solve(&self.b.transpose()); // q × n
        let u_diag = (0..n)
            .map(|i| self.b.row(i).transpose().dot(&cinv_bt.column(i)))
            .collect();
        TraceParts { sz, a, u_diag }
    }

    /// `Q_rs = O_rᵀΣ⁻¹O_s` (`so[s] = Σ⁻¹O_s`) and `tr(Σ⁻¹G_rΣ⁻¹G_s)` of
    /// every pair of parameters.
    fn pair_pieces(
        &self,
        derivs: &[Deriv],
        o: &[DMatrix<f64>],
        so: &[DMatrix<f64>],
    ) -> (Vec<Vec<DMatrix<f64>>>, DMatrix<f64>) {
        let parts = self.trace_parts();
        let kk = derivs.len();
        let mut ktrace = DMatrix::zeros(kk, kk);
        let mut q_all = vec![vec![DMatrix::zeros(0, 0); kk]; kk];
        for rr in 0..kk {
            for ss in rr..kk {
                let qm = o[rr].transpose() * &so[ss];
                q_all[ss][rr] = qm.transpose();
                q_all[rr][ss] = qm;
                let tr = self.pair_trace(&parts, &derivs[rr], &derivs[ss]);
                ktrace[(rr, ss)] = tr;
                ktrace[(ss, rr)] = tr;
            }
        }
        (q_all, ktrace)
    }

    /// `tr(Σ⁻¹G_rΣ⁻¹G_s)` of the derivatives `dr` and `ds`.
    fn pair_trace(&self, parts: &TraceParts, dr: &Deriv, ds: &Deriv) -> f64 {
        let a_block = |t: usize, u: usize| {
            parts
                .a
                .view((self.offs[t], self.offs[u]), (self.width(t), self.width(u)))
        };
        match (dr, ds) {
            (Deriv::Term(t, dr), Deriv::Term(u, ds)) => {
                (dr * a_block(*t, *u) * ds * a_block(*u, *t)).trace()
            }
            (Deriv::Term(t, d), Deriv::Residual(e)) | (Deriv::Residual(e), Deriv::Term(t, d)) => {
                let szt = parts.sz.columns(self.offs[*t], self.width(*t)).into_owned();
                (d * (szt.transpose() * scale_rows(&szt, e))).trace()
            }
            (Deriv::Residual(er), Deriv::Residual(es)) => self.residual_trace(parts, er, es),
        }
    }

    /// `tr(Σ⁻¹E_rΣ⁻¹E_s)` of two diagonal residual derivatives `E = diag(e)`:
    /// `Σ_i e_ri e_si (r_i⁻² − 2 r_i⁻¹ U_ii) + tr(C⁻¹BᵀE_rB C⁻¹BᵀE_sB)`.
    fn residual_trace(&self, parts: &TraceParts, er: &DVector<f64>, es: &DVector<f64>) -> f64 {
        let ct_e = |e: &DVector<f64>| {
            self.c_ch
                .solve(&(self.b.transpose() * scale_rows(&self.b, e)))
        };
        let rinv = &self.rinv;
        let mut first = 0.0;
        let mut second = 0.0;
        for i in 0..rinv.len() {
            first += rinv[i] * rinv[i] * er[i] * es[i];
            second += rinv[i] * parts.u_diag[i] * er[i] * es[i];
        }
        first - 2.0 * second + (ct_e(er) * ct_e(es)).trace()
    }
}

/// The pieces through the mixed-model equations: `None` when the residual
/// is not diagonal, a `G` is singular or `n·q` is too large.
fn pieces_mme(model: &MixedModel, free: &[f64]) -> Result<Option<Pieces>, InferenceError> {
    let n = model.n();
    let q_total: usize = model.terms.iter().map(|t| t.z.dims().1).sum();
    if n.saturating_mul(q_total.max(1)) > MAX_NQ {
        return Ok(None);
    }
    let Some(lin) = linearize(model, free)? else {
        return Ok(None);
    };
    let Some(mme) = MmeSystem::new(&lin, n) else {
        return Ok(None);
    };
    let x = x_dense(model);
    let sx = mme.sinv_mul(&x);
    let phi = (x.transpose() * &sx)
        .cholesky()
        .ok_or_else(|| fail("XᵀV⁻¹X is singular"))?
        .inverse();
    let o = mme.o_mats(&lin, &sx);
    let p_mats: Vec<DMatrix<f64>> = o
        .iter()
        .map(|o| {
            let p = -(sx.transpose() * o);
            (&p + p.transpose()) * 0.5
        })
        .collect();
    let so: Vec<DMatrix<f64>> = o.iter().map(|m| mme.sinv_mul(m)).collect();
    let (q_all, ktrace) = mme.pair_pieces(&lin.derivs, &o, &so);
    Ok(Some(Pieces {
        phi,
        p_mats,
        q_all,
        ktrace,
    }))
}

/// `V` at a fit's estimate and its derivatives in the natural (linear)
/// variance parameters, dense.
pub(crate) struct DenseV {
    pub v: DMatrix<f64>,
    pub dv: Vec<DMatrix<f64>>,
}

fn fail(reason: impl Into<String>) -> InferenceError {
    InferenceError::Invalid {
        reason: reason.into(),
    }
}

/// The dense `n × p` design of the fixed effects.
pub(crate) fn x_dense(model: &MixedModel) -> DMatrix<f64> {
    let x = &model.fixed.x;
    DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| x[(i, j)])
}

/// `V` and `∂V/∂γ_k` (the natural parameters) at the free parameters
/// `free`; refused when `V` is not linear in them.
pub(crate) fn dense_v(model: &MixedModel, free: &[f64]) -> Result<DenseV, InferenceError> {
    let n = model.n();
    let info = model.params();
    let parts = model.random_part().split(free);
    let mut v = DMatrix::zeros(n, n);
    let mut dv = Vec::with_capacity(free.len());
    let jac = JacobianMethod::ClosedForm;
    for (t, x) in model.terms.iter().zip(&parts) {
        let (g, dg) =
            t.g.value_and_jacobian_f64(x, jac)
                .map_err(|e| fail(format!("G of `{}`: {e}", t.name)))?;
        let z = t.z.to_dense();
        v += &z * &g * z.transpose();
        for d in dg {
            dv.push(&z * d * z.transpose());
        }
    }
    let (r, dr) = model
        .residual
        .value_and_jacobian_f64(parts[parts.len() - 1], jac)
        .map_err(|e| fail(format!("the residual: {e}")))?;
    v += r;
    dv.extend(dr);
    let mut natural = Vec::with_capacity(free.len());
    for (k, d) in dv.iter_mut().enumerate() {
        let tr = &info.transforms[k];
        let slope = tr.derivative(free[k]);
        if !(slope.is_finite() && slope != 0.0) {
            return Err(fail(format!(
                "the parameter `{}` is on its boundary (d natural / d free = {slope})",
                info.names[k]
            )));
        }
        *d /= slope;
        natural.push(tr.forward(free[k]));
    }
    // Linear (and homogeneous) in the natural parameters: V = Σ γ_k ∂V/∂γ_k.
    let mut lin = DMatrix::zeros(n, n);
    for (g, d) in natural.iter().zip(&dv) {
        lin += d * *g;
    }
    let scale = v.amax().max(f64::MIN_POSITIVE);
    if (&lin - &v).amax() > 1e-8 * scale {
        return Err(not_linear());
    }
    Ok(DenseV { v, dv })
}

/// Kenward–Roger's adjusted covariance of β̂ at a fit's estimate, with what
/// the tests need.
#[derive(Clone, Debug)]
pub struct KenwardRoger {
    /// `Φ = (XᵀV⁻¹X)⁻¹`, the unadjusted covariance of β̂.
    pub phi: DMatrix<f64>,
    /// `Φ_A`, the adjusted covariance of β̂ (pbkrtest's `vcovAdj`).
    pub phi_adjusted: DMatrix<f64>,
    p_mats: Vec<DMatrix<f64>>,
    w: DMatrix<f64>,
    beta: Vec<f64>,
}

/// The result of a Kenward–Roger F test.
#[derive(Clone, Debug, PartialEq)]
pub struct KrTest {
    /// The scaled F statistic.
    pub f: f64,
    /// Numerator df (the rows of `L`).
    pub num_df: usize,
    /// Denominator df `m`.
    pub den_df: f64,
    /// The scale `λ` applied to the Wald statistic.
    pub scaling: f64,
}

impl KenwardRoger {
    /// The adjustment at the estimate of `fit`, a REML fit of `model`.
    ///
    /// ```
    /// use covreml::datasets::{john_alpha, john_alpha_model};
    /// use covreml::inference::KenwardRoger;
    /// use covreml::reml::RemlOptions;
    /// use nalgebra::DMatrix;
    /// let m = john_alpha_model(&john_alpha()).unwrap();
    /// let fit = m.fit(&RemlOptions::default().tolerance(1e-10)).unwrap();
    /// let kr = KenwardRoger::new(&m, &fit).unwrap();
    /// // The adjusted covariance is not smaller than the plain one (here,
    /// // for the replicate contrasts of a balanced design, equal up to
    /// // rounding).
    /// assert!(kr.phi_adjusted[(1, 1)] >= kr.phi[(1, 1)] * (1.0 - 1e-12));
    /// let t = kr.test(&DMatrix::from_row_slice(2, 3, &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0])).unwrap();
    /// assert_eq!(t.num_df, 2);
    /// ```
    pub fn new(model: &MixedModel, fit: &RemlFit) -> Result<Self, InferenceError> {
        if fit.method != crate::reml::Method::Reml {
            return Err(fail(
                "Kenward–Roger is defined for REML fits only (as in pbkrtest)",
            ));
        }
        let Pieces {
            phi,
            p_mats,
            q_all,
            ktrace,
        } = match pieces_mme(model, &fit.free)? {
            Some(p) => p,
            None => pieces_dense(model, &fit.free)?,
        };
        let k = p_mats.len();
        let mut ie2 = DMatrix::zeros(k, k);
        for r in 0..k {
            let phi_p_r = &phi * &p_mats[r];
            for s in r..k {
                let v = ktrace[(r, s)] - 2.0 * phi.component_mul(&q_all[r][s]).sum()
                    + phi_p_r.component_mul(&(&p_mats[s] * &phi)).sum();
                ie2[(r, s)] = v;
                ie2[(s, r)] = v;
            }
        }
        let w = ie2.clone().try_inverse().ok_or_else(|| {
            fail("the expected information of the variance parameters is singular")
        })? * 2.0;
        let w = (&w + w.transpose()) * 0.5;
        let mut u = DMatrix::zeros(phi.nrows(), phi.ncols());
        for r in 0..k {
            for s in 0..k {
                u += (&q_all[r][s] - &p_mats[r] * &phi * &p_mats[s]) * w[(r, s)];
            }
        }
        let phi_adjusted = &phi + (&phi * u * &phi) * 2.0;
        Ok(KenwardRoger {
            phi,
            phi_adjusted,
            p_mats,
            w,
            beta: fit.beta.clone(),
        })
    }

    /// pbkrtest's `A₁`, `A₂` for `L` and the df `m` and scale `λ`.
    fn df_and_scale(&self, l: &DMatrix<f64>) -> Result<(f64, f64), InferenceError> {
        let q = l.nrows() as f64;
        let m = l * &self.phi * l.transpose();
        let m_inv = m
            .cholesky()
            .ok_or_else(|| fail("L Φ Lᵀ is singular: the rows of L are dependent"))?
            .inverse();
        let theta = l.transpose() * m_inv * l;
        let theta_phi = &theta * &self.phi;
        let u: Vec<DMatrix<f64>> = self
            .p_mats
            .iter()
            .map(|p| &theta_phi * p * &self.phi)
            .collect();
        let (mut a1, mut a2) = (0.0, 0.0);
        let k = u.len();
        for i in 0..k {
            for j in i..k {
                let e = if i == j { 1.0 } else { 2.0 };
                a1 += e * self.w[(i, j)] * u[i].trace() * u[j].trace();
                a2 += e * self.w[(i, j)] * u[i].component_mul(&u[j].transpose()).sum();
            }
        }
        let b = (a1 + 6.0 * a2) / (2.0 * q);
        let g = ((q + 1.0) * a1 - (q + 4.0) * a2) / ((q + 2.0) * a2);
        let den = 3.0 * q + 2.0 * (1.0 - g);
        let (c1, c2, c3) = (g / den, (q - g) / den, (q + 2.0 - g) / den);
        let mut v0 = 1.0 + c1 * b;
        if v0.abs() < 1e-10 {
            v0 = 0.0;
        }
        let v1 = 1.0 - c2 * b;
        let v2 = 1.0 - c3 * b;
        let x = 1.0 - a2 / q;
        let ratio = if x.abs() < 1e-14 && v1.abs() < 1e-14 {
            1.0
        } else {
            x / v1
        };
        let rho = ratio * ratio * v0 / v2 / q;
        let df = 4.0 + (q + 2.0) / (q * rho - 1.0);
        let scaling = if (df - 2.0).abs() < 0.01 {
            1.0
        } else {
            df * x / (df - 2.0)
        };
        Ok((df, scaling))
    }

    /// The Kenward–Roger F test of `Lβ = 0` (`L` is `q × p`, full row rank).
    pub fn test(&self, l: &DMatrix<f64>) -> Result<KrTest, InferenceError> {
        let p = self.beta.len();
        if l.ncols() != p || l.nrows() == 0 {
            return Err(fail(format!(
                "L must have {p} columns and at least one row; it is {} × {}",
                l.nrows(),
                l.ncols()
            )));
        }
        let (den_df, scaling) = self.df_and_scale(l)?;
        let lb = l * DVector::from_column_slice(&self.beta);
        let ma = (l * &self.phi_adjusted * l.transpose())
            .cholesky()
            .ok_or_else(|| fail("L Φ_A Lᵀ is singular"))?
            .inverse();
        let wald = (lb.transpose() * ma * &lb)[(0, 0)];
        let q = l.nrows();
        Ok(KrTest {
            f: scaling * wald / q as f64,
            num_df: q,
            den_df,
            scaling,
        })
    }

    /// The standard error `√(lᵀΦ_A l)` and Kenward–Roger df of `lᵀβ̂`
    /// (lmerTest's t test with `ddf = "Kenward-Roger"`).
    pub fn t_1d(&self, l: &DVector<f64>) -> Result<(f64, f64), InferenceError> {
        let lm = DMatrix::from_row_slice(1, l.len(), l.as_slice());
        let (df, _) = self.df_and_scale(&lm)?;
        let var = (l.transpose() * &self.phi_adjusted * l)[(0, 0)];
        Ok((var.sqrt(), df))
    }
}

/// The pieces with the dense `Σ⁻¹` (at most [`MAX_N`] observations).
fn pieces_dense(model: &MixedModel, free: &[f64]) -> Result<Pieces, InferenceError> {
    let n = model.n();
    if n > MAX_N {
        return Err(fail(format!(
            "Kenward–Roger needs the dense V here (a residual that is not diagonal, or a variance on its boundary); {n} observations is more than {MAX_N}: use --ddf satterthwaite"
        )));
    }
    let dv = dense_v(model, free)?;
    let x = x_dense(model);
    let sinv =
        dv.v.clone()
            .cholesky()
            .ok_or_else(|| fail("V is not positive definite at the estimate"))?
            .inverse();
    let tt = &sinv * &x;
    let phi = (x.transpose() * &tt)
        .cholesky()
        .ok_or_else(|| fail("XᵀV⁻¹X is singular"))?
        .inverse();
    let k = dv.dv.len();
    let h: Vec<DMatrix<f64>> = dv.dv.iter().map(|g| g * &sinv).collect();
    let o: Vec<DMatrix<f64>> = h.iter().map(|h| h * &x).collect();
    let p_mats: Vec<DMatrix<f64>> = o
        .iter()
        .map(|o| {
            let p = -(o.transpose() * &tt);
            (&p + p.transpose()) * 0.5
        })
        .collect();
    let so: Vec<DMatrix<f64>> = o.iter().map(|o| &sinv * o).collect();
    let mut ktrace = DMatrix::zeros(k, k);
    let mut q_all = vec![vec![DMatrix::zeros(0, 0); k]; k];
    for r in 0..k {
        for s in r..k {
            let q = o[r].transpose() * &so[s];
            let t = h[r].transpose().component_mul(&h[s]).sum();
            ktrace[(r, s)] = t;
            ktrace[(s, r)] = t;
            q_all[s][r] = q.transpose();
            q_all[r][s] = q;
        }
    }
    Ok(Pieces {
        phi,
        p_mats,
        q_all,
        ktrace,
    })
}

/// Solves with `Σ = V` at the free parameters: through the mixed-model
/// equations (`Σ⁻¹M = R⁻¹M − R⁻¹Z C⁻¹ZᵀR⁻¹M`) when the residual is diagonal
/// and every `G` invertible, else with the dense Cholesky factor of `V`
/// (at most [`MAX_N`] observations).
pub(crate) enum SigmaSolver {
    Mme {
        rinv: DVector<f64>,
        z: DMatrix<f64>,
        b: DMatrix<f64>,
        c: nalgebra::Cholesky<f64, nalgebra::Dyn>,
    },
    Dense(nalgebra::Cholesky<f64, nalgebra::Dyn>),
}

impl SigmaSolver {
    /// `V` at `free` ready to solve with.
    pub(crate) fn new(model: &MixedModel, free: &[f64]) -> Result<Self, InferenceError> {
        let n = model.n();
        let parts = model.random_part().split(free);
        let q: usize = model.terms.iter().map(|t| t.z.dims().1).sum();
        let diag = model
            .residual
            .diagonal_f64(parts[parts.len() - 1])
            .transpose()
            .map_err(|e| fail(format!("the residual: {e}")))?;
        if let Some((r, _)) = diag.filter(|(r, _)| r.iter().all(|v| *v > 0.0)) {
            if n.saturating_mul(q.max(1)) <= MAX_NQ {
                let rinv = DVector::from_iterator(n, r.iter().map(|v| 1.0 / v));
                let mut z = DMatrix::zeros(n, q);
                let mut ginv = Vec::new();
                let mut off = 0;
                let mut ok = true;
                for (t, x) in model.terms.iter().zip(&parts) {
                    let g = t.g.value_f64(x).map_err(|e| fail(e.to_string()))?;
                    match g.cholesky() {
                        Some(ch) => ginv.push((off, ch.inverse())),
                        None => {
                            ok = false;
                            break;
                        }
                    }
                    let zt = t.z.to_dense();
                    z.view_mut((0, off), (n, zt.ncols())).copy_from(&zt);
                    off += zt.ncols();
                }
                if ok {
                    let b = scale_rows(&z, &rinv);
                    let mut c = z.transpose() * &b;
                    for (o, gi) in &ginv {
                        let mut v = c.view_mut((*o, *o), (gi.nrows(), gi.ncols()));
                        v += gi;
                    }
                    if let Some(c) = c.cholesky() {
                        return Ok(SigmaSolver::Mme { rinv, z, b, c });
                    }
                }
            }
        }
        if n > MAX_N {
            return Err(fail(format!(
                "this needs the dense V (a residual that is not diagonal, or a variance on its boundary); {n} observations is more than {MAX_N}"
            )));
        }
        let mut v = DMatrix::zeros(n, n);
        for (t, x) in model.terms.iter().zip(&parts) {
            let g = t.g.value_f64(x).map_err(|e| fail(e.to_string()))?;
            let z = t.z.to_dense();
            v += &z * g * z.transpose();
        }
        v += model
            .residual
            .value_f64(parts[parts.len() - 1])
            .map_err(|e| fail(e.to_string()))?;
        v.cholesky()
            .map(SigmaSolver::Dense)
            .ok_or_else(|| fail("V is not positive definite at the estimate"))
    }

    /// `Σ⁻¹ m`.
    pub(crate) fn solve(&self, m: &DMatrix<f64>) -> DMatrix<f64> {
        match self {
            SigmaSolver::Mme { rinv, z, b, c } => {
                let rm = scale_rows(m, rinv);
                let inner = c.solve(&(z.transpose() * &rm));
                rm - b * inner
            }
            SigmaSolver::Dense(ch) => ch.solve(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::{john_alpha, john_alpha_model};
    use crate::reml::RemlOptions;

    /// The two ways of computing the pieces agree: through the mixed-model
    /// equations (Woodbury) and with the dense `Σ⁻¹`.
    #[test]
    fn mixed_model_equations_match_the_dense_computation() {
        let m = john_alpha_model(&john_alpha()).unwrap();
        let fit = m.fit(&RemlOptions::default().tolerance(1e-10)).unwrap();
        let a = pieces_mme(&m, &fit.free)
            .unwrap()
            .expect("diagonal residual");
        let b = pieces_dense(&m, &fit.free).unwrap();
        let close =
            |x: &DMatrix<f64>, y: &DMatrix<f64>| (x - y).amax() <= 1e-9 * y.amax().max(1e-12);
        assert!(close(&a.phi, &b.phi));
        assert!(close(&a.ktrace, &b.ktrace), "{} vs {}", a.ktrace, b.ktrace);
        for (x, y) in a.p_mats.iter().zip(&b.p_mats) {
            assert!(close(x, y));
        }
        for (r, s) in a.q_all.iter().zip(&b.q_all) {
            for (x, y) in r.iter().zip(s) {
                assert!(close(x, y));
            }
        }
    }
}
