//! Unstructured covariance blocks optimised in Cholesky form.
//!
//! An `Unconstrained` matrix `Σ` (parameters `sigma^2_i_j`, `e^{2x}` on the
//! diagonal, the identity off it) can leave the positive semi-definite cone
//! along an AI step: the fit then reports a "converged" indefinite `G`. The
//! driver instead optimises the Cholesky factor `Σ = L Lᵀ`, its entries `L_ij`
//! at the positions of `sigma^2_i_j`, with the diagonal bounded below by a
//! floor that stands for 0 (see [`Plan::floor`]). Every point of that space is
//! a positive semi-definite `Σ`; a diagonal held at the floor is a singular
//! `Σ` (a correlation ±1 or a variance 0), as lme4's relative Cholesky
//! factor with non-negative diagonal. The score and AI matrix follow by the
//! chain rule, `s_L = Jᵀ s_x`, `AI_L = Jᵀ AI_x J` with `J = ∂x/∂L`; the result
//! is mapped back to the user's parameters, standard errors by the delta
//! method.
//!
//! Newton's method converges fastest on the scale a structure was written
//! for, so the driver starts in the user's parameterisation
//! ([`Plan::user_form`]), guarded: a point where a block is not safely
//! positive definite ([`Plan::safe`]) is refused there, and from the first
//! step that would reach such a point (or take a block variance towards 0,
//! or fail) the fit continues in Cholesky form from where it is. An
//! interior optimum is reached in the user's form (sleepstudy in 6
//! iterations, as before the Cholesky form), a boundary one in Cholesky
//! form.
//!
//! A block is recognised by its parameters: the full lower triangle
//! `sigma^2_i_j`, `0 ≤ j ≤ i < n`, `n ≥ 2`, under one operand path, with the
//! variance and covariance kinds and transforms of `Unconstrained`. A block
//! with a finite user bound on any of its parameters keeps the user's
//! parameterisation.

use super::evaluator::{EvalFail, Evaluator, ParamInfo, Point, ScoreAi};
use super::RemlError;
use crate::{JacobianMethod, ParamKind, Transform};
use nalgebra::DMatrix;
use std::collections::BTreeMap;

/// One unstructured block: `idx[tri(i, j)]` is the position of `sigma^2_i_j`.
#[derive(Clone, Debug)]
pub(crate) struct Block {
    /// The operand path of the block (`g`, `residual/op_1`).
    pub prefix: String,
    /// Its order.
    pub n: usize,
    /// Positions of the lower-triangle entries, row-major.
    pub idx: Vec<usize>,
    /// Whether the fit optimises it in Cholesky form.
    pub cholesky: bool,
    /// Whether it may be (no finite user bound on its parameters).
    pub eligible: bool,
}

/// Index of `(i, j)`, `j ≤ i`, in a row-major lower triangle.
pub(crate) fn tri(i: usize, j: usize) -> usize {
    i * (i + 1) / 2 + j
}

impl Block {
    /// `Σ` from the user's free parameters `x`.
    pub fn sigma(&self, x: &[f64]) -> DMatrix<f64> {
        let mut s = DMatrix::zeros(self.n, self.n);
        for i in 0..self.n {
            for j in 0..=i {
                let v = x[self.idx[tri(i, j)]];
                let v = if i == j { (2.0 * v).exp() } else { v };
                s[(i, j)] = v;
                s[(j, i)] = v;
            }
        }
        s
    }

    /// `L` from the optimiser's parameters `z`.
    fn factor(&self, z: &[f64]) -> DMatrix<f64> {
        let mut l = DMatrix::zeros(self.n, self.n);
        for i in 0..self.n {
            for j in 0..=i {
                l[(i, j)] = z[self.idx[tri(i, j)]];
            }
        }
        l
    }
}

/// The reparameterisation of a model: its unstructured blocks.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub blocks: Vec<Block>,
    /// The lower bound of a Cholesky diagonal: `√(1e-10 · var(y))`.
    pub floor: f64,
    /// Whether points outside the safe region of an eligible block in the
    /// user's form fail to evaluate (see [`Plan::user_form`]).
    pub guard: bool,
    /// The parameters of random terms lead θ (`ParamInfo::random`).
    pub random: usize,
}

/// The smallest relative Cholesky pivot an eligible block may have in the
/// user's parameterisation (see [`Plan::safe`]).
pub(crate) const SAFE_PIVOT: f64 = 1e-2;

/// `min_i d_i² / Σ_ii` over the pivots `d_i²` of the Cholesky factor of
/// `s`: 1 for a diagonal matrix, 0 (or below) at the edge of the positive
/// definite cone; `-∞` when a diagonal is not positive or not finite.
pub(crate) fn min_relative_pivot(s: &DMatrix<f64>) -> f64 {
    let n = s.nrows();
    let mut l = DMatrix::<f64>::zeros(n, n);
    let mut min = f64::INFINITY;
    for i in 0..n {
        let sii = s[(i, i)];
        if !(sii.is_finite() && sii > 0.0) {
            return f64::NEG_INFINITY;
        }
        let d2 = sii - (0..i).map(|k| l[(i, k)] * l[(i, k)]).sum::<f64>();
        min = min.min(d2 / sii);
        if d2 <= 0.0 {
            return min;
        }
        let d = d2.sqrt();
        l[(i, i)] = d;
        for j in i + 1..n {
            let v = s[(j, i)] - (0..i).map(|k| l[(j, k)] * l[(i, k)]).sum::<f64>();
            l[(j, i)] = v / d;
        }
    }
    min
}

/// `sigma^2_i_j` → `(i, j)`.
fn entry(local: &str) -> Option<(usize, usize)> {
    let rest = local.strip_prefix("sigma^2_")?;
    let (i, j) = rest.split_once('_')?;
    let (i, j) = (i.parse().ok()?, j.parse().ok()?);
    (j <= i).then_some((i, j))
}

impl Plan {
    /// Finds the unstructured blocks of `params`; `lo`, `hi` are the user's
    /// bounds (a block with a finite one is left as it is); `var_y` sets the
    /// floor of the Cholesky diagonals.
    pub fn new(params: &ParamInfo, lo: &[f64], hi: &[f64], boundary: f64, var_y: f64) -> Plan {
        let mut groups: BTreeMap<String, Vec<(usize, usize, usize)>> = BTreeMap::new();
        for (k, name) in params.names.iter().enumerate() {
            let (prefix, local) = name.rsplit_once('/').unwrap_or(("", name));
            if let Some((i, j)) = entry(local) {
                groups.entry(prefix.to_owned()).or_default().push((i, j, k));
            }
        }
        let mut blocks = Vec::new();
        for (prefix, entries) in groups {
            let n = entries.iter().map(|e| e.0 + 1).max().unwrap_or(0);
            if n < 2 || entries.len() != n * (n + 1) / 2 {
                continue;
            }
            let mut idx = vec![usize::MAX; entries.len()];
            for &(i, j, k) in &entries {
                idx[tri(i, j)] = k;
            }
            let typed = (0..n).all(|i| {
                (0..=i).all(|j| {
                    let k = idx[tri(i, j)];
                    k != usize::MAX
                        && if i == j {
                            params.transforms[k] == Transform::ExpPow2
                                && params.kinds[k] == ParamKind::Variance
                        } else {
                            params.transforms[k] == Transform::Identity
                                && params.kinds[k] == ParamKind::OffDiagonal
                        }
                })
            });
            if !typed {
                continue;
            }
            let free = idx
                .iter()
                .all(|&k| lo[k] == f64::NEG_INFINITY && hi[k] == f64::INFINITY);
            blocks.push(Block {
                prefix,
                n,
                idx,
                cholesky: free,
                eligible: free,
            });
        }
        let scale = if var_y > 0.0 { var_y } else { 1.0 };
        Plan {
            blocks,
            floor: (boundary * scale).sqrt(),
            guard: false,
            random: params.random,
        }
    }

    /// The same blocks in the user's parameterisation, guarded: a point
    /// where an eligible block is not safely positive definite
    /// ([`safe`](Self::safe)) does not evaluate (`NotPd`). The driver
    /// starts here and switches to the Cholesky form near the boundary.
    pub fn user_form(&self) -> Plan {
        let mut p = self.clone();
        p.blocks.iter_mut().for_each(|b| b.cholesky = false);
        p.guard = p.blocks.iter().any(|b| b.eligible);
        p
    }

    /// Whether every eligible block is safely inside the positive definite
    /// cone at the user's free parameters `x`: each pivot of its Cholesky
    /// factor, relative to its diagonal (`1 − R²` of a row on the rows
    /// before it), at least [`SAFE_PIVOT`]. A correlation of a 2 × 2 block
    /// is then within ±0.995.
    pub fn safe(&self, x: &[f64]) -> bool {
        self.blocks
            .iter()
            .filter(|b| b.eligible)
            .all(|b| min_relative_pivot(&b.sigma(x)) >= SAFE_PIVOT)
    }

    fn cholesky_blocks(&self) -> impl Iterator<Item = &Block> {
        self.blocks.iter().filter(|b| b.cholesky)
    }

    /// Whether any block is optimised in Cholesky form.
    pub fn active(&self) -> bool {
        self.cholesky_blocks().next().is_some()
    }

    /// Whether position `k` is a Cholesky diagonal (bounded below by the floor).
    pub fn is_diagonal(&self, k: usize) -> bool {
        self.cholesky_blocks()
            .any(|b| (0..b.n).any(|i| b.idx[tri(i, i)] == k))
    }

    /// Whether position `k` belongs to a Cholesky block.
    pub fn in_block(&self, k: usize) -> bool {
        self.cholesky_blocks().any(|b| b.idx.contains(&k))
    }

    /// The optimiser's view of `params`: Cholesky entries `L_i_j` (identity
    /// transform, kind loading) at the positions of the blocks.
    pub fn params(&self, params: &ParamInfo) -> ParamInfo {
        let mut p = params.clone();
        for b in self.cholesky_blocks() {
            for i in 0..b.n {
                for j in 0..=i {
                    let k = b.idx[tri(i, j)];
                    p.names[k] = if b.prefix.is_empty() {
                        format!("L_{i}_{j}")
                    } else {
                        format!("{}/L_{i}_{j}", b.prefix)
                    };
                    p.transforms[k] = Transform::Identity;
                    p.kinds[k] = ParamKind::Loading;
                }
            }
        }
        p
    }

    /// The optimiser's start `z` for the user's free parameters `x`: the
    /// Cholesky factor of each block (its off-diagonal shrunk until it is
    /// positive definite), diagonals at least the floor.
    pub fn to_z(&self, x: &[f64]) -> Vec<f64> {
        let mut z = x.to_vec();
        for b in self.cholesky_blocks() {
            let mut s = b.sigma(x);
            let mut l = None;
            for _ in 0..60 {
                if let Some(c) = s.clone().cholesky() {
                    l = Some(c.l());
                    break;
                }
                for i in 0..b.n {
                    for j in 0..b.n {
                        if i != j {
                            s[(i, j)] *= 0.7;
                        }
                    }
                }
            }
            let l = l.unwrap_or_else(|| DMatrix::from_diagonal(&s.diagonal().map(f64::sqrt)));
            for i in 0..b.n {
                for j in 0..=i {
                    let v = l[(i, j)];
                    z[b.idx[tri(i, j)]] = if i == j { v.max(self.floor) } else { v };
                }
            }
        }
        z
    }

    /// [`to_z`](Self::to_z) when every block is positive definite at `x`,
    /// else `None`.
    pub fn to_z_exact(&self, x: &[f64]) -> Option<Vec<f64>> {
        self.cholesky_blocks()
            .all(|b| b.sigma(x).cholesky().is_some())
            .then(|| self.to_z(x))
    }

    /// The user's free parameters `x` at the optimiser's `z`.
    pub fn to_x(&self, z: &[f64]) -> Vec<f64> {
        let mut x = z.to_vec();
        for b in self.cholesky_blocks() {
            let l = b.factor(z);
            let s = &l * l.transpose();
            for i in 0..b.n {
                for j in 0..=i {
                    let v = s[(i, j)];
                    x[b.idx[tri(i, j)]] = if i == j { 0.5 * v.ln() } else { v };
                }
            }
        }
        x
    }

    /// The unstructured block of a random term most nearly singular at the
    /// user's parameters `x`, with its relative pivot, if that is below
    /// [`IMPRECISE_PIVOT`](super::boundary::IMPRECISE_PIVOT) (an evaluator
    /// working with `G⁻¹` loses the score's digits there).
    pub fn ill_conditioned(&self, x: &[f64]) -> Option<(String, f64)> {
        self.blocks
            .iter()
            .filter(|b| b.idx.iter().all(|&i| i < self.random))
            .map(|b| (b, min_relative_pivot(&b.sigma(x))))
            .filter(|(_, p)| p.is_nan() || *p < super::boundary::IMPRECISE_PIVOT)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(b, p)| (b.prefix.clone(), p))
    }

    /// `J = ∂x/∂z` at `z` (the identity outside the blocks).
    pub fn jacobian(&self, z: &[f64]) -> DMatrix<f64> {
        let k = z.len();
        let mut jac = DMatrix::identity(k, k);
        for b in self.cholesky_blocks() {
            let l = b.factor(z);
            let s = &l * l.transpose();
            for a in 0..b.n {
                for c in 0..=a {
                    let row = b.idx[tri(a, c)];
                    let scale = if a == c { 0.5 / s[(a, a)] } else { 1.0 };
                    for p in 0..b.n {
                        for q in 0..=p {
                            // ∂Σ_ac/∂L_pq = [a = p] L_cq [q ≤ c] + [c = p] L_aq [q ≤ a]
                            let mut d = 0.0;
                            if a == p && q <= c {
                                d += l[(c, q)];
                            }
                            if c == p && q <= a {
                                d += l[(a, q)];
                            }
                            jac[(row, b.idx[tri(p, q)])] = scale * d;
                        }
                    }
                }
            }
        }
        jac
    }
}

impl Plan {
    /// `Σ_k s_k ∇²_z x_k`: the curvature the map `z ↦ x` adds to the
    /// Hessian, with `s` the score on the user's scale. At a boundary
    /// optimum `s ≠ 0` (the unconstrained optimum would be an indefinite
    /// `Σ`), and `Jᵀ AI J` alone misses this term: its steps then run along
    /// the boundary ridge without converging.
    pub fn curvature(&self, z: &[f64], s: &[f64]) -> DMatrix<f64> {
        let k = z.len();
        let mut h = DMatrix::zeros(k, k);
        for b in self.cholesky_blocks() {
            let l = b.factor(z);
            let sig = &l * l.transpose();
            for a in 0..b.n {
                for c in 0..=a {
                    let sk = s[b.idx[tri(a, c)]];
                    if sk == 0.0 {
                        continue;
                    }
                    // ∂Σ_ac/∂L_pq and ∂²Σ_ac/∂L_pq∂L_rt over the block's entries
                    let entries: Vec<(usize, usize)> = (0..b.n)
                        .flat_map(|p| (0..=p).map(move |q| (p, q)))
                        .collect();
                    let d1 = |p: usize, q: usize| {
                        let mut d = 0.0;
                        if a == p && q <= c {
                            d += l[(c, q)];
                        }
                        if c == p && q <= a {
                            d += l[(a, q)];
                        }
                        d
                    };
                    let d2 = |(p, q): (usize, usize), (r, t): (usize, usize)| {
                        let mut d = 0.0;
                        if q == t {
                            if a == p && c == r {
                                d += 1.0;
                            }
                            if c == p && a == r {
                                d += 1.0;
                            }
                        }
                        d
                    };
                    for &u in &entries {
                        for &v in &entries {
                            let mut second = d2(u, v);
                            if a == c {
                                let saa = sig[(a, a)];
                                second = 0.5 * second / saa
                                    - 0.5 * d1(u.0, u.1) * d1(v.0, v.1) / (saa * saa);
                            }
                            h[(b.idx[tri(u.0, u.1)], b.idx[tri(v.0, v.1)])] += sk * second;
                        }
                    }
                }
            }
        }
        h
    }
}

/// An evaluator on the optimiser's parameters `z`: maps them to the user's
/// `x`, evaluates there, and carries score and AI matrix back by the chain
/// rule.
pub(crate) struct Constrained<'a> {
    pub inner: &'a mut dyn Evaluator,
    pub plan: &'a Plan,
}

impl Evaluator for Constrained<'_> {
    fn evaluate(&mut self, z: &[f64]) -> Result<Point, EvalFail> {
        if self.plan.guard && !self.plan.safe(z) {
            return Err(EvalFail::NotPd);
        }
        if !self.plan.active() {
            return self.inner.evaluate(z);
        }
        let x = self.plan.to_x(z);
        if x.iter().any(|v| !v.is_finite()) {
            return Err(EvalFail::NotPd);
        }
        let mut p = self.inner.evaluate(&x)?;
        p.x = z.to_vec();
        Ok(p)
    }

    fn score_and_ai(&mut self, at: &Point, method: JacobianMethod) -> Result<ScoreAi, RemlError> {
        if self.inner.inverts_g() {
            // Henderson's equations lose the digits of the score where a
            // block of G is nearly singular: the fit is handed over to the
            // Λ-form completion (see `lambda_polish`) from this point, which
            // the inner evaluator is made to hold, when that form applies.
            let x = self.plan.to_x(&at.x);
            let ill = self.plan.ill_conditioned(&x);
            if let Some((term, pivot)) = ill.filter(|_| self.inner.lambda_applies(&x)) {
                self.inner
                    .evaluate(&x)
                    .map_err(|_| RemlError::NearlySingularG {
                        term: term.clone(),
                        detail: "could not be evaluated".into(),
                    })?;
                return Err(RemlError::NearlySingularG {
                    term,
                    detail: format!(
                        "is nearly singular (relative Cholesky pivot {pivot:.1e}: a correlation \
                         of ±1 or a variance 0), where the sparse mixed-model equations lose \
                         the digits of the score"
                    ),
                });
            }
        }
        if !self.plan.active() {
            return self.inner.score_and_ai(at, method);
        }
        let mut px = at.clone();
        px.x = self.plan.to_x(&at.x);
        let sa = self.inner.score_and_ai(&px, method)?;
        let jac = self.plan.jacobian(&at.x);
        let s = jac.transpose() * nalgebra::DVector::from_column_slice(&sa.score);
        // The AI matrix is minus an expected Hessian: the map's own
        // curvature enters with the opposite sign — where the sum stays
        // positive definite (near a maximum); elsewhere `Jᵀ AI J` alone.
        let gauss = jac.transpose() * &sa.ai * &jac;
        let full = &gauss - self.plan.curvature(&at.x, &sa.score);
        let full = 0.5 * (&full + full.transpose());
        let ai = if full.clone().cholesky().is_some() {
            full
        } else {
            gauss
        };
        Ok(ScoreAi {
            score: s.iter().copied().collect(),
            ai: 0.5 * (&ai + ai.transpose()),
        })
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn inverts_g(&self) -> bool {
        self.inner.inverts_g()
    }

    fn last_x(&self) -> Option<Vec<f64>> {
        self.inner.last_x()
    }

    fn lambda_applies(&self, x: &[f64]) -> bool {
        self.inner.lambda_applies(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ParamInfo {
        ParamInfo {
            names: vec![
                "g/sigma^2_0_0".into(),
                "g/sigma^2_1_0".into(),
                "g/sigma^2_1_1".into(),
                "residual/sigma^2".into(),
            ],
            transforms: vec![
                Transform::ExpPow2,
                Transform::Identity,
                Transform::ExpPow2,
                Transform::ExpPow2,
            ],
            defaults: vec![0.0; 4],
            kinds: vec![
                ParamKind::Variance,
                ParamKind::OffDiagonal,
                ParamKind::Variance,
                ParamKind::Variance,
            ],
            random: 3,
        }
    }

    #[test]
    fn blocks_are_found_and_round_trip() {
        let inf = f64::INFINITY;
        let plan = Plan::new(&info(), &[-inf; 4], &[inf; 4], 1e-10, 1.0);
        assert_eq!(plan.blocks.len(), 1);
        assert_eq!(plan.blocks[0].idx, [0, 1, 2]);
        let x = [0.3, -0.4, -0.2, 0.1];
        let z = plan.to_z(&x);
        let back = plan.to_x(&z);
        for (a, b) in x.iter().zip(&back) {
            assert!((a - b).abs() < 1e-14, "{x:?} {back:?}");
        }
        // a finite user bound keeps the user's parameterisation
        let mut lo = [-inf; 4];
        lo[1] = -5.0;
        assert!(!Plan::new(&info(), &lo, &[inf; 4], 1e-10, 1.0).active());
    }

    #[test]
    fn curvature_matches_differences_of_the_jacobian() {
        let inf = f64::INFINITY;
        let plan = Plan::new(&info(), &[-inf; 4], &[inf; 4], 1e-10, 1.0);
        let z = [1.3, -0.4, 0.7, 0.2];
        let s = [0.3, -1.1, 0.7, 0.5];
        let h = plan.curvature(&z, &s);
        let eps = 1e-6;
        for c in 0..4 {
            let (mut zp, mut zm) = (z, z);
            zp[c] += eps;
            zm[c] -= eps;
            let (jp, jm) = (plan.jacobian(&zp), plan.jacobian(&zm));
            for r in 0..4 {
                // ∂/∂z_c of Σ_k s_k ∂x_k/∂z_r
                let fd: f64 = (0..4)
                    .map(|k| s[k] * (jp[(k, r)] - jm[(k, r)]) / (2.0 * eps))
                    .sum();
                assert!(
                    (fd - h[(r, c)]).abs() < 1e-7,
                    "({r}, {c}): {fd} {}",
                    h[(r, c)]
                );
            }
        }
    }

    #[test]
    fn jacobian_matches_differences() {
        let inf = f64::INFINITY;
        let plan = Plan::new(&info(), &[-inf; 4], &[inf; 4], 1e-10, 1.0);
        let z = [1.3, -0.4, 0.7, 0.2];
        let jac = plan.jacobian(&z);
        let h = 1e-6;
        for c in 0..4 {
            let (mut zp, mut zm) = (z, z);
            zp[c] += h;
            zm[c] -= h;
            let (xp, xm) = (plan.to_x(&zp), plan.to_x(&zm));
            for r in 0..4 {
                let fd = (xp[r] - xm[r]) / (2.0 * h);
                assert!(
                    (fd - jac[(r, c)]).abs() < 1e-8,
                    "({r}, {c}): {fd} {}",
                    jac[(r, c)]
                );
            }
        }
    }
}
