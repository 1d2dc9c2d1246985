//! The gate every RPC passes, whichever transport it came by (gRPC, gRPC-Web, or REST, which
//! is turned into an in-process gRPC call): request id, instance by host, authentication, the
//! method's declared permission, metrics and the access log.

use crate::authn;
use crate::ctx::{Ctx, Principal};
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

/// The outcome of [`authorize`].
pub enum Access {
    /// The call is allowed.
    Granted(Ctx),
    /// The caller lacks the permission in the context organisation, but holds roles on projects
    /// or project grants and the method names the project or grant it acts on
    /// (`check_field_name`): the request message decides.
    ByProject(Ctx),
}

/// Resolves and authorises a call of `m` on the instance, organisation and caller.
pub async fn authorize(
    st: &St,
    m: &Method,
    headers: &HeaderMap,
    uri: &http::Uri,
    request_id: String,
) -> R<Access> {
    if m.permission == "none" {
        return Ok(Access::Granted(Ctx {
            instance_id: String::new(),
            principal: None,
            org_id: String::new(),
            request_id,
            scope: None,
        }));
    }
    let auth = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if m.api == Api::System {
        return authorize_system(st, m, headers, uri, auth, request_id);
    }
    let ctx = resolve(st, headers, uri, request_id).await?;
    let allowed = allows(&ctx, m.api, &m.permission);
    let Some(p) = ctx.principal.clone() else {
        return Err(ApiErr(Error::denied()));
    };
    let scope = if allowed || m.api != Api::Management {
        None
    } else {
        list_scope(&m.name, &m.permission, &p, &ctx.org_id)
    };
    let by_project = !allowed
        && scope.is_none()
        && m.api == Api::Management
        && !m.check_field.is_empty()
        && (!p.project_roles.is_empty() || !p.grant_roles.is_empty());
    if !allowed && !by_project && scope.is_none() {
        return Err(ApiErr(Error::denied()));
    }
    let allowed = allowed || scope.is_some();
    let ctx = Ctx { scope, ..ctx };
    Ok(if allowed {
        Access::Granted(ctx)
    } else {
        Access::ByProject(ctx)
    })
}

/// The instance (by host), the caller (by bearer token) and the context organisation
/// (`x-zitadel-orgid`, else the caller's own) of a request.
pub async fn resolve(st: &St, headers: &HeaderMap, uri: &http::Uri, request_id: String) -> R<Ctx> {
    let auth = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let instance_id = authn::instance_by_host(&st.db, &st.cache, &host(st, headers, uri)).await?;
    let p = authn::authenticate(st, &instance_id, auth).await?;
    let org_header = headers
        .get("x-zitadel-orgid")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let org_id = org_header.map_or_else(|| p.org_id.clone(), str::to_string);
    Ok(Ctx {
        instance_id,
        principal: Some(p),
        org_id,
        request_id,
        scope: None,
    })
}

/// Whether the caller of `ctx` holds `permission` as an RPC of `api` declares it: instance
/// roles for admin, roles in the context organisation for management, in the caller's own
/// organisation for auth; `authenticated` needs only a valid token.
pub fn allows(ctx: &Ctx, api: Api, permission: &str) -> bool {
    let Some(p) = ctx.principal.as_ref() else {
        return false;
    };
    match (api, permission) {
        (_, "authenticated") => true,
        (Api::Auth, perm) => p.has_in_org(perm, &p.org_id),
        (Api::Management, perm) => p.has_in_org(perm, &ctx.org_id),
        (Api::Admin, perm) => p.has_instance(perm),
        (Api::System, _) => false,
    }
}

/// List calls that project-level managers may make, limited to their own objects: the method
/// and whether its scope is project grants (else projects).
const SCOPED_LISTS: &[(&str, bool)] = &[("ListProjects", false), ("ListGrantedProjects", true)];

/// For a list call by a caller whose permission comes only from project (or project grant)
/// roles: the projects (or grants) in `org` whose roles grant `permission`.
fn list_scope(method: &str, permission: &str, p: &Principal, org: &str) -> Option<Vec<String>> {
    let (_, grants) = SCOPED_LISTS.iter().find(|(name, _)| *name == method)?;
    let held = if *grants {
        &p.grant_roles
    } else {
        &p.project_roles
    };
    let ids: Vec<String> = held
        .iter()
        .filter(|(_, r)| {
            r.org_id == org
                && castellan_domain::roles::any_grants(
                    r.roles.iter().map(String::as_str),
                    permission,
                )
        })
        .map(|(id, _)| id.clone())
        .collect();
    (!ids.is_empty()).then_some(ids)
}

/// System API calls: a system user's JWT, no instance (the request names the instances it acts
/// on); the permission is checked against the system roles.
fn authorize_system(
    st: &St,
    m: &Method,
    headers: &HeaderMap,
    uri: &http::Uri,
    auth: Option<&str>,
    request_id: String,
) -> R<Access> {
    let mut audiences = vec![st.origin()];
    let h = host(st, headers, uri);
    if !h.is_empty() {
        let scheme = if st.cfg.external_secure {
            "https"
        } else {
            "http"
        };
        audiences.push(format!("{scheme}://{}", h.to_ascii_lowercase()));
    }
    let p = crate::system_auth::authenticate(&st.cfg.system_users, &audiences, auth)?;
    if !castellan_domain::roles::system_grants(
        p.system_roles.iter().map(String::as_str),
        &m.permission,
    ) {
        return Err(ApiErr(Error::denied()));
    }
    Ok(Access::Granted(Ctx {
        instance_id: String::new(),
        principal: Some(p),
        org_id: String::new(),
        request_id,
        scope: None,
    }))
}

/// The largest gRPC message the project check reads (the services' decoding limit).
pub const MAX_CHECKED_MESSAGE: usize = 4 << 20;

/// The proto field name of a `check_field_name`: `ProjectId` → `project_id`, `Id` → `id`.
pub fn field_name(check_field: &str) -> String {
    let mut out = String::with_capacity(check_field.len() + 4);
    for (i, c) in check_field.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The message of a gRPC or gRPC-Web request body (one uncompressed frame), if readable.
fn message_of(content_type: &str, body: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    let raw;
    let body = if content_type.starts_with("application/grpc-web-text") {
        let text: Vec<u8> = body
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        raw = base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?;
        &raw[..]
    } else {
        body
    };
    let (&flag, rest) = body.split_first()?;
    if flag != 0 || rest.len() < 4 {
        return None;
    }
    let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
    rest.get(4..4 + len).map(<[u8]>::to_vec)
}

/// The project (or, for `GrantId`, the project grant) a request acts on: the method's check
/// field read from the request message.
fn project_of(m: &Method, content_type: &str, body: &[u8]) -> Option<String> {
    let msg = message_of(content_type, body)?;
    let dm = prost_reflect::DynamicMessage::decode(m.input.clone(), msg.as_slice()).ok()?;
    let v = dm.get_field_by_name(&field_name(&m.check_field))?;
    v.as_str()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Allows a call by the caller's roles on the project the request names (a project of the
/// context organisation), or on the project grant it names (a grant to the context
/// organisation); hands back the request with its body unchanged. Callers without a
/// matching project role get the same PERMISSION_DENIED whether the project exists or not.
async fn check_project(m: &Method, ctx: &Ctx, req: Request) -> R<Request> {
    use http_body_util::BodyExt;
    let content_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let limit = if content_type.starts_with("application/grpc-web-text") {
        (MAX_CHECKED_MESSAGE + 5).div_ceil(3) * 4 + 4
    } else {
        MAX_CHECKED_MESSAGE + 5
    };
    let (parts, body) = req.into_parts();
    let bytes = match http_body_util::Limited::new(body, limit).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(ApiErr(
                Error::new(
                    castellan_domain::Kind::ResourceExhausted,
                    "AUTHZ-b0dyL",
                    "Errors.Request.Body.TooLarge",
                )
                .with(format!("the limit is {MAX_CHECKED_MESSAGE} bytes")),
            ))
        }
        Err(_) => return Err(ApiErr(Error::denied())),
    };
    let p = ctx.caller()?;
    let allowed = project_of(m, &content_type, &bytes).is_some_and(|id| {
        if m.check_field == "GrantId" {
            p.has_in_grant(&m.permission, &id, &ctx.org_id)
        } else {
            p.has_in_project(&m.permission, &id, &ctx.org_id)
        }
    });
    if !allowed {
        return Err(ApiErr(Error::denied()));
    }
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

/// The axum middleware wrapping the gRPC services.
pub async fn gate(State(st): State<St>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let Some(m) = Methods::get().by_path(&path).cloned() else {
        return next.run(req).await;
    };
    let started = Instant::now();
    let rid = request_id(req.headers());
    let access = authorize(&st, &m, req.headers(), req.uri(), rid.clone()).await;
    let granted = match access {
        Ok(Access::Granted(ctx)) => Ok((ctx, req)),
        Ok(Access::ByProject(ctx)) => check_project(&m, &ctx, req).await.map(|r| (ctx, r)),
        Err(e) => Err(e),
    };
    let resp = match granted {
        Ok((ctx, mut req)) => {
            req.extensions_mut().insert(ctx);
            let prefix = crate::assets::url_prefix(&st, &host(&st, req.headers(), req.uri()));
            crate::assets::with_prefix(prefix, next.run(req)).await
        }
        Err(e) => tonic::Status::from(e).into_http::<axum::body::Body>(),
    };
    let mut resp = undecodable_as_invalid(resp);
    let code = resp
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let micros = started.elapsed().as_micros() as u64;
    st.metrics.record(&m.grpc_path, code, micros);
    tracing::info!(request_id = %rid, method = %m.name, code, micros, "rpc");
    if let Ok(v) = http::HeaderValue::from_str(&rid) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// How the gRPC codec words a request message it cannot read (it answers INTERNAL, as
/// grpc-go does).
const UNDECODABLE: [&str; 3] = [
    "failed to decode Protobuf message",
    "Unexpected EOF decoding stream",
    "Missing request message",
];

/// A request message that cannot be read is the caller's error: INVALID_ARGUMENT with the
/// error detail of every other refusal, naming what the codec found.
fn undecodable_as_invalid(mut resp: Response) -> Response {
    let h = resp.headers();
    if h.get("grpc-status").and_then(|v| v.to_str().ok()) != Some("13") {
        return resp;
    }
    let said = h
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .map(|m| {
            percent_encoding::percent_decode_str(m)
                .decode_utf8_lossy()
                .to_string()
        })
        .unwrap_or_default();
    if !UNDECODABLE.iter().any(|p| said.starts_with(p)) {
        return resp;
    }
    let e = Error::new(
        castellan_domain::Kind::InvalidArgument,
        "GRPC-d3c0d",
        "Errors.Request.Message.Invalid",
    )
    .with(said.trim_end_matches('.').to_string());
    crate::error::set_grpc_status(resp.headers_mut(), e);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_field_names() {
        assert_eq!(field_name("ProjectId"), "project_id");
        assert_eq!(field_name("Id"), "id");
        assert_eq!(field_name("GrantId"), "grant_id");
    }

    #[test]
    fn frames() {
        use base64::Engine;
        let framed = [0u8, 0, 0, 0, 2, 10, 0];
        assert_eq!(message_of("application/grpc", &framed), Some(vec![10, 0]));
        let text = base64::engine::general_purpose::STANDARD.encode(framed);
        assert_eq!(
            message_of("application/grpc-web-text", text.as_bytes()),
            Some(vec![10, 0])
        );
        assert_eq!(message_of("application/grpc", &[1, 0, 0, 0, 0]), None);
        assert_eq!(message_of("application/grpc", &[0, 0, 0, 0, 9, 1]), None);
        assert_eq!(message_of("application/grpc", &[]), None);
    }
}
