//! `query` and `report`: figures and the succession report from the projection.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use cadre_analytics::{QueryRequest, Scope, Table};

use super::files::{import, through};
use super::output;
use crate::open::{open_engine, read_engine};
use crate::settings::Settings;
use crate::{Format, QueryArgs, ReportArgs, ReportFormat};

/// `cadre report succession`: the report for leadership, HTML or PDF.
pub(crate) fn report(data: &Path, a: ReportArgs, settings: Settings) -> Result<ExitCode> {
    let as_of = cadre_analytics::parse_as_of(a.as_of.as_deref()).map_err(anyhow::Error::msg)?;
    let engine = read_engine(data, &settings)?;
    let r = engine.succession_report(as_of, a.org_unit.as_deref())?;
    let html = r.to_html();
    let (bytes, default) = match a.format {
        ReportFormat::Html => (html.into_bytes(), "succession-report.html"),
        ReportFormat::Pdf => (cadre_report::html_to_pdf(&html)?, "succession-report.pdf"),
    };
    let path = a.output.unwrap_or_else(|| PathBuf::from(default));
    fs::write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "wrote {} ({} critical positions, {} bytes)",
        path.display(),
        r.positions.len(),
        bytes.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `cadre query KIND`: a query's tables, from the data directory or from files imported first.
pub(crate) fn query(data: &Path, a: QueryArgs, settings: Settings) -> Result<ExitCode> {
    let kind = a.kind;
    let as_of = cadre_analytics::parse_as_of(a.as_of.as_deref()).map_err(anyhow::Error::msg)?;
    let started = std::time::Instant::now();
    let (engine, rejected) = if a.import.is_empty() {
        (read_engine(data, &settings)?, 0)
    } else {
        // store the files first, folding them into the projection as they are stored
        let engine = open_engine(data, &settings, false)?;
        let total = import(&a.import, a.batch_size, a.quiet, through(&engine))?;
        (engine, total.rejected)
    };
    let request = QueryRequest {
        kind,
        scope: Scope {
            org_unit: a.org_unit,
            category: a.category,
            role: a.role,
        },
        as_of,
        months: a.months.clamp(1, 120),
        employee: a.employee,
        position: a.position,
    };
    let read = started.elapsed().as_secs_f64();
    let out = engine.query(&request)?;
    let computed = started.elapsed().as_secs_f64();
    // the process ends after the answer: the system takes its memory back at
    // once, where freeing the projection and the snapshot piece by piece
    // took 0.3 to 0.4 s at 100k
    std::mem::forget(engine);
    let pick = || -> Result<&cadre_analytics::DataFrame> {
        match &a.table {
            None => Ok(&out.tables[0].1),
            Some(name) => out
                .tables
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, d)| d)
                .with_context(|| {
                    let names: Vec<&str> = out.tables.iter().map(|(n, _)| n.as_str()).collect();
                    format!(
                        "no table {name:?} in {}; tables: {}",
                        kind.name(),
                        names.join(", ")
                    )
                }),
        }
    };
    match a.format {
        Format::Json => {
            let mut w = output(a.output.as_deref())?;
            out.write_json_pretty(&mut w)?;
            writeln!(w)?;
            w.flush()?;
        }
        Format::Csv => {
            let mut w = output(a.output.as_deref())?;
            Table::from_frame(pick()?).write_csv(&mut w)?;
            w.flush()?;
        }
        Format::Parquet => {
            let Some(path) = a.output.as_deref() else {
                bail!("--format parquet writes a file: add --output FILE.parquet");
            };
            let f =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            cadre_analytics::write_parquet(pick()?, f)?;
        }
        Format::Table => {
            let mut w = output(a.output.as_deref())?;
            writeln!(w, "{} as of {}", kind.name(), out.as_of.to_rfc3339())?;
            if let Some(summary) = &out.summary {
                if let Some(obj) = summary.as_object() {
                    for (k, v) in obj {
                        writeln!(w, "  {k}: {}", cadre_analytics::cell_text(v))?;
                    }
                }
            }
            for (name, df) in &out.tables {
                if a.table.as_ref().is_some_and(|t| t != name) {
                    continue;
                }
                writeln!(w, "\n{name}")?;
                crate::render::text_table(&Table::from_frame(df), &mut w)?;
            }
            w.flush()?;
        }
    }
    if a.timings {
        let step = if a.import.is_empty() {
            "read"
        } else {
            "import"
        };
        eprintln!(
            "cadre {}: {step} {read:.3} s, tables {:.3} s, total {computed:.3} s, answer written {:.3} s",
            env!("CARGO_PKG_VERSION"),
            computed - read,
            started.elapsed().as_secs_f64() - computed,
        );
    }
    if rejected > 0 {
        eprintln!(
            "{rejected} imported lines were rejected; see the reasons with: cadre dead-letters --data-dir {}",
            data.display()
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
