//! The exporter: keeps ClickHouse up to date with the local log, and buffers
//! while ClickHouse is away.
//!
//! The local event log is the buffer of record. The exporter remembers, in
//! `DATA_DIR/clickhouse-cursor.json` (replaced atomically), the sequence
//! number of the first event ClickHouse has not acknowledged. Events stored
//! after it are its [`Backlog`] (the engine's: in memory up to
//! `max_buffer_events`, read again from the log beyond that) and are sent in
//! order; the cursor moves only after ClickHouse acknowledged an insert. A crash between the insert and
//! the cursor write re-sends events ClickHouse already has, which
//! `cadre_events` (ReplacingMergeTree by `event_id`) collapses. Nothing
//! acknowledged by cadre is ever missing from ClickHouse once the backlog
//! drains.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cadre_engine::Backlog;
use cadre_model::Event;
use cadre_store::StoreLayout;
use chrono::Utc;
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::derive::{Export, ExportPlan};
use crate::warehouse::datetime_text;
use crate::{ClickHouseConfig, ClickHouseError, Warehouse};

/// Tables an export writes, every one deleted for old exports.
const EXPORT_TABLES: [&str; 12] = [
    "cadre_units",
    "cadre_competencies",
    "cadre_employees",
    "cadre_effective_levels",
    "cadre_gaps",
    "cadre_gap_partials",
    "cadre_people_partials",
    "cadre_trend_partials",
    "cadre_succession_positions",
    "cadre_succession_candidates",
    "cadre_succession_months",
    "cadre_exports",
];

/// Operators' view of the exporter.
#[derive(Clone)]
pub struct ExportMetrics {
    backlog: IntGauge,
    rows: IntCounterVec,
    failures: IntCounter,
    exported_events: IntGauge,
    duration: Histogram,
}

impl ExportMetrics {
    /// Creates the metrics and registers them.
    pub fn new(registry: &Registry) -> Result<ExportMetrics, prometheus::Error> {
        let m = ExportMetrics {
            backlog: IntGauge::new(
                "cadre_clickhouse_backlog_events",
                "Events stored locally and not yet acknowledged by ClickHouse",
            )?,
            rows: IntCounterVec::new(
                Opts::new(
                    "cadre_clickhouse_rows_written_total",
                    "Rows ClickHouse acknowledged, by table",
                ),
                &["table"],
            )?,
            failures: IntCounter::new(
                "cadre_clickhouse_failures_total",
                "Inserts or exports that failed and will be retried",
            )?,
            exported_events: IntGauge::new(
                "cadre_clickhouse_exported_events",
                "Events folded into the latest complete export of the analytics tables",
            )?,
            duration: Histogram::with_opts(
                HistogramOpts::new(
                    "cadre_clickhouse_export_duration_seconds",
                    "Time to compute and write one export of the analytics tables",
                )
                .buckets(vec![0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0]),
            )?,
        };
        registry.register(Box::new(m.backlog.clone()))?;
        registry.register(Box::new(m.rows.clone()))?;
        registry.register(Box::new(m.failures.clone()))?;
        registry.register(Box::new(m.exported_events.clone()))?;
        registry.register(Box::new(m.duration.clone()))?;
        Ok(m)
    }
}

/// Where the exporter stands, kept in the data directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The shard the cursor belongs to.
    pub shard: String,
    /// Sequence number of the first event not yet in ClickHouse.
    pub next_seq: u64,
    /// Events folded into the latest complete export, if any.
    pub exported_events: Option<u64>,
    /// Id of the latest export started.
    pub last_export_id: u64,
}

impl Cursor {
    /// The cursor file of a data directory.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("clickhouse-cursor.json")
    }

    /// Reads the cursor, or a fresh one when there is none.
    pub fn load(path: &Path, shard: &str) -> Result<Cursor, ClickHouseError> {
        let c = match std::fs::read(path) {
            Ok(b) => serde_json::from_slice::<Cursor>(&b).map_err(|e| ClickHouseError::Cursor {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Cursor {
                shard: shard.to_string(),
                ..Cursor::default()
            },
            Err(e) => {
                return Err(ClickHouseError::Cursor {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })
            }
        };
        if c.shard != shard {
            return Err(ClickHouseError::Cursor {
                path: path.to_path_buf(),
                reason: format!(
                    "this data directory was exported as shard {:?}, the configuration says {:?}; \
                     a new shard name would count its employees twice",
                    c.shard, shard
                ),
            });
        }
        Ok(c)
    }

    /// Writes the cursor durably: temporary file, fsync, rename, fsync of the directory.
    pub fn save(&self, path: &Path) -> Result<(), ClickHouseError> {
        let bytes = serde_json::to_vec_pretty(self).expect("cursor serialises");
        cadre_store::replace_file(path, &bytes).map_err(|e| ClickHouseError::Cursor {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }
}

/// What one call of [`Exporter::step`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Events ClickHouse acknowledged.
    pub events: usize,
    /// Rows of an export written, when one was.
    pub exported_rows: Option<usize>,
}

/// Computes an export from the projection; blocking.
pub type Deriver =
    dyn Fn(ExportPlan) -> Result<Export, cadre_analytics::AnalyticsError> + Send + Sync;

/// Sends the local log and the analytics to ClickHouse.
pub struct Exporter {
    warehouse: Warehouse,
    cfg: ClickHouseConfig,
    cursor_path: PathBuf,
    cursor: Cursor,
    /// The events after the cursor.
    backlog: Backlog,
    metrics: Option<ExportMetrics>,
    last_export: Option<Instant>,
    /// Whether the schema is known to be current.
    migrated: bool,
    /// The moment exports are computed for; the time of each export when `None`.
    as_of: Option<chrono::DateTime<Utc>>,
}

impl Exporter {
    /// Opens the exporter of a data directory.
    pub fn open(
        cfg: &ClickHouseConfig,
        data_dir: &Path,
        metrics: Option<ExportMetrics>,
    ) -> Result<Exporter, ClickHouseError> {
        let cursor_path = Cursor::path(data_dir);
        let cursor = Cursor::load(&cursor_path, &cfg.shard)?;
        let e = Exporter {
            warehouse: Warehouse::new(cfg),
            cfg: cfg.clone(),
            cursor_path,
            backlog: Backlog::new(
                StoreLayout::new(data_dir),
                cursor.next_seq,
                cfg.max_buffer_events,
            ),
            cursor,
            metrics,
            last_export: None,
            migrated: false,
            as_of: None,
        };
        e.publish();
        Ok(e)
    }

    /// Computes exports as of a fixed moment (a backfill, or a test) instead of their own time.
    pub fn set_as_of(&mut self, as_of: chrono::DateTime<Utc>) {
        self.as_of = Some(as_of);
    }

    /// Where the exporter stands.
    pub fn cursor(&self) -> &Cursor {
        &self.cursor
    }

    /// Events stored locally that ClickHouse has not acknowledged.
    pub fn backlog(&self) -> u64 {
        self.backlog.len()
    }

    fn publish(&self) {
        if let Some(m) = &self.metrics {
            m.backlog
                .set(i64::try_from(self.backlog()).unwrap_or(i64::MAX));
            if let Some(n) = self.cursor.exported_events {
                m.exported_events.set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
    }

    /// Takes events just stored in the local log, in sequence order.
    pub fn accept(&mut self, stored: Vec<(u64, Event)>) {
        self.backlog.accept(stored);
        self.publish();
    }

    fn count_rows(&self, table: &str, n: usize) {
        if let Some(m) = &self.metrics {
            m.rows.with_label_values(&[table]).inc_by(n as u64);
        }
    }

    /// Sends buffered events, oldest first, moving the cursor after each acknowledged insert.
    async fn send_events(&mut self) -> Result<usize, ClickHouseError> {
        let mut sent = 0;
        loop {
            let chunk = self.backlog.next(self.cfg.batch_rows);
            let n = chunk.len();
            if n == 0 {
                break;
            }
            self.warehouse.insert_events(&self.cfg.shard, chunk).await?;
            self.backlog.acknowledge(n);
            self.cursor.next_seq = self.backlog.next_seq();
            self.cursor.save(&self.cursor_path)?;
            self.count_rows("cadre_events", n);
            sent += n;
            self.publish();
        }
        Ok(sent)
    }

    /// Whether every stored event is in ClickHouse and the latest export covers them.
    pub fn up_to_date(&self) -> bool {
        self.backlog.is_empty() && self.cursor.exported_events == Some(self.cursor.next_seq)
    }

    /// Writes one export: every table under a new export id, then its row in
    /// `cadre_exports`, which makes it visible; then deletes old exports.
    async fn export(&mut self, derive: &std::sync::Arc<Deriver>) -> Result<usize, ClickHouseError> {
        let started = Instant::now();
        let now_us = u64::try_from(Utc::now().timestamp_micros()).unwrap_or(0);
        let export_id = now_us.max(self.cursor.last_export_id + 1);
        self.cursor.last_export_id = export_id;
        self.cursor.save(&self.cursor_path)?;
        let plan = ExportPlan {
            shard: self.cfg.shard.clone(),
            export_id,
            // whole seconds: what ClickHouse's DateTime keeps
            as_of: self.as_of.unwrap_or_else(|| {
                chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap_or_else(Utc::now)
            }),
            succession: self.cfg.succession,
            partials: self.cfg.partials,
            trend_months: self.cfg.trend_months,
        };
        let d = derive.clone();
        let export = tokio::task::spawn_blocking(move || d(plan))
            .await
            .map_err(|e| ClickHouseError::Export(e.to_string()))??;
        let extra = [
            ("shard", Value::from(self.cfg.shard.clone())),
            ("export_id", Value::from(export_id)),
        ];
        let mut rows = 0;
        for (table, t) in &export.tables {
            let n = self.warehouse.insert_table(table, t, &extra).await?;
            self.count_rows(table, n);
            rows += n;
        }
        let header = cadre_analytics::Table {
            columns: [
                "as_of",
                "events",
                "employees",
                "with_succession",
                "exported_at",
            ]
            .iter()
            .map(|c| c.to_string())
            .collect(),
            rows: vec![vec![
                Value::from(datetime_text(export.plan.as_of)),
                Value::from(export.events),
                Value::from(export.employees),
                Value::from(export.plan.succession),
                Value::from(datetime_text(Utc::now())),
            ]],
        };
        self.warehouse
            .insert_table("cadre_exports", &header, &extra)
            .await?;
        self.count_rows("cadre_exports", 1);
        self.cursor.exported_events = Some(export.events);
        self.cursor.save(&self.cursor_path)?;
        self.prune().await?;
        if let Some(m) = &self.metrics {
            m.duration.observe(started.elapsed().as_secs_f64());
        }
        self.publish();
        Ok(rows + 1)
    }

    /// Deletes this shard's exports older than the `keep_exports` latest complete ones.
    async fn prune(&self) -> Result<(), ClickHouseError> {
        let shard = self.cfg.shard.replace('\\', "\\\\").replace('\'', "\\'");
        let oldest = self
            .warehouse
            .rows(&format!(
                "SELECT export_id FROM cadre_exports WHERE shard = '{shard}' \
                 ORDER BY export_id DESC LIMIT {}, 1",
                self.cfg.keep_exports - 1
            ))
            .await?;
        let Some(oldest) = oldest
            .first()
            .and_then(|r| r.get("export_id"))
            .and_then(Value::as_u64)
        else {
            return Ok(());
        };
        for table in EXPORT_TABLES {
            self.warehouse
                .execute(&format!(
                    "ALTER TABLE {table} DELETE WHERE shard = '{shard}' AND export_id < {oldest}"
                ))
                .await?;
        }
        Ok(())
    }

    /// One round: read the log if needed, send what is buffered, and export
    /// the analytics when every event is in and the latest export is older
    /// than the log and than `min_interval`.
    pub async fn step(
        &mut self,
        derive: &std::sync::Arc<Deriver>,
        min_interval: Duration,
    ) -> Result<Progress, ClickHouseError> {
        if !self.migrated {
            let applied = self.warehouse.migrate().await?;
            for m in applied {
                tracing::info!(
                    version = m.version,
                    name = m.name,
                    "ClickHouse migration applied"
                );
            }
            self.migrated = true;
        }
        self.backlog.fill()?;
        let events = self.send_events().await?;
        let mut progress = Progress {
            events,
            exported_rows: None,
        };
        let due = self.last_export.is_none_or(|t| t.elapsed() >= min_interval);
        if self.backlog.is_empty()
            && self.cursor.exported_events != Some(self.cursor.next_seq)
            && due
        {
            progress.exported_rows = Some(self.export(derive).await?);
            self.last_export = Some(Instant::now());
        }
        Ok(progress)
    }

    /// Counts a failed step (it will be retried).
    pub fn record_failure(&self) {
        if let Some(m) = &self.metrics {
            m.failures.inc();
        }
    }

    /// Runs until `stop` resolves: takes stored events from `feed`, sends them,
    /// exports the analytics at most every `export_interval_secs`, and retries
    /// with backoff (1 s doubling to 30 s) while ClickHouse fails.
    pub async fn run(
        mut self,
        mut feed: tokio::sync::mpsc::UnboundedReceiver<Vec<(u64, Event)>>,
        derive: std::sync::Arc<Deriver>,
        stop: impl std::future::Future<Output = ()>,
    ) {
        let interval = Duration::from_secs(self.cfg.export_interval_secs);
        let mut backoff = Duration::from_secs(1);
        tokio::pin!(stop);
        loop {
            while let Ok(batch) = feed.try_recv() {
                self.accept(batch);
            }
            let wait = match self.step(&derive, interval).await {
                Ok(_) => {
                    backoff = Duration::from_secs(1);
                    if self.up_to_date() || self.backlog.buffered() == 0 {
                        // wake for new events, or when an export falls due
                        interval.max(Duration::from_millis(200))
                    } else {
                        Duration::ZERO
                    }
                }
                Err(e) => {
                    self.record_failure();
                    tracing::warn!(error = %e, backlog = self.backlog(), retry_in = ?backoff, "ClickHouse export failed; retrying");
                    let b = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    b
                }
            };
            let deadline = tokio::time::sleep(wait);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    _ = &mut stop => return,
                    _ = &mut deadline => break,
                    got = feed.recv() => match got {
                        Some(batch) => {
                            self.accept(batch);
                            // new events: send them soon, but let a failing server rest
                            if backoff == Duration::from_secs(1) { break; }
                        }
                        None => return,
                    },
                }
            }
        }
    }
}
