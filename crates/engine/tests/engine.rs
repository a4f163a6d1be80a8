//! The engine's promises, on a real data directory: a batch is stored, then
//! folded, then told to subscribers, whatever the channel; a reader cannot
//! write; a source is settled only after its batch is durable.

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use cadre_engine::{Engine, EngineConfig, EngineError, RunOptions, Subscriber};
use cadre_ingest::{parse_line, Batch, Item, Source};
use cadre_model::Event;

/// An `employee.hired` event as an HRIS would send it.
fn hired(n: u32) -> String {
    format!(
        r#"{{"event_id":"00000000-0000-4000-8000-{n:012}","type":"employee.hired","schema_version":1,"occurred_at":"2025-10-06T08:30:00Z","recorded_at":"2025-10-06T08:30:00Z","source":"hris.test","subject":"emp-{n}","data":{{"name":"Person {n}"}}}}"#
    )
}

fn items(lines: &[String]) -> Vec<Item> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| parse_line(i + 1, l))
        .collect()
}

/// Records what it is told, and checks at that moment that the engine had
/// already folded every event of the batch.
#[derive(Default)]
struct Recorder {
    engine: OnceLock<Weak<Engine>>,
    seen: Mutex<Vec<u64>>,
    folded_first: Mutex<Vec<bool>>,
}

impl Subscriber for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }

    fn stored(&self, batch: &[(u64, Event)]) {
        let engine = self
            .engine
            .get()
            .and_then(Weak::upgrade)
            .expect("engine alive");
        let applied = engine.with_timeline(|t, _, _| t.applied());
        let last = batch.last().map_or(0, |(seq, _)| *seq);
        self.folded_first.lock().unwrap().push(applied > last);
        self.seen
            .lock()
            .unwrap()
            .extend(batch.iter().map(|(seq, _)| *seq));
    }
}

#[test]
fn every_way_in_stores_then_folds_then_tells() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(dir.path(), EngineConfig::default()).unwrap());
    let recorder = Arc::new(Recorder::default());
    recorder.engine.set(Arc::downgrade(&engine)).unwrap();
    engine.subscribe(recorder.clone());

    // a request's batch, with one line that is not an event
    let mut lines = vec![hired(1), hired(2)];
    lines.push("{not json".to_string());
    let batch = engine.ingest("http", items(&lines)).unwrap();
    assert_eq!(batch.counts(), (2, 0, 1));

    // a file, in the JSON-array format, read by its decoder
    let file = dir.path().join("more.json");
    std::fs::write(&file, format!("[{},\n{}]", hired(3), hired(1))).unwrap();
    let imported = engine.import(&file, 1, |_| {}).unwrap();
    assert_eq!(
        (imported.lines, imported.accepted, imported.duplicate),
        (2, 1, 1)
    );

    assert_eq!(*recorder.seen.lock().unwrap(), vec![0, 1, 2]);
    let folded = recorder.folded_first.lock().unwrap().clone();
    assert!(
        !folded.is_empty() && folded.iter().all(|f| *f),
        "told before folded: {folded:?}"
    );
    let status = engine.status();
    assert_eq!((status.events, status.dead_letters), (3, 1));
    let names: Vec<String> = engine
        .snapshot(chrono::Utc::now())
        .employees
        .iter()
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    drop(engine);

    // durable: a reader opened afterwards folds the same three events
    let reader = Engine::read(dir.path(), EngineConfig::default()).unwrap();
    assert_eq!(reader.status().events, 3);
    assert_eq!(reader.snapshot(chrono::Utc::now()).employees.len(), 3);
}

#[test]
fn a_reader_refuses_to_store_and_a_missing_directory_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    drop(Engine::open(dir.path(), EngineConfig::default()).unwrap());
    let reader = Engine::read(dir.path(), EngineConfig::default()).unwrap();
    let err = reader.ingest("http", items(&[hired(1)])).unwrap_err();
    assert!(matches!(err, EngineError::ReadOnly(_)), "{err}");
    assert_eq!(reader.status().events, 0);

    let missing = dir.path().join("nothing-here");
    let err = Engine::read(&missing, EngineConfig::default())
        .err()
        .expect("no data directory");
    assert!(err.to_string().contains("ingest events first"), "{err}");
}

/// A source over batches held in memory, recording what it is told.
struct Batches {
    pending: VecDeque<Vec<String>>,
    /// (accepted, rejected) of each batch settled, and the log length then.
    settled: Vec<(usize, usize, u64)>,
    data: std::path::PathBuf,
    fail_reads: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("the test source cannot be read")]
struct Unreadable;

impl Source for Batches {
    type Error = Unreadable;

    fn channel(&self) -> &str {
        "test"
    }

    fn read_batch(&mut self, _wait: Duration) -> Result<Vec<Item>, Unreadable> {
        if self.fail_reads {
            return Err(Unreadable);
        }
        Ok(self
            .pending
            .pop_front()
            .map(|b| items(&b))
            .unwrap_or_default())
    }

    fn settle(&mut self, batch: &Batch) -> Result<(), Unreadable> {
        let (accepted, _, rejected) = batch.counts();
        // what is settled is already in the log on disk, where a new reader sees it
        let stored = Engine::read(&self.data, EngineConfig::default())
            .unwrap()
            .status()
            .events;
        self.settled.push((accepted, rejected, stored));
        Ok(())
    }
}

#[test]
fn a_source_is_settled_only_after_its_batch_is_durable() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineConfig::default()).unwrap();
    let mut source = Batches {
        pending: VecDeque::from([vec![hired(1), hired(2)], vec![hired(3), "[]".to_string()]]),
        settled: Vec::new(),
        data: dir.path().to_path_buf(),
        fail_reads: false,
    };
    let stop = AtomicBool::new(false);
    let options = RunOptions {
        idle_exit: Some(Duration::ZERO),
        retry: false,
    };
    let mut told = 0;
    let total = engine
        .run_source(&mut source, &stop, &options, |_| told += 1)
        .unwrap();
    assert_eq!((total.messages, total.accepted, total.rejected), (4, 3, 1));
    assert_eq!(told, 2);
    assert_eq!(source.settled, vec![(2, 0, 2), (1, 1, 3)]);
    assert_eq!(engine.with_timeline(|t, _, _| t.applied()), 3);

    // a one-shot run reports a failing source; it does not spin on it
    source.fail_reads = true;
    let err = engine
        .run_source(&mut source, &stop, &options, |_| {})
        .unwrap_err();
    assert!(err.to_string().contains("cannot be read"), "{err}");
}
