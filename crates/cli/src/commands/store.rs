//! What the store holds, read without folding: `status`, `export`,
//! `dead-letters`; and `erase`.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use cadre_store::{ReadBack, StoreLayout};

use super::output;
use crate::open::reader;
use crate::{EraseArgs, ExportArgs};

/// `cadre status`: what the data directory holds, by event type.
pub(crate) fn status(data: &Path) -> Result<ExitCode> {
    let store = reader(data)?;
    let mut latest = None;
    let mut events = 0u64;
    let mut types = std::collections::BTreeMap::<&'static str, u64>::new();
    store.replay(|_, e| {
        events += 1;
        latest = latest.max(Some(e.occurred_at));
        *types.entry(e.event_type().as_str()).or_default() += 1;
    })?;
    let out = serde_json::json!({
        "data_dir": data.display().to_string(),
        "events": events,
        "dead_letters": store.read_dead_letters()?.len(),
        "log_bytes": store.log_bytes(),
        "latest_occurred_at": latest,
        "events_by_type": types,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

/// `cadre export`: every stored event as NDJSON, in log order.
pub(crate) fn export(data: &Path, a: ExportArgs) -> Result<ExitCode> {
    let store = reader(data)?;
    let mut out = output(a.output.as_deref())?;
    let mut err = None;
    store.replay(|_, e| {
        if err.is_none() {
            err = writeln!(out, "{}", e.to_json()).err();
        }
    })?;
    if let Some(e) = err {
        return Err(e).context("cannot write events");
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `cadre dead-letters`: every rejected item with its reason.
pub(crate) fn dead_letters(data: &Path) -> Result<ExitCode> {
    let store = reader(data)?;
    let mut out = io::stdout().lock();
    for d in store.read_dead_letters()? {
        writeln!(out, "{}", serde_json::to_string(&d)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `cadre erase`: one person out of the data directory (or what that would do).
pub(crate) fn erase(data: &Path, a: EraseArgs) -> Result<ExitCode> {
    let layout = StoreLayout::new(data);
    let audit = layout.audit_log_path();
    let erasure =
        cadre_erasure::Erasure::new(layout, audit, &a.employee).with_names(a.names.clone());
    let r = if a.yes { erasure.run() } else { erasure.plan() }
        .with_context(|| format!("cannot erase employee {:?}", a.employee))?;
    let verb = if a.yes { "erased" } else { "would erase" };
    let mut out = io::stdout().lock();
    writeln!(out, "employee {} ({} name(s) found):", r.employee, r.names)?;
    writeln!(out, "  {:>8}  of their own events {verb}", r.events_erased)?;
    writeln!(
        out,
        "  {:>8}  other events that mention them, mention redacted",
        r.events_redacted
    )?;
    writeln!(out, "  {:>8}  dead letters {verb}", r.dead_letters_erased)?;
    writeln!(
        out,
        "  {:>8}  audit-log entries, mention redacted",
        r.audit_entries_redacted
    )?;
    if r.checkpoint_removed {
        writeln!(
            out,
            "  projection checkpoint removed (the next start folds the log)"
        )?;
    }
    for n in &r.shared_names {
        writeln!(
            out,
            "  name {n:?} is also another employee's: it is kept wherever it appears; review free text by hand"
        )?;
    }
    for (word, events) in &r.near_misses {
        writeln!(
            out,
            "  {word:?} alone is in {events} other event(s): kept, since it may be someone else; review them (cadre export | grep -i {word:?})"
        )?;
    }
    if !a.yes {
        writeln!(out, "nothing changed; run again with --yes to erase")?;
        return Ok(ExitCode::SUCCESS);
    }
    if r.leftovers.is_empty() {
        writeln!(out, "nothing in {} mentions them any more", data.display())?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "these files, which cadre does not manage, still mention them; remove or edit them:"
    )?;
    for p in &r.leftovers {
        writeln!(out, "  {}", p.display())?;
    }
    Ok(ExitCode::from(2))
}
