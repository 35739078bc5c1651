//! The `covreml` command (`src/bin/covreml.rs` is its `main`): fit linear
//! mixed models from a CSV file and an lme4-style formula, or test two of
//! them, or predict for new data. [`run`] does everything but print, so tests drive the command
//! in-process.
//!
//! ```text
//! covreml fit DATA.csv --formula "y ~ 1 + x1 + (1|f1) + (1|f2)" [--residual "diag(f)"]
//!         [--method reml|ml] [--backend auto|dense|sparse|iterative] [--tolerance T]
//!         [--max-iter N] [--na omit|fail] [--json] [--quiet]
//!         [--blups FILE.csv] [--residuals FILE.csv]
//!         [--ddf satterthwaite|kenward-roger|residual] [--ci wald|profile]
//!         [--plots DIR] [--progress] [--probes N] [--seed S]
//!         [--pedigree COL=PED.csv] [--grm COL=MATRIX.csv] [--weights COL]
//! covreml lrt DATA.csv --formula "M0" --formula "M1" [--json] [--quiet] [--progress]
//! covreml predict DATA.csv --formula F --newdata NEW.csv [--population] [--se] [--json]
//! ```
//!
//! Exit status ([`Outcome::status`]): 0 fitted and converged (also on a
//! boundary), 1 the fit itself failed, 2 usage or data error, 3 fitted but
//! not converged (the output is written, with a warning line).
//!
//! ```
//! let argv: Vec<String> = ["fit", "no_such_file.csv", "--formula", "y ~ x"]
//!     .iter().map(|s| s.to_string()).collect();
//! let out = covreml::cli::run(&argv);
//! assert_eq!(out.status, 2);
//! assert!(out.stderr.contains("no_such_file.csv"));
//! ```

mod args;
mod multi_trait;
mod plots;
mod progress;
mod report;
mod tables;

pub use args::USAGE;

use crate::data::{DataError, Table};
use crate::formula::{
    anova_with, parse, BuildOptions, FormulaError, FormulaModel, ModelInputs, Relationship,
    Residual, Summary,
};
use crate::reml::{Aliased, RemlFit, RemlOptions};
use args::{parse_args, Args, Command};
use std::io::IsTerminal;
use std::time::Instant;

/// Exit status: fitted and converged.
pub const EXIT_OK: u8 = 0;
/// Exit status: the fit itself failed (an internal failure).
pub const EXIT_FAILED: u8 = 1;
/// Exit status: a usage or data error.
pub const EXIT_USAGE: u8 = 2;
/// Exit status: fitted, but the fit did not converge.
pub const EXIT_NOT_CONVERGED: u8 = 3;

/// What a run of the command prints and its exit status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Standard output.
    pub stdout: String,
    /// Standard error (`error: …` and warnings).
    pub stderr: String,
    /// The exit status.
    pub status: u8,
}

/// A failure and its exit status.
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) status: u8,
}

/// Runs the command line `argv` (without the program name). Progress
/// lines (`--progress`, or standard error a terminal) come first in
/// [`Outcome::stderr`]; [`run_with_progress`] hands them over as they come.
pub fn run(argv: &[String]) -> Outcome {
    let mut lines = String::new();
    let mut out = run_with_progress(argv, &mut |l: &str| {
        lines.push_str(l);
        lines.push('\n');
    });
    out.stderr.insert_str(0, &lines);
    out
}

/// Runs the command line `argv`, passing each progress line (one per
/// iteration of a fit, without its line break) to `progress` when it is
/// made; the program's `main` prints them to standard error at once.
pub fn run_with_progress(argv: &[String], progress: &mut dyn FnMut(&str)) -> Outcome {
    match run_command(argv, progress) {
        Ok(o) => o,
        Err(f) => Outcome {
            stdout: String::new(),
            stderr: format!("error: {}\n", f.message),
            status: f.status,
        },
    }
}

/// Where progress lines go.
type Progress<'a> = &'a mut dyn FnMut(&str);

/// A subcommand: `fit`, `lrt` or `predict`.
type Subcommand = fn(&Args, &Table, &RemlOptions, Progress) -> Result<Outcome, Failure>;

fn run_command(argv: &[String], progress: Progress) -> Result<Outcome, Failure> {
    let (a, command): (Args, Subcommand) = match parse_args(argv)? {
        Command::Help => return Ok(printed(format!("{USAGE}\n"))),
        Command::Version => return Ok(printed(format!("covreml {}\n", env!("CARGO_PKG_VERSION")))),
        Command::Fit(a) => (a, fit_command),
        Command::Lrt(a) => (a, lrt_command),
        Command::Predict(a) => (a, predict_command),
    };
    let opts = options(&a);
    let start = Instant::now();
    let table = Table::read(&a.data).map_err(|e| data_error(e.to_string()))?;
    if !a.quiet && (a.progress || std::io::stderr().is_terminal()) {
        progress(&format!(
            "read {}: {} rows, {} columns  {:.2} s",
            a.data,
            table.n_rows(),
            table.names().len(),
            start.elapsed().as_secs_f64()
        ));
    }
    command(&a, &table, &opts, progress)
}

fn printed(stdout: String) -> Outcome {
    Outcome {
        stdout,
        stderr: String::new(),
        status: EXIT_OK,
    }
}

fn data_error(message: String) -> Failure {
    Failure {
        message,
        status: EXIT_USAGE,
    }
}

/// The fit options for the chosen method and backend.
fn options(a: &Args) -> RemlOptions {
    let mut opts = RemlOptions::default().method(a.method).backend(a.backend);
    if let Some(t) = a.tolerance {
        opts = opts.tolerance(t);
    }
    if let Some(n) = a.max_iter {
        opts = opts.max_iter(n);
    }
    // The iterative backend prints its own progress lines, by the same rule.
    let show = !a.quiet && (a.progress || std::io::stderr().is_terminal());
    let mut it = crate::reml::IterativeOptions::default().progress(show);
    if let Some(m) = a.probes {
        it = it.probes(m);
    }
    if let Some(s) = a.seed {
        it = it.seed(s);
    }
    opts.iterative(it)
}

/// Builds the model of `formula`: a usage or data error when it fails.
fn build(a: &Args, formula: &str, table: &Table) -> Result<FormulaModel, Failure> {
    if let Ok(Some(_)) = crate::formula::multi_trait::CbindFormula::parse(formula) {
        return Err(data_error(
            "multi-trait formulas (cbind(…) ~ …) work with `covreml fit` only; \
             `lrt` and `predict` do not take them yet"
                .into(),
        ));
    }
    let opts = BuildOptions {
        aliased: if a.drop_aliased {
            Aliased::Drop
        } else {
            Aliased::Error
        },
        na: a.na,
    };
    let inputs = model_inputs(a)?;
    parse(formula)
        .and_then(|parsed| {
            let residual = Residual::parse(&a.residual)?;
            FormulaModel::build_inputs(&parsed, &residual, table, &opts, &inputs)
        })
        .map_err(|e| {
            let missing = matches!(e, FormulaError::Data(DataError::MissingValue { .. }));
            let mut f = formula_failure(formula, &a.residual, e);
            if missing {
                f.message.push_str(
                    " (--na fail refuses missing values; without it such rows are dropped)",
                );
            }
            f
        })
}

/// The relationship matrices (`--pedigree`, `--grm`) and weights of the
/// command line, the files read.
fn model_inputs(a: &Args) -> Result<ModelInputs, Failure> {
    let mut inputs = ModelInputs {
        weights: a.weights.clone(),
        ..ModelInputs::default()
    };
    for (column, file, pedigree) in &a.relationships {
        let option = if *pedigree { "--pedigree" } else { "--grm" };
        let t =
            Table::read(file).map_err(|e| data_error(format!("{option} {column}={file}: {e}")))?;
        let r = if *pedigree {
            Relationship::from_pedigree_table(&t, file)
        } else {
            Relationship::from_matrix_table(&t, file)
        }
        .map_err(|e| data_error(format!("{option} {column}={file}: {e}")))?;
        inputs = inputs.relationship(column, r);
    }
    Ok(inputs)
}

fn formula_failure(formula: &str, residual: &str, e: FormulaError) -> Failure {
    let mut message = e.to_string();
    if let Some(span) = e.span() {
        // The span is in the formula, or in the residual keyword for
        // residual errors.
        let in_residual = match &e {
            FormulaError::UnknownColumn { name, at, .. } => {
                formula.get(at.start..at.end) != Some(name.as_str())
            }
            _ => Residual::parse(residual).is_err(),
        };
        let text = if in_residual { residual } else { formula };
        message.push_str(&format!(
            "\n  {}",
            span.underline(text).replace('\n', "\n  ")
        ));
    }
    data_error(message)
}

/// Fits, with one progress line per iteration (iteration, log-likelihood,
/// step length, seconds since the start) when `--progress` is given or
/// standard error is a terminal, unless `--quiet`.
fn fit(
    model: &FormulaModel,
    opts: &RemlOptions,
    a: &Args,
    progress: Progress,
) -> Result<RemlFit, Failure> {
    let start = Instant::now();
    let show = !a.quiet && (a.progress || std::io::stderr().is_terminal());
    let mut left = progress::TimeLeft::default();
    let result = model.fit_with(opts, |it| {
        // (The iterative backend, whose log-likelihood is NaN, prints its
        // own lines.)
        if show && !it.loglik.is_nan() {
            let elapsed = start.elapsed().as_secs_f64();
            let eta = left.after(it, elapsed, opts.tol_step, opts.max_iter);
            progress(&format!(
                "iteration {:>3}  {} log-likelihood {:.6}  step {:.3e}  {}  elapsed {:.2} s",
                it.iter,
                opts.method,
                it.loglik,
                it.step_norm,
                progress::left_text(eta),
                elapsed
            ));
        }
    });
    result.map_err(|e| Failure {
        message: format!("the fit failed: {e}"),
        status: EXIT_FAILED,
    })
}

/// The exit status and warning lines of fits that may not have converged.
fn finish(stdout: String, fits: &[&RemlFit]) -> Outcome {
    let mut stderr = String::new();
    for f in fits.iter().filter(|f| !f.termination.is_converged()) {
        stderr.push_str(&format!(
            "warning: the fit did not converge ({}); the estimates are the last iterate, not an optimum\n",
            f.termination
        ));
    }
    Outcome {
        stdout,
        status: if stderr.is_empty() {
            EXIT_OK
        } else {
            EXIT_NOT_CONVERGED
        },
        stderr,
    }
}

fn fit_command(
    a: &Args,
    table: &Table,
    opts: &RemlOptions,
    progress: Progress,
) -> Result<Outcome, Failure> {
    let cbind = crate::formula::multi_trait::CbindFormula::parse(&a.formulas[0])
        .map_err(|e| formula_failure(&a.formulas[0], &a.residual, e))?;
    if let Some(cbind) = cbind {
        return multi_trait::fit_command(a, table, opts, &cbind);
    }
    let start = Instant::now();
    let model = build(a, &a.formulas[0], table)?;
    if !a.quiet && (a.progress || std::io::stderr().is_terminal()) {
        progress(&format!(
            "built the model  {:.2} s",
            start.elapsed().as_secs_f64()
        ));
    }
    let f = fit(&model, opts, a, progress)?;
    let wall = start.elapsed().as_secs_f64();
    let tests = match a.ddf {
        Some(ddf) => Some(
            model
                .fixed_effect_tests(&f, ddf)
                .map_err(tables::post_failure)?,
        ),
        None => None,
    };
    let intervals = match a.ci {
        Some(m) => Some(model.intervals(&f, m).map_err(tables::post_failure)?),
        None => None,
    };
    let stdout = if a.json {
        let mut j = report::fit_json(&model, &f, &a.data, wall);
        report::add_inference_json(&mut j, tests.as_ref(), intervals.as_deref());
        format!("{j}\n")
    } else {
        let mut s = Summary::new(&model, &f).wall_seconds(wall).to_string();
        if let Some(t) = &tests {
            s.push_str(&report::tests_text(t));
        }
        if let Some(ci) = &intervals {
            s.push_str(&report::intervals_text(ci, a.ci));
        }
        s
    };
    if let Some(dir) = &a.plots {
        plots::write_plots(dir, &model, &f, table)?;
    }
    if let Some(path) = &a.blups {
        tables::write_blups(path, &model, &f)?;
    }
    if let Some(path) = &a.residuals {
        tables::write_residuals(path, &model, &f, table)?;
    }
    Ok(finish(stdout, &[&f]))
}

fn predict_command(
    a: &Args,
    table: &Table,
    opts: &RemlOptions,
    progress: Progress,
) -> Result<Outcome, Failure> {
    let path = a.newdata.as_deref().unwrap_or_default();
    let new = Table::read(path).map_err(|e| data_error(format!("--newdata: {e}")))?;
    let model = build(a, &a.formulas[0], table)?;
    let f = fit(&model, opts, a, progress)?;
    let stdout = tables::predictions(&model, &f, &new, a.population, a.se, a.json)?;
    Ok(finish(stdout, &[&f]))
}

fn lrt_command(
    a: &Args,
    table: &Table,
    opts: &RemlOptions,
    progress: Progress,
) -> Result<Outcome, Failure> {
    let start = Instant::now();
    let m0 = build(a, &a.formulas[0], table)?;
    let m1 = build(a, &a.formulas[1], table)?;
    let show = !a.quiet && (a.progress || std::io::stderr().is_terminal());
    // (anova's rule: ML when the fixed effects differ.)
    let method = if m0.fixed_names() == m1.fixed_names() {
        opts.method
    } else {
        crate::reml::Method::Ml
    };
    let test = anova_with(&m0, &m1, opts, |k, it| {
        if show && !it.loglik.is_nan() {
            progress(&format!(
                "m{k} iteration {:>3}  {} log-likelihood {:.6}  step {:.3e}  {:.2} s",
                it.iter,
                method,
                it.loglik,
                it.step_norm,
                start.elapsed().as_secs_f64()
            ));
        }
    })
    .map_err(|e| match e {
        FormulaError::Model(e) => Failure {
            message: format!("the fit failed: {e}"),
            status: EXIT_FAILED,
        },
        other => data_error(other.to_string()),
    })?;
    if test.fits.iter().any(|f| f.loglik.is_nan()) {
        // The iterative backend does not compute the log-likelihood.
        return Err(Failure {
            message: format!(
                "the likelihood-ratio test needs log-likelihoods, and the {} did not compute \
                 one: use --backend sparse or dense",
                test.fits
                    .iter()
                    .find(|f| f.loglik.is_nan())
                    .map_or("", |f| f.backend.as_str())
            ),
            status: EXIT_FAILED,
        });
    }
    let wall = start.elapsed().as_secs_f64();
    let (models, formulas) = if test.swapped {
        ([&m1, &m0], [&a.formulas[1], &a.formulas[0]])
    } else {
        ([&m0, &m1], [&a.formulas[0], &a.formulas[1]])
    };
    let stdout = if a.json {
        format!(
            "{}\n",
            report::lrt_json(&test, models, formulas, &a.data, wall)
        )
    } else {
        report::lrt_text(&test, formulas)
    };
    Ok(finish(stdout, &[&test.fits[0], &test.fits[1]]))
}
