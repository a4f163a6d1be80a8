//! Tokens: those a run signs in with (configured, ingest, admin, demo)
//! and `cadre token`.

use std::fs::{self};
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use cadre_access::{hash_token, Access, Role, TokenEntry};

use crate::settings::Settings;
use crate::{TokenAction, TokenArgs};

/// A token entry for a token held in clear by this process.
pub(crate) fn entry(name: &str, role: Role, scope: Option<&str>, token: &str) -> TokenEntry {
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
pub(crate) fn tokens(
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
pub(crate) fn token_file(data: &Path, file: &str, given: Option<String>) -> Result<String> {
    if let Some(t) = given.filter(|t| !t.trim().is_empty()) {
        return Ok(t.trim().to_string());
    }
    let path = data.join(file);
    if let Ok(t) = fs::read_to_string(&path) {
        if !t.trim().is_empty() {
            return Ok(t.trim().to_string());
        }
    }
    crate::open::private_dir(data)?;
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

/// `cadre token`: a new token and its configuration entry, or a token's hash.
pub(crate) fn token(a: TokenArgs) -> Result<ExitCode> {
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
