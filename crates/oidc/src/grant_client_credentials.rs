//! `grant_type=client_credentials` for machine users (ZITADEL): the client id is the machine's
//! user name, the secret the one GenerateMachineSecret returned. An access token only: no
//! refresh token, no ID token. Writes nothing.

use crate::client_auth;
use crate::mint;
use crate::oauth_error::{json_ok, OResult};
use crate::token::{Call, Form};
use crate::Oidc;
use axum::response::Response;
use http::HeaderMap;

pub async fn run(o: &Oidc, c: &Call, headers: &HeaderMap, form: &Form) -> OResult<Response> {
    let p = client_auth::presented(headers, form)?;
    let m = client_auth::machine_secret(&o.st, &o.clients, c, &p).await?;
    let g = mint::machine_grant(c, &m, form.get("scope").unwrap_or_default());
    let s = crate::settings::of_instance(&o.st, &c.instance).await?;
    let at = mint::access_token(&o.st, &g, &s).await?;
    Ok(json_ok(&mint::response(&at, None, None)))
}
