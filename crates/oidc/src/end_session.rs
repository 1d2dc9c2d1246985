//! RP-initiated logout (`/oidc/v1/end_session`, GET or POST) and back-channel logout: ends the
//! browser's sessions, revokes their ids (tokens with that `sid` stop working), tells the
//! applications that registered a back-channel logout URI, then redirects to the registered
//! `post_logout_redirect_uri` (with `state`) or shows a "signed out" page.

use crate::authorize::{error_page, issuer, parse_params, redirect};
use crate::session::{self, Session};
use crate::Oidc;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use castellan_api::state::St;
use castellan_domain::id::now_micros;
use castellan_store::params;
use http::{header, HeaderMap, StatusCode, Uri};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

/// How long a back-channel logout POST may take.
const BACK_CHANNEL_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn get(
    State(o): State<Oidc>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Response {
    end_session(
        &o.st,
        &headers,
        &uri,
        parse_params(q.as_deref().unwrap_or("")),
    )
    .await
}

pub async fn post(State(o): State<Oidc>, headers: HeaderMap, uri: Uri, body: Bytes) -> Response {
    let s = std::str::from_utf8(&body).unwrap_or("");
    end_session(&o.st, &headers, &uri, parse_params(s)).await
}

/// The claims of a valid ID token hint of this instance (expired ones count).
async fn hint_claims(st: &St, instance: &str, token: &str) -> Option<serde_json::Value> {
    let jwt = castellan_domain::jwt::Jwt::parse(token).ok()?;
    let kid = jwt.header.get("kid").and_then(|v| v.as_str())?;
    let key = st.keys.verifying_key(st, instance, kid).await.ok()??;
    jwt.verify(&key).ok()?;
    Some(jwt.claims)
}

async fn end_session(
    st: &St,
    headers: &HeaderMap,
    uri: &Uri,
    p: HashMap<String, String>,
) -> Response {
    let host = castellan_api::gate::host(st, headers, uri);
    let Ok(instance) = castellan_api::authn::instance_by_host(&st.db, &st.cache, &host).await
    else {
        return error_page(
            StatusCode::NOT_FOUND,
            "Unknown instance",
            "This address does not belong to any instance.",
        );
    };
    let get = |k: &str| p.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let bad = |text: &str| {
        error_page(
            StatusCode::BAD_REQUEST,
            "The logout request is invalid",
            text,
        )
    };
    let mut client_id = get("client_id");
    let mut hint_user = None;
    let hint = get("id_token_hint");
    if !hint.is_empty() {
        let Some(claims) = hint_claims(st, &instance, &hint).await else {
            return bad("The id_token_hint is not a valid ID token of this issuer.");
        };
        let aud: Vec<String> = match &claims["aud"] {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => vec![],
        };
        if client_id.is_empty() {
            client_id = claims["azp"]
                .as_str()
                .map(str::to_string)
                .or_else(|| aud.first().cloned())
                .unwrap_or_default();
        } else if !aud.contains(&client_id) {
            return bad("The id_token_hint was not issued to this client_id.");
        }
        hint_user = claims["sub"].as_str().map(str::to_string);
    }
    let post_logout = get("post_logout_redirect_uri");
    if !post_logout.is_empty() {
        if client_id.is_empty() {
            return bad("A post_logout_redirect_uri needs a client_id or an id_token_hint.");
        }
        let registered = match crate::authorize::active_client(st, &instance, &client_id).await {
            Ok(Some(c)) => c
                .oidc
                .as_ref()
                .is_some_and(|s| s.post_logout_redirect_uris.contains(&post_logout)),
            _ => false,
        };
        if !registered {
            return bad("The post_logout_redirect_uri is not registered for this application.");
        }
    }
    let ended = match session::agent_of(headers) {
        Some(agent) => {
            match session::terminate(st, &instance, &agent, hint_user.as_deref()).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e.text(), "end_session: terminate");
                    return error_page(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Please try again",
                        "The service is busy.",
                    );
                }
            }
        }
        None => Vec::new(),
    };
    if !ended.is_empty() {
        let (st2, inst, iss) = (st.clone(), instance.clone(), issuer(st, &host));
        tokio::spawn(async move { back_channel(&st2, &inst, &iss, ended).await });
    }
    if !post_logout.is_empty() {
        let state = get("state");
        let url = if state.is_empty() {
            post_logout
        } else {
            let q = form_urlencoded::Serializer::new(String::new())
                .append_pair("state", &state)
                .finish();
            let sep = if post_logout.contains('?') { '&' } else { '?' };
            format!("{post_logout}{sep}{q}")
        };
        let mut resp = redirect(&url);
        if let Ok(v) = session::clear_cookie(st).parse() {
            resp.headers_mut().insert(header::SET_COOKIE, v);
        }
        return resp;
    }
    crate::authorize_response::info_page(
        StatusCode::OK,
        "Signed out",
        "You have been signed out. You can close this window.",
    )
}

/// Posts a logout token (OpenID Connect Back-Channel Logout 1.0) to every application that
/// registered a back-channel logout URI and received tokens from one of the ended sessions.
async fn back_channel(st: &St, instance: &str, iss: &str, ended: Vec<Session>) {
    let ids: Vec<String> = ended.iter().map(|s| s.id.clone()).collect();
    let inst = instance.to_string();
    let targets = st
        .db
        .read(move |c| {
            let mut out = Vec::new();
            for sid in &ids {
                // Clients that got a code or a refresh token from the session.
                for r in c.query(
                    "SELECT client_id, user_id FROM oidc_auth_requests WHERE instance_id = ? AND session_id = ? \
                     UNION SELECT client_id, user_id FROM oidc_refresh_tokens WHERE instance_id = ? AND session_id = ?",
                    &params![&inst, sid, &inst, sid],
                )? {
                    let t = (sid.clone(), r.text(0)?, r.text(1)?);
                    if !out.contains(&t) {
                        out.push(t);
                    }
                }
            }
            Ok(out)
        })
        .await
        .unwrap_or_default();
    if targets.is_empty() {
        return;
    }
    let Ok(keys) = st.keys.get(st, instance).await else {
        return;
    };
    let Ok(http) = reqwest::Client::builder()
        .timeout(BACK_CHANNEL_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    else {
        return;
    };
    for (sid, client_id, sub) in targets {
        let uri = match crate::authorize::active_client(st, instance, &client_id).await {
            Ok(Some(c)) => c
                .oidc
                .map(|s| s.back_channel_logout_uri)
                .unwrap_or_default(),
            _ => String::new(),
        };
        if uri.is_empty() {
            continue;
        }
        let now = now_micros() / 1_000_000;
        let claims = json!({
            "iss": iss,
            "aud": client_id,
            "iat": now,
            "exp": now + 120,
            "jti": castellan_api::app::tokens::random_token(),
            "sub": sub,
            "sid": sid,
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
        });
        let Ok(token) = keys.signer.sign_jwt("logout+jwt", &claims) else {
            continue;
        };
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("logout_token", &token)
            .finish();
        let res = http
            .post(&uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await;
        if let Err(e) = res {
            tracing::warn!(client_id, error = %e, "back-channel logout failed");
        }
    }
}
