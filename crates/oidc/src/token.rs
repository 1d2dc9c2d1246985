//! `POST /oauth/v2/token`: reads the form, resolves the instance and issuer, dispatches on
//! `grant_type`. The form reader and the request context serve introspection and revocation too.

use crate::oauth_error::{OAuthError, OResult};
use crate::Oidc;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;

/// Largest accepted form body.
const MAX_FORM: usize = 64 * 1024;

/// The JWT bearer grant (RFC 7523 2.1).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// An `application/x-www-form-urlencoded` body.
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

/// Parameters that may be given more than once (RFC 8693 2.1).
const MULTI: &[&str] = &["audience", "resource"];

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// A parameter given more than once (RFC 6749 3.2 forbids it), except those RFC 8693
    /// allows several of (`audience`, `resource`).
    pub fn repeated(&self) -> Option<&str> {
        self.0
            .iter()
            .enumerate()
            .filter(|(_, (k, _))| !MULTI.contains(&k.as_str()))
            .find(|(i, (k, _))| self.0[..*i].iter().any(|(k2, _)| k2 == k))
            .map(|(_, (k, _))| k.as_str())
    }

    /// Every non-empty value of `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The first non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name` or `invalid_request` naming it.
    pub fn require(&self, name: &str) -> OResult<&str> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request("OIDC-tok01", format!("{name} is missing")))
    }
}

/// Who is asked: the instance (by host) and its issuer, the origin the request came to.
#[derive(Debug, Clone)]
pub struct Call {
    pub instance: String,
    pub issuer: String,
}

impl Call {
    /// The URL of an endpoint path under the issuer.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

/// Resolves the instance of a request.
pub async fn call(o: &Oidc, headers: &HeaderMap, uri: &http::Uri) -> OResult<Call> {
    let host = castellan_api::gate::host(&o.st, headers, uri);
    let instance = castellan_api::authn::instance_by_host(&o.st.db, &o.st.cache, &host).await?;
    Ok(Call {
        issuer: crate::authorize::issuer(&o.st, &host),
        instance,
    })
}

/// Reads a form POST: the context, the headers and the form.
pub async fn read(o: &Oidc, req: Request) -> OResult<(Call, HeaderMap, Form)> {
    let (parts, body) = req.into_parts();
    if parts.method != http::Method::POST {
        return Err(OAuthError::invalid_request(
            "OIDC-tok02",
            "the endpoint takes POST requests",
        ));
    }
    let form_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !form_type {
        return Err(OAuthError::invalid_request(
            "OIDC-tok03",
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let body = axum::body::to_bytes(body, MAX_FORM).await.map_err(|_| {
        OAuthError::invalid_request("OIDC-tok04", "the body is too large or unreadable")
    })?;
    let c = call(o, &parts.headers, &parts.uri).await?;
    let form = Form::parse(&body);
    if let Some(k) = form.repeated() {
        return Err(OAuthError::invalid_request(
            "OIDC-tok05",
            format!("{k} is given more than once"),
        ));
    }
    Ok((c, parts.headers, form))
}

/// The token endpoint.
pub async fn token(State(o): State<Oidc>, req: Request) -> Response {
    match dispatch(&o, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn dispatch(o: &Oidc, req: Request) -> OResult<Response> {
    let (c, headers, form) = read(o, req).await?;
    match form.require("grant_type")? {
        "client_credentials" => crate::grant_client_credentials::run(o, &c, &headers, &form).await,
        JWT_BEARER => crate::grant_jwt_profile::run(o, &c, &form).await,
        "authorization_code" => crate::grant_code::run(o, &c, &headers, &form).await,
        crate::grant_device::DEVICE_CODE => crate::grant_device::run(o, &c, &headers, &form).await,
        "refresh_token" => crate::grant_refresh::run(o, &c, &headers, &form).await,
        crate::grant_token_exchange::GRANT => {
            crate::grant_token_exchange::run(o, &c, &headers, &form).await
        }
        other => Err(OAuthError::unsupported_grant_type(
            "OIDC-tok06",
            format!("grant_type {other} is not supported"),
        )),
    }
}
