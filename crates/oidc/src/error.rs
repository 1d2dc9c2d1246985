//! Error answers of the provider's endpoints. Endpoints outside the OAuth protocol (JWKS)
//! answer in the API's error shape; the token endpoints will answer RFC 6749 errors.

use axum::response::{IntoResponse, Response};
use castellan_api::error::{rest_error, ApiErr};
use http::{header, StatusCode};

/// The API error shape with its HTTP status.
pub fn json(e: ApiErr) -> Response {
    let (status, body) = rest_error(&e.0);
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
