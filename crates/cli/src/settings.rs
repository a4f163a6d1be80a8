//! The configuration file: thresholds and weights of the projection and the analytics.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use cadre_analytics::AnalyticsConfig;
use cadre_projection::LevelPolicy;
use serde::{Deserialize, Serialize};

/// Everything `cadre.toml` may set; every key is optional and defaults as documented.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// How assessments and trainings combine into effective levels.
    pub levels: LevelPolicy,
    /// Thresholds of the analytics.
    pub analytics: AnalyticsConfig,
    /// Tokens, roles and the small-group threshold.
    pub access: cadre_access::AccessConfig,
    /// Request limits of `serve`.
    pub server: cadre_server::Limits,
    /// The certificate and key `serve` speaks TLS with.
    pub tls: cadre_server::TlsConfig,
    /// Where Kafka is, for `produce`, `consume` and `serve --kafka`.
    pub kafka: cadre_kafka::KafkaConfig,
    /// Where ClickHouse is, for `clickhouse` and `serve --clickhouse`.
    pub clickhouse: cadre_clickhouse::ClickHouseConfig,
    /// How ingest judges events beyond their schema.
    pub ingest: cadre_ingest::IngestConfig,
    /// How often `serve` checkpoints its projection.
    pub checkpoint: cadre_checkpoint::CheckpointConfig,
}

impl Settings {
    /// Loads `--config FILE` when given, else `DATA_DIR/cadre.toml` when present, else the defaults.
    pub fn load(explicit: Option<&Path>, data: &Path) -> Result<Settings> {
        let path: PathBuf = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let p = data.join("cadre.toml");
                if !p.exists() {
                    return Ok(Settings::default());
                }
                p
            }
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the configuration {}", path.display()))?;
        let s: Settings = toml::from_str(&text)
            .with_context(|| format!("configuration {} is not valid", path.display()))?;
        s.check()
            .with_context(|| format!("configuration {}", path.display()))?;
        Ok(s)
    }

    /// Rules no single key can break on its own.
    fn check(&self) -> Result<()> {
        let l = &self.levels;
        if l.window_days <= 0 {
            bail!("levels.window_days must be positive");
        }
        let w = [l.manager, l.panel, l.peer, l.self_assessed];
        if w.iter().any(|x| *x < 0.0 || !x.is_finite()) || w.iter().sum::<f64>() <= 0.0 {
            bail!("levels weights must be non-negative and not all zero");
        }
        let sv = &self.server;
        if sv.max_body_bytes == 0 || sv.max_batch_events == 0 {
            bail!("server.max_body_bytes and server.max_batch_events must be at least 1");
        }
        if !(sv.events_per_second >= 0.0 && sv.events_per_second.is_finite()) {
            bail!("server.events_per_second must be 0 (no limit) or positive");
        }
        if let Err(e) = self.clickhouse.check() {
            bail!("{e}");
        }
        let a = &self.analytics;
        if a.stale_days <= 0 {
            bail!("analytics.stale_days must be positive");
        }
        if !(a.ready_now >= a.ready_1_2_years && a.ready_1_2_years >= a.ready_3_plus_years) {
            bail!("analytics thresholds must satisfy ready_now >= ready_1_2_years >= ready_3_plus_years");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_file_keeps_other_defaults() {
        let s: Settings = toml::from_str("[analytics]\nready_now = 0.8\n").unwrap();
        assert_eq!(s.analytics.ready_now, 0.8);
        assert_eq!(s.analytics.ready_1_2_years, 0.75);
        assert_eq!(s.levels, LevelPolicy::default());
        s.check().unwrap();
    }

    #[test]
    fn unknown_keys_and_bad_orders_are_refused() {
        assert!(toml::from_str::<Settings>("[analytics]\nready_soon = 0.8\n").is_err());
        let s: Settings = toml::from_str("[analytics]\nready_now = 0.5\n").unwrap();
        assert!(s.check().is_err(), "ready now below ready in 1–2 years");
        let s: Settings =
            toml::from_str("[levels]\nmanager = 0\npanel = 0\npeer = 0\nself_assessed = 0\n")
                .unwrap();
        assert!(s.check().is_err());
    }
}
