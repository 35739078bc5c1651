//! From the syntax tree to model terms: `a*b` becomes `a + b + a:b`,
//! `g1/g2` becomes `g1 + g1:g2`, `-` removes terms, `0`/`-1` remove the
//! intercept, `||` splits a random term into one term per coefficient.
//! Fixed terms are ordered by degree (main effects first), as R orders them.

use super::ast::{Expr, Formula, Item, RandomTerm, TermStructure, Var};
use super::error::{FormulaError, Span};

/// The most parts a `*` may cross (2⁸ − 1 = 255 terms).
const MAX_CROSSED: usize = 8;

/// A fixed-effect term or a random slope's covariate: the interaction of its
/// variables (one variable for a main effect), each variable once, in order
/// of first appearance. (Named for what it is: `reml`'s `Term` is a random
/// term with its design and covariance.)
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Interaction {
    pub(crate) vars: Vec<Var>,
}

impl Interaction {
    fn key(&self) -> Vec<(String, bool)> {
        let mut k: Vec<(String, bool)> = self
            .vars
            .iter()
            .map(|v| (v.name.clone(), v.as_factor))
            .collect();
        k.sort();
        k
    }
    /// The same set of variables.
    pub(crate) fn same(&self, other: &Interaction) -> bool {
        self.key() == other.key()
    }
    /// The term without variable `i` (its margin).
    pub(crate) fn without(&self, i: usize) -> Interaction {
        let mut vars = self.vars.clone();
        vars.remove(i);
        Interaction { vars }
    }
}

/// One coefficient of a random term.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Coef {
    /// The random intercept.
    Intercept,
    /// A random slope on the product of these numeric columns.
    Slope(Interaction),
}

/// A random term after expansion: coefficients (intercept first) that vary
/// over the levels of the interaction of the grouping columns.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RandomSpec {
    pub(crate) coefs: Vec<Coef>,
    pub(crate) group: Vec<Var>,
    pub(crate) span: Span,
    /// The covariance of the coefficients (`Us` for a plain term).
    pub(crate) structure: TermStructure,
}

/// The expanded formula: the intercept switch, the fixed terms (ordered by
/// degree) and the random terms.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExpandedFormula {
    pub(crate) intercept: bool,
    pub(crate) fixed: Vec<Interaction>,
    pub(crate) random: Vec<RandomSpec>,
}

/// Fixed terms of one expression, or the intercept switch.
enum Expanded {
    Intercept(bool),
    Terms(Vec<Interaction>),
}

fn expand(text: &str, e: &Expr) -> Result<Expanded, FormulaError> {
    match e {
        Expr::One(_) => Ok(Expanded::Intercept(true)),
        Expr::Zero(_) => Ok(Expanded::Intercept(false)),
        Expr::Var(v) => Ok(Expanded::Terms(vec![Interaction {
            vars: vec![v.clone()],
        }])),
        Expr::Interaction(parts) => {
            let mut vars: Vec<Var> = Vec::new();
            for p in parts {
                match p {
                    Expr::Var(v) => {
                        if !vars
                            .iter()
                            .any(|w| w.name == v.name && w.as_factor == v.as_factor)
                        {
                            vars.push(v.clone());
                        }
                    }
                    other => return Err(FormulaError::unsupported(
                        text,
                        other.span(),
                        "`1` or `0` inside an interaction; interactions join column names (`a:b`)",
                    )),
                }
            }
            Ok(Expanded::Terms(vec![Interaction { vars }]))
        }
        Expr::Cross(parts) => {
            if parts.len() > MAX_CROSSED {
                return Err(FormulaError::unsupported(
                    text,
                    e.span(),
                    format!(
                        "{} parts crossed with `*`; at most {MAX_CROSSED} (write the terms out)",
                        parts.len()
                    ),
                ));
            }
            let mut singles = Vec::with_capacity(parts.len());
            for p in parts {
                match expand(text, p)? {
                    Expanded::Terms(mut t) if t.len() == 1 => singles.push(t.remove(0)),
                    _ => {
                        return Err(FormulaError::unsupported(
                            text,
                            p.span(),
                            "`1` or `0` inside `*`; cross column names (`a*b`)",
                        ))
                    }
                }
            }
            let mut out: Vec<Interaction> = Vec::new();
            for mask in 1u32..(1 << singles.len()) {
                let mut vars: Vec<Var> = Vec::new();
                for (i, t) in singles.iter().enumerate() {
                    if mask & (1 << i) != 0 {
                        for v in &t.vars {
                            if !vars
                                .iter()
                                .any(|w| w.name == v.name && w.as_factor == v.as_factor)
                            {
                                vars.push(v.clone());
                            }
                        }
                    }
                }
                let t = Interaction { vars };
                if !out.iter().any(|o| o.same(&t)) {
                    out.push(t);
                }
            }
            Ok(Expanded::Terms(out))
        }
    }
}

/// Adds (`sign`) or removes terms, keeping first-seen order.
fn apply(list: &mut Vec<Interaction>, terms: Vec<Interaction>, sign: bool) {
    for t in terms {
        if sign {
            if !list.iter().any(|o| o.same(&t)) {
                list.push(t);
            }
        } else {
            list.retain(|o| !o.same(&t));
        }
    }
}

fn random_spec(text: &str, r: &RandomTerm) -> Result<Vec<RandomSpec>, FormulaError> {
    let mut intercept = true;
    let mut slopes: Vec<Interaction> = Vec::new();
    for (sign, e) in &r.lhs {
        match expand(text, e)? {
            Expanded::Intercept(on) => intercept = if *sign { on } else { !on },
            Expanded::Terms(ts) => apply(&mut slopes, ts, *sign),
        }
    }
    let mut coefs = Vec::new();
    if intercept {
        coefs.push(Coef::Intercept);
    }
    coefs.extend(slopes.into_iter().map(Coef::Slope));
    if coefs.is_empty() {
        return Err(FormulaError::unsupported(
            text,
            r.span,
            "a random term without coefficients (no intercept and no slope)",
        ));
    }
    // g1/g2/g3 → g1, g1:g2, g1:g2:g3
    let mut groups: Vec<Vec<Var>> = Vec::new();
    let mut acc: Vec<Var> = Vec::new();
    for g in &r.groups {
        acc.extend(g.iter().cloned());
        groups.push(acc.clone());
    }
    let structure = r.structure.unwrap_or(TermStructure::Us);
    let mut out = Vec::new();
    for group in groups {
        if r.correlated {
            out.push(RandomSpec {
                coefs: coefs.clone(),
                group,
                span: r.span,
                structure,
            });
        } else {
            for c in &coefs {
                out.push(RandomSpec {
                    coefs: vec![c.clone()],
                    group: group.clone(),
                    span: r.span,
                    structure,
                });
            }
        }
    }
    Ok(out)
}

/// The variables of `e` in order of appearance, each once.
fn collect_vars(e: &Expr, out: &mut Vec<(String, bool)>) {
    match e {
        Expr::Var(v) => {
            if !out.iter().any(|(n, a)| *n == v.name && *a == v.as_factor) {
                out.push((v.name.clone(), v.as_factor));
            }
        }
        Expr::Interaction(es) | Expr::Cross(es) => es.iter().for_each(|e| collect_vars(e, out)),
        Expr::One(_) | Expr::Zero(_) => {}
    }
}

/// Expands a parsed formula into terms.
pub(crate) fn terms(f: &Formula) -> Result<ExpandedFormula, FormulaError> {
    let mut intercept = true;
    let mut fixed: Vec<Interaction> = Vec::new();
    let mut random = Vec::new();
    for (sign, item) in &f.items {
        match item {
            Item::Fixed(e) => match expand(&f.text, e)? {
                Expanded::Intercept(on) => intercept = if *sign { on } else { !on },
                Expanded::Terms(ts) => apply(&mut fixed, ts, *sign),
            },
            Item::Random(r) => {
                if !*sign {
                    return Err(FormulaError::unsupported(
                        &f.text,
                        r.span,
                        "removing a random term with `-`",
                    ));
                }
                random.extend(random_spec(&f.text, r)?);
            }
        }
    }
    // Variables within a term in order of first appearance in the formula
    // (R writes `f + trt:f` as `f:trt`); terms by degree, first-seen order
    // within a degree.
    let mut order: Vec<(String, bool)> = Vec::new();
    for (_, item) in &f.items {
        if let Item::Fixed(e) = item {
            collect_vars(e, &mut order);
        }
    }
    let rank = |v: &Var| {
        order
            .iter()
            .position(|(n, a)| *n == v.name && *a == v.as_factor)
            .unwrap_or(usize::MAX)
    };
    for t in &mut fixed {
        t.vars.sort_by_key(|v| rank(v));
    }
    fixed.sort_by_key(|t| t.vars.len());
    Ok(ExpandedFormula {
        intercept,
        fixed,
        random,
    })
}

#[cfg(test)]
mod tests {
    use super::super::parser::parse;
    use super::*;

    fn labels(t: &ExpandedFormula) -> Vec<String> {
        t.fixed
            .iter()
            .map(|t| {
                t.vars
                    .iter()
                    .map(|v| v.name.as_str())
                    .collect::<Vec<_>>()
                    .join(":")
            })
            .collect()
    }

    #[test]
    fn crossing_nesting_and_removal() {
        let t = terms(&parse("y ~ a*b*c - a:b:c - 1 + (x || g/h)").unwrap()).unwrap();
        assert!(!t.intercept);
        assert_eq!(labels(&t), ["a", "b", "c", "a:b", "a:c", "b:c"]);
        // || splits into (1|g) (0+x|g) (1|g:h) (0+x|g:h)
        assert_eq!(t.random.len(), 4);
        assert_eq!(t.random[2].group.len(), 2);
        assert_eq!(t.random[3].coefs.len(), 1);
        let t = terms(&parse("y ~ x:f + f + (0 + x | g)").unwrap()).unwrap();
        assert!(t.intercept);
        assert_eq!(labels(&t), ["f", "x:f"]);
        assert_eq!(t.random[0].coefs.len(), 1);
        assert!(matches!(t.random[0].coefs[0], Coef::Slope(_)));
    }
}
