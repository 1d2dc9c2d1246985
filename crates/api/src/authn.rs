//! Authentication: instance by host, and bearer token → principal. Results are cached in
//! memory and dropped whenever the store's auth epoch moves (a commit on this node or, via
//! LISTEN/NOTIFY, on another node changed users, tokens, members or domains).
//!
//! Accepted tokens: personal access tokens of machine users (opaque, ≥ 256 random bits,
//! stored as SHA-256) and the provider's access tokens (sealed opaque `v1.` or JWT) with the
//! ZITADEL audience (the instance id, scope `urn:zitadel:iam:org:project:id:zitadel:aud`).
//! Both are cached by the token's SHA-256 under the auth epoch, which revocations move too.

use crate::ctx::Principal;
use crate::error::{ApiErr, R};
use crate::state::St;
use castellan_domain::{Error, Kind};
use castellan_store::{params, Db};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// PATs without an expiry expire at 9999-12-31.
pub const NO_EXPIRY: i64 = 253_402_300_799_000_000;

struct Entry<T> {
    value: T,
    epoch: u64,
}

/// The authentication caches.
pub struct Cache {
    epoch: Arc<AtomicU64>,
    hosts: RwLock<HashMap<String, Entry<Option<String>>>>,
    tokens: RwLock<HashMap<String, Entry<Arc<Principal>>>>,
}

const MAX_ENTRIES: usize = 100_000;

impl Cache {
    pub fn new(epoch: Arc<AtomicU64>) -> Self {
        Cache {
            epoch,
            hosts: RwLock::default(),
            tokens: RwLock::default(),
        }
    }

    fn now_epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    fn get<T: Clone>(map: &RwLock<HashMap<String, Entry<T>>>, key: &str, epoch: u64) -> Option<T> {
        let m = map.read().unwrap_or_else(|e| e.into_inner());
        m.get(key)
            .filter(|e| e.epoch == epoch)
            .map(|e| e.value.clone())
    }

    fn put<T>(map: &RwLock<HashMap<String, Entry<T>>>, key: String, value: T, epoch: u64) {
        let mut m = map.write().unwrap_or_else(|e| e.into_inner());
        if m.len() >= MAX_ENTRIES {
            m.clear();
        }
        m.insert(key, Entry { value, epoch });
    }
}

/// SHA-256 of a secret, hex encoded: how tokens and secrets are stored.
pub fn hash_secret(secret: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in d.as_ref() {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// Strips the port from a host header value and lower-cases it.
pub fn host_only(host: &str) -> String {
    let h = host.trim();
    let h = if let Some(rest) = h.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        h.rsplit_once(':')
            .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
            .map_or(h, |(a, _)| a)
    };
    h.to_ascii_lowercase()
}

/// The instance serving `host`; NOT_FOUND naming the host when none does.
pub async fn instance_by_host(db: &Db, cache: &Cache, host: &str) -> R<String> {
    let host = host_only(host);
    let epoch = cache.now_epoch();
    let found = match Cache::get(&cache.hosts, &host, epoch) {
        Some(v) => v,
        None => {
            let h = host.clone();
            let v = db
                .read_point(move |c| {
                    c.one(
                        "SELECT instance_id FROM instance_domains WHERE domain = ?",
                        &params![&h],
                    )?
                    .map(|r| r.text(0))
                    .transpose()
                })
                .await?;
            Cache::put(&cache.hosts, host.clone(), v.clone(), epoch);
            v
        }
    };
    found.ok_or_else(|| {
        ApiErr(
            Error::not_found("INST-n0tF0", "Errors.IAM.NotFound")
                .with(format!("no instance serves the host \"{host}\"")),
        )
    })
}

fn unauthenticated(id: &'static str, key: &'static str) -> ApiErr {
    ApiErr(Error::new(Kind::Unauthenticated, id, key))
}

/// Resolves the bearer token in an `Authorization` header value to a principal: a PAT, or an
/// OIDC access token (opaque or JWT) of this instance carrying the ZITADEL audience.
pub async fn authenticate(st: &St, instance_id: &str, header: Option<&str>) -> R<Arc<Principal>> {
    let cache = &st.cache;
    let header = header.ok_or_else(|| unauthenticated("AUTH-7fs1e", "Errors.Token.Missing"))?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 8192)
        .ok_or_else(|| unauthenticated("AUTH-Ss4rf", "Errors.Token.Invalid"))?;
    let hash = hash_secret(token);
    let key = format!("{instance_id}/{hash}");
    let epoch = cache.now_epoch();
    let now = castellan_domain::id::now_micros();
    if let Some(p) = Cache::get(&cache.tokens, &key, epoch) {
        if p.expires > now {
            return Ok(p);
        }
        return Err(unauthenticated("AUTH-3xp1r", "Errors.Token.Expired"));
    }
    let oidc = token.starts_with(castellan_domain::access_token::OPAQUE_PREFIX)
        || castellan_domain::access_token::looks_like_jwt(token);
    let p = if oidc {
        oidc_principal(st, instance_id, token).await?
    } else {
        let inst = instance_id.to_string();
        st.db
            .read_point(move |c| load_principal(c, &inst, &hash))
            .await?
    };
    let p = Arc::new(p.ok_or_else(|| unauthenticated("AUTH-k3Y0n", "Errors.Token.Invalid"))?);
    Cache::put(&cache.tokens, key, p.clone(), epoch);
    if p.expires <= now {
        return Err(unauthenticated("AUTH-3xp1r", "Errors.Token.Expired"));
    }
    Ok(p)
}

/// The principal of an OIDC access token; `None` when it is revoked or its user, org or app
/// is no longer active.
async fn oidc_principal(st: &St, instance_id: &str, token: &str) -> R<Option<Principal>> {
    let t = crate::token_check::read_access_token(st, instance_id, token).await?;
    if !t.audience.iter().any(|a| a == instance_id) {
        return Err(ApiErr(
            Error::new(Kind::Unauthenticated, "AUTH-4ud01", "Errors.Token.Invalid").with(
                "the token lacks the ZITADEL audience (scope urn:zitadel:iam:org:project:id:zitadel:aud)",
            ),
        ));
    }
    if !crate::token_check::access_token_active(st, &t).await? {
        return Ok(None);
    }
    let (inst, user, expires) = (
        instance_id.to_string(),
        t.subject.clone(),
        t.exp.saturating_mul(1_000_000),
    );
    let p = st
        .db
        .read_point(move |c| load_user(c, &inst, &user, expires))
        .await?;
    Ok(p.map(|p| Principal {
        session_id: t.session_id.clone(),
        ..p
    }))
}

/// Loads the principal of a token hash: only active users of active organisations.
fn load_principal(
    c: &mut dyn castellan_store::Conn,
    instance_id: &str,
    hash: &str,
) -> castellan_domain::Result<Option<Principal>> {
    let Some(r) = c.one(
        "SELECT p.user_id, p.expiration, u.org_id, u.state, u.login_name, u.display_name, u.machine_name, o.state \
         FROM pats p JOIN users u ON u.instance_id = p.instance_id AND u.id = p.user_id \
         JOIN orgs o ON o.instance_id = u.instance_id AND o.id = u.org_id \
         WHERE p.token_hash = ? AND p.instance_id = ?",
        &params![hash, instance_id],
    )?
    else {
        return Ok(None);
    };
    principal_of(c, instance_id, &r, r.int(1)?)
}

/// Loads the principal of a user (an OIDC access token's subject) whose token expires at
/// `expires` (µs): only active users of active organisations.
fn load_user(
    c: &mut dyn castellan_store::Conn,
    instance_id: &str,
    user_id: &str,
    expires: i64,
) -> castellan_domain::Result<Option<Principal>> {
    let Some(r) = c.one(
        "SELECT u.id, 0, u.org_id, u.state, u.login_name, u.display_name, u.machine_name, o.state \
         FROM users u JOIN orgs o ON o.instance_id = u.instance_id AND o.id = u.org_id \
         WHERE u.id = ? AND u.instance_id = ?",
        &params![user_id, instance_id],
    )?
    else {
        return Ok(None);
    };
    principal_of(c, instance_id, &r, expires)
}

/// The principal of a row (user id, _, org id, user state, login name, display name, machine
/// name, org state) with the user's memberships.
fn principal_of(
    c: &mut dyn castellan_store::Conn,
    instance_id: &str,
    r: &castellan_store::Row,
    expires: i64,
) -> castellan_domain::Result<Option<Principal>> {
    use castellan_store::projection::{org_state, user_state};
    if r.int(3)? != user_state::ACTIVE || r.int(7)? != org_state::ACTIVE {
        return Ok(None);
    }
    let user_id = r.text(0)?;
    let mut p = Principal {
        instance_id: instance_id.to_string(),
        user_id: user_id.clone(),
        org_id: r.text(2)?,
        login_name: r.text(4)?,
        display_name: {
            let d = r.text(5)?;
            if d.is_empty() {
                r.text(6)?
            } else {
                d
            }
        },
        instance_roles: Vec::new(),
        org_roles: HashMap::new(),
        project_roles: HashMap::new(),
        grant_roles: HashMap::new(),
        system_roles: Vec::new(),
        expires,
        session_id: None,
    };
    for m in c.query(
        "SELECT level, object_id, roles, owner FROM members WHERE instance_id = ? AND user_id = ?",
        &params![instance_id, &user_id],
    )? {
        let roles: Vec<String> = m
            .text(2)?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        match m.text(0)?.as_str() {
            "instance" => p.instance_roles.extend(roles),
            "org" => p.org_roles.entry(m.text(1)?).or_default().extend(roles),
            // The owner of a project membership is the project's organisation.
            "project" => {
                let e = p.project_roles.entry(m.text(1)?).or_default();
                e.org_id = m.text(3)?;
                e.roles.extend(roles);
            }
            _ => {}
        }
    }
    // Project grant memberships count in the organisation the project is granted to.
    for m in c.query(
        "SELECT m.object_id, m.roles, g.granted_org_id FROM members m JOIN project_grants g \
         ON g.instance_id = m.instance_id AND g.id = m.object_id \
         WHERE m.instance_id = ? AND m.user_id = ? AND m.level = 'project_grant'",
        &params![instance_id, &user_id],
    )? {
        let e = p.grant_roles.entry(m.text(0)?).or_default();
        e.org_id = m.text(2)?;
        e.roles.extend(
            m.text(1)?
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
    }
    Ok(Some(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(host_only("Example.COM:8080"), "example.com");
        assert_eq!(host_only("localhost"), "localhost");
        assert_eq!(host_only("[::1]:80"), "::1");
        assert_eq!(hash_secret("abc").len(), 64);
    }
}
