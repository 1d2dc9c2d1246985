//! Client authentication (RFC 6749 2.3, OpenID Connect Core 9): `client_secret_basic`,
//! `client_secret_post`, `private_key_jwt` (RFC 7523 with the app's keys) and `none`; and
//! machine users presenting their user name and secret (client credentials) or a JWT signed
//! with one of their keys (JWT profile). Clients and machine users are loaded once and kept,
//! stamped with the store's auth and data epochs: the hot path reads no database.

use crate::oauth_error::{OAuthError, OResult};
use crate::token::{Call, Form};
use base64::Engine;
use castellan_api::state::St;
use castellan_domain::id::now_micros;
use castellan_domain::jwt::{Jwt, VerifyingKey};
use castellan_domain::oidc_app::{api_auth_method, auth_method, OidcSettings};
use castellan_domain::Result;
use castellan_store::projection::{app_kind, org_state, project_state, user_state, MACHINE};
use castellan_store::{params, Conn};
use http::HeaderMap;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// `client_assertion_type` of `private_key_jwt`.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How a client authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Basic,
    Post,
    PrivateKeyJwt,
    None,
}

impl Method {
    /// The `OIDCAuthMethodType` number of this method.
    fn number(self) -> i32 {
        match self {
            Method::Basic => auth_method::BASIC,
            Method::Post => auth_method::POST,
            Method::PrivateKeyJwt => auth_method::PRIVATE_KEY_JWT,
            Method::None => auth_method::NONE,
        }
    }
}

/// The credentials a request presents.
#[derive(Debug, Clone)]
pub struct Presented {
    pub client_id: String,
    pub secret: Option<String>,
    pub assertion: Option<Jwt>,
    pub method: Method,
}

/// A public key of an app or machine user with its expiry (µs).
#[derive(Clone)]
pub struct Key {
    pub key: VerifyingKey,
    pub expires: i64,
}

/// An active OIDC or API app of an active project of an active organisation.
pub struct App {
    pub client_id: String,
    pub app_id: String,
    pub project_id: String,
    pub org_id: String,
    pub api: bool,
    /// The configured method as an `OIDCAuthMethodType` number (API apps mapped onto it).
    pub auth_method: i32,
    secret_hash: String,
    /// OIDC settings (grant types, token type, clock skew); `None` for API apps.
    pub oidc: Option<OidcSettings>,
    /// Client ids of every app of the project, then the project id: the tokens' audience.
    pub project_audience: Vec<String>,
    keys: HashMap<String, Key>,
}

impl App {
    /// Whether the app may use `grant` (an `OIDCGrantType` number).
    pub fn allows(&self, grant: i32) -> bool {
        self.oidc
            .as_ref()
            .is_some_and(|s| s.grant_types.contains(&grant))
    }

    /// The app's public keys by key id.
    pub fn keys(&self) -> &HashMap<String, Key> {
        &self.keys
    }

    /// Whether access tokens of this app are JWTs.
    pub fn jwt_access_token(&self) -> bool {
        self.oidc.as_ref().is_some_and(|s| s.access_token_type == 1)
    }

    /// Allowed clock skew for this app's assertions (seconds).
    fn skew(&self) -> i64 {
        self.oidc
            .as_ref()
            .map_or(0, |s| s.clock_skew_nanos / 1_000_000_000)
            .max(5)
    }
}

/// An active machine user of an active organisation.
pub struct Machine {
    pub user_id: String,
    pub user_name: String,
    pub org_id: String,
    pub org_primary_domain: String,
    secret_hash: String,
    /// `ACCESS_TOKEN_TYPE_JWT`.
    pub jwt_access_token: bool,
    pub keys: HashMap<String, Key>,
}

struct Stamped<T> {
    value: T,
    stamp: (u64, u64),
    /// Other PostgreSQL nodes move the data epoch only for user changes: entries are also
    /// read again after [`MAX_AGE`], so an app changed on another node is seen soon.
    loaded: Instant,
}

const MAX_AGE: Duration = Duration::from_secs(60);

type Map<T> = RwLock<HashMap<(String, String), Stamped<Option<Arc<T>>>>>;

/// The caches of clients and machine users.
#[derive(Default)]
pub struct Clients {
    apps: Map<App>,
    machines_by_name: Map<Machine>,
    machines_by_id: Map<Machine>,
    /// `jti`s of client assertions seen, with their expiry (seconds): no replay.
    seen: Mutex<HashMap<String, i64>>,
}

const MAX_ENTRIES: usize = 50_000;

fn stamp(st: &St) -> (u64, u64) {
    (
        st.db.auth_epoch().load(Ordering::SeqCst),
        st.db.data_epoch(),
    )
}

fn cached<T>(map: &Map<T>, key: &(String, String), now: (u64, u64)) -> Option<Option<Arc<T>>> {
    let m = map.read().unwrap_or_else(|e| e.into_inner());
    m.get(key)
        .filter(|e| e.stamp == now && e.loaded.elapsed() < MAX_AGE)
        .map(|e| e.value.clone())
}

fn store<T>(map: &Map<T>, key: (String, String), value: Option<Arc<T>>, now: (u64, u64)) {
    let mut m = map.write().unwrap_or_else(|e| e.into_inner());
    if m.len() >= MAX_ENTRIES {
        m.clear();
    }
    m.insert(
        key,
        Stamped {
            value,
            stamp: now,
            loaded: Instant::now(),
        },
    );
}

fn parse_keys(rows: Vec<castellan_store::Row>) -> Result<HashMap<String, Key>> {
    let mut keys = HashMap::new();
    for r in rows {
        if let Ok(key) = VerifyingKey::from_pem(&r.text(1)?) {
            keys.insert(
                r.text(0)?,
                Key {
                    key,
                    expires: r.int(2)?,
                },
            );
        }
    }
    Ok(keys)
}

fn load_app(c: &mut dyn Conn, instance: &str, client_id: &str) -> Result<Option<App>> {
    let Some(cl) = castellan_api::app::apps::by_client_id(c, instance, client_id)? else {
        return Ok(None);
    };
    if !cl.active {
        return Ok(None);
    }
    let active = c
        .one(
            "SELECT p.state, o.state FROM projects p JOIN orgs o ON o.instance_id = p.instance_id \
             AND o.id = p.org_id WHERE p.instance_id = ? AND p.id = ?",
            &params![instance, &cl.project_id],
        )?
        .map(|r| -> Result<bool> {
            Ok(r.int(0)? == project_state::ACTIVE && r.int(1)? == org_state::ACTIVE)
        })
        .transpose()?
        .unwrap_or(false);
    if !active {
        return Ok(None);
    }
    let mut project_audience = Vec::new();
    for r in c.query(
        "SELECT client_id FROM apps WHERE instance_id = ? AND project_id = ? AND client_id <> '' \
         ORDER BY created_at",
        &params![instance, &cl.project_id],
    )? {
        project_audience.push(r.text(0)?);
    }
    project_audience.push(cl.project_id.clone());
    let keys = parse_keys(c.query(
        "SELECT id, public_key, expiration FROM app_keys WHERE instance_id = ? AND app_id = ?",
        &params![instance, &cl.app_id],
    )?)?;
    let api = cl.kind == app_kind::API;
    let auth_method = if api {
        match cl.auth_method_type {
            api_auth_method::PRIVATE_KEY_JWT => auth_method::PRIVATE_KEY_JWT,
            _ => auth_method::BASIC,
        }
    } else {
        cl.auth_method_type
    };
    Ok(Some(App {
        client_id: client_id.to_string(),
        app_id: cl.app_id,
        project_id: cl.project_id,
        org_id: cl.org_id,
        api,
        auth_method,
        secret_hash: cl.secret_hash,
        oidc: cl.oidc,
        project_audience,
        keys,
    }))
}

const MACHINE_COLS: &str =
    "SELECT u.id, u.username, u.org_id, u.secret_hash, u.access_token_type, \
     u.state, o.state, o.primary_domain FROM users u JOIN orgs o ON o.instance_id = u.instance_id \
     AND o.id = u.org_id";

fn load_machine(
    c: &mut dyn Conn,
    instance: &str,
    by_id: bool,
    key: &str,
) -> Result<Option<Machine>> {
    let sql = if by_id {
        format!("{MACHINE_COLS} WHERE u.instance_id = ? AND u.id = ? AND u.kind = ?")
    } else {
        format!("{MACHINE_COLS} WHERE u.instance_id = ? AND u.username = ? AND u.kind = ?")
    };
    let rows = c.query(&sql, &params![instance, key, MACHINE])?;
    // A user name shared by machines of several organisations names none of them.
    let [r] = rows.as_slice() else {
        return Ok(None);
    };
    if r.int(5)? != user_state::ACTIVE || r.int(6)? != org_state::ACTIVE {
        return Ok(None);
    }
    let user_id = r.text(0)?;
    let keys = parse_keys(c.query(
        "SELECT id, public_key, expiration FROM machine_keys WHERE instance_id = ? AND user_id = ?",
        &params![instance, &user_id],
    )?)?;
    Ok(Some(Machine {
        user_id,
        user_name: r.text(1)?,
        org_id: r.text(2)?,
        secret_hash: r.text(3)?,
        jwt_access_token: r.int(4)? == 1,
        org_primary_domain: r.text(7)?,
        keys,
    }))
}

impl Clients {
    /// The active app with `client_id`; `fresh` skips the cache (an unknown key id).
    pub async fn app(
        &self,
        st: &St,
        instance: &str,
        client_id: &str,
        fresh: bool,
    ) -> OResult<Option<Arc<App>>> {
        let key = (instance.to_string(), client_id.to_string());
        let now = stamp(st);
        if !fresh {
            if let Some(v) = cached(&self.apps, &key, now) {
                return Ok(v);
            }
        }
        let (i, c) = key.clone();
        let v = st
            .db
            .read_point(move |conn| load_app(conn, &i, &c))
            .await?
            .map(Arc::new);
        store(&self.apps, key, v.clone(), now);
        Ok(v)
    }

    /// The active machine user named `user_name` (`by_id`: with that id).
    pub async fn machine(
        &self,
        st: &St,
        instance: &str,
        by_id: bool,
        name_or_id: &str,
        fresh: bool,
    ) -> OResult<Option<Arc<Machine>>> {
        let map = if by_id {
            &self.machines_by_id
        } else {
            &self.machines_by_name
        };
        let key = (instance.to_string(), name_or_id.to_string());
        let now = stamp(st);
        if !fresh {
            if let Some(v) = cached(map, &key, now) {
                return Ok(v);
            }
        }
        let (i, k) = key.clone();
        let v = st
            .db
            .read_point(move |conn| load_machine(conn, &i, by_id, &k))
            .await?
            .map(Arc::new);
        store(map, key, v.clone(), now);
        Ok(v)
    }

    /// Records the `jti` of an assertion; false when it was seen before and is still valid.
    fn first_use(&self, key: String, exp: i64, now: i64) -> bool {
        let mut m = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= MAX_ENTRIES {
            m.retain(|_, e| *e >= now);
        }
        match m.get(&key) {
            Some(e) if *e >= now => false,
            _ => {
                m.insert(key, exp);
                true
            }
        }
    }
}

/// Percent-decoding of a form-encoded value (RFC 6749 2.3.1 encodes basic credentials so).
fn form_decode(s: &str) -> String {
    form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The credentials of a request: an `Authorization: Basic` header, `client_id` and
/// `client_secret` in the form, a client assertion, or a bare `client_id`.
pub fn presented(headers: &HeaderMap, form: &Form) -> OResult<Presented> {
    let basic = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.get(..6)
                .filter(|p| p.eq_ignore_ascii_case("basic "))
                .map(|_| v[6..].trim())
        });
    if let Some(b) = basic {
        let bad = || {
            OAuthError::invalid_client("OIDC-cla01", "malformed basic credentials").with_basic(true)
        };
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b)
            .map_err(|_| bad())?;
        let text = String::from_utf8(raw).map_err(|_| bad())?;
        let (id, secret) = text.split_once(':').ok_or_else(bad)?;
        if form.get("client_secret").is_some() || form.get("client_assertion").is_some() {
            return Err(OAuthError::invalid_request(
                "OIDC-cla02",
                "the client authenticated in more than one way",
            ));
        }
        return Ok(Presented {
            client_id: form_decode(id),
            secret: Some(form_decode(secret)),
            assertion: None,
            method: Method::Basic,
        });
    }
    if let Some(a) = form.get("client_assertion") {
        if form.get("client_assertion_type") != Some(ASSERTION_TYPE) {
            return Err(OAuthError::invalid_request(
                "OIDC-cla03",
                format!("client_assertion_type must be {ASSERTION_TYPE}"),
            ));
        }
        let jwt = Jwt::parse(a).map_err(|_| {
            OAuthError::invalid_client("OIDC-cla04", "client_assertion is not a JWT")
        })?;
        let sub = jwt.claim("sub").unwrap_or_default().to_string();
        if form.get("client_id").is_some_and(|id| id != sub) {
            return Err(OAuthError::invalid_client(
                "OIDC-cla05",
                "client_id differs from the assertion's subject",
            ));
        }
        return Ok(Presented {
            client_id: sub,
            secret: None,
            assertion: Some(jwt),
            method: Method::PrivateKeyJwt,
        });
    }
    let id = form
        .get("client_id")
        .ok_or_else(|| OAuthError::invalid_client("OIDC-cla06", "no client authentication"))?;
    let secret = form.get("client_secret").map(str::to_string);
    Ok(Presented {
        client_id: id.to_string(),
        method: if secret.is_some() {
            Method::Post
        } else {
            Method::None
        },
        secret,
        assertion: None,
    })
}

fn secret_matches(hash: &str, secret: &str) -> bool {
    !hash.is_empty()
        && aws_lc_rs::constant_time::verify_slices_are_equal(
            castellan_api::authn::hash_secret(secret).as_bytes(),
            hash.as_bytes(),
        )
        .is_ok()
}

/// Checks a JWT assertion (RFC 7523 3) against `keys`: `kid` of an unexpired key, the
/// signature, `iss` = `sub` = `subject`, the times and an accepted audience.
pub fn check_assertion(
    jwt: &Jwt,
    keys: &HashMap<String, Key>,
    subject: &str,
    audiences: &[String],
    skew: i64,
) -> std::result::Result<(), String> {
    let now = now_micros();
    let kid = jwt
        .header
        .get("kid")
        .and_then(|v| v.as_str())
        .ok_or("the assertion has no kid")?;
    let key = keys
        .get(kid)
        .filter(|k| k.expires > now)
        .ok_or("the assertion's key is unknown or expired")?;
    jwt.verify(&key.key).map_err(|e| e.text())?;
    if jwt.claim("iss") != Some(subject) || jwt.claim("sub") != Some(subject) {
        return Err("iss and sub of the assertion must both be the client".into());
    }
    jwt.check_times(now / 1_000_000, skew, None)
        .map_err(|e| e.text())?;
    if !jwt.audience_contains(audiences) {
        return Err(format!("aud must contain {}", audiences.join(" or ")));
    }
    Ok(())
}

/// The audiences a client assertion may name: the issuer and the endpoint it is sent to.
pub fn accepted_audiences(c: &Call, endpoint: &str) -> Vec<String> {
    vec![c.issuer.clone(), c.url(endpoint)]
}

/// Authenticates an app with the method it is configured for.
pub async fn app(
    st: &St,
    clients: &Clients,
    c: &Call,
    p: &Presented,
    endpoint: &str,
) -> OResult<Arc<App>> {
    let basic = p.method == Method::Basic;
    let deny = |d: &str| OAuthError::invalid_client("OIDC-cla07", d.to_string()).with_basic(basic);
    let mut a = clients
        .app(st, &c.instance, &p.client_id, false)
        .await?
        .ok_or_else(|| deny("the client is unknown or not active"))?;
    if a.auth_method != p.method.number() {
        return Err(deny(
            "the client must authenticate with its configured method",
        ));
    }
    match p.method {
        Method::Basic | Method::Post => {
            let secret = p.secret.as_deref().unwrap_or_default();
            if !secret_matches(&a.secret_hash, secret) {
                return Err(deny("the client secret is wrong"));
            }
        }
        Method::PrivateKeyJwt => {
            let jwt = p
                .assertion
                .as_ref()
                .ok_or_else(|| deny("client_assertion is missing"))?;
            let kid = jwt
                .header
                .get("kid")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            if !a.keys.contains_key(kid) {
                // A key added since the app was cached.
                if let Some(fresh) = clients.app(st, &c.instance, &p.client_id, true).await? {
                    a = fresh;
                }
            }
            check_assertion(
                jwt,
                &a.keys,
                &a.client_id,
                &accepted_audiences(c, endpoint),
                a.skew(),
            )
            .map_err(|e| deny(&e))?;
            let exp = jwt.claims.get("exp").and_then(|v| v.as_i64()).unwrap_or(0);
            if let Some(jti) = jwt.claim("jti") {
                let key = format!("{}/{}/{jti}", c.instance, a.client_id);
                if !clients.first_use(key, exp, now_micros() / 1_000_000) {
                    return Err(deny("the client assertion was used before"));
                }
            }
        }
        Method::None => {}
    }
    Ok(a)
}

/// Authenticates a machine user by user name and secret (client credentials).
pub async fn machine_secret(
    st: &St,
    clients: &Clients,
    c: &Call,
    p: &Presented,
) -> OResult<Arc<Machine>> {
    let basic = p.method == Method::Basic;
    let deny = |d: &str| OAuthError::invalid_client("OIDC-cla08", d.to_string()).with_basic(basic);
    if !matches!(p.method, Method::Basic | Method::Post) {
        return Err(deny("client_credentials needs client_id and client_secret"));
    }
    let m = clients
        .machine(st, &c.instance, false, &p.client_id, false)
        .await?
        .ok_or_else(|| deny("the client is unknown or not active"))?;
    if !secret_matches(&m.secret_hash, p.secret.as_deref().unwrap_or_default()) {
        return Err(deny("the client secret is wrong"));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(id: &str, secret: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let v = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        h.insert(
            http::header::AUTHORIZATION,
            format!("Basic {v}").parse().expect("header"),
        );
        h
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let p = presented(&basic("a%40b", "x%3Ay+z%2B"), &Form::default()).expect("basic");
        assert_eq!(p.client_id, "a@b");
        assert_eq!(p.secret.as_deref(), Some("x:y z+"));
        assert_eq!(p.method, Method::Basic);
        // A secret may contain ':' unencoded: the first one separates.
        let p = presented(&basic("id", "a:b"), &Form::default()).expect("basic");
        assert_eq!(p.secret.as_deref(), Some("a:b"));
        // Basic and a form secret at once.
        let f = Form::parse(b"client_secret=s");
        assert!(presented(&basic("id", "s"), &f).is_err());
        // Post, none, assertions with the wrong type.
        let p = presented(
            &HeaderMap::new(),
            &Form::parse(b"client_id=c&client_secret=s"),
        )
        .expect("post");
        assert_eq!((p.method, p.client_id.as_str()), (Method::Post, "c"));
        let p = presented(&HeaderMap::new(), &Form::parse(b"client_id=c")).expect("none");
        assert_eq!(p.method, Method::None);
        let f = Form::parse(b"client_assertion=eyJ.eyJ.x&client_assertion_type=other");
        assert!(presented(&HeaderMap::new(), &f).is_err());
        assert!(presented(&HeaderMap::new(), &Form::default()).is_err());
    }
}
