//! The runtime map of an [`Adapter`](super::Adapter): `θ = Mφ + c` with
//! `M` and `c` as data, usually built from a table of names with
//! [`Covariance::adapt`] (the seed's `Adapter(adaptee, param_specs, param_map)`).

use super::adapter::{Adapter, ParamMap};
use crate::{CovError, Covariance, ParamSpec, Real, Structure};
use nalgebra::{DMatrix, Dyn};

/// The linear map `θ = Mφ + c` (natural scale), given as data in a
/// [`LinearMap`]: the map of a runtime [`Adapter`](super::Adapter).
#[derive(Clone, Copy, Default, Debug)]
pub struct Linear;

/// The data of a [`Linear`] map: the new parameter table, the matrix `M`
/// (adaptee parameters × new parameters) and the offset `c` (one per
/// adaptee parameter).
///
/// ```
/// use covreml::ops::{Adapter, Kron, Linear, LinearMap};
/// use covreml::{Covariance, ParamSpec, Scalar, AR1};
/// use nalgebra::{DMatrix, DVector};
/// // θ = (σ², ρ, σ²_b) = (s, 0.5, 2s): one variance, scaled, and a fixed ρ.
/// let map = LinearMap::new(
///     vec![ParamSpec::variance("s")],
///     DMatrix::from_column_slice(3, 1, &[1.0, 0.0, 2.0]),
///     DVector::from_column_slice(&[0.0, 0.5, 0.0]),
/// )
/// .unwrap();
/// let g = Covariance::<Adapter<Kron<AR1, Scalar>, Linear>>::new(((2, 1), map)).unwrap();
/// let v = g.value(&[0.0]).unwrap(); // s = 1: V = [[1, .5], [.5, 1]] · 2
/// assert_eq!(v, DMatrix::from_row_slice(2, 2, &[2.0, 1.0, 1.0, 2.0]));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LinearMap {
    specs: Vec<ParamSpec>,
    matrix: DMatrix<f64>,
    offset: nalgebra::DVector<f64>,
}

/// The right-hand side of one entry of a parameter map: what an adaptee
/// parameter becomes (see [`Covariance::adapt`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// The new parameter of this name: `θ_k = φ_j`.
    Param(String),
    /// A multiple of a new parameter: `θ_k = a·φ_j`.
    Scaled(String, f64),
    /// A constant on the natural scale: `θ_k = c`.
    Natural(f64),
}

impl From<&str> for Target {
    fn from(name: &str) -> Self {
        Target::Param(name.to_owned())
    }
}

impl From<f64> for Target {
    fn from(c: f64) -> Self {
        Target::Natural(c)
    }
}

impl LinearMap {
    /// The map `θ = matrix · φ + offset` with the new parameters `specs`
    /// (one per column of `matrix`); sizes against the adaptee are checked
    /// when the adapter is built.
    pub fn new(
        specs: Vec<ParamSpec>,
        matrix: DMatrix<f64>,
        offset: nalgebra::DVector<f64>,
    ) -> Result<Self, CovError> {
        let invalid = |details: String| CovError::InvalidMap {
            adaptee: "Linear",
            details,
        };
        if matrix.ncols() != specs.len() {
            return Err(invalid(format!(
                "{} new parameters but the matrix has {} columns",
                specs.len(),
                matrix.ncols()
            )));
        }
        if offset.len() != matrix.nrows() {
            return Err(invalid(format!(
                "the matrix has {} rows but the offset has {} entries",
                matrix.nrows(),
                offset.len()
            )));
        }
        if matrix.iter().chain(offset.iter()).any(|x| !x.is_finite()) {
            return Err(invalid(
                "the matrix or the offset has non-finite entries".into(),
            ));
        }
        crate::typed::param::unique_names(&specs)?;
        for s in &specs {
            crate::typed::param::finite(&s.name.to_string(), s.default)?;
        }
        Ok(LinearMap {
            specs,
            matrix,
            offset,
        })
    }

    /// The new parameter table.
    pub fn specs(&self) -> &[ParamSpec] {
        &self.specs
    }

    /// `M`: adaptee parameters × new parameters.
    pub fn matrix(&self) -> &DMatrix<f64> {
        &self.matrix
    }

    /// `c`: the constant part of each adaptee parameter.
    pub fn offset(&self) -> &nalgebra::DVector<f64> {
        &self.offset
    }
}

impl ParamMap for Linear {
    type NParams = Dyn;
    type Shape = LinearMap;
    const NAME: &'static str = "Linear";

    fn check(map: &LinearMap, adaptee: &[ParamSpec]) -> Result<(), CovError> {
        if map.matrix.nrows() != adaptee.len() {
            return Err(CovError::InvalidMap {
                adaptee: "Linear",
                details: format!(
                    "the matrix has {} rows but the adaptee has {} parameters",
                    map.matrix.nrows(),
                    adaptee.len()
                ),
            });
        }
        let used = |j: usize| map.matrix.column(j).iter().any(|&x| x != 0.0);
        if let Some(j) = (0..map.specs.len()).find(|&j| !used(j)) {
            return Err(CovError::UnusedParam {
                name: map.specs[j].name.to_string(),
                used: (0..map.specs.len())
                    .filter(|&i| used(i))
                    .map(|i| map.specs[i].name.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(())
    }
    fn param_specs(map: &LinearMap, _: &[ParamSpec]) -> Vec<ParamSpec> {
        map.specs.clone()
    }
    fn param_count(map: &LinearMap, _: usize) -> usize {
        map.specs.len()
    }
    fn map<T: Real>(map: &LinearMap, phi: &[T], theta: &mut [T]) {
        for (k, t) in theta.iter_mut().enumerate() {
            *t = phi
                .iter()
                .enumerate()
                .fold(T::c(map.offset[k]), |s, (j, &p)| {
                    let a = map.matrix[(k, j)];
                    if a == 0.0 {
                        s
                    } else {
                        s + T::c(a) * p
                    }
                });
        }
    }
    fn jacobian<T: Real>(map: &LinearMap, _: &[T], _: usize) -> DMatrix<T> {
        map.matrix.map(T::c)
    }
    fn nonzeros(map: &LinearMap, _: usize) -> Vec<(usize, usize)> {
        let m = &map.matrix;
        (0..m.nrows())
            .flat_map(|k| (0..m.ncols()).map(move |j| (k, j)))
            .filter(|&(k, j)| m[(k, j)] != 0.0)
            .collect()
    }
}

impl<S: Structure> Covariance<S> {
    /// This structure re-parameterised by a table of names: the seed's
    /// `Adapter(adaptee, param_specs, param_map)`.
    ///
    /// `specs` declares the new parameters (names, defaults on the free
    /// scale, transforms); `map` gives, for adaptee parameters by name (as
    /// [`names`](Self::names) shows them, operand renames included), the new
    /// parameter or natural constant each becomes. Adaptee parameters fixed
    /// in `self` and left out of `map` stay at their fixed value; the
    /// defaults and transforms of the adaptee's free parameters give way to
    /// those of `specs`.
    ///
    /// Errors name the parameter: an unknown adaptee name or new name
    /// ([`CovError::UnknownParam`]), an adaptee parameter mapped twice
    /// ([`CovError::InvalidMap`]), a constant out of the adaptee parameter's
    /// range ([`CovError::NotInRange`]), a free adaptee parameter left unmapped
    /// ([`CovError::UnmappedParam`]), a new parameter never used
    /// ([`CovError::UnusedParam`]).
    ///
    /// ```
    /// use covreml::ops::{BlockDiag, Target};
    /// use covreml::{Covariance, ParamSpec, Scalar};
    /// let g = Covariance::<BlockDiag<(Scalar, Scalar)>>::new((2, 1))
    ///     .unwrap()
    ///     .with_operand_names(&["A", "B"])
    ///     .unwrap();
    /// let shared = g
    ///     .adapt(
    ///         vec![ParamSpec::variance("s2")],
    ///         &[("A/sigma^2", "s2".into()), ("B/sigma^2", "s2".into())],
    ///     )
    ///     .unwrap();
    /// assert_eq!(shared.names(), ["s2"]);
    /// let v = shared.value(&[0.5]).unwrap(); // s2 = e on both blocks
    /// assert_eq!(v, nalgebra::DMatrix::identity(3, 3) * 1f64.exp());
    /// // a typo is named
    /// let e = g.adapt(vec![ParamSpec::variance("s2")], &[("A/sigma2", "s2".into())]);
    /// assert!(e.unwrap_err().to_string().contains("`A/sigma2`"));
    /// // so is a block left out
    /// let e = g.adapt(vec![ParamSpec::variance("s2")], &[("A/sigma^2", Target::from("s2"))]);
    /// assert!(e.unwrap_err().to_string().contains("`B/sigma^2`"));
    /// ```
    pub fn adapt(
        &self,
        specs: Vec<ParamSpec>,
        map: &[(&str, Target)],
    ) -> Result<Covariance<Adapter<S, Linear>>, CovError> {
        let n_theta = self.specs.len();
        let new_names: Vec<String> = specs.iter().map(|s| s.name.to_string()).collect();
        let mut matrix = DMatrix::zeros(n_theta, specs.len());
        let mut offset = nalgebra::DVector::zeros(n_theta);
        let mut mapped = vec![false; n_theta];
        let column = |name: &str| {
            new_names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| CovError::UnknownParam {
                    name: name.to_owned(),
                    known: new_names.join(", "),
                })
        };
        for (key, target) in map {
            let k = self.index_of(key)?;
            if std::mem::replace(&mut mapped[k], true) {
                return Err(CovError::InvalidMap {
                    adaptee: S::NAME,
                    details: format!("`{key}` is mapped twice"),
                });
            }
            match target {
                Target::Param(name) => matrix[(k, column(name)?)] = 1.0,
                Target::Scaled(name, a) => {
                    crate::typed::param::finite(key, *a)?;
                    matrix[(k, column(name)?)] = *a;
                }
                Target::Natural(c) => {
                    // in the range of the adaptee parameter's transform
                    self.to_free(k, *c)?;
                    offset[k] = *c;
                }
            }
        }
        for k in 0..n_theta {
            if mapped[k] {
                continue;
            }
            if self.fixed[k] {
                offset[k] = self.specs[k].transform.forward(self.specs[k].default);
            } else {
                return Err(CovError::UnmappedParam {
                    name: self.specs[k].name.to_string(),
                });
            }
        }
        let map = LinearMap::new(specs, matrix, offset)?;
        Covariance::new((self.shape.clone(), map))
    }
}
