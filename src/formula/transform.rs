//! Functions of columns in a formula, as lme4 users write them: `log(x)`,
//! `exp(x)`, `sqrt(x)`, `scale(x)` (centred and divided by the standard
//! deviation), `I(…)` arithmetic (`+ - * / ^`, numbers, parentheses),
//! `poly(x, k)` (R's orthogonal polynomials of degree 1…k), nested freely
//! (`log(x + 1)`, `I(log(x)^2)`). `scale` and `poly` remember the numbers
//! they were built with (the mean and standard deviation; the recurrence
//! coefficients), so that predictions for new data use the same
//! transformation, as R's `predict` does.

use super::error::{FormulaError, Span};
use crate::data::Table;
use std::collections::HashMap;

/// A function a formula may apply.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Func {
    /// `log(x)`, the natural logarithm.
    Log,
    /// `exp(x)`.
    Exp,
    /// `sqrt(x)`.
    Sqrt,
    /// `scale(x)`: `(x − mean) / sd`.
    Scale,
    /// `I(x)`: arithmetic as written.
    I,
    /// `poly(x, k)`: orthogonal polynomials of degree 1…k.
    Poly(usize),
}

/// The functions a formula knows, for messages.
pub(crate) const KNOWN_FUNCTIONS: &str = "log, exp, sqrt, scale, I, poly and factor";

impl Func {
    /// The function of a name, if it is one.
    pub(crate) fn of_name(name: &str) -> Option<Func> {
        Some(match name {
            "log" => Func::Log,
            "exp" => Func::Exp,
            "sqrt" => Func::Sqrt,
            "scale" => Func::Scale,
            "I" => Func::I,
            "poly" => Func::Poly(0),
            _ => return None,
        })
    }
    fn name(self) -> &'static str {
        match self {
            Func::Log => "log",
            Func::Exp => "exp",
            Func::Sqrt => "sqrt",
            Func::Scale => "scale",
            Func::I => "I",
            Func::Poly(_) => "poly",
        }
    }
}

/// An arithmetic operator inside a function call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
}

/// A numeric expression of columns.
#[derive(Clone, Debug, PartialEq)]
pub enum Arith {
    /// A column, and where it is written.
    Column(String, Span),
    /// A number.
    Number(f64),
    /// `-a`.
    Neg(Box<Arith>),
    /// `a op b`.
    Binary(Op, Box<Arith>, Box<Arith>),
    /// `f(a)`.
    Call(Func, Box<Arith>),
}

impl Arith {
    /// The columns read, in order, each once.
    pub(crate) fn columns(&self, out: &mut Vec<(String, Span)>) {
        match self {
            Arith::Column(n, s) => {
                if !out.iter().any(|(m, _)| m == n) {
                    out.push((n.clone(), *s));
                }
            }
            Arith::Number(_) => {}
            Arith::Neg(a) | Arith::Call(_, a) => a.columns(out),
            Arith::Binary(_, a, b) => {
                a.columns(out);
                b.columns(out);
            }
        }
    }

    /// The expression as R deparses it (lme4's coefficient names):
    /// `log(x + 1)`, `I(x^2)`, `poly(x, 2)`.
    pub(crate) fn render(&self) -> String {
        match self {
            Arith::Column(n, _) => n.clone(),
            Arith::Number(x) => format!("{x}"),
            Arith::Neg(a) => format!("-{}", a.render_operand(Op::Pow)),
            Arith::Binary(op, a, b) => {
                let (sym, tight) = match op {
                    Op::Add => ("+", false),
                    Op::Sub => ("-", false),
                    Op::Mul => ("*", false),
                    Op::Div => ("/", false),
                    Op::Pow => ("^", true),
                };
                let (l, r) = (a.render_operand(*op), b.render_right(*op));
                if tight {
                    format!("{l}{sym}{r}")
                } else {
                    format!("{l} {sym} {r}")
                }
            }
            Arith::Call(Func::Poly(k), a) => format!("poly({}, {k})", a.render()),
            Arith::Call(f, a) => format!("{}({})", f.name(), a.render()),
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Arith::Binary(Op::Add | Op::Sub, ..) => 1,
            Arith::Binary(Op::Mul | Op::Div, ..) => 2,
            Arith::Neg(_) => 3,
            Arith::Binary(Op::Pow, ..) => 4,
            _ => 5,
        }
    }

    fn op_precedence(op: Op) -> u8 {
        match op {
            Op::Add | Op::Sub => 1,
            Op::Mul | Op::Div => 2,
            Op::Pow => 4,
        }
    }

    fn render_operand(&self, op: Op) -> String {
        let p = Self::op_precedence(op);
        // `^` is right-associative: its left operand needs parentheses at
        // equal precedence.
        if self.precedence() < p || (op == Op::Pow && self.precedence() == p) {
            format!("({})", self.render())
        } else {
            self.render()
        }
    }

    fn render_right(&self, op: Op) -> String {
        let p = Self::op_precedence(op);
        let needs = match op {
            Op::Pow => self.precedence() < p,
            Op::Add | Op::Mul => self.precedence() < p,
            Op::Sub | Op::Div => self.precedence() <= p,
        };
        if needs {
            format!("({})", self.render())
        } else {
            self.render()
        }
    }
}

/// The numbers a `scale` or `poly` call was built with.
#[derive(Clone, Debug, PartialEq)]
enum Recipe {
    Scale { center: f64, sd: f64 },
    Poly(Poly),
}

/// The recipes of the `scale` and `poly` calls of a model, by their text:
/// computed from the data the model is built on, reused for new data.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Recipes {
    map: HashMap<String, Recipe>,
    /// Reuse only (new data): a call without a recipe is an error.
    frozen: bool,
}

impl Recipes {
    /// The same recipes, for new data.
    pub(crate) fn frozen(&self) -> Recipes {
        Recipes {
            map: self.map.clone(),
            frozen: true,
        }
    }
}

/// R's orthogonal polynomials (`poly(x, k)`, `stats:::predict.poly`): the
/// three-term recurrence `p₀ = 1`, `p₁ = x − α₁`,
/// `pᵢ = (x − αᵢ) pᵢ₋₁ − (‖pᵢ₋₁‖² / ‖pᵢ₋₂‖²) pᵢ₋₂`, each `pᵢ` divided by
/// its norm on the data it was fitted to.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Poly {
    alpha: Vec<f64>,
    /// `‖p₀‖², ‖p₁‖², …, ‖p_k‖²` on the fitting data.
    norm2: Vec<f64>,
}

impl Poly {
    /// The recurrence of degree `k` fitted to `x`; `None` when `x` has no
    /// more than `k` distinct values (R's "degree must be less than number
    /// of unique points").
    pub(crate) fn fit(x: &[f64], k: usize) -> Option<Poly> {
        let mut distinct = x.to_vec();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        if k == 0 || distinct.len() <= k {
            return None;
        }
        let n = x.len();
        let mut alpha = Vec::with_capacity(k);
        let mut norm2 = vec![n as f64];
        let mut prev: Vec<f64> = vec![0.0; n];
        let mut cur: Vec<f64> = vec![1.0; n];
        for i in 0..k {
            let a = x.iter().zip(&cur).map(|(x, p)| x * p * p).sum::<f64>() / norm2[i];
            alpha.push(a);
            let beta = if i == 0 { 0.0 } else { norm2[i] / norm2[i - 1] };
            let next: Vec<f64> = (0..n)
                .map(|r| (x[r] - a) * cur[r] - beta * prev[r])
                .collect();
            norm2.push(next.iter().map(|v| v * v).sum());
            prev = std::mem::replace(&mut cur, next);
        }
        Some(Poly { alpha, norm2 })
    }

    /// The `k` columns at `x`.
    pub(crate) fn eval(&self, x: &[f64]) -> Vec<Vec<f64>> {
        let k = self.alpha.len();
        let n = x.len();
        let mut out = Vec::with_capacity(k);
        let mut prev: Vec<f64> = vec![0.0; n];
        let mut cur: Vec<f64> = vec![1.0; n];
        for i in 0..k {
            let beta = if i == 0 {
                0.0
            } else {
                self.norm2[i] / self.norm2[i - 1]
            };
            let next: Vec<f64> = (0..n)
                .map(|r| (x[r] - self.alpha[i]) * cur[r] - beta * prev[r])
                .collect();
            let norm = self.norm2[i + 1].sqrt();
            out.push(next.iter().map(|v| v / norm).collect());
            prev = std::mem::replace(&mut cur, next);
        }
        out
    }
}

/// Reads a column by name (the span where it is written) as numbers.
pub(crate) type ReadColumn<'a> = dyn Fn(&str, Span) -> Result<Vec<f64>, FormulaError> + 'a;

/// Evaluates `e` on every row of `table`: one column, or `k` for a
/// `poly(x, k)` at the top. `number` reads a column as numbers (with the
/// formula layer's messages); `at` is the span of the whole call, `formula`
/// its text.
pub(crate) fn eval(
    e: &Arith,
    table: &Table,
    recipes: &mut Recipes,
    number: &ReadColumn<'_>,
    (formula, at): (&str, Span),
) -> Result<Vec<Vec<f64>>, FormulaError> {
    let bad = |what: String| FormulaError::unsupported(formula, at, what);
    if let Arith::Call(Func::Poly(k), a) = e {
        let x = eval_one(a, table, recipes, number, (formula, at))?;
        let key = e.render();
        let poly = match recipes.map.get(&key) {
            Some(Recipe::Poly(p)) => p.clone(),
            _ if recipes.frozen => return Err(bad(format!("`{key}` has no fitted recipe"))),
            _ => {
                let p = Poly::fit(&x, *k).ok_or_else(|| {
                    bad(format!(
                        "`{key}`: the degree must be less than the number of distinct values of {}",
                        a.render()
                    ))
                })?;
                recipes.map.insert(key, Recipe::Poly(p.clone()));
                p
            }
        };
        return Ok(poly.eval(&x));
    }
    Ok(vec![eval_one(e, table, recipes, number, (formula, at))?])
}

fn eval_one(
    e: &Arith,
    table: &Table,
    recipes: &mut Recipes,
    number: &ReadColumn<'_>,
    (formula, at): (&str, Span),
) -> Result<Vec<f64>, FormulaError> {
    let n = table.n_rows();
    let bad = |what: String| FormulaError::unsupported(formula, at, what);
    let rec = |a: &Arith, recipes: &mut Recipes| eval_one(a, table, recipes, number, (formula, at));
    let v = match e {
        Arith::Column(name, span) => number(name, *span)?,
        Arith::Number(x) => vec![*x; n],
        Arith::Neg(a) => rec(a, recipes)?.into_iter().map(|v| -v).collect(),
        Arith::Binary(op, a, b) => {
            let (x, y) = (rec(a, recipes)?, rec(b, recipes)?);
            x.iter()
                .zip(&y)
                .map(|(&x, &y)| match op {
                    Op::Add => x + y,
                    Op::Sub => x - y,
                    Op::Mul => x * y,
                    Op::Div => x / y,
                    Op::Pow => x.powf(y),
                })
                .collect()
        }
        Arith::Call(Func::Poly(_), _) => {
            return Err(bad(
                "`poly(…)` inside another function; write it as a term of its own".into(),
            ))
        }
        Arith::Call(Func::Scale, a) => {
            let x = rec(a, recipes)?;
            let key = e.render();
            let (center, sd) = match recipes.map.get(&key) {
                Some(Recipe::Scale { center, sd }) => (*center, *sd),
                _ if recipes.frozen => return Err(bad(format!("`{key}` has no fitted recipe"))),
                _ => {
                    let m = x.len() as f64;
                    let center = x.iter().sum::<f64>() / m;
                    let sd =
                        (x.iter().map(|v| (v - center).powi(2)).sum::<f64>() / (m - 1.0)).sqrt();
                    if sd.is_nan() || sd <= 0.0 {
                        return Err(bad(format!(
                            "`{key}`: {} is constant, so it cannot be scaled",
                            a.render()
                        )));
                    }
                    recipes.map.insert(key, Recipe::Scale { center, sd });
                    (center, sd)
                }
            };
            x.into_iter().map(|v| (v - center) / sd).collect()
        }
        Arith::Call(f, a) => {
            let x = rec(a, recipes)?;
            match f {
                Func::Log => x.into_iter().map(f64::ln).collect(),
                Func::Exp => x.into_iter().map(f64::exp).collect(),
                Func::Sqrt => x.into_iter().map(f64::sqrt).collect(),
                _ => x,
            }
        }
    };
    if let Some(r) = v.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!(
            "`{}` is not a finite number at line {} of the data ({})",
            e.render(),
            table.lines().get(r).copied().unwrap_or(r + 1),
            v[r]
        )));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poly_columns_are_orthonormal_and_predict_like_fit() {
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        let p = Poly::fit(&x, 3).unwrap();
        let cols = p.eval(&x);
        for i in 0..3 {
            let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
            assert!((dot(&cols[i], &cols[i]) - 1.0).abs() < 1e-12);
            assert!(dot(&cols[i], &[1.0; 10]).abs() < 1e-12);
            for j in 0..i {
                assert!(dot(&cols[i], &cols[j]).abs() < 1e-12);
            }
        }
        assert!(Poly::fit(&[1.0, 2.0, 1.0], 2).is_none());
    }
}
