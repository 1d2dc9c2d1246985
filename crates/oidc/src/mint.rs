//! Issuing tokens: access tokens (sealed opaque or JWT), ID tokens and refresh tokens, and
//! reading an access token back (opaque or JWT, verified).
//!
//! A JWT access token carries the claims of [`AccessToken`] under their serialised names
//! (`jti`, `ins`, `sub`, `cid`, `aud`, `scp`, `iat`, `exp`, `auth_time`, `amr`, `gid`, `sid`)
//! next to the standard ones (`iss`, `nbf`, `client_id`, `azp`, `scope`), so a verified JWT
//! deserialises into the same struct an opaque token opens to.

use crate::claims::{ClientCtx, Target};
use crate::settings::OidcSettings;
use base64::Engine;
use castellan_api::error::R;
use castellan_api::state::St;
use castellan_domain::access_token::AccessToken;
use castellan_domain::id::now_micros;
use castellan_domain::jwt::Alg;
use castellan_domain::{Error, Result};
use castellan_store::{params, Conn};
use serde_json::{Map, Value};

/// What a grant yields tokens for.
#[derive(Debug, Clone)]
pub struct Grant {
    pub instance: String,
    pub issuer: String,
    /// The user (human or machine) id.
    pub subject: String,
    /// The app's client id; for machine grants the machine's user name.
    pub client_id: String,
    /// The app's project ('' for machine grants).
    pub project_id: String,
    pub audience: Vec<String>,
    pub scopes: Vec<String>,
    /// Seconds since the epoch.
    pub auth_time: Option<i64>,
    pub amr: Vec<String>,
    pub grant_id: Option<String>,
    pub session_id: Option<String>,
    /// Access tokens as JWT rather than sealed.
    pub jwt: bool,
}

impl Grant {
    fn client_ctx(&self, with_access_token: bool) -> ClientCtx {
        ClientCtx {
            client_id: self.client_id.clone(),
            project_id: self.project_id.clone(),
            with_access_token,
        }
    }
}

/// An issued access token.
pub struct Issued {
    pub token: String,
    pub claims: AccessToken,
    pub expires_in: i64,
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2)
}

fn internal(id: &'static str, e: impl std::fmt::Display) -> Error {
    Error::internal(id, e.to_string())
}

/// Issues an access token for `g`.
pub async fn access_token(st: &St, g: &Grant, s: &OidcSettings) -> R<Issued> {
    access_token_acting(st, g, s, None).await
}

/// Issues an access token for `g` carrying the RFC 8693 actor `act` (token exchange).
pub async fn access_token_acting(
    st: &St,
    g: &Grant,
    s: &OidcSettings,
    act: Option<Value>,
) -> R<Issued> {
    let now = now_micros() / 1_000_000;
    let life = secs(s.access_token_lifetime);
    let claims = AccessToken {
        id: st.ids.next(),
        instance_id: g.instance.clone(),
        subject: g.subject.clone(),
        client_id: g.client_id.clone(),
        audience: g.audience.clone(),
        scopes: g.scopes.clone(),
        iat: now,
        exp: now + life,
        auth_time: g.auth_time,
        amr: g.amr.clone(),
        grant_id: g.grant_id.clone(),
        session_id: g.session_id.clone(),
        act,
    };
    let token = if g.jwt {
        let mut m = crate::claims::user_claims(
            st,
            &g.instance,
            &g.subject,
            &g.scopes,
            &g.client_ctx(true),
            Target::AccessToken,
        )
        .await?;
        if let Value::Object(own) =
            serde_json::to_value(&claims).map_err(|e| internal("OIDC-m1nt1", e))?
        {
            m.extend(own);
        }
        m.insert("iss".into(), g.issuer.clone().into());
        m.insert("nbf".into(), now.into());
        m.insert("client_id".into(), g.client_id.clone().into());
        m.insert("azp".into(), g.client_id.clone().into());
        m.insert("scope".into(), g.scopes.join(" ").into());
        let keys = st.keys.get(st, &g.instance).await?;
        keys.signer.sign_jwt("JWT", &Value::Object(m))?
    } else {
        claims.seal(st.access_token_cipher()?)?
    };
    Ok(Issued {
        token,
        claims,
        expires_in: life,
    })
}

/// The left half of the token's hash, base64url (`at_hash`, `c_hash`; OIDC Core 3.1.3.6).
pub fn half_hash(alg: Alg, value: &str) -> String {
    let algo = match alg {
        Alg::EdDSA => &aws_lc_rs::digest::SHA512,
        _ => &aws_lc_rs::digest::SHA256,
    };
    let d = aws_lc_rs::digest::digest(algo, value.as_bytes());
    let h = d.as_ref();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&h[..h.len() / 2])
}

/// What an ID token adds to the grant.
#[derive(Default)]
pub struct IdExtras<'a> {
    pub nonce: Option<&'a str>,
    pub access_token: Option<&'a str>,
    pub code: Option<&'a str>,
}

/// Issues an ID token for `g`, signed with the instance's key.
pub async fn id_token(st: &St, g: &Grant, s: &OidcSettings, x: IdExtras<'_>) -> R<String> {
    id_token_acting(st, g, s, x, None).await
}

/// Issues an ID token for `g` carrying the RFC 8693 actor `act` (token exchange).
pub async fn id_token_acting(
    st: &St,
    g: &Grant,
    s: &OidcSettings,
    x: IdExtras<'_>,
    act: Option<Value>,
) -> R<String> {
    let now = now_micros() / 1_000_000;
    let mut m: Map<String, Value> = crate::claims::user_claims(
        st,
        &g.instance,
        &g.subject,
        &g.scopes,
        &g.client_ctx(x.access_token.is_some()),
        Target::IdToken,
    )
    .await?;
    let mut aud = vec![g.client_id.clone()];
    aud.extend(g.audience.iter().filter(|a| **a != g.client_id).cloned());
    m.insert("iss".into(), g.issuer.clone().into());
    m.insert("sub".into(), g.subject.clone().into());
    m.insert("aud".into(), aud.into());
    m.insert("azp".into(), g.client_id.clone().into());
    m.insert("client_id".into(), g.client_id.clone().into());
    m.insert("iat".into(), now.into());
    m.insert("exp".into(), (now + secs(s.id_token_lifetime)).into());
    if let Some(t) = g.auth_time {
        m.insert("auth_time".into(), t.into());
    }
    if !g.amr.is_empty() {
        m.insert("amr".into(), g.amr.clone().into());
    }
    if let Some(sid) = &g.session_id {
        m.insert("sid".into(), sid.clone().into());
    }
    if let Some(n) = x.nonce.filter(|n| !n.is_empty()) {
        m.insert("nonce".into(), n.into());
    }
    if let Some(a) = act {
        m.insert("act".into(), a);
    }
    let keys = st.keys.get(st, &g.instance).await?;
    let alg = keys.signer.alg;
    if let Some(at) = x.access_token {
        m.insert("at_hash".into(), half_hash(alg, at).into());
    }
    if let Some(c) = x.code {
        m.insert("c_hash".into(), half_hash(alg, c).into());
    }
    Ok(keys.signer.sign_jwt("JWT", &Value::Object(m))?)
}

/// A refresh token to store: the row of `oidc_refresh_tokens` (times in µs).
#[derive(Debug, Clone)]
pub struct Refresh {
    pub id: String,
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub session_id: String,
    pub scopes: Vec<String>,
    pub audience: Vec<String>,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub idle_expires_at: i64,
    pub expires_at: i64,
}

/// A new refresh token secret (256 random bits) and its stored hash.
pub fn refresh_secret() -> (String, String) {
    let t = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(castellan_domain::id::random_bytes::<32>());
    let h = castellan_api::authn::hash_secret(&t);
    (t, h)
}

/// Stores a refresh token under `hash`.
pub fn insert_refresh(c: &mut dyn Conn, instance: &str, r: &Refresh, hash: &str) -> Result<()> {
    c.exec(
        "INSERT INTO oidc_refresh_tokens (instance_id, id, family_id, token_hash, client_id, \
         user_id, session_id, scope, audience, auth_time, amr, created_at, idle_expires_at, \
         expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &params![
            instance,
            &r.id,
            &r.family_id,
            hash,
            &r.client_id,
            &r.user_id,
            &r.session_id,
            r.scopes.join(" "),
            r.audience.join(" "),
            r.auth_time,
            r.amr.join(" "),
            now_micros(),
            r.idle_expires_at,
            r.expires_at
        ],
    )?;
    Ok(())
}

/// The grant of a machine user acting for itself (client credentials, JWT profile): the
/// requested scopes a machine may have, the audience they name; no login, no session.
pub fn machine_grant(
    c: &crate::token::Call,
    m: &crate::client_auth::Machine,
    scope: &str,
) -> Grant {
    let requested = crate::scopes::parse(scope);
    let scopes = crate::scopes::for_machine(requested, &m.org_id, &m.org_primary_domain);
    Grant {
        instance: c.instance.clone(),
        issuer: c.issuer.clone(),
        subject: m.user_id.clone(),
        client_id: m.user_name.clone(),
        project_id: String::new(),
        audience: crate::scopes::audience(&[], &scopes, &c.instance),
        scopes,
        auth_time: None,
        amr: Vec::new(),
        grant_id: None,
        session_id: None,
        jwt: m.jwt_access_token,
    }
}

/// How long the revocation of a refresh-token family ending at `expires_at` (µs) must be
/// kept: access tokens minted last outlive the family by their own lifetime.
pub fn family_revocation_until(expires_at: i64, s: &OidcSettings) -> i64 {
    let life = i64::try_from(s.access_token_lifetime.as_micros()).unwrap_or(i64::MAX / 4);
    expires_at.saturating_add(life)
}

/// Revokes a grant or family id: every token carrying it stops working, and the family's
/// refresh tokens are marked revoked.
pub fn revoke_grant(c: &mut dyn Conn, instance: &str, id: &str, until: i64) -> Result<()> {
    let now = now_micros();
    c.exec(
        "INSERT INTO oidc_revocations (instance_id, id, revoked_at, expires_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (instance_id, id) DO NOTHING",
        &params![instance, id, now, until],
    )?;
    c.exec(
        "UPDATE oidc_refresh_tokens SET revoked_at = ? WHERE instance_id = ? AND family_id = ? \
         AND revoked_at = 0",
        &params![now, instance, id],
    )?;
    Ok(())
}

/// The token response (RFC 6749 5.1).
pub fn response(at: &Issued, id_token: Option<String>, refresh: Option<String>) -> Value {
    let mut m = Map::new();
    m.insert("access_token".into(), at.token.clone().into());
    m.insert("token_type".into(), "Bearer".into());
    m.insert("expires_in".into(), at.expires_in.into());
    m.insert("scope".into(), at.claims.scopes.join(" ").into());
    if let Some(t) = id_token {
        m.insert("id_token".into(), t.into());
    }
    if let Some(t) = refresh {
        m.insert("refresh_token".into(), t.into());
    }
    Value::Object(m)
}

/// Reads an unexpired access token of `instance`, opaque or JWT (signature and issuer
/// verified by `token_check::read_access_token`); `None` for anything else. Revocation and the
/// user's state are the caller's to check.
pub async fn read_access_token(st: &St, instance: &str, token: &str) -> R<Option<AccessToken>> {
    match castellan_api::token_check::read_access_token(st, instance, token).await {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.0.kind == castellan_domain::Kind::Unauthenticated => Ok(None),
        Err(e) if e.0.kind == castellan_domain::Kind::InvalidArgument => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_of_the_spec_example() {
        // OpenID Connect Core, appendix A.3: at_hash of "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y".
        assert_eq!(
            half_hash(Alg::RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
