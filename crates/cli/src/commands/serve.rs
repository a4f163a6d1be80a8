//! `serve` and `demo`: the engine behind the HTTP adapter, with Kafka and
//! ClickHouse when asked, until a signal stops it.

use std::fs::{self};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use cadre_access::{Access, Role};
use cadre_engine::{Engine, RunOptions};
use cadre_server::{ServerConfig, Service};

use super::access::{token_file, tokens};
use super::files::{import, synth_config, through, write_synth};
use super::kafka::kafka_config;
use super::output;
use crate::open::open_engine;
use crate::settings::Settings;
use crate::{DemoArgs, ServeArgs};

/// The scale-out parts `serve` runs with, when asked.
#[derive(Default)]
pub(crate) struct ScaleOut {
    /// Consume the Kafka events topic.
    kafka: Option<cadre_kafka::KafkaConfig>,
    /// Keep ClickHouse up to date.
    clickhouse: Option<cadre_clickhouse::ClickHouseConfig>,
}

/// Serves the engine over HTTP until a signal, then stops what runs beside it and checkpoints.
pub(crate) fn run_server(
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
        tls: tls.is_some(),
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
pub(crate) fn kafka_into_engine(
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

/// The shortest ingest token `cadre serve` takes (from a file or
/// `CADRE_INGEST_TOKEN`); the tokens cadre makes are longer.
const MIN_TOKEN_CHARS: usize = 16;

/// `cadre serve`: the dashboard, the API and `/metrics`, with Kafka and ClickHouse when asked.
pub(crate) fn serve(data: &Path, a: ServeArgs, mut settings: Settings) -> Result<ExitCode> {
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
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
    };
    if let Some(t) = &given {
        let n = t.chars().count();
        if n < MIN_TOKEN_CHARS {
            bail!(
                "the ingest token is too short to resist guessing ({n} characters; at \
                 least {MIN_TOKEN_CHARS}): `cadre token new --name ingest --role ingest` makes one"
            );
        }
    }
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

/// `cadre demo`: generate, import and serve a demo organisation.
pub(crate) fn demo(data: &Path, a: DemoArgs, settings: Settings) -> Result<ExitCode> {
    let config = synth_config(&a.synth);
    crate::open::private_dir(data)?;
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

/// Waits for Ctrl-C (SIGINT) or SIGTERM (what service managers send).
pub(crate) async fn stop_signal() {
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
pub(crate) fn ctrlc_flag(stop: Arc<std::sync::atomic::AtomicBool>) -> Result<()> {
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
pub(crate) const DEMO_SCOPE: &str = "u01";
