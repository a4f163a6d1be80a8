//! The connection to ClickHouse: migrations, inserts and reads.

use bytes::Bytes;
use cadre_analytics::Table;
use cadre_model::Event;
use chrono::{DateTime, Utc};
use clickhouse::{Client, Row};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::{ClickHouseConfig, ClickHouseError, Migration, MIGRATIONS};

/// The table recording applied migrations.
const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS cadre_schema_migrations (
    version UInt32,
    name String,
    applied_at DateTime('UTC')
) ENGINE = ReplacingMergeTree()
ORDER BY version";

/// Bytes of JSON sent per chunk of an insert.
const CHUNK_BYTES: usize = 1 << 20;

/// One raw event as stored in `cadre_events` (RowBinary, so field order is column order).
#[derive(Debug, Row, Serialize)]
struct EventRow<'a> {
    event_id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    schema_version: u32,
    occurred_at: u32,
    occurred_at_iso: String,
    recorded_at: u32,
    source: &'a str,
    subject: &'a str,
    data: String,
    shard: &'a str,
    seq: u64,
}

/// Seconds since 1970 as ClickHouse's `DateTime` holds them (clamped to its range).
pub(crate) fn epoch_seconds(t: DateTime<Utc>) -> u32 {
    u32::try_from(t.timestamp().max(0)).unwrap_or(u32::MAX)
}

/// A `DateTime('UTC')` value as JSONEachRow accepts it on every release.
pub(crate) fn datetime_text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A client of one cadre database.
#[derive(Clone)]
pub struct Warehouse {
    server: Client,
    db: Client,
    url: String,
    database: String,
}

impl std::fmt::Debug for Warehouse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Warehouse")
            .field("url", &self.url)
            .field("database", &self.database)
            .finish()
    }
}

impl Warehouse {
    /// A client for the configured server and database (nothing is sent yet).
    ///
    /// Rows are sent as RowBinary without the schema check of newer servers
    /// (`with_validation(false)`), which ClickHouse 18.16 cannot answer.
    pub fn new(cfg: &ClickHouseConfig) -> Warehouse {
        let mut server = Client::default()
            .with_url(&cfg.url)
            .with_user(&cfg.user)
            .with_validation(false);
        if let Ok(p) = std::env::var(&cfg.password_env) {
            server = server.with_password(p);
        }
        Warehouse {
            db: server.clone().with_database(&cfg.database),
            server,
            url: cfg.url.clone(),
            database: cfg.database.clone(),
        }
    }

    fn err(&self, what: &str, e: clickhouse::error::Error) -> ClickHouseError {
        ClickHouseError::Server {
            url: self.url.clone(),
            what: what.to_string(),
            reason: e.to_string(),
        }
    }

    /// The server's version.
    pub async fn version(&self) -> Result<String, ClickHouseError> {
        let rows = self.server_rows("SELECT version() AS v").await?;
        Ok(rows
            .first()
            .and_then(|r| r.get("v"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string())
    }

    /// Runs one statement in the database.
    pub async fn execute(&self, sql: &str) -> Result<(), ClickHouseError> {
        self.db
            .query(sql)
            .execute()
            .await
            .map_err(|e| self.err(sql, e))
    }

    async fn server_rows(&self, sql: &str) -> Result<Vec<Map<String, Value>>, ClickHouseError> {
        read_rows(&self.server, sql)
            .await
            .map_err(|e| self.err(sql, e))
    }

    /// Runs a query in the database; one JSON object per row (64-bit integers as numbers).
    pub async fn rows(&self, sql: &str) -> Result<Vec<Map<String, Value>>, ClickHouseError> {
        read_rows(&self.db, sql).await.map_err(|e| self.err(sql, e))
    }

    /// Versions of the migrations already applied.
    pub async fn applied(&self) -> Result<Vec<u32>, ClickHouseError> {
        let rows = self
            .rows("SELECT DISTINCT version FROM cadre_schema_migrations ORDER BY version")
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| r.get("version").and_then(Value::as_u64))
            .filter_map(|v| u32::try_from(v).ok())
            .collect())
    }

    /// Creates the database when missing and applies every migration not yet
    /// applied, in order; returns those applied now. Safe to run again.
    pub async fn migrate(&self) -> Result<Vec<Migration>, ClickHouseError> {
        let create = format!("CREATE DATABASE IF NOT EXISTS {}", self.database);
        self.server
            .query(&create)
            .execute()
            .await
            .map_err(|e| self.err(&create, e))?;
        self.execute(MIGRATIONS_TABLE).await?;
        let done = self.applied().await?;
        let mut now = Vec::new();
        for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
            for st in m.statements() {
                self.db
                    .query(&st)
                    .execute()
                    .await
                    .map_err(|e| ClickHouseError::Migration {
                        version: m.version,
                        name: m.name,
                        reason: e.to_string(),
                    })?;
            }
            let record = format!(
                "INSERT INTO cadre_schema_migrations (version, name, applied_at) VALUES ({}, '{}', now())",
                m.version, m.name
            );
            self.execute(&record).await?;
            now.push(*m);
        }
        Ok(now)
    }

    /// Inserts raw events; inserting one again is harmless (ReplacingMergeTree by `event_id`).
    pub async fn insert_events(
        &self,
        shard: &str,
        events: &[(u64, Event)],
    ) -> Result<(), ClickHouseError> {
        let mut insert = self
            .db
            .insert::<EventRow<'_>>("cadre_events")
            .await
            .map_err(|e| self.err("INSERT INTO cadre_events", e))?;
        for (seq, e) in events {
            let row = EventRow {
                event_id: e.event_id.to_string(),
                kind: e.event_type().as_str(),
                schema_version: e.schema_version,
                occurred_at: epoch_seconds(e.occurred_at),
                occurred_at_iso: e.occurred_at.to_rfc3339(),
                recorded_at: epoch_seconds(e.recorded_at),
                source: &e.source,
                subject: &e.subject,
                data: e.to_value()["data"].to_string(),
                shard,
                seq: *seq,
            };
            insert
                .write(&row)
                .await
                .map_err(|e| self.err("INSERT INTO cadre_events", e))?;
        }
        insert
            .end()
            .await
            .map_err(|e| self.err("INSERT INTO cadre_events", e))
    }

    /// Inserts a table's rows (JSONEachRow), each with `extra` columns added;
    /// booleans become 0 and 1. Returns the rows sent.
    pub async fn insert_table(
        &self,
        table: &str,
        rows: &Table,
        extra: &[(&str, Value)],
    ) -> Result<usize, ClickHouseError> {
        if rows.rows.is_empty() {
            return Ok(0);
        }
        let sql = format!("INSERT INTO {table} FORMAT JSONEachRow");
        let mut insert = self.db.insert_formatted_with(sql.clone());
        let mut buf = Vec::with_capacity(CHUNK_BYTES + 4096);
        for r in &rows.rows {
            let mut obj = Map::with_capacity(r.len() + extra.len());
            for (k, v) in extra {
                obj.insert((*k).to_string(), v.clone());
            }
            for (c, v) in rows.columns.iter().zip(r) {
                let v = match v {
                    Value::Bool(b) => Value::from(u8::from(*b)),
                    v => v.clone(),
                };
                obj.insert(c.clone(), v);
            }
            serde_json::to_writer(&mut buf, &obj).expect("JSON to memory");
            buf.push(b'\n');
            if buf.len() >= CHUNK_BYTES {
                let chunk = Bytes::from(std::mem::take(&mut buf));
                insert.send(chunk).await.map_err(|e| self.err(&sql, e))?;
            }
        }
        if !buf.is_empty() {
            insert
                .send(Bytes::from(buf))
                .await
                .map_err(|e| self.err(&sql, e))?;
        }
        insert.end().await.map_err(|e| self.err(&sql, e))?;
        Ok(rows.rows.len())
    }
}

async fn read_rows(
    client: &Client,
    sql: &str,
) -> clickhouse::error::Result<Vec<Map<String, Value>>> {
    let bytes = client
        .query(sql)
        .with_setting("output_format_json_quote_64bit_integers", "0")
        .fetch_bytes("JSONEachRow")?
        .collect()
        .await?;
    Ok(bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect())
}
