//! A plain, serialisable copy of a frame, for JSON and CSV outputs.

use polars::prelude::{AnyValue, DataFrame};
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
    /// Copies a frame; NaN and infinite numbers become null.
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

    /// The index of a column.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
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
        AnyValue::Float32(x) => {
            serde_json::Number::from_f64(f64::from(x)).map_or(Value::Null, Value::Number)
        }
        AnyValue::Float64(x) => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
        other => Value::String(other.to_string()),
    }
}
