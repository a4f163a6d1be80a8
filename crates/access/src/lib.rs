//! Who may see what: roles, bearer tokens, small-group suppression and the
//! audit log of access to individuals.
//!
//! HR data about named people is sensitive. This crate owns the rules and
//! nothing else: it does not know HTTP or analytics. A [`Principal`] is what a
//! token proves: a name, a [`Role`] and optionally an org-unit scope. Tokens
//! are configured as SHA-256 hashes, never in clear, and compared in constant
//! time. [`suppress_small_groups`] blanks aggregates over fewer than `k`
//! people for roles that may not see individuals, and [`AuditLog`] records
//! every access to an individual's data, durably, before the data is served.

mod audit;
mod differencing;
mod suppress;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use audit::{AuditEntry, AuditLog};
pub use differencing::{protect_remainders, suppress_small_complements};
pub use suppress::{
    protected_units, suppress_row, suppress_small_groups, suppress_small_groups_within,
    suppress_thin_figures, UnitCount, FIGURE_BASES,
};

/// What a role may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, everywhere.
    Admin,
    /// Aggregates and individuals in their scope.
    Planner,
    /// Aggregates and succession in their scope.
    Leader,
    /// Posting events only.
    Ingest,
    /// Aggregates only.
    Viewer,
}

impl Role {
    /// May post events.
    pub fn may_ingest(self) -> bool {
        matches!(self, Role::Admin | Role::Ingest)
    }

    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Planner,
        Role::Leader,
        Role::Viewer,
        Role::Ingest,
    ];

    /// May read aggregate figures.
    pub fn may_read(self) -> bool {
        !matches!(self, Role::Ingest)
    }

    /// May see named individuals' data (profiles, per-person tables).
    pub fn may_see_individuals(self) -> bool {
        matches!(self, Role::Admin | Role::Planner)
    }

    /// May see succession plans, candidates included.
    pub fn may_see_succession(self) -> bool {
        matches!(self, Role::Admin | Role::Planner | Role::Leader)
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Planner => "planner",
            Role::Leader => "leader",
            Role::Ingest => "ingest",
            Role::Viewer => "viewer",
        }
    }
}

/// One configured token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// Who holds it (shown in the audit log).
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The org unit whose subtree it is limited to; none for the whole organisation.
    #[serde(default)]
    pub scope: Option<String>,
    /// The holder's own employee id, if they are an employee: potential
    /// ratings and nominations about them are never shown to them.
    #[serde(default)]
    pub employee: Option<String>,
    /// Hex SHA-256 of the token (`cadre token hash` prints it).
    pub token_sha256: String,
}

/// The `[access]` table of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    /// Aggregates over fewer people are suppressed for roles that may not see individuals.
    pub k: usize,
    /// The tokens.
    pub tokens: Vec<TokenEntry>,
}

impl Default for AccessConfig {
    fn default() -> Self {
        AccessConfig {
            k: 5,
            tokens: Vec::new(),
        }
    }
}

/// Errors in the access configuration.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccessError {
    /// A hash is not 64 hex digits.
    #[error("token of {0:?}: token_sha256 must be 64 hex digits")]
    BadHash(String),
    /// k is 0.
    #[error("access.k must be at least 1")]
    BadK,
}

/// Who a token belongs to and what they may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The holder's name.
    pub name: String,
    /// The role.
    pub role: Role,
    /// The org unit their view is limited to.
    pub scope: Option<String>,
    /// Their own employee id, if any.
    pub employee: Option<String>,
}

/// The hex SHA-256 of a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Verifies tokens against the configured hashes.
#[derive(Debug, Clone)]
pub struct Access {
    k: usize,
    entries: Vec<([u8; 32], Principal)>,
}

impl Access {
    /// Checks the configuration and prepares the hashes.
    pub fn new(cfg: &AccessConfig) -> Result<Access, AccessError> {
        if cfg.k == 0 {
            return Err(AccessError::BadK);
        }
        let entries = cfg
            .tokens
            .iter()
            .map(|t| {
                let bytes = hex::decode(&t.token_sha256)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| AccessError::BadHash(t.name.clone()))?;
                Ok((
                    bytes,
                    Principal {
                        name: t.name.clone(),
                        role: t.role,
                        scope: t.scope.clone(),
                        employee: t.employee.clone(),
                    },
                ))
            })
            .collect::<Result<_, _>>()?;
        Ok(Access { k: cfg.k, entries })
    }

    /// The suppression threshold.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The principal a token proves, if any. Every entry is compared, in constant time.
    pub fn authenticate(&self, token: &str) -> Option<Principal> {
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for (hash, p) in &self.entries {
            let diff = hash
                .iter()
                .zip(presented.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            if diff == 0 && found.is_none() {
                found = Some(p.clone());
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> AccessConfig {
        AccessConfig {
            k: 5,
            tokens: vec![
                TokenEntry {
                    name: "ana".into(),
                    role: Role::Planner,
                    scope: Some("u01".into()),
                    employee: None,
                    token_sha256: hash_token("ana-secret"),
                },
                TokenEntry {
                    name: "feed".into(),
                    role: Role::Ingest,
                    scope: None,
                    employee: None,
                    token_sha256: hash_token("feed-secret"),
                },
            ],
        }
    }

    #[test]
    fn tokens_prove_their_principal_and_nothing_else() {
        let a = Access::new(&cfg()).unwrap();
        let p = a.authenticate("ana-secret").expect("known token");
        assert_eq!(
            (p.name.as_str(), p.role, p.scope.as_deref()),
            ("ana", Role::Planner, Some("u01"))
        );
        assert!(a.authenticate("ana-secreT").is_none());
        assert!(a.authenticate("").is_none());
        assert_eq!(a.authenticate("feed-secret").unwrap().role, Role::Ingest);
    }

    #[test]
    fn role_permissions() {
        assert!(Role::Ingest.may_ingest() && !Role::Ingest.may_read());
        assert!(
            Role::Viewer.may_read()
                && !Role::Viewer.may_see_individuals()
                && !Role::Viewer.may_see_succession()
        );
        assert!(Role::Leader.may_see_succession() && !Role::Leader.may_see_individuals());
        assert!(Role::Planner.may_see_individuals() && !Role::Planner.may_ingest());
        assert!(Role::Admin.may_ingest() && Role::Admin.may_see_individuals());
    }

    #[test]
    fn bad_configuration_is_refused() {
        let mut c = cfg();
        c.tokens[0].token_sha256 = "abc".into();
        assert_eq!(
            Access::new(&c).unwrap_err(),
            AccessError::BadHash("ana".into())
        );
        let c = AccessConfig { k: 0, ..cfg() };
        assert_eq!(Access::new(&c).unwrap_err(), AccessError::BadK);
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
