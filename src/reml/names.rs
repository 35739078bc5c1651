//! The names of [`Method`] and [`Backend`], read and written the same way
//! everywhere (the CLI's `--method`/`--backend`, reports, JSON): `FromStr`
//! takes `reml`/`REML`, `ml`/`ML`, `auto`, `dense`, `sparse`, `iterative`;
//! `Display` writes `REML`, `ML`, `auto`, `dense`, `sparse`, `iterative`.
//!
//! ```
//! use covreml::reml::{Backend, Method};
//! assert_eq!("ml".parse::<Method>().unwrap(), Method::Ml);
//! assert_eq!(Method::Reml.to_string(), "REML");
//! assert_eq!("sparse".parse::<Backend>().unwrap().to_string(), "sparse");
//! assert_eq!("iterative".parse::<Backend>().unwrap(), Backend::Iterative);
//! assert_eq!("x".parse::<Method>().unwrap_err().to_string(), "the method is reml or ml, not `x`");
//! ```

use super::{Backend, Method};
use std::fmt;
use std::str::FromStr;

/// A name that is not a method or backend.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the {what} is {allowed}, not `{given}`")]
pub struct UnknownName {
    what: &'static str,
    allowed: &'static str,
    given: String,
}

impl FromStr for Method {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "reml" | "REML" => Ok(Method::Reml),
            "ml" | "ML" => Ok(Method::Ml),
            _ => Err(UnknownName {
                what: "method",
                allowed: "reml or ml",
                given: s.to_string(),
            }),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Reml => "REML",
            Method::Ml => "ML",
        })
    }
}

impl FromStr for Backend {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Backend::Auto),
            "dense" => Ok(Backend::Dense),
            "sparse" => Ok(Backend::Sparse),
            "iterative" => Ok(Backend::Iterative),
            _ => Err(UnknownName {
                what: "backend",
                allowed: "auto, dense, sparse or iterative",
                given: s.to_string(),
            }),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Auto => "auto",
            Backend::Dense => "dense",
            Backend::Sparse => "sparse",
            Backend::Iterative => "iterative",
        })
    }
}
