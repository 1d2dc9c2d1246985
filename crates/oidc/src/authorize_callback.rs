//! `GET /oauth/v2/authorize/callback`: a login finished on this browser becomes a code, or,
//! for the implicit flow (OIDC Core 3.2), the tokens themselves.

use crate::auth_request::{self, AuthRequest};
use crate::authorize::*;
use crate::session;
use crate::Oidc;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode, Uri};

/// `GET /oauth/v2/authorize/callback?id=`: the code for a login finished on this browser.
pub async fn callback(
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
    let refused = || {
        error_page(
            StatusCode::BAD_REQUEST,
            "The login cannot be continued",
            "This sign-in request is unknown, expired, already used or was not finished on this browser. Please start again from the application.",
        )
    };
    let Ok(Some(r)) = auth_request::load(st, &instance, &id).await else {
        return refused();
    };
    if !r.completed() || r.has_code {
        return refused();
    }
    let Some(agent) = session::agent_of(&headers) else {
        return refused();
    };
    match session::of_agent_by_id(st, &instance, &agent, &r.session_id).await {
        Ok(Some(s)) if s.user_id == r.user_id => {}
        _ => return refused(),
    }
    if r.response_type == auth_request::DEVICE {
        return match auth_request::approve_device(st, &instance, &r).await {
            Ok(true) => info_page(
                StatusCode::OK,
                "Device connected",
                "You are signed in on your device. You can close this window.",
            ),
            Ok(false) => error_page(
                StatusCode::BAD_REQUEST,
                "The device cannot be connected",
                "The code has expired or was already used. Please start again on your device.",
            ),
            Err(e) => failure_page(&e, "device: approve"),
        };
    }
    if implicit_type(&r.response_type).is_some() {
        return implicit(&o, &host, &instance, &r).await;
    }
    let code = castellan_api::app::tokens::random_token();
    match auth_request::set_code(
        st,
        &instance,
        &r.id,
        &castellan_api::authn::hash_secret(&code),
    )
    .await
    {
        Ok(true) => {}
        Ok(false) => return refused(),
        Err(e) => return failure_page(&e, "authorize: store code"),
    }
    code_response(st, &host, &r, &code)
}

/// Whether a finished login of `r` is answered with a code (not a device approval, not the
/// implicit flow).
pub fn issues_code(r: &AuthRequest) -> bool {
    r.response_type != auth_request::DEVICE && implicit_type(&r.response_type).is_none()
}

/// The answer to the client of `r` carrying its `code`, in the request's response mode.
pub fn code_response(
    st: &castellan_api::state::St,
    host: &str,
    r: &AuthRequest,
    code: &str,
) -> Response {
    let iss = issuer(st, host);
    respond(
        &response_mode(r),
        &r.redirect_uri,
        &[("code", code), ("state", &r.state), ("iss", &iss)],
    )
}

/// The implicit flow's answer (OIDC Core 3.2.2.5): tokens in the fragment (or form post)
/// instead of a code. The request is closed first (a code hash nobody knows), so a second
/// visit of the callback mints nothing.
async fn implicit(o: &Oidc, host: &str, instance: &str, r: &AuthRequest) -> Response {
    let st = &o.st;
    let busy = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "authorize: implicit tokens");
        redirect_error(
            st,
            host,
            r,
            "server_error",
            "the tokens could not be issued",
        )
    };
    let closing = castellan_api::authn::hash_secret(&castellan_api::app::tokens::random_token());
    match auth_request::set_code(st, instance, &r.id, &closing).await {
        Ok(true) => {}
        Ok(false) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "The login cannot be continued",
                "This sign-in request was already used. Please start again from the application.",
            )
        }
        Err(e) => return busy(&e.text()),
    }
    let app = match o.clients.app(st, instance, &r.client_id, false).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return redirect_error(
                st,
                host,
                r,
                "unauthorized_client",
                "the application is no longer active",
            )
        }
        Err(e) => return busy(&e.description),
    };
    let settings = match crate::settings::of_instance(st, instance).await {
        Ok(s) => s,
        Err(e) => return busy(&e.0.text()),
    };
    let with_token = r.response_type == IMPLICIT_ID_TOKEN_TOKEN;
    let scopes = crate::scopes::parse(&r.scope);
    let g = crate::mint::Grant {
        instance: instance.to_string(),
        issuer: issuer(st, host),
        subject: r.user_id.clone(),
        client_id: app.client_id.clone(),
        project_id: app.project_id.clone(),
        audience: crate::scopes::audience(&app.project_audience, &scopes, instance),
        auth_time: (r.auth_time > 0).then_some(r.auth_time / 1_000_000),
        amr: r.amr.split_ascii_whitespace().map(str::to_string).collect(),
        grant_id: Some(r.id.clone()),
        session_id: (!r.session_id.is_empty()).then(|| r.session_id.clone()),
        jwt: app.jwt_access_token(),
        scopes,
    };
    let at = match crate::mint::access_token(st, &g, &settings).await {
        Ok(at) => at,
        Err(e) => return busy(&e.0.text()),
    };
    // The user deactivated or the session ended since the login: no tokens.
    match castellan_api::token_check::access_token_active(st, &at.claims).await {
        Ok(true) => {}
        Ok(false) => {
            return redirect_error(st, host, r, "access_denied", "the login is no longer valid")
        }
        Err(e) => return busy(&e.0.text()),
    }
    let x = crate::mint::IdExtras {
        nonce: Some(&r.nonce),
        access_token: with_token.then_some(at.token.as_str()),
        code: None,
    };
    let id_token = match crate::mint::id_token(st, &g, &settings, x).await {
        Ok(t) => t,
        Err(e) => return busy(&e.0.text()),
    };
    let iss = issuer(st, host);
    let expires_in = at.expires_in.to_string();
    let mut out: Vec<(&str, &str)> = Vec::new();
    if with_token {
        out.push(("access_token", &at.token));
        out.push(("token_type", "Bearer"));
        out.push(("expires_in", &expires_in));
    }
    out.push(("id_token", &id_token));
    out.push(("state", &r.state));
    out.push(("iss", &iss));
    respond(&response_mode(r), &r.redirect_uri, &out)
}
