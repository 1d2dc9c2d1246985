//! Authorization requests (`oidc_auth_requests`): stored by `/oauth/v2/authorize`, completed by
//! the login (user, session, auth time), turned into a code by the callback.

use castellan_api::state::St;
use castellan_domain::id::now_micros;
use castellan_domain::Result;
use castellan_store::{params, Row};

/// How long a request waits for its login (µs).
pub const LIFETIME: i64 = 10 * 60 * 1_000_000;
/// How long expired requests are kept (µs): unfinished ones, and finished ones (longer than
/// any session lasts without a new request: the login policy's check lifetimes are days).
const KEEP_UNFINISHED: i64 = 24 * 3600 * 1_000_000;
const KEEP_FINISHED: i64 = 400 * 24 * 3600 * 1_000_000;
/// How long an issued code can be redeemed (µs).
pub const CODE_LIFETIME: i64 = 5 * 60 * 1_000_000;

/// A stored authorization request.
#[derive(Debug, Clone, Default)]
pub struct AuthRequest {
    pub id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub response_type: String,
    pub response_mode: String,
    pub scope: String,
    pub state: String,
    pub nonce: String,
    pub code_challenge: String,
    pub code_challenge_method: String,
    pub prompt: String,
    /// Seconds; -1 when not given.
    pub max_age: i64,
    pub login_hint: String,
    pub ui_locales: String,
    pub acr_values: String,
    pub hint_user_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub user_id: String,
    pub session_id: String,
    pub auth_time: i64,
    pub amr: String,
    pub has_code: bool,
}

const COLS: &str = "id, client_id, redirect_uri, response_type, response_mode, scope, state, nonce, code_challenge, code_challenge_method, prompt, max_age, login_hint, ui_locales, acr_values, hint_user_id, created_at, expires_at, user_id, session_id, auth_time, amr, code_hash";

fn from_row(r: &Row) -> Result<AuthRequest> {
    Ok(AuthRequest {
        id: r.text(0)?,
        client_id: r.text(1)?,
        redirect_uri: r.text(2)?,
        response_type: r.text(3)?,
        response_mode: r.text(4)?,
        scope: r.text(5)?,
        state: r.text(6)?,
        nonce: r.text(7)?,
        code_challenge: r.text(8)?,
        code_challenge_method: r.text(9)?,
        prompt: r.text(10)?,
        max_age: r.int(11)?,
        login_hint: r.text(12)?,
        ui_locales: r.text(13)?,
        acr_values: r.text(14)?,
        hint_user_id: r.text(15)?,
        created_at: r.int(16)?,
        expires_at: r.int(17)?,
        user_id: r.text(18)?,
        session_id: r.text(19)?,
        auth_time: r.int(20)?,
        amr: r.text(21)?,
        has_code: r.opt_text(22)?.is_some(),
    })
}

impl AuthRequest {
    /// The prompt values asked for.
    pub fn prompts(&self) -> impl Iterator<Item = &str> {
        self.prompt.split_ascii_whitespace()
    }

    pub fn has_prompt(&self, p: &str) -> bool {
        self.prompts().any(|x| x == p)
    }

    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_ascii_whitespace()
    }

    /// The organisation the scopes restrict the login to (`urn:zitadel:iam:org:id:{id}`).
    pub fn org_id_scope(&self) -> Option<&str> {
        self.scopes()
            .find_map(|s| s.strip_prefix("urn:zitadel:iam:org:id:"))
            .filter(|s| !s.is_empty())
    }

    /// The organisation domain the scopes restrict the login to
    /// (`urn:zitadel:iam:org:domain:primary:{domain}`).
    pub fn org_domain_scope(&self) -> Option<&str> {
        self.scopes()
            .find_map(|s| s.strip_prefix("urn:zitadel:iam:org:domain:primary:"))
            .filter(|s| !s.is_empty())
    }

    /// Whether the login for this request is done.
    pub fn completed(&self) -> bool {
        !self.user_id.is_empty() && !self.session_id.is_empty()
    }

    /// The first of the requested UI locales, if any.
    pub fn locale(&self) -> &str {
        self.ui_locales
            .split_ascii_whitespace()
            .next()
            .unwrap_or("")
    }
}

/// Stores a new request (its `id`, `created_at` and `expires_at` are set here).
pub async fn insert(st: &St, instance: &str, mut r: AuthRequest) -> Result<AuthRequest> {
    r.id = st.ids.next();
    r.created_at = now_micros();
    r.expires_at = r.created_at + LIFETIME;
    let inst = instance.to_string();
    let q = r.clone();
    st.db
        .write(&r.id.clone(), move |c| {
            c.exec(
                "INSERT INTO oidc_auth_requests (instance_id, id, client_id, redirect_uri, response_type, response_mode, scope, state, nonce, code_challenge, code_challenge_method, prompt, max_age, login_hint, ui_locales, acr_values, hint_user_id, created_at, expires_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &params![&inst, &q.id, &q.client_id, &q.redirect_uri, &q.response_type, &q.response_mode, &q.scope, &q.state, &q.nonce, &q.code_challenge, &q.code_challenge_method, &q.prompt, q.max_age, &q.login_hint, &q.ui_locales, &q.acr_values, &q.hint_user_id, q.created_at, q.expires_at],
            )?;
            // Now and then, forget requests long expired: unfinished ones a day later,
            // finished ones (back-channel logout finds a session's clients through them) when
            // no session can still be using them.
            if castellan_domain::id::random_bytes::<1>()[0] < 4 {
                c.exec(
                    "DELETE FROM oidc_auth_requests WHERE (session_id = '' AND expires_at < ?) OR expires_at < ?",
                    &params![q.created_at - KEEP_UNFINISHED, q.created_at - KEEP_FINISHED],
                )?;
            }
            Ok(())
        })
        .await?;
    Ok(r)
}

/// A request that has not expired.
pub async fn load(st: &St, instance: &str, id: &str) -> Result<Option<AuthRequest>> {
    let (inst, id) = (instance.to_string(), id.to_string());
    let now = now_micros();
    st.db
        .read_point(move |c| {
            c.one(
                &format!("SELECT {COLS} FROM oidc_auth_requests WHERE instance_id = ? AND id = ? AND expires_at > ?"),
                &params![&inst, &id, now],
            )?
            .as_ref()
            .map(from_row)
            .transpose()
        })
        .await
}

/// Records the finished login of `user_id` in session `session_id` (authenticated at
/// `auth_time`, µs) on a request that has no code yet.
pub async fn complete(
    st: &St,
    instance: &str,
    id: &str,
    user_id: &str,
    session_id: &str,
    auth_time: i64,
    amr: &str,
) -> Result<()> {
    let (inst, id, uid, sid, amr) = (
        instance.to_string(),
        id.to_string(),
        user_id.to_string(),
        session_id.to_string(),
        amr.to_string(),
    );
    st.db
        .write(&id.clone(), move |c| {
            complete_in(c, &inst, &id, &uid, &sid, auth_time, &amr)
        })
        .await
}

/// `complete` inside a caller's write (the login records the session in the same commit).
pub fn complete_in(
    c: &mut dyn castellan_store::Conn,
    instance: &str,
    id: &str,
    user_id: &str,
    session_id: &str,
    auth_time: i64,
    amr: &str,
) -> Result<()> {
    c.exec(
        "UPDATE oidc_auth_requests SET user_id = ?, session_id = ?, auth_time = ?, amr = ? WHERE instance_id = ? AND id = ? AND code_hash IS NULL",
        &params![user_id, session_id, auth_time, amr, instance, id],
    )?;
    Ok(())
}

/// Stores the hash of the request's code; false when it already had one (one code per request).
pub async fn set_code(st: &St, instance: &str, id: &str, code_hash: &str) -> Result<bool> {
    let (inst, id, hash) = (instance.to_string(), id.to_string(), code_hash.to_string());
    st.db
        .write(&id.clone(), move |c| set_code_in(c, &inst, &id, &hash))
        .await
}

/// [`set_code`] inside the caller's transaction.
pub fn set_code_in(
    c: &mut dyn castellan_store::Conn,
    instance: &str,
    id: &str,
    code_hash: &str,
) -> Result<bool> {
    let exp = now_micros() + CODE_LIFETIME;
    Ok(c.exec(
        "UPDATE oidc_auth_requests SET code_hash = ?, code_expires_at = ? WHERE instance_id = ? AND id = ? AND code_hash IS NULL",
        &params![code_hash, exp, instance, id],
    )? == 1)
}

/// The `response_type` of requests the device page (RFC 8628) creates: their login approves a
/// device authorization instead of issuing a code; `state` holds the user code.
pub const DEVICE: &str = "device";

/// Approves the pending, unexpired device authorization `user_code` for the login of `r`, and
/// closes `r`. False when there is none (expired, denied, already approved).
pub async fn approve_device(st: &St, instance: &str, r: &AuthRequest) -> Result<bool> {
    let (inst, r) = (instance.to_string(), r.clone());
    let now = now_micros();
    let closing = castellan_api::authn::hash_secret(&castellan_api::app::tokens::random_token());
    st.db
        .write(&r.id.clone(), move |c| {
            let n = c.exec(
                "UPDATE oidc_device_authorizations SET state = 'approved', user_id = ?, session_id = ?, auth_time = ?, amr = ? \
                 WHERE instance_id = ? AND user_code = ? AND client_id = ? AND state = 'pending' AND expires_at > ?",
                &params![&r.user_id, &r.session_id, r.auth_time, &r.amr, &inst, &r.state, &r.client_id, now],
            )?;
            // The request is used up either way (no code: the hash of a secret nobody holds).
            c.exec(
                "UPDATE oidc_auth_requests SET code_hash = ?, code_used_at = ? WHERE instance_id = ? AND id = ? AND code_hash IS NULL",
                &params![&closing, now, &inst, &r.id],
            )?;
            Ok(n == 1)
        })
        .await
}

/// The client and scope of the pending, unexpired device authorization `user_code`.
pub async fn pending_device(
    st: &St,
    instance: &str,
    user_code: &str,
) -> Result<Option<(String, String, String)>> {
    let (inst, code) = (instance.to_string(), user_code.to_string());
    let now = now_micros();
    st.db
        .read_point(move |c| {
            c.one(
                "SELECT user_code, client_id, scope FROM oidc_device_authorizations WHERE instance_id = ? AND user_code = ? AND state = 'pending' AND expires_at > ?",
                &params![&inst, &code, now],
            )?
            .map(|r| Ok((r.text(0)?, r.text(1)?, r.text(2)?)))
            .transpose()
        })
        .await
}
