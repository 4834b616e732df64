//! The rows of `--each FILE.csv`: a header naming config.json keys, one row
//! per drive. Cells are typed by the template: a key whose template value is
//! a number or a boolean takes a number or a boolean, every other cell stays
//! the string it is (a hostname of digits is still a hostname).
//!
//! Before any drive is written the whole file is checked: a cell with a line
//! break, a `uuid` that is not 32 hexadecimal digits, a uuid or a whole row
//! given twice are refused, naming the row and the column — two devices
//! with one uuid fight over it.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{IdentityError, UUID_KEY};
use crate::bootcfg::{CONFIG_LIMIT_BYTES, Json, JsonMap};
use crate::user_file::read_user_file;

/// The data rows of a CSV file, each a set of config.json values.
#[derive(Debug, Clone)]
pub(crate) struct Rows {
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
    pub(crate) fn load(path: &Path) -> Result<Rows, IdentityError> {
        let bytes =
            read_user_file(path, CSV_LIMIT_BYTES).map_err(|cause| IdentityError::ReadCsv {
                path: path.to_path_buf(),
                cause,
            })?;
        Rows::parse(&bytes, path)
    }

    pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<Rows, IdentityError> {
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
        if let Some(name) = header.iter().find(|name| name.contains(['\n', '\r'])) {
            return Err(invalid(format!(
                "the column name {name:?} holds a line break"
            )));
        }
        let mut cells = Vec::new();
        let mut lines = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| invalid(e.to_string()))?;
            lines.push(record.position().map_or(0, |p| p.line()));
            cells.push(record.iter().map(str::to_string).collect());
        }
        if cells.is_empty() {
            return Err(invalid("it has a header but no rows".to_string()));
        }
        let rows = Rows {
            path: path.to_path_buf(),
            header,
            cells,
        };
        rows.check_cells(&lines).map_err(invalid)?;
        Ok(rows)
    }

    /// Refuses line breaks in cells, uuids that are not 32 hexadecimal
    /// digits, and a uuid or a whole row given twice; `lines` are the rows'
    /// line numbers in the file.
    fn check_cells(&self, lines: &[u64]) -> Result<(), String> {
        let at = |row: usize| format!("row {row} (line {})", lines[row - 1]);
        let uuid_column = self.header.iter().position(|h| h == UUID_KEY);
        let mut uuids: Vec<(String, usize)> = Vec::new();
        let mut seen_rows: Vec<(String, usize)> = Vec::new();
        for (index, cells) in self.cells.iter().enumerate() {
            let row = index + 1;
            for (name, cell) in self.header.iter().zip(cells) {
                if cell.contains(['\n', '\r']) {
                    return Err(format!(
                        "{}, column \"{name}\": the cell holds a line break; one value per cell, on one line",
                        at(row)
                    ));
                }
            }
            if let Some(uuid) = uuid_column
                .map(|c| cells[c].as_str())
                .filter(|u| !u.is_empty())
            {
                if uuid.len() != 32 || !uuid.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!(
                        "{}, column \"{UUID_KEY}\": {uuid:?} is not a device uuid (32 hexadecimal digits, it has {})",
                        at(row),
                        uuid.chars().count()
                    ));
                }
                let uuid = uuid.to_ascii_lowercase();
                if let Some((_, first)) = uuids.iter().find(|(u, _)| *u == uuid) {
                    return Err(format!(
                        "{} and {}, column \"{UUID_KEY}\": both have the uuid {uuid}; every device needs its own",
                        at(*first),
                        at(row)
                    ));
                }
                uuids.push((uuid, row));
            }
            let key = self.row_sha256(row);
            if let Some((_, first)) = seen_rows.iter().find(|(k, _)| *k == key) {
                return Err(format!(
                    "{} and {} are the same row; every drive needs its own",
                    at(*first),
                    at(row)
                ));
            }
            seen_rows.push((key, row));
        }
        Ok(())
    }

    /// The SHA-256 of data row `row` (1-based): its cells by column name,
    /// whatever the order of the columns. What a report matches a row by
    /// when the CSV has no uuid column, so that inserting a row does not
    /// make a used one look free.
    pub(crate) fn row_sha256(&self, row: usize) -> String {
        let cells: std::collections::BTreeMap<&str, &str> = self
            .header
            .iter()
            .map(String::as_str)
            .zip(self.cells[row - 1].iter().map(String::as_str))
            .collect();
        let bytes = serde_json::to_vec(&cells).expect("strings always serialise");
        crate::hex::hex(&Sha256::digest(bytes))
    }

    pub(crate) fn has_column(&self, name: &str) -> bool {
        self.header.iter().any(|h| h == name)
    }

    /// The value of `column` in data row `row` (1-based), when not empty.
    pub(crate) fn cell(&self, row: usize, column: &str) -> Option<&str> {
        let index = self.header.iter().position(|h| h == column)?;
        let cell = self.cells.get(row - 1)?.get(index)?;
        (!cell.is_empty()).then_some(cell.as_str())
    }

    /// Data row `row` (1-based) merged into `template`: each non-empty cell
    /// replaces its key, typed as the template's value of that key.
    pub(crate) fn merge(&self, row: usize, template: &JsonMap) -> Result<JsonMap, IdentityError> {
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
                            Some(Json::Bool(_)) => "true or false",
                            _ => "a number",
                        }
                    ),
                })?;
            merged.insert(name.clone(), value);
        }
        Ok(merged)
    }
}

/// `cell` as the JSON type of `like`; `None` when it cannot be. A number
/// keeps the cell's digits exactly.
fn typed(cell: &str, like: Option<&Json>) -> Option<Json> {
    match like {
        Some(Json::Number(_)) => Json::number(cell),
        Some(Json::Bool(_)) => match cell.to_ascii_lowercase().as_str() {
            "true" => Some(Json::Bool(true)),
            "false" => Some(Json::Bool(false)),
            _ => None,
        },
        _ => Some(Json::String(cell.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Json {
        Json::parse(text.as_bytes()).unwrap()
    }

    fn object(value: &Json) -> &JsonMap {
        match value {
            Json::Object(map) => map,
            _ => panic!("not an object"),
        }
    }

    fn rows(text: &str) -> Result<Rows, IdentityError> {
        Rows::parse(text.as_bytes(), Path::new("ids.csv"))
    }

    #[test]
    fn cells_take_the_type_of_the_template_value() {
        let rows = rows(
            "uuid,applicationId,persistentLogging,hostname\n\
             000000000000000000000000000000ab,123456789012345678901234567890,true,0042\n",
        )
        .unwrap();
        let template =
            json(r#"{"applicationId": 1, "persistentLogging": false, "deviceType": "x"}"#);
        let merged = rows.merge(1, object(&template)).unwrap();
        assert_eq!(
            Json::Object(merged),
            json(
                r#"{"uuid": "000000000000000000000000000000ab", "applicationId": 123456789012345678901234567890,
                   "persistentLogging": true, "hostname": "0042", "deviceType": "x"}"#
            )
        );
    }

    #[test]
    fn a_cell_that_does_not_fit_its_type_names_row_and_column() {
        let rows = rows("applicationId\n12\nabc\n").unwrap();
        let template = json(r#"{"applicationId": 1}"#);
        let err = rows.merge(2, object(&template)).unwrap_err();
        assert!(
            err.to_string().contains("row 2: \"applicationId\""),
            "{err}"
        );
    }

    #[test]
    fn quoted_cells_keep_commas_and_empty_cells_keep_the_template() {
        let rows = rows("hostname,note\n\"a,b\",\n").unwrap();
        let template = json(r#"{"note": "kept"}"#);
        let merged = rows.merge(1, object(&template)).unwrap();
        assert_eq!(
            Json::Object(merged),
            json(r#"{"hostname": "a,b", "note": "kept"}"#)
        );
    }

    #[test]
    fn bad_headers_and_ragged_rows_are_refused() {
        for (text, why) in [
            ("a,a\n1,2\n", "appears twice"),
            ("a,\n1,2\n", "no name"),
            ("a,b\n", "no rows"),
            ("a,b\n1,2\n3\n", "record"),
            (
                "a,b\n1,\"x\ny\"\n",
                "row 1 (line 2), column \"b\": the cell holds a line break",
            ),
            (
                "a,b\n1,2\n1,2\n",
                "row 1 (line 2) and row 2 (line 3) are the same row",
            ),
            (
                "uuid\n0123456789abcdef0123456789abcde\n",
                "row 1 (line 2), column \"uuid\": \"0123456789abcdef0123456789abcde\" is not a device uuid",
            ),
            (
                "n,uuid\n1,0123456789abcdef0123456789abcdef\n2,0123456789ABCDEF0123456789ABCDEF\n",
                "row 1 (line 2) and row 2 (line 3), column \"uuid\": both have the uuid",
            ),
        ] {
            let err = rows(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text:?}: {err}");
        }
    }
}
