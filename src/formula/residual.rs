//! The residual keyword (`--residual`): `iid` (the default, `σ² I`) or
//! `diag(f)` (a variance per level of `f`). The grammar also knows
//! `ar1(visit | subject)`, `car1(time | subject)`, `cs(subject)` and
//! `us(time | subject)`, which are not yet available.

use super::ast::Var;
use super::error::{FormulaError, Span};
use super::lexer::Tok;
use super::parser::Parser;

/// A parsed residual structure.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Residual {
    /// `iid`: `σ² I`.
    Iid,
    /// `diag(f)`: a variance per level of `f`.
    Diag(Var),
}

impl Residual {
    /// Parses a residual keyword.
    ///
    /// ```
    /// use covreml::formula::Residual;
    /// assert_eq!(Residual::parse("iid").unwrap(), Residual::Iid);
    /// assert!(matches!(Residual::parse("diag(rep)").unwrap(), Residual::Diag(v) if v.name == "rep"));
    /// let e = Residual::parse("ar1(visit | subject)").unwrap_err();
    /// assert!(e.to_string().contains("`ar1` is not yet available"), "{e}");
    /// ```
    pub fn parse(text: &str) -> Result<Self, FormulaError> {
        let mut p = Parser::new(text)?;
        let key =
            p.name("a residual keyword: iid, diag(f), ar1(t | g), car1(t | g), cs(g), us(t | g)")?;
        let known = ["iid", "diag", "ar1", "car1", "cs", "us"];
        if !known.contains(&key.name.as_str()) {
            return Err(FormulaError::syntax(
                text,
                key.span,
                "a residual keyword: iid, diag(f), ar1(t | g), car1(t | g), cs(g), us(t | g)",
                &format!("`{}`", key.name),
            ));
        }
        let out = if key.name == "iid" {
            Residual::Iid
        } else {
            p.expect(&Tok::Open, &format!("`(` after `{}`", key.name))?;
            let first = p.name("a column name")?;
            let second = if matches!(key.name.as_str(), "ar1" | "car1" | "us") {
                p.expect(
                    &Tok::Bar,
                    &format!("`|` and the grouping column: `{}(time | group)`", key.name),
                )?;
                Some(p.name("the grouping column")?)
            } else {
                None
            };
            let close = p.expect(&Tok::Close, "`)`")?;
            let _ = second;
            if key.name == "diag" {
                Residual::Diag(first)
            } else {
                let at = Span::new(key.span.start, close.end);
                return Err(FormulaError::NotYetAvailable {
                    at,
                    column: at.column(text),
                    keyword: key.name,
                });
            }
        };
        if !p.at_end() {
            return Err(p.error("the end of the residual keyword"));
        }
        Ok(out)
    }
}
