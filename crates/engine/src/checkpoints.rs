//! Writing projection checkpoints from a running engine, off the ingest path.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use cadre_projection::Timeline;

use crate::Metrics;

/// Decides when to checkpoint and writes one checkpoint at a time.
pub(crate) struct Checkpointer {
    path: PathBuf,
    every: u64,
    /// Events covered by the last checkpoint written (or found at start).
    covered: AtomicU64,
    busy: AtomicBool,
    timeline: Arc<RwLock<Timeline>>,
    metrics: Metrics,
}

impl Checkpointer {
    pub fn new(
        path: PathBuf,
        every: u64,
        covered: u64,
        timeline: Arc<RwLock<Timeline>>,
        metrics: Metrics,
    ) -> Checkpointer {
        metrics.set_checkpoint(covered);
        Checkpointer {
            path,
            every,
            covered: AtomicU64::new(covered),
            busy: AtomicBool::new(false),
            timeline,
            metrics,
        }
    }

    /// Starts a checkpoint in the background when enough events were folded since the last one.
    pub fn maybe_start(self: &Arc<Self>, applied: u64) {
        if self.every == 0 || applied < self.covered.load(Ordering::Relaxed) + self.every {
            return;
        }
        if self.busy.swap(true, Ordering::AcqRel) {
            return;
        }
        let me = self.clone();
        std::thread::spawn(move || {
            me.write();
            me.busy.store(false, Ordering::Release);
        });
    }

    /// Writes a checkpoint of the projection as it is now (blocking), after
    /// any checkpoint being written in the background; failures are logged and counted.
    pub fn write_now(&self) {
        if self.every == 0 {
            return;
        }
        // one writer at a time: both would write the same temporary file
        while self.busy.swap(true, Ordering::AcqRel) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        self.write();
        self.busy.store(false, Ordering::Release);
    }

    fn write(&self) {
        let started = std::time::Instant::now();
        // serialize under the read lock (queries go on; ingest waits to fold), write without it
        let (bytes, applied) = {
            let t = self.timeline.read().unwrap_or_else(|p| p.into_inner());
            if t.applied() == self.covered.load(Ordering::Relaxed) {
                return;
            }
            (cadre_checkpoint::encode(&t), t.applied())
        };
        match cadre_checkpoint::write_encoded(&self.path, &bytes) {
            Ok(()) => {
                self.covered.store(applied, Ordering::Relaxed);
                self.metrics.set_checkpoint(applied);
                tracing::info!(
                    events = applied,
                    bytes = bytes.len(),
                    seconds = started.elapsed().as_secs_f64(),
                    "projection checkpoint written"
                );
            }
            Err(e) => {
                self.metrics.checkpoint_failed();
                tracing::warn!(error = %e, "cannot write the projection checkpoint; the log is intact, a restart folds more of it");
            }
        }
    }
}
