//! The figures of one organisation size: generate, ingest, read back,
//! project, recompute, one new event to fresh figures, memory, disk, and the
//! DuckDB peer on the same file.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use cadre_analytics::{AnalyticsConfig, Prepared, QueryKind, QueryOutput, QueryRequest, Scope};
use cadre_ingest::Ingestor;
use cadre_model::Event;
use cadre_projection::{LevelPolicy, Timeline};
use cadre_store::{ReadBack, StoreLayout, StoreReader};
use serde::Serialize;

use crate::{as_of, io, memory, peer, BenchError, Options, PeerFigures};

/// The figures of one organisation size.
#[derive(Debug, Clone, Serialize)]
pub struct SizeFigures {
    /// Employees generated.
    pub employees: usize,
    /// Events generated (lines of the NDJSON file).
    pub events: u64,
    /// Size of the NDJSON file.
    pub ndjson_bytes: u64,
    /// Seconds to generate and write the NDJSON.
    pub generate_secs: f64,
    /// Seconds of `cadre ingest`'s work: parse, validate, append, fsync per batch.
    pub ingest_secs: f64,
    /// Events per second of the file ingest.
    pub ingest_events_per_sec: f64,
    /// Seconds from the NDJSON file to the gap tables, wall clock, of
    /// `cadre query gaps --import FILE --format json` in a process of its own
    /// on a fresh data directory: the file ingested, every stored event folded
    /// as it is stored, then the snapshot, the frames and every gap table
    /// written out.
    pub end_to_end_secs: f64,
    /// The same command's own clock (`--timings`): from its start to the gap
    /// tables computed, before they are written out and the process exits.
    pub end_to_end_own_secs: f64,
    /// Seconds to read the log back and decode every event (no projection).
    pub read_secs: f64,
    /// Seconds of the projection alone: folding the decoded events into the timeline, one thread.
    pub projection_secs: f64,
    /// Events per second of the projection alone (one thread).
    pub projection_events_per_sec: f64,
    /// Seconds to read, decode and fold the whole log (a cold start), the fold timed in chunks.
    pub replay_secs: f64,
    /// Seconds of each step of the full recompute, in order: prepare (the
    /// snapshot and the frames, once), gaps, training-needs, succession, nine-box.
    pub recompute_parts_secs: Vec<(String, f64)>,
    /// Seconds to take the snapshot as of the end of the year (every query's first step).
    pub snapshot_secs: f64,
    /// Seconds to build the pairs and people frames from it (every gap query's second step).
    pub analysis_secs: f64,
    /// Seconds of the full recompute (the sum of the parts).
    pub recompute_secs: f64,
    /// Seconds from one new event (stored durably) to the gap tables that include it.
    pub freshness_secs: f64,
    /// Whether that event changed the gap tables (it should).
    pub freshness_changed: bool,
    /// Peak resident memory while generating.
    pub peak_rss_generate: u64,
    /// Peak resident memory during the ingest.
    pub peak_rss_ingest: u64,
    /// Peak resident memory during the replay (the projection's build).
    pub peak_rss_replay: u64,
    /// Peak resident memory during the recompute.
    pub peak_rss_recompute: u64,
    /// Bytes of the event log on disk, per event.
    pub disk_bytes_per_event: f64,
    /// Employee-competency pairs the gap analysis covers.
    pub pairs: usize,
    /// Memory the built projection holds, per employee-competency pair: heap
    /// bytes allocated by the fold and still held (resident set growth when
    /// the binary does not count its heap).
    pub state_bytes_per_pair: f64,
    /// The DuckDB peer on the same file.
    pub peer: Option<PeerFigures>,
}

/// Events decoded ahead of each timed fold.
const FOLD_CHUNK: usize = 65_536;

/// Folds and empties `chunk`; the seconds it took.
fn fold(timeline: &mut Timeline, chunk: &mut Vec<(u64, Event)>) -> f64 {
    let started = Instant::now();
    for (seq, e) in chunk.drain(..) {
        timeline.apply(seq, &e);
    }
    secs(started)
}

fn secs(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}

fn rate(n: u64, secs: f64) -> f64 {
    n as f64 / secs.max(1e-9)
}

/// Sums the sizes of the files in `dir`.
fn dir_bytes(dir: &Path) -> Result<u64, BenchError> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).map_err(io(format!("cannot list {}", dir.display())))? {
        let entry = entry.map_err(io(format!("cannot list {}", dir.display())))?;
        let meta = entry
            .metadata()
            .map_err(io(format!("cannot stat {}", entry.path().display())))?;
        if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}

fn request(kind: QueryKind, end: chrono::NaiveDate) -> QueryRequest {
    QueryRequest {
        kind,
        scope: Scope::all(),
        as_of: as_of(end),
        months: 12,
        employee: None,
        position: None,
    }
}

/// The last assessment in the file of someone still employed, as a new
/// event that moves its level: what an HRIS would send next.
fn next_assessment(
    events: &Path,
    end: chrono::NaiveDate,
    gaps: &QueryOutput,
) -> Result<String, BenchError> {
    let json = gaps.to_json();
    let active: std::collections::HashSet<&str> = json["tables"]["employees"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["employee_id"].as_str())
        .collect();
    use std::io::BufRead;
    let file =
        std::fs::File::open(events).map_err(io(format!("cannot read {}", events.display())))?;
    let mut last = None;
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(io(format!("cannot read {}", events.display())))?;
        if line.contains("\"assessment.recorded\"")
            && crate::subject_of(&line).is_some_and(|s| active.contains(s))
        {
            last = Some(line);
        }
    }
    let line =
        last.ok_or_else(|| BenchError::Check("no assessment in the generated file".into()))?;
    let mut v: serde_json::Value = serde_json::from_str(&line)
        .map_err(|e| BenchError::Check(format!("generated JSON: {e}")))?;
    let at = (as_of(end) - chrono::Duration::hours(1)).to_rfc3339();
    v["event_id"] = uuid::Uuid::new_v4().to_string().into();
    v["occurred_at"] = at.clone().into();
    v["recorded_at"] = at.into();
    let level = v["data"]["level"].as_u64().unwrap_or(1);
    v["data"]["level"] = (if level > 1 { 1 } else { 2 }).into();
    v["data"]["assessor_type"] = "panel".into();
    Ok(v.to_string())
}

/// What the full recompute leaves: each part's seconds, the gap tables, and
/// the snapshot and frames of the date, kept for the freshness figure.
struct Recomputed {
    parts: Vec<(String, f64)>,
    gaps: QueryOutput,
    prepared: Prepared,
}

fn recompute(
    t: &Timeline,
    policy: &LevelPolicy,
    cfg: &AnalyticsConfig,
    end: chrono::NaiveDate,
) -> Result<Recomputed, BenchError> {
    // one snapshot and one set of frames for the four, as the ClickHouse export does
    let started = Instant::now();
    let prepared = cadre_analytics::Prepared::new(t, policy, cfg, as_of(end))?;
    let mut parts = vec![("prepare".to_string(), secs(started))];
    let mut gaps = None;
    for kind in [
        QueryKind::Gaps,
        QueryKind::TrainingNeeds,
        QueryKind::Succession,
        QueryKind::NineBox,
    ] {
        let started = Instant::now();
        let out = cadre_analytics::run_prepared(&prepared, t, policy, cfg, &request(kind, end))?;
        parts.push((kind.name().to_string(), secs(started)));
        if kind == QueryKind::Gaps {
            gaps = Some(out);
        } else {
            black_box(out);
        }
    }
    Ok(Recomputed {
        parts,
        gaps: gaps.expect("gaps is computed first"),
        prepared,
    })
}

/// From the NDJSON file to the gap tables as a user gets them: `cadre query
/// gaps --import FILE --format json` in a process of its own, on a fresh data
/// directory (removed after): the import folds every event as it stores it,
/// and the answer is written to a file. Returns the wall time, the command's
/// own clock up to the tables computed (`--timings`), and that file (read
/// only when it is compared, so that this process does not hold it through
/// the phases whose memory it measures).
fn end_to_end(
    options: &Options,
    dir: &Path,
    events_path: &Path,
) -> Result<(f64, f64, std::path::PathBuf), BenchError> {
    let data = dir.join("end-to-end");
    let answer = dir.join("end-to-end.json");
    let mut command = std::process::Command::new(&options.exe);
    command
        .env_remove("CADRE_CONFIG")
        .env_remove("CADRE_DATA_DIR")
        .arg("--data-dir")
        .arg(&data)
        .args(["query", "gaps", "--quiet", "--timings", "--format", "json"])
        .args(["--as-of", &options.end.to_string()])
        .args(["--batch-size", &options.batch_size.to_string()])
        .arg("--import")
        .arg(events_path)
        .arg("--output")
        .arg(&answer);
    let started = Instant::now();
    let out = command
        .output()
        .map_err(io(format!("cannot run {}", options.exe.display())))?;
    let secs = secs(started);
    if !out.status.success() {
        return Err(BenchError::Check(format!(
            "{} query gaps --import failed ({}): {}",
            options.exe.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let own = stderr
        .lines()
        .find(|l| l.starts_with("cadre "))
        .and_then(peer::total_secs)
        .ok_or_else(|| BenchError::Check(format!("no timings from query --timings: {stderr}")))?;
    std::fs::remove_dir_all(&data).map_err(io(format!("cannot remove {}", data.display())))?;
    Ok((secs, own, answer))
}

/// Where the answer written to `path` first differs from `expected`; the
/// file is removed after.
fn differs_from(path: &Path, expected: &QueryOutput) -> Result<Option<String>, BenchError> {
    let text =
        std::fs::read_to_string(path).map_err(io(format!("cannot read {}", path.display())))?;
    let answer: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| BenchError::Check(format!("{}: {e}", path.display())))?;
    std::fs::remove_file(path).map_err(io(format!("cannot remove {}", path.display())))?;
    Ok(cadre_analytics::first_difference(
        &answer,
        &expected.to_json(),
    ))
}

/// Measures one organisation size from scratch.
pub(crate) fn measure(
    options: &Options,
    employees: usize,
    progress: &mut dyn FnMut(&str),
) -> Result<SizeFigures, BenchError> {
    let dir = options.work_dir.join(format!("n{employees}"));
    crate::fresh_dir(&dir)?;
    let events_path = dir.join("events.ndjson");
    let layout = StoreLayout::new(dir.join("data"));
    let policy = LevelPolicy::default();
    let cfg = AnalyticsConfig::default();

    progress(&format!("{employees} employees: generating"));
    memory::reset_peak();
    let started = Instant::now();
    let events = crate::write_events(options, employees, options.seed, &events_path)?;
    let generate_secs = secs(started);
    let peak_rss_generate = memory::peak_bytes();
    let ndjson_bytes = std::fs::metadata(&events_path)
        .map_err(io(format!("cannot stat {}", events_path.display())))?
        .len();

    let peer_run = match &options.peer {
        Some(p) => {
            progress(&format!("{employees} employees: DuckDB on the same file"));
            Some(peer::run(p, &events_path, options.end)?)
        }
        None => None,
    };
    // right after the peer, in the same state of the machine: two fresh
    // processes, one after the other, before this one grows
    progress(&format!(
        "{employees} employees: end to end, cadre query gaps --import (a process of its own)"
    ));
    let (end_to_end_secs, end_to_end_own_secs, answer) = end_to_end(options, &dir, &events_path)?;

    progress(&format!("{employees} employees: ingesting {events} events"));
    memory::reset_peak();
    let started = Instant::now();
    let (mut ingestor, _) = Ingestor::open(&layout)?;
    let summary =
        cadre_ingest::import_file(&mut ingestor, &events_path, options.batch_size, |_, _| {})?;
    let ingest_secs = secs(started);
    let peak_rss_ingest = memory::peak_bytes();
    if summary.accepted != events {
        return Err(BenchError::Check(format!(
            "ingest stored {} of {events} events ({} duplicate, {} rejected)",
            summary.accepted, summary.duplicate, summary.rejected
        )));
    }
    drop(ingestor);
    let disk_bytes_per_event = dir_bytes(&layout.log_dir())? as f64 / events as f64;

    progress(&format!("{employees} employees: reading the log back"));
    let reader = StoreReader::open(&layout)?;
    let started = Instant::now();
    let mut read = 0u64;
    reader.replay(|seq, e| {
        read += 1;
        black_box((seq, e));
    })?;
    let read_secs = secs(started);
    if read != events {
        return Err(BenchError::Check(format!(
            "read {read} of {events} events back"
        )));
    }

    progress(&format!("{employees} employees: projecting"));
    memory::reset_peak();
    let started = Instant::now();
    let (folded, state_bytes) = memory::kept_by(|| -> Result<_, BenchError> {
        let mut timeline = Timeline::new();
        // decoded events are folded in chunks, and only the fold is timed
        let mut chunk: Vec<(u64, Event)> = Vec::with_capacity(FOLD_CHUNK);
        let mut fold_secs = 0.0;
        reader.replay(|seq, e| {
            chunk.push((seq, e));
            if chunk.len() == FOLD_CHUNK {
                fold_secs += fold(&mut timeline, &mut chunk);
            }
        })?;
        fold_secs += fold(&mut timeline, &mut chunk);
        Ok((timeline, fold_secs))
    });
    let (mut timeline, fold_secs) = folded?;
    let replay_secs = secs(started);
    let peak_rss_replay = memory::peak_bytes();
    drop(reader);
    let projection_secs = fold_secs.max(1e-9);
    // the two steps every query starts with, timed on their own
    let started = Instant::now();
    let snapshot = timeline.snapshot(as_of(options.end), &policy);
    let snapshot_secs = secs(started);
    let started = Instant::now();
    let analysis = cadre_analytics::Analysis::with_config(&snapshot, cfg.clone())?;
    let analysis_secs = secs(started);
    let pairs = analysis.pairs().height();
    drop((analysis, snapshot));

    progress(&format!("{employees} employees: recomputing the analytics"));
    memory::reset_peak();
    let Recomputed {
        parts: recompute_parts_secs,
        gaps,
        mut prepared,
    } = recompute(&timeline, &policy, &cfg, options.end)?;
    let peak_rss_recompute = memory::peak_bytes();
    let recompute_secs = recompute_parts_secs.iter().map(|(_, s)| s).sum();

    progress(&format!("{employees} employees: one new event"));
    let line = next_assessment(&events_path, options.end, &gaps)?;
    let (mut ingestor, _) = Ingestor::open(&layout)?;
    // as `cadre serve` does: the projection remembers which employees the
    // next events touch, and the kept snapshot and frames of the date are
    // brought up to date by those employees alone
    timeline.track_changes(16);
    let gaps_request = request(QueryKind::Gaps, options.end);
    let started = Instant::now();
    let batch = ingestor.ingest("bench", vec![cadre_ingest::parse_line(1, &line)])?;
    for (seq, e) in &batch.stored {
        timeline.apply(*seq, e);
    }
    prepared.refresh(&timeline, &policy, &cfg)?;
    let fresh = cadre_analytics::run_prepared(&prepared, &timeline, &policy, &cfg, &gaps_request)?;
    let freshness_secs = secs(started);
    drop(prepared);
    let anew = cadre_analytics::run_query(&timeline, &policy, &cfg, &gaps_request)?;
    if let Some(at) = cadre_analytics::first_difference(&fresh.to_json(), &anew.to_json()) {
        return Err(BenchError::Check(format!(
            "the gap tables brought up to date after one event differ from the same tables computed anew at {at}"
        )));
    }
    if batch.stored.len() != 1 {
        return Err(BenchError::Check(format!(
            "the new event was not stored: {:?}",
            batch.outcomes
        )));
    }
    let freshness_changed = fresh.to_json()["tables"] != gaps.to_json()["tables"];
    drop((ingestor, timeline));

    if let Some(at) = differs_from(&answer, &gaps)? {
        return Err(BenchError::Check(format!(
            "the gap tables of `cadre query gaps --import` differ from those of the log read back at {at}"
        )));
    }

    let peer = peer_run.map(|r| peer::figures(r, &gaps, (end_to_end_own_secs, end_to_end_secs)));
    if !options.keep {
        std::fs::remove_dir_all(&dir).map_err(io(format!("cannot remove {}", dir.display())))?;
    }
    Ok(SizeFigures {
        employees,
        events,
        ndjson_bytes,
        generate_secs,
        ingest_secs,
        ingest_events_per_sec: rate(events, ingest_secs),
        end_to_end_secs,
        end_to_end_own_secs,
        read_secs,
        projection_secs,
        projection_events_per_sec: rate(events, projection_secs),
        replay_secs,
        recompute_parts_secs,
        recompute_secs,
        snapshot_secs,
        analysis_secs,
        freshness_secs,
        freshness_changed,
        peak_rss_generate,
        peak_rss_ingest,
        peak_rss_replay,
        peak_rss_recompute,
        disk_bytes_per_event,
        pairs,
        state_bytes_per_pair: state_bytes as f64 / pairs.max(1) as f64,
        peer,
    })
}
