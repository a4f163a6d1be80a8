//! The one place where errors become HTTP answers.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cadre_analytics::AnalyticsError;
use cadre_engine::EngineError;

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed (bad date, empty body, ...).
    #[error("{0}")]
    BadRequest(String),
    /// No or wrong bearer token.
    #[error("a valid bearer token is required: send 'Authorization: Bearer <token>'")]
    Unauthorized,
    /// Authenticated, but the role or scope does not allow it.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The request is larger than the server accepts.
    #[error("{0}")]
    TooLarge(String),
    /// The body is of a type or an encoding the endpoint does not read.
    #[error("{0}")]
    UnsupportedMedia(String),
    /// The body did not arrive in time.
    #[error("{0}")]
    Timeout(String),
    /// Too much of this work is under way (uploads, PDF renderings); retry
    /// after this many seconds.
    #[error("{0}")]
    Busy(String, f64),
    /// Too many failed sign-ins from this address; retry after this many seconds.
    #[error("too many failed sign-ins from this address: retry in {0:.0} s")]
    SignInThrottled(f64),
    /// The caller posts faster than its rate allows; retry after this many seconds.
    #[error("too many events for this token: retry in {0:.1} s")]
    RateLimited(f64),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Storage failed; nothing in the request was acknowledged, retrying is safe.
    #[error("storage unavailable, nothing acknowledged, retry later: {0}")]
    Unavailable(String),
    /// A tool the answer needs is missing or failed (Chromium for a PDF);
    /// nothing to do with storage.
    #[error("{0}")]
    ToolUnavailable(String),
    /// A bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<AnalyticsError> for ApiError {
    fn from(e: AnalyticsError) -> Self {
        match e {
            AnalyticsError::UnknownUnit(_)
            | AnalyticsError::UnknownPosition(_)
            | AnalyticsError::UnknownEmployee(_) => ApiError::NotFound(e.to_string()),
            AnalyticsError::Missing(_) => ApiError::BadRequest(e.to_string()),
            AnalyticsError::Polars(_) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<cadre_report::ReportError> for ApiError {
    fn from(e: cadre_report::ReportError) -> Self {
        match e {
            cadre_report::ReportError::Analytics(a) => a.into(),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            // a server's engine always writes: a read-only one is a bug here
            EngineError::ReadOnly(_) => ApiError::Internal(e.to_string()),
            _ => ApiError::Unavailable(e.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited(_) | ApiError::Busy(..) | ApiError::SignInThrottled(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unavailable(_) | ApiError::ToolUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let body = Json(serde_json::json!({ "error": self.to_string() }));
        if let ApiError::RateLimited(wait)
        | ApiError::Busy(_, wait)
        | ApiError::SignInThrottled(wait) = &self
        {
            let secs = wait.ceil().max(1.0) as u64;
            return (status, [(header::RETRY_AFTER, secs.to_string())], body).into_response();
        }
        if status == StatusCode::UNAUTHORIZED {
            return (status, [(header::WWW_AUTHENTICATE, "Bearer")], body).into_response();
        }
        (status, body).into_response()
    }
}
