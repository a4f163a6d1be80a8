//! The right to erasure: `cadre erase EMPLOYEE`.
//!
//! This crate owns removing one person from a data directory. Their own
//! records (hires, moves, assessments, trainings, ratings, and nominations
//! of them as a successor) are erased from the event log; every other
//! event that mentions them (as the assessor of a colleague, or by name in
//! a free-text field) is kept with the mention replaced by `[erased]`.
//! Dead letters that mention them are erased, the audit log's entries about
//! them are redacted, and the projection checkpoint (which holds them) is
//! removed, to be rebuilt from the erased log.
//!
//! Invariants: sequence numbers never change, so anything that tracks a
//! position in the log stays valid; an erased event's id stays known to the
//! log, so a re-sent original is answered as a duplicate and the person
//! does not come back by replay; and the figures recomputed afterwards are
//! exactly those of a log that never held the person's records.
//!
//! Crash safety comes from the order of the steps: everything that the
//! event log does not hold is handled first, and the event log (the only
//! place that knows the person's name) is rewritten last, in one committed
//! step. An interrupted erasure is completed by running it again.
//!
//! It does not reach copies outside the data directory: a Kafka topic and
//! the ClickHouse warehouse keep what they were sent (see docs/reliability.md).

mod redact;

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use cadre_log::{Log, LogError, LogOptions, Rewrite};
use cadre_model::{Event, EventData};
use cadre_store::StoreLayout;

pub use redact::{Redactor, ERASED};

/// Why an erasure could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    /// The event log or the dead-letter store failed (or another process holds them).
    #[error(transparent)]
    Log(#[from] LogError),
    /// A file other than the logs could not be read or written.
    #[error("cannot erase from {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A stored record does not decode, so it cannot be judged.
    #[error("stored event #{seq} does not decode: {reason}")]
    Stored {
        /// Its sequence number.
        seq: u64,
        /// Why.
        reason: String,
    },
    /// An event would no longer be valid with the person's mentions blanked out.
    #[error("event #{seq} would be invalid once redacted ({reason}); nothing was changed")]
    Redaction {
        /// Its sequence number.
        seq: u64,
        /// Why.
        reason: String,
    },
    /// The data directory holds nothing about the person.
    #[error("nothing in {data_dir} mentions employee {employee:?}: erased already, or the id is wrong (ids are case-sensitive)")]
    NotFound {
        /// The id asked for.
        employee: String,
        /// The data directory.
        data_dir: PathBuf,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ErasureError + '_ {
    move |source| ErasureError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What an erasure changes (or, for a plan, would change).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// The employee id.
    pub employee: String,
    /// The names found for them in their hire events (and any given).
    pub names: usize,
    /// Their own events, erased.
    pub events_erased: u64,
    /// Other events that mentioned them, kept with the mention redacted.
    pub events_redacted: u64,
    /// Dead letters that mentioned them, erased.
    pub dead_letters_erased: u64,
    /// Audit-log entries that mentioned them, redacted.
    pub audit_entries_redacted: u64,
    /// Their names that other employees bear too: kept wherever they appear,
    /// since a mention cannot be told apart (review free text by hand).
    pub shared_names: Vec<String>,
    /// Near misses kept for review: a part of their name (a surname alone)
    /// in other events, which may be them or someone else, with the number
    /// of events it is in after the erasure.
    pub near_misses: Vec<(String, u64)>,
    /// Whether the projection checkpoint was (or would be) removed.
    pub checkpoint_removed: bool,
    /// Files in the data directory that cadre does not manage and that still
    /// mention the person (an imported NDJSON file, say): remove or edit them.
    pub leftovers: Vec<PathBuf>,
}

/// One person's erasure from one data directory.
#[derive(Debug)]
pub struct Erasure {
    layout: StoreLayout,
    audit_log: PathBuf,
    employee: String,
    extra_names: Vec<String>,
}

/// The event log judged: what to do with each record that changes.
struct Judged {
    actions: HashMap<u64, Rewrite>,
    redactor: Redactor,
    shared_names: Vec<String>,
    near_misses: Vec<(String, u64)>,
    erased: u64,
    redacted: u64,
}

impl Erasure {
    /// Erasure of `employee` from the data directory of `layout`, whose audit log is `audit_log`.
    pub fn new(layout: StoreLayout, audit_log: PathBuf, employee: &str) -> Erasure {
        Erasure {
            layout,
            audit_log,
            employee: employee.trim().to_string(),
            extra_names: Vec::new(),
        }
    }

    /// Names to search for besides those in the person's hire events
    /// (for a person whose hire was never stored).
    pub fn with_names(mut self, names: Vec<String>) -> Erasure {
        self.extra_names = names;
        self
    }

    /// Works out what [`Erasure::run`] would change, changing nothing.
    pub fn plan(&self) -> Result<Report, ErasureError> {
        self.go(false)
    }

    /// Erases. Run it again after an interruption: it completes.
    pub fn run(&self) -> Result<Report, ErasureError> {
        self.go(true)
    }

    fn go(&self, apply: bool) -> Result<Report, ErasureError> {
        let mut log = Log::open(&self.layout.log_dir(), LogOptions::default())?.0;
        let mut dead = Log::open(&self.layout.dead_letter_dir(), LogOptions::default())?.0;
        let judged = self.judge(&log)?;
        let r = &judged.redactor;

        let mut report = Report {
            employee: self.employee.clone(),
            names: r.words().len() - 1 + judged.shared_names.len(),
            shared_names: judged.shared_names.clone(),
            near_misses: judged.near_misses.clone(),
            events_erased: judged.erased,
            events_redacted: judged.redacted,
            ..Report::default()
        };
        let checkpoint = self.layout.checkpoint_path();
        report.checkpoint_removed = checkpoint.exists();
        let letter = |rec: &cadre_log::Record| {
            if r.mentioned_in(&rec.payload) {
                Rewrite::Erase
            } else {
                Rewrite::Keep
            }
        };
        let mut audit = self.audit_redacted(r)?;
        report.audit_entries_redacted = audit.1;
        if !apply {
            dead.scan(|rec| {
                if letter(&rec) == Rewrite::Erase {
                    report.dead_letters_erased += 1;
                }
            })?;
            self.check_found(&report)?;
            return Ok(report);
        }

        // the checkpoint first: it is tied to a log position that survives
        // the rewrite, so a stale one would otherwise be trusted
        if report.checkpoint_removed {
            fs::remove_file(&checkpoint).map_err(io(&checkpoint))?;
            sync_parent(&checkpoint)?;
        }
        report.dead_letters_erased = dead.rewrite(letter)?.erased;
        if let Some(text) = audit.0.take() {
            cadre_store::replace_file(&self.audit_log, text.as_bytes())
                .map_err(io(&self.audit_log))?;
        }
        let mut actions = judged.actions;
        log.rewrite(|rec| actions.remove(&rec.seq).unwrap_or(Rewrite::Keep))?;
        drop((log, dead));
        if report.events_erased + report.events_redacted == 0 {
            // an erasure completed earlier, or only dead letters and audit entries
            tracing::info!(employee = %self.employee, "no stored event mentions the person");
        }
        self.check_found(&report)?;
        report.leftovers = leftovers(&self.layout.root, r)?;
        Ok(report)
    }

    fn check_found(&self, report: &Report) -> Result<(), ErasureError> {
        let anything = report.events_erased
            + report.events_redacted
            + report.dead_letters_erased
            + report.audit_entries_redacted
            > 0;
        if anything || self.employee.is_empty() {
            return Ok(());
        }
        // a finished erasure leaves nothing to find: say so only when
        // nothing was found in the first place
        Err(ErasureError::NotFound {
            employee: self.employee.clone(),
            data_dir: self.layout.root.clone(),
        })
    }

    /// Reads the event log once: the person's names, then what to do with each record.
    fn judge(&self, log: &Log) -> Result<Judged, ErasureError> {
        let mut events = Vec::new();
        let mut bad = None;
        let mut names = self.extra_names.clone();
        let mut others = std::collections::HashSet::new();
        log.scan(|rec| {
            if bad.is_some() {
                return;
            }
            let Ok(text) = std::str::from_utf8(&rec.payload) else {
                bad = Some((rec.seq, "not UTF-8".to_string()));
                return;
            };
            match Event::from_json(text) {
                Ok(e) => {
                    if let EventData::EmployeeHired(h) = &e.data {
                        if e.subject == self.employee {
                            names.push(h.name.clone());
                        } else {
                            others.insert(h.name.trim().to_string());
                        }
                    }
                    events.push((rec.seq, e));
                }
                Err(err) => bad = Some((rec.seq, err.to_string())),
            }
        })?;
        if let Some((seq, reason)) = bad {
            return Err(ErasureError::Stored { seq, reason });
        }
        let (mut shared_names, names): (Vec<String>, Vec<String>) = names
            .into_iter()
            .map(|n| n.trim().to_string())
            .partition(|n| others.contains(n));
        shared_names.sort();
        shared_names.dedup();
        // the parts of a name that are not the whole of it (a surname
        // alone): found, not erased
        let mut parts: Vec<String> = names
            .iter()
            .flat_map(|n| n.split_whitespace().skip(1).map(str::to_string))
            .filter(|p| p.chars().count() >= 3 && !names.contains(p))
            .collect();
        parts.sort();
        parts.dedup();
        let redactor = Redactor::new(std::iter::once(self.employee.clone()).chain(names));
        let near: Vec<(Redactor, String)> = parts
            .into_iter()
            .map(|p| (Redactor::new([p.clone()]), p))
            .collect();
        let mut near_counts = vec![0u64; near.len()];
        let mut judged = Judged {
            actions: HashMap::new(),
            redactor,
            shared_names,
            near_misses: Vec::new(),
            erased: 0,
            redacted: 0,
        };
        for (seq, event) in events {
            if is_about(&event, &self.employee) {
                judged.actions.insert(seq, Rewrite::Erase);
                judged.erased += 1;
                continue;
            }
            let mut value = event.to_value();
            let changed = judged.redactor.redact_value(&mut value);
            if !near.is_empty() {
                let text = value.to_string();
                for ((r, _), n) in near.iter().zip(near_counts.iter_mut()) {
                    *n += u64::from(r.mentions(&text));
                }
            }
            if !changed {
                continue;
            }
            let redacted = Event::from_value(value).map_err(|e| ErasureError::Redaction {
                seq,
                reason: e.to_string(),
            })?;
            judged
                .actions
                .insert(seq, Rewrite::Replace(redacted.to_json().into_bytes()));
            judged.redacted += 1;
        }
        judged.near_misses = near
            .into_iter()
            .zip(near_counts)
            .filter(|(_, n)| *n > 0)
            .map(|((_, word), n)| (word, n))
            .collect();
        Ok(judged)
    }

    /// The audit log with every mention redacted, and how many entries changed.
    fn audit_redacted(&self, r: &Redactor) -> Result<(Option<String>, u64), ErasureError> {
        let text = match fs::read_to_string(&self.audit_log) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((None, 0)),
            Err(e) => return Err(io(&self.audit_log)(e)),
        };
        let mut changed = 0;
        let mut out = String::with_capacity(text.len());
        for line in text.split_inclusive('\n') {
            match r.redact(line) {
                Some(l) => {
                    changed += 1;
                    out.push_str(&l);
                }
                None => out.push_str(line),
            }
        }
        Ok(((changed > 0).then_some(out), changed))
    }
}

/// Whether the event is one of the person's own records (the event type
/// table says whose record each type is: [`Event::person`]).
fn is_about(e: &Event, employee: &str) -> bool {
    e.person() == Some(employee)
}

fn sync_parent(path: &Path) -> Result<(), ErasureError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Every file under `root` that still mentions the person.
fn leftovers(root: &Path, r: &Redactor) -> Result<Vec<PathBuf>, ErasureError> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).map_err(io(&dir))? {
            let path = entry.map_err(io(&dir))?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if r.mentioned_in(&fs::read(&path).map_err(io(&path))?) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}
