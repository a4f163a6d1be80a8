//! `produce` and `consume`: Kafka in and out.

use std::fs::File;
use std::io::{self, IsTerminal};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use cadre_engine::RunOptions;
use indicatif::ProgressBar;

use super::serve::ctrlc_flag;
use crate::open::open_engine;
use crate::settings::Settings;
use crate::{ConsumeArgs, KafkaArgs, ProduceArgs};

/// The `[kafka]` settings with the command line's overrides.
pub(crate) fn kafka_config(settings: &Settings, a: &KafkaArgs) -> cadre_kafka::KafkaConfig {
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

/// `cadre produce`: NDJSON files to the events topic.
pub(crate) fn produce(a: ProduceArgs, settings: Settings) -> Result<ExitCode> {
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

/// `cadre consume`: the events topic into the data directory, folded and checkpointed.
pub(crate) fn consume(data: &Path, a: ConsumeArgs, settings: Settings) -> Result<ExitCode> {
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
