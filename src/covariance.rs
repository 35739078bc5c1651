//! The runtime layer: a structure type together with its shape and its
//! parameter table.
//!
//! [`Covariance<S>`] keeps the bookkeeping that a type cannot: which
//! parameters are fixed and at what value, their defaults and transforms, and
//! operand names. It maps free parameters to natural ones, evaluates the
//! matrix, and gives the Jacobian with respect to the free parameters in
//! closed form, by dual numbers, or both compared.

use crate::structure::Diagonals;
use crate::{CovError, ParamSpec, Real, Structure, Transform};
use nalgebra::{Const, DMatrix};
use num_dual::{DualNumFloat, DualSVec, DualVec};
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

/// A structure type `S` with its runtime shape and parameter specs.
///
/// ```
/// use covreml::{Covariance, AR1};
/// let mut ar1 = Covariance::<AR1>::new(3).unwrap();
/// ar1.fix("rho", 0.5).unwrap();            // free-scale value: ρ = 2σ(0.5) − 1
/// assert_eq!(ar1.free_names(), ["sigma^2"]);
/// let v = ar1.value(&[0.4]).unwrap();
/// assert!((v[(0, 1)] - 0.5450765073310843).abs() < 1e-15);
/// let j = ar1.jacobian(&[0.4]).unwrap();   // only the free parameter
/// assert_eq!(j.len(), 1);
/// ```
pub struct Covariance<S: Structure> {
    shape: S::Shape,
    specs: Vec<ParamSpec>,
    fixed: Vec<bool>,
    /// Positions of outermost operands renamed from `op_i`.
    renamed: Vec<usize>,
    _structure: PhantomData<S>,
}

impl<S: Structure> Clone for Covariance<S> {
    fn clone(&self) -> Self {
        Covariance {
            shape: self.shape.clone(),
            specs: self.specs.clone(),
            fixed: self.fixed.clone(),
            renamed: self.renamed.clone(),
            _structure: PhantomData,
        }
    }
}

impl<S: Structure> fmt::Debug for Covariance<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Covariance")
            .field("structure", &S::NAME)
            .field("dims", &S::dims(&self.shape))
            .field("params", &self.names())
            .field("free", &self.free_names())
            .finish()
    }
}

/// How the Jacobian with respect to the free parameters is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JacobianMethod {
    /// The closed form of each structure (the default); structures without
    /// one fall back to dual numbers.
    #[default]
    ClosedForm,
    /// Forward-mode dual numbers through the generic value function.
    DualNumbers,
}

/// Number of derivative directions carried by one dual-number pass.
const DUAL_CHUNK: usize = 4;

impl<S: Structure> Covariance<S> {
    /// A structure of shape `shape`, every parameter free at its default.
    ///
    /// Fails if the shape is invalid for the structure (for example
    /// `Equicorrelation` of size 1, or operands whose sizes do not fit).
    pub fn new(shape: S::Shape) -> Result<Self, CovError> {
        S::check_shape(&shape)?;
        let specs = S::param_specs(&shape);
        debug_assert_eq!(specs.len(), S::param_count(&shape));
        unique_names(&specs)?;
        for s in &specs {
            finite(&s.name.to_string(), s.default)?;
        }
        let fixed = vec![false; specs.len()];
        Ok(Covariance {
            shape,
            specs,
            fixed,
            renamed: Vec::new(),
            _structure: PhantomData,
        })
    }

    /// The runtime shape.
    pub fn shape(&self) -> &S::Shape {
        &self.shape
    }

    /// `(rows, columns)` of the matrix.
    pub fn dims(&self) -> (usize, usize) {
        S::dims(&self.shape)
    }

    /// The full parameter table, fixed parameters included.
    pub fn specs(&self) -> &[ParamSpec] {
        &self.specs
    }

    /// Number of parameters, fixed ones included.
    pub fn n_params(&self) -> usize {
        self.specs.len()
    }

    /// Number of free parameters.
    pub fn n_free(&self) -> usize {
        self.fixed.iter().filter(|f| !**f).count()
    }

    /// Whether each parameter is fixed, in table order.
    pub fn fixed_mask(&self) -> &[bool] {
        &self.fixed
    }

    /// All parameter names (`time/rho`, …), fixed ones included.
    pub fn names(&self) -> Vec<String> {
        self.specs.iter().map(|s| s.name.to_string()).collect()
    }

    /// Names of the free parameters, in the order free vectors use.
    pub fn free_names(&self) -> Vec<String> {
        self.free_specs().map(|s| s.name.to_string()).collect()
    }

    /// Names of the fixed parameters.
    pub fn fixed_names(&self) -> Vec<String> {
        self.specs
            .iter()
            .zip(&self.fixed)
            .filter(|(_, f)| **f)
            .map(|(s, _)| s.name.to_string())
            .collect()
    }

    /// Defaults of the free parameters (free scale): the default start of a fit.
    pub fn free_defaults(&self) -> Vec<f64> {
        self.free_specs().map(|s| s.default).collect()
    }

    /// Transforms of the free parameters.
    pub fn free_transforms(&self) -> Vec<Transform> {
        self.free_specs().map(|s| s.transform.clone()).collect()
    }

    fn free_specs(&self) -> impl Iterator<Item = &ParamSpec> {
        self.specs
            .iter()
            .zip(&self.fixed)
            .filter(|(_, f)| !**f)
            .map(|(s, _)| s)
    }

    fn index_of(&self, name: &str) -> Result<usize, CovError> {
        self.specs
            .iter()
            .position(|s| s.name.to_string() == name)
            .ok_or_else(|| CovError::UnknownParam {
                name: name.to_owned(),
                known: self.names().join(", "),
            })
    }

    /// Fixes parameter `name` at the free-scale value `free_value`.
    pub fn fix(&mut self, name: &str, free_value: f64) -> Result<&mut Self, CovError> {
        let i = self.index_of(name)?;
        finite(name, free_value)?;
        self.specs[i].default = free_value;
        self.fixed[i] = true;
        Ok(self)
    }

    /// Fixes parameter `name` at the natural-scale value `natural_value`.
    pub fn fix_natural(&mut self, name: &str, natural_value: f64) -> Result<&mut Self, CovError> {
        let i = self.index_of(name)?;
        finite(name, natural_value)?;
        let t = &self.specs[i].transform;
        let x = t.inverse(natural_value);
        let back = t.forward(x);
        if !x.is_finite() || (back - natural_value).abs() > 1e-9 * (1.0 + natural_value.abs()) {
            let (lo, hi) = t.range();
            return Err(CovError::NotInRange {
                name: name.to_owned(),
                value: natural_value,
                transform: t.to_string(),
                range: if lo == hi {
                    format!("only {}", crate::display::num(lo))
                } else {
                    format!("({}, {})", crate::display::num(lo), crate::display::num(hi))
                },
            });
        }
        self.fix(name, x)
    }

    /// Frees parameter `name` again (its default stays where it was fixed).
    pub fn unfix(&mut self, name: &str) -> Result<&mut Self, CovError> {
        let i = self.index_of(name)?;
        self.fixed[i] = false;
        Ok(self)
    }

    /// Sets the default (free scale) of parameter `name`.
    pub fn set_default(&mut self, name: &str, free_value: f64) -> Result<&mut Self, CovError> {
        let i = self.index_of(name)?;
        finite(name, free_value)?;
        self.specs[i].default = free_value;
        Ok(self)
    }

    /// Sets the transform of parameter `name`.
    pub fn set_transform(&mut self, name: &str, t: Transform) -> Result<&mut Self, CovError> {
        let i = self.index_of(name)?;
        self.specs[i].transform = t;
        Ok(self)
    }

    /// Renames the outermost operand `from` (for example `op_0`) to `to`:
    /// `op_0/rho` becomes `time/rho`.
    pub fn rename_operand(&mut self, from: &str, to: &str) -> Result<&mut Self, CovError> {
        if to.is_empty() || to.contains('/') || to.chars().any(char::is_whitespace) {
            return Err(CovError::InvalidOperandName {
                name: to.to_owned(),
            });
        }
        let mut renamed = self.specs.clone();
        let mut any = false;
        for s in &mut renamed {
            any |= s.name.rename_head(from, to);
        }
        unique_names(&renamed)?;
        self.specs = renamed;
        // An operand without parameters has no names to rename, but is still
        // an operand, unless it was renamed already.
        let position = from
            .strip_prefix("op_")
            .and_then(|i| i.parse::<usize>().ok())
            .filter(|&i| i < S::OPERANDS && !self.renamed.contains(&i));
        if let Some(i) = position {
            self.renamed.push(i);
        }
        if any || position.is_some() {
            Ok(self)
        } else {
            Err(CovError::UnknownOperand {
                name: from.to_owned(),
            })
        }
    }

    /// Renames the outermost operands `op_0, op_1, …` in order, as the seed's
    /// keyword operands do (`time=…, subject=…`).
    pub fn with_operand_names(mut self, names: &[&str]) -> Result<Self, CovError> {
        for (i, n) in names.iter().enumerate() {
            self.rename_operand(&format!("op_{i}"), n)?;
        }
        Ok(self)
    }

    /// A free vector of the right length with finite entries: a NaN or
    /// infinite input is named as such, not blamed on the matrix.
    fn check_len<T: Real>(&self, free: &[T]) -> Result<(), CovError> {
        let expected = self.n_free();
        if free.len() != expected {
            return Err(CovError::WrongParamCount {
                expected,
                got: free.len(),
                names: self.free_names().join(", "),
            });
        }
        if let Some(i) = free.iter().position(|x| !x.is_finite()) {
            let x = free[i];
            #[allow(clippy::eq_op)] // x != x is the generic NaN test
            let value = if x != x {
                f64::NAN
            } else if x > T::c(0.0) {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            };
            return Err(CovError::NotFinite {
                name: self.free_names()[i].clone(),
                value,
            });
        }
        Ok(())
    }

    /// The full free-scale parameter vector: `free` with the fixed values
    /// slotted in (fixed ones included), in table order.
    pub fn full_free<T: Real>(&self, free: &[T]) -> Result<Vec<T>, CovError> {
        self.check_len(free)?;
        let mut it = free.iter();
        Ok(self
            .specs
            .iter()
            .zip(&self.fixed)
            .map(|(s, &f)| {
                if f {
                    T::c(s.default)
                } else {
                    *it.next().expect("length checked")
                }
            })
            .collect())
    }

    /// The parameter vector as asked: with or without the fixed parameters,
    /// on the free or the natural scale.
    pub fn params<T: Real>(
        &self,
        free: &[T],
        include_fixed: bool,
        natural: bool,
    ) -> Result<Vec<T>, CovError> {
        let full = self.full_free(free)?;
        Ok(full
            .into_iter()
            .zip(&self.specs)
            .zip(&self.fixed)
            .filter(|(_, &f)| include_fixed || !f)
            .map(|((x, s), _)| if natural { s.transform.forward(x) } else { x })
            .collect())
    }

    /// All natural parameters (fixed ones included) at the free values `free`.
    pub fn natural<T: Real>(&self, free: &[T]) -> Result<Vec<T>, CovError> {
        self.params(free, true, true)
    }

    /// `dθ/dx` of each free parameter at `free`.
    pub fn transform_derivatives<T: Real>(&self, free: &[T]) -> Result<Vec<T>, CovError> {
        self.check_len(free)?;
        Ok(self
            .free_specs()
            .zip(free)
            .map(|(s, &x)| s.transform.derivative(x))
            .collect())
    }

    /// The free vector from a name → value map (free scale). Every free
    /// parameter must be given; names that are not free parameters are errors.
    pub fn free_from_map(&self, map: &HashMap<String, f64>) -> Result<Vec<f64>, CovError> {
        let free = self.free_names();
        let fixed = self.fixed_names();
        let mut not_free: Vec<&String> = map.keys().filter(|k| !free.contains(k)).collect();
        not_free.sort();
        if let Some(f) = not_free.iter().find(|k| fixed.contains(k)) {
            return Err(CovError::FixedParam {
                name: f.to_string(),
                free: free.join(", "),
            });
        }
        if let Some(unknown) = not_free.first() {
            return Err(CovError::UnknownParam {
                name: unknown.to_string(),
                known: free.join(", "),
            });
        }
        let missing: Vec<&str> = free
            .iter()
            .filter(|n| !map.contains_key(*n))
            .map(|s| s.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(CovError::MissingParams {
                names: missing.join(", "),
            });
        }
        Ok(free.iter().map(|n| map[n]).collect())
    }

    /// The matrix at the free parameters `free`.
    pub fn value(&self, free: &[f64]) -> Result<DMatrix<f64>, CovError> {
        self.value_in(free)
    }

    /// The matrix at the free parameters `free`, over any [`Real`]
    /// (`f32`, `f64`, dual numbers).
    pub fn value_in<T: Real>(&self, free: &[T]) -> Result<DMatrix<T>, CovError> {
        let theta = self.natural(free)?;
        let v = S::value(&self.shape, &theta);
        self.check_output(&v, None)?;
        self.finite_matrix(&v, free)?;
        Ok(v)
    }

    fn finite_matrix<T: Real>(&self, m: &DMatrix<T>, free: &[T]) -> Result<(), CovError> {
        if m.iter().all(|x| x.is_finite()) {
            Ok(())
        } else {
            Err(self.non_finite(free))
        }
    }

    /// Checks that a value (and Jacobian) has the size the structure declares.
    fn check_output<T: Real>(
        &self,
        v: &DMatrix<T>,
        jac: Option<&[DMatrix<T>]>,
    ) -> Result<(), CovError> {
        let dims = self.dims();
        let wrong = |details: String| CovError::WrongOutput {
            structure: S::NAME.to_owned(),
            details,
        };
        if v.shape() != dims {
            return Err(wrong(format!(
                "a {}×{} value, but declares {}×{}",
                v.nrows(),
                v.ncols(),
                dims.0,
                dims.1
            )));
        }
        if let Some(jac) = jac {
            if jac.len() != self.specs.len() {
                return Err(wrong(format!(
                    "{} Jacobian matrices for {} parameters",
                    jac.len(),
                    self.specs.len()
                )));
            }
            if let Some((k, d)) = jac.iter().enumerate().find(|(_, d)| d.shape() != dims) {
                return Err(wrong(format!(
                    "a {}×{} derivative for {}, but declares {}×{}",
                    d.nrows(),
                    d.ncols(),
                    self.specs[k].name,
                    dims.0,
                    dims.1
                )));
            }
        }
        Ok(())
    }

    /// The error for a matrix with NaN or infinite entries at `free`.
    fn non_finite<T: Real>(&self, free: &[T]) -> CovError {
        CovError::NonFiniteMatrix {
            structure: S::NAME,
            params: self
                .free_names()
                .iter()
                .zip(free.iter().zip(self.free_specs()))
                .map(|(n, (x, s))| {
                    let v = real_to_f64(*x);
                    format!(
                        "{n} = {} (natural {})",
                        crate::display::num(v),
                        crate::display::num(s.transform.forward(v))
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// The matrix at the defaults (the default start of a fit), with the
    /// same checks as [`value`](Self::value).
    pub fn value_at_defaults(&self) -> Result<DMatrix<f64>, CovError> {
        self.value(&self.free_defaults())
    }

    /// Closed-form `∂V/∂x_k` for every free parameter `x_k`.
    ///
    /// Fails with [`CovError::NoClosedForm`] when a structure inside has no
    /// closed form; [`dual_jacobian`](Self::dual_jacobian) always works.
    pub fn jacobian(&self, free: &[f64]) -> Result<Vec<DMatrix<f64>>, CovError> {
        Ok(self.value_and_jacobian_in(free)?.1)
    }

    /// [`jacobian`](Self::jacobian) over any [`Real`].
    pub fn jacobian_in<T: Real>(&self, free: &[T]) -> Result<Vec<DMatrix<T>>, CovError> {
        Ok(self.value_and_jacobian_in(free)?.1)
    }

    /// Value and closed-form Jacobian in one evaluation.
    pub fn value_and_jacobian(
        &self,
        free: &[f64],
    ) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), CovError> {
        self.value_and_jacobian_in(free)
    }

    /// [`value_and_jacobian`](Self::value_and_jacobian) over any [`Real`].
    pub fn value_and_jacobian_in<T: Real>(
        &self,
        free: &[T],
    ) -> Result<(DMatrix<T>, Vec<DMatrix<T>>), CovError> {
        let full = self.full_free(free)?;
        let theta: Vec<T> = full
            .iter()
            .zip(&self.specs)
            .map(|(&x, s)| s.transform.forward(x))
            .collect();
        let (v, jac) = S::value_and_jacobian(&self.shape, &theta);
        self.check_output(&v, jac.as_deref())?;
        self.finite_matrix(&v, free)?;
        let jac = jac.ok_or(CovError::NoClosedForm { structure: S::NAME })?;
        let out: Vec<DMatrix<T>> = jac
            .into_iter()
            .zip(full.iter().zip(&self.specs).zip(&self.fixed))
            .filter(|(_, (_, &f))| !f)
            .map(|(d, ((&x, s), _))| d * s.transform.derivative(x))
            .collect();
        for d in &out {
            self.finite_matrix(d, free)?;
        }
        Ok((v, out))
    }

    /// `∂V/∂x_k` by forward-mode dual numbers through the generic value
    /// function: exact to rounding, four directions per pass.
    pub fn dual_jacobian<F: DualNumFloat + Real + num_dual::DualNum<Primitive = F>>(
        &self,
        free: &[F],
    ) -> Result<Vec<DMatrix<F>>, CovError> {
        type D<F> = DualVec<F, Const<DUAL_CHUNK>>;
        let full = self.full_free(free)?;
        let free_pos: Vec<usize> = (0..self.specs.len()).filter(|&i| !self.fixed[i]).collect();
        let mut out = Vec::with_capacity(free_pos.len());
        for chunk in free_pos.chunks(DUAL_CHUNK) {
            let theta: Vec<D<F>> = full
                .iter()
                .zip(&self.specs)
                .enumerate()
                .map(|(i, (&x, s))| {
                    let mut d = D::<F>::from_re(x);
                    if let Some(k) = chunk.iter().position(|&p| p == i) {
                        d = d.derivative(k);
                    }
                    s.transform.forward(d)
                })
                .collect();
            let v = S::value(&self.shape, &theta);
            self.check_output(&v.map(|e| e.re), None)?;
            self.finite_matrix(&v.map(|e| e.re), free)?;
            for k in 0..chunk.len() {
                let d = v.map(|e| match e.eps.0 {
                    Some(ref m) => m[k],
                    None => F::zero(),
                });
                self.finite_matrix(&d, free)?;
                out.push(d);
            }
        }
        Ok(out)
    }

    /// For a structure whose matrix is always diagonal (see
    /// [`Structure::diagonal`]): the diagonal of the value and of `∂V/∂x_k`
    /// for each free parameter, in `O(n)` memory. `None` for other structures
    /// (a free vector of the wrong length is `Some(Err(…))` for any structure).
    ///
    /// ```
    /// use covreml::{ops::Kron, Covariance, Diagonal, Identity};
    /// let r = Covariance::<Kron<Identity, Diagonal>>::new((2, 3)).unwrap();
    /// let (d, dd) = r.diagonal(&[0.0, 0.5, 0.0]).unwrap().unwrap();
    /// assert_eq!(d.len(), 6);
    /// assert_eq!(d[4], 1f64.exp()); // e^{2·0.5}
    /// assert_eq!(dd[1][4], 2.0 * 1f64.exp()); // ∂/∂x of e^{2x}
    /// assert!(Covariance::<covreml::AR1>::new(3).unwrap().diagonal(&[0.0, 0.0]).is_none());
    /// ```
    pub fn diagonal(&self, free: &[f64]) -> Option<Result<Diagonals<f64>, CovError>> {
        let full = match self.full_free(free) {
            Ok(f) => f,
            Err(e) => return Some(Err(e)),
        };
        let theta: Vec<f64> = full
            .iter()
            .zip(&self.specs)
            .map(|(&x, s)| s.transform.forward(x))
            .collect();
        let (d, jac) = S::diagonal(&self.shape, &theta)?;
        let n = self.dims().0;
        if d.len() != n || jac.len() != self.specs.len() || jac.iter().any(|g| g.len() != n) {
            return Some(Err(CovError::WrongOutput {
                structure: S::NAME.to_owned(),
                details: format!(
                    "a diagonal of length {} with {} derivatives, but declares {n} rows and {} parameters",
                    d.len(),
                    jac.len(),
                    self.specs.len()
                ),
            }));
        }
        if d.iter().any(|x| !x.is_finite()) {
            return Some(Err(self.non_finite(free)));
        }
        let out = jac
            .into_iter()
            .zip(full.iter().zip(&self.specs).zip(&self.fixed))
            .filter(|(_, (_, &f))| !f)
            .map(|(g, ((&x, s), _))| {
                let t = s.transform.derivative(x);
                g.into_iter().map(|v| v * t).collect()
            })
            .collect();
        Some(Ok((d, out)))
    }

    /// Value and Jacobian with the chosen method, in `f64`.
    pub fn value_and_jacobian_with(
        &self,
        free: &[f64],
        method: JacobianMethod,
    ) -> Result<(DMatrix<f64>, Vec<DMatrix<f64>>), CovError> {
        match method {
            JacobianMethod::ClosedForm => match self.value_and_jacobian(free) {
                Err(CovError::NoClosedForm { .. }) => {
                    Ok((self.value(free)?, self.dual_jacobian(free)?))
                }
                r => r,
            },
            JacobianMethod::DualNumbers => Ok((self.value(free)?, self.dual_jacobian(free)?)),
        }
    }

    /// Compares the closed-form Jacobian with the dual-number one at `free`
    /// and reports the largest difference per parameter.
    pub fn check_gradients(&self, free: &[f64]) -> Result<crate::GradientCheck, CovError> {
        let closed = self.jacobian(free)?;
        let dual = self.dual_jacobian(free)?;
        Ok(crate::GradientCheck::compare(
            self.free_names(),
            &closed,
            &dual,
        ))
    }
}

impl<S: Structure> Covariance<S>
where
    S::NParams: crate::structure::ParamArray,
{
    /// The matrix at free parameters given as an array whose length the
    /// structure type fixes (every parameter free): the wrong length does not
    /// compile.
    pub fn value_static<T: Real>(
        &self,
        free: <S::NParams as crate::structure::ParamArray>::Array<T>,
    ) -> Result<DMatrix<T>, CovError> {
        self.value_in(free.as_ref())
    }
}

impl<S: Structure<NParams = Const<N>>, const N: usize> Covariance<S> {
    /// The whole Jacobian in **one** dual-number pass, with `N`-direction duals
    /// (`DualSVec64<N>`), where the type fixes the parameter count `N` and every
    /// parameter is free.
    ///
    /// ```
    /// use covreml::{ops::Kron, Covariance, Const, Scalar, AR1};
    /// let k = Covariance::<Kron<AR1<Const<2>>, Scalar<Const<2>>>>::new(((), ())).unwrap();
    /// let one_pass = k.dual_jacobian_one_pass([1.0, 1.0, 1.0]).unwrap();
    /// assert_eq!(one_pass, k.jacobian(&[1.0, 1.0, 1.0]).unwrap());
    /// ```
    pub fn dual_jacobian_one_pass(&self, free: [f64; N]) -> Result<Vec<DMatrix<f64>>, CovError> {
        let full = self.full_free(&free)?;
        let theta: Vec<DualVec<f64, Const<N>>> = full
            .iter()
            .zip(&self.specs)
            .enumerate()
            .map(|(i, (&x, s))| {
                s.transform
                    .forward(DualSVec::<f64, N>::from_re(x).derivative(i))
            })
            .collect();
        let v = S::value(&self.shape, &theta);
        self.check_output(&v.map(|e| e.re), None)?;
        self.finite_matrix(&v.map(|e| e.re), &free)?;
        Ok((0..N)
            .map(|k| v.map(|e| e.eps.0.as_ref().map_or(0.0, |m| m[k])))
            .collect())
    }
}

/// Names identify parameters: two rows with one name are an error.
fn unique_names(specs: &[ParamSpec]) -> Result<(), CovError> {
    let mut seen = std::collections::HashSet::new();
    for s in specs {
        let name = s.name.to_string();
        if !seen.insert(name.clone()) {
            return Err(CovError::DuplicateParam { name });
        }
    }
    Ok(())
}

fn finite(name: &str, value: f64) -> Result<(), CovError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(CovError::NotFinite {
            name: name.to_owned(),
            value,
        })
    }
}

/// The real part of a scalar as `f64` (for messages; `NaN` if it has none).
fn real_to_f64<T: Real>(x: T) -> f64 {
    nalgebra::try_convert(x).unwrap_or(f64::NAN)
}
