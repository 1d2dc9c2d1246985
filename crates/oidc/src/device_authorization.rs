//! `POST /oauth/v2/device_authorization` (RFC 8628 3.1/3.2): a client that may use the device
//! code grant gets a device code (256 random bits, stored hashed) and a user code (8 letters of
//! BCDFGHJKLMNPQRSTVWXZ, shown and stored as `ABCD-EFGH`) the user types on `/device`. Rows live
//! five minutes; rows long expired are purged now and then when new ones are written.

use crate::client_auth;
use crate::oauth_error::{json_ok, OAuthError, OResult};
use crate::scopes;
use crate::Oidc;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use castellan_api::authn::hash_secret;
use castellan_api::state::St;
use castellan_domain::id::{now_micros, random_bytes};
use castellan_domain::oidc_app::grant_type;
use castellan_domain::Result;
use castellan_store::params;
use serde_json::json;

/// The path of the endpoint.
pub const PATH: &str = "/oauth/v2/device_authorization";
/// Life of a device authorization (s).
pub const EXPIRES_IN: i64 = 300;
/// Least seconds between two polls of the token endpoint.
pub const INTERVAL: i64 = 5;
/// Expired rows are kept this long (µs) to answer `expired_token`, then purged.
const KEEP_EXPIRED: i64 = 3_600 * 1_000_000;
/// The letters of user codes (no vowels: no words).
const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// A new user code, `ABCD-EFGH`: uniform letters by rejection sampling.
pub fn user_code() -> String {
    let mut out = String::with_capacity(9);
    while out.len() < 9 {
        for b in random_bytes::<16>() {
            // 240 = 12 * 20: bytes above would favour the first letters.
            if b >= 240 {
                continue;
            }
            if out.len() == 4 {
                out.push('-');
            }
            out.push(char::from(ALPHABET[usize::from(b % 20)]));
            if out.len() == 9 {
                break;
            }
        }
    }
    out
}

pub async fn device_authorization(State(o): State<Oidc>, req: Request) -> Response {
    match run(&o, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn run(o: &Oidc, req: Request) -> OResult<Response> {
    let (c, headers, form) = crate::token::read(o, req).await?;
    let p = client_auth::presented(&headers, &form)?;
    let app = client_auth::app(&o.st, &o.clients, &c, &p, PATH).await?;
    if !app.allows(grant_type::DEVICE_CODE) {
        return Err(OAuthError::unauthorized_client(
            "OIDC-dva01",
            "the client may not use the device authorization grant",
        ));
    }
    let scope = scopes::parse(form.get("scope").unwrap_or_default()).join(" ");
    let device_code = castellan_api::app::tokens::random_token();
    let hash = hash_secret(&device_code);
    let now = now_micros();
    let expires_at = now + EXPIRES_IN * 1_000_000;
    let mut user = String::new();
    // A user code already taken (about 1 in 2.5e10 per live row) is drawn again.
    for attempt in 0..3 {
        user = user_code();
        let (inst, h, u, cid, sc) = (
            c.instance.clone(),
            hash.clone(),
            user.clone(),
            app.client_id.clone(),
            scope.clone(),
        );
        let r =
            o.st.db
                .write(&hash, move |conn| {
                    conn.exec(
                        "INSERT INTO oidc_device_authorizations (instance_id, device_code_hash, user_code, client_id, scope, created_at, expires_at) \
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
                        &params![&inst, &h, &u, &cid, &sc, now, expires_at],
                    )?;
                    if random_bytes::<1>()[0] < 8 {
                        conn.exec(
                            "DELETE FROM oidc_device_authorizations WHERE expires_at < ?",
                            &params![now - KEEP_EXPIRED],
                        )?;
                    }
                    Ok(())
                })
                .await;
        match r {
            Ok(()) => break,
            Err(e) if attempt == 2 => return Err(e.into()),
            Err(e) => tracing::debug!(error = %e.text(), "device authorization: retry"),
        }
    }
    let verification_uri = c.url("/device");
    let complete = format!("{verification_uri}?user_code={}", user.replace('-', ""));
    Ok(json_ok(&json!({
        "device_code": device_code,
        "user_code": user,
        "verification_uri": verification_uri,
        "verification_uri_complete": complete,
        "expires_in": EXPIRES_IN,
        "interval": INTERVAL,
    })))
}

/// Denies the pending, unexpired device authorization `user_code` (the user refused on
/// `/device`). False when there is none.
pub async fn deny(st: &St, instance: &str, user_code: &str) -> Result<bool> {
    let (inst, code) = (instance.to_string(), user_code.to_string());
    let now = now_micros();
    st.db
        .write_single(user_code, move |c| {
            Ok(c.exec(
                "UPDATE oidc_device_authorizations SET state = 'denied' WHERE instance_id = ? AND user_code = ? AND state = 'pending' AND expires_at > ?",
                &params![&inst, &code, now],
            )? == 1)
        })
        .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_codes() {
        for _ in 0..200 {
            let c = super::user_code();
            assert_eq!(c.len(), 9);
            assert_eq!(&c[4..5], "-");
            assert!(c
                .chars()
                .filter(|x| *x != '-')
                .all(|x| super::ALPHABET.contains(&(x as u8))));
        }
    }
}
