//! `POST /oauth/v2/revoke` (RFC 7009): the authenticated client revokes one of its access
//! tokens (its id goes into the revocation table until the token's expiry) or refresh tokens
//! (the whole family). Unknown tokens and other clients' tokens are answered 200 all the same.

use crate::client_auth;
use crate::oauth_error::{OResult, NO_STORE};
use crate::Oidc;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use castellan_api::authn::hash_secret;
use castellan_store::params;

pub async fn revoke(State(o): State<Oidc>, req: Request) -> Response {
    match run(&o, req).await {
        Ok(()) => (http::StatusCode::OK, NO_STORE).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn run(o: &Oidc, req: Request) -> OResult<()> {
    let (c, headers, form) = crate::token::read(o, req).await?;
    let p = client_auth::presented(&headers, &form)?;
    let app = client_auth::app(&o.st, &o.clients, &c, &p, "/oauth/v2/revoke").await?;
    let token = form.require("token")?;
    let refresh_first = form.get("token_type_hint") == Some("refresh_token");
    if refresh_first && revoke_refresh(o, &c.instance, &app.client_id, token).await? {
        return Ok(());
    }
    if let Some(t) = crate::mint::read_access_token(&o.st, &c.instance, token).await? {
        if t.client_id == app.client_id {
            castellan_api::token_check::revoke(&o.st, &c.instance, &t.id, t.exp * 1_000_000)
                .await?;
        }
        return Ok(());
    }
    if !refresh_first {
        revoke_refresh(o, &c.instance, &app.client_id, token).await?;
    }
    Ok(())
}

/// Revokes the family of a refresh token of `client_id`; false when it is none.
async fn revoke_refresh(o: &Oidc, instance: &str, client_id: &str, token: &str) -> OResult<bool> {
    let (inst, hash, client) = (
        instance.to_string(),
        hash_secret(token),
        client_id.to_string(),
    );
    let found =
        o.st.db
            .read_point(move |c| {
                c.one(
                    "SELECT family_id, expires_at FROM oidc_refresh_tokens WHERE instance_id = ? \
                 AND token_hash = ? AND client_id = ?",
                    &params![&inst, &hash, &client],
                )?
                .map(|r| -> castellan_domain::Result<(String, i64)> { Ok((r.text(0)?, r.int(1)?)) })
                .transpose()
            })
            .await?;
    let Some((family, expires)) = found else {
        return Ok(false);
    };
    let inst = instance.to_string();
    let s = crate::settings::of_instance(&o.st, instance).await?;
    let until = crate::mint::family_revocation_until(expires, &s);
    o.st.db
        .write_auth(&family.clone(), instance, move |conn| {
            crate::mint::revoke_grant(conn, &inst, &family, until)
        })
        .await?;
    Ok(true)
}
