//! Opening a data directory: the engine (to write, or to read beside a
//! writer) or the store alone, with what was recovered said on the way.

use std::path::Path;

use anyhow::{Context, Result};
use cadre_engine::{Engine, EngineConfig, EngineError};
use cadre_ingest::Ingestor;
use cadre_store::{StoreLayout, StoreReader};

use crate::settings::Settings;

/// Opens the store alone, as the data directory's one writer (nothing is folded).
pub(crate) fn open(data: &Path, settings: &Settings) -> Result<Ingestor> {
    let (mut ingestor, recoveries) = Ingestor::open(&StoreLayout::new(data))
        .with_context(|| format!("cannot open the data directory {}", data.display()))?;
    ingestor.set_config(settings.ingest.clone());
    report_recoveries(&recoveries);
    Ok(ingestor)
}

/// Says which damaged log tails were cut off at open.
/// Creates the data directory (and its parents) for its owner alone (0700):
/// it holds people's appraisals and the tokens that open them.
pub(crate) fn private_dir(data: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data)
        .with_context(|| format!("cannot create {}", data.display()))
}

pub(crate) fn report_recoveries(recoveries: &[cadre_log::Recovery]) {
    for r in recoveries {
        eprintln!(
            "recovered {}: dropped a damaged tail of {} bytes at byte {} ({}); events acknowledged before it are intact",
            r.segment.display(),
            r.dropped_bytes,
            r.truncated_at,
            r.reason
        );
    }
}

/// The engine's settings from the configuration; with `checkpoints`, it
/// keeps its projection checkpoint up to date as it goes.
pub(crate) fn engine_config(settings: &Settings, checkpoints: bool) -> EngineConfig {
    EngineConfig {
        policy: settings.levels.clone(),
        analytics: settings.analytics.clone(),
        ingest: settings.ingest.clone(),
        checkpoints: checkpoints.then(|| settings.checkpoint.clone()),
    }
}

/// Opens a data directory as its writer, with the projection restored.
pub(crate) fn open_engine(data: &Path, settings: &Settings, checkpoints: bool) -> Result<Engine> {
    let engine = Engine::open(data, engine_config(settings, checkpoints))
        .with_context(|| format!("cannot open the data directory {}", data.display()))?;
    report_recoveries(&engine.restored().recoveries);
    warn_ignored(&engine);
    Ok(engine)
}

/// Opens a data directory to read its projection (safe beside a running writer).
pub(crate) fn read_engine(data: &Path, settings: &Settings) -> Result<Engine> {
    let engine = Engine::read(data, engine_config(settings, false)).map_err(|e| match e {
        // says what to do already
        EngineError::NoData(_) => anyhow::Error::new(e),
        e => anyhow::Error::new(e).context(format!("cannot read {}", data.display())),
    })?;
    warn_ignored(&engine);
    Ok(engine)
}

/// Says when the projection checkpoint could not be used.
pub(crate) fn warn_ignored(engine: &Engine) {
    if let Some(why) = &engine.restored().ignored {
        eprintln!("warning: ignored the projection checkpoint ({why}); folded the whole log");
    }
}

/// Opens the store to read, beside whatever writes, or says how to fill it.
pub(crate) fn reader(data: &Path) -> Result<StoreReader> {
    if !data.exists() {
        return Err(EngineError::NoData(data.to_path_buf()).into());
    }
    StoreReader::open(&StoreLayout::new(data))
        .with_context(|| format!("cannot read {}", data.display()))
}
