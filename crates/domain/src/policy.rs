//! Policies: settings with an instance default and optional organisation overrides. One generic
//! mechanism (one table, one set of events per kind); each kind only defines its settings, its
//! built-in default and its validation.

use crate::error::{Error, Result};
use crate::password::Complexity;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The kinds of policies, as stored in the `policies.kind` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    PasswordComplexity,
    Lockout,
    PasswordAge,
    Privacy,
    Login,
    Label,
    Domain,
    Notification,
}

impl PolicyKind {
    pub const ALL: [PolicyKind; 8] = [
        PolicyKind::PasswordComplexity,
        PolicyKind::Lockout,
        PolicyKind::PasswordAge,
        PolicyKind::Privacy,
        PolicyKind::Login,
        PolicyKind::Label,
        PolicyKind::Domain,
        PolicyKind::Notification,
    ];

    /// The stored name of the kind.
    pub fn key(self) -> &'static str {
        match self {
            PolicyKind::PasswordComplexity => "password_complexity",
            PolicyKind::Lockout => "lockout",
            PolicyKind::PasswordAge => "password_age",
            PolicyKind::Privacy => "privacy",
            PolicyKind::Login => "login",
            PolicyKind::Label => "label",
            PolicyKind::Domain => "domain",
            PolicyKind::Notification => "notification",
        }
    }

    /// Error ids and message keys of the kind: (not found, already exists, not changed).
    pub fn error_keys(self) -> (&'static str, &'static str, &'static str) {
        match self {
            PolicyKind::PasswordComplexity => (
                "Errors.Org.PasswordComplexityPolicy.NotFound",
                "Errors.Org.PasswordComplexityPolicy.AlreadyExists",
                "Errors.Org.PasswordComplexityPolicy.NotChanged",
            ),
            PolicyKind::Lockout => (
                "Errors.Org.LockoutPolicy.NotFound",
                "Errors.Org.LockoutPolicy.AlreadyExists",
                "Errors.Org.LockoutPolicy.NotChanged",
            ),
            PolicyKind::PasswordAge => (
                "Errors.Org.PasswordAgePolicy.NotFound",
                "Errors.Org.PasswordAgePolicy.AlreadyExists",
                "Errors.Org.PasswordAgePolicy.NotChanged",
            ),
            PolicyKind::Privacy => (
                "Errors.Org.PrivacyPolicy.NotFound",
                "Errors.Org.PrivacyPolicy.AlreadyExists",
                "Errors.Org.PrivacyPolicy.NotChanged",
            ),
            PolicyKind::Login => (
                "Errors.Org.LoginPolicy.NotFound",
                "Errors.Org.LoginPolicy.AlreadyExists",
                "Errors.Org.LoginPolicy.NotChanged",
            ),
            PolicyKind::Label => (
                "Errors.Org.LabelPolicy.NotFound",
                "Errors.Org.LabelPolicy.AlreadyExists",
                "Errors.Org.LabelPolicy.NotChanged",
            ),
            PolicyKind::Domain => (
                "Errors.Org.DomainPolicy.NotFound",
                "Errors.Org.DomainPolicy.AlreadyExists",
                "Errors.Org.DomainPolicy.NotChanged",
            ),
            PolicyKind::Notification => (
                "Errors.Org.NotificationPolicy.NotFound",
                "Errors.Org.NotificationPolicy.AlreadyExists",
                "Errors.Org.NotificationPolicy.NotChanged",
            ),
        }
    }
}

/// The settings of one kind of policy.
pub trait PolicySettings:
    Serialize + DeserializeOwned + Default + PartialEq + Clone + Send + Sync + 'static
{
    const KIND: PolicyKind;
    /// Checks the values; the error names the offending field.
    fn validate(&self) -> Result<()>;
    /// Takes over from the current settings what an update request does not carry.
    fn carry_over(&mut self, _current: &Self) {}
}

fn bad(field: &str, rule: &str) -> Error {
    Error::invalid(
        "POLICY-1nv4l",
        "Errors.Policy.Invalid",
        format!("{field} {rule}"),
    )
}

/// Longest password argon2/bcrypt users can rely on (ZITADEL's upper bound of min_length).
pub const MAX_MIN_LENGTH: u32 = 72;

impl PolicySettings for Complexity {
    const KIND: PolicyKind = PolicyKind::PasswordComplexity;
    fn validate(&self) -> Result<()> {
        if self.min_length == 0 || self.min_length > MAX_MIN_LENGTH {
            return Err(bad(
                "minLength",
                &format!("must be between 1 and {MAX_MIN_LENGTH}"),
            ));
        }
        Ok(())
    }
}

/// Lockout after failed attempts (0 = never).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Lockout {
    pub max_password_attempts: u64,
    pub max_otp_attempts: u64,
    pub show_lockout_failures: bool,
}

impl Default for Lockout {
    /// ZITADEL's default: no lockout, failures are shown.
    fn default() -> Self {
        Lockout {
            max_password_attempts: 0,
            max_otp_attempts: 0,
            show_lockout_failures: true,
        }
    }
}

impl PolicySettings for Lockout {
    const KIND: PolicyKind = PolicyKind::Lockout;
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// Password expiry (0 = never).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct PasswordAge {
    pub max_age_days: u64,
    pub expire_warn_days: u64,
}

impl PolicySettings for PasswordAge {
    const KIND: PolicyKind = PolicyKind::PasswordAge;
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// Links and contacts shown to users.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Privacy {
    pub tos_link: String,
    pub privacy_link: String,
    pub help_link: String,
    pub support_email: String,
    pub docs_link: String,
    pub custom_link: String,
    pub custom_link_text: String,
}

impl Default for Privacy {
    /// ZITADEL's default links.
    fn default() -> Self {
        Privacy {
            tos_link: "https://zitadel.com/docs/legal/terms-of-service".into(),
            privacy_link: "https://zitadel.com/docs/legal/policies/privacy-policy".into(),
            help_link: String::new(),
            support_email: String::new(),
            docs_link: "https://zitadel.com/docs".into(),
            custom_link: String::new(),
            custom_link_text: String::new(),
        }
    }
}

impl PolicySettings for Privacy {
    const KIND: PolicyKind = PolicyKind::Privacy;
    fn validate(&self) -> Result<()> {
        for (field, v) in [
            ("tosLink", &self.tos_link),
            ("privacyLink", &self.privacy_link),
            ("helpLink", &self.help_link),
            ("docsLink", &self.docs_link),
            ("customLink", &self.custom_link),
            ("customLinkText", &self.custom_link_text),
        ] {
            if v.len() > 2000 {
                return Err(bad(field, "must be at most 2000 characters"));
            }
        }
        if !self.support_email.is_empty() {
            crate::validate::email("supportEmail", &self.support_email)?;
        }
        Ok(())
    }
}

/// The scalar settings of the login policy; lifetimes in seconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Login {
    pub allow_username_password: bool,
    pub allow_register: bool,
    pub allow_external_idp: bool,
    pub force_mfa: bool,
    pub force_mfa_local_only: bool,
    pub passwordless_type: i32,
    pub hide_password_reset: bool,
    pub ignore_unknown_usernames: bool,
    pub allow_domain_discovery: bool,
    pub disable_login_with_email: bool,
    pub disable_login_with_phone: bool,
    pub default_redirect_uri: String,
    pub password_check_lifetime: i64,
    pub external_login_check_lifetime: i64,
    pub mfa_init_skip_lifetime: i64,
    pub second_factor_check_lifetime: i64,
    pub multi_factor_check_lifetime: i64,
    /// Allowed second factors (`SecondFactorType` numbers), in the order they were added.
    pub second_factors: Vec<i32>,
    /// Allowed multi factors (`MultiFactorType` numbers).
    pub multi_factors: Vec<i32>,
}

impl Default for Login {
    /// ZITADEL's default login policy.
    fn default() -> Self {
        Login {
            allow_username_password: true,
            allow_register: true,
            allow_external_idp: true,
            force_mfa: false,
            force_mfa_local_only: false,
            passwordless_type: 1,
            hide_password_reset: false,
            ignore_unknown_usernames: false,
            allow_domain_discovery: true,
            disable_login_with_email: false,
            disable_login_with_phone: false,
            default_redirect_uri: String::new(),
            password_check_lifetime: 240 * 3600,
            external_login_check_lifetime: 240 * 3600,
            mfa_init_skip_lifetime: 720 * 3600,
            second_factor_check_lifetime: 18 * 3600,
            multi_factor_check_lifetime: 12 * 3600,
            second_factors: vec![SECOND_FACTOR_OTP, SECOND_FACTOR_U2F],
            multi_factors: vec![MULTI_FACTOR_U2F_WITH_VERIFICATION],
        }
    }
}

/// `SecondFactorType` numbers.
pub const SECOND_FACTOR_OTP: i32 = 1;
pub const SECOND_FACTOR_U2F: i32 = 2;
pub const SECOND_FACTOR_OTP_EMAIL: i32 = 3;
pub const SECOND_FACTOR_OTP_SMS: i32 = 4;
/// `MultiFactorType` numbers.
pub const MULTI_FACTOR_U2F_WITH_VERIFICATION: i32 = 1;

/// Whether `t` names a second factor type.
pub fn is_second_factor(t: i32) -> bool {
    (SECOND_FACTOR_OTP..=SECOND_FACTOR_OTP_SMS).contains(&t)
}

/// Whether `t` names a multi factor type.
pub fn is_multi_factor(t: i32) -> bool {
    t == MULTI_FACTOR_U2F_WITH_VERIFICATION
}

impl PolicySettings for Login {
    const KIND: PolicyKind = PolicyKind::Login;
    /// The factor lists are managed by their own RPCs, not by updates of the policy.
    fn carry_over(&mut self, current: &Self) {
        self.second_factors = current.second_factors.clone();
        self.multi_factors = current.multi_factors.clone();
    }
    fn validate(&self) -> Result<()> {
        if let Some(t) = self.second_factors.iter().find(|t| !is_second_factor(**t)) {
            return Err(bad(
                "secondFactors",
                &format!("contains the unknown type {t}"),
            ));
        }
        if let Some(t) = self.multi_factors.iter().find(|t| !is_multi_factor(**t)) {
            return Err(bad(
                "multiFactors",
                &format!("contains the unknown type {t}"),
            ));
        }
        if !(0..=1).contains(&self.passwordless_type) {
            return Err(bad("passwordlessType", "is unknown"));
        }
        for (field, v) in [
            ("passwordCheckLifetime", self.password_check_lifetime),
            (
                "externalLoginCheckLifetime",
                self.external_login_check_lifetime,
            ),
            ("mfaInitSkipLifetime", self.mfa_init_skip_lifetime),
            (
                "secondFactorCheckLifetime",
                self.second_factor_check_lifetime,
            ),
            ("multiFactorCheckLifetime", self.multi_factor_check_lifetime),
        ] {
            if v < 0 {
                return Err(bad(field, "must not be negative"));
            }
        }
        if self.default_redirect_uri.len() > 2000 {
            return Err(bad("defaultRedirectUri", "must be at most 2000 characters"));
        }
        Ok(())
    }
}

/// Branding (ZITADEL's label policy) without assets: colours as `#rrggbb` (or empty), the
/// theme mode as ZITADEL's `ThemeMode` number.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Label {
    pub primary_color: String,
    pub background_color: String,
    pub warn_color: String,
    pub font_color: String,
    pub primary_color_dark: String,
    pub background_color_dark: String,
    pub warn_color_dark: String,
    pub font_color_dark: String,
    pub hide_login_name_suffix: bool,
    pub error_msg_popup: bool,
    pub disable_watermark: bool,
    pub theme_mode: i32,
}

impl Default for Label {
    /// ZITADEL's default branding.
    fn default() -> Self {
        Label {
            primary_color: "#5469d4".into(),
            background_color: "#fafafa".into(),
            warn_color: "#cd3d56".into(),
            font_color: "#000000".into(),
            primary_color_dark: "#2073c4".into(),
            background_color_dark: "#111827".into(),
            warn_color_dark: "#ff3b5b".into(),
            font_color_dark: "#ffffff".into(),
            hide_login_name_suffix: false,
            error_msg_popup: false,
            disable_watermark: false,
            theme_mode: 1,
        }
    }
}

/// Whether `v` is empty or a `#rgb` / `#rrggbb` colour.
fn is_color(v: &str) -> bool {
    v.is_empty()
        || (v.starts_with('#')
            && matches!(v.len(), 4 | 7)
            && v[1..].chars().all(|c| c.is_ascii_hexdigit()))
}

impl PolicySettings for Label {
    const KIND: PolicyKind = PolicyKind::Label;
    fn validate(&self) -> Result<()> {
        for (field, v) in [
            ("primaryColor", &self.primary_color),
            ("backgroundColor", &self.background_color),
            ("warnColor", &self.warn_color),
            ("fontColor", &self.font_color),
            ("primaryColorDark", &self.primary_color_dark),
            ("backgroundColorDark", &self.background_color_dark),
            ("warnColorDark", &self.warn_color_dark),
            ("fontColorDark", &self.font_color_dark),
        ] {
            if !is_color(v) {
                return Err(bad(field, "must be a colour like #5469d4"));
            }
        }
        if !(0..=3).contains(&self.theme_mode) {
            return Err(bad("themeMode", "is unknown"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bounds_checked() {
        assert!(Complexity::default().validate().is_ok());
        assert!(Lockout::default().validate().is_ok());
        assert!(PasswordAge::default().validate().is_ok());
        assert!(Privacy::default().validate().is_ok());
        assert!(Login::default().validate().is_ok());
        assert!(Label::default().validate().is_ok());
        let bad_color = Label {
            warn_color: "red".into(),
            ..Default::default()
        };
        assert!(bad_color.validate().is_err());
        for min_length in [0, 73] {
            let c = Complexity {
                min_length,
                ..Default::default()
            };
            assert!(c.validate().is_err());
        }
    }
}

/// How domains work in an organisation (ZITADEL's domain policy, formerly "org IAM policy").
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Domain {
    /// Login names are `username@<org primary domain>` and user names unique per organisation.
    pub user_login_must_be_domain: bool,
    /// Domains added to organisations must be validated before they count as verified.
    pub validate_org_domains: bool,
    /// The SMTP sender address must be a domain of the instance.
    pub smtp_sender_address_matches_instance_domain: bool,
}

impl PolicySettings for Domain {
    const KIND: PolicyKind = PolicyKind::Domain;
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// Which notifications users get.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Notification {
    /// Tell users when their password was changed.
    pub password_change: bool,
}

impl Default for Notification {
    /// ZITADEL's default: password change notifications on.
    fn default() -> Self {
        Notification {
            password_change: true,
        }
    }
}

impl PolicySettings for Notification {
    const KIND: PolicyKind = PolicyKind::Notification;
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}
