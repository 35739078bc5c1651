//! The models of the shared reference data sets, built from their tables:
//! what the examples, tests and benchmark fit.
//!
//! A missing value in a column a model uses is refused, naming the column
//! and the file line; to drop incomplete rows instead (R's `na.omit`), build
//! from `table.complete_rows(&columns, NaAction::Omit)?.table`.

use crate::data::{dummy, DataError, DummyOptions, Incidence, ModelMatrix, NaAction, Table};
use crate::ops::Kron;
use crate::reml::{MarginalModel, MixedModel, RemlError};
use crate::{Covariance, Identity, Scalar, Unconstrained, AR1};

fn scalar(n: usize) -> Result<Box<Covariance<Scalar>>, RemlError> {
    Covariance::<Scalar>::new(n)
        .map(Box::new)
        .map_err(|e| RemlError::StructureFailed {
            term: "Scalar".into(),
            source: e,
        })
}

/// john.alpha: `yield ~ rep` (intercept + R2 + R3), random `gen`
/// (`σ²_gen I₂₄`) and `rep:block` (`σ²_block I₁₈`, lexicographic rep-then-block
/// levels), residual `σ²_e I₇₂` ([`MixedModel::with_iid_residual`]).
///
/// ```
/// let m = covreml::datasets::john_alpha_model(&covreml::datasets::john_alpha()).unwrap();
/// assert_eq!(m.param_names(), ["gen/sigma^2", "rep:block/sigma^2", "residual/sigma^2"]);
/// ```
pub fn john_alpha_model(t: &Table) -> Result<MixedModel, RemlError> {
    refuse_missing(t, &["yield", "rep", "block", "gen"])?;
    let n = t.n_rows();
    let rep = t.column("rep")?;
    let block = t.column("block")?;
    let gen = t.column("gen")?;
    let x = ModelMatrix::new(n).intercept().dummy(dummy(
        &[rep],
        DummyOptions {
            drop_first: true,
            drop_empty: false,
        },
    )?)?;
    let zg = Incidence::from_columns(&[gen])?;
    let zb = Incidence::from_columns(&[rep, block])?;
    let (qg, qb) = (zg.n_levels(), zb.n_levels());
    MixedModel::with_iid_residual(&t.numeric("yield")?, x.matrix())?
        .with_fixed_names(&names(&x))?
        .random("gen", zg, scalar(qg)?)?
        .random("rep:block", zb, scalar(qb)?)
}

/// ar1_repeated: `y ~ 1 + time + x`, marginal `V = I_s ⊗ σ² AR1(t)`
/// (parameters `time/sigma^2`, `time/rho`). The rows
/// must be subject-major with times `0, 1, …, t−1` within each subject.
pub fn ar1_repeated_model(t: &Table) -> Result<MarginalModel, RemlError> {
    refuse_missing(t, &["y", "time", "x", "subject"])?;
    let n = t.n_rows();
    let time = t.numeric("time")?;
    let subject = t.column("subject")?;
    if n == 0 {
        return Err(DataError::Empty.into());
    }
    // Times per subject: the length of the first run of one subject.
    let n_times = subject.iter().take_while(|s| *s == &subject[0]).count();
    for i in 0..n {
        let ok = n_times > 0
            && n % n_times == 0
            && time[i] == (i % n_times) as f64
            && subject[i] == subject[i - i % n_times];
        if !ok {
            return Err(DataError::InvalidDesign {
                reason: format!(
                    "line {}: rows must be subject-major with times 0..{n_times} within each subject",
                    t.lines()[i]
                ),
            }
            .into());
        }
    }
    let x = ModelMatrix::new(n)
        .intercept()
        .numeric("time", &time)?
        .numeric("x", &t.numeric("x")?)?;
    let v = Covariance::<Kron<Identity, AR1>>::new((n / n_times, n_times))
        .and_then(|v| v.with_operand_names(&["subject", "time"]))
        .map_err(|e| RemlError::StructureFailed {
            term: "V".into(),
            source: e,
        })?;
    MarginalModel::new(&t.numeric("y")?, x.matrix(), Box::new(v))?.with_fixed_names(&names(&x))
}

/// crossed_2000: `y ~ 1 + x1`, random `f1` and `f2` (scaled identity
/// each), residual `σ²_e I` ([`MixedModel::with_iid_residual`]).
pub fn crossed_model(t: &Table) -> Result<MixedModel, RemlError> {
    refuse_missing(t, &["y", "x1", "f1", "f2"])?;
    let n = t.n_rows();
    let x = ModelMatrix::new(n)
        .intercept()
        .numeric("x1", &t.numeric("x1")?)?;
    let f1 = Incidence::from_columns(&[t.column("f1")?])?;
    let f2 = Incidence::from_columns(&[t.column("f2")?])?;
    let (q1, q2) = (f1.n_levels(), f2.n_levels());
    MixedModel::with_iid_residual(&t.numeric("y")?, x.matrix())?
        .with_fixed_names(&names(&x))?
        .random("f1", f1, scalar(q1)?)?
        .random("f2", f2, scalar(q2)?)
}

/// A model with random intercepts only, as lme4's
/// `y ~ 1 + f + … + (1 | g) + (1 | g1:g2) + …`: an intercept and
/// treatment-coded factors (`fixed_factors`, coefficient names such as
/// `service1` as lme4 prints them) in the fixed part, one scaled-identity
/// random term per entry of `random` (the interaction of its columns, named
/// `g1:g2`), and an iid residual. The lme4 reference data sets Dyestuff,
/// Penicillin, Pastes and InstEval are of this form.
///
/// ```
/// use covreml::data::Table;
/// use covreml::datasets::intercepts_model;
/// let t = Table::parse("y,g\n1,a\n2,a\n4,b\n3,b\n5,c\n7,c\n").unwrap();
/// let m = intercepts_model(&t, "y", &[], &[&["g"]]).unwrap();
/// assert_eq!(m.param_names(), ["g/sigma^2", "residual/sigma^2"]);
/// ```
pub fn intercepts_model(
    t: &Table,
    y: &str,
    fixed_factors: &[&str],
    random: &[&[&str]],
) -> Result<MixedModel, RemlError> {
    let n = t.n_rows();
    let mut x = ModelMatrix::new(n).intercept();
    let mut beta_names = vec!["(Intercept)".to_string()];
    for f in fixed_factors {
        let mut d = dummy(
            &[t.column(f)?],
            DummyOptions {
                drop_first: true,
                drop_empty: true,
            },
        )?;
        d.names = d.names.iter().map(|l| format!("{f}{l}")).collect();
        beta_names.extend(d.names.iter().cloned());
        x = x.dummy(d)?;
    }
    let names: Vec<&str> = beta_names.iter().map(|s| s.as_str()).collect();
    let mut m =
        MixedModel::with_iid_residual(&t.numeric(y)?, x.matrix())?.with_fixed_names(&names)?;
    for cols in random {
        let columns = cols
            .iter()
            .map(|c| t.column(c))
            .collect::<Result<Vec<_>, _>>()?;
        let z = Incidence::from_columns(&columns)?;
        let q = z.n_levels();
        m = m.random(&cols.join(":"), z, scalar(q)?)?;
    }
    Ok(m)
}

/// lme4's sleepstudy: `Reaction ~ Days + (Days | Subject)`: a random
/// intercept and slope per subject with an unstructured `2 × 2` covariance,
/// `G = Σ ⊗ I₁₈` (`Kron<Unconstrained, Identity>`, the column order of
/// [`SparseDesign::random_slopes`](crate::data::SparseDesign::random_slopes)).
/// Parameters `Subject/coef/sigma^2_0_0` (intercept variance),
/// `Subject/coef/sigma^2_1_0` (covariance), `Subject/coef/sigma^2_1_1`
/// (slope variance), `residual/sigma^2`.
pub fn sleepstudy_model(t: &Table) -> Result<MixedModel, RemlError> {
    let n = t.n_rows();
    let days = t.numeric("Days")?;
    let x = ModelMatrix::new(n).intercept().numeric("Days", &days)?;
    let g = Incidence::from_columns(&[t.column("Subject")?])?;
    let q = g.n_levels();
    let z = crate::data::SparseDesign::random_slopes(&g, true, &[("Days", &days)])?;
    let cov = Covariance::<Kron<Unconstrained, Identity>>::new((2, q))
        .and_then(|c| c.with_operand_names(&["coef", "level"]))
        .map_err(|e| RemlError::StructureFailed {
            term: "Subject".into(),
            source: e,
        })?;
    MixedModel::with_iid_residual(&t.numeric("Reaction")?, x.matrix())?
        .with_fixed_names(&names(&x))?
        .random("Subject", z, Box::new(cov))
}

/// The column names of a model matrix, borrowed.
fn names(x: &ModelMatrix) -> Vec<&str> {
    x.names().iter().map(|s| s.as_str()).collect()
}

/// Errors at the first missing value in `columns` (column and file line).
fn refuse_missing(t: &Table, columns: &[&str]) -> Result<(), DataError> {
    t.complete_rows(columns, NaAction::Fail).map(|_| ())
}
