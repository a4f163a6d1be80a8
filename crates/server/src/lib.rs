//! The HTTP face of cadre: event ingest, the analytics API, Prometheus
//! metrics and the built-in dashboard, as an adapter over a running
//! [`cadre_engine::Engine`].
//!
//! This crate holds routes, sign-in and roles, the audit of looks at
//! individuals, and request limits; storing, folding and answering are the
//! engine's. Blocking engine calls (fsync, polars) run on the blocking pool,
//! never on the async workers. Every error answered to a client goes through
//! [`ApiError`], the one place that maps errors to status codes.

mod api;
mod auth;
mod error;
mod headers;
mod limits;
mod openapi;
mod session;
mod tls;
mod views;

use std::sync::Arc;

use cadre_engine::Engine;

pub use error::ApiError;
pub use limits::Limits;
pub use openapi::document as openapi_document;
pub use tls::{TlsAcceptor, TlsConfig, TlsError};

/// What the HTTP adapter needs beside the engine.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Who may do what.
    pub access: cadre_access::Access,
    /// Where accesses to individuals' data are recorded.
    pub audit_log: std::path::PathBuf,
    /// Request limits on ingest.
    pub limits: Limits,
    /// Whether the server answers over TLS: the sign-in cookie is then
    /// `Secure` and answers carry `Strict-Transport-Security`.
    pub tls: bool,
}

/// The engine as the HTTP API serves it: with tokens, an audit log and limits.
pub struct Service {
    engine: Arc<Engine>,
    access: cadre_access::Access,
    audit: cadre_access::AuditLog,
    pub(crate) limits: Limits,
    pub(crate) rate: limits::RateLimiter,
    pub(crate) sessions: session::Sessions,
    pub(crate) tls: bool,
    /// Bodies of `POST /v1/events` being read.
    pub(crate) uploads: tokio::sync::Semaphore,
    /// PDF reports being printed.
    pub(crate) pdf_renders: Arc<tokio::sync::Semaphore>,
    /// Analytical requests under way, per token.
    queries: Arc<limits::QueryGate>,
}

impl Service {
    /// The HTTP adapter over a running engine.
    pub fn new(engine: Arc<Engine>, config: &ServerConfig) -> Result<Service, ServiceError> {
        Ok(Service {
            engine,
            access: config.access.clone(),
            audit: cadre_access::AuditLog::open(&config.audit_log).map_err(|e| {
                ServiceError::Audit {
                    path: config.audit_log.clone(),
                    source: e,
                }
            })?,
            limits: config.limits.clone(),
            rate: limits::RateLimiter::default(),
            sessions: session::Sessions::default(),
            tls: config.tls,
            uploads: tokio::sync::Semaphore::new(config.limits.max_uploads.max(1)),
            pdf_renders: Arc::new(tokio::sync::Semaphore::new(
                config.limits.max_pdf_renders.max(1),
            )),
            queries: Arc::default(),
        })
    }

    /// The engine behind the API.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Who a token belongs to.
    pub(crate) fn authenticate(&self, token: &str) -> Option<cadre_access::Principal> {
        self.access.authenticate(token)
    }

    /// A place for one more analytical request of `who`, or 429 when they
    /// have as many under way as they may.
    pub(crate) fn slot(&self, who: &cadre_access::Principal) -> Result<limits::Slot, ApiError> {
        self.queries
            .enter(&who.name, self.limits.max_queries_per_token)
            .map_err(|max| {
                ApiError::Busy(
                    format!("{max} analytical requests of this token are under way; retry when one has answered"),
                    1.0,
                )
            })
    }

    /// The small-group threshold.
    pub(crate) fn k(&self) -> usize {
        self.access.k()
    }

    /// Records an access to individuals' data; it must succeed before the data is served.
    pub(crate) fn audit(
        &self,
        who: &cadre_access::Principal,
        action: &str,
        subject: &str,
    ) -> Result<(), ApiError> {
        self.audit
            .record(who, action, subject)
            .map_err(|e| ApiError::Unavailable(format!("cannot write the audit log: {e}")))
    }
}

/// Why the HTTP adapter cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The audit log cannot be opened.
    #[error("cannot open the audit log {path}: {source}")]
    Audit {
        /// Where.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Serves on a bound listener until `shutdown` resolves, then lets requests
/// in flight finish (at most 30 s); with `tls`, every connection is TLS.
/// Each connection must finish its TLS handshake and send its request
/// headers within the configured time, or it is closed: clients that trickle
/// bytes (slow loris) cannot hold the server's connections.
pub async fn serve(
    service: Arc<Service>,
    listener: tokio::net::TcpListener,
    tls: Option<TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::TokioTimer;
    let header_timeout =
        std::time::Duration::from_secs_f64(service.limits.header_timeout_secs.max(0.1));
    let app = router(service);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // too many open files and the like: wait, do not spin
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                };
                // each request knows its client's address (sign-in throttling)
                let app = tower_layer::Layer::layer(&axum::Extension(Peer(peer.ip())), app.clone());
                let (http, watcher) = (http.clone(), graceful.watcher());
                let Some(tls) = tls.clone() else {
                    tokio::spawn(connection(http, watcher, stream, app));
                    continue;
                };
                // the handshake runs against the same clock as the headers,
                // so a silent client holds nothing for long
                tokio::spawn(async move {
                    match tokio::time::timeout(header_timeout, tls.accept(stream)).await {
                        Ok(Ok(stream)) => connection(http, watcher, stream, app).await,
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), graceful.shutdown()).await;
    Ok(())
}

/// Serves one connection, plain or TLS, until it closes.
async fn connection<I>(
    http: hyper::server::conn::http1::Builder,
    watcher: hyper_util::server::graceful::Watcher,
    io: I,
    app: axum::middleware::AddExtension<axum::Router, Peer>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let conn = http.serve_connection(
        hyper_util::rt::TokioIo::new(io),
        hyper_util::service::TowerToHyperService::new(app),
    );
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!(error = %e, "connection closed");
    }
}

/// The browser pages, then every endpoint of the API (the endpoint table
/// of `openapi.rs`); also for tests that drive it without a socket.
pub fn router(service: Arc<Service>) -> axum::Router {
    axum::Router::new()
        .route("/", axum::routing::get(api::dashboard))
        .route("/assets/{file}", axum::routing::get(api::asset))
        .route(
            "/login",
            axum::routing::get(api::login_form).post(api::login),
        )
        .route("/logout", axum::routing::get(api::logout).post(api::logout))
        .merge(crate::openapi::routes(&service))
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            service.clone(),
            headers::secure,
        ))
        .with_state(service)
}

/// The address of the client a request came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) std::net::IpAddr);
