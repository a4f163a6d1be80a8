//! Importing files through the engine: each batch stored durably, then
//! folded, then told to the subscribers, as every other way in does.

use std::path::Path;
use std::sync::mpsc;

use cadre_ingest::{import_file, ImportSummary};
use cadre_model::Event;

use crate::{Engine, EngineError};

/// What one file's import did.
pub type Imported = ImportSummary;

impl Engine {
    /// Imports a file (its format told by its name, [`cadre_ingest::Decoder::for_path`])
    /// in batches of `batch_size` items. Each batch is folded and told to the
    /// subscribers on a thread of its own, a batch behind the storing, so
    /// that storing never waits for the fold. `progress(bytes_read)` runs
    /// after each batch is durable.
    ///
    /// Interrupting an import loses nothing acknowledged; running it again
    /// stores only what is missing (the rest comes back as duplicates).
    pub fn import(
        &self,
        path: &Path,
        batch_size: usize,
        mut progress: impl FnMut(u64) + Send,
    ) -> Result<Imported, EngineError> {
        let mut ingestor = self.writer()?;
        let summary = std::thread::scope(|scope| {
            let (tx, rx) = mpsc::sync_channel::<Vec<(u64, Event)>>(4);
            let folder = scope.spawn(move || {
                for stored in rx {
                    self.stored(&stored);
                }
            });
            let summary = import_file(&mut ingestor, path, batch_size, move |bytes, batch| {
                // a closed channel means the fold panicked: joining it says so
                let _ = tx.send(batch.stored);
                progress(bytes);
            });
            folder.join().expect("the fold does not panic");
            summary
        });
        if summary.is_err() {
            // part of a batch may be durable and not folded: fold the log afresh
            self.refold(&ingestor);
        }
        self.metrics
            .set_store(ingestor.log().len(), ingestor.dead_letters());
        Ok(summary?)
    }
}
