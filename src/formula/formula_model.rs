//! A formula plus a table builds a [`FormulaModel`]: the
//! [`MixedModel`] with its fixed-effect columns named as lme4 names them,
//! and what prediction and reports need (levels, coefficient recipes). The
//! rows used are chosen in `rows.rs`, the columns of `X` built in
//! `fixed_part.rs`, each random term in `random_part.rs`; predictions are in
//! `predict.rs`.
//!
//! Random terms: `(1 | g)` is an indicator design with `G = σ² I_q`;
//! a term with `k ≥ 2` coefficients, `(1 + x | g)`, has
//! `G = Σ ⊗ I_q` (`Kron<Unconstrained, Identity>`, `Σ` the `k × k`
//! covariance of the coefficients) and a dense design whose columns are
//! **coefficient-major**: column `a·q + l` holds coefficient `a` (the
//! intercept first, then the slopes in formula order) for level `l`. The
//! BLUPs of the term follow the same order.

use super::ast::{Formula, TermStructure, Var};
use super::columns;
use super::components;
use super::components::VarianceComponent;
use super::error::FormulaError;
use super::fixed_part::{self, FixedColumn};
use super::parser::parse;
use super::random_part::{self, CoefColumn};
use super::relationship::Relationship;
use super::residual::{Residual, SpatialKernel};
use super::rows;
use super::spatial_field::{Field, SpatialField};
use super::terms::{terms, Coef, ExpandedFormula};
use super::transform::Recipes;
use super::weighted::{InverseWeights, Weighted};
use crate::data::{NaAction, Table};
use crate::reml::{Aliased, FixedEffects, Iteration, MixedModel, RemlError, RemlFit, RemlOptions};
use crate::structures::grouped::{
    GroupedTimes, Levels, RepeatedAR1, RepeatedCS, RepeatedUnstructured, VarIdent, ARH, CAR1, CSH,
};
use crate::structures::spatial::{
    AR1xAR1, Coordinates, Exponential, Gaussian, Grid, Isotropic, Spherical,
};
use crate::{Covariance, CovarianceModel, Scalar};
use nalgebra::DMatrix;
use std::collections::HashMap;

/// A random term of a formula model.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomTermInfo {
    /// The term's name (the grouping columns joined by `:`, with `.1`, `.2`
    /// appended when several terms share a grouping, as lme4 does).
    pub name: String,
    /// The grouping columns.
    pub group: Vec<String>,
    /// The level names (the grouping columns' values joined by `⋈`), in
    /// the order of the design's columns.
    pub levels: Vec<String>,
    /// The coefficients: `(Intercept)`, slope names, and one per level of
    /// a categorical column (`MachineA`, …).
    pub coefficients: Vec<String>,
    /// The covariance structure of the coefficients (`Us` for a plain term).
    pub structure: TermStructure,
    /// The known relationship matrix of the levels, described
    /// (`pedigree A (ped.csv, 212 ids)`), if the grouping column has one.
    pub relationship: Option<String>,
    /// Where that matrix comes from, and its source (the file given to
    /// `--pedigree` or `--grm`), if the grouping column has one.
    pub relationship_source: Option<(super::RelationshipKind, String)>,
    /// How each coefficient is computed from a row.
    pub(super) slopes: Vec<CoefColumn>,
    pub(super) group_vars: Vec<Var>,
}

/// A mixed model built from an lme4-style formula.
///
/// ```
/// use covreml::data::Table;
/// use covreml::datasets::john_alpha;
/// use covreml::formula::FormulaModel;
/// use covreml::reml::RemlOptions;
/// let m = FormulaModel::new("yield ~ rep + (1|gen) + (1|rep:block)", &john_alpha()).unwrap();
/// assert_eq!(m.fixed_names(), ["(Intercept)", "repR2", "repR3"]);
/// let fit = m.fit(&RemlOptions::default().tolerance(1e-8)).unwrap();
/// // lme4: σ²_gen = 0.14290, σ²_block = 0.07022, σ²_e = 0.08162 (tests/data/fits.json)
/// assert!((fit.natural("gen/sigma^2").unwrap() - 0.14290).abs() < 1e-4);
/// assert_eq!(m.terms()[1].levels.len(), 18);
/// ```
pub struct FormulaModel {
    pub(super) formula: Formula,
    pub(super) residual: Residual,
    pub(super) response: String,
    pub(super) fixed: Vec<FixedColumn>,
    /// Training levels of the categorical fixed-effect columns.
    pub(super) fixed_levels: HashMap<String, Vec<String>>,
    pub(super) terms: Vec<RandomTermInfo>,
    /// The levels of a `diag(f)` residual, the times of a `us`, `arh` or `csh` one.
    pub(super) residual_levels: Option<Vec<String>>,
    pub(super) n: usize,
    /// File lines of the rows dropped for a missing value.
    pub(super) dropped_lines: Vec<usize>,
    /// A fingerprint of the data fitted: the response values and the file
    /// lines of the rows used.
    pub(super) data_key: u64,
    /// The numbers `scale(…)` and `poly(…)` were built with.
    pub(super) recipes: Recipes,
    /// Wall-clock seconds spent building the model.
    pub(super) build_seconds: f64,
    /// The column of prior weights, if any.
    pub(super) weights: Option<String>,
    /// The smallest and largest distance between two positions of one
    /// field, for a spherical residual without a nugget: the range a fit
    /// without an explicit start scans (see [`FormulaModel::fit_with`]).
    pub(super) range_scan: Option<(f64, f64)>,
    pub(super) model: MixedModel,
}

/// How a formula model is built from a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuildOptions {
    /// Fixed-effect columns that are linear combinations of the ones before
    /// them: an error (the default) or dropped.
    pub aliased: Aliased,
    /// Rows with a missing value in a column the model uses: dropped (the
    /// default, R's `na.omit`) or an error naming the first missing cell.
    pub na: NaAction,
}

/// What a model takes besides the formula, the residual, the table and
/// the [`BuildOptions`]: known relationship matrices of grouping columns
/// (`--pedigree`, `--grm`) and a column of prior weights (`--weights`).
///
/// ```
/// use covreml::data::Table;
/// use covreml::formula::{parse, BuildOptions, FormulaModel, ModelInputs, Residual};
/// let t = Table::parse("y,x,w\n1.2,1,1\n2.1,2,2\n2.9,3,1\n4.4,4,2\n4.8,5,1\n").unwrap();
/// let inputs = ModelInputs::default().weights("w");
/// let m = FormulaModel::build_inputs(&parse("y ~ x").unwrap(), &Residual::Iid, &t, &BuildOptions::default(), &inputs).unwrap();
/// assert_eq!(m.weights(), Some("w"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ModelInputs {
    /// Grouping columns with a known relationship matrix between their
    /// levels.
    pub relationships: Vec<(String, Relationship)>,
    /// The column of prior weights: the residual variance of row `i` is
    /// `σ²/w_i` (lme4's `weights`); iid residual only.
    pub weights: Option<String>,
}

impl ModelInputs {
    /// Adds a known relationship matrix for grouping column `column`.
    pub fn relationship(mut self, column: &str, r: Relationship) -> Self {
        self.relationships.push((column.to_string(), r));
        self
    }
    /// Sets the column of prior weights.
    pub fn weights(mut self, column: &str) -> Self {
        self.weights = Some(column.to_string());
        self
    }
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            aliased: Aliased::Error,
            na: NaAction::Omit,
        }
    }
}

impl std::fmt::Debug for FormulaModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormulaModel")
            .field("formula", &self.formula.text)
            .field("residual", &self.residual)
            .field("model", &self.model)
            .finish()
    }
}

impl FormulaModel {
    /// Builds the model of `formula` on `table` with an iid residual.
    pub fn new(formula: &str, table: &Table) -> Result<Self, FormulaError> {
        Self::build(&parse(formula)?, &Residual::Iid, table)
    }

    /// Builds the model of `formula` on `table` with the residual keyword
    /// `residual` (see [`Residual::parse`]).
    pub fn with_residual(
        formula: &str,
        residual: &str,
        table: &Table,
    ) -> Result<Self, FormulaError> {
        Self::build(&parse(formula)?, &Residual::parse(residual)?, table)
    }

    /// Builds the model of a parsed formula; aliased fixed-effect columns
    /// are an error ([`build_with`](Self::build_with) can drop them).
    pub fn build(
        formula: &Formula,
        residual: &Residual,
        table: &Table,
    ) -> Result<Self, FormulaError> {
        Self::build_with(formula, residual, table, Aliased::Error)
    }

    /// Builds the model of a parsed formula with a policy for fixed-effect
    /// columns that are linear combinations of the columns before them:
    /// [`Aliased::Drop`] drops them as lme4 does, and the fit's warnings
    /// name them.
    ///
    /// ```
    /// use covreml::data::Table;
    /// use covreml::formula::{parse, FormulaModel, Residual};
    /// use covreml::reml::{Aliased, RemlOptions};
    /// // `z` = 2·`x`: aliased.
    /// let t = Table::parse("y,x,z,g\n1.2,1,2,a\n2.1,2,4,a\n2.9,3,6,b\n4.4,4,8,b\n5.1,5,10,c\n5.8,6,12,c\n").unwrap();
    /// let f = parse("y ~ x + z + (1 | g)").unwrap();
    /// assert!(FormulaModel::build(&f, &Residual::Iid, &t).is_err());
    /// let m = FormulaModel::build_with(&f, &Residual::Iid, &t, Aliased::Drop).unwrap();
    /// assert_eq!(m.fixed_names(), ["(Intercept)", "x"]);
    /// let fit = m.fit(&RemlOptions::default()).unwrap();
    /// assert!(fit.warnings[0].contains("`z`"));
    /// ```
    pub fn build_with(
        formula: &Formula,
        residual: &Residual,
        table: &Table,
        aliased: Aliased,
    ) -> Result<Self, FormulaError> {
        let opts = BuildOptions {
            aliased,
            ..BuildOptions::default()
        };
        Self::build_opts(formula, residual, table, &opts)
    }

    /// Builds the model of a parsed formula with the policies of `opts`:
    /// aliased fixed-effect columns, and rows with a missing value in a
    /// column the model uses (dropped by default, as lme4's `na.omit`;
    /// [`n_dropped`](Self::n_dropped) counts them).
    ///
    /// ```
    /// use covreml::data::{NaAction, Table};
    /// use covreml::formula::{parse, BuildOptions, FormulaModel, Residual};
    /// let t = Table::parse("y,x,g,note\n1.2,1,a,\n2.1,NA,a,\n2.9,3,b,\n4.4,4,b,\n5.1,5,,\n5.8,6,c,\n6.1,7,c,\n").unwrap();
    /// let f = parse("y ~ x + (1 | g)").unwrap();
    /// let m = FormulaModel::build_opts(&f, &Residual::Iid, &t, &BuildOptions::default()).unwrap();
    /// assert_eq!((m.n(), m.n_dropped()), (5, 2));
    /// assert_eq!(m.dropped_lines(), [3, 6]);
    /// let fail = BuildOptions { na: NaAction::Fail, ..BuildOptions::default() };
    /// let e = FormulaModel::build_opts(&f, &Residual::Iid, &t, &fail).unwrap_err();
    /// assert_eq!(e.to_string(), "column `x`, line 3: missing value (`NA`)");
    /// ```
    pub fn build_opts(
        formula: &Formula,
        residual: &Residual,
        table: &Table,
        opts: &BuildOptions,
    ) -> Result<Self, FormulaError> {
        Self::build_inputs(formula, residual, table, opts, &ModelInputs::default())
    }

    /// Builds the model of a parsed formula with the policies of `opts`
    /// and the known relationship matrices and prior weights of `inputs`
    /// (see [`ModelInputs`]). A random term grouped by one column with a
    /// relationship matrix has `G = σ² A` (`Σ ⊗ A`); rows with a missing
    /// weight are dropped with the other incomplete rows.
    pub fn build_inputs(
        formula: &Formula,
        residual: &Residual,
        table: &Table,
        opts: &BuildOptions,
        inputs: &ModelInputs,
    ) -> Result<Self, FormulaError> {
        let start = std::time::Instant::now();
        let text = formula.text.as_str();
        let ts = terms(formula)?;
        refuse_response_as_predictor(formula, &ts)?;
        let mut vars = rows::used_vars(&formula.response, &ts, residual);
        let weight_var = weight_column(table, inputs, &mut vars)?;
        check_relationships(&ts, inputs)?;
        let used = rows::complete(table, &vars, text, opts.na)?;
        let table = &used.table;
        let mut recipes = Recipes::default();
        let y = response(formula, table, &mut recipes)?;
        let data_key = data_key(&y, table.lines());
        let (mut fixed, fixed_levels) = fixed_part::fixed_columns(&ts, table, text, &mut recipes)?;
        let (r, residual_levels) = match &weight_var {
            None => residual_structure(residual, table)?,
            Some(w) => weighted_residual(residual, table, w)?,
        };
        let fe = fixed_effects(&fixed, table.n_rows()).aliased(opts.aliased);
        let model = MixedModel::new(&y, fe, r).map_err(rank_error)?;
        // Columns the policy dropped leave the fixed part too.
        let kept = model.fixed_names();
        fixed.retain(|(c, _)| kept.contains(&c.name));
        let (model, infos) = random_terms(model, &ts, table, text, &mut recipes, inputs)?;
        Ok(FormulaModel {
            formula: formula.clone(),
            residual: residual.clone(),
            response: formula.response.name.clone(),
            fixed: fixed.into_iter().map(|(c, _)| c).collect(),
            fixed_levels,
            terms: infos,
            residual_levels,
            n: table.n_rows(),
            dropped_lines: used.dropped_lines,
            data_key,
            recipes,
            build_seconds: start.elapsed().as_secs_f64(),
            weights: inputs.weights.clone(),
            range_scan: match residual {
                Residual::Spatial {
                    kernel: SpatialKernel::Spherical,
                    coords,
                    nugget: false,
                    group,
                } => distance_span(table, coords, group.as_ref())?,
                _ => None,
            },
            model,
        })
    }

    /// The column of prior weights, if the model has one.
    pub fn weights(&self) -> Option<&str> {
        self.weights.as_deref()
    }

    /// Wall-clock seconds spent building the model from the table (the
    /// fit's own time is [`RemlFit::seconds`]).
    pub fn build_seconds(&self) -> f64 {
        self.build_seconds
    }
    /// The formula text.
    pub fn formula(&self) -> &str {
        &self.formula.text
    }
    /// The residual structure.
    pub fn residual(&self) -> &Residual {
        &self.residual
    }
    /// The response column.
    pub fn response(&self) -> &str {
        &self.response
    }
    /// Number of observations used (after dropping incomplete rows).
    pub fn n(&self) -> usize {
        self.n
    }
    /// Number of rows dropped for a missing value in a column the model uses.
    pub fn n_dropped(&self) -> usize {
        self.dropped_lines.len()
    }
    /// The 1-based file lines of the rows dropped for a missing value.
    pub fn dropped_lines(&self) -> &[usize] {
        &self.dropped_lines
    }
    /// A fingerprint of the data the model fits (the response values and the
    /// file lines of the rows used): two models with the same key fit the
    /// same observations, as a likelihood-ratio test needs.
    pub fn data_key(&self) -> u64 {
        self.data_key
    }
    /// The fixed-effect names (lme4's: `(Intercept)`, `x`, `trtB`, `x:trtB`).
    pub fn fixed_names(&self) -> Vec<String> {
        self.fixed.iter().map(|c| c.name.clone()).collect()
    }
    /// The random terms, in the order of the model's parameters.
    pub fn terms(&self) -> &[RandomTermInfo] {
        &self.terms
    }
    /// The underlying mixed model.
    pub fn mixed(&self) -> &MixedModel {
        &self.model
    }
    /// Fits by AI-REML.
    pub fn fit(&self, opts: &RemlOptions) -> Result<RemlFit, RemlError> {
        self.fit_with(opts, |_| {})
    }
    /// Fits by AI-REML, calling `observer` after every iteration.
    ///
    /// A spherical residual without a nugget and without random terms
    /// (`sph(x + y)`, `sph(x + y | g)`; nlme's `gls` with `corSpher`), fitted
    /// without an explicit start, starts where the profile log-likelihood
    /// of the range is highest on a grid: the spherical correlation is 0
    /// beyond the range, so at nlme's start (90 % of the smallest distance)
    /// `V = σ²I` and the score of the range is 0 (the fit could not move),
    /// and the likelihood has many local maxima in the range (one more
    /// piece of `V` each time the range passes a distance between two
    /// plots). The grid: 64 ranges evenly spaced from just above the
    /// smallest distance to the largest, `σ²` profiled out at each (two
    /// log-likelihood evaluations: `ℓ(s) = a − ½ m log s − b/(2s)` in the
    /// scale `s`, `m = n − p` for REML, `n` for ML, maximal at `s = b/m`).
    pub fn fit_with(
        &self,
        opts: &RemlOptions,
        observer: impl FnMut(&Iteration),
    ) -> Result<RemlFit, RemlError> {
        if let (Some(span), None, true) = (self.range_scan, &opts.start, self.terms.is_empty()) {
            if let Some(start) = self.range_scan_start(span, opts)? {
                return self.model.fit_with(&opts.clone().start(start), observer);
            }
        }
        self.model.fit_with(opts, observer)
    }

    /// The start of [`fit_with`](Self::fit_with)'s range scan: `None` when
    /// the residual's parameters are not `sigma^2` and `range`.
    fn range_scan_start(
        &self,
        (dmin, dmax): (f64, f64),
        opts: &RemlOptions,
    ) -> Result<Option<Vec<f64>>, RemlError> {
        let p = self.model.params();
        let names: Vec<&str> = p.names.iter().map(String::as_str).collect();
        if names != ["residual/sigma^2", "residual/range"] || !(dmax > dmin && dmin > 0.0) {
            return Ok(None);
        }
        let (ts, tr) = (&p.transforms[0], &p.transforms[1]);
        let m = match opts.method {
            crate::reml::Method::Reml => self.n - self.model.fixed_names().len(),
            crate::reml::Method::Ml => self.n,
        } as f64;
        let ml = opts.method == crate::reml::Method::Ml;
        let ll = |s: f64, r: f64| -> Result<f64, RemlError> {
            let free = [ts.inverse(s), tr.inverse(r)];
            if ml {
                Ok(self.model.evaluate(&free, opts)?.loglik)
            } else {
                self.model.loglik(&free)
            }
        };
        const GRID: usize = 64;
        let mut best: Option<(f64, f64, f64)> = None;
        for k in 0..GRID {
            let r = dmin * 1.01 + (dmax - dmin * 1.01) * k as f64 / (GRID - 1) as f64;
            let (l1, l2) = match (ll(1.0, r), ll(2.0, r)) {
                (Ok(a), Ok(b)) if a.is_finite() && b.is_finite() => (a, b),
                _ => continue,
            };
            // ℓ(1) − ℓ(2) = ½ m log 2 − b/4.
            let b = 2.0 * m * std::f64::consts::LN_2 - 4.0 * (l1 - l2);
            if b.is_nan() || b <= 0.0 {
                continue;
            }
            let s = b / m;
            let profile = l1 + 0.5 * m * (s - 1.0 - s.ln());
            if best.is_none_or(|(_, _, l)| profile > l) {
                best = Some((s, r, profile));
            }
        }
        Ok(best.map(|(s, r, _)| vec![ts.inverse(s), tr.inverse(r)]))
    }

    /// The variances, covariances and correlation parameters of `fit` (a
    /// fit of this model), term by term as lme4's `VarCorr` lists them: for
    /// a term with several coefficients, the variances and covariances in
    /// row-major lower-triangle order; the residual last, with every one of
    /// its parameters (see [`VarianceComponent`]).
    pub fn variance_components(&self, fit: &RemlFit) -> Vec<VarianceComponent> {
        components::variance_components(
            &self.terms,
            &self.residual,
            self.residual_levels.as_deref(),
            fit,
        )
    }
}

pub(super) fn cov<S: crate::Structure>(
    c: Result<Covariance<S>, crate::CovError>,
    term: &str,
) -> Result<Covariance<S>, FormulaError> {
    c.map_err(|e| {
        FormulaError::Model(RemlError::StructureFailed {
            term: term.to_string(),
            source: e,
        })
    })
}

/// The column of prior weights of `inputs` as a variable (added to the
/// variables `vars` whose missing values drop rows), checked to exist.
fn weight_column(
    table: &Table,
    inputs: &ModelInputs,
    vars: &mut Vec<Var>,
) -> Result<Option<Var>, FormulaError> {
    let Some(name) = &inputs.weights else {
        return Ok(None);
    };
    let w = Var {
        name: name.clone(),
        span: super::error::Span::default(),
        as_factor: false,
        expr: None,
    };
    if table.column(&w.name).is_err() {
        return Err(FormulaError::Weights {
            column: w.name.clone(),
            reason: format!(
                "no such column; the columns are: {}",
                table.names().join(", ")
            ),
        });
    }
    if !vars.iter().any(|v| v.name == w.name) {
        vars.push(w.clone());
    }
    Ok(Some(w))
}

/// Errors unless every relationship matrix of `inputs` is used by a random
/// term grouped by its column alone.
fn check_relationships(ts: &ExpandedFormula, inputs: &ModelInputs) -> Result<(), FormulaError> {
    for (column, _) in &inputs.relationships {
        let used = ts
            .random
            .iter()
            .any(|r| r.group.len() == 1 && r.group[0].name == *column);
        if !used {
            return Err(FormulaError::Relationship {
                column: column.clone(),
                reason: format!(
                    "no random term of the formula is grouped by `{column}` alone (write `(1 | {column})`)"
                ),
            });
        }
    }
    Ok(())
}

/// The response of `formula` on the complete rows `table`; a constant
/// response is an error.
fn response(
    formula: &Formula,
    table: &Table,
    recipes: &mut Recipes,
) -> Result<Vec<f64>, FormulaError> {
    let y = columns::numbers(
        table,
        &formula.response,
        &formula.text,
        "it is the response",
        recipes,
    )?;
    if y.iter().all(|&v| v == y[0]) {
        return Err(FormulaError::ConstantResponse {
            name: formula.response.name.clone(),
            value: y[0],
        });
    }
    Ok(y)
}

/// `X` of the fixed columns (`n` rows), named.
fn fixed_effects(fixed: &[(FixedColumn, Vec<f64>)], n: usize) -> FixedEffects {
    let x = DMatrix::from_fn(n, fixed.len(), |i, j| fixed[j].1[i]);
    let names: Vec<&str> = fixed.iter().map(|(c, _)| c.name.as_str()).collect();
    FixedEffects::new(x).named(&names)
}

/// Adds the random terms of `ts` to `model`, with what the formula layer
/// keeps of each.
fn random_terms(
    mut model: MixedModel,
    ts: &ExpandedFormula,
    table: &Table,
    text: &str,
    recipes: &mut Recipes,
    inputs: &ModelInputs,
) -> Result<(MixedModel, Vec<RandomTermInfo>), FormulaError> {
    let mut infos: Vec<RandomTermInfo> = Vec::new();
    for spec in &ts.random {
        let (z, g, info) =
            random_part::random_term(spec, table, text, recipes, &infos, &inputs.relationships)?;
        model = model.random(&info.name, z, g)?;
        infos.push(info);
    }
    Ok((model, infos))
}

/// A residual covariance, and the levels or times that name its parameters.
type ResidualPart = (Box<dyn CovarianceModel>, Option<Vec<String>>);

/// The residual covariance of `residual` on `table`, and the levels of a
/// `diag(f)` residual or the times of a `us`, `arh` or `csh` one.
fn residual_structure(residual: &Residual, table: &Table) -> Result<ResidualPart, FormulaError> {
    let n = table.n_rows();
    Ok(match residual {
        Residual::Iid => (residual_cov(Covariance::<Scalar>::new(n))?, None),
        Residual::Diag(v) => {
            let shape = Levels::new(columns::text(table, v, "")?)?;
            let levels = shape.names().to_vec();
            (
                residual_cov(Covariance::<VarIdent>::new(shape))?,
                Some(levels),
            )
        }
        Residual::Ar1 { time, group } => {
            let shape = GroupedTimes::from_columns(table, &group.name, &time.name)?;
            (residual_cov(Covariance::<RepeatedAR1>::new(shape))?, None)
        }
        Residual::Car1 { time, group } => {
            let shape = GroupedTimes::from_columns(table, &group.name, &time.name)?;
            (residual_cov(Covariance::<CAR1>::new(shape))?, None)
        }
        Residual::Us { time, group } => {
            let shape = GroupedTimes::from_columns(table, &group.name, &time.name)?;
            let times = shape.level_labels();
            (
                residual_cov(Covariance::<RepeatedUnstructured>::new(shape))?,
                Some(times),
            )
        }
        Residual::Ar1Ar1 { row, col } => {
            let grid = Grid::new(&table.numeric(&row.name)?, &table.numeric(&col.name)?)?;
            (residual_cov(Covariance::<AR1xAR1>::new(grid))?, None)
        }
        Residual::Spatial {
            kernel,
            coords,
            nugget: true,
            group: None,
        } => (spatial(table, *kernel, coords)?, None),
        Residual::Spatial {
            kernel,
            coords,
            nugget,
            group,
        } => (
            spatial_field(table, *kernel, coords, *nugget, group.as_ref())?,
            None,
        ),
        Residual::Arh { time, group } => heterogeneous::<ARH>(table, time, group)?,
        Residual::Csh { time, group } => heterogeneous::<CSH>(table, time, group)?,
        Residual::Cs { group } => {
            // Compound symmetry ignores the times: every row at time 0.
            let groups = table.column(&group.name)?;
            let shape =
                GroupedTimes::new(groups, &vec![0.0; groups.len()])?.with_lines(table.lines());
            (residual_cov(Covariance::<RepeatedCS>::new(shape))?, None)
        }
    })
}

/// A residual covariance, boxed, its failure named `residual`.
fn residual_cov<S>(
    c: Result<Covariance<S>, crate::CovError>,
) -> Result<Box<dyn CovarianceModel>, FormulaError>
where
    S: crate::Structure + 'static,
    Covariance<S>: CovarianceModel,
{
    Ok(Box::new(cov(c, "residual")?))
}

/// A residual with a variance per time level (`arh`, `csh`): the structure
/// `S` over the times `time` within the groups `group`, and the time labels.
fn heterogeneous<S>(table: &Table, time: &Var, group: &Var) -> Result<ResidualPart, FormulaError>
where
    S: crate::Structure<Shape = GroupedTimes> + 'static,
    Covariance<S>: CovarianceModel,
{
    let shape = GroupedTimes::from_columns(table, &group.name, &time.name)?;
    let times = shape.level_labels();
    Ok((
        Box::new(cov(Covariance::<S>::new(shape), "residual")?) as Box<dyn CovarianceModel>,
        Some(times),
    ))
}

/// An isotropic spatial residual with a nugget over the coordinate columns.
fn spatial(
    table: &Table,
    kernel: SpatialKernel,
    coords: &[Var],
) -> Result<Box<dyn CovarianceModel>, FormulaError> {
    let axes = coords
        .iter()
        .map(|v| table.numeric(&v.name))
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&[f64]> = axes.iter().map(Vec::as_slice).collect();
    let xy = Coordinates::new(&refs)?;
    Ok(match kernel {
        SpatialKernel::Exponential => Box::new(cov(
            Covariance::<Isotropic<Exponential>>::new(xy),
            "residual",
        )?),
        SpatialKernel::Gaussian => {
            Box::new(cov(Covariance::<Isotropic<Gaussian>>::new(xy), "residual")?)
        }
        SpatialKernel::Spherical => Box::new(cov(
            Covariance::<Isotropic<Spherical>>::new(xy),
            "residual",
        )?),
    })
}

/// The smallest and largest distance between two distinct positions of
/// one field (within a level of `group`); `None` without two.
fn distance_span(
    table: &Table,
    coords: &[Var],
    group: Option<&Var>,
) -> Result<Option<(f64, f64)>, FormulaError> {
    let axes = coords
        .iter()
        .map(|v| table.numeric(&v.name))
        .collect::<Result<Vec<_>, _>>()?;
    let groups = match group {
        Some(g) => crate::data::level_codes(table.column(&g.name)?).0,
        None => vec![0; table.n_rows()],
    };
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for i in 0..groups.len() {
        for j in 0..i {
            if groups[i] != groups[j] {
                continue;
            }
            let d = axes
                .iter()
                .map(|a| (a[i] - a[j]).powi(2))
                .sum::<f64>()
                .sqrt();
            if d > 0.0 {
                lo = lo.min(d);
                hi = hi.max(d);
            }
        }
    }
    Ok(lo.is_finite().then_some((lo, hi)))
}

/// Independent isotropic fields per level of `group` (one field without
/// it), with or without a nugget.
fn spatial_field(
    table: &Table,
    kernel: SpatialKernel,
    coords: &[Var],
    nugget: bool,
    group: Option<&Var>,
) -> Result<Box<dyn CovarianceModel>, FormulaError> {
    let axes = coords
        .iter()
        .map(|v| table.numeric(&v.name))
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&[f64]> = axes.iter().map(Vec::as_slice).collect();
    let groups = match group {
        Some(g) => crate::data::level_codes(table.column(&g.name)?).0,
        None => vec![0; table.n_rows()],
    };
    let field = Field {
        coords: Coordinates::new(&refs)?,
        groups,
        nugget,
    };
    Ok(match kernel {
        SpatialKernel::Exponential => Box::new(cov(
            Covariance::<SpatialField<Exponential>>::new(field),
            "residual",
        )?),
        SpatialKernel::Gaussian => Box::new(cov(
            Covariance::<SpatialField<Gaussian>>::new(field),
            "residual",
        )?),
        SpatialKernel::Spherical => Box::new(cov(
            Covariance::<SpatialField<Spherical>>::new(field),
            "residual",
        )?),
    })
}

/// The residual `σ² diag(1/w)` of prior weights `w` (column `w`): with the
/// iid residual only; weights must be positive finite numbers.
fn weighted_residual(
    residual: &Residual,
    table: &Table,
    w: &Var,
) -> Result<ResidualPart, FormulaError> {
    let fail = |reason: String| FormulaError::Weights {
        column: w.name.clone(),
        reason,
    };
    if *residual != Residual::Iid {
        return Err(fail(format!(
            "prior weights work with the iid residual only (as lme4's `weights`), not with `{residual}`"
        )));
    }
    let text = table.column(&w.name)?;
    let mut inv = Vec::with_capacity(text.len());
    for (s, &line) in text.iter().zip(table.lines()) {
        match s.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 => inv.push(1.0 / x),
            _ => {
                return Err(fail(format!(
                    "line {line} holds `{s}`; a weight must be a positive number"
                )))
            }
        }
    }
    Ok((
        Box::new(cov(
            Covariance::<Weighted>::new(InverseWeights(inv)),
            "residual",
        )?) as Box<dyn CovarianceModel>,
        None,
    ))
}

/// The error for a response that is also a predictor (`y ~ y`).
fn refuse_response_as_predictor(
    formula: &Formula,
    ts: &ExpandedFormula,
) -> Result<(), FormulaError> {
    let slopes = ts.random.iter().flat_map(|r| {
        r.coefs.iter().flat_map(|c| match c {
            Coef::Slope(t) => t.vars.as_slice(),
            Coef::Intercept => &[],
        })
    });
    let response: Vec<String> = formula
        .response
        .columns()
        .into_iter()
        .map(|c| c.name)
        .collect();
    let mut predictors = ts.fixed.iter().flat_map(|t| &t.vars).chain(slopes);
    match predictors.find_map(|v| {
        v.columns()
            .into_iter()
            .find(|c| response.contains(&c.name))
            .map(|c| (v, c))
    }) {
        Some((v, c)) => Err(FormulaError::ResponseAsPredictor {
            at: v.span,
            column: v.span.column(&formula.text),
            name: c.name,
        }),
        None => Ok(()),
    }
}

/// The fingerprint of the data a model fits: the response values (bits)
/// and the file lines of the rows used.
fn data_key(y: &[f64], lines: &[usize]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    y.iter().for_each(|v| v.to_bits().hash(&mut h));
    lines.hash(&mut h);
    h.finish()
}

/// A rank-deficiency error as the formula layer's own.
fn rank_error(e: RemlError) -> FormulaError {
    match e {
        RemlError::RankDeficient { columns } => FormulaError::RankDeficient { columns },
        other => FormulaError::Model(other),
    }
}
