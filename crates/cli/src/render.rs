//! Aligned text tables for the terminal.

use std::io::{self, Write};

use cadre_analytics::{cell_text, Table};
use serde_json::Value;

/// How a cell reads: fractions with three decimals, the rest as text.
fn show(v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_f64() => format!("{:.3}", n.as_f64().unwrap_or_default()),
        other => cell_text(other),
    }
}

/// Writes `t` with columns padded to their widest cell; numbers right-aligned.
pub(crate) fn text_table(t: &Table, w: &mut dyn Write) -> io::Result<()> {
    let cells: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(show).collect())
        .collect();
    let widths: Vec<usize> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(c.len())
        })
        .collect();
    let numeric: Vec<bool> = (0..t.columns.len())
        .map(|i| t.rows.iter().all(|r| r[i].is_number() || r[i].is_null()))
        .collect();
    let line = |w: &mut dyn Write, row: &[String]| -> io::Result<()> {
        let parts: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if numeric[i] {
                    format!("{c:>width$}", width = widths[i])
                } else {
                    format!("{c:<width$}", width = widths[i])
                }
            })
            .collect();
        writeln!(w, "{}", parts.join("  ").trim_end())
    };
    line(w, &t.columns)?;
    line(
        w,
        &widths.iter().map(|n| "-".repeat(*n)).collect::<Vec<_>>(),
    )?;
    for r in &cells {
        line(w, r)?;
    }
    if cells.is_empty() {
        writeln!(w, "(no rows)")?;
    }
    Ok(())
}
