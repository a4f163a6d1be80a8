//! The commands behind the CLI, one module per family; each wires the
//! engine (or the store) to what the user sees.

mod access;
mod files;
mod kafka;
mod query;
mod serve;
mod store;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use self::access::token;
use self::files::{generate, ingest};
use self::kafka::{consume, produce};
use self::query::{query, report};
use self::serve::{demo, serve};
use self::store::{dead_letters, erase, export, status};
use crate::settings::Settings;
use crate::{Cli, Command};

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
        #[cfg(feature = "bench")]
        Command::Bench(a) => crate::bench::run(a),
    }
}

fn output(path: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    })
}
