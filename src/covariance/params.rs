//! Parameter bookkeeping: fixing and freeing, defaults, transforms, operand
//! names, and the free ↔ full ↔ natural parameter vectors.

use super::Covariance;
use crate::typed::param::{finite, unique_names};
use crate::{CovError, Real, Structure, Transform};
use std::collections::HashMap;

impl<S: Structure> Covariance<S> {
    pub(crate) fn index_of(&self, name: &str) -> Result<usize, CovError> {
        self.specs
            .iter()
            .position(|s| s.name.to_string() == name)
            .ok_or_else(|| CovError::UnknownParam {
                name: name.to_owned(),
                known: self.names().join(", "),
            })
    }

    /// The positions a key selects: one parameter by its full name
    /// (`time/rho`), every parameter under an operand path when the key ends
    /// with `/` (`gen/`, `op_0/time/`), or every parameter for `/`, as the
    /// seed's `set_param_specs` does.
    ///
    /// ```
    /// use covreml::{ops::Kron, Covariance, Scalar, AR1};
    /// let k = Covariance::<Kron<AR1, Scalar>>::new((3, 2)).unwrap();
    /// assert_eq!(k.select("op_0/").unwrap(), [0, 1]);
    /// assert_eq!(k.select("/").unwrap(), [0, 1, 2]);
    /// assert_eq!(k.select("op_1/sigma^2").unwrap(), [2]);
    /// assert!(k.select("op_2/").is_err());
    /// ```
    pub fn select(&self, key: &str) -> Result<Vec<usize>, CovError> {
        if key == "/" {
            return Ok((0..self.specs.len()).collect());
        }
        if key.ends_with('/') {
            let hits: Vec<usize> = self
                .specs
                .iter()
                .enumerate()
                .filter(|(_, s)| s.name.to_string().starts_with(key))
                .map(|(i, _)| i)
                .collect();
            return if hits.is_empty() {
                Err(CovError::UnknownOperand {
                    name: key.trim_end_matches('/').to_owned(),
                })
            } else {
                Ok(hits)
            };
        }
        Ok(vec![self.index_of(key)?])
    }

    /// Fixes the parameter `key` (or every parameter under a subtree key such
    /// as `op_0/` or `/`, see [`select`](Self::select)) at the free-scale value
    /// `free_value`.
    pub fn fix(&mut self, key: &str, free_value: f64) -> Result<&mut Self, CovError> {
        let hits = self.select(key)?;
        finite(key, free_value)?;
        for i in hits {
            self.specs[i].default = free_value;
            self.fixed[i] = true;
        }
        Ok(self)
    }

    /// Fixes the parameter `key` (or a subtree) at its current default: the
    /// seed's `fixed=True` without a value.
    ///
    /// ```
    /// use covreml::{ops::Kron, Covariance, Scalar, AR1};
    /// let mut k = Covariance::<Kron<AR1, Scalar>>::new((3, 2)).unwrap();
    /// k.set_default("op_0/rho", 0.3).unwrap().fix_at_default("op_0/").unwrap();
    /// assert_eq!(k.free_names(), ["op_1/sigma^2"]);
    /// assert_eq!(k.specs()[1].default, 0.3);
    /// ```
    pub fn fix_at_default(&mut self, key: &str) -> Result<&mut Self, CovError> {
        for i in self.select(key)? {
            self.fixed[i] = true;
        }
        Ok(self)
    }

    /// Fixes the parameter `key` (or a subtree) at the natural-scale value
    /// `natural_value`, mapped back through each parameter's transform.
    pub fn fix_natural(&mut self, key: &str, natural_value: f64) -> Result<&mut Self, CovError> {
        let hits = self.select(key)?;
        let xs = hits
            .iter()
            .map(|&i| self.to_free(i, natural_value))
            .collect::<Result<Vec<f64>, CovError>>()?;
        for (i, x) in hits.into_iter().zip(xs) {
            finite(&self.specs[i].name.to_string(), x)?;
            self.specs[i].default = x;
            self.fixed[i] = true;
        }
        Ok(self)
    }

    /// The free value of parameter `i` whose natural value is `natural_value`,
    /// or an error naming it when its transform does not reach that value.
    pub(crate) fn to_free(&self, i: usize, natural_value: f64) -> Result<f64, CovError> {
        let name = self.specs[i].name.to_string();
        finite(&name, natural_value)?;
        let t = &self.specs[i].transform;
        let x = t.inverse(natural_value);
        let back = t.forward(x);
        let off = (back - natural_value).abs() > 1e-9 * (1.0 + natural_value.abs());
        if !x.is_finite() || off {
            let (lo, hi) = t.range();
            return Err(CovError::NotInRange {
                name,
                value: natural_value,
                transform: t.to_string(),
                range: if lo == hi {
                    format!("only {}", crate::typed::display::num(lo))
                } else {
                    format!(
                        "({}, {})",
                        crate::typed::display::num(lo),
                        crate::typed::display::num(hi)
                    )
                },
            });
        }
        Ok(x)
    }

    /// Frees the parameter `key` (or a subtree) again; defaults stay where
    /// they were fixed.
    pub fn unfix(&mut self, key: &str) -> Result<&mut Self, CovError> {
        for i in self.select(key)? {
            self.fixed[i] = false;
        }
        Ok(self)
    }

    /// Sets the default (free scale) of the parameter `key` (or a subtree).
    pub fn set_default(&mut self, key: &str, free_value: f64) -> Result<&mut Self, CovError> {
        let hits = self.select(key)?;
        finite(key, free_value)?;
        for i in hits {
            self.specs[i].default = free_value;
        }
        Ok(self)
    }

    /// Sets the transform of the parameter `key` (or a subtree).
    pub fn set_transform(&mut self, key: &str, t: Transform) -> Result<&mut Self, CovError> {
        for i in self.select(key)? {
            self.specs[i].transform = t.clone();
        }
        Ok(self)
    }

    /// Renames an operand by its path. `from` is either an outermost operand
    /// (`op_0`: `op_0/rho` becomes `time/rho`) or a nested one written as a
    /// path (`op_0/op_1`: `op_0/op_1/rho` becomes `op_0/y/rho`).
    ///
    /// ```
    /// use covreml::{ops::Kron, Covariance, Scalar, AR1};
    /// let mut k = Covariance::<Kron<Kron<AR1, Scalar>, Scalar>>::new(((2, 2), 3)).unwrap();
    /// k.rename_operand("op_0/op_1", "y").unwrap().rename_operand("op_0", "a").unwrap();
    /// assert_eq!(k.names(), ["a/op_0/sigma^2", "a/op_0/rho", "a/y/sigma^2", "op_1/sigma^2"]);
    /// ```
    pub fn rename_operand(&mut self, from: &str, to: &str) -> Result<&mut Self, CovError> {
        if to.is_empty() || to.contains('/') || to.chars().any(char::is_whitespace) {
            return Err(CovError::InvalidOperandName {
                name: to.to_owned(),
            });
        }
        let from = from.trim_end_matches('/');
        if from.contains('/') {
            let path: Vec<&str> = from.split('/').collect();
            let mut renamed = self.specs.clone();
            let mut any = false;
            for s in &mut renamed {
                any |= s.name.rename_at(&path, to);
            }
            if !any {
                return Err(CovError::UnknownOperand {
                    name: from.to_owned(),
                });
            }
            unique_names(&renamed)?;
            self.specs = renamed;
            return Ok(self);
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
    pub(crate) fn check_len<T: Real>(&self, free: &[T]) -> Result<(), CovError> {
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
    /// The full parameter vector (fixed ones included) on the free scale and
    /// on the natural scale, from the free parameters `free`.
    pub(crate) fn full_and_natural(&self, free: &[f64]) -> Result<(Vec<f64>, Vec<f64>), CovError> {
        let full = self.full_free(free)?;
        let theta = full
            .iter()
            .zip(&self.specs)
            .map(|(&x, s)| s.transform.forward(x))
            .collect();
        Ok((full, theta))
    }

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
}
