//! `covreml fit DATA.csv --formula "cbind(y1, y2) ~ trait + … + (0 + trait | g)"`:
//! the multi-trait fit, its text report and its JSON (matrices named by
//! trait), and `--blups` by level and trait.

use super::args::Args;
use super::{data_error, finish, formula_failure, Failure, Outcome, EXIT_FAILED};
use crate::data::Table;
use crate::formula::multi_trait::CbindFormula;
use crate::multi_trait::{MultiTraitFit, MultiTraitModel, TraitMatrix};
use crate::pedigree::Pedigree;
use crate::reml::RemlOptions;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::time::Instant;

/// Fits the multi-trait formula `f` and reports it.
pub(crate) fn fit_command(
    a: &Args,
    table: &Table,
    opts: &RemlOptions,
    f: &CbindFormula,
) -> Result<Outcome, Failure> {
    let start = Instant::now();
    if a.weights.is_some() {
        return Err(data_error(
            "--weights is not available for multi-trait models yet".into(),
        ));
    }
    let mut pedigrees = Vec::new();
    for (column, file, pedigree) in &a.relationships {
        if !*pedigree {
            return Err(data_error(format!(
                "--grm {column}={file}: multi-trait models take --pedigree only so far"
            )));
        }
        let fail = |e: String| data_error(format!("--pedigree {column}={file}: {e}"));
        let t = Table::read(file).map_err(|e| fail(e.to_string()))?;
        let names = t.names().to_vec();
        if names.len() < 3 {
            return Err(fail(
                "a pedigree needs three columns (animal, sire, dam)".into(),
            ));
        }
        let p = Pedigree::from_table(&t, &names[0], &names[1], &names[2])
            .map_err(|e| fail(e.to_string()))?;
        pedigrees.push((column.clone(), p));
    }
    let model = f
        .build(table, &a.residual, &pedigrees)
        .map_err(|e| formula_failure(f.text(), &a.residual, e))?;
    let fit = model.fit(opts).map_err(|e| Failure {
        message: format!("the fit failed: {e}"),
        status: EXIT_FAILED,
    })?;
    let wall = start.elapsed().as_secs_f64();
    let residual = if a.residual == "iid" {
        "us(trait)"
    } else {
        a.residual.as_str()
    };
    let stdout = if a.json {
        format!(
            "{}\n",
            json_report(f, &model, &fit, (residual, &a.data), &a.relationships, wall)
        )
    } else {
        text_report(f, &model, &fit, residual, wall)
    };
    if let Some(path) = &a.blups {
        write_blups(path, &model, &fit)?;
    }
    if a.residuals.is_some() {
        return Err(data_error(
            "--residuals is not available for multi-trait models yet".into(),
        ));
    }
    Ok(finish(stdout, &[&fit.fit]))
}

fn num(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

/// `{trait: {trait: value}}`.
fn named(m: &nalgebra::DMatrix<f64>, traits: &[String]) -> Value {
    let mut outer = Map::new();
    for (a, ta) in traits.iter().enumerate() {
        let mut inner = Map::new();
        for (b, tb) in traits.iter().enumerate() {
            inner.insert(tb.clone(), num(m[(a, b)]));
        }
        outer.insert(ta.clone(), Value::Object(inner));
    }
    Value::Object(outer)
}

fn matrix_json(m: &TraitMatrix, structure: &str, over: &str) -> Value {
    json!({
        "term": m.term,
        "structure": structure,
        "over": over,
        "traits": m.traits,
        "covariance": named(&m.covariance, &m.traits),
        "covariance_se": named(&m.covariance_se, &m.traits),
        "correlation": named(&m.correlation, &m.traits),
        "correlation_se": named(&m.correlation_se, &m.traits),
    })
}

fn structure_name(model: &MultiTraitModel, i: usize) -> (&'static str, &'static str) {
    let t = &model.terms[i];
    let s = match t.cov {
        crate::multi_trait::TraitCovariance::Unstructured => "us",
        crate::multi_trait::TraitCovariance::Diagonal => "diag",
        crate::multi_trait::TraitCovariance::FactorAnalytic(_) => "fa",
    };
    (s, if t.pedigree { "A" } else { "I" })
}

fn json_report(
    f: &CbindFormula,
    model: &MultiTraitModel,
    fit: &MultiTraitFit,
    (residual, data): (&str, &str),
    relationships: &[(String, String, bool)],
    wall: f64,
) -> Value {
    let r = &fit.fit;
    let fixed: Vec<Value> = r
        .beta_names
        .iter()
        .zip(r.beta.iter().zip(&r.beta_se))
        .map(|(n, (b, s))| json!({"name": n, "estimate": num(*b), "standard_error": num(*s)}))
        .collect();
    let random: Vec<Value> = fit
        .g
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let (s, over) = structure_name(model, i);
            let mut j = matrix_json(m, s, over);
            // The pedigree file of a term over A.
            let file = relationships
                .iter()
                .find(|(column, _, pedigree)| *pedigree && over == "A" && *column == m.term)
                .map(|(_, file, _)| json!({"kind": "pedigree", "file": file}));
            j["relationship"] = file.unwrap_or(Value::Null);
            j
        })
        .collect();
    let h2: Vec<Value> = fit
        .heritabilities
        .iter()
        .map(|h| json!({"term": h.term, "trait": h.trait_name, "value": num(h.value), "standard_error": num(h.se)}))
        .collect();
    json!({
        "model": "multi-trait",
        "data": data,
        "formula": f.text(),
        "residual": residual,
        "method": r.method.to_string(),
        "traits": model.traits(),
        "n_observations": r.n,
        "n_records": model.records().len(),
        "dropped_no_trait": fit.dropped_records,
        "dropped_missing_covariate": model.dropped_missing(),
        "loglik": num(r.loglik),
        "aic": num(r.aic),
        "bic": num(r.bic),
        "converged": r.termination.is_converged(),
        "termination": r.termination.to_string(),
        "singular": r.singular,
        "iterations": r.iterations,
        "backend": r.backend,
        "warnings": r.warnings,
        "seconds": wall,
        "fixed_effects": fixed,
        "random": random,
        "residual_covariance": matrix_json(&fit.r, residual, "records"),
        "heritability": h2,
        "parameters": r.names,
        "natural": r.natural.iter().map(|v| num(*v)).collect::<Vec<_>>(),
        "standard_errors": r.natural_se.iter().map(|v| num(*v)).collect::<Vec<_>>(),
    })
}

fn matrix_text(out: &mut String, title: &str, m: &TraitMatrix) {
    let _ = writeln!(out, "{title}");
    let _ = writeln!(
        out,
        "  {:<12} {:<12} {:>14} {:>12} {:>12} {:>12}",
        "trait", "trait", "(co)variance", "SE", "correlation", "SE"
    );
    let t = m.traits.len();
    for a in 0..t {
        for b in 0..=a {
            let (corr, cse) = if a == b {
                (String::new(), String::new())
            } else {
                (
                    format!("{:.6}", m.correlation[(a, b)]),
                    format!("{:.6}", m.correlation_se[(a, b)]),
                )
            };
            let _ = writeln!(
                out,
                "  {:<12} {:<12} {:>14.6} {:>12.6} {:>12} {:>12}",
                m.traits[a],
                m.traits[b],
                m.covariance[(a, b)],
                m.covariance_se[(a, b)],
                corr,
                cse
            );
        }
    }
}

fn text_report(
    f: &CbindFormula,
    model: &MultiTraitModel,
    fit: &MultiTraitFit,
    residual: &str,
    wall: f64,
) -> String {
    let r = &fit.fit;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Multi-trait linear mixed model fit by {} (covreml)",
        r.method
    );
    let _ = writeln!(out, "Formula: {}", f.text());
    let _ = writeln!(out, "Residual: {residual}");
    let _ = writeln!(
        out,
        "Traits: {}; {} records, {} observations; dropped: {} rows with no trait, {} with a missing covariate or group",
        model.traits().join(", "),
        model.records().len(),
        r.n,
        fit.dropped_records,
        model.dropped_missing()
    );
    let _ = writeln!(
        out,
        "{} log-likelihood {:.6}   AIC {:.4}   BIC {:.4}",
        r.method, r.loglik, r.aic, r.bic
    );
    let _ = writeln!(
        out,
        "Termination: {} after {} iterations ({}; {:.2} s)",
        r.termination, r.iterations, r.backend, wall
    );
    for w in &r.warnings {
        let _ = writeln!(out, "Note: {w}");
    }
    for (i, m) in fit.g.iter().enumerate() {
        let (s, over) = structure_name(model, i);
        let _ = writeln!(out);
        matrix_text(
            &mut out,
            &format!("Random term {} (G0: {s}(trait) ⊗ {over}):", m.term),
            m,
        );
    }
    let _ = writeln!(out);
    matrix_text(&mut out, &format!("Residual (R0: {residual}):"), &fit.r);
    if !fit.heritabilities.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "Heritabilities h² = g_ii / (g_ii + r_ii):");
        for h in &fit.heritabilities {
            let _ = writeln!(
                out,
                "  {:<12} {:<12} {:>12.6} {:>12.6}",
                h.term, h.trait_name, h.value, h.se
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Fixed effects:");
    let _ = writeln!(out, "  {:<24} {:>14} {:>12}", "", "estimate", "SE");
    for (n, (b, s)) in r.beta_names.iter().zip(r.beta.iter().zip(&r.beta_se)) {
        let _ = writeln!(out, "  {n:<24} {b:>14.6} {s:>12.6}");
    }
    out
}

fn write_blups(path: &str, model: &MultiTraitModel, fit: &MultiTraitFit) -> Result<(), Failure> {
    let blups = model.blups(fit).map_err(|e| Failure {
        message: format!("--blups: {e}"),
        status: EXIT_FAILED,
    })?;
    let mut out = String::from("term,level,trait,blup,se\n");
    for b in &blups {
        for (l, level) in b.levels.iter().enumerate() {
            for (k, t) in b.traits.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{},{},{},{},{}",
                    b.term,
                    level,
                    t,
                    b.values[(l, k)],
                    b.se[(l, k)]
                );
            }
        }
    }
    std::fs::write(path, out).map_err(|e| data_error(format!("--blups {path}: {e}")))
}
