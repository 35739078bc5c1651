//! A sparse random-effect design stored by rows, and the design of random
//! slopes: an intercept and covariates per level of a grouping factor.

use super::{DataError, Incidence};
use nalgebra::DMatrix;

/// An `n × q` design matrix stored by rows (compressed sparse rows), for
/// random terms whose rows have a few nonzeros (random slopes).
///
/// ```
/// use covreml::data::{Incidence, SparseDesign};
/// // Two subjects; each row gets an intercept and a slope (days) for its subject.
/// let g = Incidence::new(vec![0, 0, 1], 2).unwrap();
/// let z = SparseDesign::random_slopes(&g, true, &[("Days", &[0.0, 1.0, 2.0])]).unwrap();
/// assert_eq!(z.dims(), (3, 4));
/// // Columns: (Intercept) of subjects 0 and 1, then Days of subjects 0 and 1.
/// assert_eq!(z.names(), ["(Intercept):0", "(Intercept):1", "Days:0", "Days:1"]);
/// assert_eq!(z.to_dense()[(2, 3)], 2.0);
/// assert_eq!(z.to_dense()[(2, 1)], 1.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SparseDesign {
    n_cols: usize,
    row_ptr: Vec<usize>,
    col: Vec<usize>,
    val: Vec<f64>,
    names: Vec<String>,
    /// The grouping factor and the coefficient names of a design built per
    /// level of a factor ([`random_slopes`](Self::random_slopes)): column
    /// `a·q + l` is coefficient `a` on level `l`. `None` for a design given
    /// by its rows.
    grouping: Option<(Incidence, Vec<String>)>,
}

/// The column of coefficient `a` on level `l` (of `q`) in a random term's
/// coefficient-major design (`G = Σ ⊗ I_q`): `a·q + l`. The one place this
/// layout is written; the BLUPs of a term come in the same order.
pub(crate) fn coefficient_column(a: usize, l: usize, q: usize) -> usize {
    a * q + l
}

impl SparseDesign {
    /// From rows of `(column, value)` pairs, columns increasing within a row.
    pub fn from_rows(
        n_cols: usize,
        rows: &[Vec<(usize, f64)>],
        names: Vec<String>,
    ) -> Result<Self, DataError> {
        if names.len() != n_cols {
            return Err(DataError::InvalidDesign {
                reason: format!("{} column names for {n_cols} columns", names.len()),
            });
        }
        let mut row_ptr = vec![0];
        let (mut col, mut val) = (Vec::new(), Vec::new());
        for (r, row) in rows.iter().enumerate() {
            for (k, &(c, v)) in row.iter().enumerate() {
                if c >= n_cols || (k > 0 && row[k - 1].0 >= c) {
                    return Err(DataError::InvalidDesign {
                        reason: format!(
                            "row {}: column {c} out of range (q = {n_cols}) or not increasing",
                            r + 1
                        ),
                    });
                }
                if !v.is_finite() {
                    return Err(DataError::InvalidDesign {
                        reason: format!("row {}: non-finite value {v:e} in column {c}", r + 1),
                    });
                }
                col.push(c);
                val.push(v);
            }
            row_ptr.push(col.len());
        }
        Ok(SparseDesign {
            n_cols,
            row_ptr,
            col,
            val,
            names,
            grouping: None,
        })
    }

    /// The design of a random term with an intercept (if `intercept`) and a
    /// slope for each covariate, per level of `groups`: `k` coefficients
    /// (intercept first) times `q` levels, **coefficient-major**: column
    /// `a·q + l` is coefficient `a` of level `l`. This is the order of
    /// `Kron<Unconstrained, Identity>` with the `k × k` unstructured
    /// covariance of the coefficients first, so
    /// `G = Σ_coefficients ⊗ I_q` (lme4's `(1 + x | g)`).
    pub fn random_slopes(
        groups: &Incidence,
        intercept: bool,
        covariates: &[(&str, &[f64])],
    ) -> Result<Self, DataError> {
        let mut coefs: Vec<(&str, Option<&[f64]>)> = Vec::new();
        if intercept {
            coefs.push(("(Intercept)", None));
        }
        coefs.extend(covariates.iter().map(|(s, c)| (*s, Some(*c))));
        Self::coefficients(groups.clone(), &coefs)
    }

    /// The coefficient-major design of a random term with the coefficients
    /// `coefs` in the order given, each a name and its values (`None`: an
    /// intercept, 1 on every row), per level of `groups`: column `a·q + l`
    /// holds coefficient `a`'s value on the rows of level `l`, and is named
    /// `coefficient:level`. Zero values are not stored (a categorical
    /// coefficient's indicator is zero off its level). [`random_slopes`](Self::random_slopes) with the
    /// intercept first; the formula layer's `(1 + x | g)`.
    pub(crate) fn coefficients(
        groups: Incidence,
        coefs: &[(&str, Option<&[f64]>)],
    ) -> Result<Self, DataError> {
        let n = groups.len();
        let q = groups.n_levels();
        if let Some((name, c)) = coefs
            .iter()
            .find_map(|(name, c)| c.filter(|c| c.len() != n).map(|c| (name, c)))
        {
            return Err(DataError::InvalidDesign {
                reason: format!("covariate `{name}` has {} values for {n} rows", c.len()),
            });
        }
        if coefs.is_empty() {
            return Err(DataError::InvalidDesign {
                reason: "a random term needs an intercept or a covariate".into(),
            });
        }
        let coefficients: Vec<String> = coefs.iter().map(|(c, _)| c.to_string()).collect();
        let names = coefficients
            .iter()
            .flat_map(|c| groups.level_names().iter().map(move |l| format!("{c}:{l}")))
            .collect();
        // Compressed rows written directly: row `i` holds, for each
        // coefficient `a` in order (so columns increase), `(a·q + l, value)`
        // with `l` the level of row `i`, zeros left out.
        let mut row_ptr = Vec::with_capacity(n + 1);
        row_ptr.push(0);
        let (mut col, mut val) = (Vec::new(), Vec::new());
        for (i, &l) in groups.levels().iter().enumerate() {
            for (a, (_, c)) in coefs.iter().enumerate() {
                let x = c.map_or(1.0, |c| c[i]);
                if x == 0.0 {
                    continue;
                }
                if !x.is_finite() {
                    return Err(DataError::InvalidDesign {
                        reason: format!(
                            "row {}: non-finite value {x:e} in column {}",
                            i + 1,
                            coefficient_column(a, l, q)
                        ),
                    });
                }
                col.push(coefficient_column(a, l, q));
                val.push(x);
            }
            row_ptr.push(col.len());
        }
        Ok(SparseDesign {
            n_cols: coefs.len() * q,
            row_ptr,
            col,
            val,
            names,
            grouping: Some((groups, coefficients)),
        })
    }

    /// The grouping factor of a design built per level of a factor
    /// ([`random_slopes`](Self::random_slopes)), `None` for one given by
    /// its rows ([`from_rows`](Self::from_rows)).
    ///
    /// ```
    /// use covreml::data::{Incidence, SparseDesign};
    /// let g = Incidence::new(vec![0, 0, 1], 2).unwrap();
    /// let z = SparseDesign::random_slopes(&g, true, &[("Days", &[0.0, 1.0, 2.0])]).unwrap();
    /// assert_eq!(z.factor(), Some(&g));
    /// assert_eq!(z.coefficient_names(), ["(Intercept)", "Days"]);
    /// ```
    pub fn factor(&self) -> Option<&Incidence> {
        self.grouping.as_ref().map(|(f, _)| f)
    }

    /// The coefficient names of a design built per level of a factor
    /// (intercept first), empty for one given by its rows.
    pub fn coefficient_names(&self) -> &[String] {
        self.grouping.as_ref().map_or(&[], |(_, c)| c.as_slice())
    }

    /// `(rows, columns)`.
    pub fn dims(&self) -> (usize, usize) {
        (self.row_ptr.len() - 1, self.n_cols)
    }

    /// Column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Columns and values of row `i`.
    pub fn row(&self, i: usize) -> (&[usize], &[f64]) {
        let r = self.row_ptr[i]..self.row_ptr[i + 1];
        (&self.col[r.clone()], &self.val[r])
    }

    /// The dense matrix.
    pub fn to_dense(&self) -> DMatrix<f64> {
        let (n, q) = self.dims();
        let mut m = DMatrix::zeros(n, q);
        for i in 0..n {
            let (c, v) = self.row(i);
            for (&c, &v) in c.iter().zip(v) {
                m[(i, c)] = v;
            }
        }
        m
    }
}
