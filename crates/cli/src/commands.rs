//! The commands behind the CLI.

use std::fs::{self, File};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use cadre_access::{hash_token, Access, Role, TokenEntry};
use cadre_analytics::{QueryKind, QueryRequest, Scope, Table};
use cadre_engine::{Engine, EngineConfig, RunOptions};
use cadre_ingest::{import_file, ImportSummary, Ingestor, StoreLayout, StoreReader};
use cadre_server::{ServerConfig, Service};
use cadre_synth::SynthConfig;
use indicatif::{ProgressBar, ProgressStyle};

use crate::settings::Settings;
use crate::{
    Cli, Command, ConsumeArgs, DemoArgs, EraseArgs, ExportArgs, Format, GenerateArgs, IngestArgs,
    KafkaArgs, ProduceArgs, QueryArgs, ReportArgs, ReportFormat, ServeArgs, SynthArgs, TokenAction,
    TokenArgs,
};

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let data = cli.global.data_dir;
    let settings = || Settings::load(cli.global.config.as_deref(), &data);
    match cli.command {
        Command::Demo(a) => demo(&data, a, settings()?),
        Command::Generate(a) => generate(a),
        Command::Ingest(a) => ingest(&data, a, settings()?),
        Command::Serve(a) => serve(&data, a, settings()?),
        Command::Query(a) => query(&data, a, settings()?),
        Command::Report(a) => report(&data, a, settings()?),
        Command::Produce(a) => produce(a, settings()?),
        Command::Consume(a) => consume(&data, a, settings()?),
        Command::Clickhouse(c) => crate::warehouse::run(&data, c, settings()?),
        Command::Token(a) => token(a),
        Command::Config => {
            let s = settings()?;
            print!(
                "{}",
                toml::to_string(&s).context("cannot print the configuration")?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Status => status(&data),
        Command::Export(a) => export(&data, a),
        Command::DeadLetters => dead_letters(&data),
        Command::Erase(a) => erase(&data, a),
        Command::Bench(a) => crate::bench::run(a),
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

fn open(data: &Path, settings: &Settings) -> Result<Ingestor> {
    let (mut ingestor, recoveries) = Ingestor::open(&StoreLayout::new(data))
        .with_context(|| format!("cannot open the data directory {}", data.display()))?;
    ingestor.set_config(settings.ingest.clone());
    report_recoveries(&recoveries);
    Ok(ingestor)
}

fn report_recoveries(recoveries: &[cadre_log::Recovery]) {
    for r in recoveries {
        eprintln!(
            "recovered {}: dropped a damaged tail of {} bytes at byte {} ({}); events acknowledged before it are intact",
            r.segment.display(),
            r.dropped_bytes,
            r.truncated_at,
            r.reason
        );
    }
}

/// The engine's settings from the configuration; with `checkpoints`, it
/// keeps its projection checkpoint up to date as it goes.
fn engine_config(settings: &Settings, checkpoints: bool) -> EngineConfig {
    EngineConfig {
        policy: settings.levels.clone(),
        analytics: settings.analytics.clone(),
        ingest: settings.ingest.clone(),
        checkpoints: checkpoints.then(|| settings.checkpoint.clone()),
    }
}

/// Opens a data directory as its writer, with the projection restored.
fn open_engine(data: &Path, settings: &Settings, checkpoints: bool) -> Result<Engine> {
    let engine = Engine::open(data, engine_config(settings, checkpoints))
        .with_context(|| format!("cannot open the data directory {}", data.display()))?;
    report_recoveries(&engine.restored().recoveries);
    warn_ignored(&engine);
    Ok(engine)
}

/// Opens a data directory to read its projection (safe beside a running writer).
pub(crate) fn read_engine(data: &Path, settings: &Settings) -> Result<Engine> {
    let engine = Engine::read(data, engine_config(settings, false))
        .with_context(|| format!("cannot read {}", data.display()))?;
    warn_ignored(&engine);
    Ok(engine)
}

fn warn_ignored(engine: &Engine) {
    if let Some(why) = &engine.restored().ignored {
        eprintln!("warning: ignored the projection checkpoint ({why}); folded the whole log");
    }
}

/// Imports `files` in order with a progress bar each, each through `run`
/// (the store alone, or the engine that folds as it stores).
fn import(
    files: &[PathBuf],
    batch_size: usize,
    quiet: bool,
    mut run: impl FnMut(&Path, usize, &ProgressBar) -> Result<ImportSummary>,
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
        let s = run(path, batch_size, &bar)
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

/// Imports through the store alone: nothing is folded (the next reader folds).
fn store_only(
    ingestor: &mut Ingestor,
) -> impl FnMut(&Path, usize, &ProgressBar) -> Result<ImportSummary> + '_ {
    move |path, batch_size, bar| {
        let bar = bar.clone();
        Ok(import_file(ingestor, path, batch_size, move |bytes, _| {
            bar.set_position(bytes)
        })?)
    }
}

/// Imports through the engine: stored, folded and told to subscribers.
fn through(
    engine: &Engine,
) -> impl FnMut(&Path, usize, &ProgressBar) -> Result<ImportSummary> + '_ {
    move |path, batch_size, bar| {
        let bar = bar.clone();
        Ok(engine.import(path, batch_size, move |bytes| bar.set_position(bytes))?)
    }
}

fn ingest(data: &Path, a: IngestArgs, settings: Settings) -> Result<ExitCode> {
    let mut ingestor = open(data, &settings)?;
    let total = import(&a.files, a.batch_size, a.quiet, store_only(&mut ingestor))?;
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

/// A token entry for a token held in clear by this process.
fn entry(name: &str, role: Role, scope: Option<&str>, token: &str) -> TokenEntry {
    TokenEntry {
        name: name.into(),
        role,
        scope: scope.map(str::to_string),
        employee: None,
        token_sha256: hash_token(token),
    }
}

/// Tokens of this run: the configured ones, the ingest token, and an admin
/// token when the configuration names no admin. Returns the access rules and
/// the (ingest, admin) tokens to show.
fn tokens(
    data: &Path,
    settings: &Settings,
    given_ingest: Option<String>,
    extra: &[(String, Role, Option<String>, String)],
) -> Result<(Access, String, Option<String>)> {
    let mut cfg = settings.access.clone();
    let ingest = token_file(data, "ingest.token", given_ingest)?;
    cfg.tokens
        .push(entry("ingest", Role::Ingest, None, &ingest));
    let admin = if cfg.tokens.iter().any(|t| t.role == Role::Admin) {
        None
    } else {
        let t = token_file(data, "admin.token", None)?;
        cfg.tokens.push(entry("admin", Role::Admin, None, &t));
        Some(t)
    };
    for (name, role, scope, token) in extra {
        cfg.tokens.push(entry(name, *role, scope.as_deref(), token));
    }
    let access = Access::new(&cfg).context("the [access] configuration is not valid")?;
    Ok((access, ingest, admin))
}

/// A token: given, or read from (or created in) `DATA_DIR/file`, mode 0600.
fn token_file(data: &Path, file: &str, given: Option<String>) -> Result<String> {
    if let Some(t) = given.filter(|t| !t.trim().is_empty()) {
        return Ok(t.trim().to_string());
    }
    let path = data.join(file);
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

/// The scale-out parts `serve` runs with, when asked.
#[derive(Default)]
struct ScaleOut {
    /// Consume the Kafka events topic.
    kafka: Option<cadre_kafka::KafkaConfig>,
    /// Keep ClickHouse up to date.
    clickhouse: Option<cadre_clickhouse::ClickHouseConfig>,
}

fn run_server(
    engine: Engine,
    settings: Settings,
    addr: SocketAddr,
    access: Access,
    scale_out: ScaleOut,
    announce: impl FnOnce(&str),
) -> Result<ExitCode> {
    let ScaleOut { kafka, clickhouse } = scale_out;
    // a bad certificate stops the start, before anything else is opened
    let tls = settings.tls.acceptor()?;
    let data = engine.layout().root.clone();
    let config = ServerConfig {
        access,
        audit_log: engine.layout().audit_log_path(),
        limits: settings.server,
    };
    let engine = Arc::new(engine);
    let service = Arc::new(Service::new(engine.clone(), &config)?);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let consumer = kafka
        .map(|cfg| kafka_into_engine(cfg, engine.clone(), stop.clone()))
        .transpose()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (stop_export, stopped) = tokio::sync::watch::channel(false);
    let exporter = clickhouse
        .map(|cfg| crate::warehouse::attach(&engine, &cfg, &data, &rt, stopped))
        .transpose()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!("cannot listen on {addr}; is another cadre running? pick another --port")
        })?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        announce(&format!("{scheme}://{}", listener.local_addr()?));
        let shutdown = async {
            stop_signal().await;
            eprintln!("stopping");
        };
        cadre_server::serve(service, listener, tls, shutdown)
            .await
            .context("server failed")
    })?;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(c) = consumer {
        let _ = c.join();
    }
    // the next start folds only what comes after
    engine.checkpoint();
    let _ = stop_export.send(true);
    if let Some(e) = exporter {
        // what is not yet in ClickHouse stays in the log and goes at the next start
        let _ = rt.block_on(tokio::time::timeout(std::time::Duration::from_secs(10), e));
    }
    Ok(ExitCode::SUCCESS)
}

/// Consumes the Kafka events topic into a running engine until `stop`:
/// each batch is stored and projected before its offsets are committed.
/// Failures are logged and retried; nothing uncommitted is lost.
fn kafka_into_engine(
    cfg: cadre_kafka::KafkaConfig,
    engine: Arc<Engine>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Result<std::thread::JoinHandle<()>> {
    let mut source = cadre_kafka::Source::new(&cfg)
        .with_context(|| format!("cannot join group {} at {}", cfg.group, cfg.brokers))?;
    eprintln!(
        "consuming {} at {} as group {}",
        cfg.topic, cfg.brokers, cfg.group
    );
    let options = RunOptions {
        idle_exit: None,
        retry: true,
    };
    Ok(std::thread::spawn(move || {
        if let Err(e) = engine.run_source(&mut source, &stop, &options, |_| {}) {
            tracing::error!(error = %e, "consuming Kafka stopped");
        }
    }))
}

fn serve(data: &Path, a: ServeArgs, mut settings: Settings) -> Result<ExitCode> {
    let engine = open_engine(data, &settings, true)?;
    let given = match &a.token_file {
        Some(f) => {
            let t = fs::read_to_string(f)
                .with_context(|| format!("cannot read the token file {}", f.display()))?;
            let t = t.trim().to_string();
            if t.is_empty() {
                bail!("the token file {} is empty", f.display());
            }
            Some(t)
        }
        None => std::env::var("CADRE_INGEST_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty()),
    };
    let (access, _, admin) = tokens(data, &settings, given, &[])?;
    if let (Some(cert), Some(key)) = (a.tls_cert, a.tls_key) {
        settings.tls = cadre_server::TlsConfig {
            cert: Some(cert),
            key: Some(key),
        };
    }
    let kafka = if a.kafka {
        let mut cfg = kafka_config(&settings, &a.kafka_args);
        if let Some(g) = &a.group {
            cfg.group = g.clone();
        }
        cadre_kafka::ensure_topics(&cfg)
            .with_context(|| format!("cannot reach Kafka at {}", cfg.brokers))?;
        Some(cfg)
    } else {
        None
    };
    let clickhouse = if a.clickhouse {
        Some(crate::warehouse::config(&settings, &a.clickhouse_args)?)
    } else {
        None
    };
    let addr = SocketAddr::new(a.bind, a.port);
    run_server(
        engine,
        settings,
        addr,
        access,
        ScaleOut { kafka, clickhouse },
        |url| {
            eprintln!(
                "cadre is serving {url} (dashboard), {url}/v1/events (ingest), {url}/metrics"
            );
            if admin.is_some() {
                eprintln!(
                    "sign in at {url}/login with the admin token in {}",
                    data.join("admin.token").display()
                );
            }
        },
    )
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
    let engine = open_engine(data, &settings, true)?;
    import(std::slice::from_ref(&file), 5000, false, through(&engine))?;
    let status = engine.status();
    eprintln!(
        "the log holds {} events ({} dead letters)",
        status.events, status.dead_letters
    );
    if a.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    // one sign-in per role, so each can be tried in a browser
    let demo_users = [
        ("planner", Role::Planner, Some(DEMO_SCOPE)),
        ("leader", Role::Leader, Some(DEMO_SCOPE)),
        ("viewer", Role::Viewer, None),
    ];
    let mut extra = Vec::new();
    for (name, role, scope) in demo_users {
        let t = token_file(data, &format!("demo-{name}.token"), None)?;
        extra.push((format!("demo {name}"), role, scope.map(str::to_string), t));
    }
    let (access, shown, admin) = tokens(data, &settings, None, &extra)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], a.port));
    run_server(
        engine,
        settings,
        addr,
        access,
        ScaleOut::default(),
        move |url| {
            eprintln!();
            eprintln!("  dashboard:    {url}/  sign in with one of these tokens:");
            if let Some(t) = &admin {
                eprintln!("    admin     everything                                   {t}");
            }
            for (name, role, scope, t) in &extra {
                let what = match role {
                    Role::Planner => format!(
                        "figures and people of {}",
                        scope.as_deref().unwrap_or("all")
                    ),
                    Role::Leader => format!(
                        "figures and succession of {}",
                        scope.as_deref().unwrap_or("all")
                    ),
                    _ => "figures of everything, no individuals".to_string(),
                };
                let name = name.trim_start_matches("demo ");
                eprintln!("    {name:<9} {what:<44} {t}");
            }
            eprintln!("  ingest:       curl -H 'Authorization: Bearer {shown}' --data-binary @events.ndjson {url}/v1/events");
            eprintln!("  metrics:      {url}/metrics");
            eprintln!();
            eprintln!("press Ctrl-C to stop");
        },
    )
}

/// The `[kafka]` settings with the command line's overrides.
fn kafka_config(settings: &Settings, a: &KafkaArgs) -> cadre_kafka::KafkaConfig {
    let mut c = settings.kafka.clone();
    if let Some(b) = &a.brokers {
        c.brokers = b.clone();
    }
    if let Some(t) = &a.topic {
        c.topic = t.clone();
    }
    if let Some(t) = &a.dlq_topic {
        c.dlq_topic = t.clone();
    }
    c
}

fn produce(a: ProduceArgs, settings: Settings) -> Result<ExitCode> {
    let cfg = kafka_config(&settings, &a.kafka);
    cadre_kafka::ensure_topics(&cfg)
        .with_context(|| format!("cannot reach Kafka at {}", cfg.brokers))?;
    let mut total = 0;
    for path in &a.files {
        let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let bar = if io::stderr().is_terminal() {
            ProgressBar::new(size)
        } else {
            ProgressBar::hidden()
        };
        let lines = io::BufRead::lines(io::BufReader::new(file));
        let n = cadre_kafka::produce(&cfg, lines, |_, bytes| bar.inc(bytes as u64))
            .with_context(|| format!("publishing {}", path.display()))?;
        bar.finish_and_clear();
        eprintln!(
            "{}: {n} events published to {} at {}",
            path.display(),
            cfg.topic,
            cfg.brokers
        );
        total += n;
    }
    if a.files.len() > 1 {
        eprintln!("{total} events published");
    }
    Ok(ExitCode::SUCCESS)
}

fn consume(data: &Path, a: ConsumeArgs, settings: Settings) -> Result<ExitCode> {
    let mut cfg = kafka_config(&settings, &a.kafka);
    if let Some(g) = &a.group {
        cfg.group = g.clone();
    }
    cadre_kafka::ensure_topics(&cfg)
        .with_context(|| format!("cannot reach Kafka at {}", cfg.brokers))?;
    let engine = open_engine(data, &settings, true)?;
    let mut source = cadre_kafka::Source::new(&cfg)
        .with_context(|| format!("cannot join group {} at {}", cfg.group, cfg.brokers))?;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc_flag(stop);
    }
    eprintln!(
        "consuming {} at {} as group {} into {}",
        cfg.topic,
        cfg.brokers,
        cfg.group,
        data.display()
    );
    let options = RunOptions {
        idle_exit: a.idle_exit.map(std::time::Duration::from_secs),
        retry: false,
    };
    let mut messages = 0;
    let total = engine
        .run_source(&mut source, &stop, &options, |p| {
            messages += p.messages;
            eprintln!(
                "stored {} new, {} duplicate, {} dead-lettered ({messages} messages so far)",
                p.accepted, p.duplicate, p.rejected
            );
        })
        .context("consuming failed; uncommitted events will be read again on restart")?;
    // the next start folds only what comes after
    engine.checkpoint();
    println!("{}", serde_json::to_string(&total)?);
    Ok(ExitCode::SUCCESS)
}

/// Waits for Ctrl-C (SIGINT) or SIGTERM (what service managers send).
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Sets `stop` on Ctrl-C (SIGINT) or SIGTERM.
fn ctrlc_flag(stop: Arc<std::sync::atomic::AtomicBool>) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::spawn(move || {
        rt.block_on(stop_signal());
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    Ok(())
}

/// The org unit the demo's planner and leader are limited to: the first department.
const DEMO_SCOPE: &str = "u01";

fn report(data: &Path, a: ReportArgs, settings: Settings) -> Result<ExitCode> {
    let as_of = cadre_analytics::parse_as_of(a.as_of.as_deref()).map_err(anyhow::Error::msg)?;
    let engine = read_engine(data, &settings)?;
    let r = engine.succession_report(as_of, a.org_unit.as_deref())?;
    let html = r.to_html();
    let (bytes, default) = match a.format {
        ReportFormat::Html => (html.into_bytes(), "succession-report.html"),
        ReportFormat::Pdf => (cadre_report::html_to_pdf(&html)?, "succession-report.pdf"),
    };
    let path = a.output.unwrap_or_else(|| PathBuf::from(default));
    fs::write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "wrote {} ({} critical positions, {} bytes)",
        path.display(),
        r.positions.len(),
        bytes.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn token(a: TokenArgs) -> Result<ExitCode> {
    match a.action {
        TokenAction::New {
            name,
            role,
            scope,
            employee,
        } => {
            let token = format!("{}", uuid::Uuid::new_v4().simple());
            println!("token (give it to {name}; it is not stored anywhere): {token}");
            println!();
            println!("[[access.tokens]]");
            println!("name = {name:?}");
            println!("role = {role:?}");
            if let Some(s) = scope {
                println!("scope = {s:?}");
            }
            if let Some(e) = employee {
                println!("employee = {e:?}");
            }
            println!("token_sha256 = {:?}", hash_token(&token));
        }
        TokenAction::Hash => {
            let mut t = String::new();
            io::stdin()
                .read_line(&mut t)
                .context("cannot read the token from standard input")?;
            println!("{}", hash_token(t.trim()));
        }
    }
    Ok(ExitCode::SUCCESS)
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

fn erase(data: &Path, a: EraseArgs) -> Result<ExitCode> {
    let layout = StoreLayout::new(data);
    let audit = layout.audit_log_path();
    let erasure =
        cadre_erasure::Erasure::new(layout, audit, &a.employee).with_names(a.names.clone());
    let r = if a.yes { erasure.run() } else { erasure.plan() }
        .with_context(|| format!("cannot erase employee {:?}", a.employee))?;
    let verb = if a.yes { "erased" } else { "would erase" };
    let mut out = io::stdout().lock();
    writeln!(out, "employee {} ({} name(s) found):", r.employee, r.names)?;
    writeln!(out, "  {:>8}  of their own events {verb}", r.events_erased)?;
    writeln!(
        out,
        "  {:>8}  other events that mention them, mention redacted",
        r.events_redacted
    )?;
    writeln!(out, "  {:>8}  dead letters {verb}", r.dead_letters_erased)?;
    writeln!(
        out,
        "  {:>8}  audit-log entries, mention redacted",
        r.audit_entries_redacted
    )?;
    if r.checkpoint_removed {
        writeln!(
            out,
            "  projection checkpoint removed (the next start folds the log)"
        )?;
    }
    for n in &r.shared_names {
        writeln!(
            out,
            "  name {n:?} is also another employee's: it is kept wherever it appears; review free text by hand"
        )?;
    }
    if !a.yes {
        writeln!(out, "nothing changed; run again with --yes to erase")?;
        return Ok(ExitCode::SUCCESS);
    }
    if r.leftovers.is_empty() {
        writeln!(out, "nothing in {} mentions them any more", data.display())?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "these files, which cadre does not manage, still mention them; remove or edit them:"
    )?;
    for p in &r.leftovers {
        writeln!(out, "  {}", p.display())?;
    }
    Ok(ExitCode::from(2))
}

fn query(data: &Path, a: QueryArgs, settings: Settings) -> Result<ExitCode> {
    let kind = QueryKind::parse(&a.kind).expect("clap checks the kind");
    let as_of = cadre_analytics::parse_as_of(a.as_of.as_deref()).map_err(anyhow::Error::msg)?;
    let started = std::time::Instant::now();
    let (engine, rejected) = if a.import.is_empty() {
        if !data.exists() {
            bail!(
                "no data directory at {}; ingest events first (cadre ingest FILE, or cadre demo)",
                data.display()
            );
        }
        (read_engine(data, &settings)?, 0)
    } else {
        // store the files first, folding them into the projection as they are stored
        let engine = open_engine(data, &settings, false)?;
        let total = import(&a.import, a.batch_size, a.quiet, through(&engine))?;
        (engine, total.rejected)
    };
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
    let read = started.elapsed().as_secs_f64();
    let out = engine.query(&request)?;
    let computed = started.elapsed().as_secs_f64();
    // the process ends after the answer: the system takes its memory back at
    // once, where freeing the projection and the snapshot piece by piece
    // took 0.3 to 0.4 s at 100k
    std::mem::forget(engine);
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
            out.write_json_pretty(&mut w)?;
            writeln!(w)?;
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
    if a.timings {
        let step = if a.import.is_empty() {
            "read"
        } else {
            "import"
        };
        eprintln!(
            "cadre {}: {step} {read:.3} s, tables {:.3} s, total {computed:.3} s, answer written {:.3} s",
            env!("CARGO_PKG_VERSION"),
            computed - read,
            started.elapsed().as_secs_f64() - computed,
        );
    }
    if rejected > 0 {
        eprintln!(
            "{rejected} imported lines were rejected; see the reasons with: cadre dead-letters --data-dir {}",
            data.display()
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
