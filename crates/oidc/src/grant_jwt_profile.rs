//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` (RFC 7523 2.1): a machine user
//! signs an assertion with one of its keys (`iss` = `sub` = its user id, `aud` the issuer).
//! An access token, and an ID token when `openid` is asked for. Writes nothing.

use crate::client_auth::{self, accepted_audiences};
use crate::mint::{self, IdExtras};
use crate::oauth_error::{json_ok, OAuthError, OResult};
use crate::scopes;
use crate::token::{Call, Form};
use crate::Oidc;
use axum::response::Response;
use castellan_domain::jwt::Jwt;

/// Clock skew allowed on the assertion's times (seconds).
const SKEW: i64 = 60;

pub async fn run(o: &Oidc, c: &Call, form: &Form) -> OResult<Response> {
    let jwt = Jwt::parse(form.require("assertion")?)
        .map_err(|_| OAuthError::invalid_grant("OIDC-jwp01", "the assertion is not a JWT"))?;
    let sub = jwt.claim("sub").unwrap_or_default().to_string();
    let kid = jwt
        .header
        .get("kid")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let clients = &o.clients;
    let mut m = clients
        .machine(&o.st, &c.instance, true, &sub, false)
        .await?
        .ok_or_else(|| {
            OAuthError::invalid_grant("OIDC-jwp02", "the subject is unknown or not active")
        })?;
    if !m.keys.contains_key(kid) {
        // A key added since the user was cached.
        if let Some(fresh) = clients
            .machine(&o.st, &c.instance, true, &sub, true)
            .await?
        {
            m = fresh;
        }
    }
    client_auth::check_assertion(
        &jwt,
        &m.keys,
        &m.user_id,
        &accepted_audiences(c, "/oauth/v2/token"),
        SKEW,
    )
    .map_err(|e| OAuthError::invalid_grant("OIDC-jwp03", e))?;
    let g = mint::machine_grant(c, &m, form.get("scope").unwrap_or_default());
    let openid = g.scopes.iter().any(|s| s == scopes::OPENID);
    let s = crate::settings::of_instance(&o.st, &c.instance).await?;
    let at = mint::access_token(&o.st, &g, &s).await?;
    let id = if openid {
        let x = IdExtras {
            access_token: Some(&at.token),
            ..IdExtras::default()
        };
        Some(mint::id_token(&o.st, &g, &s, x).await?)
    } else {
        None
    };
    Ok(json_ok(&mint::response(&at, id, None)))
}
