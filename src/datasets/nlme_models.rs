//! The models of nlme's reference fits (`fits_nlme.json`), built from the
//! tables by column names: repeated measures whose residual follows the
//! subject and time columns, so the rows may come in any order.

use crate::data::{DataError, Incidence, ModelMatrix, Table};
use crate::reml::{MixedModel, RemlError};
use crate::structures::grouped::{CorGH, GroupedTimes, CAR1};
use crate::{Covariance, CovarianceModel, Scalar, Structure};

fn structure<S: Structure>(term: &str, shape: S::Shape) -> Result<Box<Covariance<S>>, RemlError> {
    Covariance::<S>::new(shape)
        .map(Box::new)
        .map_err(|e| RemlError::StructureFailed {
            term: term.into(),
            source: e,
        })
}

/// `1` where `column` equals `level`, else `0`: a treatment-contrast column.
fn indicator(t: &Table, column: &str, level: &str) -> Result<Vec<f64>, DataError> {
    Ok(t.column(column)?
        .iter()
        .map(|v| if v == level { 1.0 } else { 0.0 })
        .collect())
}

fn product(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x * y).collect()
}

fn mixed(
    y: &[f64],
    x: ModelMatrix,
    residual: Box<dyn CovarianceModel>,
) -> Result<MixedModel, RemlError> {
    let names: Vec<&str> = x.names().iter().map(String::as_str).collect();
    MixedModel::new(y, x.matrix(), residual)?.with_fixed_names(&names)
}

/// nlme's `lme(distance ~ age + Sex, random = ~ 1 | Subject,
/// correlation = corCAR1(form = ~ age | Subject))` on `Orthodont`:
/// fixed effects `(Intercept)`, `age`, `SexFemale`; random term `Subject`
/// (`σ² I`); residual [`CAR1`] in `age` within `Subject` (parameters
/// `residual/sigma^2`, `residual/phi`).
///
/// ```
/// let t = covreml::data::Table::parse("distance,age,Subject,Sex\n26,8,M01,Male\n25,10,M01,Male\n\
///     21,8,F01,Female\n23.5,12,F01,Female\n").unwrap();
/// let m = covreml::datasets::orthodont_car1_model(&t).unwrap();
/// assert_eq!(m.param_names(), ["Subject/sigma^2", "residual/sigma^2", "residual/phi"]);
/// ```
pub fn orthodont_car1_model(t: &Table) -> Result<MixedModel, RemlError> {
    let n = t.n_rows();
    let female = indicator(t, "Sex", "Female")?;
    let x = ModelMatrix::new(n)
        .intercept()
        .numeric("age", &t.numeric("age")?)?
        .numeric("SexFemale", &female)?;
    let z = Incidence::from_columns(&[t.column("Subject")?])?;
    let q = z.n_levels();
    let r = structure::<CAR1>("residual", GroupedTimes::from_columns(t, "Subject", "age")?)?;
    mixed(&t.numeric("distance")?, x, r)?.random("Subject", z, structure::<Scalar>("Subject", q)?)
}

/// nlme's `lme(weight ~ Time * Diet, random = ~ 1 | Rat,
/// correlation = corCAR1(form = ~ Time | Rat))` on `BodyWeight` (unequally
/// spaced times): fixed effects `(Intercept)`, `Time`, `Diet2`, `Diet3`,
/// `Time:Diet2`, `Time:Diet3`; random term `Rat`; residual [`CAR1`] in
/// `Time` within `Rat`.
pub fn bodyweight_car1_model(t: &Table) -> Result<MixedModel, RemlError> {
    let n = t.n_rows();
    let time = t.numeric("Time")?;
    let d2 = indicator(t, "Diet", "2")?;
    let d3 = indicator(t, "Diet", "3")?;
    let x = ModelMatrix::new(n)
        .intercept()
        .numeric("Time", &time)?
        .numeric("Diet2", &d2)?
        .numeric("Diet3", &d3)?
        .numeric("Time:Diet2", &product(&time, &d2))?
        .numeric("Time:Diet3", &product(&time, &d3))?;
    let z = Incidence::from_columns(&[t.column("Rat")?])?;
    let q = z.n_levels();
    let r = structure::<CAR1>("residual", GroupedTimes::from_columns(t, "Rat", "Time")?)?;
    mixed(&t.numeric("weight")?, x, r)?.random("Rat", z, structure::<Scalar>("Rat", q)?)
}

/// nlme's `gls(distance ~ age * Sex, correlation = corSymm(form = ~ 1 | Subject),
/// weights = varIdent(form = ~ 1 | age))` on `Orthodont`: fixed effects
/// `(Intercept)`, `age`, `SexFemale`, `age:SexFemale`; no random term;
/// residual [`CorGH`] over the ages within `Subject` (parameters
/// `residual/sigma^2_8` … `residual/sigma^2_14`, `residual/rho_8_10` …
/// `residual/rho_12_14`).
pub fn orthodont_us_model(t: &Table) -> Result<MixedModel, RemlError> {
    let n = t.n_rows();
    let age = t.numeric("age")?;
    let female = indicator(t, "Sex", "Female")?;
    let x = ModelMatrix::new(n)
        .intercept()
        .numeric("age", &age)?
        .numeric("SexFemale", &female)?
        .numeric("age:SexFemale", &product(&age, &female))?;
    let r = structure::<CorGH>("residual", GroupedTimes::from_columns(t, "Subject", "age")?)?;
    mixed(&t.numeric("distance")?, x, r)
}
