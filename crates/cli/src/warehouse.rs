//! `cadre clickhouse ...` and the exporter that `serve --clickhouse` runs.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use cadre_clickhouse::{
    derive, ClickHouseConfig, Cursor, Deriver, ExportMetrics, Exporter, Warehouse,
};
use cadre_engine::{Engine, Subscriber};
use cadre_model::Event;
use cadre_store::{ReadBack, StoreLayout, StoreReader};

use crate::settings::Settings;
use crate::{ClickhouseArgs, ClickhouseCommand};

/// The `[clickhouse]` table with the command line's overrides.
pub(crate) fn config(settings: &Settings, a: &ClickhouseArgs) -> Result<ClickHouseConfig> {
    let mut c = settings.clickhouse.clone();
    if let Some(u) = &a.url {
        c.url = u.clone();
    }
    if let Some(d) = &a.database {
        c.database = d.clone();
    }
    if let Some(s) = &a.shard {
        c.shard = s.clone();
    }
    c.check().map_err(anyhow::Error::msg)?;
    Ok(c)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Runs `cadre clickhouse ...`.
pub(crate) fn run(data: &Path, cmd: ClickhouseCommand, settings: Settings) -> Result<ExitCode> {
    match cmd {
        ClickhouseCommand::Migrate(a) => {
            let cfg = config(&settings, &a)?;
            let w = Warehouse::new(&cfg);
            runtime()?.block_on(async {
                let version = w.version().await?;
                let applied = w.migrate().await?;
                eprintln!(
                    "ClickHouse {version} at {}, database {}",
                    cfg.url, cfg.database
                );
                if applied.is_empty() {
                    eprintln!("schema up to date");
                }
                for m in applied {
                    eprintln!("applied migration {} ({})", m.version, m.name);
                }
                anyhow::Ok(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        ClickhouseCommand::Export(a) => {
            let as_of = a
                .as_of
                .as_deref()
                .map(|d| cadre_analytics::parse_as_of(Some(d)).map_err(anyhow::Error::msg))
                .transpose()?;
            export_once(data, &config(&settings, &a.clickhouse)?, settings, as_of)
        }
        ClickhouseCommand::Status(a) => status(data, &config(&settings, &a)?),
    }
}

/// Sends what ClickHouse lacks and one export, from the log on disk (safe
/// while `cadre ingest` or `cadre consume` runs; not alongside `serve --clickhouse`).
fn export_once(
    data: &Path,
    cfg: &ClickHouseConfig,
    settings: Settings,
    as_of: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<ExitCode> {
    let engine = Arc::new(crate::open::read_engine(data, &settings)?);
    let events = engine.status().events;
    let derive: Arc<Deriver> =
        Arc::new(move |plan| engine.with_timeline(|t, p, a| derive(t, p, a, plan)));
    let mut exporter = Exporter::open(cfg, data, None)?;
    if let Some(t) = as_of {
        exporter.set_as_of(t);
    }
    runtime()?.block_on(async {
        let mut sent = 0;
        while !exporter.up_to_date() {
            let p = exporter.step(&derive, Duration::ZERO).await?;
            sent += p.events;
            if let Some(rows) = p.exported_rows {
                eprintln!(
                    "export of the analytics written: {rows} rows, shard {}",
                    cfg.shard
                );
            }
        }
        eprintln!(
            "ClickHouse at {} is up to date: {sent} events sent now, {} of {events} in all",
            cfg.url,
            exporter.cursor().next_seq
        );
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn status(data: &Path, cfg: &ClickHouseConfig) -> Result<ExitCode> {
    let reader = StoreReader::open(&StoreLayout::new(data))
        .with_context(|| format!("cannot open the data directory {}", data.display()))?;
    let mut events = 0u64;
    reader.replay(|seq, _| events = seq + 1)?;
    let cursor = Cursor::load(&Cursor::path(data), &cfg.shard)?;
    println!(
        "local log: {events} events; in ClickHouse: {}; backlog: {}; latest export covers {}",
        cursor.next_seq,
        events.saturating_sub(cursor.next_seq),
        cursor
            .exported_events
            .map_or("nothing yet".to_string(), |n| format!("{n} events")),
    );
    let w = Warehouse::new(cfg);
    let rows = runtime()?.block_on(w.rows(
        "SELECT shard, export_id, toString(as_of) AS as_of, events FROM cadre_latest_exports ORDER BY shard",
    ))?;
    for r in rows {
        println!(
            "shard {}: export {} as of {} UTC, {} events",
            r["shard"].as_str().unwrap_or_default(),
            r["export_id"],
            r["as_of"].as_str().unwrap_or_default(),
            r["events"]
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The exporter as a subscriber of the engine: hands each stored batch to
/// the exporter's task, which keeps its own durable cursor.
struct ToExporter(tokio::sync::mpsc::UnboundedSender<Vec<(u64, Event)>>);

impl Subscriber for ToExporter {
    fn name(&self) -> &str {
        "clickhouse"
    }

    fn stored(&self, batch: &[(u64, Event)]) {
        // a closed channel means the exporter stopped: what it missed stays
        // in the log and goes at its next start, from its cursor
        let _ = self.0.send(batch.to_vec());
    }
}

/// Starts the exporter of `serve --clickhouse` on `rt`: it hears of every
/// event the engine stores and exports from the engine's projection.
pub(crate) fn attach(
    engine: &Arc<Engine>,
    cfg: &ClickHouseConfig,
    data: &Path,
    rt: &tokio::runtime::Runtime,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>> {
    let metrics = ExportMetrics::new(engine.metrics().registry())
        .context("cannot register the ClickHouse metrics")?;
    let exporter = Exporter::open(cfg, data, Some(metrics))?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    engine.subscribe(Arc::new(ToExporter(tx)));
    let engine = engine.clone();
    let derive: Arc<Deriver> =
        Arc::new(move |plan| engine.with_timeline(|t, p, a| derive(t, p, a, plan)));
    eprintln!(
        "exporting to ClickHouse at {}, database {}, shard {}",
        cfg.url, cfg.database, cfg.shard
    );
    let mut stop = stop;
    Ok(rt.spawn(exporter.run(rx, derive, async move {
        let _ = stop.wait_for(|s| *s).await;
    })))
}
