//! `V = D`: a fixed data matrix, no parameters. A `1 × 1` matrix broadcasts
//! like a scalar inside [`Sum`](crate::ops::Sum) and
//! [`Hadamard`](crate::ops::Hadamard), as torch's `tensor([5.0])` does.

use crate::{ParamSpec, Real, Structure};
use nalgebra::{Const, DMatrix, Dyn};

/// A fixed data operand: the matrix is its shape; it has no parameters.
///
/// ```
/// use covreml::{Covariance, Fixed};
/// let z = Covariance::<Fixed>::new(nalgebra::dmatrix![1.0, 0.0; 1.0, 1.0]).unwrap();
/// assert_eq!(z.value(&[] as &[f64]).unwrap()[(1, 1)], 1.0);
/// let five = Covariance::<Fixed>::new(Fixed::scalar(5.0)).unwrap();
/// assert_eq!(five.dims(), (1, 1));
/// ```
#[derive(Clone, Copy, Default, Debug)]
pub struct Fixed;

impl Fixed {
    /// A `1 × 1` matrix holding `x`, which broadcasts like a scalar.
    pub fn scalar(x: f64) -> DMatrix<f64> {
        DMatrix::from_element(1, 1, x)
    }

    /// A matrix from its rows, all of length `C`.
    ///
    /// ```
    /// use covreml::Fixed;
    /// let z = Fixed::from_rows(&[[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]);
    /// assert_eq!((z.nrows(), z.ncols()), (3, 2));
    /// assert_eq!(z[(1, 1)], 1.0);
    /// ```
    pub fn from_rows<const C: usize>(rows: &[[f64; C]]) -> DMatrix<f64> {
        DMatrix::from_fn(rows.len(), C, |i, j| rows[i][j])
    }

    /// A column vector (an `n × 1` matrix).
    ///
    /// ```
    /// let x = covreml::Fixed::column(&[1.0, 2.0, 3.0]);
    /// assert_eq!((x.nrows(), x.ncols()), (3, 1));
    /// ```
    pub fn column(values: &[f64]) -> DMatrix<f64> {
        DMatrix::from_column_slice(values.len(), 1, values)
    }

    /// An `nrows × ncols` matrix from its entries in row-major order; an error
    /// naming both sizes when the count does not match.
    ///
    /// ```
    /// use covreml::Fixed;
    /// let z = Fixed::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]).unwrap();
    /// assert_eq!(z[(0, 1)], 2.0);
    /// assert!(Fixed::from_row_slice(2, 2, &[1.0, 2.0, 3.0]).is_err());
    /// ```
    pub fn from_row_slice(
        nrows: usize,
        ncols: usize,
        values: &[f64],
    ) -> Result<DMatrix<f64>, crate::CovError> {
        if nrows.checked_mul(ncols) != Some(values.len()) {
            return Err(crate::CovError::InvalidShape {
                structure: Self::NAME,
                reason: format!(
                    "{} values cannot fill a {nrows}×{ncols} matrix",
                    values.len()
                ),
            });
        }
        Ok(DMatrix::from_row_slice(nrows, ncols, values))
    }
}

impl Structure for Fixed {
    type Rows = Dyn;
    type Cols = Dyn;
    type NParams = Const<0>;
    type Shape = DMatrix<f64>;
    const NAME: &'static str = "Fixed";

    fn default_transforms<T: Real>(
        _: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        dtheta: Option<&mut [T]>,
    ) {
        let _ = (free, theta, dtheta);
    }

    fn check_shape(shape: &Self::Shape) -> Result<(), crate::CovError> {
        if let Some(x) = shape.iter().find(|x| !x.is_finite()) {
            return Err(crate::CovError::InvalidShape {
                structure: Self::NAME,
                reason: format!("the data matrix holds a non-finite value ({x})"),
            });
        }
        Ok(())
    }
    fn dims(shape: &Self::Shape) -> (usize, usize) {
        shape.shape()
    }
    fn param_count(_: &Self::Shape) -> usize {
        0
    }
    fn param_specs(_: &Self::Shape) -> Vec<ParamSpec> {
        Vec::new()
    }
    fn value<T: Real>(shape: &Self::Shape, _: &[T]) -> DMatrix<T> {
        shape.map(T::c)
    }
    fn jacobian<T: Real>(_: &Self::Shape, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        Some(Vec::new())
    }
}
