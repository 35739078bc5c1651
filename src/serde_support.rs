//! Field formats for the `serde` feature.
//!
//! Matrices are written as arrays of rows (`[[a, b], [c, d]]`), which is what
//! a reader of the exported JSON expects, rather than nalgebra's storage
//! tuple. JSON has no NaN or infinity: NaN (the standard error of a
//! parameter held at a bound) is written as `null`, infinities (an unbounded
//! option) as the strings `"inf"` and `"-inf"`, and all three read back as
//! they were, so every exported value round-trips.

use nalgebra::DMatrix;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How one number is written.
#[derive(Serialize)]
#[serde(untagged)]
enum Enc {
    Number(f64),
    Text(&'static str),
}

/// How one number is read.
#[derive(Deserialize)]
#[serde(untagged)]
enum Dec {
    Number(f64),
    Text(String),
}

fn opt(v: f64) -> Option<Enc> {
    if v.is_nan() {
        None
    } else if v == f64::INFINITY {
        Some(Enc::Text("inf"))
    } else if v == f64::NEG_INFINITY {
        Some(Enc::Text("-inf"))
    } else {
        Some(Enc::Number(v))
    }
}

fn dec<E: serde::de::Error>(v: Option<Dec>) -> Result<f64, E> {
    match v {
        None => Ok(f64::NAN),
        Some(Dec::Number(x)) => Ok(x),
        Some(Dec::Text(t)) => match t.as_str() {
            "inf" | "Infinity" => Ok(f64::INFINITY),
            "-inf" | "-Infinity" => Ok(f64::NEG_INFINITY),
            "NaN" | "nan" => Ok(f64::NAN),
            other => Err(E::custom(format!(
                "`{other}` is not a number (expected a number, null, \"inf\" or \"-inf\")"
            ))),
        },
    }
}

/// `true`: the default of a flag added after the format was first written.
pub(crate) fn yes() -> bool {
    true
}

/// One `f64`.
pub(crate) mod float {
    use super::*;

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        opt(*v).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        dec(Option::<Dec>::deserialize(d)?)
    }
}

/// A vector of `f64`.
pub(crate) mod floats {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|&x| opt(x)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Vec::<Option<Dec>>::deserialize(d)?
            .into_iter()
            .map(dec)
            .collect()
    }
}

/// Two `f64`s.
pub(crate) mod floats_2 {
    use super::*;
    use serde::de::Error;

    pub fn serialize<S: Serializer>(v: &[f64; 2], s: S) -> Result<S::Ok, S::Error> {
        floats::serialize(v, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; 2], D::Error> {
        let v = floats::deserialize(d)?;
        <[f64; 2]>::try_from(v.as_slice())
            .map_err(|_| D::Error::custom(format!("expected 2 numbers, got {}", v.len())))
    }
}

/// An optional vector of `f64`.
pub(crate) mod opt_floats {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<Vec<f64>>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref()
            .map(|v| v.iter().map(|&x| opt(x)).collect::<Vec<_>>())
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f64>>, D::Error> {
        Option::<Vec<Option<Dec>>>::deserialize(d)?
            .map(|v| v.into_iter().map(dec).collect())
            .transpose()
    }
}

/// A matrix as an array of rows.
pub(crate) mod matrix {
    use super::*;
    use serde::de::Error;

    pub fn serialize<S: Serializer>(m: &DMatrix<f64>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            m.row_iter()
                .map(|r| r.iter().map(|&x| opt(x)).collect::<Vec<_>>()),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DMatrix<f64>, D::Error> {
        let rows = Vec::<Vec<Option<Dec>>>::deserialize(d)?
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(dec)
                    .collect::<Result<Vec<f64>, D::Error>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ncols = rows.first().map_or(0, Vec::len);
        if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != ncols) {
            return Err(D::Error::custom(format!(
                "matrix row {} has {} entries, row 1 has {ncols}",
                i + 1,
                r.len()
            )));
        }
        Ok(DMatrix::from_fn(rows.len(), ncols, |i, j| rows[i][j]))
    }
}
