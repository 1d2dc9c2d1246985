//! `grant_type=authorization_code` (RFC 6749 4.1.3, RFC 7636): redeems a code the login
//! issued. The code must belong to the authenticated client, come with the same
//! `redirect_uri`, pass PKCE and be unused and unexpired. One statement finds an unused code
//! of this client and `redirect_uri` and marks it used (of two concurrent redemptions one
//! wins); expiry and PKCE are checked after it, so a failing attempt still uses the code up.
//! A code issued with PKCE `plain` redeems only while the instance still allows `plain`.
//! A code presented again revokes the grant: every token minted from it carries the request
//! id as grant id.

use crate::client_auth::{self, Method};
use crate::mint;
use crate::oauth_error::{OAuthError, OResult};
use crate::token::{Call, Form};
use crate::Oidc;
use axum::response::Response;
use base64::Engine;
use castellan_api::authn::hash_secret;
use castellan_api::token_check::login_still_valid_sql;
use castellan_domain::id::now_micros;
use castellan_domain::oidc_app::grant_type;
use castellan_store::{params, Conn};
use http::HeaderMap;
use std::sync::LazyLock;

/// The stored request a code stands for, as its redemption returns it.
struct Request {
    id: String,
    scope: String,
    nonce: String,
    challenge: String,
    challenge_method: String,
    user_id: String,
    session_id: String,
    auth_time: i64,
    amr: String,
    code_expires_at: i64,
    /// Whether a token of this login would pass the token check now (user, organisation,
    /// app and project active; grant and session not revoked), read by the redemption.
    active: bool,
}

/// What presenting a code did.
enum Redeemed {
    /// The code was unused, of this client and this `redirect_uri`: it is used now.
    Now(Request),
    Unknown,
    /// It was used before (or by a concurrent redemption): the grant to revoke.
    AlreadyUsed(String),
    /// Unused, and left so: another client's code, or another `redirect_uri`.
    OtherClient,
    OtherRedirect,
}

/// The redemption: marks an unused code of the client and `redirect_uri` used and returns its
/// request, with the token check of the login's tokens-to-be (one statement, one round trip).
static REDEEM: LazyLock<String> = LazyLock::new(|| {
    let t = "oidc_auth_requests";
    format!(
        "UPDATE {t} SET code_used_at = ? \
         WHERE instance_id = ? AND code_hash = ? AND code_used_at = 0 AND client_id = ? AND redirect_uri = ? \
         RETURNING id, scope, nonce, code_challenge, code_challenge_method, user_id, session_id, \
         auth_time, amr, code_expires_at, {}",
        login_still_valid_sql(
            &format!("{t}.instance_id"),
            &format!("{t}.user_id"),
            &format!("{t}.client_id"),
            &format!("{t}.id"),
            &format!("{t}.session_id"),
        )
    )
});

/// Marks the code used if it is unused and belongs to `client_id` and `redirect_uri`, in one
/// statement (of two concurrent redemptions one wins); otherwise looks it up to say why not.
fn redeem(
    conn: &mut dyn Conn,
    inst: &str,
    hash: &str,
    client_id: &str,
    redirect_uri: &str,
    now: i64,
) -> castellan_domain::Result<Redeemed> {
    let row = conn.one(&REDEEM, &params![now, inst, hash, client_id, redirect_uri])?;
    if let Some(r) = row {
        return Ok(Redeemed::Now(Request {
            id: r.text(0)?,
            scope: r.text(1)?,
            nonce: r.text(2)?,
            challenge: r.text(3)?,
            challenge_method: r.text(4)?,
            user_id: r.text(5)?,
            session_id: r.text(6)?,
            auth_time: r.int(7)?,
            amr: r.text(8)?,
            code_expires_at: r.int(9)?,
            active: r.bool(10)?,
        }));
    }
    let Some(r) = conn.one(
        "SELECT id, code_used_at, client_id, redirect_uri FROM oidc_auth_requests \
         WHERE instance_id = ? AND code_hash = ?",
        &params![inst, hash],
    )?
    else {
        return Ok(Redeemed::Unknown);
    };
    Ok(if r.int(1)? != 0 {
        Redeemed::AlreadyUsed(r.text(0)?)
    } else if r.text(2)? != client_id {
        Redeemed::OtherClient
    } else if r.text(3)? != redirect_uri {
        Redeemed::OtherRedirect
    } else {
        // Changed between the two statements (a concurrent redemption of the same code won the
        // row): answer as for a used code.
        Redeemed::AlreadyUsed(r.text(0)?)
    })
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
    // The code is used up by this attempt once it is of this client and redirect_uri, even
    // when a later check fails; another client or redirect_uri leaves it unused.
    let (inst, client_id, now) = (c.instance.clone(), app.client_id.clone(), now_micros());
    let redirect_uri = form.get("redirect_uri").unwrap_or_default().to_string();
    let key = hash.clone();
    // One conditional UPDATE (then a read that classifies a miss): it commits by itself.
    let redeemed =
        o.st.db
            .write_single(&key, move |conn| {
                redeem(conn, &inst, &hash, &client_id, &redirect_uri, now)
            })
            .await?;
    let s = crate::settings::of_instance(&o.st, &c.instance).await?;
    let r = match redeemed {
        Redeemed::Now(r) => r,
        Redeemed::Unknown => {
            return Err(OAuthError::invalid_grant(
                "OIDC-cod02",
                "the code is unknown",
            ))
        }
        Redeemed::AlreadyUsed(id) => {
            revoke(o, c, &id, revocation_until(&s)).await?;
            return Err(OAuthError::invalid_grant(
                "OIDC-cod03",
                "the code was already used",
            ));
        }
        Redeemed::OtherClient => {
            return Err(OAuthError::invalid_grant(
                "OIDC-cod04",
                "the code was issued to another client",
            ))
        }
        Redeemed::OtherRedirect => {
            return Err(OAuthError::invalid_grant(
                "OIDC-cod05",
                "redirect_uri differs from the authorization request's",
            ))
        }
    };
    if r.code_expires_at <= now || r.user_id.is_empty() {
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
    // A code issued with `plain` while the instance allowed it: refused once it no longer does.
    if !r.challenge.is_empty() && r.challenge_method != "S256" && !s.pkce_plain_allowed {
        return Err(OAuthError::invalid_grant(
            "OIDC-cod09",
            "the code was issued with PKCE plain, which this instance no longer allows",
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
        active: Some(r.active),
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
