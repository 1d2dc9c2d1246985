//! `GET|POST /oidc/v1/userinfo` (OIDC core 5.3): the claims of the access token's user for
//! the token's scopes. The token comes as `Authorization: Bearer` or, on POST, as the form
//! field `access_token` (RFC 6750 2.2). Missing, malformed, expired or revoked tokens get 401
//! with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 3.1); a token granted
//! without the `openid` scope gets 403 `insufficient_scope`.

use crate::claims::{user_claims, ClientCtx, Target};
use crate::Oidc;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use castellan_api::app::claims_data;
use http::{header, Method, StatusCode};

/// Largest form body read.
const MAX_FORM: usize = 16 * 1024;

pub async fn userinfo(State(o): State<Oidc>, req: Request) -> Response {
    let st = &o.st;
    let host = castellan_api::gate::host(st, req.headers(), req.uri());
    let instance = match castellan_api::authn::instance_by_host(&st.db, &st.cache, &host).await {
        Ok(i) => i,
        Err(e) => return crate::error::json(e),
    };
    let Some(token) = bearer(req).await else {
        return bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request",
            "no access token",
        );
    };
    let t = match castellan_api::token_check::read_access_token(st, &instance, &token).await {
        Ok(t) => t,
        Err(_) => {
            return bearer_error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the access token is invalid or expired",
            )
        }
    };
    match castellan_api::token_check::access_token_active(st, &t).await {
        Ok(true) => {}
        Ok(false) => {
            return bearer_error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the access token was revoked or its user is no longer active",
            )
        }
        Err(e) => return crate::error::json(e),
    }
    if !t.scopes.iter().any(|s| s == "openid") {
        return bearer_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "the access token was not granted the openid scope",
        );
    }
    let project_id = match claims_data::client(st, &instance, &t.client_id).await {
        Ok(c) => c
            .as_ref()
            .as_ref()
            .map(|c| c.project_id.clone())
            .unwrap_or_default(),
        Err(e) => return crate::error::json(e),
    };
    let client = ClientCtx {
        client_id: t.client_id.clone(),
        project_id,
        with_access_token: true,
    };
    let prefix = castellan_api::assets::url_prefix(st, &host);
    let claims = castellan_api::assets::with_prefix(
        prefix,
        user_claims(
            st,
            &instance,
            &t.subject,
            &t.scopes,
            &client,
            Target::Userinfo,
        ),
    )
    .await;
    match claims {
        Ok(m) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            serde_json::Value::Object(m).to_string(),
        )
            .into_response(),
        // The token's user is gone (removed since the token's check was cached).
        Err(e) if e.0.kind == castellan_domain::Kind::NotFound => bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the token's user no longer exists",
        ),
        Err(e) => crate::error::json(e),
    }
}

/// The bearer token of the request: the `Authorization` header, else on a form POST the
/// `access_token` field.
async fn bearer(req: Request) -> Option<String> {
    if let Some(h) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, value) = h.trim().split_once(' ')?;
        return (scheme.eq_ignore_ascii_case("bearer") && !value.trim().is_empty())
            .then(|| value.trim().to_string());
    }
    if req.method() != Method::POST {
        return None;
    }
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return None;
    }
    let body = axum::body::to_bytes(req.into_body(), MAX_FORM).await.ok()?;
    form_value(&body, "access_token").filter(|v| !v.is_empty())
}

/// The first value of `name` in an `application/x-www-form-urlencoded` body.
pub fn form_value(body: &[u8], name: &str) -> Option<String> {
    body.split(|b| *b == b'&').find_map(|pair| {
        let mut it = pair.splitn(2, |b| *b == b'=');
        let k = decode(it.next()?)?;
        (k == name)
            .then(|| decode(it.next().unwrap_or(b"")))
            .flatten()
    })
}

fn decode(s: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(s.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// An RFC 6750 error: the status, `WWW-Authenticate: Bearer error=...` and the JSON body.
fn bearer_error(status: StatusCode, error: &str, description: &str) -> Response {
    let challenge = if error == "invalid_request" {
        // No credentials at all: no error code (RFC 6750 3.1).
        "Bearer".to_string()
    } else if error == "insufficient_scope" {
        format!("Bearer error=\"{error}\", error_description=\"{description}\", scope=\"openid\"")
    } else {
        format!("Bearer error=\"{error}\", error_description=\"{description}\"")
    };
    let body = serde_json::json!({ "error": error, "error_description": description });
    Response::builder()
        .status(status)
        .header(header::WWW_AUTHENTICATE, challenge)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| status.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values() {
        assert_eq!(
            form_value(b"a=1&access_token=v1.ab%2Bc+d", "access_token").as_deref(),
            Some("v1.ab+c d")
        );
        assert_eq!(form_value(b"a=1", "access_token"), None);
        assert_eq!(form_value(b"access_token=%zz", "access_token"), None);
    }
}
