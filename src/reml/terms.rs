//! The random part of a mixed model, as every backend reads it: the random
//! terms (a design `Z` and a covariance `G` each), the residual `R`, and the
//! layout of the free parameters θ over them ([`Terms`]).
//!
//! This module sits below the model ([`MixedModel`](super::MixedModel))
//! and below the backends (`mixed_dense.rs`, `mme/`): the model owns the
//! terms, the backends borrow a [`Parts`] view of them, and neither
//! imports the other's internals.

use super::evaluator::ParamInfo;
use super::fixed::FixedPart;
use super::linalg;
use crate::data::{Incidence, SparseDesign};
use crate::{CovarianceModel, SparseInverse};
use faer::Mat;
use nalgebra::DMatrix;

/// The design `Z` of a random term.
#[derive(Clone, Debug, PartialEq)]
pub enum RandomDesign {
    /// An indicator matrix: each row has a single 1 (never expanded).
    Incidence(Incidence),
    /// A dense `n × q` matrix.
    Dense(DMatrix<f64>),
    /// A sparse `n × q` matrix stored by rows (random slopes).
    Sparse(SparseDesign),
}

impl From<SparseDesign> for RandomDesign {
    fn from(s: SparseDesign) -> Self {
        RandomDesign::Sparse(s)
    }
}

impl From<Incidence> for RandomDesign {
    fn from(i: Incidence) -> Self {
        RandomDesign::Incidence(i)
    }
}

impl From<DMatrix<f64>> for RandomDesign {
    fn from(m: DMatrix<f64>) -> Self {
        RandomDesign::Dense(m)
    }
}

impl RandomDesign {
    /// `(rows, columns)`.
    pub fn dims(&self) -> (usize, usize) {
        match self {
            RandomDesign::Incidence(i) => (i.len(), i.n_levels()),
            RandomDesign::Dense(m) => (m.nrows(), m.ncols()),
            RandomDesign::Sparse(s) => s.dims(),
        }
    }

    /// The name of each column (level): an incidence's level names, a
    /// sparse design's column names, `0, 1, …` for a dense matrix.
    pub fn level_names(&self) -> Vec<String> {
        match self {
            RandomDesign::Incidence(i) => i.level_names().to_vec(),
            RandomDesign::Dense(m) => (0..m.ncols()).map(|j| j.to_string()).collect(),
            RandomDesign::Sparse(s) => s.names().to_vec(),
        }
    }

    /// The grouping factor (codes and level names): an incidence's own, or
    /// that of a design built per level of a factor
    /// ([`SparseDesign::random_slopes`]); `None` for a dense matrix or a
    /// sparse design given by its rows.
    pub fn factor(&self) -> Option<&Incidence> {
        match self {
            RandomDesign::Incidence(i) => Some(i),
            RandomDesign::Dense(_) => None,
            RandomDesign::Sparse(s) => s.factor(),
        }
    }

    /// The dense `n × q` matrix.
    pub fn to_dense(&self) -> DMatrix<f64> {
        match self {
            RandomDesign::Incidence(i) => i.to_dense(),
            RandomDesign::Dense(m) => m.clone(),
            RandomDesign::Sparse(s) => s.to_dense(),
        }
    }

    /// `Z u` (`u` of length `q`).
    pub(crate) fn mul(&self, u: &[f64]) -> Vec<f64> {
        match self {
            RandomDesign::Incidence(inc) => inc.levels().iter().map(|&l| u[l]).collect(),
            RandomDesign::Dense(z) => linalg::matvec_na(z, u),
            RandomDesign::Sparse(s) => (0..s.dims().0)
                .map(|i| {
                    let (c, v) = s.row(i);
                    c.iter().zip(v).map(|(&c, &v)| v * u[c]).sum()
                })
                .collect(),
        }
    }
}

/// One random term: its name, its design `Z` and its covariance `G`.
pub(crate) struct Term {
    pub name: String,
    pub z: RandomDesign,
    /// `Z` as a dense faer matrix for the dense backend (not for incidence
    /// designs, which are gathered), made when first needed.
    pub z_faer: std::sync::OnceLock<Mat<f64>>,
    pub g: Box<dyn CovarianceModel>,
}

impl Term {
    /// A term of design `z` and covariance `g`.
    pub fn new(name: &str, z: RandomDesign, g: Box<dyn CovarianceModel>) -> Self {
        Term {
            name: name.to_string(),
            z,
            z_faer: std::sync::OnceLock::new(),
            g,
        }
    }

    /// `Z` as a dense faer matrix (made once).
    pub fn z_dense(&self) -> &Mat<f64> {
        self.z_faer
            .get_or_init(|| linalg::to_faer(&self.z.to_dense()))
    }
}

/// The random terms and the residual of a model, borrowed: the one owner
/// of the layout of θ (each term's parameters in term order, the
/// residual's last), read by every backend.
#[derive(Clone, Copy)]
pub(crate) struct Terms<'a> {
    pub list: &'a [Term],
    pub residual: &'a dyn CovarianceModel,
}

impl<'a> Terms<'a> {
    /// Names (`term/param`), transforms, defaults and kinds of θ.
    pub fn params(&self) -> ParamInfo {
        let mut names = Vec::new();
        let mut transforms = Vec::new();
        let mut defaults = Vec::new();
        let mut kinds = Vec::new();
        for t in self.list {
            names.extend(
                t.g.free_names()
                    .into_iter()
                    .map(|p| format!("{}/{p}", t.name)),
            );
            transforms.extend(t.g.free_transforms());
            defaults.extend(t.g.free_defaults());
            kinds.extend(t.g.free_kinds());
        }
        let random = names.len();
        names.extend(
            self.residual
                .free_names()
                .into_iter()
                .map(|p| format!("residual/{p}")),
        );
        transforms.extend(self.residual.free_transforms());
        defaults.extend(self.residual.free_defaults());
        kinds.extend(self.residual.free_kinds());
        ParamInfo {
            names,
            transforms,
            defaults,
            kinds,
            random,
        }
    }

    /// θ cut into each term's parameters, then the residual's.
    pub fn split<'x>(&self, x: &'x [f64]) -> Vec<&'x [f64]> {
        let mut out = Vec::with_capacity(self.list.len() + 1);
        let mut off = 0;
        for t in self.list {
            let k = t.g.n_free();
            out.push(&x[off..off + k]);
            off += k;
        }
        out.push(&x[off..off + self.residual.n_free()]);
        out
    }

    /// [`residual_inverse`](Self::residual_inverse) written into `out`,
    /// which holds the pattern it gave at the analysis (the same route:
    /// the diagonal, else the sparse inverse, else the completed one).
    /// `Some(Ok(false))` when the inverse at `xr` has another pattern.
    pub fn residual_inverse_into(
        &self,
        xr: &[f64],
        out: &mut SparseInverse<f64>,
    ) -> Option<Result<bool, crate::CovError>> {
        let r = self.residual;
        if let Some(d) = r.diagonal_f64(xr) {
            return Some(d.map(|(d, dd)| out.write_diagonal(&d, &dd)));
        }
        if let Some(q) = r.sparse_inverse_into_f64(xr, out) {
            return Some(q);
        }
        Some(self.residual_inverse(xr)?.map(|(q, _)| out.take_numbers(q)))
    }

    /// `Q = R⁻¹` of the residual at its free parameters `xr` and the number
    /// of missing cells it was completed with: from the diagonal when the
    /// residual is diagonal by type (also for a model that gives a diagonal
    /// but no sparse inverse), else its sparse inverse, else its completed
    /// sparse inverse (rows `n..` are then the missing cells); `None` if it
    /// has none.
    ///
    /// A completed residual is fitted exactly by augmenting the data with
    /// one row per missing cell (`y = 0`, `X` and `Z` rows zero) and one
    /// fixed effect per missing cell (its indicator): with `X* = [X D]`,
    /// `log|V_g| + log|X*ᵀV_g⁻¹X*| = log|V| + log|XᵀV⁻¹X|` (a Schur
    /// complement on the indicator block), `y*ᵀP*y* = yᵀPy`, `n* − p* = n − p`,
    /// and the `β` block of `C⁻¹` is `(XᵀV⁻¹X)⁻¹`, so REML, β, its
    /// covariance, BLUPs and PEV are those of the observed data. ML is not
    /// invariant this way and is refused ([`ML_COMPLETED`]).
    pub fn residual_inverse(
        &self,
        xr: &[f64],
    ) -> Option<Result<(SparseInverse<f64>, usize), crate::CovError>> {
        let r = self.residual;
        if let Some(d) = r.diagonal_f64(xr) {
            return Some(d.map(|(r, dr)| (SparseInverse::from_diagonal(&r, &dr), 0)));
        }
        if let Some(q) = r.sparse_inverse_f64(xr) {
            return Some(q.map(|q| (q, 0)));
        }
        // Sparse only on completed cells (a field trial with missing plots):
        // the observed rows first, in data order, then the missing cells.
        Some(r.sparse_inverse_completed_f64(xr)?.map(|(q, cells)| {
            let mut to = vec![usize::MAX; q.n];
            for (i, &c) in cells.iter().enumerate() {
                to[c] = i;
            }
            let missing = to.iter_mut().filter(|t| **t == usize::MAX);
            for (next, t) in (cells.len()..).zip(missing) {
                *t = next;
            }
            (q.relabel(&to), q.n - cells.len())
        }))
    }
}

/// What a backend reads of a mixed model: the response and fixed design,
/// the random terms and the residual (a borrowed view; the model owns
/// them).
#[derive(Clone, Copy)]
pub(crate) struct Parts<'a> {
    pub fixed: &'a FixedPart,
    pub terms: Terms<'a>,
}

/// Why an ML fit with a completed residual cannot go to the sparse backend.
pub(crate) const ML_COMPLETED: &str =
    "ML with a residual completed to more cells (a field trial with \
     missing plots) is not invariant under the completion; the dense backend fits it";

/// Why the sparse backend takes no dual-number Jacobians.
pub(crate) const DUAL_UNAVAILABLE: &str =
    "the sparse backend takes the derivatives of G⁻¹ and R⁻¹ from \
     Structure::sparse_inverse (closed forms); JacobianMethod::DualNumbers needs the dense backend";

/// Why a residual cannot go to the sparse backend.
pub(crate) const RESIDUAL_UNAVAILABLE: &str =
    "the residual has no sparse inverse (it is neither diagonal by type nor has \
     Structure::sparse_inverse; isotropic spatial kernels have dense inverses)";
