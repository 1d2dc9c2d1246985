//! `grant_type=authorization_code` (RFC 6749 4.1.3, RFC 7636): redeems a code the login
//! issued. The code must belong to the authenticated client, come with the same
//! `redirect_uri`, pass PKCE and be unused and unexpired; it is marked used in the statement
//! that checks it, so of two concurrent redemptions one wins. A code presented again revokes
//! the grant: every token minted from it carries the request id as grant id.

use crate::client_auth::{self, Method};
use crate::mint;
use crate::oauth_error::{OAuthError, OResult};
use crate::token::{Call, Form};
use crate::Oidc;
use axum::response::Response;
use base64::Engine;
use castellan_api::authn::hash_secret;
use castellan_domain::id::now_micros;
use castellan_domain::oidc_app::grant_type;
use castellan_store::params;
use http::HeaderMap;

/// The stored request a code stands for.
struct Request {
    id: String,
    client_id: String,
    redirect_uri: String,
    scope: String,
    nonce: String,
    challenge: String,
    challenge_method: String,
    user_id: String,
    session_id: String,
    auth_time: i64,
    amr: String,
    code_expires_at: i64,
    code_used_at: i64,
}

/// Whether `verifier` answers the stored challenge (S256; plain only when the request used it).
fn pkce_ok(challenge: &str, method: &str, verifier: Option<&str>) -> bool {
    if challenge.is_empty() {
        return verifier.is_none();
    }
    let Some(v) = verifier else {
        return false;
    };
    if !(43..=128).contains(&v.len()) {
        return false;
    }
    let computed = match method {
        "S256" => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, v.as_bytes()),
        ),
        "plain" | "" => v.to_string(),
        _ => return false,
    };
    aws_lc_rs::constant_time::verify_slices_are_equal(computed.as_bytes(), challenge.as_bytes())
        .is_ok()
}

/// Longest life of anything minted from a code (µs): the revocation row outlives it.
fn revocation_until(s: &crate::settings::OidcSettings) -> i64 {
    let longest = s
        .refresh_token_expiration
        .max(s.access_token_lifetime)
        .max(s.id_token_lifetime);
    now_micros() + i64::try_from(longest.as_micros()).unwrap_or(i64::MAX / 4)
}

pub async fn run(o: &Oidc, c: &Call, headers: &HeaderMap, form: &Form) -> OResult<Response> {
    let p = client_auth::presented(headers, form)?;
    let app = client_auth::app(&o.st, &o.clients, c, &p, "/oauth/v2/token").await?;
    if !app.allows(grant_type::AUTHORIZATION_CODE) {
        return Err(OAuthError::unauthorized_client(
            "OIDC-cod01",
            "the client may not use the authorization code grant",
        ));
    }
    let code = form.require("code")?;
    let hash = hash_secret(code);
    let inst = c.instance.clone();
    let r =
        o.st.db
            .read_point(move |conn| {
                conn.one(
                    "SELECT id, client_id, redirect_uri, scope, nonce, code_challenge, \
                 code_challenge_method, user_id, session_id, auth_time, amr, code_expires_at, \
                 code_used_at FROM oidc_auth_requests WHERE instance_id = ? AND code_hash = ?",
                    &params![&inst, &hash],
                )?
                .map(|r| -> castellan_domain::Result<Request> {
                    Ok(Request {
                        id: r.text(0)?,
                        client_id: r.text(1)?,
                        redirect_uri: r.text(2)?,
                        scope: r.text(3)?,
                        nonce: r.text(4)?,
                        challenge: r.text(5)?,
                        challenge_method: r.text(6)?,
                        user_id: r.text(7)?,
                        session_id: r.text(8)?,
                        auth_time: r.int(9)?,
                        amr: r.text(10)?,
                        code_expires_at: r.int(11)?,
                        code_used_at: r.int(12)?,
                    })
                })
                .transpose()
            })
            .await?
            .ok_or_else(|| OAuthError::invalid_grant("OIDC-cod02", "the code is unknown"))?;
    let s = crate::settings::of_instance(&o.st, &c.instance).await?;
    if r.code_used_at != 0 {
        revoke(o, c, &r.id, revocation_until(&s)).await?;
        return Err(OAuthError::invalid_grant(
            "OIDC-cod03",
            "the code was already used",
        ));
    }
    if r.client_id != app.client_id {
        return Err(OAuthError::invalid_grant(
            "OIDC-cod04",
            "the code was issued to another client",
        ));
    }
    if form.get("redirect_uri").unwrap_or_default() != r.redirect_uri {
        return Err(OAuthError::invalid_grant(
            "OIDC-cod05",
            "redirect_uri differs from the authorization request's",
        ));
    }
    if r.code_expires_at <= now_micros() || r.user_id.is_empty() {
        return Err(OAuthError::invalid_grant(
            "OIDC-cod06",
            "the code has expired",
        ));
    }
    if p.method == Method::None && r.challenge.is_empty() {
        return Err(OAuthError::invalid_grant(
            "OIDC-cod07",
            "a public client must use PKCE",
        ));
    }
    if !pkce_ok(&r.challenge, &r.challenge_method, form.get("code_verifier")) {
        return Err(OAuthError::invalid_grant(
            "OIDC-cod08",
            "the code_verifier does not match",
        ));
    }
    // Single use: only the redemption that flips code_used_at from 0 goes on.
    let (inst, id, now) = (c.instance.clone(), r.id.clone(), now_micros());
    let won =
        o.st.db
            .write(&r.id, move |conn| {
                Ok(conn.exec(
                "UPDATE oidc_auth_requests SET code_used_at = ? WHERE instance_id = ? AND id = ? \
                 AND code_used_at = 0",
                &params![now, &inst, &id],
            )? == 1)
            })
            .await?;
    if !won {
        revoke(o, c, &r.id, revocation_until(&s)).await?;
        return Err(OAuthError::invalid_grant(
            "OIDC-cod09",
            "the code was already used",
        ));
    }
    let login = crate::login_grant::Login {
        user_id: &r.user_id,
        session_id: &r.session_id,
        auth_time: r.auth_time,
        amr: &r.amr,
        scope: &r.scope,
        grant_id: r.id.clone(),
        nonce: Some(&r.nonce),
    };
    crate::login_grant::tokens(o, c, &app, &s, login, "OIDC-cod10").await
}

/// Revokes the grant of a reused code.
async fn revoke(o: &Oidc, c: &Call, id: &str, until: i64) -> OResult<()> {
    let (inst, id2) = (c.instance.clone(), id.to_string());
    o.st.db
        .write_auth(id, &c.instance, move |conn| {
            mint::revoke_grant(conn, &inst, &id2, until)
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::pkce_ok;

    #[test]
    fn pkce_of_rfc_7636_appendix_b() {
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_ok(c, "S256", Some(v)));
        assert!(!pkce_ok(
            c,
            "S256",
            Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX")
        ));
        assert!(!pkce_ok(c, "S256", None));
        assert!(!pkce_ok(c, "plain", Some(v)));
        assert!(pkce_ok(v, "plain", Some(v)));
        assert!(pkce_ok("", "", None));
        assert!(!pkce_ok("", "", Some(v)));
    }
}
