//! The gate every RPC passes, whichever transport it came by (gRPC, gRPC-Web, or REST, which
//! is turned into an in-process gRPC call): request id, instance by host, authentication, the
//! method's declared permission, metrics and the access log.

use crate::authn;
use crate::ctx::Ctx;
use crate::error::{ApiErr, R};
use crate::methods::{Api, Method, Methods};
use crate::state::St;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use castellan_domain::Error;
use http::HeaderMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// A request id: the caller's `x-request-id` if sane, else a fresh one.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "{:x}-{:x}",
                std::process::id(),
                REQUESTS.fetch_add(1, Ordering::Relaxed)
            )
        })
}

/// The host a request is addressed to: a trusted instance-host header, else `Host`, else the
/// URI authority (HTTP/2).
pub fn host(st: &St, headers: &HeaderMap, uri: &http::Uri) -> String {
    for h in &st.cfg.instance_host_headers {
        if let Some(v) = headers.get(h.as_str()).and_then(|v| v.to_str().ok()) {
            return v.to_string();
        }
    }
    headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_default()
}

/// Resolves and authorises a call of `m`.
pub async fn authorize(
    st: &St,
    m: &Method,
    headers: &HeaderMap,
    uri: &http::Uri,
    request_id: String,
) -> R<Ctx> {
    if m.permission == "none" {
        return Ok(Ctx {
            instance_id: String::new(),
            principal: None,
            org_id: String::new(),
            request_id,
        });
    }
    let instance_id = authn::instance_by_host(&st.db, &st.cache, &host(st, headers, uri)).await?;
    let auth = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let p = authn::authenticate(&st.db, &st.cache, &instance_id, auth).await?;
    let org_header = headers
        .get("x-zitadel-orgid")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let org_id = org_header.map_or_else(|| p.org_id.clone(), str::to_string);
    let allowed = match (m.api, m.permission.as_str()) {
        (_, "authenticated") => true,
        (Api::Auth, _) => p.has_in_org(&m.permission, &p.org_id),
        (Api::Management, perm) => p.has_in_org(perm, &org_id),
        (Api::Admin, perm) => p.has_instance(perm),
        (Api::System, _) => false,
    };
    if !allowed {
        return Err(ApiErr(Error::denied()));
    }
    Ok(Ctx {
        instance_id,
        principal: Some(p),
        org_id,
        request_id,
    })
}

/// The axum middleware wrapping the gRPC services.
pub async fn gate(State(st): State<St>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let Some(m) = Methods::get().by_path(&path).cloned() else {
        return next.run(req).await;
    };
    let started = Instant::now();
    let rid = request_id(req.headers());
    let resp = match authorize(&st, &m, req.headers(), req.uri(), rid.clone()).await {
        Ok(ctx) => {
            req.extensions_mut().insert(ctx);
            next.run(req).await
        }
        Err(e) => tonic::Status::from(e).into_http::<axum::body::Body>(),
    };
    let code = resp
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let micros = started.elapsed().as_micros() as u64;
    st.metrics.record(&m.grpc_path, code, micros);
    tracing::info!(request_id = %rid, method = %m.name, code, micros, "rpc");
    let mut resp = resp;
    if let Ok(v) = http::HeaderValue::from_str(&rid) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}
