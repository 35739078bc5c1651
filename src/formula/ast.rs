//! The syntax tree of a formula, as written (before `*` and `/` are
//! expanded into terms).

use super::error::Span;
pub use super::transform::{Arith, Func, Op};

/// A column named in a formula.
#[derive(Clone, Debug, PartialEq)]
pub struct Var {
    /// The column name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
    /// Written as `factor(name)`: categorical whatever the column holds.
    pub as_factor: bool,
    /// A function of columns (`log(x)`, `I(x^2)`, `poly(x, 2)`); `name` is
    /// then its text as R deparses it, which names its coefficients.
    pub expr: Option<Arith>,
}

impl Var {
    /// The table columns the variable reads (itself, as a plain column).
    pub fn columns(&self) -> Vec<Var> {
        match &self.expr {
            None => vec![Var {
                as_factor: false,
                ..self.clone()
            }],
            Some(e) => {
                let mut cols = Vec::new();
                e.columns(&mut cols);
                cols.into_iter()
                    .map(|(name, span)| Var {
                        name,
                        span,
                        as_factor: false,
                        expr: None,
                    })
                    .collect()
            }
        }
    }
}

/// A fixed-effect expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `1`: the intercept.
    One(Span),
    /// `0`: no intercept.
    Zero(Span),
    /// A column.
    Var(Var),
    /// `a:b:…`: the interaction only.
    Interaction(Vec<Expr>),
    /// `a*b*…`: main effects and all interactions.
    Cross(Vec<Expr>),
}

impl Expr {
    /// The span covering the expression.
    pub fn span(&self) -> Span {
        match self {
            Expr::One(s) | Expr::Zero(s) => *s,
            Expr::Var(v) => v.span,
            Expr::Interaction(es) | Expr::Cross(es) => {
                let (a, b) = (es[0].span(), es[es.len() - 1].span());
                Span::new(a.start, b.end)
            }
        }
    }
}

/// The covariance of a random term's coefficients, chosen by a keyword in
/// the glmmTMB convention: `us(1 + x | g)` (the default, also `(1 + x | g)`),
/// `diag(…)`, `cs(…)`, `ar1(…)`, `fa(…, k)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TermStructure {
    /// `us`: unstructured `Σ` (lme4's `(x | g)`).
    Us,
    /// `diag`: a variance per coefficient, no covariances.
    Diag,
    /// `cs`: compound symmetry, one variance and one correlation (nlme's
    /// `pdCompSymm`; glmmTMB's `homcs`).
    Cs,
    /// `ar1`: `σ² ρ^|i−j|` between coefficients `i` and `j` (the levels
    /// of a factor of equally spaced times, in level order).
    Ar1,
    /// `fa(…, k)`: factor-analytic of order `k`, `ΛΛᵀ + Ψ` (glmmTMB's `rr`
    /// plus a specific variance per coefficient).
    Fa(usize),
}

impl TermStructure {
    /// The keyword: `us`, `diag`, `cs`, `ar1` or `fa`.
    pub fn keyword(self) -> &'static str {
        match self {
            TermStructure::Us => "us",
            TermStructure::Diag => "diag",
            TermStructure::Cs => "cs",
            TermStructure::Ar1 => "ar1",
            TermStructure::Fa(_) => "fa",
        }
    }
}

/// A random term `(lhs | group)` or `(lhs || group)`, or one with a
/// structure keyword, `cs(0 + f | g)`.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomTerm {
    /// The coefficients: signed expressions (`true` for `+`).
    pub lhs: Vec<(bool, Expr)>,
    /// `|` (correlated) rather than `||` (uncorrelated).
    pub correlated: bool,
    /// The grouping, outermost first: `g1/g2:g3` is `[[g1], [g2, g3]]`.
    pub groups: Vec<Vec<Var>>,
    /// The whole term, parentheses included.
    pub span: Span,
    /// The structure keyword written (`None`: plain `(… | g)`, unstructured).
    pub structure: Option<TermStructure>,
}

/// One signed item of the right-hand side.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// A fixed-effect expression.
    Fixed(Expr),
    /// A random term.
    Random(RandomTerm),
}

/// A parsed formula `response ~ items`.
#[derive(Clone, Debug, PartialEq)]
pub struct Formula {
    /// The text parsed.
    pub text: String,
    /// The response column.
    pub response: Var,
    /// The items with their signs (`true` for `+`), in order.
    pub items: Vec<(bool, Item)>,
}
