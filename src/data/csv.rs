//! CSV tables read with the `csv` crate: RFC 4180 quoting (quoted commas,
//! quoted newlines, `""` inside quotes), a UTF-8 byte-order mark, CR, LF or
//! CRLF line endings; a header line, fields trimmed of surrounding
//! whitespace, blank lines ignored. Missing values ([`MISSING_VALUES`]) are
//! kept as written and reported as missing.

use super::columnar::{Cell, ColumnBuilder, ColumnData, FxMap};
use super::DataError;
use std::io::Read;
use std::sync::OnceLock;

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
#[derive(Clone, Debug)]
pub struct Table {
    names: Vec<String>,
    columns: Vec<Column>,
    lines: Vec<usize>,
}

/// A column: its cells, and their text once someone asked for it as a
/// slice of `String`s ([`Table::column`]).
#[derive(Clone, Debug)]
struct Column {
    data: ColumnData,
    text: OnceLock<Vec<String>>,
}

impl Column {
    fn new(data: ColumnData) -> Self {
        Column {
            data,
            text: OnceLock::new(),
        }
    }
}

impl PartialEq for Table {
    fn eq(&self, other: &Self) -> bool {
        self.names == other.names
            && self.lines == other.lines
            && self
                .columns
                .iter()
                .zip(&other.columns)
                .all(|(a, b)| a.data == b.data)
    }
}

/// Turns CR and CRLF line endings into LF while reading, and drops a UTF-8
/// byte-order mark at the start: the `csv` reader counts lines at LF (and
/// would put a record that follows a CRLF on the line before), so that
/// every row keeps its line number.
struct Normalise<R> {
    inner: R,
    /// The last byte given was a CR turned into LF: an LF that follows is
    /// dropped.
    after_cr: bool,
    start: bool,
}

impl<R: Read> Read for Normalise<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            let mut from = 0;
            if self.start {
                // A mark cut across two reads is not looked for: the
                // buffered reader gives at least 3 bytes at the start.
                self.start = false;
                if buf[..n].starts_with(BOM) {
                    from = BOM.len();
                }
            }
            let mut w = 0;
            for r in from..n {
                let b = buf[r];
                if b == b'\n' && self.after_cr {
                    self.after_cr = false;
                    continue;
                }
                self.after_cr = b == b'\r';
                buf[w] = if b == b'\r' { b'\n' } else { b };
                w += 1;
            }
            if w > 0 {
                return Ok(w);
            }
        }
    }
}

const BOM: &[u8] = "\u{feff}".as_bytes();

impl Table {
    /// Parses CSV text (comma separated, with a header line).
    ///
    /// Errors: no header ([`DataError::Empty`]), a row with another number of
    /// fields than the header ([`DataError::RaggedRow`]), two columns with
    /// the same name ([`DataError::DuplicateColumn`]), malformed quoting or
    /// invalid UTF-8 ([`DataError::Malformed`]). A file with only a header
    /// is a table with 0 rows.
    pub fn parse(text: &str) -> Result<Self, DataError> {
        Self::from_reader(text.as_bytes())
    }

    /// Reads and parses a CSV file, streaming: the file is read in blocks
    /// and every field goes straight into its column (a number into an
    /// `f64`, a text into a code of its column's distinct texts), so that
    /// memory is a few bytes per cell, not a `String`.
    pub fn read(path: impl AsRef<std::path::Path>) -> Result<Self, DataError> {
        let p = path.as_ref();
        let io = |e: std::io::Error| DataError::Io {
            path: p.display().to_string(),
            reason: e.to_string(),
        };
        let file = std::fs::File::open(p).map_err(io)?;
        Self::from_reader_sized(std::io::BufReader::with_capacity(1 << 20, file)).map_err(|e| {
            match e {
                ReadError::Data(e) => e,
                ReadError::Io(e) => io(e),
            }
        })
    }

    /// Parses CSV from any reader (the same rules as [`parse`](Self::parse)).
    pub fn from_reader(reader: impl Read) -> Result<Self, DataError> {
        Self::from_reader_sized(reader).map_err(|e| match e {
            ReadError::Data(e) => e,
            ReadError::Io(e) => DataError::Io {
                path: "<reader>".into(),
                reason: e.to_string(),
            },
        })
    }

    fn from_reader_sized(reader: impl Read) -> Result<Self, ReadError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .buffer_capacity(1 << 16)
            .from_reader(Normalise {
                inner: reader,
                after_cr: false,
                start: true,
            });
        let mut record = csv::ByteRecord::new();
        let mut names: Option<Vec<String>> = None;
        let mut columns: Vec<ColumnBuilder> = Vec::new();
        let mut lines = Vec::new();
        loop {
            let more = reader.read_byte_record(&mut record).map_err(|e| {
                if let csv::ErrorKind::Io(_) = e.kind() {
                    match e.into_kind() {
                        csv::ErrorKind::Io(io) => ReadError::Io(io),
                        _ => unreachable!("checked to be an I/O error"),
                    }
                } else {
                    ReadError::Data(malformed(&e))
                }
            })?;
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
                            return Err(ReadError::Data(DataError::DuplicateColumn {
                                name: n.clone(),
                                first: i + 1,
                                second: j + 1,
                            }));
                        }
                    }
                    columns = header.iter().map(|_| ColumnBuilder::new()).collect();
                    names = Some(header);
                }
                Some(header) => {
                    if record.len() != header.len() {
                        return Err(ReadError::Data(DataError::RaggedRow {
                            line,
                            expected: header.len(),
                            got: record.len(),
                        }));
                    }
                    for (c, f) in columns.iter_mut().zip(record.iter()) {
                        c.push(f, line)?;
                    }
                    lines.push(line);
                }
            }
        }
        let names = names.ok_or(ReadError::Data(DataError::Empty))?;
        Ok(Table {
            names,
            columns: columns
                .into_iter()
                .map(|c| Column::new(c.finish()))
                .collect(),
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

    fn data(&self, name: &str) -> Result<&ColumnData, DataError> {
        Ok(&self.columns[self.index(name)?].data)
    }

    /// Whether the table has a column `name`.
    pub fn has_column(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// The text values of a column, as written (missing values included).
    ///
    /// The table keeps numbers as numbers and texts as codes: this makes
    /// (once) a `String` per cell of the column. Large data should use
    /// [`numeric_opt`](Self::numeric_opt), [`factor`](Self::factor) or
    /// [`text`](Self::text).
    pub fn column(&self, name: &str) -> Result<&[String], DataError> {
        let c = &self.columns[self.index(name)?];
        Ok(c.text
            .get_or_init(|| {
                (0..c.data.len())
                    .map(|r| c.data.text(r).into_owned())
                    .collect()
            })
            .as_slice())
    }

    /// The text of row `row` (0-based) of a column, as written.
    pub fn text(&self, name: &str, row: usize) -> Result<std::borrow::Cow<'_, str>, DataError> {
        let c = self.data(name)?;
        if row >= c.len() {
            return Err(DataError::InvalidDesign {
                reason: format!("row index {row} is outside the table's {} rows", c.len()),
            });
        }
        Ok(c.text(row))
    }

    /// Which values of a column are missing (one of [`MISSING_VALUES`](super::MISSING_VALUES)).
    pub fn is_missing(&self, name: &str) -> Result<Vec<bool>, DataError> {
        Ok(self.data(name)?.missing_mask())
    }

    /// A column parsed as finite numbers; a missing value is an error that
    /// names the column and the file line (see [`numeric_opt`](Self::numeric_opt)
    /// and [`complete_rows`](Self::complete_rows) to handle them).
    pub fn numeric(&self, name: &str) -> Result<Vec<f64>, DataError> {
        let c = self.data(name)?;
        let mut out = Vec::with_capacity(c.len());
        c.for_each_cell(|r, cell| match cell {
            Cell::Number(x) => {
                out.push(x);
                Ok(())
            }
            Cell::Missing => Err(DataError::MissingValue {
                column: name.to_string(),
                line: self.lines[r],
                value: c.text(r).into_owned(),
            }),
            Cell::Other => Err(self.not_numeric(name, c, r)),
        })?;
        Ok(out)
    }

    fn not_numeric(&self, name: &str, c: &ColumnData, r: usize) -> DataError {
        DataError::NotNumeric {
            column: name.to_string(),
            line: self.lines[r],
            value: c.text(r).into_owned(),
        }
    }

    /// A column parsed as numbers, `None` where the value is missing. Text
    /// that is neither a number nor missing, and infinite values, are errors
    /// naming the column and the file line.
    pub fn numeric_opt(&self, name: &str) -> Result<Vec<Option<f64>>, DataError> {
        let c = self.data(name)?;
        let mut out = Vec::with_capacity(c.len());
        c.for_each_cell(|r, cell| match cell {
            Cell::Number(x) => {
                out.push(Some(x));
                Ok(())
            }
            Cell::Missing => {
                out.push(None);
                Ok(())
            }
            Cell::Other => Err(self.not_numeric(name, c, r)),
        })?;
        Ok(out)
    }

    /// How many values of a column are finite numbers.
    pub fn count_numbers(&self, name: &str) -> Result<usize, DataError> {
        let mut n = 0;
        self.data(name)?.for_each_cell(|_, cell| {
            n += usize::from(matches!(cell, Cell::Number(_)));
            Ok::<(), DataError>(())
        })?;
        Ok(n)
    }

    /// The numbers of a column, or the 0-based row and text of its first
    /// value that is not a finite number (a missing value included).
    pub fn numbers_or_first_other(
        &self,
        name: &str,
    ) -> Result<Result<Vec<f64>, (usize, String)>, DataError> {
        let c = self.data(name)?;
        let mut out = Vec::with_capacity(c.len());
        let r = c.for_each_cell(|r, cell| match cell {
            Cell::Number(x) => {
                out.push(x);
                Ok(())
            }
            _ => Err((r, c.text(r).into_owned())),
        });
        Ok(r.map(|()| out))
    }

    /// A column as a factor: the level index of every row and the levels
    /// in the crate's level order ([`sorted_levels`](super::sorted_levels)),
    /// the same as [`level_codes`](super::level_codes) of
    /// [`column`](Self::column), without a `String` per row.
    ///
    /// ```
    /// use covreml::data::Table;
    /// let t = Table::parse("g\n10\n9\n1.0\n10\n").unwrap();
    /// let (codes, levels) = t.factor("g").unwrap();
    /// assert_eq!(levels, ["1.0", "9", "10"]);
    /// assert_eq!(codes, [2, 1, 0, 2]);
    /// ```
    pub fn factor(&self, name: &str) -> Result<(Vec<usize>, Vec<String>), DataError> {
        let (codes, texts) = self.data(name)?.distinct();
        let levels = super::sorted_levels(&texts);
        let at: FxMap<&str, usize> = levels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i))
            .collect();
        let recode: Vec<usize> = texts.iter().map(|t| at[t.as_str()]).collect();
        Ok((codes.iter().map(|&c| recode[c as usize]).collect(), levels))
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
                .map(|c| Column::new(c.data.select(keep)))
                .collect(),
            lines: keep.iter().map(|&r| self.lines[r]).collect(),
        })
    }

    /// Whether row `row` of column `name` is missing (for
    /// [`complete_rows`](Self::complete_rows)).
    pub(crate) fn cell_missing(&self, column: usize, row: usize) -> bool {
        self.columns[column].data.is_missing(row)
    }

    /// The index of a column (an error naming the columns if there is none).
    pub(crate) fn column_index(&self, name: &str) -> Result<usize, DataError> {
        self.index(name)
    }

    /// The text of a cell by column index.
    pub(crate) fn cell_text(&self, column: usize, row: usize) -> String {
        self.columns[column].data.text(row).into_owned()
    }
}

/// Reading failed: in the file or in the data.
enum ReadError {
    Io(std::io::Error),
    Data(DataError),
}

impl From<DataError> for ReadError {
    fn from(e: DataError) -> Self {
        ReadError::Data(e)
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

    /// Gives one byte per read: a CRLF, the byte-order mark and every
    /// field are cut across reads.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.0.split_first() {
                Some((&b, rest)) if !buf.is_empty() => {
                    buf[0] = b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn streaming_in_small_reads_gives_the_same_table() {
        let text = "y,g,x\r\n1.50,a,NA\r\n\r\n2,\"b\r\nc\",1e5\r3,a,-0\n";
        let whole = Table::parse(text).unwrap();
        // (After a blank line the `csv` reader gives the blank line's
        // number, here 3 for the row on line 4, as it did before streaming.)
        assert_eq!(whole.lines()[0], 2);
        assert_eq!(whole.lines()[2], 6);
        assert_eq!(whole.column("y").unwrap(), ["1.50", "2", "3"]);
        assert_eq!(whole.column("g").unwrap(), ["a", "b\nc", "a"]);
        assert_eq!(whole.column("x").unwrap(), ["NA", "1e5", "-0"]);
        let trickled = Table::from_reader(Trickle(text.as_bytes())).unwrap();
        assert_eq!(trickled, whole);
        assert_eq!(trickled.lines(), whole.lines());
    }

    #[test]
    fn numbers_and_codes_keep_every_text_and_message() {
        let t = Table::parse("a,b\n1.0,x\n1,NA\n0.10,x\nNA,y\n").unwrap();
        let (codes, levels) = t.factor("a").unwrap();
        assert_eq!(
            (codes, levels),
            super::super::level_codes(t.column("a").unwrap())
        );
        assert_eq!(t.factor("a").unwrap().1, ["0.10", "1", "1.0", "NA"]);
        assert_eq!(
            t.numeric("a").unwrap_err().to_string(),
            "column `a`, line 5: missing value (`NA`)"
        );
        assert_eq!(
            t.numeric_opt("b").unwrap_err().to_string(),
            "column `b`, line 2: `x` is not a finite number"
        );
        assert_eq!(t.is_missing("b").unwrap(), [false, true, false, false]);
        let s = t.select_rows(&[3, 0, 2]).unwrap();
        assert_eq!(s.column("a").unwrap(), ["NA", "1.0", "0.10"]);
        assert_eq!(s.column("b").unwrap(), ["y", "x", "x"]);
        assert_eq!(s.lines(), [5, 2, 4]);
        assert_eq!(s.numeric_opt("a").unwrap(), [None, Some(1.0), Some(0.1)]);
    }

    #[test]
    fn a_quoted_newline_keeps_the_row_on_its_first_line() {
        let t = Table::parse("note,y\n\"two\nlines\",1\nx,2\n").unwrap();
        assert_eq!(t.column("note").unwrap(), ["two\nlines", "x"]);
        assert_eq!(t.lines(), [2, 4]);
    }
}
