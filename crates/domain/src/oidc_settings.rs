//! The instance's OIDC settings: token lifetimes (ZITADEL's `OIDCSettings`) and Castellan's
//! extensions (a flat `roles` claim, the token exchange grant, PKCE `plain`), with their
//! validation.

use crate::{Error, Result};
use std::time::Duration;

/// Longest lifetime any setting may have.
pub const MAX_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

/// What the provider issues under, per instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OidcSettings {
    pub access_token_lifetime: Duration,
    pub id_token_lifetime: Duration,
    /// A refresh token unused this long expires.
    pub refresh_token_idle_expiration: Duration,
    /// A refresh-token family ends this long after the login, used or not.
    pub refresh_token_expiration: Duration,
    /// Also emit a flat `roles` array claim (Castellan's extension; ZITADEL issue #3997).
    pub flat_roles_claim: bool,
    /// Allow the RFC 8693 token exchange grant (Castellan's extension).
    pub token_exchange_enabled: bool,
    /// Accept PKCE challenges with the `plain` method (or no method, RFC 7636 4.3); otherwise
    /// only `S256` (Castellan's extension).
    pub pkce_plain_allowed: bool,
}

impl Default for OidcSettings {
    /// ZITADEL's defaults: 12 h, 12 h, 30 days idle, 90 days absolute; extensions off.
    fn default() -> Self {
        OidcSettings {
            access_token_lifetime: Duration::from_secs(12 * 3600),
            id_token_lifetime: Duration::from_secs(12 * 3600),
            refresh_token_idle_expiration: Duration::from_secs(720 * 3600),
            refresh_token_expiration: Duration::from_secs(2160 * 3600),
            flat_roles_claim: false,
            token_exchange_enabled: false,
            pkce_plain_allowed: false,
        }
    }
}

fn invalid(detail: String) -> Error {
    Error::invalid("OIDC-s3tt1", "Errors.OIDCSettings.Invalid", detail)
}

impl OidcSettings {
    /// Every lifetime positive and at most [`MAX_LIFETIME`]; the absolute refresh expiration
    /// not shorter than the idle one.
    pub fn validate(&self) -> Result<()> {
        for (name, d) in [
            ("access_token_lifetime", self.access_token_lifetime),
            ("id_token_lifetime", self.id_token_lifetime),
            (
                "refresh_token_idle_expiration",
                self.refresh_token_idle_expiration,
            ),
            ("refresh_token_expiration", self.refresh_token_expiration),
        ] {
            if d.is_zero() {
                return Err(invalid(format!("{name} must be greater than 0")));
            }
            if d > MAX_LIFETIME {
                return Err(invalid(format!(
                    "{name} must be at most {}h",
                    MAX_LIFETIME.as_secs() / 3600
                )));
            }
        }
        if self.refresh_token_expiration < self.refresh_token_idle_expiration {
            return Err(invalid(
                "refresh_token_expiration must not be shorter than refresh_token_idle_expiration"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The event form (seconds).
    pub fn to_event(&self) -> crate::events::InstanceOidcSettings {
        crate::events::InstanceOidcSettings {
            access_token_lifetime_secs: self.access_token_lifetime.as_secs(),
            id_token_lifetime_secs: self.id_token_lifetime.as_secs(),
            refresh_token_idle_expiration_secs: self.refresh_token_idle_expiration.as_secs(),
            refresh_token_expiration_secs: self.refresh_token_expiration.as_secs(),
            flat_roles_claim: self.flat_roles_claim,
            token_exchange_enabled: self.token_exchange_enabled,
            pkce_plain_allowed: self.pkce_plain_allowed,
        }
    }
}

/// A protobuf `Duration` (seconds, nanos) as a `Duration`; negative values become an error
/// naming `field`.
pub fn duration_of(field: &str, seconds: i64, nanos: i32) -> Result<Duration> {
    if seconds < 0 || nanos < 0 {
        return Err(invalid(format!("{field} must be greater than 0")));
    }
    Ok(Duration::new(seconds as u64, nanos as u32))
}

impl From<&crate::events::InstanceOidcSettings> for OidcSettings {
    fn from(e: &crate::events::InstanceOidcSettings) -> Self {
        OidcSettings {
            access_token_lifetime: Duration::from_secs(e.access_token_lifetime_secs),
            id_token_lifetime: Duration::from_secs(e.id_token_lifetime_secs),
            refresh_token_idle_expiration: Duration::from_secs(
                e.refresh_token_idle_expiration_secs,
            ),
            refresh_token_expiration: Duration::from_secs(e.refresh_token_expiration_secs),
            flat_roles_claim: e.flat_roles_claim,
            token_exchange_enabled: e.token_exchange_enabled,
            pkce_plain_allowed: e.pkce_plain_allowed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        assert!(OidcSettings::default().validate().is_ok());
        let mut s = OidcSettings {
            access_token_lifetime: Duration::ZERO,
            ..OidcSettings::default()
        };
        let e = s.validate().expect_err("zero");
        assert!(e.text().contains("access_token_lifetime"), "{}", e.text());
        s.access_token_lifetime = Duration::from_secs(60);
        s.refresh_token_expiration = Duration::from_secs(10);
        let e = s.validate().expect_err("abs < idle");
        assert!(
            e.text().contains("refresh_token_expiration"),
            "{}",
            e.text()
        );
        s.refresh_token_expiration = MAX_LIFETIME + Duration::from_secs(1);
        assert!(s.validate().is_err());
        let e = OidcSettings::from(&OidcSettings::default().to_event());
        assert_eq!(e, OidcSettings::default());
    }
}
