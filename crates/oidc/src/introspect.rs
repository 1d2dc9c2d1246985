//! `POST /oauth/v2/introspect` (RFC 7662): apps (API apps with basic or private_key_jwt, OIDC
//! apps with their method) ask whether an access token is active. Anything not active, not
//! ours, of another instance or not meant for the asking app's project is `{"active":false}`.

use crate::client_auth;
use crate::oauth_error::{json_ok, OResult};
use crate::token::Call;
use crate::Oidc;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use castellan_domain::access_token::AccessToken;
use serde_json::{json, Map, Value};

pub async fn introspect(State(o): State<Oidc>, req: Request) -> Response {
    match run(&o, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn run(o: &Oidc, req: Request) -> OResult<Response> {
    let (c, headers, form) = crate::token::read(o, req).await?;
    let p = client_auth::presented(&headers, &form)?;
    if p.method == client_auth::Method::None {
        return Err(crate::oauth_error::OAuthError::invalid_client(
            "OIDC-int01",
            "introspection needs client authentication",
        ));
    }
    let app = client_auth::app(&o.st, &o.clients, &c, &p, "/oauth/v2/introspect").await?;
    let token = form.require("token")?;
    let Some(t) = crate::mint::read_access_token(&o.st, &c.instance, token).await? else {
        return Ok(inactive());
    };
    // Only tokens meant for the asking app's project (ZITADEL checks the audience).
    let for_us = t
        .audience
        .iter()
        .any(|a| *a == app.project_id || *a == app.client_id);
    if !for_us || !castellan_api::token_check::access_token_active(&o.st, &t).await? {
        return Ok(inactive());
    }
    let ctx = crate::claims::ClientCtx {
        client_id: app.client_id.clone(),
        project_id: app.project_id.clone(),
        with_access_token: true,
    };
    let mut m = crate::claims::user_claims(
        &o.st,
        &c.instance,
        &t.subject,
        &t.scopes,
        &ctx,
        crate::claims::Target::Introspection,
    )
    .await?;
    m.extend(protocol_claims(&c, &t));
    // The user's data is cached (user_claims has just read it).
    if let Ok(u) = castellan_api::app::claims_data::user(&o.st, &c.instance, &t.subject).await {
        m.insert("username".into(), u.user.login_name.clone().into());
    }
    Ok(json_ok(&Value::Object(m)))
}

fn inactive() -> Response {
    json_ok(&json!({"active": false}))
}

fn protocol_claims(c: &Call, t: &AccessToken) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("active".into(), true.into());
    m.insert("scope".into(), t.scopes.join(" ").into());
    m.insert("client_id".into(), t.client_id.clone().into());
    m.insert("token_type".into(), "Bearer".into());
    m.insert("exp".into(), t.exp.into());
    m.insert("iat".into(), t.iat.into());
    m.insert("nbf".into(), t.iat.into());
    m.insert("sub".into(), t.subject.clone().into());
    m.insert("aud".into(), t.audience.clone().into());
    m.insert("iss".into(), c.issuer.clone().into());
    m.insert("jti".into(), t.id.clone().into());
    if let Some(sid) = &t.session_id {
        m.insert("sid".into(), sid.clone().into());
    }
    if let Some(act) = &t.act {
        m.insert("act".into(), act.clone());
    }
    m
}
