//! The commands behind the CLI.

use std::fs::{self, File};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use cadre_analytics::{QueryKind, QueryRequest, Scope, Table};
use cadre_ingest::{import_file, ImportSummary, Ingestor, StoreLayout, StoreReader};
use cadre_projection::Timeline;
use cadre_server::{ServerConfig, Service};
use cadre_synth::SynthConfig;
use indicatif::{ProgressBar, ProgressStyle};

use crate::settings::Settings;
use crate::{
    Cli, Command, DemoArgs, ExportArgs, Format, GenerateArgs, IngestArgs, QueryArgs, ServeArgs,
    SynthArgs,
};

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let data = cli.global.data_dir;
    let settings = || Settings::load(cli.global.config.as_deref(), &data);
    match cli.command {
        Command::Demo(a) => demo(&data, a, settings()?),
        Command::Generate(a) => generate(a),
        Command::Ingest(a) => ingest(&data, a),
        Command::Serve(a) => serve(&data, a, settings()?),
        Command::Query(a) => query(&data, a, settings()?),
        Command::Status => status(&data),
        Command::Export(a) => export(&data, a),
        Command::DeadLetters => dead_letters(&data),
    }
}

fn synth_config(a: &SynthArgs) -> SynthConfig {
    let mut c = SynthConfig::new(a.employees, a.seed);
    if let Some(end) = a.end_date {
        c.end = end;
    }
    c
}

fn output(path: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    })
}

/// Writes the organisation as NDJSON; returns the number of events.
fn write_synth(config: &SynthConfig, out: &mut dyn Write) -> Result<u64> {
    let mut err = None;
    let n = cadre_synth::generate(config, &mut |e| {
        if err.is_none() {
            if let Err(e) = writeln!(out, "{}", e.to_json()) {
                err = Some(e);
            }
        }
    });
    if let Some(e) = err {
        return Err(e).context("cannot write events");
    }
    out.flush().context("cannot write events")?;
    Ok(n)
}

fn generate(a: GenerateArgs) -> Result<ExitCode> {
    let mut out = output(a.output.as_deref())?;
    let n = write_synth(&synth_config(&a.synth), &mut out)?;
    if a.output.is_some() {
        eprintln!("wrote {n} events");
    }
    Ok(ExitCode::SUCCESS)
}

fn open(data: &Path) -> Result<Ingestor> {
    let (ingestor, recoveries) = Ingestor::open(&StoreLayout::new(data))
        .with_context(|| format!("cannot open the data directory {}", data.display()))?;
    for r in recoveries {
        eprintln!(
            "recovered {}: dropped a damaged tail of {} bytes at byte {} ({}); events acknowledged before it are intact",
            r.segment.display(),
            r.dropped_bytes,
            r.truncated_at,
            r.reason
        );
    }
    Ok(ingestor)
}

fn import(
    ingestor: &mut Ingestor,
    files: &[PathBuf],
    batch_size: usize,
    quiet: bool,
) -> Result<ImportSummary> {
    if batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    let mut total = ImportSummary::default();
    for path in files {
        let size = fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        let bar = if quiet || !io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(size)
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(path.display().to_string());
        let s = import_file(ingestor, path, batch_size, |bytes, _| bar.set_position(bytes))
        .with_context(|| format!("import of {} stopped; what was reported before is stored, run the same command again to finish", path.display()))?;
        bar.finish_and_clear();
        eprintln!(
            "{}: {} lines, {} accepted, {} duplicate, {} rejected",
            path.display(),
            s.lines,
            s.accepted,
            s.duplicate,
            s.rejected
        );
        total.lines += s.lines;
        total.accepted += s.accepted;
        total.duplicate += s.duplicate;
        total.rejected += s.rejected;
    }
    Ok(total)
}

fn ingest(data: &Path, a: IngestArgs) -> Result<ExitCode> {
    let mut ingestor = open(data)?;
    let total = import(&mut ingestor, &a.files, a.batch_size, a.quiet)?;
    if a.files.len() > 1 {
        eprintln!(
            "total: {} lines, {} accepted, {} duplicate, {} rejected",
            total.lines, total.accepted, total.duplicate, total.rejected
        );
    }
    if total.rejected > 0 {
        eprintln!(
            "see the reasons with: cadre dead-letters --data-dir {}",
            data.display()
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// The ingest token: given, or read from (or created in) the data directory.
fn ingest_token(data: &Path, given: Option<String>) -> Result<String> {
    if let Some(t) = given.filter(|t| !t.trim().is_empty()) {
        return Ok(t.trim().to_string());
    }
    let path = data.join("ingest.token");
    if let Ok(t) = fs::read_to_string(&path) {
        if !t.trim().is_empty() {
            return Ok(t.trim().to_string());
        }
    }
    fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    let token = format!("{}", uuid::Uuid::new_v4().simple());
    let mut f = fs::OpenOptions::new();
    f.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut f, 0o600);
    f.open(&path)
        .and_then(|mut f| f.write_all(token.as_bytes()))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(token)
}

fn run_server(
    ingestor: Ingestor,
    settings: Settings,
    addr: SocketAddr,
    token: String,
    announce: impl FnOnce(&str),
) -> Result<ExitCode> {
    let config = ServerConfig {
        addr,
        ingest_token: token,
        policy: settings.levels,
        analytics: settings.analytics,
    };
    let service = Arc::new(Service::new(ingestor, &config).context("cannot fold the event log")?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!("cannot listen on {addr}; is another cadre running? pick another --port")
        })?;
        announce(&format!("http://{}", listener.local_addr()?));
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("stopping");
        };
        axum::serve(listener, cadre_server::router(service))
            .with_graceful_shutdown(shutdown)
            .await
            .context("server failed")
    })?;
    Ok(ExitCode::SUCCESS)
}

fn serve(data: &Path, a: ServeArgs, settings: Settings) -> Result<ExitCode> {
    let ingestor = open(data)?;
    let token = ingest_token(data, a.token)?;
    let addr = SocketAddr::new(a.bind, a.port);
    run_server(ingestor, settings, addr, token, |url| {
        eprintln!("cadre is serving {url} (dashboard), {url}/v1/events (ingest), {url}/metrics");
    })
}

fn demo(data: &Path, a: DemoArgs, settings: Settings) -> Result<ExitCode> {
    let config = synth_config(&a.synth);
    fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    let file = data.join("demo-events.ndjson");
    eprintln!(
        "generating {} employees (seed {}, year ending {}) into {}",
        config.employees,
        config.seed,
        config.end,
        file.display()
    );
    let n = write_synth(&config, &mut output(Some(&file))?)?;
    eprintln!("generated {n} events; ingesting them like any other file");
    let mut ingestor = open(data)?;
    import(&mut ingestor, std::slice::from_ref(&file), 5000, false)?;
    eprintln!(
        "the log holds {} events ({} dead letters)",
        ingestor.log().len(),
        ingestor.dead_letters()
    );
    if a.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    let token = ingest_token(data, None)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], a.port));
    let shown = token.clone();
    run_server(ingestor, settings, addr, token, move |url| {
        eprintln!();
        eprintln!("  dashboard:    {url}/");
        eprintln!("  ingest:       curl -H 'Authorization: Bearer {shown}' --data-binary @events.ndjson {url}/v1/events");
        eprintln!("  metrics:      {url}/metrics");
        eprintln!();
        eprintln!("press Ctrl-C to stop");
    })
}

fn reader(data: &Path) -> Result<StoreReader> {
    if !data.exists() {
        bail!(
            "no data directory at {}; ingest events first (cadre ingest FILE, or cadre demo)",
            data.display()
        );
    }
    StoreReader::open(&StoreLayout::new(data))
        .with_context(|| format!("cannot read {}", data.display()))
}

fn status(data: &Path) -> Result<ExitCode> {
    let store = reader(data)?;
    let mut latest = None;
    let mut events = 0u64;
    let mut types = std::collections::BTreeMap::<&'static str, u64>::new();
    store.replay(|_, e| {
        events += 1;
        latest = latest.max(Some(e.occurred_at));
        *types.entry(e.event_type().as_str()).or_default() += 1;
    })?;
    let out = serde_json::json!({
        "data_dir": data.display().to_string(),
        "events": events,
        "dead_letters": store.read_dead_letters()?.len(),
        "log_bytes": store.log_bytes(),
        "latest_occurred_at": latest,
        "events_by_type": types,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

fn export(data: &Path, a: ExportArgs) -> Result<ExitCode> {
    let store = reader(data)?;
    let mut out = output(a.output.as_deref())?;
    let mut err = None;
    store.replay(|_, e| {
        if err.is_none() {
            err = writeln!(out, "{}", e.to_json()).err();
        }
    })?;
    if let Some(e) = err {
        return Err(e).context("cannot write events");
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn dead_letters(data: &Path) -> Result<ExitCode> {
    let store = reader(data)?;
    let mut out = io::stdout().lock();
    for d in store.read_dead_letters()? {
        writeln!(out, "{}", serde_json::to_string(&d)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn query(data: &Path, a: QueryArgs, settings: Settings) -> Result<ExitCode> {
    let kind = QueryKind::parse(&a.kind).expect("clap checks the kind");
    let as_of = cadre_analytics::parse_as_of(a.as_of.as_deref()).map_err(anyhow::Error::msg)?;
    let store = reader(data)?;
    let mut timeline = Timeline::new();
    store.replay(|seq, e| timeline.apply(seq, &e))?;
    let request = QueryRequest {
        kind,
        scope: Scope {
            org_unit: a.org_unit,
            category: a.category,
            role: a.role,
        },
        as_of,
        months: a.months.clamp(1, 120),
        employee: a.employee,
        position: a.position,
    };
    let out =
        cadre_analytics::run_query(&timeline, &settings.levels, &settings.analytics, &request)?;
    let pick = || -> Result<&cadre_analytics::DataFrame> {
        match &a.table {
            None => Ok(&out.tables[0].1),
            Some(name) => out
                .tables
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, d)| d)
                .with_context(|| {
                    let names: Vec<&str> = out.tables.iter().map(|(n, _)| n.as_str()).collect();
                    format!(
                        "no table {name:?} in {}; tables: {}",
                        kind.name(),
                        names.join(", ")
                    )
                }),
        }
    };
    match a.format {
        Format::Json => {
            let mut w = output(a.output.as_deref())?;
            writeln!(w, "{}", serde_json::to_string_pretty(&out.to_json())?)?;
            w.flush()?;
        }
        Format::Csv => {
            let mut w = output(a.output.as_deref())?;
            Table::from_frame(pick()?).write_csv(&mut w)?;
            w.flush()?;
        }
        Format::Parquet => {
            let Some(path) = a.output.as_deref() else {
                bail!("--format parquet writes a file: add --output FILE.parquet");
            };
            let f =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            cadre_analytics::write_parquet(pick()?, f)?;
        }
        Format::Table => {
            let mut w = output(a.output.as_deref())?;
            writeln!(w, "{} as of {}", kind.name(), out.as_of.to_rfc3339())?;
            if let Some(summary) = &out.summary {
                if let Some(obj) = summary.as_object() {
                    for (k, v) in obj {
                        writeln!(w, "  {k}: {}", cadre_analytics::cell_text(v))?;
                    }
                }
            }
            for (name, df) in &out.tables {
                if a.table.as_ref().is_some_and(|t| t != name) {
                    continue;
                }
                writeln!(w, "\n{name}")?;
                crate::render::text_table(&Table::from_frame(df), &mut w)?;
            }
            w.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
