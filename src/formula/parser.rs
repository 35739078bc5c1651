//! Recursive-descent parser: tokens to [`Formula`]. The grammar is in the
//! module documentation of [`formula`](super).

use super::ast::{Expr, Formula, Item, RandomTerm, Var};
use super::error::{FormulaError, Span};
use super::lexer::{lex, Tok};

/// Parses a formula.
///
/// ```
/// use covreml::formula::parse;
/// let f = parse("Reaction ~ Days + (Days | Subject)").unwrap();
/// assert_eq!(f.response.name, "Reaction");
/// assert_eq!(f.items.len(), 2);
/// let e = parse("y ~ x + (1 | g").unwrap_err();
/// assert_eq!(e.to_string(), "column 15: expected `)` to close the `(` at column 9, found end of formula");
/// ```
pub fn parse(text: &str) -> Result<Formula, FormulaError> {
    let mut p = Parser::new(text)?;
    let response = p.name("the response column")?;
    p.expect(&Tok::Tilde, "`~` after the response")?;
    let items = p.sum(true)?;
    if let Some((t, s)) = p.peek_spanned() {
        let (t, s) = (t.clone(), s);
        return Err(match t {
            Tok::Close => FormulaError::syntax(text, s, "`+` or `-` (unbalanced `)`)", "`)`"),
            _ => FormulaError::syntax(text, s, "`+`, `-` or the end", &t.describe()),
        });
    }
    Ok(Formula {
        text: text.to_string(),
        response,
        items,
    })
}

pub(crate) struct Parser<'a> {
    pub(crate) text: &'a str,
    toks: Vec<(Tok, Span)>,
    pos: usize,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(text: &'a str) -> Result<Self, FormulaError> {
        Ok(Parser {
            text,
            toks: lex(text)?,
            pos: 0,
        })
    }

    pub(crate) fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    pub(crate) fn peek_spanned(&self) -> Option<(&Tok, Span)> {
        self.toks.get(self.pos).map(|(t, s)| (t, *s))
    }

    fn end_span(&self) -> Span {
        Span::new(self.text.len(), self.text.len())
    }

    /// The error "expected `what`" at the current token.
    pub(crate) fn error(&self, expected: &str) -> FormulaError {
        match self.peek_spanned() {
            Some((t, s)) => FormulaError::syntax(self.text, s, expected, &t.describe()),
            None => FormulaError::syntax(self.text, self.end_span(), expected, "end of formula"),
        }
    }

    pub(crate) fn bump(&mut self) -> Option<(Tok, Span)> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += usize::from(t.is_some());
        t
    }

    pub(crate) fn eat(&mut self, t: &Tok) -> Option<Span> {
        match self.peek_spanned() {
            Some((u, s)) if u == t => {
                self.pos += 1;
                Some(s)
            }
            _ => None,
        }
    }

    pub(crate) fn expect(&mut self, t: &Tok, what: &str) -> Result<Span, FormulaError> {
        self.eat(t).ok_or_else(|| self.error(what))
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    /// A bare name.
    pub(crate) fn name(&mut self, what: &str) -> Result<Var, FormulaError> {
        match self.peek_spanned() {
            Some((Tok::Name(n), span)) => {
                let name = n.clone();
                self.pos += 1;
                Ok(Var {
                    name,
                    span,
                    as_factor: false,
                })
            }
            _ => Err(self.error(what)),
        }
    }

    /// A name or `factor(name)`.
    fn variable(&mut self) -> Result<Var, FormulaError> {
        let v = self.name("a column name")?;
        if (v.name == "factor" || v.name == "as.factor") && self.peek() == Some(&Tok::Open) {
            let open = self.bump().map(|(_, s)| s).unwrap_or_default();
            let mut inner = self.name(&format!("a column name inside `{}(`", v.name))?;
            let close = self.expect(
                &Tok::Close,
                &format!(
                    "`)` to close `{}(` at column {}",
                    v.name,
                    open.column(self.text)
                ),
            )?;
            inner.as_factor = true;
            inner.span = Span::new(v.span.start, close.end);
            return Ok(inner);
        }
        Ok(v)
    }

    /// `item (('+' | '-') item)*`, with an optional leading sign.
    fn sum(&mut self, allow_random: bool) -> Result<Vec<(bool, Item)>, FormulaError> {
        let mut items = Vec::new();
        let mut sign = if self.eat(&Tok::Minus).is_some() {
            false
        } else {
            self.eat(&Tok::Plus);
            true
        };
        loop {
            items.push((sign, self.item(allow_random)?));
            if self.eat(&Tok::Plus).is_some() {
                sign = true;
            } else if self.eat(&Tok::Minus).is_some() {
                sign = false;
            } else {
                return Ok(items);
            }
        }
    }

    fn item(&mut self, allow_random: bool) -> Result<Item, FormulaError> {
        match self.peek_spanned() {
            Some((Tok::Open, open)) => {
                if !allow_random {
                    return Err(FormulaError::unsupported(
                        self.text,
                        open,
                        "parentheses inside a random term are not supported; list the coefficients with `+`",
                    ));
                }
                self.pos += 1;
                let lhs = self.sum(false)?;
                let correlated = match self.peek() {
                    Some(Tok::Bar) => true,
                    Some(Tok::DoubleBar) => false,
                    Some(Tok::Close) => {
                        return Err(FormulaError::unsupported(
                            self.text,
                            open,
                            "parentheses around fixed-effect terms are not supported; write the terms out (`a:c + b:c`), or add `| group` for a random term",
                        ))
                    }
                    _ => return Err(self.error("`|` or `||` (a random term `(lhs | group)`)")),
                };
                self.pos += 1;
                let groups = self.groups()?;
                let close = self.expect(
                    &Tok::Close,
                    &format!("`)` to close the `(` at column {}", open.column(self.text)),
                )?;
                let mut lhs_fixed = Vec::with_capacity(lhs.len());
                for (s, it) in lhs {
                    match it {
                        Item::Fixed(e) => lhs_fixed.push((s, e)),
                        Item::Random(r) => {
                            return Err(FormulaError::unsupported(
                                self.text,
                                r.span,
                                "a random term inside a random term",
                            ))
                        }
                    }
                }
                Ok(Item::Random(RandomTerm {
                    lhs: lhs_fixed,
                    correlated,
                    groups,
                    span: Span::new(open.start, close.end),
                }))
            }
            _ => Ok(Item::Fixed(self.product()?)),
        }
    }

    /// `g1:g2/g3 …`
    fn groups(&mut self) -> Result<Vec<Vec<Var>>, FormulaError> {
        let mut out = Vec::new();
        loop {
            let mut inter = vec![self.group_name()?];
            while self.eat(&Tok::Colon).is_some() {
                inter.push(self.group_name()?);
            }
            out.push(inter);
            if self.eat(&Tok::Slash).is_none() {
                return Ok(out);
            }
        }
    }

    fn group_name(&mut self) -> Result<Var, FormulaError> {
        if !matches!(self.peek(), Some(Tok::Name(_))) {
            return Err(self.error("a grouping column name"));
        }
        self.variable()
    }

    fn product(&mut self) -> Result<Expr, FormulaError> {
        let mut parts = vec![self.interaction()?];
        while self.eat(&Tok::Star).is_some() {
            parts.push(self.interaction()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Expr::Cross(parts)
        })
    }

    fn interaction(&mut self) -> Result<Expr, FormulaError> {
        let mut parts = vec![self.atom()?];
        while self.eat(&Tok::Colon).is_some() {
            parts.push(self.atom()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Expr::Interaction(parts)
        })
    }

    fn atom(&mut self) -> Result<Expr, FormulaError> {
        match self.peek_spanned() {
            Some((Tok::Number(n), s)) => {
                let e = match n.as_str() {
                    "1" => Expr::One(s),
                    "0" => Expr::Zero(s),
                    _ => {
                        return Err(FormulaError::unsupported(
                            self.text,
                            s,
                            format!("the number `{n}`; only `1` (intercept) and `0` (no intercept) may appear in a formula"),
                        ))
                    }
                };
                self.pos += 1;
                Ok(e)
            }
            Some((Tok::Name(_), _)) => Ok(Expr::Var(self.variable()?)),
            _ => Err(self.error("a column name, `1` or `0`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_crossed() {
        let f = parse("y ~ 0 + a*b + x:factor(c) + (1 + x || g1/g2:g3)").unwrap();
        assert_eq!(f.items.len(), 4);
        match &f.items[3].1 {
            Item::Random(r) => {
                assert!(!r.correlated);
                assert_eq!(r.groups.len(), 2);
                assert_eq!(r.groups[1][1].name, "g3");
            }
            other => panic!("not random: {other:?}"),
        }
        match &f.items[2].1 {
            Item::Fixed(Expr::Interaction(es)) => {
                assert!(matches!(&es[1], Expr::Var(v) if v.as_factor && v.name == "c"))
            }
            other => panic!("not an interaction: {other:?}"),
        }
    }

    #[test]
    fn errors_point_at_tokens() {
        let e = parse("y ~ x + ) + z").unwrap_err();
        assert_eq!(e.span(), Some(Span::new(8, 9)));
        let e = parse("y ~ x + z)").unwrap_err();
        assert!(e.to_string().contains("unbalanced"), "{e}");
        let e = parse("y x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "column 3: expected `~` after the response, found `x`"
        );
        let e = parse("y ~ 2 + x").unwrap_err();
        assert!(e.to_string().contains("only `1`"), "{e}");
        let e = parse("y ~ (x)").unwrap_err();
        assert!(
            e.to_string().contains("parentheses around fixed-effect"),
            "{e}"
        );
        let e = parse("y ~ (1 | )").unwrap_err();
        assert!(e.to_string().contains("grouping column"), "{e}");
    }
}
