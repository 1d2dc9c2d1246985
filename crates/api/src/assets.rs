//! The assets REST API under `/assets/v1` (REST only, as in ZITADEL): upload (multipart form,
//! field `file`) and download of the label policy files of the instance and of organisations,
//! preview and active, the calling user's avatar, and the public download of any stored file
//! by `/{owner}/{key}` (the URLs policy and user messages carry). Authentication and
//! permissions are the gate's (`gate::resolve`, `gate::allows`).

use crate::app::assets::{self as files, Blob, Upload};
use crate::app::label::Scope;
use crate::ctx::Ctx;
use crate::error::{rest_error, ApiErr, R};
use crate::gate;
use crate::methods::Api;
use crate::state::St;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use castellan_domain::assets::{FileKind, LabelSlot};
use castellan_domain::{Error, Kind};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use std::sync::Arc;

/// Path prefix of the assets API.
pub const PREFIX: &str = "/assets/v1";

/// Id of the error for a method a path does not take (HTTP 405).
const METHOD_NOT_ALLOWED: &str = "ASSET-m3th0";

tokio::task_local! {
    /// `<scheme>://<host>/assets/v1` of the request being served (set by the gate).
    static URL_PREFIX: String;
}

/// `<scheme>://<host>/assets/v1` for a request to `host`.
pub fn url_prefix(st: &St, host: &str) -> String {
    let scheme = if st.cfg.external_secure {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}{PREFIX}")
}

/// Runs `f` with the asset URL prefix of the current request.
pub async fn with_prefix<F: std::future::Future>(prefix: String, f: F) -> F::Output {
    URL_PREFIX.scope(prefix, f).await
}

/// The asset URL prefix of the request being served; empty outside a request. Read it on the
/// request's task: database closures run on other threads, so capture it before.
pub fn prefix() -> String {
    URL_PREFIX.try_with(String::clone).unwrap_or_default()
}

/// The download URL of a stored file, as ZITADEL forms it (`<prefix>/<owner>/<key>`); empty
/// without a key or a prefix.
pub fn url_in(prefix: &str, owner: &str, key: &str) -> String {
    if key.is_empty() || owner.is_empty() || prefix.is_empty() {
        return String::new();
    }
    format!("{prefix}/{owner}/{key}")
}

/// [`url_in`] with the prefix of the request being served (on its task).
pub fn url(owner: &str, key: &str) -> String {
    url_in(&prefix(), owner, key)
}

/// What a path under `/assets/v1` addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Label {
        scope: Scope,
        slot: LabelSlot,
        preview: bool,
    },
    MyAvatar,
    File {
        owner: String,
        key: String,
    },
}

fn target(path: &str) -> Option<Target> {
    let path = path.strip_prefix(PREFIX)?.strip_prefix('/')?;
    if path == "users/me/avatar" {
        return Some(Target::MyAvatar);
    }
    let label = |rest: &str, scope| {
        let (rest, preview) = match rest.strip_suffix("/_preview") {
            Some(r) => (r, true),
            None => (rest, false),
        };
        let slot = match rest {
            "logo" => LabelSlot::Logo,
            "logo/dark" => LabelSlot::LogoDark,
            "icon" => LabelSlot::Icon,
            "icon/dark" => LabelSlot::IconDark,
            "font" => LabelSlot::Font,
            _ => return None,
        };
        Some(Target::Label {
            scope,
            slot,
            preview,
        })
    };
    if let Some(rest) = path.strip_prefix("instance/policy/label/") {
        return label(rest, Scope::Instance);
    }
    if let Some(rest) = path.strip_prefix("org/policy/label/") {
        return label(rest, Scope::Org);
    }
    let (owner, key) = path.split_once('/')?;
    let clean = |s: &str| {
        !s.is_empty()
            && s.split('/')
                .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
            && s.len() <= 512
    };
    (clean(owner) && clean(key) && !owner.contains('/')).then(|| Target::File {
        owner: owner.to_string(),
        key: key.to_string(),
    })
}

fn error(e: &Error, status: Option<StatusCode>) -> Response {
    let (code, body) = rest_error(e);
    let status = status
        .or_else(|| StatusCode::from_u16(code).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Serves one request under `/assets/v1` (mounted by `crate::router` without a body limit:
/// uploads are bounded here).
pub async fn handle(st: St, req: Request) -> Response {
    let rid = gate::request_id(req.headers());
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let (parts, body) = req.into_parts();
    let res = match (target(&path), &method) {
        (Some(t), &Method::GET) | (Some(t), &Method::HEAD) => {
            download(&st, &parts, t, rid.clone()).await
        }
        (Some(t @ (Target::MyAvatar | Target::Label { preview: false, .. })), &Method::POST) => {
            upload(&st, Request::from_parts(parts, body), t, rid.clone()).await
        }
        (Some(_), _) => Err(ApiErr(
            Error::new(
                Kind::InvalidArgument,
                METHOD_NOT_ALLOWED,
                "Errors.Request.Method.NotAllowed",
            )
            .with(format!("{method} {path}")),
        )),
        (None, _) => Err(ApiErr(
            Error::not_found("ASSET-r0ut3", "Errors.Request.Route.NotFound").with(path.clone()),
        )),
    };
    let mut resp = match res {
        Ok(r) => r,
        Err(ApiErr(e)) if e.id == castellan_domain::assets::TOO_LARGE => {
            error(&e, Some(StatusCode::PAYLOAD_TOO_LARGE))
        }
        Err(ApiErr(e)) if e.id == METHOD_NOT_ALLOWED => {
            error(&e, Some(StatusCode::METHOD_NOT_ALLOWED))
        }
        Err(ApiErr(e)) => error(&e, None),
    };
    if let Ok(v) = HeaderValue::from_str(&rid) {
        resp.headers_mut().insert("x-request-id", v);
    }
    tracing::info!(request_id = %rid, %method, %path, status = resp.status().as_u16(), "asset");
    resp
}

/// The permission a target needs: (API whose scoping applies, permission).
fn permission(t: &Target, write: bool) -> (Api, &'static str) {
    let Target::Label { scope, .. } = t else {
        return (Api::Auth, "authenticated");
    };
    match (scope, write) {
        (Scope::Instance, true) => (Api::Admin, "iam.policy.write"),
        (Scope::Instance, false) => (Api::Admin, "iam.policy.read"),
        (Scope::Org, true) => (Api::Management, "policy.write"),
        (Scope::Org, false) => (Api::Management, "policy.read"),
    }
}

async fn authorize(
    st: &St,
    headers: &HeaderMap,
    uri: &http::Uri,
    t: &Target,
    write: bool,
    rid: String,
) -> R<Ctx> {
    let ctx = gate::resolve(st, headers, uri, rid).await?;
    let (api, perm) = permission(t, write);
    if !gate::allows(&ctx, api, perm) {
        return Err(ApiErr(Error::denied()));
    }
    Ok(ctx)
}

async fn upload(st: &St, req: Request, t: Target, rid: String) -> R<Response> {
    let (parts, body) = req.into_parts();
    let ctx = authorize(st, &parts.headers, &parts.uri, &t, true, rid).await?;
    let kind = match &t {
        Target::Label { slot, .. } => slot.kind(),
        _ => FileKind::Image,
    };
    let max = match kind {
        FileKind::Image => st.cfg.max_image_bytes,
        FileKind::Font => st.cfg.max_font_bytes,
    };
    let bytes = read_file(Request::from_parts(parts, body), max).await?;
    let content_type = castellan_domain::assets::check(kind, &bytes, max)?;
    let up = Upload {
        bytes: Arc::new(castellan_domain::assets::strip_exif(content_type, bytes)),
        content_type,
    };
    let details = match t {
        Target::Label { scope, slot, .. } => {
            files::add_label_file(st, &ctx, scope, slot, up).await?
        }
        _ => files::set_my_avatar(st, &ctx, up).await?,
    };
    let body = serde_json::json!({
        "details": {
            "sequence": details.sequence.to_string(),
            "changeDate": details.change_date.as_ref().and_then(rfc3339),
            "resourceOwner": details.resource_owner,
        }
    });
    let mut r = (StatusCode::OK, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

/// A protobuf timestamp as proto3 JSON renders it.
fn rfc3339(t: &prost_types::Timestamp) -> Option<String> {
    let nanos = i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos);
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

fn bad_form(detail: String) -> ApiErr {
    ApiErr(Error::invalid(
        "ASSET-f0rm0",
        "Errors.Assets.Form.Invalid",
        detail,
    ))
}

/// The bytes of the form field `file`. Over `max` bytes the rest of the body is drained (up
/// to a bound) so the client reads the 413 rather than a reset connection.
async fn read_file(req: Request, max: usize) -> R<Vec<u8>> {
    let mut form = axum::extract::Multipart::from_request(req, &())
        .await
        .map_err(|e| {
            bad_form(format!(
                "expected a multipart/form-data body with a field \"file\": {}",
                e.body_text()
            ))
        })?;
    let drain_limit = max.saturating_mul(4).max(64 << 20);
    let mut seen = 0usize;
    let mut file: Option<Vec<u8>> = None;
    let mut too_large = false;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(bad_form(e.body_text())),
        };
        let is_file = field.name() == Some("file") && file.is_none();
        let mut field = field;
        let mut buf = Vec::new();
        loop {
            let chunk = match field.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => return Err(bad_form(e.body_text())),
            };
            seen = seen.saturating_add(chunk.len());
            if seen > drain_limit {
                return Err(ApiErr(castellan_domain::assets::too_large(max)));
            }
            if is_file && !too_large {
                if buf.len() + chunk.len() > max {
                    too_large = true;
                    buf = Vec::new();
                } else {
                    buf.extend_from_slice(&chunk);
                }
            }
        }
        if is_file {
            file = Some(buf);
        }
    }
    if too_large {
        return Err(ApiErr(castellan_domain::assets::too_large(max)));
    }
    file.ok_or_else(|| bad_form("the form has no field \"file\"".into()))
}

async fn download(st: &St, req: &http::request::Parts, t: Target, rid: String) -> R<Response> {
    let (blob, cache) = match &t {
        Target::File { owner, key } => {
            // Public, as in ZITADEL (the login shows logos before anyone signs in): the host
            // picks the instance; keys are unique per upload, so the content never changes.
            let inst = crate::authn::instance_by_host(
                &st.db,
                &st.cache,
                &gate::host(st, &req.headers, &req.uri),
            )
            .await?;
            (
                files::blob(st, &inst, owner, key).await?,
                "public, max-age=31536000, immutable",
            )
        }
        Target::Label {
            scope,
            slot,
            preview,
        } => {
            let ctx = authorize(st, &req.headers, &req.uri, &t, false, rid).await?;
            let b = files::label_file(st, &ctx, *scope == Scope::Instance, *preview, *slot).await?;
            (b, "private, no-cache")
        }
        Target::MyAvatar => {
            let ctx = authorize(st, &req.headers, &req.uri, &t, false, rid).await?;
            (files::my_avatar(st, &ctx).await?, "private, no-cache")
        }
    };
    let blob =
        blob.ok_or_else(|| ApiErr(Error::not_found("ASSET-n0tF0", "Errors.Assets.NotFound")))?;
    Ok(serve(&req.headers, req.method == Method::HEAD, blob, cache))
}

/// The file with its type, ETag (content hash) and caching headers; 304 when the client's
/// `If-None-Match` already names it.
fn serve(headers: &HeaderMap, head: bool, b: Blob, cache: &'static str) -> Response {
    let etag = format!("\"{}\"", b.hash);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        });
    let mut r = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else if head {
        let mut r = StatusCode::OK.into_response();
        if let Ok(v) = HeaderValue::from_str(&b.data.len().to_string()) {
            r.headers_mut().insert(header::CONTENT_LENGTH, v);
        }
        r
    } else {
        (StatusCode::OK, b.data).into_response()
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if !fresh {
        if let Ok(v) = HeaderValue::from_str(&b.content_type) {
            h.insert(header::CONTENT_TYPE, v);
        }
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // An SVG opened directly must not run scripts in our origin.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            target("/assets/v1/instance/policy/label/logo/dark/_preview"),
            Some(Target::Label {
                scope: Scope::Instance,
                slot: LabelSlot::LogoDark,
                preview: true
            })
        );
        assert_eq!(
            target("/assets/v1/org/policy/label/font"),
            Some(Target::Label {
                scope: Scope::Org,
                slot: LabelSlot::Font,
                preview: false
            })
        );
        assert_eq!(target("/assets/v1/org/policy/label/font/dark"), None);
        assert_eq!(target("/assets/v1/users/me/avatar"), Some(Target::MyAvatar));
        assert_eq!(
            target("/assets/v1/123/policy/label/logo-9"),
            Some(Target::File {
                owner: "123".into(),
                key: "policy/label/logo-9".into()
            })
        );
        assert_eq!(target("/assets/v1/123/../x"), None);
        assert_eq!(target("/assets/v1/123"), None);
    }
}
