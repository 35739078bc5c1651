//! `Adapter<S, M>`: the structure `S` re-parameterised by the map `M`. Its
//! parameters `φ` are a new set (names, defaults, transforms), and the
//! adaptee's natural parameters are functions of them, `θ = m(φ)`:
//!
//! `V(φ) = V_S(m(φ))`, and by the chain rule
//! `∂V/∂φ_j = Σ_k ∂V_S/∂θ_k · ∂θ_k/∂φ_j`.
//!
//! The same chain rule carries the diagonal of a diagonal adaptee and the
//! sparse inverse (`∂G⁻¹/∂φ_j`, `∂log|G|/∂φ_j`) of an adaptee that has one,
//! so an adapted structure keeps the `O(n)` residual path and the sparse
//! REML backend of its adaptee.

use crate::structure::Diagonals;
use crate::{CovError, ParamSpec, Real, SparseInverse, Structure};
use nalgebra::{DMatrix, Dim};
use std::fmt;
use std::marker::PhantomData;

/// A map from new parameters `φ` to an adaptee's natural parameters
/// `θ = m(φ)`, on the natural scale of both, with its Jacobian `∂θ/∂φ` in
/// closed form; the map of an [`Adapter`].
///
/// A map is a zero-sized type, as structures are; what the type cannot know
/// (a runtime table, as in [`Linear`](super::Linear)) travels in its
/// [`Shape`](ParamMap::Shape). Ready-made maps: [`TieAll`](super::TieAll)
/// (one parameter for all), [`Tie`](super::Tie) (an index table in a type)
/// and [`Linear`](super::Linear) (`θ = Mφ + c` as data, built from names).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a parameter map",
    note = "use `TieAll`, `Tie<YourTable>` or `Linear`, or implement `covreml::ops::ParamMap`"
)]
pub trait ParamMap: Copy + Default + fmt::Debug + Send + Sync + 'static {
    /// Number of new parameters as a type: `Const<N>` when the map fixes it, else `Dyn`.
    type NParams: Dim;
    /// What the type cannot know (`()` for a map given by its type).
    type Shape: Clone + fmt::Debug + PartialEq + Send + Sync + 'static;
    /// The map's name in messages, such as `"Tie"`.
    const NAME: &'static str;

    /// Checks the map against the adaptee's parameter table `adaptee`: sizes,
    /// every adaptee parameter mapped, every new parameter used.
    fn check(shape: &Self::Shape, adaptee: &[ParamSpec]) -> Result<(), CovError>;

    /// The new parameter table: names, defaults on the free scale, transforms.
    fn param_specs(shape: &Self::Shape, adaptee: &[ParamSpec]) -> Vec<ParamSpec>;

    /// Number of new parameters, for an adaptee with `n_adaptee` parameters.
    fn param_count(shape: &Self::Shape, n_adaptee: usize) -> usize;

    /// `θ = m(φ)`: writes the adaptee's natural parameters into `theta`.
    fn map<T: Real>(shape: &Self::Shape, phi: &[T], theta: &mut [T]);

    /// `∂θ_k/∂φ_j` as a `theta.len() × phi.len()` matrix (row `k`, column `j`).
    fn jacobian<T: Real>(shape: &Self::Shape, phi: &[T], n_theta: usize) -> DMatrix<T>;

    /// The entries `(k, j)` of `∂θ/∂φ` that may be nonzero at some `φ`,
    /// whatever the parameters: the chain rule sums over these only. The
    /// default is every entry. (A pattern, not a test of the values: a dual
    /// number compares by its real part only, so a value test would drop
    /// derivative parts.)
    fn nonzeros(shape: &Self::Shape, n_theta: usize) -> Vec<(usize, usize)> {
        let n_phi = Self::param_count(shape, n_theta);
        (0..n_theta)
            .flat_map(|k| (0..n_phi).map(move |j| (k, j)))
            .collect()
    }
}

/// The structure `S` with parameters `φ` mapped onto its own by `M`:
/// `V(φ) = V_S(m(φ))`, `∂V/∂φ_j = Σ_k ∂V_S/∂θ_k · ∂θ_k/∂φ_j`.
///
/// The shape is `(shape of S, shape of M)`. One variance for all three
/// blocks of a block-diagonal matrix, with [`TieAll`](super::TieAll):
///
/// ```
/// use covreml::ops::{Adapter, BlockDiag, TieAll};
/// use covreml::{Covariance, Scalar, Structure};
/// type Shared = Adapter<BlockDiag<(Scalar, Scalar, Scalar)>, TieAll>;
/// let g = Covariance::<Shared>::new(((1, 2, 1), ())).unwrap();
/// assert_eq!(g.names(), ["sigma^2"]); // one parameter, inherited from op_0
/// assert_eq!(<Shared>::static_param_count(), Some(1));
/// // free 0.5: σ² = e^{2·0.5} = e on every block, so V = e·I₄
/// let v = g.value(&[0.5]).unwrap();
/// assert_eq!(v, nalgebra::DMatrix::identity(4, 4) * 1f64.exp());
/// // ∂V/∂x = ∂V/∂σ² · dσ²/dx = I₄ · 2e: the three blocks' derivatives summed
/// let j = g.jacobian(&[0.5]).unwrap();
/// assert_eq!(j[0], nalgebra::DMatrix::identity(4, 4) * (2.0 * 1f64.exp()));
/// ```
pub struct Adapter<S, M>(PhantomData<(S, M)>);

super::zst_impls!(Adapter<S, M>);

/// The Jacobian `∂θ/∂φ` with its structural nonzeros.
struct MapJacobian<T: Real> {
    jac: DMatrix<T>,
    nonzeros: Vec<(usize, usize)>,
}

impl<T: Real> MapJacobian<T> {
    /// Number of new parameters.
    fn n_phi(&self) -> usize {
        self.jac.ncols()
    }

    /// `Σ_k J[k, j] · items[k]` for each new parameter `j`, over the
    /// structural nonzeros of `J`; `zero` is the item of an unused column.
    fn chain<X: Clone>(&self, items: &[X], zero: X, axpy: impl Fn(&mut X, T, &X)) -> Vec<X> {
        let mut out = vec![zero; self.n_phi()];
        for &(k, j) in &self.nonzeros {
            axpy(&mut out[j], self.jac[(k, j)], &items[k]);
        }
        out
    }

    /// `Σ_k J[k, j] · d_k` for matrices of size `shape`.
    fn matrices(&self, d: &[DMatrix<T>], shape: (usize, usize)) -> Vec<DMatrix<T>> {
        self.chain(d, DMatrix::zeros(shape.0, shape.1), |acc, c, m| {
            *acc += m * c
        })
    }

    /// `Σ_k J[k, j] · d_k` for vectors of length `n`.
    fn vectors(&self, d: &[Vec<T>], n: usize) -> Vec<Vec<T>> {
        self.chain(d, vec![T::zero(); n], |acc, c, v| {
            for (a, &x) in acc.iter_mut().zip(v) {
                *a += c * x;
            }
        })
    }

    /// `Σ_k J[k, j] · d_k` for scalars.
    fn scalars(&self, d: &[T]) -> Vec<T> {
        self.chain(d, T::zero(), |acc, c, &x| *acc += c * x)
    }
}

impl<S: Structure, M: ParamMap> Adapter<S, M> {
    /// The adaptee's natural parameters and `∂θ/∂φ` at the new natural
    /// parameters `phi`.
    fn mapped<T: Real>(shape: &(S::Shape, M::Shape), phi: &[T]) -> (Vec<T>, MapJacobian<T>) {
        let n = S::param_count(&shape.0);
        let mut theta = vec![T::zero(); n];
        M::map(&shape.1, phi, &mut theta);
        let jac = MapJacobian {
            jac: M::jacobian(&shape.1, phi, n),
            nonzeros: M::nonzeros(&shape.1, n),
        };
        (theta, jac)
    }
}

impl<S: Structure, M: ParamMap> Structure for Adapter<S, M> {
    type Rows = S::Rows;
    type Cols = S::Cols;
    type NParams = M::NParams;
    type Shape = (S::Shape, M::Shape);
    const NAME: &'static str = "Adapter";
    const LABEL: Option<&'static str> = S::LABEL;

    fn check_shape(shape: &Self::Shape) -> Result<(), CovError> {
        S::check_shape(&shape.0)?;
        M::check(&shape.1, &S::param_specs(&shape.0))
    }
    fn dims(shape: &Self::Shape) -> (usize, usize) {
        S::dims(&shape.0)
    }
    fn param_count(shape: &Self::Shape) -> usize {
        M::param_count(&shape.1, S::param_count(&shape.0))
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        M::param_specs(&shape.1, &S::param_specs(&shape.0))
    }
    fn value<T: Real>(shape: &Self::Shape, phi: &[T]) -> DMatrix<T> {
        let n = S::param_count(&shape.0);
        let mut theta = vec![T::zero(); n];
        M::map(&shape.1, phi, &mut theta);
        S::value(&shape.0, &theta)
    }
    fn jacobian<T: Real>(shape: &Self::Shape, phi: &[T]) -> Option<Vec<DMatrix<T>>> {
        Self::value_and_jacobian(shape, phi).1
    }
    fn value_and_jacobian<T: Real>(
        shape: &Self::Shape,
        phi: &[T],
    ) -> (DMatrix<T>, Option<Vec<DMatrix<T>>>) {
        let (theta, jac) = Self::mapped(shape, phi);
        let (v, d) = S::value_and_jacobian(&shape.0, &theta);
        let d = d.map(|d| jac.matrices(&d, v.shape()));
        (v, d)
    }
    fn diagonal<T: Real>(shape: &Self::Shape, phi: &[T]) -> Option<Diagonals<T>> {
        let (theta, jac) = Self::mapped(shape, phi);
        let (d, dd) = S::diagonal(&shape.0, &theta)?;
        let dd = jac.vectors(&dd, d.len());
        Some((d, dd))
    }
    fn sparse_inverse<T: Real>(shape: &Self::Shape, phi: &[T]) -> Option<SparseInverse<T>> {
        let (theta, jac) = Self::mapped(shape, phi);
        let mut inv = S::sparse_inverse(&shape.0, &theta)?;
        inv.jacobian = jac.vectors(&inv.jacobian, inv.values.len());
        inv.logdet_jacobian = jac.scalars(&inv.logdet_jacobian);
        Some(inv)
    }
}
