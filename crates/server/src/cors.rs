//! Cross-origin requests (the Fetch standard's CORS protocol), as ZITADEL answers them: a
//! browser application of any origin may call the APIs (REST, gRPC-Web, assets) and the OAuth
//! endpoints a single-page app fetches (discovery, keys, token, userinfo, introspection,
//! revocation, device authorization). These authenticate with bearer tokens or client
//! credentials, never with the browser's cookies. The pages a browser navigates to (the login,
//! `/authorize`, the device page, end session) get no CORS headers: they read the session
//! cookie, and another site must not read them.

use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};

/// Request headers a cross-origin caller may send (ZITADEL's list).
const ALLOW_HEADERS: &str = "origin, content-type, accept, accept-language, authorization, \
    x-zitadel-orgid, x-user-agent, x-grpc-web, x-requested-with, connect-protocol-version, \
    connect-timeout-ms, grpc-timeout";
const ALLOW_METHODS: &str = "OPTIONS, GET, HEAD, POST, PUT, PATCH, DELETE";
/// Response headers a cross-origin caller may read beyond the safelisted ones.
const EXPOSE_HEADERS: &str =
    "location, content-length, grpc-status, grpc-message, grpc-status-details-bin, x-request-id";
/// How long a browser may keep a preflight's answer (seconds).
const MAX_AGE: &str = "600";

/// The paths a browser navigates to, which stay same-origin.
fn is_page(path: &str) -> bool {
    path.starts_with("/ui/")
        || path.starts_with(castellan_oidc::authorize::AUTHORIZE_PATH)
        || path == "/device"
        || path == "/oidc/v1/end_session"
}

/// What a request asks of CORS.
pub enum Cors {
    /// Same-origin, not from a browser, or to a page: nothing.
    None,
    /// A preflight: answered here, without the router.
    Preflight(HeaderValue),
    /// A cross-origin request: its answer is marked readable by `origin`.
    Answer(HeaderValue),
}

/// Classifies a request by its method, path and headers.
pub fn of(method: &Method, path: &str, headers: &HeaderMap) -> Cors {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Cors::None;
    };
    if is_page(path) {
        return Cors::None;
    }
    if method == Method::OPTIONS && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        return Cors::Preflight(origin.clone());
    }
    Cors::Answer(origin.clone())
}

/// The answer to a preflight from `origin`.
pub fn preflight(origin: HeaderValue) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    allow(h, origin);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOW_METHODS),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE),
    );
    r
}

/// Marks an answer readable by `origin`.
pub fn expose(h: &mut HeaderMap, origin: HeaderValue) {
    allow(h, origin);
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
}

/// The origin echoed (with credentials, `*` would not do) and `Vary: Origin` for caches.
fn allow(h: &mut HeaderMap, origin: HeaderValue) {
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    h.append(header::VARY, HeaderValue::from_static("origin"));
}
