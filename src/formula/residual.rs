//! The residual keyword (`--residual`): `iid` (the default, `σ² I`),
//! `diag(f)` (a variance per level of `f`), and the repeated-measures
//! structures within a grouping column, following the data rather than the
//! row order: `ar1(visit | subject)` (AR1 over whole-number visits),
//! `car1(time | subject)` (continuous-time AR1, nlme's `corCAR1`),
//! `cs(subject)` (compound symmetry) and `us(time | subject)` (unstructured
//! over the distinct times); and their heterogeneous variants with a
//! variance per time level: `arh(visit | subject)` (nlme's `corAR1` with
//! `varIdent(form = ~ 1 | visit)`) and `csh(time | subject)` (`corCompSymm`
//! with `varIdent(form = ~ 1 | time)`); and isotropic spatial correlation
//! over coordinate columns: `exp(x + y, nugget)`, `gau(x + y, nugget)`,
//! `sph(x + y, nugget)`, without a nugget `exp(x + y)`, and independent
//! fields per level of a grouping column (per trial, say) with common
//! parameters `exp(x + y | trial, nugget)` (nlme's `form = ~ x + y | g`);
//! and `ar1(row):ar1(col)`, separable AR1 ⊗ AR1 over a field grid.

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
    /// `arh(t | g)`: `σ_{tᵢ} σ_{tⱼ} ρ^|tᵢ − tⱼ|` within each level of `g`
    /// (whole-number `t`, a variance per visit).
    Arh {
        /// The visit column.
        time: Var,
        /// The grouping column.
        group: Var,
    },
    /// `csh(t | g)`: compound symmetry within each level of `g` with a
    /// variance per level of `t`.
    Csh {
        /// The column whose levels carry the variances.
        time: Var,
        /// The grouping column.
        group: Var,
    },
    /// `ar1(row):ar1(col)`: separable AR1 ⊗ AR1 over a field grid given by
    /// two whole-number columns (plots may be missing, rows in any order).
    Ar1Ar1 {
        /// The row column.
        row: Var,
        /// The column column.
        col: Var,
    },
    /// `gau(x + y, nugget)` (and `exp`, `sph`): isotropic spatial
    /// correlation in the Euclidean distance over the coordinate columns,
    /// with a nugget: `σ² ((1 − ν) k(d/r) + ν δᵢⱼ)`; without one
    /// (`gau(x + y)`): `σ² k(d/r)`; with `| g` (`gau(x + y | g, nugget)`)
    /// independent fields per level of `g`, with common parameters.
    Spatial {
        /// The kernel `k`.
        kernel: SpatialKernel,
        /// The coordinate columns.
        coords: Vec<Var>,
        /// Whether the structure has a nugget `ν`.
        nugget: bool,
        /// The grouping column of independent fields, if any.
        group: Option<Var>,
    },
}

/// The kernel of a spatial residual keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpatialKernel {
    /// `exp`: `e^{−d/r}` (nlme's `corExp`).
    Exponential,
    /// `gau`: `e^{−(d/r)²}` (nlme's `corGaus`).
    Gaussian,
    /// `sph`: spherical, 0 beyond the range (nlme's `corSpher`).
    Spherical,
}

impl SpatialKernel {
    /// The keyword: `exp`, `gau` or `sph`.
    pub fn keyword(self) -> &'static str {
        match self {
            SpatialKernel::Exponential => "exp",
            SpatialKernel::Gaussian => "gau",
            SpatialKernel::Spherical => "sph",
        }
    }
}

/// The keywords, as the error for an unknown one lists them.
const KEYWORDS: &str =
    "a residual keyword: iid, diag(f), ar1(t | g), car1(t | g), cs(g), us(t | g), arh(t | g), csh(t | g), exp/gau/sph(x + y [| g] [, nugget]), ar1(row):ar1(col)";

impl std::fmt::Display for Residual {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Residual::Iid => write!(f, "iid"),
            Residual::Diag(v) => write!(f, "diag({})", v.name),
            Residual::Ar1 { time, group } => write!(f, "ar1({} | {})", time.name, group.name),
            Residual::Car1 { time, group } => write!(f, "car1({} | {})", time.name, group.name),
            Residual::Cs { group } => write!(f, "cs({})", group.name),
            Residual::Us { time, group } => write!(f, "us({} | {})", time.name, group.name),
            Residual::Arh { time, group } => write!(f, "arh({} | {})", time.name, group.name),
            Residual::Csh { time, group } => write!(f, "csh({} | {})", time.name, group.name),
            Residual::Ar1Ar1 { row, col } => write!(f, "ar1({}):ar1({})", row.name, col.name),
            Residual::Spatial {
                kernel,
                coords,
                nugget,
                group,
            } => {
                let names: Vec<&str> = coords.iter().map(|v| v.name.as_str()).collect();
                write!(f, "{}({}", kernel.keyword(), names.join(" + "))?;
                if let Some(g) = group {
                    write!(f, " | {}", g.name)?;
                }
                if *nugget {
                    write!(f, ", nugget")?;
                }
                write!(f, ")")
            }
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
            | Residual::Us { time, group }
            | Residual::Arh { time, group }
            | Residual::Csh { time, group } => vec![time.clone(), group.clone()],
            Residual::Spatial { coords, group, .. } => {
                coords.iter().chain(group).cloned().collect()
            }
            Residual::Ar1Ar1 { row, col } => vec![row.clone(), col.clone()],
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
        let key = p.name(KEYWORDS)?;
        let out = match key.name.as_str() {
            "iid" => Residual::Iid,
            "diag" => Residual::Diag(one_column(&mut p, &key.name)?),
            "cs" => Residual::Cs {
                group: one_column(&mut p, &key.name)?,
            },
            "ar1" => ar1(&mut p, text)?,
            "car1" | "us" | "arh" | "csh" => {
                let (time, group) = time_and_group(&mut p, &key.name)?;
                match key.name.as_str() {
                    "car1" => Residual::Car1 { time, group },
                    "us" => Residual::Us { time, group },
                    "arh" => Residual::Arh { time, group },
                    _ => Residual::Csh { time, group },
                }
            }
            "exp" | "gau" | "sph" => {
                let kernel = match key.name.as_str() {
                    "exp" => SpatialKernel::Exponential,
                    "gau" => SpatialKernel::Gaussian,
                    _ => SpatialKernel::Spherical,
                };
                let (coords, group, nugget) = coordinates(&mut p, text, &key.name)?;
                Residual::Spatial {
                    kernel,
                    coords,
                    nugget,
                    group,
                }
            }
            other => {
                return Err(FormulaError::syntax(
                    text,
                    key.span,
                    KEYWORDS,
                    &format!("`{other}`"),
                ))
            }
        };
        if !p.at_end() {
            return Err(p.error("the end of the residual keyword"));
        }
        Ok(out)
    }
}

/// `(column)` after keyword `key`.
fn one_column(p: &mut Parser<'_>, key: &str) -> Result<Var, FormulaError> {
    p.expect(&Tok::Open, &format!("`(` after `{key}`"))?;
    let v = p.name("a column name")?;
    p.expect(&Tok::Close, "`)`")?;
    Ok(v)
}

/// `(x + y [| g] [, nugget])` after keyword `key`: the coordinate
/// columns, the grouping column of independent fields, and whether there
/// is a nugget (`| g` may also follow the nugget: `(x + y, nugget | g)`).
fn coordinates(
    p: &mut Parser<'_>,
    text: &str,
    key: &str,
) -> Result<(Vec<Var>, Option<Var>, bool), FormulaError> {
    p.expect(&Tok::Open, &format!("`(` after `{key}`"))?;
    let mut coords = vec![p.name("a coordinate column")?];
    while p.eat(&Tok::Plus).is_some() {
        coords.push(p.name("a coordinate column")?);
    }
    let mut group = None;
    if p.eat(&Tok::Bar).is_some() {
        group = Some(p.name("the grouping column of independent fields")?);
    }
    let mut nugget = false;
    if p.eat(&Tok::Comma).is_some() {
        let hint = format!("`nugget`: `{key}(x + y, nugget)`");
        let word = p.name(&hint)?;
        if word.name != "nugget" {
            return Err(FormulaError::syntax(
                text,
                word.span,
                &hint,
                &format!("`{}`", word.name),
            ));
        }
        nugget = true;
        if group.is_none() && p.eat(&Tok::Bar).is_some() {
            group = Some(p.name("the grouping column of independent fields")?);
        }
    }
    p.expect(
        &Tok::Close,
        &format!("`)`, `| g` or `, nugget`: `{key}(x + y | g, nugget)`"),
    )?;
    Ok((coords, group, nugget))
}

/// After `ar1`: `(time | group)`, or `(row):ar1(col)`.
fn ar1(p: &mut Parser<'_>, text: &str) -> Result<Residual, FormulaError> {
    p.expect(&Tok::Open, "`(` after `ar1`")?;
    let first = p.name("a column name")?;
    if p.eat(&Tok::Bar).is_some() {
        let group = p.name("the grouping column")?;
        p.expect(&Tok::Close, "`)`")?;
        return Ok(Residual::Ar1 { time: first, group });
    }
    let hint = "`|` and the grouping column, `ar1(time | group)`, or `ar1(row):ar1(col)`";
    p.expect(&Tok::Close, hint)?;
    p.expect(&Tok::Colon, "`:ar1(col)` after `ar1(row)`")?;
    let second = p.name("`ar1(col)`")?;
    if second.name != "ar1" {
        return Err(FormulaError::syntax(
            text,
            second.span,
            "`ar1(col)`",
            &format!("`{}`", second.name),
        ));
    }
    let col = one_column(p, "ar1")?;
    Ok(Residual::Ar1Ar1 { row: first, col })
}

/// `(time | group)` after keyword `key`.
fn time_and_group(p: &mut Parser<'_>, key: &str) -> Result<(Var, Var), FormulaError> {
    p.expect(&Tok::Open, &format!("`(` after `{key}`"))?;
    let time = p.name("a column name")?;
    p.expect(
        &Tok::Bar,
        &format!("`|` and the grouping column: `{key}(time | group)`"),
    )?;
    let group = p.name("the grouping column")?;
    p.expect(&Tok::Close, "`)`")?;
    Ok((time, group))
}
