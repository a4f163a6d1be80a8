//! TLS for the API and the dashboard: a certificate chain and its private
//! key, read from PEM files when the server starts. Without them the server
//! speaks plain HTTP, meant for loopback or behind a terminating proxy.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The `[tls]` table: both files, or neither.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file with the server's certificate chain, leaf first.
    pub cert: Option<PathBuf>,
    /// PEM file with the certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
}

/// Why TLS cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Only one of the two files is given.
    #[error("TLS needs both a certificate and a key: give tls.cert and tls.key (or --tls-cert and --tls-key)")]
    Incomplete,
    /// A file cannot be read or holds no usable PEM section.
    #[error("cannot read the TLS {what} {path}: {reason}")]
    File {
        /// `certificate` or `private key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// rustls refuses the pair (a key that does not match the certificate, say).
    #[error("the TLS certificate and key are not usable together: {0}")]
    Refused(#[from] rustls::Error),
}

/// An acceptor of TLS connections.
pub type TlsAcceptor = tokio_rustls::TlsAcceptor;

impl TlsConfig {
    /// Whether TLS is asked for.
    pub fn enabled(&self) -> bool {
        self.cert.is_some() || self.key.is_some()
    }

    /// Reads the files and builds the acceptor; `None` when TLS is not asked for.
    pub fn acceptor(&self) -> Result<Option<TlsAcceptor>, TlsError> {
        let (cert, key) = match (&self.cert, &self.key) {
            (None, None) => return Ok(None),
            (Some(c), Some(k)) => (c, k),
            _ => return Err(TlsError::Incomplete),
        };
        let certs = read_certs(cert)?;
        let key =
            PrivateKeyDer::from_pem_file(key).map_err(|e| file_error("private key", key, e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Some(TlsAcceptor::from(Arc::new(config))))
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error("certificate", path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error("certificate", path, e))?;
    if certs.is_empty() {
        return Err(TlsError::File {
            what: "certificate",
            path: path.to_path_buf(),
            reason: "no CERTIFICATE section".into(),
        });
    }
    Ok(certs)
}

fn file_error(what: &'static str, path: &Path, e: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        what,
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_files_or_neither() {
        assert!(TlsConfig::default().acceptor().unwrap().is_none());
        let half = TlsConfig {
            cert: Some("cert.pem".into()),
            key: None,
        };
        assert!(matches!(half.acceptor().err(), Some(TlsError::Incomplete)));
    }

    #[test]
    fn unreadable_and_empty_files_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let empty = tmp.path().join("empty.pem");
        std::fs::write(&empty, "not pem\n").unwrap();
        let c = TlsConfig {
            cert: Some(empty.clone()),
            key: Some(tmp.path().join("missing.pem")),
        };
        let e = c.acceptor().err().expect("refused").to_string();
        assert!(e.contains("certificate") && e.contains("empty.pem"), "{e}");
        let c = TlsConfig {
            cert: Some(tmp.path().join("missing.pem")),
            key: Some(empty),
        };
        let e = c.acceptor().err().expect("refused").to_string();
        assert!(e.contains("missing.pem"), "{e}");
    }
}
