//! What the authorization endpoint answers with: HTML pages (errors, notices) and responses to
//! the client in its response mode (query, fragment, form_post), OAuth errors included.

use crate::auth_request::AuthRequest;
use crate::authorize::issuer;
use axum::response::{Html, IntoResponse, Response};
use castellan_api::state::St;
use http::{header, StatusCode};

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    // The special characters are ASCII, so the runs between them are whole characters; most
    // values (sealed requests, tokens, names) have none and are copied at once.
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        o.push_str(&s[from..i]);
        o.push_str(entity);
        from = i + 1;
    }
    o.push_str(&s[from..]);
    o
}

/// What a page drawn without the instance's branding says, carried in its response's
/// extensions so that the hosted login can draw it again in the branding of the instance the
/// request's host names. Texts are plain; `body` is HTML. Unless `lang_chosen`, the page is
/// English and the login picks its language: `key`, when set, names the login text of
/// `error`; else the texts are the provider's English words.
#[derive(Debug, Clone, Default)]
pub struct PlainPage {
    pub lang: String,
    pub lang_chosen: bool,
    pub title: String,
    pub description: String,
    pub error: String,
    pub body: String,
    pub key: String,
}

/// A plain error page of the provider (the request cannot go back to the client).
pub fn error_page(status: StatusCode, title: &str, text: &str) -> Response {
    page(status, title, text, true)
}

/// The page of a step that failed: bad input is the request's fault (400, naming the
/// problem); anything else is logged and answered as busy (503).
pub fn failure_page(e: &castellan_domain::Error, step: &str) -> Response {
    if e.kind == castellan_domain::Kind::InvalidArgument {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The application's request is invalid",
            &e.text(),
        );
    }
    tracing::error!(error = %e.text(), step, "a login step failed");
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again",
        "The service is busy.",
    )
}

/// A plain page of the provider with a message.
pub fn info_page(status: StatusCode, title: &str, text: &str) -> Response {
    page(status, title, text, false)
}

fn page(status: StatusCode, title: &str, text: &str, alert: bool) -> Response {
    let role = if alert { "role=\"alert\"" } else { "" };
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"color-scheme\" content=\"light dark\"><title>{t}</title></head>\
         <body style=\"font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;background:Canvas;color:CanvasText\"><main><h1>{t}</h1><p {role}>{x}</p></main></body></html>",
        t = escape(title),
        x = escape(text)
    );
    let mut r = (status, [(header::CACHE_CONTROL, "no-store")], Html(body)).into_response();
    let (description, error) = match alert {
        true => (String::new(), text.to_string()),
        false => (text.to_string(), String::new()),
    };
    r.extensions_mut().insert(PlainPage {
        lang: "en".into(),
        title: title.into(),
        description,
        error,
        ..PlainPage::default()
    });
    r
}

/// Sends `params` to `redirect_uri` in the response mode (`query`, `fragment`, `form_post`).
pub fn respond(mode: &str, redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let params: Vec<(&str, &str)> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .copied()
        .collect();
    if mode == "form_post" {
        let mut inputs = String::new();
        for (k, v) in &params {
            inputs.push_str(&format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            ));
        }
        let body = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Submit</title></head>\
             <body onload=\"document.forms[0].submit()\"><form method=\"post\" action=\"{}\">{inputs}\
             <noscript><p>JavaScript is off: press the button to continue.</p><button type=\"submit\">Continue</button></noscript></form></body></html>",
            escape(redirect_uri)
        );
        return (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            Html(body),
        )
            .into_response();
    }
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    let url = if mode == "fragment" {
        format!("{redirect_uri}#{encoded}")
    } else if redirect_uri.contains('?') {
        format!("{redirect_uri}&{encoded}")
    } else {
        format!("{redirect_uri}?{encoded}")
    };
    redirect(&url)
}

/// A 302 to `url`, not cached.
pub fn redirect(url: &str) -> Response {
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, url.to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
    )
        .into_response()
}

/// An OAuth error sent back to the client of `r`.
pub fn redirect_error(st: &St, host: &str, r: &AuthRequest, error: &str, desc: &str) -> Response {
    let iss = issuer(st, host);
    respond(
        &response_mode(r),
        &r.redirect_uri,
        &[
            ("error", error),
            ("error_description", desc),
            ("state", &r.state),
            ("iss", &iss),
        ],
    )
}

pub fn response_mode(r: &AuthRequest) -> String {
    if !r.response_mode.is_empty() {
        r.response_mode.clone()
    } else if r
        .response_type
        .split_ascii_whitespace()
        .any(|t| t == "token" || t == "id_token")
    {
        // Tokens never go into a query (OAuth 2.0 Multiple Response Types 2.1).
        "fragment".into()
    } else {
        "query".into()
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escape_replaces_the_five_html_specials_and_keeps_the_rest() {
        assert_eq!(escape(""), "");
        assert_eq!(escape("eyJhbGciOi-_.~"), "eyJhbGciOi-_.~");
        assert_eq!(
            escape(r#"<a href="x?a=1&b='2'">"#),
            "&lt;a href=&quot;x?a=1&amp;b=&#39;2&#39;&quot;&gt;"
        );
        assert_eq!(escape("é<ü>ß&"), "é&lt;ü&gt;ß&amp;");
        assert_eq!(escape("&&"), "&amp;&amp;");
    }
}
