//! Parameter bookkeeping: fixing and freeing, defaults, transforms, operand
//! names, and the free ↔ full ↔ natural parameter vectors.

use super::{finite, unique_names, Covariance};
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
        let t = &self.specs[i].transform;
        let x = t.inverse(natural_value);
        let back = t.forward(x);
        if x.is_finite() && (back - natural_value).abs() > 1e-9 * (1.0 + natural_value.abs()) {
            return Err(CovError::NotInRange {
                name: name.to_owned(),
                value: natural_value,
                transform: t.to_string(),
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

    pub(crate) fn check_len<T>(&self, free: &[T]) -> Result<(), CovError> {
        let expected = self.n_free();
        if free.len() != expected {
            return Err(CovError::WrongParamCount {
                expected,
                got: free.len(),
                names: self.free_names().join(", "),
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
        if let Some(unknown) = map.keys().find(|k| !free.contains(k)) {
            return Err(CovError::UnknownParam {
                name: unknown.clone(),
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
