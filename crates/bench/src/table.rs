//! The printed report: one column per organisation size, one row per
//! figure, with the target beside it where the benchmark issue sets one.

use std::io::Write;

use crate::{Report, SizeFigures};

/// `1234567.8` as `1,234,568`.
pub(crate) fn grouped(x: f64) -> String {
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 && digits != "0" {
        out.insert(0, '-');
    }
    out
}

fn mib(bytes: u64) -> String {
    grouped(bytes as f64 / (1024.0 * 1024.0))
}

type Row = (&'static str, fn(&SizeFigures) -> String, &'static str);

const ROWS: &[Row] = &[
    ("events", |f| grouped(f.events as f64), ""),
    ("generate (s)", |f| format!("{:.2}", f.generate_secs), ""),
    (
        "file ingest, durable (events/s)",
        |f| grouped(f.ingest_events_per_sec),
        ">= 300,000",
    ),
    ("  ingest (s)", |f| format!("{:.2}", f.ingest_secs), ""),
    (
        "projection, one core (events/s)",
        |f| grouped(f.projection_events_per_sec),
        ">= 1,000,000",
    ),
    (
        "  log read + decode (s)",
        |f| format!("{:.2}", f.read_secs),
        "",
    ),
    (
        "  read + decode + fold (s)",
        |f| format!("{:.2}", f.replay_secs),
        "",
    ),
    (
        "full recompute (s)",
        |f| format!("{:.3}", f.recompute_secs),
        "< 1 @100k, < 10 @1M",
    ),
    ("  snapshot + pairs, people, once (s)", |f| part(f, 0), ""),
    (
        "    snapshot (s)",
        |f| format!("{:.3}", f.snapshot_secs),
        "",
    ),
    (
        "    pairs, people (s)",
        |f| format!("{:.3}", f.analysis_secs),
        "",
    ),
    ("  gaps (s)", |f| part(f, 1), ""),
    ("  training-needs (s)", |f| part(f, 2), ""),
    ("  succession (s)", |f| part(f, 3), ""),
    ("  nine-box (s)", |f| part(f, 4), ""),
    (
        "freshness, one event (s)",
        |f| {
            format!(
                "{:.3}{}",
                f.freshness_secs,
                if f.freshness_changed {
                    ""
                } else {
                    " (no change!)"
                }
            )
        },
        "< 1 @100k",
    ),
    ("peak RSS, generate (MiB)", |f| mib(f.peak_rss_generate), ""),
    ("peak RSS, ingest (MiB)", |f| mib(f.peak_rss_ingest), ""),
    ("peak RSS, replay (MiB)", |f| mib(f.peak_rss_replay), ""),
    (
        "peak RSS, recompute (MiB)",
        |f| mib(f.peak_rss_recompute),
        "",
    ),
    (
        "log on disk (bytes/event)",
        |f| format!("{:.0}", f.disk_bytes_per_event),
        "",
    ),
    ("employee-competency pairs", |f| grouped(f.pairs as f64), ""),
    (
        "projection state (bytes/pair)",
        |f| format!("{:.0}", f.state_bytes_per_pair),
        "<= 1,024",
    ),
    (
        "figures checked against DuckDB",
        |f| {
            peer(f, |p| match &p.difference {
                None => format!("{} equal", grouped(p.figures as f64)),
                Some(_) => "DIFFER".into(),
            })
        },
        "",
    ),
];

/// The end to end beside DuckDB's, measured two ways: each tool's own clock
/// around the same work, and whole processes. What, cadre's seconds, DuckDB's.
type Versus = (
    &'static str,
    fn(&SizeFigures) -> f64,
    fn(&crate::PeerFigures) -> f64,
);

const VERSUS: &[Versus] = &[
    ("own clock", |f| f.end_to_end_own_secs, |p| p.duckdb_secs),
    ("process", |f| f.end_to_end_secs, |p| p.duckdb_process_secs),
];

fn part(f: &SizeFigures, i: usize) -> String {
    f.recompute_parts_secs
        .get(i)
        .map_or_else(|| "-".into(), |(_, s)| format!("{s:.3}"))
}

fn peer(f: &SizeFigures, show: impl Fn(&crate::PeerFigures) -> String) -> String {
    f.peer.as_ref().map_or_else(|| "-".into(), show)
}

impl Report {
    /// Prints the report as aligned text.
    pub fn print(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let m = &self.machine;
        writeln!(
            w,
            "cadre bench: {} x {}, {} GiB memory, {} build",
            m.cores,
            m.cpu,
            grouped(m.memory_bytes as f64 / (1u64 << 30) as f64),
            m.build
        )?;
        if m.build != "release" {
            writeln!(w, "(a debug build: the figures are not representative)")?;
        }
        writeln!(w)?;
        let label = 34;
        write!(w, "{:<label$}", "employees")?;
        for s in &self.sizes {
            write!(w, " {:>12}", grouped(s.employees as f64))?;
        }
        writeln!(w, "   target")?;
        let mut row = |name: &str, cell: &dyn Fn(&SizeFigures) -> String, target: &str| {
            write!(w, "{name:<label$}")?;
            for s in &self.sizes {
                write!(w, " {:>12}", cell(s))?;
            }
            writeln!(w, "   {target}")
        };
        for (name, cell, target) in ROWS {
            row(name, cell, target)?;
        }
        for (what, cadre, duck) in VERSUS {
            let secs = |x: f64| format!("{x:.2}");
            row(
                &format!("end to end, cadre, {what} (s)"),
                &|f| secs(cadre(f)),
                "",
            )?;
            row(
                &format!("end to end, DuckDB, {what} (s)"),
                &|f| peer(f, |p| secs(duck(p))),
                "",
            )?;
            row(
                &format!("ratio cadre / DuckDB, {what}"),
                &|f| peer(f, |p| secs(cadre(f) / duck(p).max(1e-9))),
                "<= 0.8",
            )?;
        }
        for s in &self.sizes {
            if let Some(d) = s.peer.as_ref().and_then(|p| p.difference.as_ref()) {
                writeln!(
                    w,
                    "\n{} employees: cadre and DuckDB differ: {d}",
                    s.employees
                )?;
            }
        }
        if let Some(l) = &self.load {
            writeln!(
                w,
                "\nHTTP ingest: {} clients x {} events per request, {:.1} s: {} events/s stored \
                 ({} requests, {} errors, {} rejected); latency p50 {:.1} ms, p99 {:.1} ms",
                l.clients,
                l.batch,
                l.wall_secs,
                grouped(l.events_per_sec),
                grouped(l.requests as f64),
                l.errors,
                l.rejected,
                l.p50_ms,
                l.p99_ms
            )?;
        }
        if let Some(k) = &self.kafka {
            writeln!(
                w,
                "\nKafka ({}): {} events published in {:.2} s; consumed ({} messages) and stored in {:.2} s: {} events/s",
                k.brokers,
                grouped(k.events as f64),
                k.produce_secs,
                grouped(k.messages as f64),
                k.consume_secs,
                grouped(k.consume_events_per_sec)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0.4), "0");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(grouped(1000.0), "1,000");
        assert_eq!(grouped(1_234_567.8), "1,234,568");
        assert_eq!(grouped(-12345.0), "-12,345");
    }
}
