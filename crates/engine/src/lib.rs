//! The running pipeline: one [`Engine`] per data directory.
//!
//! The engine owns the event store (an [`Ingestor`] when it may write, a
//! [`StoreReader`] beside a running writer), the projection ([`Timeline`]),
//! its checkpoints, the metrics, and the list of [`Subscriber`]s. Whatever
//! the channel (an HTTP request, a file, a Kafka batch), a batch goes through
//! [`Engine::ingest`] or [`Engine::import`], which store it durably, then fold
//! what was stored, then tell the subscribers, in that order and in one
//! place; so the projection always equals a fold of the log, and a
//! subscriber never hears of an event that is not durable. Queries are
//! answered from one [`Prepared`] per date, shared by the scope check, the
//! query and the small-group guard of a request, and kept for the next
//! request of that date until events change it.
//!
//! The engine knows nothing of HTTP, tokens or terminals: `cadre-server` and
//! the CLI are adapters over it. Everything here blocks; async callers run it
//! on their blocking pool.

mod backlog;
mod checkpoints;
mod import;
mod metrics;
mod run;
mod subscriber;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use cadre_analytics::{AnalyticsConfig, AnalyticsError, Prepared, QueryOutput, QueryRequest};
use cadre_checkpoint::CheckpointConfig;
use cadre_ingest::{Batch, IngestConfig, Ingestor, Item};
use cadre_log::Recovery;
use cadre_projection::{LevelPolicy, Snapshot, Timeline};
use cadre_store::{ReadBack, StoreError, StoreLayout, StoreReader};
use chrono::{DateTime, Utc};

pub use backlog::Backlog;
pub use import::Imported;
pub use metrics::Metrics;
pub use run::{RunOptions, SourceProgress};
pub use subscriber::Subscriber;

/// How an engine is opened.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// How effective levels are computed.
    pub policy: LevelPolicy,
    /// Thresholds of the analytics.
    pub analytics: AnalyticsConfig,
    /// How ingest judges events beyond their schema.
    pub ingest: IngestConfig,
    /// Write projection checkpoints this often (none: only read the one there is).
    pub checkpoints: Option<CheckpointConfig>,
}

/// The running pipeline over one data directory.
pub struct Engine {
    store: Store,
    layout: StoreLayout,
    timeline: Arc<RwLock<Timeline>>,
    checkpointer: Option<Arc<checkpoints::Checkpointer>>,
    policy: LevelPolicy,
    analytics: AnalyticsConfig,
    metrics: Metrics,
    subscribers: RwLock<Vec<Arc<dyn Subscriber>>>,
    /// The snapshot and frames of the last query's date, kept for the next
    /// query of that date and brought up to date by the employees changed since.
    prepared: Mutex<Option<Arc<Prepared>>>,
    /// How the projection was restored at open.
    restored: Restored,
}

/// The event store as this engine holds it.
enum Store {
    /// The one writer of the data directory (boxed: it is large, and a reader is not).
    Writer(Box<Mutex<Ingestor>>),
    /// A reader beside whatever writes.
    Reader(StoreReader),
}

/// How the projection was restored when the engine opened.
#[derive(Debug, Clone, Default)]
pub struct Restored {
    /// Events that came from the checkpoint.
    pub from_checkpoint: u64,
    /// Events folded from the log after it.
    pub replayed: u64,
    /// Why a checkpoint that was there was not used.
    pub ignored: Option<String>,
    /// Damaged log tails cut off at open (a crash mid-write).
    pub recoveries: Vec<Recovery>,
}

/// Counts of the store and the projection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Events in the log.
    pub events: u64,
    /// Items in the dead-letter store.
    pub dead_letters: u64,
    /// Bytes of the log on disk.
    pub log_bytes: u64,
    /// The latest `occurred_at` folded.
    pub latest: Option<DateTime<Utc>>,
}

/// Why the engine cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed (the fault of the disk or of the data directory; retrying may help).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file could not be imported; everything reported before is durable.
    #[error(transparent)]
    Import(#[from] cadre_ingest::ImportError),
    /// No data directory there.
    #[error("no data directory at {0}; ingest events first (cadre ingest FILE, or cadre demo)")]
    NoData(PathBuf),
    /// Asked to store through an engine opened to read only (a bug of the caller).
    #[error("this engine only reads {0}; stop the running writer or send events to it")]
    ReadOnly(PathBuf),
    /// A source failed to read or to acknowledge.
    #[error("the source {channel} failed: {source}")]
    Source {
        /// The source's channel.
        channel: String,
        /// Why.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// How many of the latest events the projection remembers the reach of, so
/// that a kept [`Prepared`] is refreshed by employee, not made anew (more
/// events than this between two queries: made anew).
const TRACKED_CHANGES: usize = 10_000;

impl Engine {
    /// Opens a data directory as its one writer (creating it when missing),
    /// restores the projection from its checkpoint when sound and folds the
    /// rest of the log.
    pub fn open(data: &Path, config: EngineConfig) -> Result<Engine, EngineError> {
        let layout = StoreLayout::new(data);
        let (mut ingestor, recoveries) = Ingestor::open(&layout)?;
        ingestor.set_config(config.ingest.clone());
        for r in &recoveries {
            tracing::warn!(segment = %r.segment.display(), bytes = r.dropped_bytes, at = r.truncated_at, reason = %r.reason, "dropped a damaged log tail");
        }
        let store = Store::Writer(Box::new(Mutex::new(ingestor)));
        Engine::build(store, layout, config, recoveries)
    }

    /// Opens a data directory to read only (safe beside a running writer):
    /// the projection as the log holds it now.
    pub fn read(data: &Path, config: EngineConfig) -> Result<Engine, EngineError> {
        if !data.exists() {
            return Err(EngineError::NoData(data.to_path_buf()));
        }
        let layout = StoreLayout::new(data);
        let store = Store::Reader(StoreReader::open(&layout)?);
        Engine::build(
            store,
            layout,
            EngineConfig {
                checkpoints: None,
                ..config
            },
            Vec::new(),
        )
    }

    fn build(
        store: Store,
        layout: StoreLayout,
        config: EngineConfig,
        recoveries: Vec<Recovery>,
    ) -> Result<Engine, EngineError> {
        let checkpoint_path = layout.checkpoint_path();
        let r = restore(&store, &checkpoint_path)?;
        tracing::info!(
            from_checkpoint = r.from_checkpoint,
            replayed = r.replayed,
            "projection restored"
        );
        let metrics = Metrics::new();
        // a reader's metrics are never served: its dead letters are read when asked
        if let Store::Writer(w) = &store {
            let w = w.lock().unwrap_or_else(|p| p.into_inner());
            metrics.set_store(w.log().len(), w.dead_letters());
        }
        metrics.set_applied(r.timeline.applied());
        let restored = Restored {
            from_checkpoint: r.from_checkpoint,
            replayed: r.replayed,
            ignored: r.ignored,
            recoveries,
        };
        let timeline = Arc::new(RwLock::new(tracked(r.timeline)));
        let checkpointer = config.checkpoints.map(|c| {
            let c = Arc::new(checkpoints::Checkpointer::new(
                checkpoint_path,
                c.every_events,
                restored.from_checkpoint,
                timeline.clone(),
                metrics.clone(),
            ));
            // a long tail folded at start is worth keeping
            c.maybe_start(restored.from_checkpoint + restored.replayed);
            c
        });
        Ok(Engine {
            store,
            layout,
            timeline,
            checkpointer,
            policy: config.policy,
            analytics: config.analytics,
            metrics,
            subscribers: RwLock::new(Vec::new()),
            prepared: Mutex::new(None),
            restored,
        })
    }

    /// Stores a batch, folds what was stored, and tells the subscribers.
    pub fn ingest(&self, channel: &str, items: Vec<Item>) -> Result<Batch, EngineError> {
        let started = std::time::Instant::now();
        let mut ingestor = self.writer()?;
        let batch = match ingestor.ingest(channel, items) {
            Ok(b) => b,
            Err(e) => {
                // part of the batch may have become durable before the failure:
                // fold the log afresh so the projection never drifts from it
                self.refold(&ingestor);
                return Err(e.into());
            }
        };
        self.stored(&batch.stored);
        self.metrics
            .record_batch(channel, &batch, started.elapsed());
        self.metrics
            .set_store(ingestor.log().len(), ingestor.dead_letters());
        Ok(batch)
    }

    /// Folds durably stored events into the projection and tells the
    /// subscribers: the second and third steps of every way in.
    fn stored(&self, stored: &[(u64, cadre_model::Event)]) {
        cadre_failpoint::crash_point("projection.before_apply");
        let applied = {
            let applying = std::time::Instant::now();
            let mut t = self.timeline.write().unwrap_or_else(|p| p.into_inner());
            for (seq, e) in stored {
                t.apply(*seq, e);
            }
            self.metrics.set_applied(t.applied());
            self.metrics.record_apply(applying.elapsed());
            t.applied()
        };
        if let Some(c) = &self.checkpointer {
            c.maybe_start(applied);
        }
        if stored.is_empty() {
            return;
        }
        for s in self
            .subscribers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            s.stored(stored);
        }
    }

    /// Replaces the projection with a fresh fold of the log.
    fn refold(&self, ingestor: &Ingestor) {
        match fold(ingestor, &self.layout.checkpoint_path()) {
            Ok(r) => {
                self.metrics.set_applied(r.timeline.applied());
                *self.timeline.write().unwrap_or_else(|p| p.into_inner()) = tracked(r.timeline);
            }
            Err(r) => tracing::error!(error = %r, "cannot refold the log after a failed append"),
        }
    }

    /// The writer, or why there is none.
    fn writer(&self) -> Result<std::sync::MutexGuard<'_, Ingestor>, EngineError> {
        match &self.store {
            Store::Writer(w) => Ok(w.lock().unwrap_or_else(|p| p.into_inner())),
            Store::Reader(_) => Err(EngineError::ReadOnly(self.layout.root.clone())),
        }
    }

    /// Adds a subscriber: from now on it hears of every event stored, after
    /// it is durable and folded, in sequence order.
    pub fn subscribe(&self, s: Arc<dyn Subscriber>) {
        self.subscribers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(s);
    }

    /// Writes a checkpoint of the projection now, if checkpoints are on and
    /// anything changed since the last one (at shutdown).
    pub fn checkpoint(&self) {
        if let Some(c) = &self.checkpointer {
            c.write_now();
        }
    }

    /// Runs a named query over the projection.
    pub fn query(&self, q: &QueryRequest) -> Result<QueryOutput, AnalyticsError> {
        let prepared = self.prepared(q.as_of)?;
        self.query_prepared(&prepared, q)
    }

    /// Runs a named query from a [`Prepared`] of its date (one request's
    /// scope check, query and guard share one; [`Engine::prepared`]).
    pub fn query_prepared(
        &self,
        prepared: &Prepared,
        q: &QueryRequest,
    ) -> Result<QueryOutput, AnalyticsError> {
        let started = std::time::Instant::now();
        // the projection's lock is taken for each snapshot a query needs
        // beyond its `Prepared` (trends: one a month), never for the whole
        // query: events are folded between them
        let shared = Shared(&self.timeline);
        let out =
            cadre_analytics::run_prepared(prepared, &shared, &self.policy, &self.analytics, q);
        self.metrics.record_analytics(started.elapsed());
        out
    }

    /// The snapshot and frames as of `as_of`, kept for the next request of that date.
    pub fn prepared(&self, as_of: DateTime<Utc>) -> Result<Arc<Prepared>, AnalyticsError> {
        let t = self.timeline.read().unwrap_or_else(|p| p.into_inner());
        self.prepared_with(&t, as_of)
    }

    /// The snapshot and frames of `t` as of `as_of`: the kept ones, brought
    /// up to date, when they are of that date; otherwise made and kept.
    fn prepared_with(
        &self,
        t: &Timeline,
        as_of: DateTime<Utc>,
    ) -> Result<Arc<Prepared>, AnalyticsError> {
        let mut kept = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = kept.as_mut().filter(|p| p.as_of() == as_of) {
            Arc::make_mut(p).refresh(t, &self.policy, &self.analytics)?;
            return Ok(p.clone());
        }
        // the old one is dropped first: two at once would double the memory
        *kept = None;
        let p = Arc::new(Prepared::new(t, &self.policy, &self.analytics, as_of)?);
        *kept = Some(p.clone());
        Ok(p)
    }

    /// Runs `f` over the projection with the policy and thresholds in force.
    pub fn with_timeline<R>(
        &self,
        f: impl FnOnce(&Timeline, &LevelPolicy, &AnalyticsConfig) -> R,
    ) -> R {
        let t = self.timeline.read().unwrap_or_else(|p| p.into_inner());
        f(&t, &self.policy, &self.analytics)
    }

    /// The analytics thresholds in force.
    pub fn analytics_config(&self) -> &AnalyticsConfig {
        &self.analytics
    }

    /// How effective levels are computed.
    pub fn policy(&self) -> &LevelPolicy {
        &self.policy
    }

    /// The organisation as of a moment.
    pub fn snapshot(&self, as_of: DateTime<Utc>) -> Snapshot {
        let t = self.timeline.read().unwrap_or_else(|p| p.into_inner());
        t.snapshot(as_of, &self.policy)
    }

    /// Counts of the store and the latest event folded.
    pub fn status(&self) -> Status {
        let (applied, latest) = {
            let t = self.timeline.read().unwrap_or_else(|p| p.into_inner());
            (t.applied(), t.latest())
        };
        let (events, dead_letters, log_bytes) = self.store.sizes(applied);
        Status {
            events,
            dead_letters,
            log_bytes,
            latest,
        }
    }

    /// How the projection was restored at open.
    pub fn restored(&self) -> &Restored {
        &self.restored
    }

    /// Where the data directory's files are.
    pub fn layout(&self) -> &StoreLayout {
        &self.layout
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Every assessment of one employee up to a moment, newest first.
    pub fn assessments(
        &self,
        employee: &str,
        as_of: DateTime<Utc>,
    ) -> Vec<cadre_projection::AssessmentEvidence> {
        let t = self.timeline.read().unwrap_or_else(|p| p.into_inner());
        t.assessments(employee, as_of)
    }

    /// The succession report.
    pub fn succession_report(
        &self,
        as_of: DateTime<Utc>,
        unit: Option<&str>,
    ) -> Result<cadre_report::SuccessionReport, cadre_report::ReportError> {
        let t = self.timeline.read().unwrap_or_else(|p| p.into_inner());
        cadre_report::SuccessionReport::build(&t, &self.policy, &self.analytics, as_of, unit)
    }

    /// One critical position's report section.
    pub fn position_section(
        &self,
        as_of: DateTime<Utc>,
        unit: &str,
        position: &str,
    ) -> Result<Option<cadre_report::PositionSection>, cadre_report::ReportError> {
        let t = self.timeline.read().unwrap_or_else(|p| p.into_inner());
        cadre_report::position_section(&t, &self.policy, &self.analytics, as_of, unit, position)
    }
}

impl Store {
    /// (events in the log, dead letters, bytes of the log on disk); a
    /// reader's log holds what was `applied` when the projection read it.
    fn sizes(&self, applied: u64) -> (u64, u64, u64) {
        match self {
            Store::Writer(w) => {
                let w = w.lock().unwrap_or_else(|p| p.into_inner());
                (w.log().len(), w.dead_letters(), w.log().disk_bytes())
            }
            Store::Reader(r) => {
                let dead = r.read_dead_letters().map_or(0, |d| d.len() as u64);
                (applied, dead, r.log_bytes())
            }
        }
    }
}

/// `t`, remembering the reach of the events it will apply.
fn tracked(mut t: Timeline) -> Timeline {
    t.track_changes(TRACKED_CHANGES);
    t
}

/// Folds the store's log, from the checkpoint at `path` when it is sound.
fn restore(store: &Store, path: &Path) -> Result<cadre_checkpoint::Restored, StoreError> {
    match store {
        Store::Writer(w) => fold(&*w.lock().unwrap_or_else(|p| p.into_inner()), path),
        Store::Reader(r) => fold(r, path),
    }
}

/// Folds a log, from the checkpoint at `path` when it is sound.
fn fold(log: &impl ReadBack, path: &Path) -> Result<cadre_checkpoint::Restored, StoreError> {
    cadre_checkpoint::restore(Some(path), |after, apply| log.replay_after(after, apply))
}

/// The engine's projection read one snapshot at a time, its lock held only
/// while each is taken.
struct Shared<'a>(&'a RwLock<Timeline>);

impl cadre_analytics::Snapshots for Shared<'_> {
    fn snapshot_at(
        &self,
        at: DateTime<Utc>,
        policy: &cadre_projection::LevelPolicy,
    ) -> cadre_projection::Snapshot {
        let t = self.0.read().unwrap_or_else(|p| p.into_inner());
        t.snapshot(at, policy)
    }
}
