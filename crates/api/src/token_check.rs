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
        let m = st.token_checks.map.read().unwrap_or_else(|e| e.into_inner());
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

/// The database part of the check (everything but the expiry).
fn still_valid(c: &mut dyn Conn, t: &AccessToken) -> castellan_domain::Result<bool> {
    let inst = t.instance_id.as_str();
    let ids: Vec<&str> = t.revocation_ids().collect();
    let marks = vec!["?"; ids.len()].join(", ");
    let mut p: Vec<Value> = vec![inst.into()];
    p.extend(ids.iter().map(|i| Value::from(*i)));
    if c
        .one(
            &format!("SELECT 1 FROM oidc_revocations WHERE instance_id = ? AND id IN ({marks})"),
            &p,
        )?
        .is_some()
    {
        return Ok(false);
    }
    let Some(u) = c.one(
        "SELECT u.state, o.state, u.username, u.login_name FROM users u \
         JOIN orgs o ON o.instance_id = u.instance_id AND o.id = u.org_id \
         WHERE u.instance_id = ? AND u.id = ?",
        &params![inst, &t.subject],
    )?
    else {
        return Ok(false);
    };
    if u.int(0)? != user_state::ACTIVE || u.int(1)? != org_state::ACTIVE {
        return Ok(false);
    }
    if t.client_id.is_empty() {
        return Ok(true);
    }
    match c.one(
        "SELECT a.state, p.state FROM apps a JOIN projects p ON p.instance_id = a.instance_id AND p.id = a.project_id \
         WHERE a.instance_id = ? AND a.client_id = ?",
        &params![inst, &t.client_id],
    )? {
        Some(a) => Ok(a.int(0)? == app_state::ACTIVE && a.int(1)? == project_state::ACTIVE),
        // Machine grants (client credentials, JWT profile): the machine user is the client.
        None => Ok(t.client_id == t.subject
            || t.client_id == u.text(2)?
            || t.client_id == u.text(3)?),
    }
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
            Ok(())
        })
        .await?;
    Ok(())
}
