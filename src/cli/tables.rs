//! The command's tables: the BLUPs (`fit --blups`), the fitted values and
//! residuals (`fit --residuals`) and predictions (`predict`), as CSV.

use super::{data_error, Failure, EXIT_FAILED};
use crate::data::Table;
use crate::formula::{FormulaError, FormulaModel};
use crate::reml::RemlFit;
use std::fmt::Write;

/// A CSV field: quoted when it holds a comma, a quote or a line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A post-estimation failure: the model's own (exit 1) or the data's (2).
pub(crate) fn post_failure(e: FormulaError) -> Failure {
    match e {
        FormulaError::Model(e) => Failure {
            message: format!("post-estimation failed: {e}"),
            status: EXIT_FAILED,
        },
        other => data_error(other.to_string()),
    }
}

fn write_file(path: &str, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text).map_err(|e| data_error(format!("cannot write `{path}`: {e}")))
}

/// Writes `term,coefficient,level,blup,se` for every random effect.
pub(crate) fn write_blups(path: &str, model: &FormulaModel, fit: &RemlFit) -> Result<(), Failure> {
    let mut s = String::from("term,coefficient,level,blup,se\n");
    for r in model.random_effects(fit).map_err(post_failure)? {
        let _ = writeln!(
            s,
            "{},{},{},{},{}",
            field(&r.term),
            field(&r.coefficient),
            field(&r.level),
            r.blup,
            r.standard_error
        );
    }
    write_file(path, &s)
}

/// Writes `line,fitted,residual` for every row fitted (its file line).
pub(crate) fn write_residuals(
    path: &str,
    model: &FormulaModel,
    fit: &RemlFit,
    table: &Table,
) -> Result<(), Failure> {
    let f = model.fitted_values(fit).map_err(post_failure)?;
    let dropped = model.dropped_lines();
    let lines = table.lines().iter().filter(|l| !dropped.contains(l));
    let mut s = String::from("line,fitted,residual\n");
    for ((line, fitted), residual) in lines.zip(&f.fitted).zip(&f.residuals) {
        let _ = writeln!(s, "{line},{fitted},{residual}");
    }
    write_file(path, &s)
}

/// The predictions for `new` (file `newdata`): `line,prediction` CSV, or
/// JSON.
pub(crate) fn predictions(
    model: &FormulaModel,
    fit: &RemlFit,
    new: &Table,
    population: bool,
    se: bool,
    json: bool,
) -> Result<String, Failure> {
    let p = if population {
        model.predict_population(fit, new)
    } else {
        model.predict(fit, new)
    }
    .map_err(post_failure)?;
    let ses = if se {
        Some(
            model
                .prediction_standard_errors(fit, new, population)
                .map_err(post_failure)?,
        )
    } else {
        None
    };
    if json {
        let mut j = serde_json::json!({
            "formula": model.formula(),
            "population": population,
            "lines": new.lines(),
            "predictions": p,
        });
        if let Some(se) = &ses {
            j["standard_errors"] = serde_json::json!(se);
        }
        return Ok(format!("{j}\n"));
    }
    let mut s = String::from(if se {
        "line,prediction,se\n"
    } else {
        "line,prediction\n"
    });
    for (i, (line, v)) in new.lines().iter().zip(&p).enumerate() {
        match &ses {
            Some(se) => {
                let _ = writeln!(s, "{line},{v},{}", se[i]);
            }
            None => {
                let _ = writeln!(s, "{line},{v}");
            }
        }
    }
    Ok(s)
}
