//! `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693), as ZITADEL serves
//! it: only when the instance's OIDC settings enable it and the app allows
//! `OIDC_GRANT_TYPE_TOKEN_EXCHANGE`.
//!
//! A plain exchange turns a subject token (an access token or an ID token of this issuer)
//! into a narrower one (fewer scopes, a smaller audience) or another type (`jwt`,
//! `id_token`); an `act` the subject token had is kept. Impersonation — a subject given as
//! `urn:zitadel:params:oauth:token-type:user_id` or as a JWT signed with one of the app's
//! keys, or any request with an `actor_token` — needs the instance's security policy to enable
//! impersonation (else 403 `invalid_request`, as ZITADEL answers) and an actor (access or ID
//! token) who holds
//! the `impersonation` permission (IAM_/ORG_END_USER_IMPERSONATOR) on the instance or in the
//! subject's organisation (`admin.impersonation` when the subject is a manager itself); the
//! new token carries `act: {"iss", "sub": actor[, "act": the actor's own actor]}` and the
//! actor's `auth_time` and `amr`. Writes nothing: no refresh tokens are issued.

use crate::client_auth::{self, accepted_audiences, App};
use crate::mint::{self, Grant, IdExtras};
use crate::oauth_error::{json_ok, OAuthError, OResult};
use crate::scopes;
use crate::token::{Call, Form};
use crate::Oidc;
use axum::response::Response;
use castellan_domain::id::now_micros;
use castellan_domain::jwt::Jwt;
use castellan_domain::oidc_app::grant_type;
use castellan_store::params;
use http::{HeaderMap, StatusCode};
use serde_json::{json, Map, Value};

/// The grant type.
pub const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 8693 3 token type identifiers.
pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
pub const REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
/// ZITADEL's extension: the subject is named by its user id (impersonation only).
pub const USER_ID: &str = "urn:zitadel:params:oauth:token-type:user_id";

/// Clock skew allowed on a JWT subject token's times (seconds).
const SKEW: i64 = 60;

/// What a verified subject or actor token says.
#[derive(Debug, Clone, Default)]
struct Token {
    user_id: String,
    /// The user's organisation.
    org_id: String,
    scopes: Vec<String>,
    audience: Vec<String>,
    auth_time: Option<i64>,
    amr: Vec<String>,
    act: Option<Value>,
}

/// Impersonation while the security policy disables it: ZITADEL's permission-denied error,
/// which its provider sends as 403 `invalid_request`.
fn impersonation_disabled() -> OAuthError {
    OAuthError {
        id: "OIDC-tex23",
        status: StatusCode::FORBIDDEN,
        error: "invalid_request",
        description: "impersonation is disabled by the instance's security policy".into(),
        basic_challenge: false,
    }
}

fn access_denied(id: &'static str, d: impl Into<String>) -> OAuthError {
    OAuthError {
        id,
        status: StatusCode::BAD_REQUEST,
        error: "access_denied",
        description: d.into(),
        basic_challenge: false,
    }
}

fn invalid_target(id: &'static str, d: impl Into<String>) -> OAuthError {
    OAuthError {
        id,
        status: StatusCode::BAD_REQUEST,
        error: "invalid_target",
        description: d.into(),
        basic_challenge: false,
    }
}

/// A token that does not verify (RFC 8693 2.2.2: `invalid_request`).
fn bad_token(id: &'static str, which: &str, why: &str) -> OAuthError {
    OAuthError::invalid_request(id, format!("{which} invalid: {why}"))
}

/// The organisation of an active user of an active organisation, if any.
async fn active_user_org(o: &Oidc, c: &Call, user_id: &str) -> OResult<Option<String>> {
    use castellan_store::projection::{org_state, user_state};
    let (inst, uid) = (c.instance.clone(), user_id.to_string());
    Ok(o.st
        .db
        .read_point(move |conn| {
            conn.one(
                "SELECT u.org_id, u.state, o.state FROM users u JOIN orgs o \
                 ON o.instance_id = u.instance_id AND o.id = u.org_id \
                 WHERE u.instance_id = ? AND u.id = ?",
                &params![&inst, &uid],
            )?
            .map(|r| -> castellan_domain::Result<Option<String>> {
                Ok(
                    (r.int(1)? == user_state::ACTIVE && r.int(2)? == org_state::ACTIVE)
                        .then_some(r.text(0)?),
                )
            })
            .transpose()
            .map(Option::flatten)
        })
        .await?)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Verifies `token` of `kind` (one of `allowed`); `which` names the parameter in errors.
async fn verify(
    o: &Oidc,
    c: &Call,
    app: &App,
    which: &'static str,
    token: &str,
    kind: &str,
    allowed: &[&str],
) -> OResult<Token> {
    if !allowed.contains(&kind) {
        return Err(OAuthError::invalid_request(
            "OIDC-tex10",
            format!("{which}_type {kind} is not allowed here"),
        ));
    }
    let mut t = match kind {
        ACCESS_TOKEN => {
            let Some(at) = mint::read_access_token(&o.st, &c.instance, token).await? else {
                return Err(bad_token(
                    "OIDC-tex11",
                    which,
                    "not an access token of this issuer",
                ));
            };
            if !castellan_api::token_check::access_token_active(&o.st, &at).await? {
                return Err(bad_token(
                    "OIDC-tex12",
                    which,
                    "the token is expired or revoked",
                ));
            }
            Token {
                user_id: at.subject,
                scopes: at.scopes,
                audience: at.audience,
                auth_time: at.auth_time,
                amr: at.amr,
                act: at.act,
                ..Token::default()
            }
        }
        ID_TOKEN => {
            let jwt = Jwt::parse(token).map_err(|_| bad_token("OIDC-tex13", which, "not a JWT"))?;
            let kid = jwt.header.get("kid").and_then(Value::as_str).unwrap_or("");
            let key =
                o.st.keys
                    .verifying_key(&o.st, &c.instance, kid)
                    .await?
                    .ok_or_else(|| bad_token("OIDC-tex14", which, "unknown signing key"))?;
            jwt.verify(&key)
                .map_err(|_| bad_token("OIDC-tex15", which, "the signature does not verify"))?;
            if jwt.claim("iss") != Some(c.issuer.as_str()) {
                return Err(bad_token("OIDC-tex16", which, "issued by another issuer"));
            }
            let exp = jwt.claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
            if exp <= now_micros() / 1_000_000 {
                return Err(bad_token("OIDC-tex17", which, "the ID token has expired"));
            }
            let aud = strings(jwt.claims.get("aud"));
            if !aud.contains(&app.client_id) {
                return Err(bad_token(
                    "OIDC-tex18",
                    which,
                    "the ID token was not issued to this client",
                ));
            }
            Token {
                user_id: jwt.claim("sub").unwrap_or_default().to_string(),
                audience: aud,
                auth_time: jwt.claims.get("auth_time").and_then(Value::as_i64),
                amr: strings(jwt.claims.get("amr")),
                act: jwt.claims.get("act").cloned(),
                ..Token::default()
            }
        }
        JWT => {
            // A JWT profile assertion (iss = sub = the user) signed with one of the app's keys.
            let jwt = Jwt::parse(token).map_err(|_| bad_token("OIDC-tex19", which, "not a JWT"))?;
            let sub = jwt.claim("sub").unwrap_or_default().to_string();
            client_auth::check_assertion(
                &jwt,
                app.keys(),
                &sub,
                &accepted_audiences(c, "/oauth/v2/token"),
                SKEW,
            )
            .map_err(|e| bad_token("OIDC-tex20", which, &e))?;
            Token {
                user_id: sub,
                ..Token::default()
            }
        }
        USER_ID => Token {
            user_id: token.to_string(),
            ..Token::default()
        },
        _ => {
            return Err(OAuthError::invalid_request(
                "OIDC-tex21",
                format!("{which}_type {kind} is not supported"),
            ))
        }
    };
    t.org_id = active_user_org(o, c, &t.user_id)
        .await?
        .ok_or_else(|| bad_token("OIDC-tex22", which, "the user is unknown or not active"))?;
    Ok(t)
}

/// Whether `actor` may impersonate `subject`: `impersonation` on the instance or in the
/// subject's organisation; `admin.impersonation` when the subject is a manager.
async fn may_impersonate(o: &Oidc, c: &Call, actor: &str, subject: &Token) -> OResult<bool> {
    let (inst, actor, uid, org) = (
        c.instance.clone(),
        actor.to_string(),
        subject.user_id.clone(),
        subject.org_id.clone(),
    );
    Ok(o.st
        .db
        .read_point(move |conn| {
            let subject_is_manager = conn
                .one(
                    "SELECT 1 FROM members WHERE instance_id = ? AND user_id = ?",
                    &params![&inst, &uid],
                )?
                .is_some();
            let permission = if subject_is_manager {
                "admin.impersonation"
            } else {
                "impersonation"
            };
            let mut roles: Vec<String> = Vec::new();
            for r in conn.query(
                "SELECT level, object_id, roles FROM members WHERE instance_id = ? AND user_id = ? \
                 AND level IN ('instance', 'org')",
                &params![&inst, &actor],
            )? {
                if r.text(0)? == "org" && r.text(1)? != org {
                    continue;
                }
                roles.extend(
                    r.text(2)?
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                );
            }
            Ok(castellan_domain::roles::any_grants(
                roles.iter().map(String::as_str),
                permission,
            ))
        })
        .await?)
}

pub async fn run(o: &Oidc, c: &Call, headers: &HeaderMap, form: &Form) -> OResult<Response> {
    let p = client_auth::presented(headers, form)?;
    let app = client_auth::app(&o.st, &o.clients, c, &p, "/oauth/v2/token").await?;
    let s = crate::settings::of_instance(&o.st, &c.instance).await?;
    if !s.token_exchange_enabled {
        return Err(OAuthError::unsupported_grant_type(
            "OIDC-tex01",
            "token exchange is not enabled on this instance",
        ));
    }
    if !app.allows(grant_type::TOKEN_EXCHANGE) {
        return Err(OAuthError::unauthorized_client(
            "OIDC-tex02",
            "the client may not use the token exchange grant",
        ));
    }
    if form.get("resource").is_some() {
        return Err(invalid_target(
            "OIDC-tex03",
            "the resource parameter is not supported",
        ));
    }
    let subject_token = form.require("subject_token")?;
    let subject_type = form.require("subject_token_type")?;
    let requested_type = form.get("requested_token_type").unwrap_or(ACCESS_TOKEN);
    if !matches!(requested_type, ACCESS_TOKEN | JWT | ID_TOKEN) {
        return Err(OAuthError::invalid_request(
            "OIDC-tex04",
            format!("requested_token_type {requested_type} is not supported"),
        ));
    }
    let subject = verify(
        o,
        c,
        &app,
        "subject_token",
        subject_token,
        subject_type,
        &[ACCESS_TOKEN, ID_TOKEN, JWT, USER_ID],
    )
    .await?;
    let impersonation = matches!(subject_type, USER_ID | JWT) || form.get("actor_token").is_some();
    let actor = if impersonation {
        let policy = castellan_api::app::security_policy::of_instance(&o.st, &c.instance).await?;
        if !policy.enable_impersonation {
            return Err(impersonation_disabled());
        }
        let token = form.require("actor_token")?;
        let kind = form.require("actor_token_type")?;
        let a = verify(
            o,
            c,
            &app,
            "actor_token",
            token,
            kind,
            &[ACCESS_TOKEN, ID_TOKEN],
        )
        .await?;
        if !may_impersonate(o, c, &a.user_id, &subject).await? {
            return Err(access_denied(
                "OIDC-tex05",
                "the actor may not impersonate this user",
            ));
        }
        Some(a)
    } else if form.get("actor_token_type").is_some() {
        return Err(OAuthError::invalid_request(
            "OIDC-tex06",
            "actor_token_type without actor_token",
        ));
    } else {
        None
    };
    let (source, act) = match &actor {
        Some(a) => {
            let mut m = Map::new();
            m.insert("iss".into(), c.issuer.clone().into());
            m.insert("sub".into(), a.user_id.clone().into());
            if let Some(inner) = &a.act {
                m.insert("act".into(), inner.clone());
            }
            (a, Some(Value::Object(m)))
        }
        None => (&subject, subject.act.clone()),
    };
    // Audience: what was asked for (repeated `audience` parameters, RFC 8693 2.1, or one
    // space-separated value), within the subject's and actor's audiences.
    let requested_aud: Vec<String> = form
        .all("audience")
        .flat_map(str::split_ascii_whitespace)
        .map(str::to_string)
        .collect();
    let mut allowed_aud = subject.audience.clone();
    if let Some(a) = &actor {
        allowed_aud.extend(a.audience.iter().cloned());
    }
    let audience = if requested_aud.is_empty() {
        if !subject.audience.is_empty() {
            subject.audience.clone()
        } else if let Some(a) = actor.as_ref().filter(|a| !a.audience.is_empty()) {
            a.audience.clone()
        } else {
            app.project_audience.clone()
        }
    } else {
        if let Some(bad) = requested_aud.iter().find(|a| !allowed_aud.contains(a)) {
            return Err(invalid_target(
                "OIDC-tex07",
                format!("audience {bad} is not in the subject or actor token"),
            ));
        }
        requested_aud
    };
    // Scopes: narrowing only; no refresh tokens.
    let mut granted = subject.scopes.clone();
    if let Some(a) = &actor {
        granted.extend(a.scopes.iter().cloned());
    }
    if granted.is_empty() {
        granted = ["openid", "profile", "email", "phone", "address"]
            .map(str::to_string)
            .to_vec();
    }
    let requested = scopes::parse(form.get("scope").unwrap_or_default());
    let mut scope_list = if requested.is_empty() {
        if subject.scopes.is_empty() {
            actor.as_ref().map(|a| a.scopes.clone()).unwrap_or_default()
        } else {
            subject.scopes.clone()
        }
    } else {
        if !scopes::subset(&requested, &granted) {
            return Err(OAuthError::invalid_scope(
                "OIDC-tex08",
                "the scope may only narrow the subject's (or actor's) scopes",
            ));
        }
        requested
    };
    scope_list.retain(|s| s != scopes::OFFLINE_ACCESS);
    let g = Grant {
        instance: c.instance.clone(),
        issuer: c.issuer.clone(),
        subject: subject.user_id.clone(),
        client_id: app.client_id.clone(),
        project_id: app.project_id.clone(),
        audience,
        scopes: scope_list,
        auth_time: source.auth_time,
        amr: source.amr.clone(),
        grant_id: None,
        session_id: None,
        jwt: requested_type == JWT,
    };
    let openid = g.scopes.iter().any(|s| s == scopes::OPENID);
    let mut out = Map::new();
    if requested_type == ID_TOKEN {
        let id = mint::id_token_acting(&o.st, &g, &s, IdExtras::default(), act).await?;
        out.insert("access_token".into(), id.into());
        out.insert("issued_token_type".into(), ID_TOKEN.into());
        out.insert("token_type".into(), "N_A".into());
        out.insert(
            "expires_in".into(),
            i64::try_from(s.id_token_lifetime.as_secs())
                .unwrap_or(i64::MAX / 2)
                .into(),
        );
        out.insert("scope".into(), g.scopes.join(" ").into());
        return Ok(json_ok(&Value::Object(out)));
    }
    let at = mint::access_token_acting(&o.st, &g, &s, act.clone()).await?;
    let mut body = mint::response(&at, None, None);
    if openid {
        let x = IdExtras {
            access_token: Some(&at.token),
            ..IdExtras::default()
        };
        let id = mint::id_token_acting(&o.st, &g, &s, x, act).await?;
        body["id_token"] = id.into();
    }
    body["issued_token_type"] = json!(requested_type);
    Ok(json_ok(&body))
}
