//! Multi-trait formulas (MCMCglmm's meaning, lme4's notation):
//!
//! ```text
//! cbind(y1, y2[, y3 …]) ~ trait + trait:x + z + (0 + trait | g) + diag(0 + trait | h)
//! ```
//!
//! The responses are stacked into long format with a factor `trait` whose
//! levels are the response columns, in the order given. Fixed terms:
//! `trait` is one intercept per trait (required; `trait - 1` and `0 + trait`
//! mean the same), `trait:x` (or `x:trait`) a slope on the numeric column
//! `x` per trait, a plain numeric `x` one slope common to all traits.
//! Random terms: `(0 + trait | g)` or `us(0 + trait | g)` an unstructured
//! `G0` (⊗ I over the levels of `g`, or ⊗ A when a pedigree is given for
//! `g`), `diag(0 + trait | g)` a diagonal one, `fa(0 + trait | g, k)` a
//! factor-analytic one with `k` factors. The residual keyword is
//! `us(trait)` (the default; `iid` means it too) or `diag(trait)`.
//!
//! Rows with a missing covariate or grouping level are dropped and counted;
//! rows whose traits are all missing are dropped and counted; the other
//! rows keep their observed traits (see [`multi_trait`](crate::multi_trait)).
//!
//! ```
//! use covreml::data::Table;
//! use covreml::formula::multi_trait::CbindFormula;
//! let t = Table::parse("g,x,y1,y2\na,1,2.0,3.1\na,2,NA,4.0\nb,3,2.5,NA\nb,4,NA,NA\nc,5,3.5,5.2\nc,6,4.0,6.1\n").unwrap();
//! let f = CbindFormula::parse("cbind(y1, y2) ~ trait + trait:x + (0 + trait | g)").unwrap().unwrap();
//! assert_eq!(f.traits(), ["y1", "y2"]);
//! let m = f.build(&t, "us(trait)", &[]).unwrap();
//! assert_eq!(m.dropped_records(), 1); // line 5 has no trait
//! assert_eq!(m.n_obs(), 8);
//! assert_eq!(m.model().fixed_names(), ["traity1", "traity2", "traity1:x", "traity2:x"]);
//! // not a cbind formula: None, for the univariate path
//! assert!(CbindFormula::parse("y ~ x + (1 | g)").unwrap().is_none());
//! ```

use super::error::{FormulaError, Span};
use crate::data::Table;
use crate::multi_trait::{MultiTrait, MultiTraitModel, TraitCovariance, TraitResidual};
use crate::pedigree::Pedigree;
use crate::reml::RemlError;

/// A fixed slope of a multi-trait formula: one per trait (`trait:x`) or one
/// common to all traits (`x`).
#[derive(Clone, Debug, PartialEq)]
enum TraitSlope {
    PerTrait(String),
    Common(String),
}

/// A random term of a multi-trait formula.
#[derive(Clone, Debug, PartialEq)]
struct Random {
    group: String,
    cov: TraitCovariance,
    at: Span,
}

/// A parsed `cbind(…) ~ …` formula.
#[derive(Clone, Debug, PartialEq)]
pub struct CbindFormula {
    text: String,
    traits: Vec<String>,
    trait_spans: Vec<Span>,
    fixed: Vec<(TraitSlope, Span)>,
    random: Vec<Random>,
}

fn err(text: &str, start: usize, end: usize, what: impl Into<String>) -> FormulaError {
    FormulaError::Unsupported {
        at: Span { start, end },
        column: text[..start.min(text.len())].chars().count() + 1,
        what: what.into(),
    }
}

/// Splits `s` (at byte offset `base` of the formula) on `sep` outside
/// parentheses: `(piece, offset of its first non-blank byte)`.
fn split_top(s: &str, base: usize, sep: char) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            c if c == sep && depth == 0 => {
                out.push((start, i));
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push((start, s.len()));
    out.into_iter()
        .map(|(a, b)| {
            let piece = &s[a..b];
            let lead = piece.len() - piece.trim_start().len();
            (piece.trim().to_string(), base + a + lead)
        })
        .collect()
}

/// Whether `s` (spaces removed) is `0 + trait` or a spelling of it.
fn is_trait_only(s: &str) -> bool {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    matches!(s.as_str(), "0+trait" | "trait+0" | "trait-1" | "-1+trait")
}

fn strip_name(s: &str) -> &str {
    s.trim().trim_matches('`')
}

/// The responses of `cbind(…)` (its inside `inner`, starting at byte
/// `at0` of `formula`), with their spans.
fn parse_responses(
    formula: &str,
    inner: &str,
    at0: usize,
) -> Result<(Vec<String>, Vec<Span>), FormulaError> {
    let mut traits = Vec::new();
    let mut trait_spans = Vec::new();
    for (name, at) in split_top(inner, at0, ',') {
        let name = strip_name(&name).to_string();
        if name.is_empty() {
            return Err(err(formula, at, at + 1, "an empty response in cbind(…)"));
        }
        if name == "trait" {
            return Err(err(
                formula,
                at,
                at + 5,
                "`trait` names the stacked trait factor; rename the response column",
            ));
        }
        if traits.contains(&name) {
            return Err(err(
                formula,
                at,
                at + name.len(),
                format!("response `{name}` is given twice"),
            ));
        }
        trait_spans.push(Span {
            start: at,
            end: at + name.len(),
        });
        traits.push(name);
    }
    Ok((traits, trait_spans))
}

/// A multi-trait random term `(0 + trait | g)`, `diag(…)` or `fa(…, k)`
/// (`term` at byte `at` of `formula`), `None` if `term` is not one.
fn parse_random(formula: &str, term: &str, at: usize) -> Result<Option<Random>, FormulaError> {
    let end = at + term.len();
    let (kw, body) = match term.find('(') {
        Some(p) if term.ends_with(')') => (term[..p].trim(), &term[p + 1..term.len() - 1]),
        _ => ("", ""),
    };
    if !(term.ends_with(')') && matches!(kw, "" | "us" | "diag" | "fa")) {
        return Ok(None);
    }
    let body_at = at + term.find('(').unwrap_or(0) + 1;
    let parts = split_top(body, body_at, '|');
    let bad = || {
        err(
            formula,
            at,
            end,
            "a multi-trait random term is (0 + trait | g), diag(0 + trait | g) or \
             fa(0 + trait | g, k)",
        )
    };
    if parts.len() != 2 || !is_trait_only(&parts[0].0) {
        return Err(bad());
    }
    let (group, cov) = if kw == "fa" {
        let gk = split_top(&parts[1].0, parts[1].1, ',');
        let k = gk.get(1).and_then(|(k, _)| k.parse::<usize>().ok());
        match (gk.len(), k) {
            (2, Some(k)) if (1..=3).contains(&k) => {
                (gk[0].0.clone(), TraitCovariance::FactorAnalytic(k))
            }
            _ => {
                return Err(err(
                    formula,
                    at,
                    end,
                    "fa(0 + trait | g, k) needs a number of factors k of 1, 2 or 3",
                ))
            }
        }
    } else if kw == "diag" {
        (parts[1].0.clone(), TraitCovariance::Diagonal)
    } else {
        (parts[1].0.clone(), TraitCovariance::Unstructured)
    };
    let group = strip_name(&group).to_string();
    if group.is_empty() || group.contains([':', '/', '(', ' ']) {
        return Err(err(
            formula,
            parts[1].1,
            end - 1,
            "the grouping of a multi-trait random term is one column",
        ));
    }
    let g_at = body_at + body.rfind(group.as_str()).unwrap_or(0);
    Ok(Some(Random {
        at: Span {
            start: g_at,
            end: g_at + group.len(),
        },
        group,
        cov,
    }))
}

/// A multi-trait fixed term (`trait:x`, `x:trait` or a numeric `x`) at
/// byte `at` of `formula`, with the span of its column.
fn parse_fixed(formula: &str, term: &str, at: usize) -> Result<(TraitSlope, Span), FormulaError> {
    let end = at + term.len();
    let span_of = |name: &str| {
        let i = term.find(name).unwrap_or(0);
        Span {
            start: at + i,
            end: at + i + name.len(),
        }
    };
    let pieces: Vec<&str> = term.split(':').map(strip_name).collect();
    let plain = |s: &str| !s.is_empty() && !s.contains(['(', ')', '*', '-', '/', '^', '|']);
    match pieces.as_slice() {
        [a, b] if *a == "trait" && plain(b) => {
            Ok((TraitSlope::PerTrait(b.to_string()), span_of(b)))
        }
        [a, b] if *b == "trait" && plain(a) => {
            Ok((TraitSlope::PerTrait(a.to_string()), span_of(a)))
        }
        [a] if plain(a) => Ok((TraitSlope::Common(a.to_string()), span_of(a))),
        _ => Err(err(
            formula,
            at,
            end,
            "a multi-trait fixed term is `trait`, `trait:x` (a slope per trait) or a \
                 numeric `x` (one common slope); factors, interactions and transformations \
                 are not supported in multi-trait formulas yet",
        )),
    }
}

impl CbindFormula {
    /// Parses `formula`: `Ok(None)` if its left-hand side is not
    /// `cbind(…)` (an ordinary formula), an error naming the place if it is
    /// one this layer does not understand.
    pub fn parse(formula: &str) -> Result<Option<Self>, FormulaError> {
        let Some(tilde) = formula.find('~') else {
            return Ok(None);
        };
        let lhs = formula[..tilde].trim();
        let lhs_at = formula[..tilde].len() - formula[..tilde].trim_start().len();
        let Some(inner) = lhs
            .strip_prefix("cbind")
            .map(str::trim_start)
            .and_then(|s| s.strip_prefix('('))
            .and_then(|s| s.strip_suffix(')'))
        else {
            return Ok(None);
        };
        let (traits, trait_spans) =
            parse_responses(formula, inner, lhs_at + lhs.find('(').unwrap_or(0) + 1)?;
        if traits.len() < 2 {
            return Err(err(
                formula,
                lhs_at,
                lhs_at + lhs.len(),
                "cbind(…) needs at least two responses (a single response is an ordinary formula)",
            ));
        }
        let mut fixed = Vec::new();
        let mut random = Vec::new();
        let mut intercepts = false;
        for (term, at) in split_top(&formula[tilde + 1..], tilde + 1, '+') {
            let end = at + term.len();
            let compact: String = term.chars().filter(|c| !c.is_whitespace()).collect();
            match compact.as_str() {
                "" => return Err(err(formula, at, at + 1, "an empty term")),
                "trait" | "trait-1" | "0" | "-1" | "-1+trait" => {
                    intercepts |= compact.contains("trait");
                    continue;
                }
                "1" => {
                    return Err(err(
                        formula,
                        at,
                        end,
                        "a common intercept: write `trait` (one intercept per trait)",
                    ))
                }
                _ => {}
            }
            if let Some(r) = parse_random(formula, &term, at)? {
                random.push(r);
                continue;
            }
            fixed.push(parse_fixed(formula, &term, at)?);
        }
        if !intercepts {
            return Err(err(
                formula,
                tilde,
                formula.len(),
                "a multi-trait formula needs `trait` on the right-hand side (one intercept per trait)",
            ));
        }
        Ok(Some(CbindFormula {
            text: formula.to_string(),
            traits,
            trait_spans,
            fixed,
            random,
        }))
    }

    /// The response columns, in order: the levels of `trait`.
    pub fn traits(&self) -> &[String] {
        &self.traits
    }

    /// The formula text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The grouping columns of the random terms, in order.
    pub fn groups(&self) -> Vec<&str> {
        self.random.iter().map(|r| r.group.as_str()).collect()
    }

    fn column_error(&self, table: &Table, name: &str, at: Span) -> FormulaError {
        FormulaError::UnknownColumn {
            name: name.to_string(),
            at,
            column: self.text[..at.start].chars().count() + 1,
            available: table.names().join(", "),
            suggestion: None,
        }
    }

    /// Builds the multi-trait model on `table` with the residual keyword
    /// `residual` (`us(trait)`, `iid` or `diag(trait)`) and a pedigree for
    /// the grouping columns listed in `pedigrees` (`G0 ⊗ A` over every
    /// animal of the pedigree).
    pub fn build(
        &self,
        table: &Table,
        residual: &str,
        pedigrees: &[(String, Pedigree)],
    ) -> Result<MultiTraitModel, FormulaError> {
        let compact: String = residual.chars().filter(|c| !c.is_whitespace()).collect();
        let res =
            match compact.as_str() {
                "" | "iid" | "us(trait)" => TraitResidual::Unstructured,
                "diag(trait)" => TraitResidual::Diagonal,
                _ => return Err(err(
                    residual,
                    0,
                    residual.len(),
                    "the residual of a multi-trait model is us(trait) (the default) or diag(trait)",
                )),
            };
        // Rows with a missing covariate or grouping level are dropped.
        let mut used: Vec<(&str, Span)> = Vec::new();
        for (f, at) in &self.fixed {
            let (TraitSlope::PerTrait(x) | TraitSlope::Common(x)) = f;
            used.push((x, *at));
        }
        for r in &self.random {
            used.push((&r.group, r.at));
        }
        let mut keep = vec![true; table.n_rows()];
        for (name, at) in &used {
            let miss = table
                .is_missing(name)
                .map_err(|_| self.column_error(table, name, *at))?;
            for (k, m) in keep.iter_mut().zip(miss) {
                *k &= !m;
            }
        }
        for (t, at) in self.traits.iter().zip(&self.trait_spans) {
            table
                .column(t)
                .map_err(|_| self.column_error(table, t, *at))?;
        }
        let rows: Vec<usize> = (0..table.n_rows()).filter(|&i| keep[i]).collect();
        let table = table.select_rows(&rows)?;
        let mut y = Vec::with_capacity(self.traits.len());
        for t in &self.traits {
            let col = table.numeric_opt(t)?;
            y.push(col.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect());
        }
        let names: Vec<&str> = self.traits.iter().map(String::as_str).collect();
        let model = |e: RemlError| FormulaError::Model(e);
        let mut m = MultiTrait::new(&names, y).map_err(model)?;
        for (f, _) in &self.fixed {
            m = match f {
                TraitSlope::PerTrait(x) => m.trait_slope(x, table.numeric(x)?),
                TraitSlope::Common(x) => m.common_slope(x, table.numeric(x)?),
            }
            .map_err(model)?;
        }
        for r in &self.random {
            let levels = table.column(&r.group)?;
            m = match pedigrees.iter().find(|(g, _)| *g == r.group) {
                Some((_, ped)) => m.animal(&r.group, levels, ped, r.cov),
                None => m.random(&r.group, levels, r.cov),
            }
            .map_err(model)?;
        }
        let m = m.residual(res).build().map_err(model)?;
        Ok(m.with_dropped_missing(table_rows_dropped(keep.len(), rows.len())))
    }
}

fn table_rows_dropped(all: usize, kept: usize) -> usize {
    all - kept
}
