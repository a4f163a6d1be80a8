//! A plain, serialisable copy of a frame, for JSON and CSV outputs.

use polars::prelude::{AnyValue, DataFrame};
use serde::ser::SerializeMap;
use serde::Serialize;
use serde_json::Value;

/// Column names and row values of a frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Rows, each with one value per column.
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// Copies a frame; floats are rounded to 12 decimal places, NaN and infinite numbers become null.
    pub fn from_frame(df: &DataFrame) -> Table {
        let columns = df
            .get_column_names()
            .into_iter()
            .map(|c| c.to_string())
            .collect();
        let rows = (0..df.height())
            .map(|i| {
                df.get(i)
                    .unwrap_or_default()
                    .into_iter()
                    .map(to_json)
                    .collect()
            })
            .collect();
        Table { columns, rows }
    }

    /// Rows as JSON objects keyed by column name.
    pub fn records(&self) -> Vec<serde_json::Map<String, Value>> {
        self.rows
            .iter()
            .map(|r| {
                self.columns
                    .iter()
                    .cloned()
                    .zip(r.iter().cloned())
                    .collect()
            })
            .collect()
    }

    /// Writes the table as CSV (RFC 4180 quoting; nulls as empty fields).
    ///
    /// A text cell that a spreadsheet would take for a formula (it starts
    /// with `=`, `+`, `-`, `@`, a tab or a carriage return: a name such as
    /// `=HYPERLINK(...)` sent in an event) is written with a leading `'`,
    /// which spreadsheets show as text and never run. Numbers are written as
    /// they are, negative ones included.
    pub fn write_csv(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        let line = |cells: Vec<String>| {
            cells
                .iter()
                .map(|c| {
                    if c.contains([',', '"', '\n', '\r']) {
                        format!("\"{}\"", c.replace('"', "\"\""))
                    } else {
                        c.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        writeln!(w, "{}", line(self.columns.clone()))?;
        for r in &self.rows {
            writeln!(w, "{}", line(r.iter().map(csv_cell).collect()))?;
        }
        Ok(())
    }

    /// The index of a column.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// A cell's CSV text, a text that would start a formula made inert.
fn csv_cell(v: &Value) -> String {
    let text = cell_text(v);
    match v {
        Value::String(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{text}"),
        _ => text,
    }
}

/// Named frames as a JSON object of `{"columns", "rows"}` tables, each row
/// an object keyed by column name, written cell by cell from the frames
/// (names sorted, as a JSON object keeps them).
pub(crate) struct Tables<'a>(pub(crate) &'a [(&'a str, &'a DataFrame)]);

impl Serialize for Tables<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (name, df) in self.0 {
            let table = Table::from_frame(df);
            let mut order: Vec<usize> = (0..table.columns.len()).collect();
            order.sort_by_key(|&i| &table.columns[i]);
            m.serialize_entry(
                name,
                &TableJson {
                    table: &table,
                    order: &order,
                },
            )?;
        }
        m.end()
    }
}

/// A table as `{"columns": [...], "rows": [{column: value}]}`, the row's
/// keys in `order`.
struct TableJson<'a> {
    table: &'a Table,
    order: &'a [usize],
}

impl Serialize for TableJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("columns", &self.table.columns)?;
        m.serialize_entry("rows", &Rows(self))?;
        m.end()
    }
}

struct Rows<'a>(&'a TableJson<'a>);

impl Serialize for Rows<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let TableJson { table, order } = self.0;
        s.collect_seq(table.rows.iter().map(|row| Row { table, order, row }))
    }
}

struct Row<'a> {
    table: &'a Table,
    order: &'a [usize],
    row: &'a [Value],
}

impl Serialize for Row<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(
            self.order
                .iter()
                .map(|&i| (&self.table.columns[i], &self.row[i])),
        )
    }
}

/// A figure rounded to 12 decimal places: parallel aggregation may sum in
/// any order, and the last bits of a float must not make two runs differ.
fn float(x: f64) -> Value {
    let r = (x * 1e12).round() / 1e12;
    serde_json::Number::from_f64(if r == 0.0 { 0.0 } else { r }).map_or(Value::Null, Value::Number)
}

/// A cell as plain text: strings unquoted, null empty.
pub fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn to_json(v: AnyValue<'_>) -> Value {
    match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(b),
        AnyValue::String(s) => Value::String(s.to_string()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::UInt8(n) => n.into(),
        AnyValue::UInt16(n) => n.into(),
        AnyValue::UInt32(n) => n.into(),
        AnyValue::UInt64(n) => n.into(),
        AnyValue::Int8(n) => n.into(),
        AnyValue::Int16(n) => n.into(),
        AnyValue::Int32(n) => n.into(),
        AnyValue::Int64(n) => n.into(),
        AnyValue::Float32(x) => float(f64::from(x)),
        AnyValue::Float64(x) => float(x),
        other => Value::String(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_written_straight_is_the_text_of_its_value() {
        use crate::{QueryKind, QueryOutput};
        // columns and tables out of name order, every kind of cell
        let df = |k: i64| {
            polars::df!(
                "zeta" => [Some("a \"q\""), None],
                "alpha" => [Some(1.0 / 3.0), Some(f64::NAN)],
                "mid" => [k, 2],
                "flag" => [true, false],
            )
            .expect("frame")
        };
        let out = QueryOutput {
            as_of: chrono::Utc::now(),
            kind: QueryKind::Gaps,
            tables: vec![("units".into(), df(1)), ("categories".into(), df(7))],
            summary: Some(serde_json::json!({"b": 1, "a": [0.5]})),
        };
        let mut written = Vec::new();
        out.write_json_pretty(&mut written).expect("writes");
        let value = out.to_json();
        assert_eq!(
            String::from_utf8(written).expect("utf-8"),
            serde_json::to_string_pretty(&value).expect("prints")
        );
        assert_eq!(value["tables"]["categories"]["rows"][0]["mid"], 7);
        assert_eq!(value["tables"]["units"]["rows"][0]["alpha"], 0.333333333333);
        assert_eq!(value["tables"]["units"]["rows"][1]["alpha"], Value::Null);
        assert_eq!(
            value["tables"]["units"]["columns"],
            serde_json::json!(["zeta", "alpha", "mid", "flag"])
        );
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let t = Table {
            columns: vec!["a".into(), "b".into()],
            rows: vec![
                vec![Value::String("x, \"y\"".into()), Value::Null],
                vec![1.5.into(), true.into()],
            ],
        };
        let mut out = Vec::new();
        t.write_csv(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a,b\n\"x, \"\"y\"\"\",\n1.5,true\n"
        );
    }

    #[test]
    fn csv_makes_formulas_in_text_inert_and_leaves_numbers_alone() {
        let text = |s: &str| Value::String(s.into());
        let t = Table {
            columns: vec!["name".into(), "change".into()],
            rows: vec![
                vec![text("=HYPERLINK(\"http://x\",\"y\")"), (-0.8).into()],
                vec![text("+1"), text("-2")],
                vec![text("@SUM(A1)"), text("\tTab")],
                vec![text("\rCR"), text("Ann - Lee")],
            ],
        };
        let mut out = Vec::new();
        t.write_csv(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "name,change\n\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",-0.8\n'+1,'-2\n'@SUM(A1),'\tTab\n\"'\rCR\",Ann - Lee\n"
        );
    }
}

/// Where two answers first differ: a JSON pointer and both values, or `None`
/// when they agree. Numbers count as equal within 1e-9 relative: polars sums
/// floats on every core, in an order that varies from run to run, so their
/// last bits do too.
pub fn first_difference(a: &Value, b: &Value) -> Option<String> {
    difference_at(a, b, String::new())
}

fn difference_at(a: &Value, b: &Value, at: String) -> Option<String> {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (x, y))| difference_at(x, y, format!("{at}/{i}"))),
        (Value::Object(x), Value::Object(y)) if x.len() == y.len() => {
            x.iter().find_map(|(k, v)| match y.get(k) {
                Some(w) => difference_at(v, w, format!("{at}/{k}")),
                None => Some(format!("{at}/{k}: only on one side")),
            })
        }
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64()?, y.as_f64()?);
            ((x - y).abs() > 1e-9 * x.abs().max(y.abs()).max(1.0))
                .then(|| format!("{at}: {x} != {y}"))
        }
        _ if a == b => None,
        _ => Some(format!("{at}: {a} != {b}")),
    }
}

#[cfg(test)]
mod difference_tests {
    use super::first_difference;
    use serde_json::json;

    #[test]
    fn points_at_the_first_difference_beyond_rounding() {
        let a = json!({"rows": [[1, 0.1], [2, "x"]]});
        assert_eq!(first_difference(&a, &a), None);
        let b = json!({"rows": [[1, 0.1 + 1e-15], [2, "x"]]});
        assert_eq!(first_difference(&a, &b), None);
        let c = json!({"rows": [[1, 0.1], [2, "y"]]});
        assert_eq!(
            first_difference(&a, &c).as_deref(),
            Some("/rows/1/1: \"x\" != \"y\"")
        );
        let d = json!({"rows": [[1, 0.1001]]});
        assert!(first_difference(&a, &d).is_some());
        let e = json!({"rows": [[1, 0.1], [2, "x"]], "more": 1});
        assert!(first_difference(&a, &e).is_some());
    }
}
