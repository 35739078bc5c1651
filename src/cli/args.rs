//! The command line: `fit`, `lrt` and `predict`, their options, `help`,
//! `--version`.

use super::Failure;
use crate::data::NaAction;
use crate::reml::{Backend, Method};

/// The usage text (`covreml help`, `covreml fit --help`).
pub const USAGE: &str = "\
usage:
  covreml fit DATA.csv --formula \"y ~ x + (1|g)\" [--residual KEYWORD]
          [--method reml|ml] [--backend auto|dense|sparse|iterative] [--tolerance T]
          [--max-iter N] [--drop-aliased] [--na omit|fail] [--json] [--quiet]
          [--blups FILE.csv] [--residuals FILE.csv]
          [--ddf satterthwaite|kenward-roger|residual] [--ci wald|profile]
          [--plots DIR] [--progress] [--probes N] [--seed S]
          [--pedigree COL=PED.csv] [--grm COL=MATRIX.csv] [--weights COL]
  covreml lrt DATA.csv --formula \"M0\" --formula \"M1\" [options as for fit]
  covreml predict DATA.csv --formula F --newdata NEW.csv [--population]
          [--se] [options as for fit]
  covreml help | --help | --version

The formula grammar (lme4's): y ~ 1 + x + f + f:g + a*b, 0 + / - 1, factor(x),
random terms (1|g), (1|g1:g2), (1|g1/g2), (1 + x|g), (1 + x||g), (0 + x|g);
a categorical column on the left gives a coefficient per level: (0 + f|g),
(1 + f|g). Covariance of the coefficients by keyword (glmmTMB's): us(1 + x|g)
(the default), diag(1 + x|g), cs(0 + f|g) (one variance, one correlation),
ar1(0 + t|g) (t a factor of equally spaced times), fa(0 + env|gen, k)
(factor-analytic of order k = 1..3).
Multi-trait: cbind(y1, y2, ...) ~ trait + trait:x + x + (0 + trait | g) stacks
the responses (factor trait); trait:x a slope per trait, x a common one;
(0 + trait | g) unstructured G0, diag(0 + trait | g), fa(0 + trait | g, k);
--residual us(trait) (default) or diag(trait); missing traits kept row by row.
Residual: iid (default); diag(f), a variance per level of f; ar1(t | g) and
car1(t | g), autocorrelation in time t within g; cs(g), compound symmetry
within g; us(t | g), unstructured within g; arh(t | g) and csh(t | g), ar1
and cs within g with a variance per level of t; exp(x + y, nugget),
gau(x + y, nugget), sph(x + y, nugget), isotropic spatial with a nugget,
exp(x + y) without one, exp(x + y | g, nugget) independent fields per level
of g (per trial); ar1(row):ar1(col), separable AR1 x AR1 over a field grid.
--pedigree COL=PED.csv: random terms grouped by COL alone use the numerator
relationship matrix A of the pedigree (first three columns: animal, sire,
dam; unknown parents 0, NA or empty; any order): G = sigma^2 A, every animal
of the pedigree gets a BLUP (labelled by its id). --grm COL=MATRIX.csv: the
same with a given relationship matrix (a genomic one): a square CSV, the ids
in the first column and as the other column names, in the same order.
--weights COL: prior weights, residual variance sigma^2 / w (lme4's weights),
with the iid residual.
--na omit (default) drops every row with a missing value (empty, NA, N/A,
NaN) in a column the model uses, as lme4 does; --na fail refuses them,
naming the first missing cell by file line and column.
--drop-aliased drops fixed-effect columns that are linear combinations of the
columns before them (as lme4 does) instead of refusing the model.
--blups FILE.csv writes term,coefficient,level,blup,se: every BLUP of every
random term with its standard error sqrt(PEV) (PEV from the mixed-model
equations, so it includes the uncertainty of the fixed effects: larger than
lme4's condVar). --residuals FILE.csv writes line,fitted,residual per row
fitted: conditional, y - Xb - Zu, as lme4's fitted() and residuals().
predict fits F to DATA.csv and prints line,prediction for each row of
NEW.csv (or JSON): Xb + Zu, a level unseen in DATA.csv contributing 0 (lme4's
allow.new.levels = TRUE); --population gives Xb alone (lme4's re.form = NA).
--se adds standard errors: with --population sqrt(x' Var(b) x); otherwise of
Xb + Zu as a prediction of Xb + Zu, from the inverse of the mixed-model
equations (Var(b), the PEV of the BLUPs and their covariance with b; an
unseen level adds nothing).
--ddf prints an ANOVA table (an F test per fixed term: all its coefficients
0; num and den df, F, p) and t tests of the coefficients with those df:
satterthwaite (lmerTest), kenward-roger (pbkrtest's adjusted covariance and
scaled F; REML fits of models linear in their variances) or
residual (n - p). --ci wald|profile prints 95% intervals: coefficients by
Wald (lme4's confint), variances on the SD scale by Wald (delta method) or
by the REML/ML profile likelihood (lme4's profile confint).
--plots DIR writes residuals_fitted.svg, qq.svg, loglik.svg (by iteration)
and one caterpillar plot
per random term and coefficient (blups_TERM_COEF.svg: BLUPs +- 1.96
sqrt(PEV), ordered).
--progress prints a line on stderr after reading the file and after
building the model, then one per iteration (iteration, log-likelihood,
step, estimated time left, seconds); it is on by default when stderr is a
terminal; --quiet silences it.
--backend iterative fits (1|f) terms with an iid residual (REML) without
factoring: conjugate gradients on the data and random-probe traces, memory
O(rows + levels); each estimate gets a Monte Carlo standard error (JSON
mc_standard_errors), the log-likelihood is not computed (NaN). --probes N
fixes the number of probes (default: raised until every Monte Carlo error is
below a tenth of the standard error); --seed S the probes' seed. auto uses it
when the exact sparse factor would not fit in memory, and says so.
lrt compares two models fitted to the same rows; when their fixed effects
differ both are fitted by ML (as lme4's anova refits), and the output says so.

Exit status: 0 fitted and converged (also with a variance on its boundary),
1 internal failure (the fit itself failed), 2 usage or data error,
3 fitted but not converged (the results are printed with a warning line).";

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Command {
    /// Print the usage.
    Help,
    /// Print the version.
    Version,
    /// Fit one model.
    Fit(Args),
    /// Test two models.
    Lrt(Args),
    /// Fit one model and predict for new data.
    Predict(Args),
}

/// The options of `fit` and `lrt`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Args {
    pub(crate) data: String,
    pub(crate) formulas: Vec<String>,
    pub(crate) residual: String,
    pub(crate) method: Method,
    pub(crate) backend: Backend,
    pub(crate) tolerance: Option<f64>,
    pub(crate) max_iter: Option<usize>,
    pub(crate) json: bool,
    pub(crate) quiet: bool,
    pub(crate) drop_aliased: bool,
    pub(crate) na: NaAction,
    /// `predict`: the new data, and whether to leave out random effects.
    pub(crate) newdata: Option<String>,
    pub(crate) population: bool,
    /// `fit`: files for the BLUP table and the residuals.
    pub(crate) blups: Option<String>,
    pub(crate) residuals: Option<String>,
    /// `--backend iterative`: a fixed number of probes, and their seed.
    pub(crate) probes: Option<usize>,
    pub(crate) seed: Option<u64>,
    /// `fit`: fixed-effect tests, intervals, plots; `predict`: standard
    /// errors; all: progress lines.
    pub(crate) ddf: Option<crate::inference::Ddf>,
    pub(crate) ci: Option<crate::inference::CiMethod>,
    pub(crate) plots: Option<String>,
    pub(crate) se: bool,
    pub(crate) progress: bool,
    /// `--pedigree COL=FILE` and `--grm COL=FILE`: (column, file, is a pedigree).
    pub(crate) relationships: Vec<(String, String, bool)>,
    /// `--weights COL`.
    pub(crate) weights: Option<String>,
}

/// A usage error: the message and the usage text, status 2.
pub(crate) fn usage(message: impl Into<String>) -> Failure {
    Failure {
        message: format!("{}\n\n{USAGE}", message.into()),
        status: 2,
    }
}

pub(crate) fn parse_args(argv: &[String]) -> Result<Command, Failure> {
    let mut it = argv.iter();
    let command = it.next().ok_or_else(|| usage("no command given"))?;
    match command.as_str() {
        "help" | "--help" | "-h" => return Ok(Command::Help),
        "--version" | "-V" | "version" => return Ok(Command::Version),
        "fit" | "lrt" | "predict" => {}
        other => return Err(usage(format!("unknown command `{other}`"))),
    }
    let mut a = Args::defaults();
    let mut data = None;
    while let Some(arg) = it.next() {
        match apply_option(&mut a, arg, &mut it)? {
            Word::Option => {}
            Word::Help => return Ok(Command::Help),
            Word::Positional => {
                if data.replace(arg.to_string()).is_some() {
                    return Err(usage(format!("more than one data file given (`{arg}`)")));
                }
            }
        }
    }
    a.data = data.ok_or_else(|| usage("no data file given"))?;
    let lrt = command == "lrt";
    let want = if lrt { 2 } else { 1 };
    if a.formulas.len() != want {
        return Err(usage(format!(
            "`{command}` needs {want} --formula, got {}",
            a.formulas.len()
        )));
    }
    check_command_options(command, &a)?;
    Ok(match command.as_str() {
        "lrt" => Command::Lrt(a),
        "predict" => Command::Predict(a),
        _ => Command::Fit(a),
    })
}

impl Args {
    /// Every option at its default, no data file and no formula yet.
    fn defaults() -> Self {
        Args {
            data: String::new(),
            formulas: Vec::new(),
            residual: "iid".into(),
            method: Method::Reml,
            backend: Backend::Auto,
            tolerance: None,
            max_iter: None,
            json: false,
            quiet: false,
            drop_aliased: false,
            na: NaAction::Omit,
            newdata: None,
            population: false,
            blups: None,
            residuals: None,
            probes: None,
            seed: None,
            ddf: None,
            ci: None,
            plots: None,
            se: false,
            progress: false,
            relationships: Vec::new(),
            weights: None,
        }
    }
}

/// What one word of the command line was.
enum Word {
    /// An option, applied (with its value, taken from the iterator).
    Option,
    /// `--help`.
    Help,
    /// Not an option: the data file.
    Positional,
}

/// Applies the option `arg` to `a`, taking its value from `it`.
fn apply_option(
    a: &mut Args,
    arg: &str,
    it: &mut std::slice::Iter<'_, String>,
) -> Result<Word, Failure> {
    let mut value = |name: &str| {
        it.next()
            .cloned()
            .ok_or_else(|| usage(format!("{name} needs a value")))
    };
    match arg {
        "--help" | "-h" => return Ok(Word::Help),
        "--formula" | "-f" => a.formulas.push(value("--formula")?),
        "--residual" => a.residual = value("--residual")?,
        "--drop-aliased" => a.drop_aliased = true,
        "--method" => {
            a.method = value("--method")?
                .parse()
                .map_err(|e| usage(format!("--method: {e}")))?
        }
        "--backend" => {
            a.backend = value("--backend")?
                .parse()
                .map_err(|e| usage(format!("--backend: {e}")))?
        }
        "--na" => {
            a.na = match value("--na")?.as_str() {
                "omit" => NaAction::Omit,
                "fail" => NaAction::Fail,
                other => return Err(usage(format!("--na is omit or fail, not `{other}`"))),
            }
        }
        "--tolerance" | "--max-iter" | "--probes" | "--seed" => {
            let v = value(arg)?;
            apply_number(a, arg, &v)?
        }
        "--json" => a.json = true,
        "--newdata" => a.newdata = Some(value("--newdata")?),
        "--population" => a.population = true,
        "--blups" => a.blups = Some(value("--blups")?),
        "--residuals" => a.residuals = Some(value("--residuals")?),
        "--quiet" | "-q" => a.quiet = true,
        "--ddf" => {
            a.ddf = Some(
                value("--ddf")?
                    .parse()
                    .map_err(|e| usage(format!("--ddf: {e}")))?,
            )
        }
        "--ci" => {
            a.ci = Some(
                value("--ci")?
                    .parse()
                    .map_err(|e| usage(format!("--ci: {e}")))?,
            )
        }
        "--plots" => a.plots = Some(value("--plots")?),
        "--se" => a.se = true,
        "--progress" => a.progress = true,
        "--pedigree" | "--grm" => {
            let v = value(arg)?;
            add_relationship(a, arg, &v)?
        }
        "--weights" => a.weights = Some(value("--weights")?),
        s if s.starts_with('-') && s.len() > 1 => {
            return Err(usage(format!("unknown option `{s}`")))
        }
        _ => return Ok(Word::Positional),
    }
    Ok(Word::Option)
}

/// The numeric options `--tolerance`, `--max-iter`, `--probes`, `--seed`
/// with their value `v`.
fn apply_number(a: &mut Args, arg: &str, v: &str) -> Result<(), Failure> {
    match arg {
        "--tolerance" => {
            a.tolerance = Some(
                v.parse::<f64>()
                    .ok()
                    .filter(|t| t.is_finite() && *t > 0.0)
                    .ok_or_else(|| {
                        usage(format!("--tolerance needs a positive number, not `{v}`"))
                    })?,
            );
        }
        "--max-iter" => {
            a.max_iter =
                Some(v.parse::<usize>().ok().filter(|&n| n > 0).ok_or_else(|| {
                    usage(format!("--max-iter needs a positive integer, not `{v}`"))
                })?);
        }
        "--probes" => {
            a.probes = Some(v.parse::<usize>().ok().filter(|&n| n >= 2).ok_or_else(|| {
                usage(format!(
                    "--probes needs an integer of at least 2, not `{v}`"
                ))
            })?);
        }
        _ => {
            a.seed = Some(
                v.parse::<u64>()
                    .map_err(|_| usage(format!("--seed needs an unsigned integer, not `{v}`")))?,
            );
        }
    }
    Ok(())
}

/// `--pedigree COL=FILE` or `--grm COL=FILE` (`arg`) with its value `v`:
/// one relationship matrix per column.
fn add_relationship(a: &mut Args, arg: &str, v: &str) -> Result<(), Failure> {
    let (col, file) = v
        .split_once('=')
        .filter(|(c, f)| !c.trim().is_empty() && !f.trim().is_empty())
        .ok_or_else(|| {
            usage(format!(
                "{arg} needs COLUMN=FILE.csv (the grouping column and the file), not `{v}`"
            ))
        })?;
    if a.relationships.iter().any(|(c, _, _)| c == col.trim()) {
        return Err(usage(format!(
            "two relationship matrices for the column `{}`",
            col.trim()
        )));
    }
    a.relationships.push((
        col.trim().to_string(),
        file.trim().to_string(),
        arg == "--pedigree",
    ));
    Ok(())
}

/// Refuses options given to a command they do not belong to.
fn check_command_options(command: &str, a: &Args) -> Result<(), Failure> {
    let predict = command == "predict";
    if predict && a.newdata.is_none() {
        return Err(usage("`predict` needs --newdata NEW.csv"));
    }
    let only = [
        ("--newdata", a.newdata.is_some(), predict),
        ("--population", a.population, predict),
        ("--blups", a.blups.is_some(), command == "fit"),
        ("--residuals", a.residuals.is_some(), command == "fit"),
        ("--ddf", a.ddf.is_some(), command == "fit"),
        ("--ci", a.ci.is_some(), command == "fit"),
        ("--plots", a.plots.is_some(), command == "fit"),
        ("--se", a.se, predict),
    ];
    for (name, given, allowed) in only {
        if given && !allowed {
            let home = if matches!(name, "--newdata" | "--population" | "--se") {
                "predict"
            } else {
                "fit"
            };
            return Err(usage(format!(
                "{name} belongs to `{home}`, not `{command}`"
            )));
        }
    }
    Ok(())
}
