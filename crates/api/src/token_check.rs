//! Whether an access token is still good: not expired, not revoked (by its id, grant or
//! session), its user and organisation active, its app (and the app's project) active. Used by
//! the API gate, introspection and userinfo.
//!
//! Verdicts are kept in memory per token id, stamped with the auth epoch: every event that can
//! end a token (user, org, app or project state) moves it, and so does [`revoke`] (on every
//! node, through `castellan_auth`). Expiry is checked on every call.

use crate::error::R;
use crate::state::St;
use castellan_domain::access_token::AccessToken;
use castellan_store::projection::{app_state, org_state, project_state, user_state};
use castellan_store::{params, Conn, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::RwLock;

/// Verdicts per (instance, token id).
#[derive(Default)]
pub struct Cache {
    map: RwLock<HashMap<(String, String), (u64, bool)>>,
}

const MAX_ENTRIES: usize = 200_000;

/// True when `t` may still be used now.
pub async fn access_token_active(st: &St, t: &AccessToken) -> R<bool> {
    let now = castellan_domain::id::now_micros() / 1_000_000;
    if t.exp <= now {
        return Ok(false);
    }
    let epoch = st.db.auth_epoch().load(Ordering::SeqCst);
    let key = (t.instance_id.clone(), t.id.clone());
    {
        let m = st
            .token_checks
            .map
            .read()
            .unwrap_or_else(|e| e.into_inner());
        if let Some((e, ok)) = m.get(&key) {
            if *e == epoch {
                return Ok(*ok);
            }
        }
    }
    let t2 = t.clone();
    let ok = st.db.read_point(move |c| still_valid(c, &t2)).await?;
    let mut m = st
        .token_checks
        .map
        .write()
        .unwrap_or_else(|e| e.into_inner());
    if m.len() >= MAX_ENTRIES {
        m.clear();
    }
    m.insert(key, (epoch, ok));
    Ok(ok)
}

/// The database part of the check (everything but the expiry), in one statement: the user and
/// its organisation (no row: unknown user), whether `oidc_revocations` names the token, its
/// grant or its session, and the client's app with its project (NULL: no such app).
fn still_valid(c: &mut dyn Conn, t: &AccessToken) -> castellan_domain::Result<bool> {
    let ids: Vec<&str> = t.revocation_ids().collect();
    let marks = vec!["?"; ids.len()].join(", ");
    // `a.client_id <> ''` repeats the predicate of the partial index apps_client_id, so that a
    // plan made without the bound value (SQLite plans once) can use it; it also keeps tokens
    // without a client off apps.
    let sql = format!(
        "SELECT u.state, o.state, u.username, u.login_name, \
         EXISTS (SELECT 1 FROM oidc_revocations r WHERE r.instance_id = u.instance_id AND r.id IN ({marks})), \
         a.id, a.state, p.state \
         FROM users u JOIN orgs o ON o.instance_id = u.instance_id AND o.id = u.org_id \
         LEFT JOIN apps a ON a.instance_id = u.instance_id AND a.client_id = ? AND a.client_id <> '' \
         LEFT JOIN projects p ON p.instance_id = a.instance_id AND p.id = a.project_id \
         WHERE u.instance_id = ? AND u.id = ?"
    );
    // Placeholders in the order they appear: revocation ids, client id, instance, user.
    let mut p: Vec<Value> = ids.iter().map(|i| Value::from(*i)).collect();
    p.extend([
        Value::from(t.client_id.as_str()),
        Value::from(t.instance_id.as_str()),
        Value::from(t.subject.as_str()),
    ]);
    let Some(r) = c.one(&sql, &p)? else {
        return Ok(false);
    };
    if r.bool(4)? || r.int(0)? != user_state::ACTIVE || r.int(1)? != org_state::ACTIVE {
        return Ok(false);
    }
    if t.client_id.is_empty() {
        return Ok(true);
    }
    if r.opt_text(5)?.is_some() {
        return Ok(r.int(6)? == app_state::ACTIVE && r.int(7)? == project_state::ACTIVE);
    }
    // Machine grants (client credentials, JWT profile): the machine user is the client.
    Ok(t.client_id == t.subject || t.client_id == r.text(2)? || t.client_id == r.text(3)?)
}

/// [`still_valid`] of a token a finished login is about to get, as an SQL expression (true:
/// valid) for a statement that holds the login's row: `instance`, `user`, `client`, `grant`
/// and `session` are SQL expressions of that statement (the session `''` when there is none).
/// The token's own id is left out: nothing can have revoked a token not minted yet. The code
/// grant puts it into the code's redemption, sparing the read of [`access_token_active`].
pub fn login_still_valid_sql(
    instance: &str,
    user: &str,
    client: &str,
    grant: &str,
    session: &str,
) -> String {
    format!(
        "EXISTS (SELECT 1 FROM users u JOIN orgs o ON o.instance_id = u.instance_id AND o.id = u.org_id \
         JOIN apps a ON a.instance_id = u.instance_id AND a.client_id = {client} AND a.client_id <> '' \
         JOIN projects p ON p.instance_id = a.instance_id AND p.id = a.project_id \
         WHERE u.instance_id = {instance} AND u.id = {user} AND u.state = {} AND o.state = {} \
         AND a.state = {} AND p.state = {} AND NOT EXISTS (SELECT 1 FROM oidc_revocations r \
         WHERE r.instance_id = u.instance_id AND r.id IN ({grant}, {session})))",
        user_state::ACTIVE,
        org_state::ACTIVE,
        app_state::ACTIVE,
        project_state::ACTIVE,
    )
}

/// Revokes every token whose id, grant id or session id is `id`, until `expires_at`
/// (µs; the longest remaining life of any token it ends, after which the row may go).
/// Takes effect at once on every node.
pub async fn revoke(st: &St, instance: &str, id: &str, expires_at: i64) -> R<()> {
    let (inst, id) = (instance.to_string(), id.to_string());
    let now = castellan_domain::id::now_micros();
    st.db
        .write_auth(&inst.clone(), instance, move |c| {
            c.exec(
                "INSERT INTO oidc_revocations (instance_id, id, revoked_at, expires_at) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (instance_id, id) DO UPDATE SET expires_at = \
                 CASE WHEN excluded.expires_at > oidc_revocations.expires_at THEN excluded.expires_at ELSE oidc_revocations.expires_at END",
                &params![&inst, &id, now, expires_at],
            )
            .map_err(castellan_domain::Error::from)?;
            // Now and then forget revocations whose tokens have all expired.
            if castellan_domain::id::random_bytes::<1>()[0] < 4 {
                c.exec(
                    "DELETE FROM oidc_revocations WHERE expires_at < ?",
                    &params![now],
                )
                .map_err(castellan_domain::Error::from)?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}

fn invalid(detail: &'static str) -> crate::error::ApiErr {
    crate::error::ApiErr(castellan_domain::Error::unauthenticated("OIDC-t0k3n").with(detail))
}

/// Reads a bearer value as one of `instance`'s access tokens: an opaque token sealed by this
/// deployment for this instance, or a JWT signed with one of the instance's keys and issued by
/// one of its origins. Checks the signature, the issuer and the expiry, not the revocation
/// or the user (see [`access_token_active`]). UNAUTHENTICATED for anything else.
pub async fn read_access_token(st: &St, instance: &str, token: &str) -> R<AccessToken> {
    use castellan_domain::access_token::{looks_like_jwt, OPAQUE_PREFIX};
    let now = castellan_domain::id::now_micros() / 1_000_000;
    let t = if token.starts_with(OPAQUE_PREFIX) {
        AccessToken::open(token, st.access_token_cipher()?)
            .ok_or_else(|| invalid("the access token is not one of ours"))?
    } else if looks_like_jwt(token) {
        let jwt = castellan_domain::jwt::Jwt::parse(token)?;
        let kid = jwt.header.get("kid").and_then(|v| v.as_str()).unwrap_or("");
        let key = st
            .keys
            .verifying_key(st, instance, kid)
            .await?
            .ok_or_else(|| invalid("the token is not signed with a key of this instance"))?;
        jwt.verify(&key)?;
        jwt.check_times(now, 0, None)?;
        let iss = jwt.claim("iss").unwrap_or("");
        let iss_host = iss
            .split_once("://")
            .map_or("", |(_, rest)| rest.split('/').next().unwrap_or(""));
        let by_iss = if iss_host.is_empty() {
            None
        } else {
            crate::authn::instance_by_host(&st.db, &st.cache, iss_host)
                .await
                .ok()
        };
        if by_iss.as_deref() != Some(instance) {
            return Err(invalid("the token was not issued by this instance"));
        }
        from_jwt(instance, &jwt.claims).ok_or_else(|| invalid("the token lacks claims"))?
    } else {
        return Err(invalid("not an access token"));
    };
    if t.instance_id != instance {
        return Err(invalid("the token belongs to another instance"));
    }
    if t.exp <= now {
        return Err(crate::error::ApiErr(castellan_domain::Error::new(
            castellan_domain::Kind::Unauthenticated,
            "OIDC-3xp1r",
            "Errors.Token.Expired",
        )));
    }
    Ok(t)
}

/// The access token a JWT access token carries (`jti`, `sub`, `client_id`, `aud`, `scope`,
/// `iat`, `exp`, and when present `sid`, `auth_time`, `amr`, `act` and our grant id `gid`).
pub fn from_jwt(instance: &str, c: &serde_json::Value) -> Option<AccessToken> {
    let s = |n: &str| c.get(n).and_then(|v| v.as_str()).map(str::to_string);
    let n = |n: &str| c.get(n).and_then(|v| v.as_f64()).map(|f| f as i64);
    let audience = match c.get("aud")? {
        serde_json::Value::String(a) => vec![a.clone()],
        serde_json::Value::Array(v) => v
            .iter()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect(),
        _ => return None,
    };
    Some(AccessToken {
        id: s("jti")?,
        instance_id: instance.to_string(),
        subject: s("sub")?,
        client_id: s("client_id").or_else(|| s("azp")).unwrap_or_default(),
        audience,
        scopes: s("scope")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        iat: n("iat").unwrap_or(0),
        exp: n("exp")?,
        auth_time: n("auth_time"),
        amr: c
            .get("amr")
            .and_then(|v| v.as_array())
            .map(|v| {
                v.iter()
                    .filter_map(|a| a.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        grant_id: s("gid"),
        session_id: s("sid"),
        act: c.get("act").cloned(),
    })
}
