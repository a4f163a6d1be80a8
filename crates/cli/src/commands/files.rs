//! Events in and out as files: `generate` and `ingest`, and the progress
//! bars and summaries of every import.

use std::fs::{self};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use cadre_engine::Engine;
use cadre_ingest::{import_file, ImportSummary, Ingestor};
use cadre_synth::SynthConfig;
use indicatif::{ProgressBar, ProgressStyle};

use super::output;
use crate::open::open;
use crate::settings::Settings;
use crate::{GenerateArgs, IngestArgs, SynthArgs};

/// The demo organisation the arguments describe.
pub(crate) fn synth_config(a: &SynthArgs) -> SynthConfig {
    let mut c = SynthConfig::new(a.employees, a.seed);
    if let Some(end) = a.end_date {
        c.end = end;
    }
    c
}

/// Writes the organisation as NDJSON; returns the number of events.
pub(crate) fn write_synth(config: &SynthConfig, out: &mut dyn Write) -> Result<u64> {
    let mut err = None;
    let n = cadre_synth::generate(config, &mut |e| {
        if err.is_none() {
            if let Err(e) = writeln!(out, "{}", e.to_json()) {
                err = Some(e);
            }
        }
    });
    if let Some(e) = err {
        return Err(e).context("cannot write events");
    }
    out.flush().context("cannot write events")?;
    Ok(n)
}

/// `cadre generate`: a demo organisation's events as NDJSON.
pub(crate) fn generate(a: GenerateArgs) -> Result<ExitCode> {
    let mut out = output(a.output.as_deref())?;
    let n = write_synth(&synth_config(&a.synth), &mut out)?;
    if a.output.is_some() {
        eprintln!("wrote {n} events");
    }
    Ok(ExitCode::SUCCESS)
}

/// Imports `files` in order with a progress bar each, each through `run`
/// (the store alone, or the engine that folds as it stores).
pub(crate) fn import(
    files: &[PathBuf],
    batch_size: usize,
    quiet: bool,
    mut run: impl FnMut(&Path, usize, &ProgressBar) -> Result<ImportSummary>,
) -> Result<ImportSummary> {
    if batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    let mut total = ImportSummary::default();
    for path in files {
        let size = fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        let bar = if quiet || !io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(size)
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(path.display().to_string());
        let s = run(path, batch_size, &bar)
        .with_context(|| format!("import of {} stopped; what was reported before is stored, run the same command again to finish", path.display()))?;
        bar.finish_and_clear();
        eprintln!(
            "{}: {} lines, {} accepted, {} duplicate, {} rejected",
            path.display(),
            s.lines,
            s.accepted,
            s.duplicate,
            s.rejected
        );
        total.lines += s.lines;
        total.accepted += s.accepted;
        total.duplicate += s.duplicate;
        total.rejected += s.rejected;
    }
    Ok(total)
}

/// Imports through the store alone: nothing is folded (the next reader folds).
pub(crate) fn store_only(
    ingestor: &mut Ingestor,
) -> impl FnMut(&Path, usize, &ProgressBar) -> Result<ImportSummary> + '_ {
    move |path, batch_size, bar| {
        let bar = bar.clone();
        Ok(import_file(ingestor, path, batch_size, move |bytes, _| {
            bar.set_position(bytes)
        })?)
    }
}

/// Imports through the engine: stored, folded and told to subscribers.
pub(crate) fn through(
    engine: &Engine,
) -> impl FnMut(&Path, usize, &ProgressBar) -> Result<ImportSummary> + '_ {
    move |path, batch_size, bar| {
        let bar = bar.clone();
        Ok(engine.import(path, batch_size, move |bytes| bar.set_position(bytes))?)
    }
}

/// `cadre ingest`: files into the store, each batch durable before the next.
pub(crate) fn ingest(data: &Path, a: IngestArgs, settings: Settings) -> Result<ExitCode> {
    let mut ingestor = open(data, &settings)?;
    let total = import(&a.files, a.batch_size, a.quiet, store_only(&mut ingestor))?;
    if a.files.len() > 1 {
        eprintln!(
            "total: {} lines, {} accepted, {} duplicate, {} rejected",
            total.lines, total.accepted, total.duplicate, total.rejected
        );
    }
    if total.rejected > 0 {
        eprintln!(
            "see the reasons with: cadre dead-letters --data-dir {}",
            data.display()
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
