//! Kafka consume throughput: the generated organisation published to a
//! fresh topic on the broker, then consumed by one consumer-group member
//! into a fresh data directory, exactly as `cadre consume` does.

use std::time::{Duration, Instant};

use cadre_ingest::{Ingestor, StoreLayout};
use serde::Serialize;

use crate::{io, BenchError, Options};

/// What the Kafka run measured.
#[derive(Debug, Clone, Serialize)]
pub struct KafkaFigures {
    /// The bootstrap servers.
    pub brokers: String,
    /// Distinct events published.
    pub events: u64,
    /// Seconds to publish them (until the broker acknowledged every one).
    pub produce_secs: f64,
    /// Messages consumed (reference events go to every partition).
    pub messages: u64,
    /// Seconds from joining the group to every event stored and committed.
    pub consume_secs: f64,
    /// Stored events per second of the consumer.
    pub consume_events_per_sec: f64,
}

fn failed(what: &str, e: impl std::fmt::Display) -> BenchError {
    BenchError::Check(format!("{what}: {e}"))
}

/// Publishes the organisation of `employees` and consumes it back.
pub(crate) fn measure(
    options: &Options,
    brokers: &str,
    employees: usize,
    progress: &mut dyn FnMut(&str),
) -> Result<KafkaFigures, BenchError> {
    let dir = options.work_dir.join("kafka");
    crate::fresh_dir(&dir)?;
    let file = dir.join("events.ndjson");
    let events = crate::write_events(options, employees, options.seed, &file)?;
    let tag = format!(
        "{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    );
    let cfg = cadre_kafka::KafkaConfig {
        brokers: brokers.to_string(),
        topic: format!("cadre.bench.{tag}"),
        dlq_topic: format!("cadre.bench.{tag}.dlq"),
        group: format!("cadre-bench-{tag}"),
        ..Default::default()
    };
    cadre_kafka::ensure_topics(&cfg).map_err(|e| failed("cannot create the topics", e))?;
    progress(&format!("Kafka: publishing {events} events to {brokers}"));
    let text =
        std::fs::read_to_string(&file).map_err(io(format!("cannot read {}", file.display())))?;
    let started = Instant::now();
    cadre_kafka::produce(&cfg, text.lines().map(|l| Ok(l.to_string())), |_, _| {})
        .map_err(|e| failed("cannot publish", e))?;
    let produce_secs = started.elapsed().as_secs_f64();
    drop(text);

    progress("Kafka: consuming");
    let (mut ingestor, _) = Ingestor::open(&StoreLayout::new(dir.join("data")))?;
    let started = Instant::now();
    let mut source =
        cadre_kafka::Source::new(&cfg).map_err(|e| failed("cannot join the group", e))?;
    let mut total = cadre_kafka::Progress::default();
    let deadline = started + Duration::from_secs(600);
    while total.accepted < events {
        if Instant::now() > deadline {
            return Err(BenchError::Check(format!(
                "the consumer stored {} of {events} events in 600 s",
                total.accepted
            )));
        }
        let p = source
            .step(Duration::from_millis(500), &mut |items| {
                ingestor.ingest("kafka", items)
            })
            .map_err(|e| failed("consuming failed", e))?;
        total.add(p);
    }
    let consume_secs = started.elapsed().as_secs_f64();
    if total.rejected > 0 {
        return Err(BenchError::Check(format!(
            "the consumer rejected {} generated events",
            total.rejected
        )));
    }
    drop(ingestor);
    if !options.keep {
        std::fs::remove_dir_all(&dir).map_err(io(format!("cannot remove {}", dir.display())))?;
    }
    Ok(KafkaFigures {
        brokers: brokers.to_string(),
        events,
        produce_secs,
        messages: total.messages,
        consume_secs,
        consume_events_per_sec: events as f64 / consume_secs.max(1e-9),
    })
}
