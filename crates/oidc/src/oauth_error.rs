//! RFC 6749 (section 5.2) error answers of the token, introspection and revocation endpoints:
//! `{"error", "error_description"}` with the status the RFC asks for.

use axum::response::{IntoResponse, Response};
use castellan_api::error::ApiErr;
use castellan_domain::{Error, Kind};
use http::{header, HeaderValue, StatusCode};

/// An OAuth error on its way out.
#[derive(Debug, Clone)]
pub struct OAuthError {
    /// Stable id of the place that refused (logged, not sent).
    pub id: &'static str,
    pub status: StatusCode,
    /// The RFC 6749 code (`invalid_request`, `invalid_client`, ...).
    pub error: &'static str,
    pub description: String,
    /// Add `WWW-Authenticate: Basic` (the client tried HTTP basic authentication).
    pub basic_challenge: bool,
}

/// Result of the OAuth endpoints.
pub type OResult<T> = Result<T, OAuthError>;

impl OAuthError {
    fn new(
        id: &'static str,
        status: StatusCode,
        error: &'static str,
        description: impl Into<String>,
    ) -> Self {
        OAuthError {
            id,
            status,
            error,
            description: description.into(),
            basic_challenge: false,
        }
    }
    pub fn invalid_request(id: &'static str, d: impl Into<String>) -> Self {
        Self::new(id, StatusCode::BAD_REQUEST, "invalid_request", d)
    }
    pub fn invalid_client(id: &'static str, d: impl Into<String>) -> Self {
        Self::new(id, StatusCode::UNAUTHORIZED, "invalid_client", d)
    }
    pub fn invalid_grant(id: &'static str, d: impl Into<String>) -> Self {
        Self::new(id, StatusCode::BAD_REQUEST, "invalid_grant", d)
    }
    pub fn unauthorized_client(id: &'static str, d: impl Into<String>) -> Self {
        Self::new(id, StatusCode::BAD_REQUEST, "unauthorized_client", d)
    }
    pub fn unsupported_grant_type(id: &'static str, d: impl Into<String>) -> Self {
        Self::new(id, StatusCode::BAD_REQUEST, "unsupported_grant_type", d)
    }
    pub fn invalid_scope(id: &'static str, d: impl Into<String>) -> Self {
        Self::new(id, StatusCode::BAD_REQUEST, "invalid_scope", d)
    }
    /// A method the endpoint does not take (405; the `Allow` header lists the ones it does).
    pub fn method_not_allowed(method: &http::Method, path: &str) -> Self {
        Self::new(
            "OIDC-m3th0",
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            format!("{method} is not allowed on {path}"),
        )
    }
    pub fn server_error(id: &'static str, d: impl Into<String>) -> Self {
        Self::new(id, StatusCode::INTERNAL_SERVER_ERROR, "server_error", d)
    }
    /// Marks an `invalid_client` answer to a basic-authenticated request.
    pub fn with_basic(mut self, basic: bool) -> Self {
        self.basic_challenge = basic && self.error == "invalid_client";
        self
    }
}

impl From<Error> for OAuthError {
    fn from(e: Error) -> Self {
        let text = e.detail.as_deref().unwrap_or(e.key).to_string();
        match e.kind {
            Kind::Internal | Kind::Unavailable | Kind::Aborted => {
                tracing::error!(id = e.id, detail = ?e.detail, "OAuth endpoint failed");
                let mut o = OAuthError::server_error(e.id, "the request could not be completed");
                if e.kind != Kind::Internal {
                    o.status = StatusCode::SERVICE_UNAVAILABLE;
                    o.error = "temporarily_unavailable";
                }
                o
            }
            Kind::NotFound => {
                let mut o = OAuthError::invalid_request(e.id, text);
                o.status = StatusCode::NOT_FOUND;
                o
            }
            _ => OAuthError::invalid_request(e.id, text),
        }
    }
}

impl From<ApiErr> for OAuthError {
    fn from(e: ApiErr) -> Self {
        e.0.into()
    }
}

/// Headers every token answer carries (RFC 6749 5.1).
pub const NO_STORE: [(header::HeaderName, &str); 2] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::PRAGMA, "no-cache"),
];

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        tracing::debug!(id = self.id, error = self.error, description = %self.description, "OAuth error");
        let body = serde_json::json!({"error": self.error, "error_description": self.description});
        let mut r = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            NO_STORE,
            body.to_string(),
        )
            .into_response();
        if self.basic_challenge {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"castellan\""),
            );
        }
        r
    }
}

/// A JSON answer with the no-store headers.
pub fn json_ok(body: &serde_json::Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        NO_STORE,
        body.to_string(),
    )
        .into_response()
}
