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
mod error;
mod metrics;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use cadre_ingest::{Batch, IngestError, Ingestor, Item};
use cadre_projection::{LevelPolicy, Snapshot, Timeline};
use chrono::{DateTime, Utc};

pub use error::ApiError;
pub use metrics::Metrics;

/// What the server needs to know.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Bearer token required by `POST /v1/events`.
    pub ingest_token: String,
    /// How effective levels are computed.
    pub policy: LevelPolicy,
    /// Thresholds of the analytics.
    pub analytics: cadre_analytics::AnalyticsConfig,
}

/// The running pipeline: store, projection, metrics.
pub struct Service {
    ingestor: Mutex<Ingestor>,
    timeline: RwLock<Timeline>,
    policy: LevelPolicy,
    analytics: cadre_analytics::AnalyticsConfig,
    ingest_token: String,
    metrics: Metrics,
}

impl Service {
    /// Builds the service over an open ingestor, folding the whole log into a timeline.
    pub fn new(ingestor: Ingestor, config: &ServerConfig) -> Result<Service, IngestError> {
        let mut timeline = Timeline::new();
        ingestor.replay(|seq, e| timeline.apply(seq, &e))?;
        let metrics = Metrics::new();
        metrics.set_store(ingestor.log().len(), ingestor.dead_letters());
        metrics.set_applied(timeline.applied());
        Ok(Service {
            ingestor: Mutex::new(ingestor),
            timeline: RwLock::new(timeline),
            policy: config.policy.clone(),
            analytics: config.analytics.clone(),
            ingest_token: config.ingest_token.clone(),
            metrics,
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
                let mut t = Timeline::new();
                match ingestor.replay(|seq, ev| t.apply(seq, &ev)) {
                    Ok(()) => {
                        self.metrics.set_applied(t.applied());
                        *self.timeline.write().unwrap_or_else(|p| p.into_inner()) = t;
                    }
                    Err(r) => {
                        tracing::error!(error = %r, "cannot refold the log after a failed append")
                    }
                }
                return Err(e);
            }
        };
        {
            let mut t = self.timeline.write().unwrap_or_else(|p| p.into_inner());
            for (seq, e) in &batch.stored {
                t.apply(*seq, e);
            }
            self.metrics.set_applied(t.applied());
        }
        self.metrics
            .record_batch(channel, &batch, started.elapsed());
        self.metrics
            .set_store(ingestor.log().len(), ingestor.dead_letters());
        Ok(batch)
    }

    /// Runs a named query over the projection (blocking).
    pub fn query(
        &self,
        q: &cadre_analytics::QueryRequest,
    ) -> Result<cadre_analytics::QueryOutput, cadre_analytics::AnalyticsError> {
        let started = std::time::Instant::now();
        let t = self.timeline.read().unwrap_or_else(|p| p.into_inner());
        let out = cadre_analytics::run_query(&t, &self.policy, &self.analytics, q);
        self.metrics.record_analytics(started.elapsed());
        out
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

    pub(crate) fn token_matches(&self, presented: &str) -> bool {
        constant_time_eq(presented.as_bytes(), self.ingest_token.as_bytes())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    service: Arc<Service>,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    axum::serve(listener, api::router(service))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The router, for tests that drive it without a socket.
pub fn router(service: Arc<Service>) -> axum::Router {
    api::router(service)
}
