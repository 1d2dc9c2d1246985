//! Browser sessions of the hosted login: a cookie holds a random user-agent id; the database
//! keeps one `login_sessions` row per user signed in on that browser (its id is the tokens'
//! `sid`). Only the SHA-256 of the user-agent id is stored, so a database dump yields no cookie.

use castellan_api::authn::hash_secret;
use castellan_api::state::St;
use castellan_domain::id::now_micros;
use castellan_domain::Result;
use castellan_store::{params, Conn, Row};
use http::HeaderMap;

/// The session cookie's name.
pub const COOKIE: &str = "castellan.useragent";
/// How long the browser keeps the cookie (seconds; the sessions' own lifetimes decide more).
const COOKIE_MAX_AGE: i64 = 400 * 24 * 3600;

/// The user-agent id of the request's cookie, if it carries a well-formed one.
pub fn agent_of(headers: &HeaderMap) -> Option<String> {
    for v in headers.get_all(http::header::COOKIE) {
        let Ok(v) = v.to_str() else { continue };
        for part in v.split(';') {
            if let Some((k, val)) = part.trim().split_once('=') {
                if k == COOKIE
                    && val.len() >= 22
                    && val.len() <= 64
                    && val
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                {
                    return Some(val.to_string());
                }
            }
        }
    }
    None
}

/// A new user-agent id: 256 random bits, base64url.
pub fn new_agent() -> String {
    castellan_api::app::tokens::random_token()
}

/// The `Set-Cookie` value carrying `agent`.
pub fn set_cookie(st: &St, agent: &str) -> String {
    let secure = if st.cfg.external_secure {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE}={agent}; Path=/; HttpOnly; SameSite=Lax; Max-Age={COOKIE_MAX_AGE}{secure}")
}

/// The `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(st: &St) -> String {
    let secure = if st.cfg.external_secure {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// What is stored for a user-agent id.
pub fn agent_key(agent: &str) -> String {
    hash_secret(agent)
}

/// One user signed in on one browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub password_checked_at: i64,
    pub amr: String,
    pub terminated_at: i64,
}

const COLS: &str = "id, user_id, created_at, updated_at, password_checked_at, amr, terminated_at";

fn from_row(r: &Row) -> Result<Session> {
    Ok(Session {
        id: r.text(0)?,
        user_id: r.text(1)?,
        created_at: r.int(2)?,
        updated_at: r.int(3)?,
        password_checked_at: r.int(4)?,
        amr: r.text(5)?,
        terminated_at: r.int(6)?,
    })
}

impl Session {
    /// `auth_time` of the session (µs): its last password check.
    pub fn auth_time(&self) -> i64 {
        self.password_checked_at
    }

    /// Whether the session still counts as signed in: not ended and its password check no
    /// older than `check_lifetime_secs` (the login policy's password check lifetime).
    pub fn usable(&self, check_lifetime_secs: i64, now: i64) -> bool {
        self.terminated_at == 0
            && self.password_checked_at > 0
            && (check_lifetime_secs <= 0
                || now - self.password_checked_at <= check_lifetime_secs.saturating_mul(1_000_000))
    }
}

/// The sessions on the browser `agent` that were not ended, newest first.
pub async fn of_agent(st: &St, instance: &str, agent: &str) -> Result<Vec<Session>> {
    let (inst, key) = (instance.to_string(), agent_key(agent));
    st.db
        .read_point(move |c| {
            c.query(
                &format!("SELECT {COLS} FROM login_sessions WHERE instance_id = ? AND user_agent_id = ? AND terminated_at = 0 ORDER BY updated_at DESC"),
                &params![&inst, &key],
            )?
            .iter()
            .map(from_row)
            .collect()
        })
        .await
}

/// The active sessions of a user (any browser), newest first.
pub async fn of_user(st: &St, instance: &str, user_id: &str) -> Result<Vec<Session>> {
    let (inst, uid) = (instance.to_string(), user_id.to_string());
    st.db
        .read(move |c| {
            c.query(
                &format!("SELECT {COLS} FROM login_sessions WHERE instance_id = ? AND user_id = ? AND terminated_at = 0 ORDER BY updated_at DESC"),
                &params![&inst, &uid],
            )?
            .iter()
            .map(from_row)
            .collect()
        })
        .await
}

/// The session `id` if it belongs to the browser `agent` and was not ended.
pub async fn of_agent_by_id(
    st: &St,
    instance: &str,
    agent: &str,
    id: &str,
) -> Result<Option<Session>> {
    let (inst, key, id) = (instance.to_string(), agent_key(agent), id.to_string());
    st.db
        .read_point(move |c| {
            c.one(
                &format!("SELECT {COLS} FROM login_sessions WHERE instance_id = ? AND id = ? AND user_agent_id = ? AND terminated_at = 0"),
                &params![&inst, &id, &key],
            )?
            .as_ref()
            .map(from_row)
            .transpose()
        })
        .await
}

/// Records a successful password check of `user_id` on the browser `agent` inside a write
/// (the caller's transaction): refreshes the browser's live session of that user or starts
/// one (`new_id`), in one statement. Returns the session id.
pub fn password_checked(
    c: &mut dyn Conn,
    instance: &str,
    agent: &str,
    user_id: &str,
    new_id: &str,
) -> Result<String> {
    let now = now_micros();
    let key = agent_key(agent);
    c.one(
        "INSERT INTO login_sessions (instance_id, id, user_agent_id, user_id, created_at, updated_at, password_checked_at, amr) VALUES (?, ?, ?, ?, ?, ?, ?, 'pwd') \
         ON CONFLICT (instance_id, user_agent_id, user_id) WHERE terminated_at = 0 \
         DO UPDATE SET updated_at = excluded.updated_at, password_checked_at = excluded.password_checked_at, amr = 'pwd' \
         RETURNING id",
        &params![instance, new_id, &key, user_id, now, now, now],
    )?
    .ok_or_else(|| castellan_domain::Error::internal("LOGIN-s3ss1", "session upsert returned no row"))?
    .text(0)
}

/// How long a session revocation is remembered (µs): longer than any token it ends lives.
const REVOCATION_KEPT: i64 = 400 * 24 * 3600 * 1_000_000;

/// Ends the sessions of browser `agent` (only `user_id`'s when given) and revokes their ids,
/// so tokens carrying them as `sid` stop working. Returns the ended sessions.
pub async fn terminate(
    st: &St,
    instance: &str,
    agent: &str,
    user_id: Option<&str>,
) -> Result<Vec<Session>> {
    let (inst, key, uid) = (
        instance.to_string(),
        agent_key(agent),
        user_id.map(str::to_string),
    );
    // write_auth: every node's cached token verdicts must see the revoked sessions.
    st.db
        .write_auth(&key.clone(), instance, move |c| {
            let now = now_micros();
            let rows: Vec<Session> = c
                .query(
                    &format!("SELECT {COLS} FROM login_sessions WHERE instance_id = ? AND user_agent_id = ? AND terminated_at = 0"),
                    &params![&inst, &key],
                )?
                .iter()
                .map(from_row)
                .collect::<Result<_>>()?;
            let mut ended = Vec::new();
            for s in rows {
                if uid.as_deref().is_some_and(|u| u != s.user_id) {
                    continue;
                }
                c.exec(
                    "UPDATE login_sessions SET terminated_at = ?, updated_at = ? WHERE instance_id = ? AND id = ?",
                    &params![now, now, &inst, &s.id],
                )?;
                revoke(c, &inst, &s.id, now)?;
                ended.push(s);
            }
            Ok(ended)
        })
        .await
}

/// Records `id` (a session, grant or token id) as revoked.
pub fn revoke(c: &mut dyn Conn, instance: &str, id: &str, now: i64) -> Result<()> {
    if c.one(
        "SELECT 1 FROM oidc_revocations WHERE instance_id = ? AND id = ?",
        &params![instance, id],
    )?
    .is_none()
    {
        c.exec(
            "INSERT INTO oidc_revocations (instance_id, id, revoked_at, expires_at) VALUES (?, ?, ?, ?)",
            &params![instance, id, now, now + REVOCATION_KEPT],
        )?;
    }
    Ok(())
}
