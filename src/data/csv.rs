//! CSV tables read with the `csv` crate: RFC 4180 quoting (quoted commas,
//! quoted newlines, `""` inside quotes), a UTF-8 byte-order mark, CR, LF or
//! CRLF line endings; a header line, fields trimmed of surrounding
//! whitespace, blank lines ignored. Missing values ([`MISSING_VALUES`]) are
//! kept as written and reported as missing.

use super::missing::is_missing_value;
use super::DataError;

/// A table of text fields with named columns. Every row remembers the
/// 1-based line of the file it starts on, and every message about a row
/// names that line.
///
/// ```
/// use covreml::data::Table;
/// let t = Table::parse("a,b,name\n1,x,\"Smith, J\"\n2.5,y,\"say \"\"hi\"\"\"\nNA,z,\n").unwrap();
/// assert_eq!(t.n_rows(), 3);
/// assert_eq!(t.column("name").unwrap(), ["Smith, J", "say \"hi\"", ""]);
/// assert_eq!(t.numeric_opt("a").unwrap(), [Some(1.0), Some(2.5), None]);
/// assert_eq!(t.is_missing("name").unwrap(), [false, false, true]);
/// // a missing value where a number is needed names the column and the file line
/// let e = t.numeric("a").unwrap_err();
/// assert_eq!(e.to_string(), "column `a`, line 4: missing value (`NA`)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    names: Vec<String>,
    columns: Vec<Vec<String>>,
    lines: Vec<usize>,
}

impl Table {
    /// Parses CSV text (comma separated, with a header line).
    ///
    /// Errors: no header ([`DataError::Empty`]), a row with another number of
    /// fields than the header ([`DataError::RaggedRow`]), two columns with
    /// the same name ([`DataError::DuplicateColumn`]), malformed quoting or
    /// invalid UTF-8 ([`DataError::Malformed`]). A file with only a header
    /// is a table with 0 rows.
    pub fn parse(text: &str) -> Result<Self, DataError> {
        Self::from_bytes(text.as_bytes())
    }

    /// Reads and parses a CSV file.
    pub fn read(path: impl AsRef<std::path::Path>) -> Result<Self, DataError> {
        let p = path.as_ref();
        let bytes = std::fs::read(p).map_err(|e| DataError::Io {
            path: p.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, DataError> {
        let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        // The reader counts lines at LF, and puts a record that follows a
        // CRLF on the line before: CRLF and lone CR line endings are read as
        // LF, so that every row keeps its line number.
        let normalised: Vec<u8>;
        let bytes = if bytes.contains(&b'\r') {
            let mut out = Vec::with_capacity(bytes.len());
            let mut it = bytes.iter().peekable();
            while let Some(&b) = it.next() {
                if b == b'\r' {
                    if it.peek() == Some(&&b'\n') {
                        it.next();
                    }
                    out.push(b'\n');
                } else {
                    out.push(b);
                }
            }
            normalised = out;
            &normalised[..]
        } else {
            bytes
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let mut record = csv::ByteRecord::new();
        let mut names: Option<Vec<String>> = None;
        let mut columns: Vec<Vec<String>> = Vec::new();
        let mut lines = Vec::new();
        loop {
            let more = reader
                .read_byte_record(&mut record)
                .map_err(|e| malformed(&e))?;
            if !more {
                break;
            }
            let line = record.position().map_or(0, |p| p.line() as usize);
            // A line of whitespace only is blank, not a row of empty fields.
            if record.len() == 1 && record[0].is_empty() {
                continue;
            }
            match &names {
                None => {
                    let header = record
                        .iter()
                        .map(|f| text(f, line))
                        .collect::<Result<Vec<_>, _>>()?;
                    for (j, n) in header.iter().enumerate() {
                        if let Some(i) = header[..j].iter().position(|m| m == n) {
                            return Err(DataError::DuplicateColumn {
                                name: n.clone(),
                                first: i + 1,
                                second: j + 1,
                            });
                        }
                    }
                    columns = vec![Vec::new(); header.len()];
                    names = Some(header);
                }
                Some(header) => {
                    if record.len() != header.len() {
                        return Err(DataError::RaggedRow {
                            line,
                            expected: header.len(),
                            got: record.len(),
                        });
                    }
                    for (c, f) in columns.iter_mut().zip(record.iter()) {
                        c.push(text(f, line)?);
                    }
                    lines.push(line);
                }
            }
        }
        let names = names.ok_or(DataError::Empty)?;
        Ok(Table {
            names,
            columns,
            lines,
        })
    }

    /// Column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of data rows.
    pub fn n_rows(&self) -> usize {
        self.lines.len()
    }

    /// The 1-based file line each data row starts on (the header is line 1
    /// when it is the first line of the file).
    pub fn lines(&self) -> &[usize] {
        &self.lines
    }

    fn index(&self, name: &str) -> Result<usize, DataError> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| DataError::MissingColumn {
                name: name.to_string(),
                available: self.names.join(", "),
            })
    }

    /// The text values of a column, as written (missing values included).
    pub fn column(&self, name: &str) -> Result<&[String], DataError> {
        Ok(self.columns[self.index(name)?].as_slice())
    }

    /// Which values of a column are missing (one of [`MISSING_VALUES`](super::MISSING_VALUES)).
    pub fn is_missing(&self, name: &str) -> Result<Vec<bool>, DataError> {
        Ok(self
            .column(name)?
            .iter()
            .map(|v| is_missing_value(v))
            .collect())
    }

    /// A column parsed as finite numbers; a missing value is an error that
    /// names the column and the file line (see [`numeric_opt`](Self::numeric_opt)
    /// and [`complete_rows`](Self::complete_rows) to handle them).
    pub fn numeric(&self, name: &str) -> Result<Vec<f64>, DataError> {
        let text = self.column(name)?;
        self.numeric_opt(name)?
            .into_iter()
            .enumerate()
            .map(|(row, v)| {
                v.ok_or_else(|| DataError::MissingValue {
                    column: name.to_string(),
                    line: self.lines[row],
                    value: text[row].clone(),
                })
            })
            .collect()
    }

    /// A column parsed as numbers, `None` where the value is missing. Text
    /// that is neither a number nor missing, and infinite values, are errors
    /// naming the column and the file line.
    pub fn numeric_opt(&self, name: &str) -> Result<Vec<Option<f64>>, DataError> {
        self.column(name)?
            .iter()
            .zip(&self.lines)
            .map(|(v, &line)| {
                if is_missing_value(v) {
                    return Ok(None);
                }
                match v.parse::<f64>() {
                    Ok(x) if x.is_finite() => Ok(Some(x)),
                    _ => Err(DataError::NotNumeric {
                        column: name.to_string(),
                        line,
                        value: v.clone(),
                    }),
                }
            })
            .collect()
    }

    /// The rows `keep` (0-based data rows, in the order given), with their
    /// file lines.
    pub fn select_rows(&self, keep: &[usize]) -> Result<Table, DataError> {
        if let Some(&r) = keep.iter().find(|&&r| r >= self.n_rows()) {
            return Err(DataError::InvalidDesign {
                reason: format!(
                    "row index {r} is outside the table's {} rows",
                    self.n_rows()
                ),
            });
        }
        Ok(Table {
            names: self.names.clone(),
            columns: self
                .columns
                .iter()
                .map(|c| keep.iter().map(|&r| c[r].clone()).collect())
                .collect(),
            lines: keep.iter().map(|&r| self.lines[r]).collect(),
        })
    }
}

/// A field as UTF-8 text.
fn text(f: &[u8], line: usize) -> Result<String, DataError> {
    String::from_utf8(f.to_vec()).map_err(|_| DataError::Malformed {
        line,
        reason: "the field is not valid UTF-8".into(),
    })
}

fn malformed(e: &csv::Error) -> DataError {
    let line = e.position().map_or(0, |p| p.line() as usize);
    DataError::Malformed {
        line,
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_ending_gives_the_same_table() {
        let lf = Table::parse("y,g\n1,a\n2,b\n").unwrap();
        for text in [
            "y,g\r1,a\r2,b\r",
            "y,g\r\n1,a\r\n2,b\r\n",
            "\u{feff}y,g\n1,a\n2,b",
        ] {
            let t = Table::parse(text).unwrap();
            assert_eq!(t.names(), lf.names(), "{text:?}");
            assert_eq!(t.column("g").unwrap(), ["a", "b"], "{text:?}");
            assert_eq!(t.lines(), [2, 3], "{text:?}");
        }
    }

    #[test]
    fn a_quoted_newline_keeps_the_row_on_its_first_line() {
        let t = Table::parse("note,y\n\"two\nlines\",1\nx,2\n").unwrap();
        assert_eq!(t.column("note").unwrap(), ["two\nlines", "x"]);
        assert_eq!(t.lines(), [2, 4]);
    }
}
