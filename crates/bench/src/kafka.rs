//! Kafka consume throughput: the generated organisation published to a
//! fresh topic on the broker, then consumed by one consumer-group member
//! into a fresh data directory, exactly as `cadre consume` does.

use std::time::{Duration, Instant};

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
    let engine = cadre_engine::Engine::open(&dir.join("data"), Default::default())
        .map_err(|e| failed("cannot open the data directory", e))?;
    let started = Instant::now();
    let mut source =
        cadre_kafka::Source::new(&cfg).map_err(|e| failed("cannot join the group", e))?;
    // the engine's own loop, as `cadre consume` runs it: stored, folded, committed
    let stop = std::sync::atomic::AtomicBool::new(false);
    let run = cadre_engine::RunOptions {
        idle_exit: Some(Duration::from_secs(60)),
        retry: false,
    };
    let mut accepted = 0;
    let total = engine
        .run_source(&mut source, &stop, &run, |p| {
            accepted += p.accepted;
            if accepted >= events || started.elapsed() > Duration::from_secs(600) {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        })
        .map_err(|e| failed("consuming failed", e))?;
    if total.accepted < events {
        return Err(BenchError::Check(format!(
            "the consumer stored {} of {events} events in {:.0} s",
            total.accepted,
            started.elapsed().as_secs_f64()
        )));
    }
    let consume_secs = started.elapsed().as_secs_f64();
    if total.rejected > 0 {
        return Err(BenchError::Check(format!(
            "the consumer rejected {} generated events",
            total.rejected
        )));
    }
    drop(engine);
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
