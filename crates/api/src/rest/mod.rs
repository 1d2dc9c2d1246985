//! REST transcoding, generated from the protos' `google.api.http` rules: a request is matched
//! to its RPC, turned into the RPC's protobuf message and sent through the very same gRPC
//! service (gate included) in process; the reply becomes proto3 JSON.

pub mod route;
pub mod transcode;
pub mod wire_json;

use crate::error::{rest_body, rest_error, ApiErr, RpcStatus};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::{BufMut, Bytes, BytesMut};
use castellan_domain::{Error, Kind};
use http::{HeaderMap, HeaderValue, StatusCode};
use http_body_util::BodyExt;
use prost::Message;
use prost_reflect::DynamicMessage;
use route::{Match, Routes};
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

/// What the REST handler needs.
#[derive(Clone)]
pub struct Rest {
    pub grpc: axum::Router,
    pub max_body: usize,
}

fn routes() -> &'static Routes {
    static R: OnceLock<Routes> = OnceLock::new();
    R.get_or_init(|| Routes::new(crate::methods::Methods::get()))
}

fn json(status: u16, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A REST error response for a domain error.
pub fn error_response(e: &Error) -> Response {
    let (status, body) = rest_error(e);
    json(status, body.to_string().into_bytes())
}

/// Whether reading a body failed at the size limit (not because its client stopped sending).
fn is_length_limit(e: &axum::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// Handles one REST request.
pub async fn handle(rest: Arc<Rest>, req: axum::extract::Request) -> Response {
    match handle_inner(&rest, req).await {
        Ok(r) => r,
        Err(ApiErr(e)) => error_response(&e),
    }
}

async fn handle_inner(rest: &Rest, req: axum::extract::Request) -> Result<Response, ApiErr> {
    let (parts, body) = req.into_parts();
    let (route, vars) = match routes().find(&parts.method, parts.uri.path()) {
        Match::Found(r, v) => (r, v),
        Match::WrongVerb => {
            let e = Error::new(
                Kind::InvalidArgument,
                "REST-m3th0",
                "Errors.Request.Method.NotAllowed",
            )
            .with(format!(
                "{} is not allowed on {}",
                parts.method,
                parts.uri.path()
            ));
            return Ok(with_status(error_response(&e), 405));
        }
        Match::NotFound => {
            return Err(ApiErr(
                Error::new(
                    Kind::NotFound,
                    "REST-r0ut3",
                    "Errors.Request.Route.NotFound",
                )
                .with(format!("{} {}", parts.method, parts.uri.path())),
            ));
        }
    };
    let bytes = match axum::body::to_bytes(body, rest.max_body).await {
        Ok(b) => b,
        Err(err) if is_length_limit(&err) => {
            let e = Error::new(
                Kind::ResourceExhausted,
                "REST-b0dyL",
                "Errors.Request.Body.TooLarge",
            )
            .with(format!("the limit is {} bytes", rest.max_body));
            return Ok(with_status(error_response(&e), 413));
        }
        Err(err) => {
            // The client stopped sending (the port's silence bound) or went away.
            let e = Error::new(
                Kind::InvalidArgument,
                "REST-b0dyT",
                "Errors.Request.Body.Unread",
            )
            .with(err.to_string());
            return Ok(with_status(error_response(&e), 408));
        }
    };
    let m = &route.method;
    let mut msg = match route.binding.body.as_str() {
        "*" => transcode::from_json(&m.input, &bytes)?,
        "" => DynamicMessage::new(m.input.clone()),
        field => {
            let mut msg = DynamicMessage::new(m.input.clone());
            if let Some(f) = m.input.get_field_by_name(field) {
                if let prost_reflect::Kind::Message(sub) = f.kind() {
                    msg.set_field(
                        &f,
                        prost_reflect::Value::Message(transcode::from_json(&sub, &bytes)?),
                    );
                }
            }
            msg
        }
    };
    if route.binding.body != "*" {
        if let Some(q) = parts.uri.query() {
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let k = route::percent_decode(&k.replace('+', " ")).unwrap_or_default();
                let v = route::percent_decode(&v.replace('+', " ")).unwrap_or_default();
                transcode::set_text(&mut msg, &k, &v, true)?;
            }
        }
    }
    for (field, value) in &vars {
        transcode::set_text(&mut msg, field, value, false)?;
    }
    let mut headers = parts.headers.clone();
    if !headers.contains_key(http::header::HOST) {
        // HTTP/2 carries the host in the URI authority.
        if let Some(v) = parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        {
            headers.insert(http::header::HOST, v);
        }
    }
    call(rest, &headers, m, msg).await
}

fn with_status(mut r: Response, status: u16) -> Response {
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    r
}

/// Calls the gRPC service in process and converts its answer.
async fn call(
    rest: &Rest,
    headers: &HeaderMap,
    m: &crate::methods::Method,
    msg: DynamicMessage,
) -> Result<Response, ApiErr> {
    let payload = msg.encode_to_vec();
    let mut framed = BytesMut::with_capacity(payload.len() + 5);
    framed.put_u8(0);
    framed.put_u32(payload.len() as u32);
    framed.extend_from_slice(&payload);
    // HTTP/2, as a real gRPC call: the gRPC-Web layer refuses plain gRPC over HTTP/1.1.
    let mut req = http::Request::builder()
        .method(http::Method::POST)
        .version(http::Version::HTTP_2)
        .uri(m.grpc_path.as_str());
    for (k, v) in headers {
        let name = k.as_str();
        if name == "authorization"
            || name == "host"
            || name.starts_with("x-")
            || name == "accept-language"
        {
            req = req.header(k, v);
        }
    }
    let req = req
        .header(http::header::CONTENT_TYPE, "application/grpc")
        .header("te", "trailers")
        .body(Body::from(framed.freeze()))
        .map_err(|e| ApiErr(Error::internal("REST-bu1ld", e.to_string())))?;
    let resp = rest
        .grpc
        .clone()
        .oneshot(req)
        .await
        .map_err(|e| ApiErr(Error::internal("REST-0n3sh", e.to_string())))?;
    let (parts, body) = resp.into_parts();
    let collected = body
        .collect()
        .await
        .map_err(|e| ApiErr(Error::internal("REST-b0dyC", e.to_string())))?;
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let data: Bytes = collected.to_bytes();
    let status_of = |h: &HeaderMap| {
        h.get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i32>().ok())
    };
    let code = status_of(&trailers)
        .or_else(|| status_of(&parts.headers))
        .unwrap_or(0);
    let mut out = if code != 0 {
        let details = trailers
            .get("grpc-status-details-bin")
            .or_else(|| parts.headers.get("grpc-status-details-bin"))
            .map(|v| v.as_bytes().to_vec());
        status_to_rest(code, details.as_deref())
    } else {
        if data.len() < 5 {
            return Err(ApiErr(Error::internal(
                "REST-sh0rt",
                format!(
                    "empty gRPC response (HTTP {}, headers {:?})",
                    parts.status, parts.headers
                ),
            )));
        }
        match wire_json::to_json(&m.output, &data[5..]) {
            Ok(body) => json(200, body),
            Err(_) => {
                // Types the direct writer leaves to prost-reflect (e.g. google.protobuf.Struct).
                let reply = DynamicMessage::decode(m.output.clone(), &data[5..])
                    .map_err(|e| ApiErr(Error::internal("REST-d3c0d", e.to_string())))?;
                json(200, transcode::to_json(&reply)?)
            }
        }
    };
    if let Some(rid) = parts.headers.get("x-request-id") {
        out.headers_mut().insert("x-request-id", rid.clone());
    }
    Ok(out)
}

fn status_to_rest(code: i32, details: Option<&[u8]>) -> Response {
    use base64::Engine;
    let st = details
        .and_then(|raw| {
            let trimmed: Vec<u8> = raw.iter().copied().filter(|b| *b != b'=').collect();
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(trimmed)
                .ok()
        })
        .and_then(|bin| RpcStatus::decode(bin.as_slice()).ok());
    let body = match st {
        Some(st) => {
            let detail = st
                .details
                .iter()
                .find(|a| a.type_url == crate::error::ERROR_DETAIL_TYPE)
                .and_then(|a| {
                    castellan_proto::zitadel::v1::ErrorDetail::decode(a.value.as_slice()).ok()
                });
            match detail {
                Some(d) => rest_body(code, &st.message, Some((&d.id, &d.message))),
                None => rest_body(code, &st.message, None),
            }
        }
        None => rest_body(code, "request failed", None),
    };
    json(
        crate::error::http_status(code),
        body.to_string().into_bytes(),
    )
}

impl IntoResponse for ApiErr {
    fn into_response(self) -> Response {
        error_response(&self.0)
    }
}
