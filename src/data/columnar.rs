//! Column storage of a [`Table`](super::Table): no `String` per cell.
//!
//! - A **numeric** column (every value that is not missing is a finite
//!   number) keeps one `f64` per row and one byte that says how the value
//!   was written: with `d` decimals in plain notation (the text is then
//!   `format!("{x:.d$}")`, checked while reading), as one of the missing
//!   values, or — rarely (`1e5`, `+3`, `007`) — as an exception whose text
//!   is kept.
//! - A **text** column keeps a code per row (`u32`) into the distinct texts
//!   in order of first appearance: one `String` per level.
//!
//! Every cell's text can be given back exactly as written, so that a
//! numeric column used as a factor has the levels of its texts (`1` and
//! `1.0` are two levels, as before).

use super::missing::MISSING_VALUES;
use super::DataError;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};

/// Format byte of a missing value: `MISSING_BASE + k` for `MISSING_VALUES[k]`.
const MISSING_BASE: u8 = 250;
/// Format byte of a value written otherwise: its text is an exception.
const EXCEPTION: u8 = 255;
/// The largest number of decimals kept as a format byte.
const MAX_DECIMALS: usize = 249;

/// A fast non-cryptographic hasher (FxHash's multiply-rotate) for the level
/// maps: keys come from the user's own file, not from an adversary.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        // The multiply leaves the low bits depending on the low bits of the
        // words only (the first bytes of a text); the table indexes by the
        // low bits: mix the high bits down (MurmurHash3's finaliser).
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
}

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A `HashMap` with [`FxHasher`].
pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// One column's cells.
#[derive(Clone, Debug)]
pub(crate) enum ColumnData {
    /// Every value that is not missing is a finite number.
    Numeric {
        /// The values (NaN where missing).
        values: Vec<f64>,
        /// How each value is written (see the module docs).
        format: Vec<u8>,
        /// The text of the rows written otherwise, by row (increasing).
        exceptions: Vec<(usize, String)>,
    },
    /// Text: codes into the distinct texts.
    Text {
        /// The code of each row.
        codes: Vec<u32>,
        /// The distinct texts, by code.
        dict: Vec<String>,
    },
}

/// What a cell holds, as far as numbers are concerned.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cell {
    /// A finite number.
    Number(f64),
    /// One of the missing values.
    Missing,
    /// Text that is neither.
    Other,
}

/// Parses a field as a finite number.
pub(crate) fn finite(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

fn missing_index(s: &str) -> Option<usize> {
    MISSING_VALUES.iter().position(|m| *m == s)
}

fn cell_of(s: &str) -> Cell {
    if missing_index(s).is_some() {
        Cell::Missing
    } else {
        finite(s).map_or(Cell::Other, Cell::Number)
    }
}

impl ColumnData {
    /// An empty numeric column (a column is numeric until a value says
    /// otherwise).
    pub(crate) fn new() -> Self {
        ColumnData::Numeric {
            values: Vec::new(),
            format: Vec::new(),
            exceptions: Vec::new(),
        }
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        match self {
            ColumnData::Numeric { values, .. } => values.len(),
            ColumnData::Text { codes, .. } => codes.len(),
        }
    }

    /// The text of row `r`, as written.
    pub(crate) fn text(&self, r: usize) -> Cow<'_, str> {
        match self {
            ColumnData::Numeric {
                values,
                format,
                exceptions,
            } => match format[r] {
                EXCEPTION => {
                    let i = exceptions
                        .binary_search_by_key(&r, |(row, _)| *row)
                        .expect("every exception row has its text");
                    Cow::Borrowed(exceptions[i].1.as_str())
                }
                f if f >= MISSING_BASE => {
                    Cow::Borrowed(MISSING_VALUES[(f - MISSING_BASE) as usize])
                }
                d => Cow::Owned(format!("{:.*}", d as usize, values[r])),
            },
            ColumnData::Text { codes, dict } => Cow::Borrowed(dict[codes[r] as usize].as_str()),
        }
    }

    /// Whether row `r` is missing.
    pub(crate) fn is_missing(&self, r: usize) -> bool {
        match self {
            ColumnData::Numeric { format, .. } => {
                let f = format[r];
                (MISSING_BASE..EXCEPTION).contains(&f)
            }
            ColumnData::Text { codes, dict } => missing_index(&dict[codes[r] as usize]).is_some(),
        }
    }

    /// Which rows are missing.
    pub(crate) fn missing_mask(&self) -> Vec<bool> {
        match self {
            ColumnData::Numeric { format, .. } => format
                .iter()
                .map(|f| (MISSING_BASE..EXCEPTION).contains(f))
                .collect(),
            ColumnData::Text { codes, dict } => {
                let m: Vec<bool> = dict.iter().map(|s| missing_index(s).is_some()).collect();
                codes.iter().map(|&c| m[c as usize]).collect()
            }
        }
    }

    /// Calls `f(row, cell)` for every row in order; stops at the first
    /// error.
    pub(crate) fn for_each_cell<E>(
        &self,
        mut f: impl FnMut(usize, Cell) -> Result<(), E>,
    ) -> Result<(), E> {
        match self {
            ColumnData::Numeric { values, format, .. } => {
                for (r, (&x, &fm)) in values.iter().zip(format).enumerate() {
                    let c = if (MISSING_BASE..EXCEPTION).contains(&fm) {
                        Cell::Missing
                    } else {
                        Cell::Number(x)
                    };
                    f(r, c)?;
                }
            }
            ColumnData::Text { codes, dict } => {
                let cells: Vec<Cell> = dict.iter().map(|s| cell_of(s)).collect();
                for (r, &c) in codes.iter().enumerate() {
                    f(r, cells[c as usize])?;
                }
            }
        }
        Ok(())
    }

    /// The rows `keep`, in that order.
    pub(crate) fn select(&self, keep: &[usize]) -> Self {
        match self {
            ColumnData::Numeric {
                values,
                format,
                exceptions,
            } => {
                let mut ex = Vec::new();
                for (i, &r) in keep.iter().enumerate() {
                    if format[r] == EXCEPTION {
                        ex.push((i, self.text(r).into_owned()));
                    }
                }
                let _ = exceptions;
                ColumnData::Numeric {
                    values: keep.iter().map(|&r| values[r]).collect(),
                    format: keep.iter().map(|&r| format[r]).collect(),
                    exceptions: ex,
                }
            }
            ColumnData::Text { codes, dict } => ColumnData::Text {
                codes: keep.iter().map(|&r| codes[r]).collect(),
                dict: dict.clone(),
            },
        }
    }

    /// The distinct texts of the column (in order of first appearance) and
    /// the index of each row's text among them: factor coding without a
    /// `String` per row.
    pub(crate) fn distinct(&self) -> (Vec<u32>, Vec<String>) {
        match self {
            ColumnData::Text { codes, dict } => {
                // Only the texts that occur (rows may have been dropped),
                // renumbered in order of first appearance.
                let mut map = vec![u32::MAX; dict.len()];
                let mut texts = Vec::new();
                let out = codes
                    .iter()
                    .map(|&c| {
                        let m = &mut map[c as usize];
                        if *m == u32::MAX {
                            *m = texts.len() as u32;
                            texts.push(dict[c as usize].clone());
                        }
                        *m
                    })
                    .collect();
                (out, texts)
            }
            ColumnData::Numeric { values, format, .. } => {
                // Two cells have the same text exactly when they have the
                // same value bits and format byte (exceptions: the same text).
                let mut by_value: FxMap<(u64, u8), u32> = FxMap::default();
                let mut by_text: FxMap<String, u32> = FxMap::default();
                let mut texts: Vec<String> = Vec::new();
                let mut out = Vec::with_capacity(values.len());
                for (r, (&x, &fm)) in values.iter().zip(format).enumerate() {
                    let code = if fm == EXCEPTION {
                        let t = self.text(r);
                        match by_text.get(t.as_ref()) {
                            Some(&c) => c,
                            None => {
                                let c = texts.len() as u32;
                                texts.push(t.to_string());
                                by_text.insert(t.into_owned(), c);
                                c
                            }
                        }
                    } else {
                        let key = if fm >= MISSING_BASE {
                            (0, fm)
                        } else {
                            (x.to_bits(), fm)
                        };
                        *by_value.entry(key).or_insert_with(|| {
                            texts.push(self.text(r).into_owned());
                            (texts.len() - 1) as u32
                        })
                    };
                    out.push(code);
                }
                (out, texts)
            }
        }
    }
}

impl PartialEq for ColumnData {
    fn eq(&self, other: &Self) -> bool {
        if let (
            ColumnData::Numeric {
                values: a,
                format: fa,
                exceptions: ea,
            },
            ColumnData::Numeric {
                values: b,
                format: fb,
                exceptions: eb,
            },
        ) = (self, other)
        {
            let same = |x: &f64, y: &f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
            return a.len() == b.len()
                && fa == fb
                && ea == eb
                && a.iter().zip(b).all(|(x, y)| same(x, y));
        }
        self.len() == other.len() && (0..self.len()).all(|r| self.text(r) == other.text(r))
    }
}

/// Builds a column while the file is read.
#[derive(Debug)]
pub(crate) struct ColumnBuilder {
    data: ColumnData,
    /// The code of each text of at most 15 bytes, while the column is text,
    /// the text inline (a lookup touches the table only, not the heap).
    short: FxMap<u128, u32>,
    /// The code of each longer text.
    long: FxMap<String, u32>,
    buf: String,
}

impl ColumnBuilder {
    pub(crate) fn new() -> Self {
        ColumnBuilder {
            data: ColumnData::new(),
            short: FxMap::default(),
            long: FxMap::default(),
            buf: String::new(),
        }
    }

    /// Appends a (trimmed) field of file line `line`.
    pub(crate) fn push(&mut self, field: &[u8], line: usize) -> Result<(), DataError> {
        let s = if field.is_ascii() {
            // SAFETY-free: ASCII is UTF-8.
            std::str::from_utf8(field).expect("ASCII is UTF-8")
        } else {
            std::str::from_utf8(field).map_err(|_| DataError::Malformed {
                line,
                reason: "the field is not valid UTF-8".into(),
            })?
        };
        if let ColumnData::Numeric {
            values,
            format,
            exceptions,
        } = &mut self.data
        {
            if let Some(k) = missing_index(s) {
                values.push(f64::NAN);
                format.push(MISSING_BASE + k as u8);
                return Ok(());
            }
            if let Some(x) = finite(s) {
                let r = values.len();
                values.push(x);
                match plain_decimals(s, x, &mut self.buf) {
                    Some(d) => format.push(d),
                    None => {
                        format.push(EXCEPTION);
                        exceptions.push((r, s.to_string()));
                    }
                }
                return Ok(());
            }
            self.become_text();
        }
        let ColumnData::Text { codes, dict } = &mut self.data else {
            unreachable!("the column is text here")
        };
        let key = short_key(s);
        let found = match key {
            Some(k) => self.short.get(&k),
            None => self.long.get(s),
        };
        let code = match found {
            Some(&c) => c,
            None => {
                let c = u32::try_from(dict.len()).map_err(|_| DataError::Malformed {
                    line,
                    reason: "more than 4,294,967,295 distinct texts in a column".into(),
                })?;
                dict.push(s.to_string());
                match key {
                    Some(k) => self.short.insert(k, c),
                    None => self.long.insert(s.to_string(), c),
                };
                c
            }
        };
        codes.push(code);
        Ok(())
    }

    /// Turns the numeric column read so far into a text column.
    fn become_text(&mut self) {
        let (codes, dict) = self.data.distinct();
        for (i, s) in dict.iter().enumerate() {
            match short_key(s) {
                Some(k) => self.short.insert(k, i as u32),
                None => self.long.insert(s.clone(), i as u32),
            };
        }
        self.data = ColumnData::Text { codes, dict };
    }

    /// The column.
    pub(crate) fn finish(self) -> ColumnData {
        self.data
    }
}

/// A text of at most 15 bytes as one number: its bytes and its length.
fn short_key(s: &str) -> Option<u128> {
    let b = s.as_bytes();
    (b.len() < 16).then(|| {
        let mut k = [0u8; 16];
        k[..b.len()].copy_from_slice(b);
        k[15] = b.len() as u8;
        u128::from_le_bytes(k)
    })
}

/// The number of decimals `d` with which `s` is `format!("{x:.d$}")`, for
/// a number `s` in plain notation (`-`, digits without a leading zero, an
/// optional `.` and digits) that parses to `x`; `None` otherwise. Up to 15
/// significant digits this holds by the precision of `f64` (every decimal
/// of 15 digits survives the round trip) and is not checked; beyond, the
/// text is compared with the shortest and the fixed formatting of `x`.
fn plain_decimals(s: &str, x: f64, buf: &mut String) -> Option<u8> {
    let b = s.as_bytes();
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    let (int, frac) = match digits.iter().position(|&c| c == b'.') {
        Some(p) => (&digits[..p], &digits[p + 1..]),
        None => (digits, &[][..]),
    };
    let has_point = int.len() < digits.len();
    if int.is_empty()
        || (int.len() > 1 && int[0] == b'0')
        || (has_point && frac.is_empty())
        || frac.len() > MAX_DECIMALS
        || !int.iter().chain(frac).all(u8::is_ascii_digit)
    {
        return None;
    }
    let d = frac.len();
    let significant = int.iter().chain(frac).skip_while(|&&c| c == b'0').count();
    if significant > 15 || x == 0.0 {
        buf.clear();
        write!(buf, "{x}").expect("writing to a String");
        if buf != s {
            buf.clear();
            write!(buf, "{x:.d$}").expect("writing to a String");
            if buf != s {
                return None;
            }
        }
    }
    Some(d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(cells: &[&str]) -> ColumnData {
        let mut b = ColumnBuilder::new();
        for (i, c) in cells.iter().enumerate() {
            b.push(c.as_bytes(), i + 2).unwrap();
        }
        b.finish()
    }

    #[test]
    fn numbers_give_back_their_text() {
        let cells = [
            "1",
            "1.0",
            "-0",
            "0",
            "0.0",
            "-0.50",
            "1e5",
            "+3",
            "007",
            ".5",
            "5.",
            "NA",
            "",
            "NaN",
            "N/A",
            "0.3378520572155503",
            "-0.9989746867225281",
            "0.1000000000000000055511",
            "123456789012345678901234",
            "0.000123",
            "1E-7",
            "3.14159",
        ];
        let c = build(&cells);
        assert!(matches!(c, ColumnData::Numeric { .. }));
        for (r, s) in cells.iter().enumerate() {
            assert_eq!(c.text(r), *s, "row {r}");
        }
        let (codes, texts) = c.distinct();
        assert_eq!(texts.len(), cells.len());
        assert_eq!(codes, (0..cells.len() as u32).collect::<Vec<_>>());
        assert!(c.is_missing(11) && c.is_missing(12) && !c.is_missing(0));
    }

    #[test]
    fn a_word_makes_the_column_text() {
        let cells = ["1", "1.0", "NA", "x", "1", "1.0"];
        let c = build(&cells);
        assert!(matches!(c, ColumnData::Text { .. }));
        for (r, s) in cells.iter().enumerate() {
            assert_eq!(c.text(r), *s);
        }
        assert_eq!(c.distinct().0, [0, 1, 2, 3, 0, 1]);
    }
}
