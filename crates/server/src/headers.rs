//! Headers every answer carries, so that a browser treats cadre's pages as
//! they are meant: no framing by another site, no guessing of content types,
//! scripts only from cadre itself, and, under TLS, HTTPS only from then on.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::Service;

/// Scripts, styles, images and requests from cadre itself only; no plugins,
/// no `<base>`, forms post to cadre, and no site may frame it. Inline styles
/// stay allowed (charts set sizes on their canvases); inline scripts do not.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// HTTPS for a year, once a browser has seen cadre over TLS.
pub(crate) const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// Adds the security headers to every answer.
pub(crate) async fn secure(
    State(s): State<Arc<Service>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    if s.tls {
        set(
            h,
            header::STRICT_TRANSPORT_SECURITY,
            STRICT_TRANSPORT_SECURITY,
        );
    }
    response
}
