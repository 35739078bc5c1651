//! [`Coordinates`]: the position of every row in space, the runtime shape of
//! [`Isotropic`](super::Isotropic).

use crate::data::DataError;

/// The coordinates of every row (one or more dimensions), in row order.
///
/// ```
/// use covreml::data::Table;
/// use covreml::structures::spatial::Coordinates;
/// let t = Table::parse("x,y\n0,0\n3,4\n").unwrap();
/// let c = Coordinates::from_columns(&t, &["x", "y"]).unwrap();
/// assert_eq!(c.len(), 2);
/// assert_eq!(c.distance(0, 1), 5.0);
/// assert!(Coordinates::from_columns(&t, &["x", "z"]).is_err()); // no column `z`
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Coordinates {
    /// Row-major `n × dim` coordinates.
    points: Vec<f64>,
    dim: usize,
}

impl Coordinates {
    /// From one slice per dimension (all of the same length).
    ///
    /// Errors: no dimension, no rows, slices of different lengths, a
    /// coordinate that is NaN or infinite.
    pub fn new(axes: &[&[f64]]) -> Result<Self, DataError> {
        let names: Vec<String> = (0..axes.len()).map(|k| format!("axis {k}")).collect();
        Self::build(axes, &names)
    }

    pub(crate) fn build(axes: &[&[f64]], names: &[String]) -> Result<Self, DataError> {
        let n = axes.first().map_or(0, |a| a.len());
        if n == 0 || axes.iter().any(|a| a.len() != n) {
            return Err(DataError::InvalidDesign {
                reason: format!(
                    "coordinates need at least one axis and one row, all axes of one length; got lengths {:?}",
                    axes.iter().map(|a| a.len()).collect::<Vec<_>>()
                ),
            });
        }
        for (a, name) in axes.iter().zip(names) {
            if let Some(row) = a.iter().position(|x| !x.is_finite()) {
                return Err(DataError::InvalidDesign {
                    reason: format!(
                        "column `{name}`, row {} (1-based): coordinate {} is not a finite number",
                        row + 1,
                        a[row]
                    ),
                });
            }
        }
        let dim = axes.len();
        let points = (0..n)
            .flat_map(|i| axes.iter().map(move |a| a[i]))
            .collect();
        Ok(Coordinates { points, dim })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.points.len() / self.dim
    }

    /// Whether there are no rows (never true for a built shape).
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Number of dimensions.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The Euclidean distance between rows `i` and `j`.
    pub fn distance(&self, i: usize, j: usize) -> f64 {
        let (a, b) = (&self.points[i * self.dim..], &self.points[j * self.dim..]);
        (0..self.dim)
            .map(|k| (a[k] - b[k]).powi(2))
            .sum::<f64>()
            .sqrt()
    }

    /// The mean distance between two rows at distinct positions (1 if all
    /// rows share one position): the default range.
    pub fn mean_distance(&self) -> f64 {
        let n = self.len();
        let (mut sum, mut count) = (0.0, 0usize);
        for i in 0..n {
            for j in 0..i {
                let d = self.distance(i, j);
                if d > 0.0 {
                    sum += d;
                    count += 1;
                }
            }
        }
        if count == 0 {
            1.0
        } else {
            sum / count as f64
        }
    }
}
