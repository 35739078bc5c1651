//! `V = diag(σ²_{l₀}, …, σ²_{l_{n−1}})`: a variance per level of a factor,
//! `lᵢ` the level of row `i` (nlme `varIdent(form = ~ 1 | factor)` with the
//! residual variance folded in, ASReml `idh(factor)`). Parameters
//! `sigma^2_<level>` (`e^{2x}` each), in level order.
//!
//! `∂V/∂σ²_l = diag([lᵢ = l])`. Diagonal by type: the REML engine treats it
//! in `O(n)`.

use super::{leaf, Levels};
use crate::structure::Diagonals;
use crate::{ParamSpec, Real, Structure};
use nalgebra::{DMatrix, Dyn};

leaf! {
    /// A variance per level of a factor, on the diagonal.
    ///
    /// ```
    /// use covreml::structures::grouped::{Levels, VarIdent};
    /// use covreml::{Covariance, Structure};
    /// let f = Levels::new(&["10", "8", "10", "12"]).unwrap();
    /// let c = Covariance::<VarIdent>::new(f.clone()).unwrap();
    /// assert_eq!(c.names(), ["sigma^2_8", "sigma^2_10", "sigma^2_12"]);
    /// let v = VarIdent::value(&f, &[1.5, 2.5, 4.0]);
    /// assert_eq!(v[(0, 0)], 2.5);
    /// assert_eq!(v[(1, 1)], 1.5);
    /// assert_eq!(v[(3, 3)], 4.0);
    /// assert_eq!(v[(0, 2)], 0.0);
    /// let (d, _) = c.diagonal(&[0.0, 0.5, 0.0]).unwrap().unwrap();
    /// assert_eq!(d[2], 1f64.exp());
    /// ```
    VarIdent
}

impl Structure for VarIdent {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = Dyn;
    type Shape = Levels;
    const NAME: &'static str = "VarIdent";

    fn dims(shape: &Levels) -> (usize, usize) {
        (shape.len(), shape.len())
    }
    fn param_count(shape: &Levels) -> usize {
        shape.names().len()
    }
    fn param_specs(shape: &Levels) -> Vec<ParamSpec> {
        let labels: Vec<String> = shape.names().iter().map(|s| super::label(s)).collect();
        super::level_variances(&labels)
    }
    fn value<T: Real>(shape: &Levels, theta: &[T]) -> DMatrix<T> {
        let l = shape.of_rows();
        DMatrix::from_fn(l.len(), l.len(), |i, j| {
            if i == j {
                theta[l[i]]
            } else {
                T::zero()
            }
        })
    }
    fn jacobian<T: Real>(shape: &Levels, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        let l = shape.of_rows();
        let n = l.len();
        let mut out = vec![DMatrix::zeros(n, n); shape.names().len()];
        for (i, &li) in l.iter().enumerate() {
            out[li][(i, i)] = T::one();
        }
        Some(out)
    }
    fn diagonal<T: Real>(shape: &Levels, theta: &[T]) -> Option<Diagonals<T>> {
        let l = shape.of_rows();
        let d = l.iter().map(|&li| theta[li]).collect();
        let jac = (0..shape.names().len())
            .map(|k| {
                l.iter()
                    .map(|&li| if li == k { T::one() } else { T::zero() })
                    .collect()
            })
            .collect();
        Some((d, jac))
    }
}
