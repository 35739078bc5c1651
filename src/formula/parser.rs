//! Recursive-descent parser: tokens to [`Formula`]. The grammar is in the
//! module documentation of [`formula`](super).

use super::ast::{Expr, Formula, Item, RandomTerm, TermStructure, Var};
use super::error::{FormulaError, Span};
use super::lexer::{lex, Tok};
use super::transform::{Arith, Func, Op, KNOWN_FUNCTIONS};

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
    if !matches!(p.peek(), Some(Tok::Name(_))) {
        return Err(p.error("the response column"));
    }
    let response = p.variable()?;
    if response.as_factor || matches!(response.expr, Some(Arith::Call(Func::Poly(_), _))) {
        return Err(FormulaError::unsupported(
            text,
            response.span,
            "a response must be numbers: a column or a function of columns such as `log(y)`",
        ));
    }
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

/// The keywords that give a random term its covariance structure.
pub(crate) const STRUCTURE_KEYWORDS: [&str; 5] = ["us", "diag", "cs", "ar1", "fa"];

/// The highest order of a factor-analytic random term, `fa(…, k)`.
pub(crate) const MAX_FA_ORDER: usize = 3;

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
                    expr: None,
                })
            }
            _ => Err(self.error(what)),
        }
    }

    /// A name, `factor(name)`, or a function of columns (`log(x)`,
    /// `I(x^2)`, `poly(x, 2)`, …); any other function is refused by name.
    fn variable(&mut self) -> Result<Var, FormulaError> {
        let v = self.name("a column name")?;
        if self.peek() != Some(&Tok::Open) {
            return Ok(v);
        }
        if v.name == "factor" || v.name == "as.factor" {
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
        let (e, span) = self.call(&v)?;
        Ok(Var {
            name: e.render(),
            span,
            as_factor: false,
            expr: Some(e),
        })
    }

    /// The call of the function named `f` (its `(` next).
    fn call(&mut self, f: &Var) -> Result<(Arith, Span), FormulaError> {
        let Some(func) = Func::of_name(&f.name) else {
            return Err(FormulaError::unsupported(
                self.text,
                f.span,
                format!(
                    "the function `{}` in a formula; the functions known are {KNOWN_FUNCTIONS}",
                    f.name
                ),
            ));
        };
        let open = self.bump().map(|(_, s)| s).unwrap_or_default();
        let arg = self.arith()?;
        let func = match func {
            Func::Poly(_) => {
                self.expect(&Tok::Comma, "`,` and the degree: `poly(x, 2)`")?;
                match self.bump() {
                    Some((Tok::Number(k), s)) => match k.parse::<usize>() {
                        Ok(k) if (1..=20).contains(&k) => Func::Poly(k),
                        _ => {
                            return Err(FormulaError::unsupported(
                                self.text,
                                s,
                                format!("the degree `{k}` of `poly`; a whole number from 1 to 20"),
                            ))
                        }
                    },
                    _ => {
                        self.pos -= 1;
                        return Err(self.error("the degree of `poly`, a whole number"));
                    }
                }
            }
            other => other,
        };
        let close = self.expect(
            &Tok::Close,
            &format!(
                "`)` to close `{}(` at column {}",
                f.name,
                open.column(self.text)
            ),
        )?;
        Ok((
            Arith::Call(func, Box::new(arg)),
            Span::new(f.span.start, close.end),
        ))
    }

    /// Arithmetic inside a call: `term (('+' | '-') term)*`.
    fn arith(&mut self) -> Result<Arith, FormulaError> {
        let mut a = self.arith_term()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Plus) => Op::Add,
                Some(Tok::Minus) => Op::Sub,
                _ => return Ok(a),
            };
            self.pos += 1;
            a = Arith::Binary(op, Box::new(a), Box::new(self.arith_term()?));
        }
    }

    /// `power (('*' | '/') power)*`
    fn arith_term(&mut self) -> Result<Arith, FormulaError> {
        let mut a = self.arith_unary()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Star) => Op::Mul,
                Some(Tok::Slash) => Op::Div,
                _ => return Ok(a),
            };
            self.pos += 1;
            a = Arith::Binary(op, Box::new(a), Box::new(self.arith_unary()?));
        }
    }

    /// `'-' unary | power`
    fn arith_unary(&mut self) -> Result<Arith, FormulaError> {
        if self.eat(&Tok::Minus).is_some() {
            return Ok(Arith::Neg(Box::new(self.arith_unary()?)));
        }
        self.arith_power()
    }

    /// `primary ('^' unary)?` (right-associative, as R)
    fn arith_power(&mut self) -> Result<Arith, FormulaError> {
        let base = self.arith_primary()?;
        if self.eat(&Tok::Caret).is_some() {
            let exp = self.arith_unary()?;
            return Ok(Arith::Binary(Op::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    /// A number, a column, a call, or `( arith )`.
    fn arith_primary(&mut self) -> Result<Arith, FormulaError> {
        match self.peek_spanned() {
            Some((Tok::Number(n), s)) => {
                let x = n.parse::<f64>().map_err(|_| {
                    FormulaError::syntax(self.text, s, "a number", &format!("`{n}`"))
                })?;
                self.pos += 1;
                Ok(Arith::Number(x))
            }
            Some((Tok::Open, _)) => {
                self.pos += 1;
                let a = self.arith()?;
                self.expect(&Tok::Close, "`)`")?;
                Ok(a)
            }
            Some((Tok::Name(_), _)) => {
                let v = self.name("a column name")?;
                if self.peek() == Some(&Tok::Open) {
                    if v.name == "factor" || v.name == "as.factor" {
                        return Err(FormulaError::unsupported(
                            self.text,
                            v.span,
                            "`factor(…)` inside a numeric function",
                        ));
                    }
                    let (call, _) = self.call(&v)?;
                    if matches!(call, Arith::Call(Func::Poly(_), _)) {
                        return Err(FormulaError::unsupported(
                            self.text,
                            v.span,
                            "`poly(…)` inside another function; write it as a term of its own",
                        ));
                    }
                    return Ok(call);
                }
                Ok(Arith::Column(v.name, v.span))
            }
            _ => Err(self.error("a column name, a number or `(`")),
        }
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
            // A parenthesised group contributes its items, signs combined.
            for (s, it) in self.item(allow_random)? {
                items.push((s == sign, it));
            }
            if self.eat(&Tok::Plus).is_some() {
                sign = true;
            } else if self.eat(&Tok::Minus).is_some() {
                sign = false;
            } else {
                return Ok(items);
            }
        }
    }

    /// A random term `(lhs | groups)`, a parenthesised sum (its items), or
    /// fixed-effect term(s).
    fn item(&mut self, allow_random: bool) -> Result<Vec<(bool, Item)>, FormulaError> {
        if let (Some((Tok::Name(key), _)), Some((Tok::Open, _))) =
            (self.toks.get(self.pos), self.toks.get(self.pos + 1))
        {
            if STRUCTURE_KEYWORDS.contains(&key.as_str()) {
                return Ok(vec![(true, Item::Random(self.structured(allow_random)?))]);
            }
        }
        let Some((Tok::Open, open)) = self.peek_spanned() else {
            return Ok(vec![(true, Item::Fixed(self.product()?))]);
        };
        self.pos += 1;
        let inner = self.sum(allow_random)?;
        let correlated = match self.peek() {
            Some(Tok::Close) => {
                self.pos += 1;
                return Ok(inner); // parentheses that only group
            }
            Some(Tok::Bar) => true,
            Some(Tok::DoubleBar) => false,
            _ => {
                return Err(self.error(&format!(
                    "`)` to close the `(` at column {}, or `|` for a random term `(lhs | group)`",
                    open.column(self.text)
                )))
            }
        };
        if !allow_random {
            return Err(FormulaError::unsupported(
                self.text,
                open,
                "a random term inside a random term",
            ));
        }
        self.pos += 1;
        let groups = self.groups()?;
        let close = self.expect(
            &Tok::Close,
            &format!("`)` to close the `(` at column {}", open.column(self.text)),
        )?;
        let mut lhs = Vec::with_capacity(inner.len());
        for (s, it) in inner {
            match it {
                Item::Fixed(e) => lhs.push((s, e)),
                Item::Random(r) => {
                    return Err(FormulaError::unsupported(
                        self.text,
                        r.span,
                        "a random term inside a random term",
                    ))
                }
            }
        }
        Ok(vec![(
            true,
            Item::Random(RandomTerm {
                lhs,
                correlated,
                groups,
                span: Span::new(open.start, close.end),
                structure: None,
            }),
        )])
    }

    /// A random term with a structure keyword: `key(lhs | groups)`, and
    /// for `fa` the order: `fa(0 + env | gen, 2)`.
    fn structured(&mut self, allow_random: bool) -> Result<RandomTerm, FormulaError> {
        let key = self.name("a structure keyword")?;
        let open = self.expect(&Tok::Open, "`(`")?;
        if !allow_random {
            return Err(FormulaError::unsupported(
                self.text,
                key.span,
                "a random term inside a random term",
            ));
        }
        let inner = self.sum(false)?;
        match self.peek() {
            Some(Tok::Bar) => self.pos += 1,
            Some(Tok::DoubleBar) => {
                return Err(FormulaError::unsupported(
                    self.text,
                    self.peek_spanned().map(|(_, s)| s).unwrap_or_default(),
                    format!(
                    "`||` inside `{}(…)`; the keyword sets the covariance, write `{}(lhs | group)`",
                    key.name, key.name
                ),
                ))
            }
            _ => {
                return Err(self.error(&format!("`|` and the grouping: `{}(0 + f | g)`", key.name)))
            }
        }
        let groups = self.groups()?;
        let structure = self.structure_of(&key.name)?;
        let close = self.expect(
            &Tok::Close,
            &format!(
                "`)` to close `{}(` at column {}",
                key.name,
                open.column(self.text)
            ),
        )?;
        let mut lhs = Vec::with_capacity(inner.len());
        for (s, it) in inner {
            match it {
                Item::Fixed(e) => lhs.push((s, e)),
                Item::Random(r) => {
                    return Err(FormulaError::unsupported(
                        self.text,
                        r.span,
                        "a random term inside a random term",
                    ))
                }
            }
        }
        Ok(RandomTerm {
            lhs,
            correlated: true,
            groups,
            span: Span::new(key.span.start, close.end),
            structure: Some(structure),
        })
    }

    /// The structure named by `keyword` (after the grouping of a structured
    /// term), reading the order of `fa`: `, k`.
    fn structure_of(&mut self, keyword: &str) -> Result<TermStructure, FormulaError> {
        Ok(match keyword {
            "us" => TermStructure::Us,
            "diag" => TermStructure::Diag,
            "cs" => TermStructure::Cs,
            "ar1" => TermStructure::Ar1,
            _ => {
                let hint = "`,` and the number of factors: `fa(0 + env | gen, 1)`";
                self.expect(&Tok::Comma, hint)?;
                match self.bump() {
                    Some((Tok::Number(k), s)) => match k.parse::<usize>() {
                        Ok(k) if (1..=MAX_FA_ORDER).contains(&k) => TermStructure::Fa(k),
                        _ => {
                            return Err(FormulaError::unsupported(
                                self.text,
                                s,
                                format!(
                            "the order `{k}` of `fa`; a whole number from 1 to {MAX_FA_ORDER}"
                        ),
                            ))
                        }
                    },
                    _ => {
                        self.pos -= 1;
                        return Err(self.error(hint));
                    }
                }
            }
        })
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
        let v = self.variable()?;
        if v.expr.is_some() {
            return Err(FormulaError::unsupported(
                self.text,
                v.span,
                "a function of columns as a grouping; group by a column (or `factor(x)`)",
            ));
        }
        Ok(v)
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
    fn structure_keywords() {
        let f = parse("y ~ env + fa(0 + env | gen, 2) + cs(1 + f | g1/g2) + (1 | h)").unwrap();
        let kinds: Vec<Option<TermStructure>> = f
            .items
            .iter()
            .filter_map(|(_, i)| match i {
                Item::Random(r) => Some(r.structure),
                Item::Fixed(_) => None,
            })
            .collect();
        assert_eq!(
            kinds,
            [Some(TermStructure::Fa(2)), Some(TermStructure::Cs), None]
        );
        match &f.items[1].1 {
            Item::Random(r) => {
                assert_eq!(&f.text[r.span.start..r.span.end], "fa(0 + env | gen, 2)")
            }
            other => panic!("not random: {other:?}"),
        }
        // a keyword inside a random term, or one without `|`
        assert!(parse("y ~ (diag(1 | g) | h)").is_err());
        let e = parse("y ~ ar1(0 + t)").unwrap_err();
        assert!(e.to_string().contains("`|` and the grouping"), "{e}");
        // other names before `(` are still functions
        assert!(parse("y ~ log(x) + (1 | g)").is_ok());
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
        // parentheses that only group are fine, in the fixed part too
        assert_eq!(parse("y ~ ((((x))))").unwrap().items.len(), 1);
        let e = parse("y ~ ((x | g) | h)").unwrap_err();
        assert!(e.to_string().contains("inside a random term"), "{e}");
        let e = parse("y ~ foo(x)").unwrap_err();
        assert!(e.to_string().contains("the function `foo`"), "{e}");
        let f = parse("y ~ log(x + 1) + I(x^2) + poly(x,2)").unwrap();
        let names: Vec<String> = f
            .items
            .iter()
            .map(|(_, i)| match i {
                Item::Fixed(Expr::Var(v)) => v.name.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(names, ["log(x + 1)", "I(x^2)", "poly(x, 2)"]);
        let e = parse("y ~ (1 | )").unwrap_err();
        assert!(e.to_string().contains("grouping column"), "{e}");
    }
}
