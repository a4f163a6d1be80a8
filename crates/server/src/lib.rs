//! The HTTP face of cadre: event ingest, the analytics API, Prometheus
//! metrics and the built-in dashboard.
//!
//! A [`Service`] owns the open [`Ingestor`] and the in-memory [`Timeline`].
//! Ingest holds the ingestor's lock while it stores a batch and folds the
//! newly stored events into the timeline, so the projection always equals a
//! fold of the log. Blocking work (fsync, polars) runs on the blocking pool,
//! never on the async workers. Every error answered to a client goes through
//! [`ApiError`], the one place that maps errors to status codes.

mod api;
mod auth;
mod checkpoints;
mod error;
mod limits;
mod metrics;
mod openapi;
mod tls;
mod views;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use cadre_ingest::{Batch, IngestError, Ingestor, Item};
use cadre_projection::{LevelPolicy, Snapshot, Timeline};
use chrono::{DateTime, Utc};

pub use error::ApiError;
pub use limits::Limits;
pub use metrics::Metrics;
pub use openapi::document as openapi_document;
pub use tls::{TlsAcceptor, TlsConfig, TlsError};

/// What the server needs to know.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Who may do what.
    pub access: cadre_access::Access,
    /// Where accesses to individuals' data are recorded.
    pub audit_log: std::path::PathBuf,
    /// How effective levels are computed.
    pub policy: LevelPolicy,
    /// Thresholds of the analytics.
    pub analytics: cadre_analytics::AnalyticsConfig,
    /// Request limits on ingest.
    pub limits: Limits,
    /// The projection checkpoint file (none: no checkpoints).
    pub checkpoint_path: Option<std::path::PathBuf>,
    /// How often to checkpoint.
    pub checkpoint: cadre_checkpoint::CheckpointConfig,
}

/// The running pipeline: store, projection, metrics.
pub struct Service {
    ingestor: Mutex<Ingestor>,
    timeline: Arc<RwLock<Timeline>>,
    checkpointer: Option<Arc<checkpoints::Checkpointer>>,
    policy: LevelPolicy,
    analytics: cadre_analytics::AnalyticsConfig,
    access: cadre_access::Access,
    audit: cadre_access::AuditLog,
    metrics: Metrics,
    pub(crate) limits: Limits,
    pub(crate) rate: limits::RateLimiter,
    observer: std::sync::OnceLock<Observer>,
    /// The snapshot and frames of the last query's date, kept for the next
    /// query of that date and brought up to date by the employees changed since.
    prepared: Mutex<Option<Arc<cadre_analytics::Prepared>>>,
}

/// How many of the latest events the projection remembers the reach of, so
/// that a kept [`cadre_analytics::Prepared`] is refreshed by employee, not
/// made anew (more events than this between two queries: made anew).
const TRACKED_CHANGES: usize = 10_000;

/// `t`, remembering the reach of the events it will apply.
fn tracked(mut t: Timeline) -> Timeline {
    t.track_changes(TRACKED_CHANGES);
    t
}

/// Told of every event stored, after it is durable and projected, in sequence order.
pub type Observer = Box<dyn Fn(&[(u64, cadre_model::Event)]) + Send + Sync>;

impl Service {
    /// Builds the service over an open ingestor: restores the projection from
    /// its checkpoint, when there is a sound one, and folds the rest of the log.
    pub fn new(ingestor: Ingestor, config: &ServerConfig) -> Result<Service, ServiceError> {
        let restored = restore(&ingestor, config.checkpoint_path.as_deref())?;
        tracing::info!(
            from_checkpoint = restored.from_checkpoint,
            replayed = restored.replayed,
            "projection restored"
        );
        let metrics = Metrics::new();
        metrics.set_store(ingestor.log().len(), ingestor.dead_letters());
        metrics.set_applied(restored.timeline.applied());
        let timeline = Arc::new(RwLock::new(tracked(restored.timeline)));
        let checkpointer = config.checkpoint_path.clone().map(|path| {
            let c = Arc::new(checkpoints::Checkpointer::new(
                path,
                config.checkpoint.every_events,
                restored.from_checkpoint,
                timeline.clone(),
                metrics.clone(),
            ));
            // a long tail folded at start is worth keeping
            c.maybe_start(restored.from_checkpoint + restored.replayed);
            c
        });
        Ok(Service {
            ingestor: Mutex::new(ingestor),
            timeline,
            checkpointer,
            policy: config.policy.clone(),
            analytics: config.analytics.clone(),
            access: config.access.clone(),
            audit: cadre_access::AuditLog::open(&config.audit_log).map_err(|e| {
                ServiceError::Audit {
                    path: config.audit_log.clone(),
                    source: e,
                }
            })?,
            metrics,
            limits: config.limits.clone(),
            rate: limits::RateLimiter::default(),
            observer: std::sync::OnceLock::new(),
            prepared: Mutex::new(None),
        })
    }

    /// Stores a batch and folds what was stored into the projection (blocking).
    pub fn ingest(&self, channel: &str, items: Vec<Item>) -> Result<Batch, IngestError> {
        let started = std::time::Instant::now();
        let mut ingestor = self.ingestor.lock().unwrap_or_else(|p| p.into_inner());
        let batch = match ingestor.ingest(channel, items) {
            Ok(b) => b,
            Err(e) => {
                // part of the batch may have become durable before the failure:
                // fold the log afresh so the projection never drifts from it
                let path = self.checkpointer.as_ref().map(|c| c.path());
                match restore(&ingestor, path) {
                    Ok(r) => {
                        self.metrics.set_applied(r.timeline.applied());
                        *self.timeline.write().unwrap_or_else(|p| p.into_inner()) =
                            tracked(r.timeline);
                    }
                    Err(r) => {
                        tracing::error!(error = %r, "cannot refold the log after a failed append")
                    }
                }
                return Err(e);
            }
        };
        cadre_failpoint::crash_point("projection.before_apply");
        let applied = {
            let applying = std::time::Instant::now();
            let mut t = self.timeline.write().unwrap_or_else(|p| p.into_inner());
            for (seq, e) in &batch.stored {
                t.apply(*seq, e);
            }
            self.metrics.set_applied(t.applied());
            self.metrics.record_apply(applying.elapsed());
            t.applied()
        };
        if let Some(c) = &self.checkpointer {
            c.maybe_start(applied);
        }
        if let Some(o) = self.observer.get() {
            o(&batch.stored);
        }
        self.metrics
            .record_batch(channel, &batch, started.elapsed());
        self.metrics
            .set_store(ingestor.log().len(), ingestor.dead_letters());
        Ok(batch)
    }

    /// Writes a checkpoint of the projection now, if checkpoints are on and
    /// anything changed since the last one (blocking; at shutdown).
    pub fn checkpoint(&self) {
        if let Some(c) = &self.checkpointer {
            c.write_now();
        }
    }

    /// Runs a named query over the projection (blocking).
    pub fn query(
        &self,
        q: &cadre_analytics::QueryRequest,
    ) -> Result<cadre_analytics::QueryOutput, cadre_analytics::AnalyticsError> {
        let started = std::time::Instant::now();
        let t = self.timeline.read().unwrap_or_else(|p| p.into_inner());
        let out = self
            .prepared(&t, q.as_of)
            .and_then(|p| cadre_analytics::run_prepared(&p, &t, &self.policy, &self.analytics, q));
        self.metrics.record_analytics(started.elapsed());
        out
    }

    /// The snapshot and frames of `t` as of `as_of`: the kept ones, brought
    /// up to date, when they are of that date; otherwise made and kept.
    fn prepared(
        &self,
        t: &Timeline,
        as_of: DateTime<Utc>,
    ) -> Result<Arc<cadre_analytics::Prepared>, cadre_analytics::AnalyticsError> {
        let mut kept = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = kept.as_mut().filter(|p| p.as_of() == as_of) {
            Arc::make_mut(p).refresh(t, &self.policy, &self.analytics)?;
            return Ok(p.clone());
        }
        // the old one is dropped first: two at once would double the memory
        *kept = None;
        let p = Arc::new(cadre_analytics::Prepared::new(
            t,
            &self.policy,
            &self.analytics,
            as_of,
        )?);
        *kept = Some(p.clone());
        Ok(p)
    }

    /// Sets the one observer of stored events (the ClickHouse exporter); false if one is set already.
    pub fn set_observer(&self, o: Observer) -> bool {
        self.observer.set(o).is_ok()
    }

    /// Runs `f` over the projection with the policy and thresholds in force (blocking).
    pub fn with_timeline<R>(
        &self,
        f: impl FnOnce(&Timeline, &LevelPolicy, &cadre_analytics::AnalyticsConfig) -> R,
    ) -> R {
        let t = self.timeline.read().unwrap_or_else(|p| p.into_inner());
        f(&t, &self.policy, &self.analytics)
    }

    /// The analytics thresholds in force.
    pub fn analytics_config(&self) -> &cadre_analytics::AnalyticsConfig {
        &self.analytics
    }

    /// The organisation as of a moment (blocking).
    pub fn snapshot(&self, as_of: DateTime<Utc>) -> Snapshot {
        let t = self.timeline.read().unwrap_or_else(|p| p.into_inner());
        t.snapshot(as_of, &self.policy)
    }

    /// Counts of the store: (events, dead letters, bytes on disk, latest occurred_at).
    pub fn status(&self) -> (u64, u64, u64, Option<DateTime<Utc>>) {
        let ingestor = self.ingestor.lock().unwrap_or_else(|p| p.into_inner());
        let latest = self
            .timeline
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .latest();
        (
            ingestor.log().len(),
            ingestor.dead_letters(),
            ingestor.log().disk_bytes(),
            latest,
        )
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Every assessment of one employee up to a moment, newest first (blocking).
    pub fn assessments(
        &self,
        employee: &str,
        as_of: DateTime<Utc>,
    ) -> Vec<cadre_projection::AssessmentEvidence> {
        let t = self.timeline.read().unwrap_or_else(|p| p.into_inner());
        t.assessments(employee, as_of)
    }

    /// The succession report (blocking).
    pub fn succession_report(
        &self,
        as_of: DateTime<Utc>,
        unit: Option<&str>,
    ) -> Result<cadre_report::SuccessionReport, cadre_report::ReportError> {
        let t = self.timeline.read().unwrap_or_else(|p| p.into_inner());
        cadre_report::SuccessionReport::build(&t, &self.policy, &self.analytics, as_of, unit)
    }

    /// One critical position's report section (blocking).
    pub fn position_section(
        &self,
        as_of: DateTime<Utc>,
        unit: &str,
        position: &str,
    ) -> Result<Option<cadre_report::PositionSection>, cadre_report::ReportError> {
        let t = self.timeline.read().unwrap_or_else(|p| p.into_inner());
        cadre_report::position_section(&t, &self.policy, &self.analytics, as_of, unit, position)
    }

    /// Who a token belongs to.
    pub(crate) fn authenticate(&self, token: &str) -> Option<cadre_access::Principal> {
        self.access.authenticate(token)
    }

    /// The small-group threshold.
    pub(crate) fn k(&self) -> usize {
        self.access.k()
    }

    /// Records an access to individuals' data; it must succeed before the data is served.
    pub(crate) fn audit(
        &self,
        who: &cadre_access::Principal,
        action: &str,
        subject: &str,
    ) -> Result<(), ApiError> {
        self.audit
            .record(who, action, subject)
            .map_err(|e| ApiError::Unavailable(format!("cannot write the audit log: {e}")))
    }
}

/// Why a service cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The log could not be folded.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// The audit log cannot be opened.
    #[error("cannot open the audit log {path}: {source}")]
    Audit {
        /// Where.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Folds the ingestor's log, from the checkpoint at `path` when it is sound.
fn restore(
    ingestor: &Ingestor,
    path: Option<&std::path::Path>,
) -> Result<cadre_checkpoint::Restored, IngestError> {
    cadre_checkpoint::restore(path, |after, apply| ingestor.replay_after(after, apply))
}

/// Serves on a bound listener until `shutdown` resolves, then lets requests
/// in flight finish (at most 30 s); with `tls`, every connection is TLS.
/// Each connection must finish its TLS handshake and send its request
/// headers within the configured time, or it is closed: clients that trickle
/// bytes (slow loris) cannot hold the server's connections.
pub async fn serve(
    service: Arc<Service>,
    listener: tokio::net::TcpListener,
    tls: Option<TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::TokioTimer;
    let header_timeout =
        std::time::Duration::from_secs_f64(service.limits.header_timeout_secs.max(0.1));
    let app = api::router(service);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // too many open files and the like: wait, do not spin
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let (http, watcher, app) = (http.clone(), graceful.watcher(), app.clone());
                let Some(tls) = tls.clone() else {
                    tokio::spawn(connection(http, watcher, stream, app));
                    continue;
                };
                // the handshake runs against the same clock as the headers,
                // so a silent client holds nothing for long
                tokio::spawn(async move {
                    match tokio::time::timeout(header_timeout, tls.accept(stream)).await {
                        Ok(Ok(stream)) => connection(http, watcher, stream, app).await,
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), graceful.shutdown()).await;
    Ok(())
}

/// Serves one connection, plain or TLS, until it closes.
async fn connection<I>(
    http: hyper::server::conn::http1::Builder,
    watcher: hyper_util::server::graceful::Watcher,
    io: I,
    app: axum::Router,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let conn = http.serve_connection(
        hyper_util::rt::TokioIo::new(io),
        hyper_util::service::TowerToHyperService::new(app),
    );
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!(error = %e, "connection closed");
    }
}

/// The router, for tests that drive it without a socket.
pub fn router(service: Arc<Service>) -> axum::Router {
    api::router(service)
}
