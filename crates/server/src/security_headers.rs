//! Headers every answer carries: `X-Content-Type-Options: nosniff` (a browser never reads JSON
//! or an upload as a script or page) and, when users reach Castellan over https, HSTS (a year;
//! the instance's domain only, since other subdomains may not serve https). The login pages add
//! their own framing and script policy (`login/src/frame.rs`).

use http::{header, HeaderMap, HeaderValue};

/// Adds the headers; `https` is whether users reach Castellan over https.
pub fn add(h: &mut HeaderMap, https: bool) {
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
}
