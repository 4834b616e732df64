//! The rows of `--each FILE.csv`: a header naming config.json keys, one row
//! per drive. Cells are typed by the template: a key whose template value is
//! a number or a boolean takes a number or a boolean, every other cell stays
//! the string it is (a hostname of digits is still a hostname).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::IdentityError;
use crate::bootcfg::CONFIG_LIMIT_BYTES;
use crate::user_file::read_user_file;

/// The data rows of a CSV file, each a set of config.json values.
#[derive(Debug, Clone)]
pub struct Rows {
    pub path: PathBuf,
    pub header: Vec<String>,
    /// The cells of each data row, as written; row 1 is the line after the
    /// header.
    pub cells: Vec<Vec<String>>,
}

/// CSV files of device credentials are small; a limit keeps a wrong file
/// (an image named by mistake) from being read whole.
const CSV_LIMIT_BYTES: u64 = 64 * CONFIG_LIMIT_BYTES;

impl Rows {
    /// Reads and checks `path`: a header of distinct, non-empty names and at
    /// least one row, every row as long as the header.
    pub fn load(path: &Path) -> Result<Rows, IdentityError> {
        let bytes =
            read_user_file(path, CSV_LIMIT_BYTES).map_err(|cause| IdentityError::ReadCsv {
                path: path.to_path_buf(),
                cause,
            })?;
        Rows::parse(&bytes, path)
    }

    pub fn parse(bytes: &[u8], path: &Path) -> Result<Rows, IdentityError> {
        let invalid = |reason: String| IdentityError::InvalidCsv {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| invalid(e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        for (i, name) in header.iter().enumerate() {
            if name.is_empty() {
                return Err(invalid(format!("column {} has no name", i + 1)));
            }
            if header[..i].contains(name) {
                return Err(invalid(format!("column \"{name}\" appears twice")));
            }
        }
        let mut cells = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| invalid(e.to_string()))?;
            cells.push(record.iter().map(str::to_string).collect());
        }
        if cells.is_empty() {
            return Err(invalid("it has a header but no rows".to_string()));
        }
        Ok(Rows {
            path: path.to_path_buf(),
            header,
            cells,
        })
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.header.iter().any(|h| h == name)
    }

    /// The value of `column` in data row `row` (1-based), when not empty.
    pub fn cell(&self, row: usize, column: &str) -> Option<&str> {
        let index = self.header.iter().position(|h| h == column)?;
        let cell = self.cells.get(row - 1)?.get(index)?;
        (!cell.is_empty()).then_some(cell.as_str())
    }

    /// Data row `row` (1-based) merged into `template`: each non-empty cell
    /// replaces its key, typed as the template's value of that key.
    pub fn merge(
        &self,
        row: usize,
        template: &Map<String, Value>,
    ) -> Result<Map<String, Value>, IdentityError> {
        let mut merged = template.clone();
        for (name, cell) in self.header.iter().zip(&self.cells[row - 1]) {
            if cell.is_empty() {
                continue;
            }
            let value =
                typed(cell, template.get(name)).ok_or_else(|| IdentityError::InvalidCsv {
                    path: self.path.clone(),
                    reason: format!(
                        "row {row}: \"{name}\" is {} in the template, but the row has {cell:?}",
                        match template.get(name) {
                            Some(Value::Bool(_)) => "true or false",
                            _ => "a number",
                        }
                    ),
                })?;
            merged.insert(name.clone(), value);
        }
        Ok(merged)
    }
}

/// `cell` as the JSON type of `like`; `None` when it cannot be.
fn typed(cell: &str, like: Option<&Value>) -> Option<Value> {
    match like {
        Some(Value::Number(_)) => serde_json::from_str::<serde_json::Number>(cell)
            .ok()
            .map(Value::Number),
        Some(Value::Bool(_)) => match cell.to_ascii_lowercase().as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => Some(Value::String(cell.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(text: &str) -> Result<Rows, IdentityError> {
        Rows::parse(text.as_bytes(), Path::new("ids.csv"))
    }

    #[test]
    fn cells_take_the_type_of_the_template_value() {
        let rows =
            rows("uuid,applicationId,persistentLogging,hostname\nab,12,true,0042\n").unwrap();
        let template = json!({"applicationId": 1, "persistentLogging": false, "deviceType": "x"});
        let merged = rows.merge(1, template.as_object().unwrap()).unwrap();
        assert_eq!(
            Value::Object(merged),
            json!({"uuid": "ab", "applicationId": 12, "persistentLogging": true,
                   "hostname": "0042", "deviceType": "x"})
        );
    }

    #[test]
    fn a_cell_that_does_not_fit_its_type_names_row_and_column() {
        let rows = rows("applicationId\n12\nabc\n").unwrap();
        let template = json!({"applicationId": 1});
        let err = rows.merge(2, template.as_object().unwrap()).unwrap_err();
        assert!(
            err.to_string().contains("row 2: \"applicationId\""),
            "{err}"
        );
    }

    #[test]
    fn quoted_cells_keep_commas_and_empty_cells_keep_the_template() {
        let rows = rows("hostname,note\n\"a,b\",\n").unwrap();
        let template = json!({"note": "kept"});
        let merged = rows.merge(1, template.as_object().unwrap()).unwrap();
        assert_eq!(
            Value::Object(merged),
            json!({"hostname": "a,b", "note": "kept"})
        );
    }

    #[test]
    fn bad_headers_and_ragged_rows_are_refused() {
        for (text, why) in [
            ("a,a\n1,2\n", "appears twice"),
            ("a,\n1,2\n", "no name"),
            ("a,b\n", "no rows"),
            ("a,b\n1,2\n3\n", "record"),
        ] {
            let err = rows(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text:?}: {err}");
        }
    }
}
