//! Routes, sign-in, pages, ingest and status. The analytical views are in
//! [`crate::views`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Form, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use cadre_ingest::{Decoder, Outcome};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{Access, Caller, COOKIE};
use crate::{ApiError, Service};

const DASHBOARD: &str = include_str!("../assets/index.html");
const LOGIN: &str = include_str!("../assets/login.html");

/// Static files of the dashboard: (name, content type, body).
const ASSETS: [(&str, &str, &str); 3] = [
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../assets/app.css"),
    ),
    (
        "chart.umd.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/vendor/chart-4.6.1.umd.min.js"),
    ),
];

/// Any other path: a JSON 404, like every other error of the API.
pub(crate) async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!(
        "no such endpoint {}; see /openapi.json",
        uri.path()
    ))
}

/// The dashboard, for signed-in callers; others are sent to the sign-in form.
pub(crate) async fn dashboard(State(s): State<Arc<Service>>, headers: HeaderMap) -> Response {
    match Access::Read.require(&s, &headers) {
        Ok(_) => Html(DASHBOARD).into_response(),
        Err(ApiError::Unauthorized) => Redirect::to("/login").into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn asset(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    Access::Read.require(&s, &headers)?;
    let (_, kind, body) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == file)
        .ok_or_else(|| ApiError::NotFound(format!("no asset {file:?}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, *kind),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        *body,
    )
        .into_response())
}

pub(crate) async fn login_form() -> Html<&'static str> {
    Html(LOGIN)
}

/// The sign-in form: the token pasted in.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    token: String,
}

/// `POST /login` (form field `token`): a valid token is kept in an HttpOnly,
/// same-site cookie and the browser goes to the dashboard.
pub(crate) async fn login(State(s): State<Arc<Service>>, Form(f): Form<LoginForm>) -> Response {
    let token = f.token.trim();
    let Some(who) = s.authenticate(token) else {
        return (
            StatusCode::UNAUTHORIZED,
            Html(LOGIN.replace("<!--error-->", "That token is not valid.")),
        )
            .into_response();
    };
    if !who.role.may_read() {
        return (
            StatusCode::FORBIDDEN,
            Html(LOGIN.replace(
                "<!--error-->",
                "That token may only post events; it cannot open the dashboard.",
            )),
        )
            .into_response();
    }
    let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=28800");
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, "/".to_string()),
        ],
    )
        .into_response()
}

pub(crate) async fn logout() -> Response {
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, "/login".to_string()),
        ],
    )
        .into_response()
}

pub(crate) async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub(crate) async fn metrics(
    State(s): State<Arc<Service>>,
    _: Caller,
) -> Result<Response, ApiError> {
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.engine().metrics().render(),
    )
        .into_response())
}

/// `GET /v1/me`: who the token belongs to and what they may do.
pub(crate) async fn me(
    State(s): State<Arc<Service>>,
    Caller(who): Caller,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({
        "name": who.name,
        "role": who.role.as_str(),
        "scope": who.scope,
        "k": s.k(),
        "may": {
            "read": who.role.may_read(),
            "ingest": who.role.may_ingest(),
            "individuals": who.role.may_see_individuals(),
            "succession": who.role.may_see_succession(),
        },
    })))
}

pub(crate) async fn status(
    State(s): State<Arc<Service>>,
    _: Caller,
) -> Result<Json<Value>, ApiError> {
    let st = tokio::task::spawn_blocking(move || s.engine().status()).await?;
    Ok(Json(json!({
        "events": st.events,
        "dead_letters": st.dead_letters,
        "log_bytes": st.log_bytes,
        "latest_occurred_at": st.latest,
    })))
}

/// `POST /v1/events`: one event, an array, or NDJSON; one result per item.
/// With `Content-Type: application/x-ndjson` the body is read as NDJSON only.
///
/// 200 when every item was accepted or a duplicate; 422 when any was
/// rejected (the others are stored all the same; the body says which).
pub(crate) async fn post_events(
    State(s): State<Arc<Service>>,
    Caller(who): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(format!(
                "the body is larger than {} bytes: split it into smaller requests",
                s.limits.max_body_bytes
            ))
        } else {
            ApiError::BadRequest(format!("cannot read the body: {e}"))
        }
    })?;
    // declared NDJSON is read line by line even when a line starts with '['
    let media_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let items = Decoder::for_media_type(media_type).decode(&body);
    if items.is_empty() {
        return Err(ApiError::BadRequest(
            "empty body: send one JSON event, a JSON array of events, or NDJSON".into(),
        ));
    }
    if items.len() > s.limits.max_batch_events {
        return Err(ApiError::TooLarge(format!(
            "{} events in one request; at most {}: split it, nothing was stored",
            items.len(),
            s.limits.max_batch_events
        )));
    }
    s.rate
        .take(&s.limits, &who.name, items.len())
        .map_err(ApiError::RateLimited)?;
    let batch = tokio::task::spawn_blocking(move || s.engine().ingest("http", items)).await??;
    let (accepted, duplicate, rejected) = batch.counts();
    let status = if rejected == 0 {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let results: Vec<&Outcome> = batch.outcomes.iter().collect();
    Ok((
        status,
        Json(json!({
            "accepted": accepted,
            "duplicate": duplicate,
            "rejected": rejected,
            "results": results,
        })),
    )
        .into_response())
}
