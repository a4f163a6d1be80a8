//! Prometheus metrics for operators: base units, `_total` counters, no per-employee labels.

use std::time::Duration;

use cadre_ingest::{Batch, Outcome};
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// The metrics cadre exports.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    events: IntCounterVec,
    stored_by_type: IntCounterVec,
    batch_seconds: Histogram,
    apply_seconds: Histogram,
    analytics_seconds: Histogram,
    log_events: IntGauge,
    dead_letters: IntGauge,
    applied: IntGauge,
    consumer_lag: IntGaugeVec,
    checkpoint_events: IntGauge,
    checkpoint_failures: IntCounter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// The registry, for metrics other crates register (the ClickHouse exporter).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// A fresh registry with every metric registered.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let events = IntCounterVec::new(
            Opts::new(
                "cadre_events_total",
                "Events received, by channel and outcome",
            ),
            &["channel", "outcome"],
        )
        .expect("valid metric");
        let batch_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "cadre_ingest_batch_duration_seconds",
                "Time to validate, store durably and project one batch",
            )
            .buckets(vec![0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0]),
        )
        .expect("valid metric");
        let stored_by_type = IntCounterVec::new(
            Opts::new(
                "cadre_events_stored_total",
                "Events stored in the log, by channel and event type",
            ),
            &["channel", "type"],
        )
        .expect("valid metric");
        let apply_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "cadre_projection_apply_duration_seconds",
                "Time to fold one stored batch into the projection",
            )
            .buckets(vec![0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0]),
        )
        .expect("valid metric");
        let analytics_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "cadre_analytics_duration_seconds",
                "Time to compute one analytics answer from the projection",
            )
            .buckets(vec![0.001, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0]),
        )
        .expect("valid metric");
        let log_events = IntGauge::new("cadre_log_events", "Events stored in the event log")
            .expect("valid metric");
        let dead_letters = IntGauge::new(
            "cadre_dead_letters",
            "Rejected items kept in the dead-letter store",
        )
        .expect("valid metric");
        let applied = IntGauge::new(
            "cadre_projection_events_applied",
            "Events folded into the projection",
        )
        .expect("valid metric");
        let consumer_lag = IntGaugeVec::new(
            Opts::new(
                "cadre_kafka_consumer_lag_messages",
                "Messages in the events topic not yet committed by this instance, by partition",
            ),
            &["partition"],
        )
        .expect("valid metric");
        let checkpoint_events = IntGauge::new(
            "cadre_checkpoint_events",
            "Events covered by the last projection checkpoint written",
        )
        .expect("valid metric");
        let checkpoint_failures = IntCounter::new(
            "cadre_checkpoint_failures_total",
            "Projection checkpoints that could not be written",
        )
        .expect("valid metric");
        for c in [
            Box::new(events.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(checkpoint_events.clone()),
            Box::new(checkpoint_failures.clone()),
            Box::new(consumer_lag.clone()),
            Box::new(batch_seconds.clone()),
            Box::new(stored_by_type.clone()),
            Box::new(apply_seconds.clone()),
            Box::new(analytics_seconds.clone()),
            Box::new(log_events.clone()),
            Box::new(dead_letters.clone()),
            Box::new(applied.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Metrics {
            registry,
            events,
            stored_by_type,
            batch_seconds,
            apply_seconds,
            analytics_seconds,
            log_events,
            dead_letters,
            applied,
            consumer_lag,
            checkpoint_events,
            checkpoint_failures,
        }
    }

    /// Sets the events covered by the last checkpoint.
    pub fn set_checkpoint(&self, events: u64) {
        self.checkpoint_events.set(events as i64);
    }

    /// Counts a checkpoint that could not be written.
    pub fn checkpoint_failed(&self) {
        self.checkpoint_failures.inc();
    }

    /// Sets the Kafka consumer lag of each assigned partition (others are dropped).
    pub fn set_consumer_lag(&self, lag: &[(i32, i64)]) {
        self.consumer_lag.reset();
        for (partition, n) in lag {
            self.consumer_lag
                .with_label_values(&[&partition.to_string()])
                .set(*n);
        }
    }

    /// Counts a batch's outcomes and its duration.
    pub fn record_batch(&self, channel: &str, batch: &Batch, took: Duration) {
        // channels carry file names for the dead-letter store; metrics keep only the kind
        let channel = channel.split(':').next().unwrap_or(channel);
        for o in &batch.outcomes {
            let outcome = match o {
                Outcome::Accepted { .. } => "accepted",
                Outcome::Duplicate { .. } => "duplicate",
                Outcome::Rejected { .. } => "dead_lettered",
            };
            self.events.with_label_values(&[channel, outcome]).inc();
        }
        for (_, e) in &batch.stored {
            self.stored_by_type
                .with_label_values(&[channel, e.event_type().as_str()])
                .inc();
        }
        self.batch_seconds.observe(took.as_secs_f64());
    }

    /// Records the time to fold a batch into the projection.
    pub fn record_apply(&self, took: Duration) {
        self.apply_seconds.observe(took.as_secs_f64());
    }

    /// Records an analytics computation.
    pub fn record_analytics(&self, took: Duration) {
        self.analytics_seconds.observe(took.as_secs_f64());
    }

    /// Sets the store gauges.
    pub fn set_store(&self, events: u64, dead: u64) {
        self.log_events.set(events as i64);
        self.dead_letters.set(dead as i64);
    }

    /// Sets the projection position.
    pub fn set_applied(&self, applied: u64) {
        self.applied.set(applied as i64);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("text encoding cannot fail");
        String::from_utf8(buf).expect("text encoding is UTF-8")
    }
}
