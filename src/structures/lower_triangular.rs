//! `V = L` (n × m, lower trapezoidal): parameters `L_i_j` for
//! `j ≤ min(i, m − 1)`, row-major, identity transform, default 1.
//!
//! `∂V/∂L_ij = E_ij`.

use super::zero_sized;
use crate::structure::Size;
use crate::{ParamKind, ParamSpec, Real, Structure, Transform};
use nalgebra::{DMatrix, Dyn};

zero_sized! {
    /// A lower-triangular (trapezoidal when `m < n`) factor, used with
    /// [`Gram`](crate::ops::Gram) or [`Propagate`](crate::ops::Propagate) for
    /// factor-analytic and Cholesky parameterisations. Shape `(n, m)`.
    ///
    /// ```
    /// use covreml::{Covariance, LowerTriangular};
    /// let l = Covariance::<LowerTriangular>::new((3, 2)).unwrap();
    /// assert_eq!(l.names(), ["L_0_0", "L_1_0", "L_1_1", "L_2_0", "L_2_1"]);
    /// let v = l.value(&[1.0, 0.5, -0.5, 2.0, 0.25]).unwrap();
    /// assert_eq!(v, nalgebra::dmatrix![1.0, 0.0; 0.5, -0.5; 2.0, 0.25]);
    /// ```
    LowerTriangular<N, M>
}

fn entries(n: usize, m: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..n)
        .flat_map(move |i| (0..=i.min(m.saturating_sub(1))).map(move |j| (i, j)))
        .filter(move |_| m > 0)
}

impl<N: Size, M: Size> Structure for LowerTriangular<N, M> {
    type Rows = N;
    type Cols = M;
    type NParams = Dyn;
    type Shape = (N::Shape, M::Shape);
    const NAME: &'static str = "LowerTriangular";

    fn default_transforms<T: Real>(
        _: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        dtheta: Option<&mut [T]>,
    ) {
        super::apply_transforms(free, theta, dtheta, |_| super::LeafTransform::Identity);
    }

    fn dims(shape: &Self::Shape) -> (usize, usize) {
        (N::get(&shape.0), M::get(&shape.1))
    }
    fn param_count(shape: &Self::Shape) -> usize {
        let (n, m) = Self::dims(shape);
        entries(n, m).count()
    }
    fn param_specs(shape: &Self::Shape) -> Vec<ParamSpec> {
        let (n, m) = Self::dims(shape);
        entries(n, m)
            .map(|(i, j)| {
                ParamSpec::new(format!("L_{i}_{j}"), 1.0, Transform::Identity)
                    .kind(ParamKind::Loading)
            })
            .collect()
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let (n, m) = Self::dims(shape);
        let mut v = DMatrix::zeros(n, m);
        for ((i, j), &t) in entries(n, m).zip(theta) {
            v[(i, j)] = t;
        }
        v
    }
    fn jacobian<T: Real>(shape: &Self::Shape, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        let (n, m) = Self::dims(shape);
        Some(
            entries(n, m)
                .map(|(i, j)| {
                    let mut d = DMatrix::zeros(n, m);
                    d[(i, j)] = T::one();
                    d
                })
                .collect(),
        )
    }
}
