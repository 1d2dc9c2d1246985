//! Authorization requests. `/oauth/v2/authorize` (and the device page) seal a validated
//! request into its `authRequestID` ([`start`]): the login carries it through its pages and
//! forms, and nothing is stored until the login finishes. The finished login stores the
//! request (`oidc_auth_requests`, [`finish_in`]) with its user, session, auth time and, when
//! the browser goes straight back to the client, the hash of its code; the primary key makes
//! that happen once per request. The callback turns a stored request into a code.

use castellan_api::state::St;
use castellan_domain::id::now_micros;
use castellan_domain::Result;
use castellan_store::{params, Row};
use serde::{Deserialize, Serialize};

/// How long a request waits for its login (µs).
pub const LIFETIME: i64 = 10 * 60 * 1_000_000;
/// How long finished requests are kept (µs): longer than any session lasts without a new
/// request (the login policy's check lifetimes are days); back-channel logout finds a
/// session's clients through them.
const KEEP_FINISHED: i64 = 400 * 24 * 3600 * 1_000_000;
/// How long an issued code can be redeemed (µs).
pub const CODE_LIFETIME: i64 = 5 * 60 * 1_000_000;

/// An authorization request: sealed while the login runs, stored once it finished.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuthRequest {
    #[serde(rename = "i")]
    pub id: String,
    #[serde(rename = "c")]
    pub client_id: String,
    #[serde(rename = "r")]
    pub redirect_uri: String,
    #[serde(rename = "t")]
    pub response_type: String,
    #[serde(rename = "m", default)]
    pub response_mode: String,
    #[serde(rename = "s", default)]
    pub scope: String,
    #[serde(rename = "st", default)]
    pub state: String,
    #[serde(rename = "n", default)]
    pub nonce: String,
    #[serde(rename = "cc", default)]
    pub code_challenge: String,
    #[serde(rename = "cm", default)]
    pub code_challenge_method: String,
    #[serde(rename = "p", default)]
    pub prompt: String,
    /// Seconds; -1 when not given.
    #[serde(rename = "ma")]
    pub max_age: i64,
    #[serde(rename = "lh", default)]
    pub login_hint: String,
    #[serde(rename = "ul", default)]
    pub ui_locales: String,
    #[serde(rename = "av", default)]
    pub acr_values: String,
    #[serde(rename = "hu", default)]
    pub hint_user_id: String,
    #[serde(rename = "ca")]
    pub created_at: i64,
    #[serde(rename = "ea")]
    pub expires_at: i64,
    /// The instance the request belongs to (sealed with it; not a column of its own).
    #[serde(rename = "in")]
    pub instance_id: String,
    /// The sealed request (`authRequestID`); empty for a stored one.
    #[serde(skip)]
    pub handle: String,
    #[serde(skip)]
    pub user_id: String,
    #[serde(skip)]
    pub session_id: String,
    #[serde(skip)]
    pub auth_time: i64,
    #[serde(skip)]
    pub amr: String,
    #[serde(skip)]
    pub has_code: bool,
}

const COLS: &str = "id, client_id, redirect_uri, response_type, response_mode, scope, state, nonce, code_challenge, code_challenge_method, prompt, max_age, login_hint, ui_locales, acr_values, hint_user_id, created_at, expires_at, user_id, session_id, auth_time, amr, code_hash, instance_id";

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
        instance_id: r.text(23)?,
        handle: String::new(),
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

/// Starts request `r` of `instance`: sets its id, creation and expiry and seals it into its
/// `handle`. Writes nothing.
pub fn start(st: &St, instance: &str, mut r: AuthRequest) -> Result<AuthRequest> {
    r.id = st.ids.next();
    r.created_at = now_micros();
    r.expires_at = r.created_at + LIFETIME;
    r.instance_id = instance.to_string();
    let json = serde_json::to_vec(&r).map_err(|e| {
        castellan_domain::Error::internal("OIDC-s3al1", format!("auth request: {e}"))
    })?;
    r.handle = st.auth_request_cipher()?.encrypt(&json)?;
    Ok(r)
}

/// The unexpired request of `instance` sealed in `handle`; `None` for anything else
/// (unknown, tampered, expired, another instance's).
pub fn open(st: &St, instance: &str, handle: &str) -> Option<AuthRequest> {
    let json = st.auth_request_cipher().ok()?.decrypt(handle).ok()?;
    let mut r: AuthRequest = serde_json::from_slice(&json).ok()?;
    if r.instance_id != instance || r.expires_at <= now_micros() {
        return None;
    }
    r.handle = handle.to_string();
    Some(r)
}

/// A stored (finished) request that has not expired.
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

/// What a finished login stores with its request.
pub struct Finished<'a> {
    pub user_id: &'a str,
    pub session_id: &'a str,
    /// µs.
    pub auth_time: i64,
    pub amr: &'a str,
    /// The hash of the code the answer carries, when it goes straight to the client.
    pub code_hash: Option<&'a str>,
}

/// Stores `r` as finished by `f`, inside the caller's write. False when the request was
/// finished before (a request serves one login).
pub fn finish_in(
    c: &mut dyn castellan_store::Conn,
    r: &AuthRequest,
    f: &Finished<'_>,
) -> Result<bool> {
    let code_expires_at = f.code_hash.map_or(0, |_| now_micros() + CODE_LIFETIME);
    let n = c.exec(
        "INSERT INTO oidc_auth_requests (instance_id, id, client_id, redirect_uri, response_type, response_mode, scope, state, nonce, code_challenge, code_challenge_method, prompt, max_age, login_hint, ui_locales, acr_values, hint_user_id, created_at, expires_at, user_id, session_id, auth_time, amr, code_hash, code_expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id, id) DO NOTHING",
        &params![&r.instance_id, &r.id, &r.client_id, &r.redirect_uri, &r.response_type, &r.response_mode, &r.scope, &r.state, &r.nonce, &r.code_challenge, &r.code_challenge_method, &r.prompt, r.max_age, &r.login_hint, &r.ui_locales, &r.acr_values, &r.hint_user_id, r.created_at, r.expires_at, f.user_id, f.session_id, f.auth_time, f.amr, f.code_hash, code_expires_at],
    )?;
    // Now and then, forget requests no session can still be using.
    if n == 1 && castellan_domain::id::random_bytes::<1>()[0] < 4 {
        c.exec(
            "DELETE FROM oidc_auth_requests WHERE expires_at < ?",
            &params![r.created_at - KEEP_FINISHED],
        )?;
    }
    Ok(n == 1)
}

/// [`finish_in`] in a write of its own.
pub async fn finish(st: &St, r: &AuthRequest, f: Finished<'_>) -> Result<bool> {
    let (r, uid, sid, amr, hash) = (
        r.clone(),
        f.user_id.to_string(),
        f.session_id.to_string(),
        f.amr.to_string(),
        f.code_hash.map(str::to_string),
    );
    let auth_time = f.auth_time;
    st.db
        .write(&r.id.clone(), move |c| {
            let f = Finished {
                user_id: &uid,
                session_id: &sid,
                auth_time,
                amr: &amr,
                code_hash: hash.as_deref(),
            };
            finish_in(c, &r, &f)
        })
        .await
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
