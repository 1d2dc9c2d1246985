//! `POST /oauth/v2/introspect` (RFC 7662): apps (API apps with basic or private_key_jwt, OIDC
//! apps with their method) ask whether an access token is active. Anything not active, not
//! ours, of another instance or not meant for the asking app's project is `{"active":false}`.

use crate::client_auth;
use crate::oauth_error::{json_ok, OResult};
use crate::token::Call;
use crate::Oidc;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use castellan_api::error::R;
use castellan_api::state::St;
use castellan_domain::access_token::AccessToken;
use castellan_store::params;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::RwLock;

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
    if let Some(name) = o.usernames.get(&o.st, &c.instance, &t.subject).await? {
        m.insert("username".into(), name.into());
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

/// Login names of users by (instance, user id), stamped with the data epoch.
#[derive(Default)]
pub struct Usernames {
    map: RwLock<HashMap<(String, String), Stamped>>,
}

/// A login name (`None`: no such user) and the data epoch it was read at.
type Stamped = (u64, Option<String>);

impl Usernames {
    pub async fn get(&self, st: &St, instance: &str, user_id: &str) -> R<Option<String>> {
        let key = (instance.to_string(), user_id.to_string());
        let epoch = st.db.data_epoch();
        {
            let m = self.map.read().unwrap_or_else(|e| e.into_inner());
            if let Some((e, v)) = m.get(&key) {
                if *e == epoch {
                    return Ok(v.clone());
                }
            }
        }
        let (i, u) = key.clone();
        let v = st
            .db
            .read_point(move |c| {
                c.one(
                    "SELECT login_name FROM users WHERE instance_id = ? AND id = ?",
                    &params![&i, &u],
                )?
                .map(|r| r.text(0))
                .transpose()
            })
            .await?;
        let mut m = self.map.write().unwrap_or_else(|e| e.into_inner());
        if m.len() >= 50_000 {
            m.clear();
        }
        m.insert(key, (epoch, v.clone()));
        Ok(v)
    }
}
