//! The residual of a multi-trait model in long format: `R = ⊕_r R0[o_r, o_r]`,
//! block diagonal over the records `r`, each block the trait × trait
//! residual covariance `R0` restricted to the traits `o_r` observed on that
//! record (rows of one record are contiguous, traits in increasing order).
//!
//! [`TraitUnstructured`]: `R0` unstructured, parameters `sigma^2_a_b`
//! (`b ≤ a`, trait indices, row-major lower triangle; `e^{2x}` on the
//! diagonal, the identity off it — the names and transforms of
//! [`Unconstrained`](crate::Unconstrained), so the estimator optimises `R0`
//! in Cholesky form). [`TraitDiagonal`]: `R0 = diag(σ²_0, …)`, parameters
//! `sigma^2_a`.
//!
//! `R⁻¹ = ⊕_r (R0[o_r, o_r])⁻¹`: one small dense inverse per *missing
//! pattern* (at most `2^t − 1` of them), scattered onto the records, with
//! `∂R⁻¹/∂θ_k = −R⁻¹ Ṙ_k R⁻¹` block by block and
//! `log|R| = Σ_patterns n_pattern · log|R0[o, o]|`. The pattern of `R⁻¹`
//! depends on the missing patterns only, so the sparse backend analyses it
//! once.

use crate::{CovError, ParamKind, ParamSpec, Real, SparseInverse, Structure, Transform};
use nalgebra::{DMatrix, Dyn};

/// Which traits each record has: the runtime shape of the multi-trait
/// residual structures.
///
/// ```
/// use covreml::multi_trait::TraitRecords;
/// // three records of two traits: both, the first only, the second only
/// let s = TraitRecords::new(2, &[vec![true, true], vec![true, false], vec![false, true]]).unwrap();
/// assert_eq!(s.len(), 4); // observations in long format
/// assert_eq!(s.traits(), [0, 1, 0, 1]);
/// assert_eq!(s.patterns().len(), 3);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TraitRecords {
    t: usize,
    /// The trait of every observation.
    trait_of: Vec<usize>,
    /// First observation of every record, and the total at the end.
    starts: Vec<usize>,
    /// The pattern of every record.
    pattern_of: Vec<usize>,
    /// The observed traits of every distinct pattern.
    patterns: Vec<Vec<usize>>,
}

impl TraitRecords {
    /// From the observed-trait mask of every kept record (each with at
    /// least one trait observed). Errors: no traits, no records, a mask of
    /// the wrong length, or a record with no trait.
    pub fn new(t: usize, observed: &[Vec<bool>]) -> Result<Self, CovError> {
        let bad = |reason: String| CovError::InvalidShape {
            structure: "TraitRecords",
            reason,
        };
        if t == 0 || observed.is_empty() {
            return Err(bad("no traits or no records".into()));
        }
        let mut trait_of = Vec::new();
        let mut starts = vec![0];
        let mut pattern_of = Vec::with_capacity(observed.len());
        let mut patterns: Vec<Vec<usize>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (r, m) in observed.iter().enumerate() {
            if m.len() != t {
                return Err(bad(format!("record {r} has {} traits, not {t}", m.len())));
            }
            let o: Vec<usize> = (0..t).filter(|&k| m[k]).collect();
            if o.is_empty() {
                return Err(bad(format!("record {r} has no trait observed")));
            }
            trait_of.extend_from_slice(&o);
            starts.push(trait_of.len());
            let next = patterns.len();
            let p = *index.entry(o.clone()).or_insert(next);
            if p == next {
                patterns.push(o);
            }
            pattern_of.push(p);
        }
        Ok(TraitRecords {
            t,
            trait_of,
            starts,
            pattern_of,
            patterns,
        })
    }

    /// Number of observations (long format).
    pub fn len(&self) -> usize {
        self.trait_of.len()
    }

    /// Whether there are no observations (never, once built).
    pub fn is_empty(&self) -> bool {
        self.trait_of.is_empty()
    }

    /// Number of traits.
    pub fn n_traits(&self) -> usize {
        self.t
    }

    /// Number of records.
    pub fn n_records(&self) -> usize {
        self.pattern_of.len()
    }

    /// The trait of every observation.
    pub fn traits(&self) -> &[usize] {
        &self.trait_of
    }

    /// The distinct missing patterns (observed traits of each).
    pub fn patterns(&self) -> &[Vec<usize>] {
        &self.patterns
    }

    /// The record of every observation.
    pub fn record_of_obs(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.len());
        for r in 0..self.n_records() {
            out.extend(std::iter::repeat_n(r, self.starts[r + 1] - self.starts[r]));
        }
        out
    }

    /// The dense `n × n` matrix with `R0[a, b]` between observations of one
    /// record.
    fn dense<T: Real>(&self, r0: &DMatrix<T>) -> DMatrix<T> {
        let n = self.len();
        let mut m = DMatrix::zeros(n, n);
        for w in self.starts.windows(2) {
            for i in w[0]..w[1] {
                for j in w[0]..w[1] {
                    m[(i, j)] = r0[(self.trait_of[i], self.trait_of[j])];
                }
            }
        }
        m
    }

    /// `R⁻¹` from `R0` and `∂R0/∂θ_k`: one dense inverse per pattern,
    /// scattered onto the records. `None` if a restricted `R0` is not
    /// positive definite.
    fn sparse_inverse<T: Real>(
        &self,
        r0: &DMatrix<T>,
        dr0: &[DMatrix<T>],
    ) -> Option<SparseInverse<T>> {
        let restrict = |m: &DMatrix<T>, o: &[usize]| {
            DMatrix::from_fn(o.len(), o.len(), |i, j| m[(o[i], o[j])])
        };
        let mut per: Vec<SparseInverse<T>> = Vec::with_capacity(self.patterns.len());
        for o in &self.patterns {
            let d: Vec<DMatrix<T>> = dr0.iter().map(|d| restrict(d, o)).collect();
            per.push(SparseInverse::from_dense(&restrict(r0, o), &d)?);
        }
        let n = self.len();
        let k = dr0.len();
        let nnz: usize = self.pattern_of.iter().map(|&p| per[p].nnz()).sum();
        let mut col_ptr = Vec::with_capacity(n + 1);
        let mut row_idx = Vec::with_capacity(nnz);
        let mut values = Vec::with_capacity(nnz);
        let mut jacobian = vec![Vec::with_capacity(nnz); k];
        let mut logdet = T::zero();
        let mut logdet_jacobian = vec![T::zero(); k];
        col_ptr.push(0);
        for (r, &p) in self.pattern_of.iter().enumerate() {
            let b = &per[p];
            let first = self.starts[r];
            for j in 0..b.n {
                for e in b.col_ptr[j]..b.col_ptr[j + 1] {
                    row_idx.push(first + b.row_idx[e]);
                }
                col_ptr.push(row_idx.len());
            }
            values.extend_from_slice(&b.values);
            for (jk, bk) in jacobian.iter_mut().zip(&b.jacobian) {
                jk.extend_from_slice(bk);
            }
            logdet += b.logdet;
            for (l, &bl) in logdet_jacobian.iter_mut().zip(&b.logdet_jacobian) {
                *l += bl;
            }
        }
        Some(SparseInverse {
            n,
            col_ptr,
            row_idx,
            values,
            jacobian,
            logdet,
            logdet_jacobian,
        })
    }
}

/// Index of `(a, b)`, `b ≤ a`, in a row-major lower triangle.
fn tri(a: usize, b: usize) -> usize {
    let (a, b) = if a >= b { (a, b) } else { (b, a) };
    a * (a + 1) / 2 + b
}

/// An unstructured trait residual `R0`, restricted to each record's
/// observed traits (see [`multi_trait`](crate::multi_trait)).
///
/// ```
/// use covreml::multi_trait::{TraitRecords, TraitUnstructured};
/// use covreml::{Covariance, Structure};
/// let s = TraitRecords::new(2, &[vec![true, true], vec![false, true]]).unwrap();
/// let c = Covariance::<TraitUnstructured>::new(s.clone()).unwrap();
/// assert_eq!(c.names(), ["sigma^2_0_0", "sigma^2_1_0", "sigma^2_1_1"]);
/// let v = TraitUnstructured::value(&s, &[2.0, 0.5, 3.0]);
/// assert_eq!(v[(0, 1)], 0.5);
/// assert_eq!(v[(2, 2)], 3.0); // the second record has trait 1 only
/// assert_eq!(v[(1, 2)], 0.0); // records are independent
/// let inv = TraitUnstructured::sparse_inverse(&s, &[2.0, 0.5, 3.0]).unwrap();
/// assert!((inv.logdet - (5.75f64.ln() + 3f64.ln())).abs() < 1e-14);
/// ```
#[derive(Clone, Copy, Default, Debug)]
pub struct TraitUnstructured;

impl TraitUnstructured {
    fn r0<T: Real>(t: usize, theta: &[T]) -> DMatrix<T> {
        DMatrix::from_fn(t, t, |a, b| theta[tri(a, b)])
    }
    fn dr0<T: Real>(t: usize) -> Vec<DMatrix<T>> {
        (0..t)
            .flat_map(|a| (0..=a).map(move |b| (a, b)))
            .map(|(a, b)| {
                let mut m = DMatrix::zeros(t, t);
                m[(a, b)] = T::one();
                m[(b, a)] = T::one();
                m
            })
            .collect()
    }
}

impl Structure for TraitUnstructured {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = Dyn;
    type Shape = TraitRecords;
    const NAME: &'static str = "TraitUnstructured";

    fn dims(shape: &TraitRecords) -> (usize, usize) {
        (shape.len(), shape.len())
    }
    fn param_count(shape: &TraitRecords) -> usize {
        shape.t * (shape.t + 1) / 2
    }
    fn param_specs(shape: &TraitRecords) -> Vec<ParamSpec> {
        let mut specs = Vec::new();
        for a in 0..shape.t {
            for b in 0..=a {
                let (t, kind) = if a == b {
                    (Transform::ExpPow2, ParamKind::Variance)
                } else {
                    (Transform::Identity, ParamKind::OffDiagonal)
                };
                specs.push(ParamSpec::new(format!("sigma^2_{a}_{b}"), 0.0, t).kind(kind));
            }
        }
        specs
    }
    fn value<T: Real>(shape: &TraitRecords, theta: &[T]) -> DMatrix<T> {
        shape.dense(&Self::r0(shape.t, theta))
    }
    fn jacobian<T: Real>(shape: &TraitRecords, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        Some(
            Self::dr0::<T>(shape.t)
                .iter()
                .map(|d| shape.dense(d))
                .collect(),
        )
    }
    fn sparse_inverse<T: Real>(shape: &TraitRecords, theta: &[T]) -> Option<SparseInverse<T>> {
        shape.sparse_inverse(&Self::r0(shape.t, theta), &Self::dr0(shape.t))
    }
}

/// A diagonal trait residual `R0 = diag(σ²_0, …, σ²_{t−1})`: independent
/// residuals with a variance per trait (see [`multi_trait`](crate::multi_trait)).
///
/// ```
/// use covreml::multi_trait::{TraitDiagonal, TraitRecords};
/// use covreml::{Covariance, Structure};
/// let s = TraitRecords::new(2, &[vec![true, true], vec![false, true]]).unwrap();
/// let c = Covariance::<TraitDiagonal>::new(s.clone()).unwrap();
/// assert_eq!(c.names(), ["sigma^2_0", "sigma^2_1"]);
/// let (d, _) = TraitDiagonal::diagonal(&s, &[2.0, 3.0]).unwrap();
/// assert_eq!(d, [2.0, 3.0, 3.0]);
/// ```
#[derive(Clone, Copy, Default, Debug)]
pub struct TraitDiagonal;

impl Structure for TraitDiagonal {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = Dyn;
    type Shape = TraitRecords;
    const NAME: &'static str = "TraitDiagonal";

    fn dims(shape: &TraitRecords) -> (usize, usize) {
        (shape.len(), shape.len())
    }
    fn param_count(shape: &TraitRecords) -> usize {
        shape.t
    }
    fn param_specs(shape: &TraitRecords) -> Vec<ParamSpec> {
        (0..shape.t)
            .map(|a| ParamSpec::variance(format!("sigma^2_{a}")))
            .collect()
    }
    fn value<T: Real>(shape: &TraitRecords, theta: &[T]) -> DMatrix<T> {
        let d: Vec<T> = shape.trait_of.iter().map(|&a| theta[a]).collect();
        DMatrix::from_diagonal(&nalgebra::DVector::from_vec(d))
    }
    fn jacobian<T: Real>(shape: &TraitRecords, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        let n = shape.len();
        Some(
            (0..shape.t)
                .map(|a| {
                    let mut m = DMatrix::zeros(n, n);
                    for (i, &k) in shape.trait_of.iter().enumerate() {
                        if k == a {
                            m[(i, i)] = T::one();
                        }
                    }
                    m
                })
                .collect(),
        )
    }
    fn diagonal<T: Real>(
        shape: &TraitRecords,
        theta: &[T],
    ) -> Option<crate::structure::Diagonals<T>> {
        let d = shape.trait_of.iter().map(|&a| theta[a]).collect();
        let dd = (0..shape.t)
            .map(|a| {
                shape
                    .trait_of
                    .iter()
                    .map(|&k| if k == a { T::one() } else { T::zero() })
                    .collect()
            })
            .collect();
        Some((d, dd))
    }
}
