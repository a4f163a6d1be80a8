//! The one loop that runs a pulled [`Source`] (Kafka) into the engine.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cadre_ingest::Source;
use serde::Serialize;

use crate::{Engine, EngineError};

/// How [`Engine::run_source`] runs.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Return after this long with nothing to read (once the source is ready).
    pub idle_exit: Option<Duration>,
    /// Log a failure and try again a second later, instead of returning it
    /// (a server keeps running; a one-shot command reports and stops).
    pub retry: bool,
}

/// What a source brought in.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SourceProgress {
    /// Items read.
    pub messages: u64,
    /// Events stored.
    pub accepted: u64,
    /// Events stored before.
    pub duplicate: u64,
    /// Items dead-lettered.
    pub rejected: u64,
}

impl SourceProgress {
    /// Adds another step's counts.
    pub fn add(&mut self, other: SourceProgress) {
        self.messages += other.messages;
        self.accepted += other.accepted;
        self.duplicate += other.duplicate;
        self.rejected += other.rejected;
    }
}

/// How long a read waits for its first item.
const WAIT: Duration = Duration::from_millis(500);

/// How often the source's lag is read into the metrics.
const LAG_EVERY: Duration = Duration::from_secs(2);

impl Engine {
    /// Reads `source` a batch at a time until `stop` is set (or it is idle
    /// for `idle_exit`): each batch is stored, folded and told to the
    /// subscribers ([`Engine::ingest`]) before the source is told what became
    /// of it, so nothing is acknowledged upstream before it is durable.
    /// `tell` hears of each batch that brought anything.
    pub fn run_source<S: Source>(
        &self,
        source: &mut S,
        stop: &AtomicBool,
        options: &RunOptions,
        mut tell: impl FnMut(&SourceProgress),
    ) -> Result<SourceProgress, EngineError> {
        let mut total = SourceProgress::default();
        let mut idle_since = Instant::now();
        let mut lag_at = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            let step = self.step(source);
            if lag_at.elapsed() >= LAG_EVERY {
                lag_at = Instant::now();
                match source.lag() {
                    Ok(lag) => self.metrics.set_consumer_lag(&lag),
                    Err(e) => tracing::warn!(error = %e, "cannot read the consumer lag"),
                }
            }
            let p = match step {
                Ok(p) => p,
                Err(e) if options.retry => {
                    tracing::error!(error = %e, channel = source.channel(), "reading the source failed; retrying");
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
                Err(e) => return Err(e),
            };
            // idle time counts from the moment the source has something to read from
            if p.messages > 0 || !source.ready() {
                idle_since = Instant::now();
            }
            if p.messages > 0 {
                total.add(p);
                tell(&p);
            } else if options.idle_exit.is_some_and(|d| idle_since.elapsed() >= d) {
                break;
            }
        }
        Ok(total)
    }

    /// One batch: read, store, fold, tell, settle.
    fn step<S: Source>(&self, source: &mut S) -> Result<SourceProgress, EngineError> {
        let failed = |e: S::Error, channel: &str| EngineError::Source {
            channel: channel.to_string(),
            source: Box::new(e),
        };
        let items = source
            .read_batch(WAIT)
            .map_err(|e| failed(e, source.channel()))?;
        if items.is_empty() {
            return Ok(SourceProgress::default());
        }
        let messages = items.len() as u64;
        let channel = source.channel().to_string();
        let batch = self.ingest(&channel, items)?;
        source.settle(&batch).map_err(|e| failed(e, &channel))?;
        let (accepted, duplicate, rejected) = batch.counts();
        Ok(SourceProgress {
            messages,
            accepted: accepted as u64,
            duplicate: duplicate as u64,
            rejected: rejected as u64,
        })
    }
}
