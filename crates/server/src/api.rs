//! Routes, sign-in, pages, ingest and status. The analytical views are in
//! [`crate::views`].

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Form, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use cadre_ingest::{Decoder, Outcome, JSON_TYPES, NDJSON_TYPES};
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

/// Whether a form post comes from cadre's own pages: a browser says where
/// a request comes from (`Sec-Fetch-Site`, `Origin`); a page of another
/// origin, even on the same site, must not sign a browser in (login CSRF).
/// A client that is not a browser sends neither and is let through.
fn from_own_page(headers: &HeaderMap) -> bool {
    let get = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return site == "same-origin" || site == "none";
    }
    match get("origin") {
        None => true,
        Some(origin) => {
            let host = origin.split_once("://").map(|(_, h)| h);
            host.is_some() && host == get("host")
        }
    }
}

/// `POST /login` (form field `token`): a valid token opens a session, whose
/// id (not the token) is kept in an HttpOnly, same-site cookie (`Secure`
/// under TLS), and the browser goes to the dashboard. Refused from another
/// origin's page; failed attempts are throttled per client address.
pub(crate) async fn login(
    State(s): State<Arc<Service>>,
    peer: Option<axum::Extension<crate::Peer>>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    if !from_own_page(&headers) {
        return ApiError::Forbidden("sign in from cadre's own sign-in page".into()).into_response();
    }
    let peer = peer.map(|axum::Extension(p)| p.0);
    if let Some(wait) = s.sessions.throttled(peer) {
        return ApiError::SignInThrottled(wait).into_response();
    }
    let token = f.token.trim();
    let Some(who) = s.authenticate(token) else {
        s.sessions.failed(peer);
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
    let session = s.sessions.open(token);
    let secure = if s.tls { "; Secure" } else { "" };
    let cookie = format!(
        "{COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        crate::session::SESSION_TTL.as_secs()
    );
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, "/".to_string()),
        ],
    )
        .into_response()
}

/// `GET|POST /logout`: ends the session and clears the cookie.
pub(crate) async fn logout(State(s): State<Arc<Service>>, headers: HeaderMap) -> Response {
    if let Some(id) = crate::auth::session_id(&headers) {
        s.sessions.close(id);
    }
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

/// The decoder a request's headers ask for: 415 for a body compressed in
/// any way (`Content-Encoding`) or declared as anything but JSON or NDJSON
/// (a form's `text/plain`, say). Declared NDJSON is read line by line even
/// when a line starts with '['.
fn decoder(headers: &HeaderMap) -> Result<Decoder, ApiError> {
    if let Some(enc) = headers.get(header::CONTENT_ENCODING) {
        let enc = enc.to_str().unwrap_or("?").trim();
        if !enc.eq_ignore_ascii_case("identity") {
            return Err(ApiError::UnsupportedMedia(format!(
                "Content-Encoding {enc:?} is not supported: send the body uncompressed"
            )));
        }
    }
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("?"));
    Decoder::for_media_type(media_type).ok_or_else(|| {
        let known: Vec<&str> = JSON_TYPES.iter().chain(&NDJSON_TYPES).copied().collect();
        ApiError::UnsupportedMedia(format!(
            "Content-Type {:?} is not an event body: send {}",
            media_type.unwrap_or_default(),
            known.join(" or ")
        ))
    })
}

/// Reads an ingest body within the limits: one of at most `max_uploads`
/// bodies read at once (429 beyond), at most `max_body_bytes` (413, before
/// reading when the declared length says so), all of it within
/// `body_timeout_secs` of the headers (408).
async fn read_body(s: &Service, headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let max = s.limits.max_body_bytes;
    let too_large = || {
        ApiError::TooLarge(format!(
            "the body is larger than {max} bytes: split it into smaller requests"
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let _permit = s.uploads.try_acquire().map_err(|_| {
        ApiError::Busy(
            format!(
                "{} uploads are being read; retry in a second",
                s.limits.max_uploads
            ),
            1.0,
        )
    })?;
    let deadline = std::time::Duration::from_secs_f64(s.limits.body_timeout_secs.max(0.1));
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, max)).await {
        Err(_) => Err(ApiError::Timeout(format!(
            "the body did not arrive within {} s: nothing was stored; send it again, faster or in smaller requests",
            s.limits.body_timeout_secs
        ))),
        Ok(Err(e)) if e.to_string().contains("length limit exceeded") => Err(too_large()),
        Ok(Err(e)) => Err(ApiError::BadRequest(format!("cannot read the body: {e}"))),
        Ok(Ok(bytes)) => Ok(bytes),
    }
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
    body: Body,
) -> Result<Response, ApiError> {
    let decoder = decoder(&headers)?;
    let body = read_body(&s, &headers, body).await?;
    let n = decoder.count(&body);
    if n == 0 {
        return Err(ApiError::BadRequest(
            "empty body: send one JSON event, a JSON array of events, or NDJSON".into(),
        ));
    }
    if n > s.limits.max_batch_events {
        return Err(ApiError::TooLarge(format!(
            "{n} events in one request; at most {}: split it, nothing was stored",
            s.limits.max_batch_events
        )));
    }
    let items = decoder.decode(&body);
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
