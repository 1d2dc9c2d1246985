//! `grant_type=refresh_token` (RFC 6749 6) with rotation: the presented token is marked used
//! and a new one of the same family is stored in the same transaction. A used token
//! presented again revokes the family and every access token minted from it.

use crate::client_auth;
use crate::mint::{self, Grant, IdExtras, Refresh};
use crate::oauth_error::{json_ok, OAuthError, OResult};
use crate::scopes;
use crate::token::{Call, Form};
use crate::Oidc;
use axum::response::Response;
use castellan_api::authn::hash_secret;
use castellan_domain::id::now_micros;
use castellan_domain::oidc_app::grant_type;
use castellan_store::params;
use http::HeaderMap;

fn words(s: &str) -> Vec<String> {
    s.split_ascii_whitespace().map(str::to_string).collect()
}

pub async fn run(o: &Oidc, c: &Call, headers: &HeaderMap, form: &Form) -> OResult<Response> {
    let p = client_auth::presented(headers, form)?;
    let app = client_auth::app(&o.st, &o.clients, c, &p, "/oauth/v2/token").await?;
    if !app.allows(grant_type::REFRESH_TOKEN) {
        return Err(OAuthError::unauthorized_client(
            "OIDC-ref01",
            "the client may not use the refresh token grant",
        ));
    }
    let hash = hash_secret(form.require("refresh_token")?);
    let inst = c.instance.clone();
    let old =
        o.st.db
            .read_point(move |conn| {
                conn.one(
                    "SELECT id, family_id, client_id, user_id, session_id, scope, audience, \
                 auth_time, amr, idle_expires_at, expires_at, used_at, revoked_at \
                 FROM oidc_refresh_tokens WHERE instance_id = ? AND token_hash = ?",
                    &params![&inst, &hash],
                )?
                .map(|r| -> castellan_domain::Result<(Refresh, i64, i64)> {
                    Ok((
                        Refresh {
                            id: r.text(0)?,
                            family_id: r.text(1)?,
                            client_id: r.text(2)?,
                            user_id: r.text(3)?,
                            session_id: r.text(4)?,
                            scopes: words(&r.text(5)?),
                            audience: words(&r.text(6)?),
                            auth_time: r.int(7)?,
                            amr: words(&r.text(8)?),
                            idle_expires_at: r.int(9)?,
                            expires_at: r.int(10)?,
                        },
                        r.int(11)?,
                        r.int(12)?,
                    ))
                })
                .transpose()
            })
            .await?;
    let (old, used_at, revoked_at) =
        old.ok_or_else(|| OAuthError::invalid_grant("OIDC-ref02", "the refresh token is unknown"))?;
    if old.client_id != app.client_id {
        return Err(OAuthError::invalid_grant(
            "OIDC-ref03",
            "the refresh token was issued to another client",
        ));
    }
    if revoked_at != 0 {
        return Err(OAuthError::invalid_grant(
            "OIDC-ref04",
            "the refresh token was revoked",
        ));
    }
    if used_at != 0 {
        revoke_family(o, c, &old).await?;
        return Err(OAuthError::invalid_grant(
            "OIDC-ref05",
            "the refresh token was already used",
        ));
    }
    let now = now_micros();
    if old.idle_expires_at <= now || old.expires_at <= now {
        return Err(OAuthError::invalid_grant(
            "OIDC-ref06",
            "the refresh token has expired",
        ));
    }
    let scopes = match form.get("scope") {
        Some(s) => {
            let asked = scopes::parse(s);
            if !scopes::subset(&asked, &old.scopes) {
                return Err(OAuthError::invalid_scope(
                    "OIDC-ref07",
                    "scope may only narrow the granted scopes",
                ));
            }
            asked
        }
        None => old.scopes.clone(),
    };
    let g = Grant {
        instance: c.instance.clone(),
        issuer: c.issuer.clone(),
        subject: old.user_id.clone(),
        client_id: app.client_id.clone(),
        project_id: app.project_id.clone(),
        audience: old.audience.clone(),
        auth_time: (old.auth_time > 0).then_some(old.auth_time / 1_000_000),
        amr: old.amr.clone(),
        grant_id: Some(old.family_id.clone()),
        session_id: (!old.session_id.is_empty()).then(|| old.session_id.clone()),
        jwt: app.jwt_access_token(),
        scopes,
    };
    let s = crate::settings::of_instance(&o.st, &c.instance).await?;
    let at = mint::access_token(&o.st, &g, &s).await?;
    // The family revoked or the user gone: no new tokens.
    if !castellan_api::token_check::access_token_active(&o.st, &at.claims).await? {
        return Err(OAuthError::invalid_grant(
            "OIDC-ref08",
            "the grant is no longer valid",
        ));
    }
    let idle = i64::try_from(s.refresh_token_idle_expiration.as_micros()).unwrap_or(i64::MAX / 4);
    let new = Refresh {
        id: o.st.ids.next(),
        idle_expires_at: (now + idle).min(old.expires_at),
        scopes: old.scopes.clone(),
        ..old.clone()
    };
    let (token, hash) = mint::refresh_secret();
    let (inst, old_id) = (c.instance.clone(), old.id.clone());
    let rotated =
        o.st.db
            .write(&old.family_id, move |conn| {
                let n = conn.exec(
                    "UPDATE oidc_refresh_tokens SET used_at = ? WHERE instance_id = ? AND id = ? \
                 AND used_at = 0 AND revoked_at = 0",
                    &params![now_micros(), &inst, &old_id],
                )?;
                if n != 1 {
                    return Ok(false);
                }
                mint::insert_refresh(conn, &inst, &new, &hash)?;
                Ok(true)
            })
            .await?;
    if !rotated {
        revoke_family(o, c, &old).await?;
        return Err(OAuthError::invalid_grant(
            "OIDC-ref09",
            "the refresh token was already used",
        ));
    }
    let id_token = if g.scopes.iter().any(|s| s == scopes::OPENID) {
        let x = IdExtras {
            access_token: Some(&at.token),
            ..IdExtras::default()
        };
        Some(mint::id_token(&o.st, &g, &s, x).await?)
    } else {
        None
    };
    Ok(json_ok(&mint::response(&at, id_token, Some(token))))
}

async fn revoke_family(o: &Oidc, c: &Call, r: &Refresh) -> OResult<()> {
    let s = crate::settings::of_instance(&o.st, &c.instance).await?;
    let until = mint::family_revocation_until(r.expires_at, &s);
    let (inst, fam) = (c.instance.clone(), r.family_id.clone());
    o.st.db
        .write_auth(&r.family_id, &c.instance, move |conn| {
            mint::revoke_grant(conn, &inst, &fam, until)
        })
        .await?;
    Ok(())
}
