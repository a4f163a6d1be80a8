//! The audit log: every access to an individual's data, durably recorded.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Principal;

/// One access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (the token's name).
    pub who: String,
    /// Their role.
    pub role: String,
    /// What was asked for (e.g. `GET /v1/query/development`).
    pub action: String,
    /// Whose data: an employee id, or the scope of a per-person table.
    pub subject: String,
}

/// An append-only JSON-lines file; each entry is synced before it counts.
#[derive(Debug)]
pub struct AuditLog {
    file: Mutex<File>,
}

impl AuditLog {
    /// Opens (or creates) the audit log at `path`.
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        // who looked at whom: its owner's alone
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        Ok(AuditLog {
            file: Mutex::new(file),
        })
    }

    /// Records an access; the caller serves the data only when this succeeds.
    pub fn record(&self, who: &Principal, action: &str, subject: &str) -> std::io::Result<()> {
        let entry = AuditEntry {
            at: Utc::now(),
            who: who.name.clone(),
            role: who.role.as_str().to_string(),
            action: action.to_string(),
            subject: subject.to_string(),
        };
        let mut line = serde_json::to_vec(&entry).expect("entries serialize");
        line.push(b'\n');
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(&line)?;
        f.sync_data()
    }

    /// Reads every entry of the log at `path`.
    pub fn read(path: &Path) -> std::io::Result<Vec<AuditEntry>> {
        let text = std::fs::read_to_string(path)?;
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    #[test]
    fn entries_are_appended_and_read_back() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        let who = Principal {
            name: "ana".into(),
            role: Role::Planner,
            scope: None,
            employee: None,
        };
        log.record(&who, "GET /v1/query/development", "emp-1")
            .unwrap();
        log.record(&who, "GET /v1/query/gaps#employees", "u01")
            .unwrap();
        drop(log);
        let again = AuditLog::open(&path).unwrap();
        again.record(&who, "x", "emp-2").unwrap();
        let all = AuditLog::read(&path).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].subject, "emp-1");
        assert_eq!(all[2].role, "planner");
    }
}
