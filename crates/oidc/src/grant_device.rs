//! `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 3.4/3.5): the device
//! polls with its device code. Pending: `authorization_pending`, or `slow_down` when it polls
//! sooner than the interval after its last poll, which also raises the authorization's interval
//! by 5 s for every later poll; denied: `access_denied`; expired: `expired_token`. An approved
//! authorization is consumed in the statement that checks it (of two concurrent polls one wins)
//! and yields the tokens of the login that approved it.

use crate::client_auth;
use crate::oauth_error::{OAuthError, OResult};
use crate::token::{Call, Form};
use crate::Oidc;
use axum::response::Response;
use castellan_api::authn::hash_secret;
use castellan_domain::id::now_micros;
use castellan_domain::oidc_app::grant_type;
use castellan_store::params;
use http::HeaderMap;

/// The grant type.
pub const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Seconds a `slow_down` adds to the polling interval (RFC 8628 3.5).
const SLOW_DOWN_STEP: i64 = 5;

struct Row {
    client_id: String,
    scope: String,
    expires_at: i64,
    last_poll_at: i64,
    poll_interval: i64,
    state: String,
    user_id: String,
    session_id: String,
    auth_time: i64,
    amr: String,
}

/// An RFC 8628 3.5 error (400).
fn polling(id: &'static str, error: &'static str, d: &str) -> OAuthError {
    let mut e = OAuthError::invalid_grant(id, d);
    e.error = error;
    e
}

pub async fn run(o: &Oidc, c: &Call, headers: &HeaderMap, form: &Form) -> OResult<Response> {
    let p = client_auth::presented(headers, form)?;
    let app = client_auth::app(&o.st, &o.clients, c, &p, "/oauth/v2/token").await?;
    if !app.allows(grant_type::DEVICE_CODE) {
        return Err(OAuthError::unauthorized_client(
            "OIDC-dev01",
            "the client may not use the device authorization grant",
        ));
    }
    let hash = hash_secret(form.require("device_code")?);
    let inst = c.instance.clone();
    let h = hash.clone();
    let r = o
        .st
        .db
        .read_point(move |conn| {
            conn.one(
                "SELECT client_id, scope, expires_at, last_poll_at, poll_interval, state, user_id, session_id, auth_time, amr \
                 FROM oidc_device_authorizations WHERE instance_id = ? AND device_code_hash = ?",
                &params![&inst, &h],
            )?
            .map(|r| -> castellan_domain::Result<Row> {
                Ok(Row {
                    client_id: r.text(0)?,
                    scope: r.text(1)?,
                    expires_at: r.int(2)?,
                    last_poll_at: r.int(3)?,
                    poll_interval: r.int(4)?,
                    state: r.text(5)?,
                    user_id: r.text(6)?,
                    session_id: r.text(7)?,
                    auth_time: r.int(8)?,
                    amr: r.text(9)?,
                })
            })
            .transpose()
        })
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("OIDC-dev02", "the device code is unknown"))?;
    if r.client_id != app.client_id {
        return Err(OAuthError::invalid_grant(
            "OIDC-dev03",
            "the device code was issued to another client",
        ));
    }
    let now = now_micros();
    match r.state.as_str() {
        "consumed" => {
            return Err(OAuthError::invalid_grant(
                "OIDC-dev04",
                "the device code was already used",
            ))
        }
        "denied" => {
            return Err(polling(
                "OIDC-dev05",
                "access_denied",
                "the user denied the request",
            ))
        }
        _ if r.expires_at <= now => {
            return Err(polling(
                "OIDC-dev06",
                "expired_token",
                "the device code has expired",
            ))
        }
        "pending" => {
            // Record this poll and, when it came too soon, raise the interval; of concurrent
            // polls only one finds the old `last_poll_at`, the others count as too soon.
            let too_soon = now - r.last_poll_at < r.poll_interval * 1_000_000;
            let step = if too_soon { SLOW_DOWN_STEP } else { 0 };
            let (inst, h, last) = (c.instance.clone(), hash.clone(), r.last_poll_at);
            let slow = o
                .st
                .db
                .write(&hash, move |conn| {
                    let recorded = conn.exec(
                        "UPDATE oidc_device_authorizations SET last_poll_at = ?, poll_interval = poll_interval + ? \
                         WHERE instance_id = ? AND device_code_hash = ? AND last_poll_at = ?",
                        &params![now, step, &inst, &h, last],
                    )? == 1;
                    if !recorded {
                        conn.exec(
                            "UPDATE oidc_device_authorizations SET poll_interval = poll_interval + ? WHERE instance_id = ? AND device_code_hash = ?",
                            &params![SLOW_DOWN_STEP, &inst, &h],
                        )?;
                    }
                    Ok(too_soon || !recorded)
                })
                .await?;
            if slow {
                return Err(polling(
                    "OIDC-dev07",
                    "slow_down",
                    "the device polls too often",
                ));
            }
            return Err(polling(
                "OIDC-dev08",
                "authorization_pending",
                "the user has not yet approved the request",
            ));
        }
        "approved" => {}
        _ => {
            return Err(OAuthError::invalid_grant(
                "OIDC-dev09",
                "the device code is not usable",
            ))
        }
    }
    // Single use: only the poll that flips approved to consumed goes on (one statement that
    // commits by itself).
    let (inst, h) = (c.instance.clone(), hash.clone());
    let won = o
        .st
        .db
        .write_single(&hash, move |conn| {
            Ok(conn.exec(
                "UPDATE oidc_device_authorizations SET state = 'consumed', last_poll_at = ? WHERE instance_id = ? AND device_code_hash = ? AND state = 'approved'",
                &params![now, &inst, &h],
            )? == 1)
        })
        .await?;
    if !won || r.user_id.is_empty() {
        return Err(OAuthError::invalid_grant(
            "OIDC-dev04",
            "the device code was already used",
        ));
    }
    let s = crate::settings::of_instance(&o.st, &c.instance).await?;
    let login = crate::login_grant::Login {
        user_id: &r.user_id,
        session_id: &r.session_id,
        auth_time: r.auth_time,
        amr: &r.amr,
        scope: &r.scope,
        grant_id: o.st.ids.next(),
        nonce: None,
        active: None,
    };
    crate::login_grant::tokens(o, c, &app, &s, login, "OIDC-dev10").await
}
