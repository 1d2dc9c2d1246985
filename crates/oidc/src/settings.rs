//! The instance's OIDC settings (admin API `GetOIDCSettings` / `UpdateOIDCSettings`): token
//! lifetimes. Until an instance stores its own, ZITADEL's defaults apply.

use castellan_api::error::R;
use castellan_api::state::St;
use std::time::Duration;

/// Lifetimes of what the provider issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OidcSettings {
    pub access_token_lifetime: Duration,
    pub id_token_lifetime: Duration,
    /// A refresh token unused this long expires.
    pub refresh_token_idle_expiration: Duration,
    /// A refresh-token family ends this long after the login, used or not.
    pub refresh_token_expiration: Duration,
}

impl Default for OidcSettings {
    /// ZITADEL's defaults: 12 h, 12 h, 30 days idle, 90 days absolute.
    fn default() -> Self {
        OidcSettings {
            access_token_lifetime: Duration::from_secs(12 * 3600),
            id_token_lifetime: Duration::from_secs(12 * 3600),
            refresh_token_idle_expiration: Duration::from_secs(720 * 3600),
            refresh_token_expiration: Duration::from_secs(2160 * 3600),
        }
    }
}

/// The settings of `instance`.
pub async fn of_instance(_st: &St, _instance: &str) -> R<OidcSettings> {
    Ok(OidcSettings::default())
}
