//! lme4-style model formulas: a formula plus a [`Table`](crate::data::Table)
//! builds a [`MixedModel`](crate::MixedModel) whose structures are the
//! library's typed structures behind `Box<dyn CovarianceModel>`.
//!
//! ```
//! use covreml::datasets::john_alpha;
//! use covreml::formula::FormulaModel;
//! let m = FormulaModel::new("yield ~ rep + (1 | gen) + (1 | rep:block)", &john_alpha()).unwrap();
//! assert_eq!(m.mixed().param_names(), ["gen/sigma^2", "rep:block/sigma^2", "residual/sigma^2"]);
//! ```
//!
//! # The grammar
//!
//! ```text
//! formula  := (name | call) '~' sum
//! sum      := ['+' | '-'] item (('+' | '-') item)*
//! item     := '(' sum ('|' | '||') groups ')'         random term
//!           | key '(' sum '|' groups [',' k] ')'      structured random term
//!             key: us diag cs ar1 fa (fa needs the order k = 1..3)
//!           | '(' sum ')'                             grouping only: ((x)) is x
//!           | product                                 fixed term(s)
//! product  := inter ('*' inter)*                      a*b = a + b + a:b
//! inter    := atom (':' atom)*                        a:b = the interaction only
//! atom     := name | 'factor(' name ')' | call | '1' | '0'
//! call     := f '(' arith ')' | 'poly(' arith ',' k ')'
//!             f: log exp sqrt scale I; any other name before `(` is refused
//! arith    := numbers, columns, calls, + - * / ^ and parentheses (as R)
//! groups   := gterm ('/' gterm)*                      g1/g2 = g1 + g1:g2
//! gterm    := name (':' name)*
//! name     := letters, digits, '_' and '.', not starting with a digit,
//!             or any text between backticks: `my column`
//! ```
//!
//! **Fixed effects.** An intercept is included unless the formula has `0`
//! or `- 1`. A column whose every value is a number is **numeric**; any
//! other column is **categorical**, and `factor(x)` declares a numeric
//! column categorical. Categorical columns get treatment contrasts (the
//! first level dropped) whenever the term's margin is in the model, else
//! one column per level (R's rule; without an intercept the first factor
//! gets all its levels). Levels are sorted numerically when they are all
//! numbers, else by their text. Coefficients are named as lme4 names them:
//! `(Intercept)`, `x`, `trtB`, `x:trtB`, `factor(dose)2`. Terms are ordered
//! by degree (main effects, then two-way interactions, …); columns of an
//! interaction that no observation has are dropped.
//!
//! **Random terms.** The grouping side is always categorical (a column of
//! numbers works: `(1 | school)`); `g1:g2` groups by the level
//! combinations that occur, `g1/g2` expands to `(… | g1) + (… | g1:g2)`.
//! The left side lists the coefficients: an intercept unless `0` or `- 1`,
//! numeric slope columns (or products `x:z`), and categorical columns, one
//! coefficient per level (`(0 + f | g)`: every level; `(1 + f | g)`: the
//! intercept and treatment contrasts; R's coding of the left side). As in
//! lme4, `||` does not split a factor's levels: use `diag(0 + f | g)`.
//!
//! **Structure keywords** (glmmTMB's convention) set the covariance `Σ` of
//! the coefficients: `us(1 + x | g)` unstructured (the same as
//! `(1 + x | g)`), `diag(…)` a variance per coefficient, `cs(0 + f | g)`
//! one variance and one correlation (nlme's `pdCompSymm`, glmmTMB's
//! `homcs`), `ar1(0 + t | g)` `σ² ρ^|i−j|` over the levels of `t` in
//! order, `fa(0 + env | gen, k)` factor-analytic `ΛΛᵀ + Ψ` of order `k`
//! ([`TermStructure`]). A grouping column with a known relationship matrix
//! ([`ModelInputs`], [`Relationship`]: a pedigree's `A` or a genomic `G`)
//! gives `Σ ⊗ A` and a level per id of the matrix.
//!
//! | term | `Z` | `G` |
//! |---|---|---|
//! | `(1 \| g)` | indicator of the `q` levels ([`Incidence`](crate::data::Incidence)) | `σ² I_q` ([`Scalar`](crate::Scalar)) |
//! | `(0 + x \| g)` | `x` in the level's column (dense `n × q`) | `σ² I_q` |
//! | `(1 + x \| g)` | coefficient-major dense `n × 2q` | `Σ ⊗ I_q`, `Σ` 2 × 2 ([`Unconstrained`](crate::Unconstrained) ⊗ [`Identity`](crate::Identity)) |
//! | `(1 + x \|\| g)` | as `(1 \| g) + (0 + x \| g)` | one `σ² I_q` per coefficient |
//!
//! In a correlated term, column `a·q + l` of `Z` is coefficient `a`
//! (intercept first, then the slopes in formula order) for level `l`, which
//! is the order `Σ ⊗ I_q` needs; BLUPs come in the same order. Terms are
//! named by their grouping (`Subject`, `rep:block`), with `.1`, `.2` added
//! when several share one (lme4's `Subject.1`). Parameters are named
//! `term/sigma^2`, and `term/cov/sigma^2_i_j` for `Σ_ij` of a correlated
//! term.
//!
//! **Residual** ([`Residual::parse`], the CLI's `--residual`): `iid`
//! (default, `σ² I`), `diag(f)` (a variance per level of `f`), and within
//! the levels of a grouping column, in any row order: `ar1(visit | subject)`,
//! `car1(time | subject)` (nlme's `corCAR1`), `cs(subject)`,
//! `us(time | subject)`, and `arh(visit | subject)`, `csh(time | subject)`
//! with a variance per time level (the structures of
//! [`structures::grouped`](crate::structures::grouped)); and isotropic
//! spatial correlation over coordinate columns,
//! `exp(x + y, nugget)`, `gau(…)`, `sph(…)` (nlme's `corExp`, `corGaus`,
//! `corSpher`; [`structures::spatial`](crate::structures::spatial)),
//! without a nugget `exp(x + y)`, independent fields per level of `g`
//! `exp(x + y | g, nugget)`, and `ar1(row):ar1(col)` over a field grid.
//! Prior weights ([`ModelInputs::weights`], `--weights`) make an iid
//! residual `σ² diag(1/w)`.
//!
//! **Functions** of columns ([`Arith`]) are numeric columns named as R
//! deparses them (`log(x + 1)`, `I(x^2)`); `poly(x, k)` gives `k` columns
//! `poly(x, k)1` … (R's orthogonal polynomials); `scale` and `poly` keep the
//! numbers they were built with for [`FormulaModel::predict`].
//!
//! **Missing values**: rows with a missing value in any column the model
//! uses are dropped ([`BuildOptions`]); a column's type is decided from
//! the values used.
//!
//! **Errors** point at the token: `column 18: no column `blok` (did you
//! mean `block`?); the columns are: …`; [`FormulaError::span`] gives the
//! byte range and [`Span::underline`] draws it.

mod anova;
mod ast;
mod columns;
mod components;
mod effects;
mod error;
mod fixed_part;
mod formula_model;
mod inference;
mod lexer;
pub mod multi_trait;
mod parser;
mod predict;
mod random_part;
mod relationship;
mod residual;
mod rows;
mod spatial_field;
mod summary;
mod terms;
mod transform;
mod weighted;

pub use anova::{anova, anova_with, Anova};
pub use ast::{Arith, Expr, Formula, Func, Item, Op, RandomTerm, TermStructure, Var};
pub use components::{ComponentKind, VarianceComponent};
pub use effects::{FittedValues, RandomEffect};
pub use error::{FormulaError, Span};
pub use formula_model::{BuildOptions, FormulaModel, ModelInputs, RandomTermInfo};
pub use parser::parse;
pub use relationship::{Relationship, RelationshipKind};
pub use residual::{Residual, SpatialKernel};
pub use summary::Summary;
