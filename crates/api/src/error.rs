//! The one place where domain errors become gRPC statuses and REST error bodies.

use castellan_domain::{Error, Kind};
use prost::Message;
use tonic::{Code, Status};

/// An API error: a domain error on its way out. Converts into `tonic::Status`.
#[derive(Debug, Clone)]
pub struct ApiErr(pub Error);

/// Result of API operations.
pub type R<T> = Result<T, ApiErr>;

impl From<Error> for ApiErr {
    fn from(e: Error) -> Self {
        ApiErr(e)
    }
}

/// `google.rpc.Status`, the payload of `grpc-status-details-bin`.
#[derive(Clone, PartialEq, Message)]
pub struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<prost_types::Any>,
}

pub const ERROR_DETAIL_TYPE: &str = "type.googleapis.com/zitadel.v1.ErrorDetail";

/// gRPC code of a domain error kind.
pub fn code(kind: Kind) -> Code {
    match kind {
        Kind::InvalidArgument => Code::InvalidArgument,
        Kind::NotFound => Code::NotFound,
        Kind::AlreadyExists => Code::AlreadyExists,
        Kind::PermissionDenied => Code::PermissionDenied,
        Kind::Unauthenticated => Code::Unauthenticated,
        Kind::FailedPrecondition => Code::FailedPrecondition,
        Kind::Aborted => Code::Aborted,
        Kind::ResourceExhausted => Code::ResourceExhausted,
        Kind::Unimplemented => Code::Unimplemented,
        Kind::Unavailable => Code::Unavailable,
        Kind::Internal => Code::Internal,
    }
}

/// HTTP status of a gRPC code (grpc-gateway's table).
pub fn http_status(code: i32) -> u16 {
    match code {
        0 => 200,
        1 => 499,
        3 | 9 | 11 => 400,
        4 => 504,
        5 => 404,
        6 | 10 => 409,
        7 => 403,
        8 => 429,
        12 => 501,
        14 => 503,
        16 => 401,
        _ => 500,
    }
}

impl From<ApiErr> for Status {
    fn from(ApiErr(e): ApiErr) -> Self {
        let text = public_text(&e);
        let detail = castellan_proto::zitadel::v1::ErrorDetail {
            id: e.id.to_string(),
            message: text.clone(),
        };
        let c = code(e.kind);
        let status = RpcStatus {
            code: c as i32,
            message: format!("{text} ({})", e.id),
            details: vec![prost_types::Any {
                type_url: ERROR_DETAIL_TYPE.into(),
                value: detail.encode_to_vec(),
            }],
        };
        Status::with_details(c, status.message.clone(), status.encode_to_vec().into())
    }
}

/// The text a caller is shown: an internal error's detail (a database's message, a file path)
/// is logged with its id and not sent.
fn public_text(e: &Error) -> String {
    if e.kind != Kind::Internal {
        return e.text();
    }
    tracing::error!(id = e.id, detail = ?e.detail, "internal error");
    castellan_domain::i18n::english(e.key).to_string()
}

/// Sets the gRPC status headers of `e` (`grpc-status`, `grpc-message`,
/// `grpc-status-details-bin`) on an answer that is not the gRPC service's own.
pub fn set_grpc_status(h: &mut http::HeaderMap, e: Error) {
    let status = Status::from(ApiErr(e)).into_http::<axum::body::Body>();
    for name in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
        if let Some(v) = status.headers().get(name) {
            h.insert(name, v.clone());
        }
    }
}

/// The REST error body `{code, message, details: [{@type, id, message}]}`.
pub fn rest_body(code: i32, message: &str, detail: Option<(&str, &str)>) -> serde_json::Value {
    let details: Vec<serde_json::Value> = detail
        .map(|(id, msg)| serde_json::json!({"@type": ERROR_DETAIL_TYPE, "id": id, "message": msg}))
        .into_iter()
        .collect();
    serde_json::json!({"code": code, "message": message, "details": details})
}

/// REST body and HTTP status of a domain error.
pub fn rest_error(e: &Error) -> (u16, serde_json::Value) {
    let c = code(e.kind) as i32;
    let text = public_text(e);
    (
        http_status(c),
        rest_body(c, &format!("{text} ({})", e.id), Some((e.id, &text))),
    )
}

/// Shorthands for errors raised in the API layer itself.
pub fn invalid(detail: impl Into<std::borrow::Cow<'static, str>>) -> ApiErr {
    ApiErr(Error::invalid(
        "API-1nv4l",
        "Errors.Invalid.Argument",
        detail,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_stay_in_the_log() {
        let e = Error::internal("STORE-sq1Er", "22021: invalid byte sequence in /var/lib/db");
        let (status, body) = rest_error(&e);
        assert_eq!(status, 500);
        assert_eq!(body["message"], "Internal error (STORE-sq1Er)");
        assert!(!body.to_string().contains("22021"), "{body}");
        let st = Status::from(ApiErr(e));
        assert_eq!(st.message(), "Internal error (STORE-sq1Er)");
        // Other errors keep naming the problem.
        let e = Error::invalid(
            "API-1nv4l",
            "Errors.Invalid.Argument",
            "name must not be empty",
        );
        assert!(rest_error(&e).1["message"]
            .as_str()
            .is_some_and(|m| m.contains("name must not be empty")));
    }
}
