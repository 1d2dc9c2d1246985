//! The instance's OIDC settings (admin API `GetOIDCSettings` / `AddOIDCSettings` /
//! `UpdateOIDCSettings`): token lifetimes and Castellan's extensions (`flat_roles_claim`,
//! `token_exchange_enabled`, `pkce_plain_allowed`). Until an instance stores its own, ZITADEL's defaults apply.

use castellan_api::error::R;
use castellan_api::state::St;

pub use castellan_domain::oidc_settings::OidcSettings;

/// The settings of `instance`, from memory while nothing affecting them was committed.
pub async fn of_instance(st: &St, instance: &str) -> R<OidcSettings> {
    castellan_api::app::oidc_settings::of_instance(st, instance).await
}
