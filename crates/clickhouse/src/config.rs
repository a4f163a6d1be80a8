//! The `[clickhouse]` table of the configuration.

use serde::{Deserialize, Serialize};

/// Where ClickHouse is and how cadre writes to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClickHouseConfig {
    /// HTTP endpoint of the server.
    pub url: String,
    /// The database cadre's tables live in (created by `cadre clickhouse migrate`).
    pub database: String,
    /// User name.
    pub user: String,
    /// Environment variable holding the password (never put the password itself in the file).
    pub password_env: String,
    /// Name of this instance's share of the employees; instances writing to one
    /// database need distinct names.
    pub shard: String,
    /// Whether this instance writes succession tables (they need every
    /// employee: in a deployment of several instances, one instance that reads
    /// every partition writes them).
    pub succession: bool,
    /// Whether this instance writes its employees' tables and partial
    /// aggregates (false for an instance that reads every partition only to
    /// write succession, beside instances that share the partitions).
    pub partials: bool,
    /// Seconds between exports of the analytics tables while events arrive.
    pub export_interval_secs: u64,
    /// Events per insert.
    pub batch_rows: usize,
    /// Events kept in memory while ClickHouse is unreachable; beyond that they
    /// are read again from the local log when it is back.
    pub max_buffer_events: usize,
    /// Complete exports kept per shard; older ones are deleted.
    pub keep_exports: u32,
    /// Months of trend figures in each export.
    pub trend_months: u32,
}

impl Default for ClickHouseConfig {
    fn default() -> Self {
        ClickHouseConfig {
            url: "http://127.0.0.1:8123".into(),
            database: "cadre".into(),
            user: "default".into(),
            password_env: "CADRE_CLICKHOUSE_PASSWORD".into(),
            shard: "main".into(),
            succession: true,
            partials: true,
            export_interval_secs: 30,
            batch_rows: 50_000,
            max_buffer_events: 1_000_000,
            keep_exports: 3,
            trend_months: 12,
        }
    }
}

impl ClickHouseConfig {
    /// Rules no key can break.
    pub fn check(&self) -> Result<(), String> {
        if self.shard.is_empty() || self.shard.len() > 64 {
            return Err("clickhouse.shard must be 1 to 64 characters".into());
        }
        if self.batch_rows == 0 || self.max_buffer_events == 0 {
            return Err(
                "clickhouse.batch_rows and clickhouse.max_buffer_events must be at least 1".into(),
            );
        }
        if !self.partials && !self.succession {
            return Err(
                "clickhouse.partials and clickhouse.succession cannot both be false".into(),
            );
        }
        if self.keep_exports == 0 {
            return Err("clickhouse.keep_exports must be at least 1".into());
        }
        if !self
            .database
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
            || self.database.is_empty()
        {
            return Err("clickhouse.database must be letters, digits and _".into());
        }
        Ok(())
    }
}
