//! The residual keyword (`--residual`): `iid` (the default, `σ² I`),
//! `diag(f)` (a variance per level of `f`), and the repeated-measures
//! structures within a grouping column, following the data rather than the
//! row order: `ar1(visit | subject)` (AR1 over whole-number visits),
//! `car1(time | subject)` (continuous-time AR1, nlme's `corCAR1`),
//! `cs(subject)` (compound symmetry) and `us(time | subject)` (unstructured
//! over the distinct times).

use super::ast::Var;
use super::error::FormulaError;
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
    /// `ar1(t | g)`: `σ² ρ^|tᵢ − tⱼ|` within each level of `g` (whole-number `t`).
    Ar1 {
        /// The visit column.
        time: Var,
        /// The grouping column.
        group: Var,
    },
    /// `car1(t | g)`: `σ² φ^|tᵢ − tⱼ|` within each level of `g` (continuous `t`).
    Car1 {
        /// The time column.
        time: Var,
        /// The grouping column.
        group: Var,
    },
    /// `cs(g)`: compound symmetry within each level of `g`.
    Cs {
        /// The grouping column.
        group: Var,
    },
    /// `us(t | g)`: unstructured over the distinct times within each level of `g`.
    Us {
        /// The time column.
        time: Var,
        /// The grouping column.
        group: Var,
    },
}

impl std::fmt::Display for Residual {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Residual::Iid => write!(f, "iid"),
            Residual::Diag(v) => write!(f, "diag({})", v.name),
            Residual::Ar1 { time, group } => write!(f, "ar1({} | {})", time.name, group.name),
            Residual::Car1 { time, group } => write!(f, "car1({} | {})", time.name, group.name),
            Residual::Cs { group } => write!(f, "cs({})", group.name),
            Residual::Us { time, group } => write!(f, "us({} | {})", time.name, group.name),
        }
    }
}

impl Residual {
    /// The columns the residual structure reads.
    pub(crate) fn vars(&self) -> Vec<Var> {
        match self {
            Residual::Iid => Vec::new(),
            Residual::Diag(v) | Residual::Cs { group: v } => vec![v.clone()],
            Residual::Ar1 { time, group }
            | Residual::Car1 { time, group }
            | Residual::Us { time, group } => vec![time.clone(), group.clone()],
        }
    }

    /// Parses a residual keyword.
    ///
    /// ```
    /// use covreml::formula::Residual;
    /// assert_eq!(Residual::parse("iid").unwrap(), Residual::Iid);
    /// assert!(matches!(Residual::parse("diag(rep)").unwrap(), Residual::Diag(v) if v.name == "rep"));
    /// let r = Residual::parse("car1(age | Subject)").unwrap();
    /// assert_eq!(r.to_string(), "car1(age | Subject)");
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
            p.expect(&Tok::Close, "`)`")?;
            match (key.name.as_str(), second) {
                ("diag", _) => Residual::Diag(first),
                ("cs", _) => Residual::Cs { group: first },
                ("ar1", Some(group)) => Residual::Ar1 { time: first, group },
                ("car1", Some(group)) => Residual::Car1 { time: first, group },
                (_, Some(group)) => Residual::Us { time: first, group },
                (_, None) => unreachable!("`|` is required for ar1, car1 and us"),
            }
        };
        if !p.at_end() {
            return Err(p.error("the end of the residual keyword"));
        }
        Ok(out)
    }
}
