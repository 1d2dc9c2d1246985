//! Who may show the login pages (`/ui/login/*`, `/device`) in a frame, set in this one layer
//! from the instance's security policy: by default `X-Frame-Options: DENY` and
//! `Content-Security-Policy: frame-ancestors 'none'`; with iframe embedding enabled,
//! `frame-ancestors` lists the allowed origins and `X-Frame-Options` is left out (it cannot
//! name origins). Other directives a page sets are kept in the same header.

use crate::Login;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{header, HeaderValue};

const NONE: &str = "frame-ancestors 'none'";

/// The layer's function (`axum::middleware::from_fn_with_state`).
pub async fn headers(State(l): State<Login>, req: Request, next: Next) -> Response {
    let host = castellan_api::gate::host(&l.st, req.headers(), req.uri());
    let mut r = next.run(req).await;
    set(&l, &host, &mut r).await;
    r
}

/// Sets the framing headers of a login page served for `host`.
pub async fn set(l: &Login, host: &str, r: &mut Response) {
    // Any failure to read the policy leaves the pages unframeable.
    let policy = match castellan_api::authn::instance_by_host(&l.st.db, &l.st.cache, host).await {
        Ok(inst) => castellan_api::app::security_policy::of_instance(&l.st, &inst)
            .await
            .ok(),
        Err(_) => None,
    };
    let (ancestors, embeddable) = match &policy {
        Some(p) if p.enable_iframe_embedding => (p.frame_ancestors(), true),
        _ => (NONE.to_string(), false),
    };
    let h = r.headers_mut();
    let csp = match h
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
    {
        Some(other) if !other.is_empty() => format!("{ancestors}; {other}"),
        _ => ancestors,
    };
    let (csp, embeddable) = match HeaderValue::from_str(&csp) {
        Ok(v) => (v, embeddable),
        Err(_) => (HeaderValue::from_static(NONE), false),
    };
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    if embeddable {
        h.remove(header::X_FRAME_OPTIONS);
    } else {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
}
