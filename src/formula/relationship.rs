//! Known relationship matrices of a grouping column: the numerator
//! relationship matrix `A` of a pedigree (through its sparse inverse
//! `A⁻¹`, built directly) or a given matrix such as a genomic relationship
//! matrix `G`. A random term grouped by that column, `(1 | animal)`, then
//! has `G = σ² A` (`Σ ⊗ A` for several coefficients) instead of `σ² I`, and
//! its levels are every id of the matrix — animals without records get
//! BLUPs too, through their relatives.
//!
//! ```
//! use covreml::data::Table;
//! use covreml::formula::{parse, BuildOptions, FormulaModel, ModelInputs, Relationship, Residual};
//! let ped = Table::parse("animal,sire,dam\n1,0,0\n2,0,0\n3,1,2\n4,1,2\n5,3,NA\n").unwrap();
//! let a = Relationship::from_pedigree_table(&ped, "ped.csv").unwrap();
//! assert_eq!(a.ids(), ["1", "2", "3", "4", "5"]);
//! let data = Table::parse("y,animal\n1.2,3\n0.7,4\n2.1,5\n1.5,5\n0.4,3\n").unwrap();
//! let inputs = ModelInputs::default().relationship("animal", a);
//! let m = FormulaModel::build_inputs(
//!     &parse("y ~ 1 + (1 | animal)").unwrap(), &Residual::Iid, &data,
//!     &BuildOptions::default(), &inputs,
//! ).unwrap();
//! // the founders 1 and 2 have no record but are levels of the term
//! assert_eq!(m.terms()[0].levels, ["1", "2", "3", "4", "5"]);
//! ```

use super::error::FormulaError;
use crate::data::{Incidence, Table};
use crate::pedigree::Pedigree;
use crate::structures::InverseData;
use nalgebra::DMatrix;
use std::collections::HashMap;
use std::sync::Arc;

/// Where a relationship matrix comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelationshipKind {
    /// The numerator relationship matrix `A` of a pedigree.
    Pedigree,
    /// A matrix given as a file (a genomic relationship matrix, say).
    Matrix,
}

/// A known relationship matrix between the levels of a grouping column,
/// held as its inverse (see the module docs).
#[derive(Clone, Debug)]
pub struct Relationship {
    kind: RelationshipKind,
    ids: Vec<String>,
    index: HashMap<String, usize>,
    inverse: Arc<InverseData>,
    source: String,
}

impl Relationship {
    /// `A` of a pedigree: its sparse `A⁻¹` (Henderson's rules with
    /// inbreeding), the levels its ids in the pedigree's order (parents
    /// first). `source` names it in summaries (a file name).
    pub fn from_pedigree(p: &Pedigree, source: &str) -> Result<Self, FormulaError> {
        let inverse =
            p.a_inverse()
                .into_inverse_data()
                .map_err(|e| FormulaError::Relationship {
                    column: source.to_string(),
                    reason: e.to_string(),
                })?;
        Ok(Self::new(
            RelationshipKind::Pedigree,
            p.ids().to_vec(),
            inverse,
            source,
        ))
    }

    /// `A` of the pedigree in a table whose first three columns are the
    /// animal, its sire and its dam (any names; unknown parents as `0`,
    /// `NA`, `.` or empty; any row order; parents not listed as animals are
    /// added as founders).
    pub fn from_pedigree_table(table: &Table, source: &str) -> Result<Self, FormulaError> {
        let fail = |reason: String| FormulaError::Relationship {
            column: source.to_string(),
            reason,
        };
        let names = table.names();
        if names.len() < 3 {
            return Err(fail(format!(
                "a pedigree needs three columns (animal, sire, dam); the file has {}: {}",
                names.len(),
                names.join(", ")
            )));
        }
        let p = Pedigree::from_table(table, &names[0], &names[1], &names[2])
            .map_err(|e| fail(e.to_string()))?;
        Self::from_pedigree(&p, source)
    }

    /// A given symmetric positive-definite matrix (a genomic relationship
    /// matrix, say) between the levels `ids`: it is inverted once (`O(q³)`)
    /// so that the mixed-model equations take `A⁻¹`. Not symmetric, not
    /// positive definite (a GRM from fewer markers than individuals is
    /// singular: blend it with `A` or add a small value to its diagonal) or
    /// repeated ids are errors.
    pub fn from_matrix(
        ids: Vec<String>,
        a: &DMatrix<f64>,
        source: &str,
    ) -> Result<Self, FormulaError> {
        let fail = |reason: String| FormulaError::Relationship {
            column: source.to_string(),
            reason,
        };
        let q = ids.len();
        if a.shape() != (q, q) {
            return Err(fail(format!(
                "{} × {} matrix for {q} ids",
                a.nrows(),
                a.ncols()
            )));
        }
        for i in 0..q {
            for j in 0..i {
                let (x, y) = (a[(i, j)], a[(j, i)]);
                if !x.is_finite() || (x - y).abs() > 1e-8 * (1.0 + x.abs().max(y.abs())) {
                    return Err(fail(format!(
                        "not symmetric: entry ({}, {}) is {x}, entry ({}, {}) is {y}",
                        ids[i], ids[j], ids[j], ids[i]
                    )));
                }
            }
        }
        let sym = DMatrix::from_fn(q, q, |i, j| 0.5 * (a[(i, j)] + a[(j, i)]));
        let chol = sym.clone().cholesky().ok_or_else(|| {
            fail("not positive definite (a genomic relationship matrix from fewer markers than individuals is singular: blend it with the pedigree A or add a small value to its diagonal)".into())
        })?;
        let inv = chol.inverse();
        let (mut col_ptr, mut row_idx, mut values) = (vec![0], Vec::new(), Vec::new());
        for j in 0..q {
            for i in j..q {
                row_idx.push(i);
                values.push(0.5 * (inv[(i, j)] + inv[(j, i)]));
            }
            col_ptr.push(row_idx.len());
        }
        let inverse =
            InverseData::new(q, col_ptr, row_idx, values).map_err(|e| fail(e.to_string()))?;
        let mut seen = HashMap::new();
        for (i, id) in ids.iter().enumerate() {
            if let Some(j) = seen.insert(id.clone(), i) {
                return Err(fail(format!(
                    "the id `{id}` appears twice (rows {} and {})",
                    j + 1,
                    i + 1
                )));
            }
        }
        Ok(Self::new(RelationshipKind::Matrix, ids, inverse, source))
    }

    /// A matrix from a table: a square CSV whose first column holds the ids
    /// and whose other column names are the same ids in the same order
    /// (`id,a,b,c` then `a,1,0.5,0` …), as R's
    /// `write.csv(G)` writes it.
    pub fn from_matrix_table(table: &Table, source: &str) -> Result<Self, FormulaError> {
        let fail = |reason: String| FormulaError::Relationship {
            column: source.to_string(),
            reason,
        };
        let names = table.names();
        let q = table.n_rows();
        if names.len() != q + 1 {
            return Err(fail(format!(
                "a square matrix needs the id column and one column per id: {q} rows but {} columns",
                names.len()
            )));
        }
        let ids: Vec<String> = table
            .column(&names[0])?
            .iter()
            .map(|s| s.trim().to_string())
            .collect();
        for (k, (id, col)) in ids.iter().zip(&names[1..]).enumerate() {
            if id != col.trim() {
                return Err(fail(format!(
                    "row {} is `{id}` but column {} is `{col}`: the rows and columns must list the ids in the same order",
                    k + 1,
                    k + 2
                )));
            }
        }
        let mut a = DMatrix::zeros(q, q);
        for (j, name) in names[1..].iter().enumerate() {
            let col = table.numeric(name)?;
            for (i, v) in col.into_iter().enumerate() {
                a[(i, j)] = v;
            }
        }
        Self::from_matrix(ids, &a, source)
    }

    fn new(
        kind: RelationshipKind,
        ids: Vec<String>,
        inverse: Arc<InverseData>,
        source: &str,
    ) -> Self {
        let index = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.trim().to_string(), i))
            .collect();
        Relationship {
            kind,
            ids,
            index,
            inverse,
            source: source.to_string(),
        }
    }

    /// The ids, in the order of the matrix (and of the term's levels).
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// Where the matrix comes from.
    pub fn kind(&self) -> RelationshipKind {
        self.kind
    }

    /// `A⁻¹`, as the data of a [`FixedInverse`](crate::structures::FixedInverse).
    pub(crate) fn inverse(&self) -> Arc<InverseData> {
        Arc::clone(&self.inverse)
    }

    /// The name given when it was made (a file name).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// One line naming the matrix: `pedigree A (ped.csv, 212 animals)`.
    pub fn describe(&self) -> String {
        let what = match self.kind {
            RelationshipKind::Pedigree => "pedigree A",
            RelationshipKind::Matrix => "relationship matrix",
        };
        format!("{what} ({}, {} ids)", self.source, self.ids.len())
    }

    /// The design of the rows whose ids are `values` (of column `column`):
    /// one column per id of the matrix; an id of the data that the matrix
    /// does not have is an error naming it.
    pub(crate) fn incidence(
        &self,
        values: &[String],
        column: &str,
    ) -> Result<Incidence, FormulaError> {
        let levels = values
            .iter()
            .map(|v| {
                self.index
                    .get(v.trim())
                    .copied()
                    .ok_or_else(|| FormulaError::Relationship {
                        column: column.to_string(),
                        reason: format!(
                            "the level `{v}` of the data is not in {}",
                            self.describe()
                        ),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Incidence::with_names(levels, self.ids.clone())?)
    }
}
