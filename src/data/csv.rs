//! A tiny CSV reader for the numeric and categorical tables of the
//! examples: comma separated, a header line, optional double quotes around
//! fields (no embedded commas or quotes), blank lines ignored.

use super::DataError;

/// A table of text fields with named columns.
///
/// ```
/// use covreml::data::Table;
/// let t = Table::parse("a,b\n1,x\n2.5,y\n").unwrap();
/// assert_eq!(t.n_rows(), 2);
/// assert_eq!(t.numeric("a").unwrap(), [1.0, 2.5]);
/// assert_eq!(t.column("b").unwrap(), ["x", "y"]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    names: Vec<String>,
    columns: Vec<Vec<String>>,
}

fn field(s: &str) -> String {
    let s = s.trim();
    let s = s
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(s);
    s.to_string()
}

impl Table {
    /// Parses CSV text.
    pub fn parse(text: &str) -> Result<Self, DataError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, header) = lines.next().ok_or(DataError::Empty)?;
        let names: Vec<String> = header.split(',').map(field).collect();
        let mut columns = vec![Vec::new(); names.len()];
        for (i, line) in lines {
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != names.len() {
                return Err(DataError::RaggedRow {
                    line: i + 1,
                    expected: names.len(),
                    got: fields.len(),
                });
            }
            for (c, f) in columns.iter_mut().zip(fields) {
                c.push(field(f));
            }
        }
        Ok(Table { names, columns })
    }

    /// Reads and parses a CSV file.
    pub fn read(path: impl AsRef<std::path::Path>) -> Result<Self, DataError> {
        let p = path.as_ref();
        let text = std::fs::read_to_string(p).map_err(|e| DataError::Io {
            path: p.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text)
    }

    /// Column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of data rows.
    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    /// The text values of a column.
    pub fn column(&self, name: &str) -> Result<&[String], DataError> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| self.columns[i].as_slice())
            .ok_or_else(|| DataError::MissingColumn {
                name: name.to_string(),
                available: self.names.join(", "),
            })
    }

    /// A column parsed as numbers.
    pub fn numeric(&self, name: &str) -> Result<Vec<f64>, DataError> {
        self.column(name)?
            .iter()
            .enumerate()
            .map(|(row, v)| {
                v.parse::<f64>().map_err(|_| DataError::NotNumeric {
                    column: name.to_string(),
                    row,
                    value: v.clone(),
                })
            })
            .collect()
    }
}
