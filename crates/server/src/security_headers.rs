//! Headers every answer carries: `X-Content-Type-Options: nosniff` (a browser never reads JSON
//! or an upload as a script or page) and, when users reach Castellan over https, HSTS (a year;
//! the instance's domain only, since other subdomains may not serve https). The login pages add
//! their own framing and script policy (`login/src/frame.rs`).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{header, HeaderValue};

/// The middleware; `https` is whether users reach Castellan over https.
pub async fn layer(State(https): State<bool>, req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    r
}
