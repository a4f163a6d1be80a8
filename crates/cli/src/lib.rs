//! The `cadre` command line: argument parsing and the commands themselves.
//!
//! `main.rs` only parses, runs and maps the outcome to an exit code; each
//! command here wires the library crates together and owns what the user
//! sees: progress bars, summaries and error messages that say what to do.

#[cfg(feature = "bench")]
mod bench;
mod commands;
mod open;
mod render;
mod settings;
mod warehouse;

#[cfg(feature = "bench")]
pub use bench::BenchArgs;
pub use settings::Settings;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use commands::run;

/// Tells `cadre bench` how to count the bytes the process allocates (the
/// binary's global allocator counts them between `start` and `stop`, which
/// returns the bytes allocated and not freed meanwhile); without it, memory
/// figures come from the resident set only.
#[cfg(feature = "bench")]
pub fn count_heap_with(start: fn(), stop: fn() -> isize) {
    cadre_bench::count_heap_with(start, stop);
}

/// cadre: competency frameworks, assessments and trainings in; skills gaps out.
///
/// cadre keeps a durable event log of what your HRIS reports (frameworks,
/// roles, positions, hires, assessments, trainings, ratings, succession
/// nominations), folds it into the state of the organisation at any date, and
/// shows skills gaps per org unit and competency on a built-in dashboard.
///
/// Start with `cadre demo`: it builds a synthetic organisation, ingests it and
/// serves the dashboard on http://127.0.0.1:8080.
#[derive(Debug, Parser)]
#[command(name = "cadre", version, about, long_about)]
pub struct Cli {
    /// Options every command shares.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command shares.
#[derive(Debug, Args)]
pub struct Global {
    /// Where the event log, dead letters and token live.
    #[arg(
        long,
        global = true,
        env = "CADRE_DATA_DIR",
        default_value = "./cadre-data"
    )]
    pub data_dir: PathBuf,
    /// Thresholds and weights (TOML; see docs/configuration.md); default DATA_DIR/cadre.toml when present.
    #[arg(long, global = true, env = "CADRE_CONFIG")]
    pub config: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a synthetic organisation, ingest it and serve the dashboard.
    ///
    /// The events are written to DATA_DIR/demo-events.ndjson and imported
    /// exactly as `cadre ingest` would import them. Running the demo again on
    /// the same data directory stores nothing twice.
    Demo(DemoArgs),
    /// Write a synthetic organisation's events as NDJSON.
    ///
    /// The same --employees, --seed and --end-date always give the same
    /// events, ids included.
    Generate(GenerateArgs),
    /// Import NDJSON files into the event log.
    ///
    /// Each batch is made durable before the next is read, so an interrupted
    /// import can simply be run again: what was stored comes back as
    /// duplicates, nothing is stored twice. Invalid lines go to the
    /// dead-letter store with their reason. Exit code 2 means some lines
    /// were rejected.
    Ingest(IngestArgs),
    /// Serve the API, the dashboard and /metrics.
    ///
    /// Every page and endpoint but /health needs a token (see `cadre token`
    /// and docs/configuration.md). Without an admin in the configuration, an
    /// admin token is created in DATA_DIR/admin.token.
    Serve(ServeArgs),
    /// Publish NDJSON events to Kafka (the scale-out event source).
    ///
    /// Each line goes to the events topic keyed by its `subject`, so an
    /// employee's events stay in order in one partition. Exits once the
    /// broker has acknowledged every line. Topics are created if missing.
    Produce(ProduceArgs),
    /// Consume events from Kafka into the data directory.
    ///
    /// Joins the consumer group on the events topic and stores each batch
    /// durably before committing its offsets; invalid events go to the
    /// dead-letter topic with the reason in headers. Run several with the
    /// same --group to share the partitions. Stops on Ctrl-C, or after
    /// --idle-exit seconds without a message.
    Consume(ConsumeArgs),
    /// Keep ClickHouse up to date: the scale-out analytics store.
    ///
    /// `cadre clickhouse migrate` creates the database and applies the schema
    /// migrations not yet applied (safe to repeat). `cadre clickhouse export`
    /// sends every stored event ClickHouse lacks and one export of the
    /// analytics, then exits; `cadre serve --clickhouse` does the same
    /// continuously. `cadre clickhouse status` shows the backlog and each
    /// shard's latest export. Settings: the `[clickhouse]` table (see
    /// docs/configuration.md); the password comes from the environment
    /// variable it names (default CADRE_CLICKHOUSE_PASSWORD).
    #[command(subcommand)]
    Clickhouse(ClickhouseCommand),
    /// Write a report for leadership.
    ///
    /// `cadre report succession` writes the succession report: an executive
    /// summary (coverage, positions at risk, change over three months), one
    /// section per critical position (incumbent, candidates with readiness,
    /// the gaps between each candidate and ready-now, courses that address
    /// them) and the definitions. PDF needs Chromium (CADRE_CHROMIUM or on
    /// the PATH); HTML needs nothing.
    Report(ReportArgs),
    /// Make access tokens for the configuration file.
    ///
    /// `cadre token new --name ana --role planner --scope u01` prints a fresh
    /// token, to hand to its holder, and the [[access.tokens]] entry (with
    /// only the token's SHA-256) to add to the configuration.
    Token(TokenArgs),
    /// Compute analytics from the event log, as of any date.
    ///
    /// The numbers are the same as GET /v1/query/KIND returns; --format json
    /// prints exactly that answer. Safe to run while `cadre serve` is running.
    Query(QueryArgs),
    /// Check the configuration and print it with every default filled in.
    ///
    /// Reads --config (or DATA_DIR/cadre.toml), refuses unknown keys and
    /// broken rules with the key named, and prints the settings in force as
    /// TOML. Needs no data directory and no server.
    Config,
    /// Show what the data directory holds.
    Status,
    /// Write every stored event as NDJSON, in log order.
    Export(ExportArgs),
    /// List rejected items with their reasons.
    DeadLetters,
    /// Erase one person from the data directory (the right to erasure).
    ///
    /// Their own events (hire, moves, assessments, trainings, ratings,
    /// nominations of them as a successor) are erased from the event log;
    /// other events that mention them (as a colleague's assessor, by name in
    /// a free-text field) keep everything but the mention, which becomes
    /// `[erased]`. Dead letters that mention them are erased, the audit log's
    /// entries about them are redacted and the projection checkpoint is
    /// removed. Figures recomputed afterwards are those of an organisation
    /// the person never joined; re-sending their old events stores nothing.
    ///
    /// Without --yes it only shows what it would do. Stop `cadre serve`
    /// first (the data directory is locked while it runs). An interrupted
    /// erasure is completed by running it again. Copies outside the data
    /// directory (a Kafka topic, ClickHouse) are not touched. Exit code 2
    /// means files cadre does not manage still mention the person; they are
    /// listed.
    Erase(EraseArgs),
    /// Measure this machine: ingest, projection, recompute, freshness, memory, disk; HTTP and Kafka throughput; DuckDB on the same events.
    ///
    /// For each --sizes N (employees), from scratch in --work-dir: generate
    /// the organisation's year of events as NDJSON, ingest the file into a
    /// durable log, read it back, fold it into the projection, run the full
    /// recompute (gaps, training needs, succession, nine-box), then store one
    /// new assessment and time it to fresh gap tables. DuckDB (python3 with
    /// duckdb installed) computes the unit roll-ups from the same file with
    /// bench/duckdb_gaps.py; every figure is checked equal and the wall times
    /// compared. Then an HTTP load against a real `cadre serve` on 127.0.0.1,
    /// and with --kafka the consume throughput from that broker. Prints one
    /// column per size with the targets beside; docs/performance.md defines
    /// every row. Build with --release first: debug figures mean nothing.
    ///
    /// Example: cargo run --release --locked -- bench --sizes 10000 100000 --kafka 127.0.0.1:9092
    ///
    /// Exit code 2 means cadre and DuckDB disagreed on a figure, or one new
    /// event did not change the gap tables.
    ///
    /// Only in builds with the `bench` feature (the default; the container
    /// image leaves it out).
    #[cfg(feature = "bench")]
    Bench(BenchArgs),
}

/// `cadre erase`.
#[derive(Debug, Args)]
pub struct EraseArgs {
    /// The employee id, exactly as in the events.
    pub employee: String,
    /// Another name to erase wherever it appears (their hire events' names are found by themselves); repeatable.
    #[arg(long = "name")]
    pub names: Vec<String>,
    /// Erase; without it nothing is changed and the plan is shown.
    #[arg(long)]
    pub yes: bool,
}

/// Size and shape of a synthetic organisation.
#[derive(Debug, Args, Clone)]
pub struct SynthArgs {
    /// Number of employees.
    #[arg(long, default_value_t = 2000)]
    pub employees: usize,
    /// Random seed; the same seed gives the same organisation.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Last day of the generated year of history (YYYY-MM-DD); default today.
    #[arg(long)]
    pub end_date: Option<chrono::NaiveDate>,
}

/// `cadre demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The organisation to generate.
    #[command(flatten)]
    pub synth: SynthArgs,
    /// Port of the dashboard on 127.0.0.1.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Build and ingest, print the summary, and exit without serving.
    #[arg(long)]
    pub no_serve: bool,
}

/// `cadre generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The organisation to generate.
    #[command(flatten)]
    pub synth: SynthArgs,
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// `cadre ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// NDJSON files, one event per line.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Lines per durable batch (one fsync each).
    #[arg(long, default_value_t = 5000)]
    pub batch_size: usize,
    /// No progress bar (also when standard error is not a terminal).
    #[arg(long)]
    pub quiet: bool,
}

/// `cadre serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// File holding the bearer token for POST /v1/events (or set the
    /// CADRE_INGEST_TOKEN environment variable); default: DATA_DIR/ingest.token,
    /// created on first use. A token is never taken on the command line,
    /// where other users of the machine could read it.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM certificate chain to serve HTTPS with (with --tls-key; overrides `[tls] cert`).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the certificate (with --tls-cert; overrides `[tls] key`).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Also consume the Kafka events topic (the `[kafka]` table, or these flags) while serving.
    #[arg(long)]
    pub kafka: bool,
    /// Where Kafka is, with --kafka.
    #[command(flatten)]
    pub kafka_args: KafkaArgs,
    /// The consumer group, with --kafka (default cadre).
    #[arg(long)]
    pub group: Option<String>,
    /// Also keep ClickHouse up to date (the `[clickhouse]` table, or these flags) while serving.
    #[arg(long)]
    pub clickhouse: bool,
    /// Where ClickHouse is, with --clickhouse.
    #[command(flatten)]
    pub clickhouse_args: ClickhouseArgs,
}

/// `cadre clickhouse ...`.
#[derive(Debug, Subcommand)]
pub enum ClickhouseCommand {
    /// Create the database and apply the migrations not yet applied.
    Migrate(ClickhouseArgs),
    /// Send the events ClickHouse lacks and one export of the analytics, then exit.
    Export(ClickhouseExportArgs),
    /// Show the local backlog and the latest export of every shard.
    Status(ClickhouseArgs),
}

/// `cadre clickhouse export`.
#[derive(Debug, Args, Clone)]
pub struct ClickhouseExportArgs {
    /// Where ClickHouse is.
    #[command(flatten)]
    pub clickhouse: ClickhouseArgs,
    /// Compute the analytics as of this date (YYYY-MM-DD, end of day UTC) or RFC 3339 time; default now.
    #[arg(long)]
    pub as_of: Option<String>,
}

/// Where ClickHouse is; every flag overrides the `[clickhouse]` table of the configuration.
#[derive(Debug, Args, Clone, Default)]
pub struct ClickhouseArgs {
    /// HTTP endpoint (default http://127.0.0.1:8123).
    #[arg(long = "clickhouse-url")]
    pub url: Option<String>,
    /// Database (default cadre).
    #[arg(long = "clickhouse-database")]
    pub database: Option<String>,
    /// This instance's share of the employees (default main); distinct per instance.
    #[arg(long)]
    pub shard: Option<String>,
}

/// Where Kafka is; every flag overrides the `[kafka]` table of the configuration.
#[derive(Debug, Args)]
pub struct KafkaArgs {
    /// Bootstrap servers (default 127.0.0.1:9092).
    #[arg(long)]
    pub brokers: Option<String>,
    /// The events topic (default cadre.events).
    #[arg(long)]
    pub topic: Option<String>,
    /// The dead-letter topic (default cadre.events.dlq).
    #[arg(long)]
    pub dlq_topic: Option<String>,
}

/// `cadre produce`.
#[derive(Debug, Args)]
pub struct ProduceArgs {
    /// NDJSON files, one event per line.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Where to publish.
    #[command(flatten)]
    pub kafka: KafkaArgs,
}

/// `cadre consume`.
#[derive(Debug, Args)]
pub struct ConsumeArgs {
    /// Where to consume from.
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// The consumer group (default cadre).
    #[arg(long)]
    pub group: Option<String>,
    /// Stop after this many seconds without a message (counted once the group has assigned partitions).
    #[arg(long)]
    pub idle_exit: Option<u64>,
}

/// Reports `cadre report` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportKind {
    /// Succession for critical positions.
    Succession,
}

/// Formats of `cadre report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML page.
    Html,
    /// A4 PDF, printed from the HTML by headless Chromium.
    Pdf,
}

/// `cadre report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Which report.
    #[arg(value_enum)]
    pub kind: ReportKind,
    /// Limit to this org unit and everything under it.
    #[arg(long)]
    pub org_unit: Option<String>,
    /// As of this date (YYYY-MM-DD, end of day UTC) or RFC 3339 instant; default now.
    #[arg(long)]
    pub as_of: Option<String>,
    /// html or pdf.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Write here (default: succession-report.html or .pdf in the current directory).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// `cadre token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// What to do with tokens.
    #[command(subcommand)]
    pub action: TokenAction,
}

/// `cadre token` actions.
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token and print its configuration entry.
    New {
        /// Who will hold it (shown in the audit log).
        #[arg(long)]
        name: String,
        /// admin, planner, leader, ingest or viewer.
        #[arg(long, value_parser = ["admin", "planner", "leader", "ingest", "viewer"])]
        role: String,
        /// Limit the holder to this org unit and everything under it.
        #[arg(long)]
        scope: Option<String>,
        /// The holder's own employee id: their potential and nominations are never shown to them.
        #[arg(long)]
        employee: Option<String>,
    },
    /// Print the SHA-256 of a token (read from standard input).
    Hash,
}

/// `cadre export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Output formats of `cadre query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text tables for people.
    Table,
    /// One table as CSV (choose it with --table).
    Csv,
    /// Every table and the summary as JSON, as the HTTP API answers.
    Json,
    /// One table as Parquet (needs --output).
    Parquet,
}

/// `cadre query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// What to compute.
    #[arg(value_enum)]
    pub kind: cadre_analytics::QueryKind,
    /// Limit to this org unit and everything under it.
    #[arg(long)]
    pub org_unit: Option<String>,
    /// Limit to competencies of this category (gaps, training-needs).
    #[arg(long)]
    pub category: Option<String>,
    /// Limit to employees in this role (gaps, training-needs).
    #[arg(long)]
    pub role: Option<String>,
    /// As of this date (YYYY-MM-DD, end of day UTC) or RFC 3339 instant; default now.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Months of history for trends and plan.
    #[arg(long, default_value_t = 12)]
    pub months: u32,
    /// The employee, for development.
    #[arg(long)]
    pub employee: Option<String>,
    /// The position, for plan.
    #[arg(long)]
    pub position: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Which table to write for csv and parquet (default: the first).
    #[arg(long)]
    pub table: Option<String>,
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// First import these NDJSON files into the data directory (as `cadre
    /// ingest` does: validated, stored durably, rejects dead-lettered),
    /// folding each event into the projection as it is stored instead of
    /// reading the log back: one command from an HRIS export to the figures.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub import: Vec<PathBuf>,
    /// Lines per durable batch of --import (one fsync each).
    #[arg(long, default_value_t = 5000, requires = "import")]
    pub batch_size: usize,
    /// No progress bar for --import (also when standard error is not a terminal).
    #[arg(long, requires = "import")]
    pub quiet: bool,
    /// Print on standard error how long each step took: reading the log (or
    /// importing the files), computing the tables, writing the answer, e.g.
    /// `cadre 0.1.0: import 2.301 s, tables 0.642 s, total 2.943 s, answer written 0.171 s`
    /// (the total is the first two).
    #[arg(long)]
    pub timings: bool,
}
