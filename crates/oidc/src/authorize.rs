//! The authorization endpoint (OpenID Connect Core 3.1.2): `GET`/`POST /oauth/v2/authorize`
//! validates the request, stores it and sends the browser to the hosted login (or straight to
//! the callback when the browser already has a usable session). The callback, which turns a
//! finished login into a code or implicit tokens, is `authorize_callback.rs`; the pages and
//! responses are `authorize_response.rs`.
//!
//! Problems with the client or its redirect URI are shown on an error page and never
//! redirected; every later problem goes back to the redirect URI as an OAuth error with
//! `state` and `iss` (RFC 9207).

use crate::auth_request::{self, AuthRequest};
use crate::session::{self, Session};
use crate::Oidc;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use castellan_api::app::apps::Client;
use castellan_api::app::policies;
use castellan_api::state::St;
use castellan_domain::id::now_micros;
use castellan_domain::oidc_app::{auth_method, grant_type, response_type};
use castellan_domain::policy::Login;
use castellan_store::params;
use http::{HeaderMap, StatusCode, Uri};
use std::collections::HashMap;

/// The authorization endpoint.
pub const AUTHORIZE_PATH: &str = "/oauth/v2/authorize";
/// Where the login pages live.
pub const LOGIN_PATH: &str = "/ui/login/login";
pub const SELECT_PATH: &str = "/ui/login/select";
pub const REGISTER_PATH: &str = "/ui/login/register";
pub const CALLBACK_PATH: &str = "/oauth/v2/authorize/callback";
pub const RESUME_PATH: &str = "/oauth/v2/authorize/resume";

/// The issuer of the instance a request is addressed to: the external scheme and the
/// request's host (with its port), lower-cased, as discovery, tokens and responses name it.
pub fn issuer(st: &St, host: &str) -> String {
    let scheme = if st.cfg.external_secure {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{}", host.to_ascii_lowercase())
}

pub use crate::authorize_callback::callback;
pub use crate::authorize_response::{
    error_page, escape, failure_page, info_page, redirect, redirect_error, respond, response_mode,
};

/// The implicit response types (OIDC Core 3.2) in a canonical spelling, `None` for others.
pub fn implicit_type(response_type: &str) -> Option<&'static str> {
    let mut parts: Vec<&str> = response_type.split_ascii_whitespace().collect();
    parts.sort_unstable();
    match parts.as_slice() {
        ["id_token"] => Some(IMPLICIT_ID_TOKEN),
        ["id_token", "token"] => Some(IMPLICIT_ID_TOKEN_TOKEN),
        _ => None,
    }
}

/// `response_type=id_token`: an ID token only.
pub const IMPLICIT_ID_TOKEN: &str = "id_token";
/// `response_type=id_token token`: an ID token and an access token.
pub const IMPLICIT_ID_TOKEN_TOKEN: &str = "id_token token";

/// Parameters of a form or query string; the first of repeated names wins.
pub fn parse_params(s: &str) -> HashMap<String, String> {
    let mut m = HashMap::new();
    for (k, v) in form_urlencoded::parse(s.as_bytes()) {
        m.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    m
}

pub async fn get(
    State(o): State<Oidc>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Response {
    authorize(
        &o.st,
        &headers,
        &uri,
        parse_params(q.as_deref().unwrap_or("")),
        false,
    )
    .await
}

pub async fn post(State(o): State<Oidc>, headers: HeaderMap, uri: Uri, body: Bytes) -> Response {
    let s = std::str::from_utf8(&body).unwrap_or("");
    authorize(&o.st, &headers, &uri, parse_params(s), true).await
}

/// The active OIDC client `client_id` of an active project, if any (through the node's read
/// cache: every authorization request asks).
pub async fn active_client(
    st: &St,
    instance: &str,
    client_id: &str,
) -> castellan_domain::Result<Option<Client>> {
    let (inst, cid) = (instance.to_string(), client_id.to_string());
    let key = format!("active_client\0{instance}\0{client_id}");
    st.read_cache
        .get(st, key, move |c| {
            let Some(client) = castellan_api::app::apps::by_client_id(c, &inst, &cid)? else {
                return Ok(None);
            };
            if !client.active || client.oidc.is_none() {
                return Ok(None);
            }
            let project = c.one(
                "SELECT state FROM projects WHERE instance_id = ? AND id = ?",
                &params![&inst, &client.project_id],
            )?;
            let active = match project {
                Some(r) => r.int(0)? == castellan_store::projection::project_state::ACTIVE,
                None => false,
            };
            Ok(active.then_some(client))
        })
        .await
        .map(|c| c.as_ref().clone())
}

pub(crate) fn not_found_page() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Unknown instance",
        "This address does not belong to any instance.",
    )
}

async fn authorize(
    st: &St,
    headers: &HeaderMap,
    uri: &Uri,
    p: HashMap<String, String>,
    is_post: bool,
) -> Response {
    let host = castellan_api::gate::host(st, headers, uri);
    let Ok(instance) = castellan_api::authn::instance_by_host(&st.db, &st.cache, &host).await
    else {
        return not_found_page();
    };
    let get = |k: &str| p.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let bad_client = |text: &str| {
        error_page(
            StatusCode::BAD_REQUEST,
            "The application's request is invalid",
            text,
        )
    };
    let client_id = get("client_id");
    if client_id.is_empty() {
        return bad_client("The request has no client_id.");
    }
    let client = match active_client(st, &instance, &client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return bad_client("The application (client_id) is unknown or not active."),
        Err(e) => return failure_page(&e, "authorize: client lookup"),
    };
    let Some(settings) = client.oidc.as_ref() else {
        return bad_client("The application (client_id) is unknown or not active.");
    };
    let redirect_uri = get("redirect_uri");
    if redirect_uri.is_empty() || !settings.redirect_uris.contains(&redirect_uri) {
        return bad_client("The redirect_uri is not registered for this application.");
    }
    let mut r = AuthRequest {
        client_id,
        redirect_uri,
        response_type: get("response_type"),
        response_mode: get("response_mode"),
        scope: get("scope"),
        state: p.get("state").cloned().unwrap_or_default(),
        nonce: get("nonce"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
        prompt: get("prompt"),
        max_age: -1,
        login_hint: get("login_hint"),
        ui_locales: get("ui_locales"),
        acr_values: get("acr_values"),
        ..AuthRequest::default()
    };
    // From here on errors go back to the client.
    if !matches!(
        r.response_mode.as_str(),
        "" | "query" | "fragment" | "form_post"
    ) {
        let mode = std::mem::take(&mut r.response_mode);
        return redirect_error(
            st,
            &host,
            &r,
            "invalid_request",
            &format!("response_mode {mode} is not supported"),
        );
    }
    let implicit = implicit_type(&r.response_type);
    match r.response_type.as_str() {
        _ if implicit.is_some() => {
            let (kind, wanted) = if implicit == Some(IMPLICIT_ID_TOKEN) {
                (IMPLICIT_ID_TOKEN, response_type::ID_TOKEN)
            } else {
                (IMPLICIT_ID_TOKEN_TOKEN, response_type::ID_TOKEN_TOKEN)
            };
            r.response_type = kind.to_string();
            if !settings.response_types.contains(&wanted)
                || !settings.grant_types.contains(&grant_type::IMPLICIT)
            {
                return redirect_error(
                    st,
                    &host,
                    &r,
                    "unauthorized_client",
                    &format!("the application may not use response_type {kind}"),
                );
            }
            if r.response_mode == "query" {
                r.response_mode.clear();
                return redirect_error(
                    st,
                    &host,
                    &r,
                    "invalid_request",
                    "response_mode query is not allowed with the implicit flow",
                );
            }
        }
        "code" => {
            if !settings.response_types.contains(&response_type::CODE) {
                return redirect_error(
                    st,
                    &host,
                    &r,
                    "unauthorized_client",
                    "the application may not use response_type code",
                );
            }
        }
        "" => return redirect_error(st, &host, &r, "invalid_request", "response_type is missing"),
        _ => {
            return redirect_error(
                st,
                &host,
                &r,
                "unsupported_response_type",
                "only the response types code, id_token and id_token token are supported",
            )
        }
    }
    // Request objects are not supported (discovery says so): OIDC core 6 wants these errors
    // rather than a request silently served without them.
    if p.contains_key("request") {
        return redirect_error(
            st,
            &host,
            &r,
            "request_not_supported",
            "request objects (the request parameter) are not supported",
        );
    }
    if p.contains_key("request_uri") {
        return redirect_error(
            st,
            &host,
            &r,
            "request_uri_not_supported",
            "the request_uri parameter is not supported",
        );
    }
    if !r.scopes().any(|s| s == "openid") {
        return redirect_error(
            st,
            &host,
            &r,
            "invalid_scope",
            "the scope openid is missing in the request",
        );
    }
    if implicit.is_some() {
        // OIDC Core 3.2.2.1: REQUIRED for the implicit flow (replay of ID tokens).
        if r.nonce.is_empty() {
            return redirect_error(
                st,
                &host,
                &r,
                "invalid_request",
                "nonce is required with the implicit flow",
            );
        }
        // No code is issued: PKCE has nothing to protect.
        r.code_challenge.clear();
        r.code_challenge_method.clear();
    } else if !r.code_challenge.is_empty() {
        let plain_allowed = match crate::settings::of_instance(st, &instance).await {
            Ok(s) => s.pkce_plain_allowed,
            Err(e) => return failure_page(&e.0, "authorize: OIDC settings"),
        };
        match r.code_challenge_method.as_str() {
            "S256" => {}
            // RFC 7636 4.3: no method means plain.
            "" | "plain" if plain_allowed => r.code_challenge_method = "plain".to_string(),
            "" | "plain" => {
                return redirect_error(
                    st,
                    &host,
                    &r,
                    "invalid_request",
                    "code_challenge_method must be S256",
                )
            }
            m => {
                let m = m.to_string();
                return redirect_error(
                    st,
                    &host,
                    &r,
                    "invalid_request",
                    &format!("code_challenge_method {m} is not supported"),
                );
            }
        }
        if r.code_challenge.len() < 43 || r.code_challenge.len() > 128 {
            return redirect_error(
                st,
                &host,
                &r,
                "invalid_request",
                "code_challenge must be 43 to 128 characters",
            );
        }
    } else if client.auth_method_type == auth_method::NONE {
        return redirect_error(
            st,
            &host,
            &r,
            "invalid_request",
            "public clients must send a PKCE code_challenge",
        );
    }
    let prompts: Vec<&str> = r.prompts().collect();
    if let Some(bad) = prompts.iter().find(|p| {
        !matches!(
            **p,
            "none" | "login" | "consent" | "select_account" | "create"
        )
    }) {
        let bad = bad.to_string();
        return redirect_error(
            st,
            &host,
            &r,
            "invalid_request",
            &format!("prompt {bad} is not supported"),
        );
    }
    if prompts.contains(&"none") && prompts.len() > 1 {
        return redirect_error(
            st,
            &host,
            &r,
            "invalid_request",
            "prompt none cannot be combined with other values",
        );
    }
    let max_age = get("max_age");
    if !max_age.is_empty() {
        match max_age.parse::<i64>() {
            Ok(v) if v >= 0 => r.max_age = v,
            _ => {
                return redirect_error(
                    st,
                    &host,
                    &r,
                    "invalid_request",
                    "max_age must be a non-negative number",
                )
            }
        }
    }
    let hint = get("id_token_hint");
    if !hint.is_empty() {
        match hint_subject(st, &instance, &hint).await {
            Some(sub) => r.hint_user_id = sub,
            None => {
                return redirect_error(
                    st,
                    &host,
                    &r,
                    "invalid_request",
                    "id_token_hint is not a valid ID token of this issuer",
                )
            }
        }
    }
    let r = match auth_request::start(st, &instance, r) {
        Ok(r) => r,
        Err(e) => return failure_page(&e, "authorize: seal request"),
    };
    if is_post && session::agent_of(headers).is_none() {
        // A cross-site POST carries no SameSite=Lax cookie: look at the sessions after a
        // same-site GET.
        let mut resp = redirect(&format!("{RESUME_PATH}?id={}", r.handle));
        *resp.status_mut() = StatusCode::SEE_OTHER;
        return resp;
    }
    decide(st, headers, &host, &instance, &r).await
}

/// `GET /oauth/v2/authorize/resume?id=`: continues a request posted without the cookie.
pub async fn resume(
    State(o): State<Oidc>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Response {
    let st = &o.st;
    let host = castellan_api::gate::host(st, &headers, &uri);
    let Ok(instance) = castellan_api::authn::instance_by_host(&st.db, &st.cache, &host).await
    else {
        return not_found_page();
    };
    let p = parse_params(q.as_deref().unwrap_or(""));
    let id = p.get("id").cloned().unwrap_or_default();
    match auth_request::open(st, &instance, &id) {
        Some(r) => decide(st, &headers, &host, &instance, &r).await,
        _ => error_page(
            StatusCode::BAD_REQUEST,
            "The login cannot be continued",
            "This sign-in request is unknown, expired or already used. Please start again from the application.",
        ),
    }
}

/// Where a stored request goes: the login pages, or the callback when a session of this
/// browser serves it (`prompt` decides which and whether pages may be shown).
async fn decide(
    st: &St,
    headers: &HeaderMap,
    host: &str,
    instance: &str,
    r: &AuthRequest,
) -> Response {
    let (host, instance) = (host.to_string(), instance.to_string());
    let to = |path: &str| redirect(&format!("{path}?authRequestID={}", r.handle));
    if r.has_prompt("create") {
        return to(REGISTER_PATH);
    }
    if r.has_prompt("login") {
        return to(LOGIN_PATH);
    }
    let agent = session::agent_of(headers);
    let pick = match &agent {
        Some(a) => pick_session(st, &instance, a, r)
            .await
            .unwrap_or(Pick::Nothing),
        None => Pick::Nothing,
    };
    if r.has_prompt("none") {
        return match pick {
            Pick::One(s) => finish(st, r, &s).await,
            Pick::Several(_) => redirect_error(
                st,
                &host,
                r,
                "account_selection_required",
                "several users are signed in on this browser",
            ),
            Pick::Nothing => redirect_error(
                st,
                &host,
                r,
                "login_required",
                "no user is signed in (or the session is too old)",
            ),
        };
    }
    if r.has_prompt("select_account") {
        return match pick {
            Pick::Nothing => to(LOGIN_PATH),
            _ => to(SELECT_PATH),
        };
    }
    match pick {
        Pick::One(s) => finish(st, r, &s).await,
        Pick::Several(_) => to(SELECT_PATH),
        Pick::Nothing => to(LOGIN_PATH),
    }
}

/// The subject of a valid ID token of this instance (expired ones count).
async fn hint_subject(st: &St, instance: &str, token: &str) -> Option<String> {
    let jwt = castellan_domain::jwt::Jwt::parse(token).ok()?;
    let kid = jwt.header.get("kid").and_then(|v| v.as_str())?;
    let key = st.keys.verifying_key(st, instance, kid).await.ok()??;
    jwt.verify(&key).ok()?;
    jwt.claim("sub").map(str::to_string)
}

/// The browser's sessions that can serve a request without a login.
pub enum Pick {
    Nothing,
    One(Session),
    Several(Vec<Session>),
}

/// Whether `s` can serve `r` without a new login: signed in recently enough (login policy,
/// `max_age`), an active user, the user of the `id_token_hint`, in the requested organisation.
pub async fn session_serves(
    st: &St,
    instance: &str,
    s: &Session,
    r: &AuthRequest,
    now: i64,
) -> bool {
    if r.max_age >= 0 && now - s.auth_time() > r.max_age.saturating_mul(1_000_000) {
        return false;
    }
    if !r.hint_user_id.is_empty() && r.hint_user_id != s.user_id {
        return false;
    }
    let Ok(user) = castellan_api::app::users::get_any(st, instance, &s.user_id).await else {
        return false;
    };
    if user.state != castellan_store::projection::user_state::ACTIVE {
        return false;
    }
    if r.org_id_scope().is_some_and(|o| o != user.org_id) {
        return false;
    }
    if !r.login_hint.is_empty() && !r.login_hint.eq_ignore_ascii_case(&user.login_name) {
        return false;
    }
    let lifetime = policies::cached::<Login>(st, instance, &user.org_id)
        .await
        .map(|p| p.password_check_lifetime)
        .unwrap_or(0);
    s.usable(lifetime, now)
}

/// The sessions of browser `agent` that can serve `r`.
pub async fn pick_session(
    st: &St,
    instance: &str,
    agent: &str,
    r: &AuthRequest,
) -> castellan_domain::Result<Pick> {
    let now = now_micros();
    let mut ok = Vec::new();
    for s in session::of_agent(st, instance, agent).await? {
        if session_serves(st, instance, &s, r, now).await {
            ok.push(s);
        }
    }
    Ok(match ok.len() {
        0 => Pick::Nothing,
        1 => Pick::One(ok.remove(0)),
        _ => Pick::Several(ok),
    })
}

/// Completes `r` with session `s` and sends the browser to the callback, which issues the code.
pub async fn finish(st: &St, r: &AuthRequest, s: &Session) -> Response {
    let f = auth_request::Finished {
        user_id: &s.user_id,
        session_id: &s.id,
        auth_time: s.auth_time(),
        amr: &s.amr,
        code_hash: None,
    };
    match auth_request::finish(st, r, f).await {
        Ok(true) => redirect(&format!("{CALLBACK_PATH}?id={}", r.id)),
        Ok(false) => error_page(
            StatusCode::BAD_REQUEST,
            "The login cannot be continued",
            "This sign-in request was already used. Please start again from the application.",
        ),
        Err(e) => failure_page(&e, "authorize: complete request"),
    }
}
