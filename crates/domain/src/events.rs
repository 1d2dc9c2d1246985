//! Every change is an event. This module defines the event payloads; the event type strings
//! follow ZITADEL's (`user.human.added`, `org.member.added`, ...).

use crate::assets::{Asset, LabelSlot};
use crate::oidc_app::{Login, OidcSettings};
use crate::policy::PolicyKind;
use serde::{Deserialize, Serialize};

/// Aggregate types.
pub mod agg {
    pub const INSTANCE: &str = "instance";
    pub const ORG: &str = "org";
    pub const USER: &str = "user";
    pub const PROJECT: &str = "project";
    pub const USER_GRANT: &str = "usergrant";
    pub const KEY_PAIR: &str = "key_pair";
}

/// An event's payload, tagged by its event type.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "eventType")]
pub enum Payload {
    #[serde(rename = "instance.added")]
    InstanceAdded { name: String },
    /// A token signing key of the instance (aggregate `key_pair`): the private half sealed
    /// with the masterkey, the public half as base64 SubjectPublicKeyInfo; expiries in µs.
    #[serde(rename = "key_pair.added")]
    KeyPairAdded {
        algorithm: String,
        private_key: String,
        public_key: String,
        private_expiry: i64,
        public_expiry: i64,
    },
    #[serde(rename = "instance.changed")]
    InstanceChanged { name: String },
    #[serde(rename = "instance.removed")]
    InstanceRemoved { name: String },
    #[serde(rename = "instance.domain.added")]
    InstanceDomainAdded { domain: String, generated: bool },
    #[serde(rename = "instance.domain.removed")]
    InstanceDomainRemoved { domain: String },
    #[serde(rename = "instance.domain.primary.set")]
    InstanceDomainPrimarySet { domain: String },
    #[serde(rename = "instance.trusted_domain.added")]
    InstanceTrustedDomainAdded { domain: String },
    #[serde(rename = "instance.trusted_domain.removed")]
    InstanceTrustedDomainRemoved { domain: String },
    #[serde(rename = "instance.default.language.set")]
    InstanceDefaultLanguageSet { language: String },
    #[serde(rename = "instance.default.org.set")]
    InstanceDefaultOrgSet { org_id: String },
    #[serde(rename = "instance.member.added")]
    InstanceMemberAdded { user_id: String, roles: Vec<String> },
    #[serde(rename = "instance.member.changed")]
    InstanceMemberChanged { user_id: String, roles: Vec<String> },
    #[serde(rename = "instance.member.removed")]
    InstanceMemberRemoved { user_id: String },
    #[serde(rename = "instance.smtp.config.added")]
    SmtpConfigAdded(SmtpConfig),
    /// All settings after the change; `password` is `None` when it did not change.
    #[serde(rename = "instance.smtp.config.changed")]
    SmtpConfigChanged(SmtpConfig),
    /// `password` is the sealed new password (see `crypto`).
    #[serde(rename = "instance.smtp.config.password.changed")]
    SmtpConfigPasswordChanged { id: String, password: String },
    /// Activating one configuration deactivates the one active before.
    #[serde(rename = "instance.smtp.config.activated")]
    SmtpConfigActivated { id: String },
    #[serde(rename = "instance.smtp.config.deactivated")]
    SmtpConfigDeactivated { id: String },
    #[serde(rename = "instance.smtp.config.removed")]
    SmtpConfigRemoved { id: String },
    #[serde(rename = "instance.secret.generator.added")]
    SecretGeneratorAdded(SecretGenerator),
    #[serde(rename = "instance.secret.generator.changed")]
    SecretGeneratorChanged(SecretGenerator),
    #[serde(rename = "instance.oidc.settings.added")]
    OidcSettingsAdded(InstanceOidcSettings),
    #[serde(rename = "instance.oidc.settings.changed")]
    OidcSettingsChanged(InstanceOidcSettings),
    /// The whole security policy after the change.
    #[serde(rename = "instance.policy.security.set")]
    SecurityPolicySet(crate::security_policy::SecurityPolicy),

    #[serde(rename = "org.added")]
    OrgAdded { name: String },
    #[serde(rename = "org.changed")]
    OrgChanged { name: String },
    #[serde(rename = "org.deactivated")]
    OrgDeactivated {},
    #[serde(rename = "org.reactivated")]
    OrgReactivated {},
    #[serde(rename = "org.removed")]
    OrgRemoved { name: String },
    #[serde(rename = "org.domain.added")]
    OrgDomainAdded { domain: String, generated: bool },
    #[serde(rename = "org.domain.verified")]
    OrgDomainVerified { domain: String },
    /// A validation token was generated (`validation_type`: 1 HTTP, 2 DNS). The token is
    /// published by the organisation anyway, so it is stored as is.
    #[serde(rename = "org.domain.verification.added")]
    OrgDomainVerificationAdded {
        domain: String,
        validation_type: i32,
        validation_code: String,
    },
    #[serde(rename = "org.domain.verification.failed")]
    OrgDomainVerificationFailed { domain: String },
    #[serde(rename = "org.domain.primary.set")]
    OrgDomainPrimarySet { domain: String },
    #[serde(rename = "org.domain.removed")]
    OrgDomainRemoved { domain: String },
    #[serde(rename = "org.member.added")]
    OrgMemberAdded { user_id: String, roles: Vec<String> },
    #[serde(rename = "org.member.changed")]
    OrgMemberChanged { user_id: String, roles: Vec<String> },
    #[serde(rename = "org.member.removed")]
    OrgMemberRemoved { user_id: String },
    #[serde(rename = "org.metadata.set")]
    OrgMetadataSet { key: String, value: String },
    #[serde(rename = "org.metadata.removed")]
    OrgMetadataRemoved { key: String },

    #[serde(rename = "user.human.added")]
    HumanAdded(HumanAdded),
    #[serde(rename = "user.machine.added")]
    MachineAdded {
        user_name: String,
        login_name: String,
        name: String,
        description: String,
        access_token_type: i32,
    },
    #[serde(rename = "user.username.changed")]
    UsernameChanged {
        user_name: String,
        login_name: String,
    },
    /// Another organisation verified the domain this user name ended in: the user got a
    /// temporary user name.
    #[serde(rename = "user.domain.claimed")]
    UserDomainClaimed {
        user_name: String,
        old_user_name: String,
        login_name: String,
    },
    #[serde(rename = "user.deactivated")]
    UserDeactivated {},
    #[serde(rename = "user.reactivated")]
    UserReactivated {},
    #[serde(rename = "user.locked")]
    UserLocked {},
    #[serde(rename = "user.unlocked")]
    UserUnlocked {},
    #[serde(rename = "user.removed")]
    UserRemoved { user_name: String },
    #[serde(rename = "user.human.profile.changed")]
    ProfileChanged(Profile),
    #[serde(rename = "user.human.email.changed")]
    EmailChanged { email: String, verified: bool },
    #[serde(rename = "user.human.phone.changed")]
    PhoneChanged { phone: String, verified: bool },
    #[serde(rename = "user.human.phone.removed")]
    PhoneRemoved {},
    #[serde(rename = "user.human.password.changed")]
    PasswordChanged { hash: String, change_required: bool },
    /// A wrong password at the login (counts towards the lockout policy).
    #[serde(rename = "user.human.password.check.failed")]
    PasswordCheckFailed {},
    /// A right password at the login (resets the failure count).
    #[serde(rename = "user.human.password.check.succeeded")]
    PasswordCheckSucceeded {},
    #[serde(rename = "user.machine.changed")]
    MachineChanged {
        name: String,
        description: String,
        access_token_type: i32,
    },
    #[serde(rename = "user.machine.secret.set")]
    MachineSecretSet { hash: String },
    #[serde(rename = "user.machine.secret.removed")]
    MachineSecretRemoved {},
    #[serde(rename = "user.metadata.set")]
    UserMetadataSet { key: String, value: String },
    #[serde(rename = "user.metadata.removed")]
    UserMetadataRemoved { key: String },
    #[serde(rename = "user.personal.access.token.added")]
    PatAdded {
        token_id: String,
        token_hash: String,
        expiration: i64,
        scopes: Vec<String>,
    },
    #[serde(rename = "user.personal.access.token.removed")]
    PatRemoved { token_id: String },
    #[serde(rename = "user.machine.key.added")]
    MachineKeyAdded {
        key_id: String,
        key_type: i32,
        expiration: i64,
        public_key: String,
    },
    #[serde(rename = "user.machine.key.removed")]
    MachineKeyRemoved { key_id: String },

    #[serde(rename = "project.added")]
    ProjectAdded(ProjectSettings),
    #[serde(rename = "project.changed")]
    ProjectChanged(ProjectSettings),
    #[serde(rename = "project.deactivated")]
    ProjectDeactivated {},
    #[serde(rename = "project.reactivated")]
    ProjectReactivated {},
    #[serde(rename = "project.removed")]
    ProjectRemoved { name: String },
    #[serde(rename = "project.role.added")]
    ProjectRoleAdded {
        key: String,
        display_name: String,
        group: String,
    },
    #[serde(rename = "project.role.changed")]
    ProjectRoleChanged {
        key: String,
        display_name: String,
        group: String,
    },
    #[serde(rename = "project.role.removed")]
    ProjectRoleRemoved { key: String },
    #[serde(rename = "project.member.added")]
    ProjectMemberAdded { user_id: String, roles: Vec<String> },
    #[serde(rename = "project.member.changed")]
    ProjectMemberChanged { user_id: String, roles: Vec<String> },
    #[serde(rename = "project.member.removed")]
    ProjectMemberRemoved { user_id: String },
    #[serde(rename = "project.grant.added")]
    ProjectGrantAdded {
        grant_id: String,
        granted_org_id: String,
        role_keys: Vec<String>,
    },
    #[serde(rename = "project.grant.changed")]
    ProjectGrantChanged {
        grant_id: String,
        role_keys: Vec<String>,
    },
    /// The grant's role keys after a role of the project was removed.
    #[serde(rename = "project.grant.cascade.changed")]
    ProjectGrantCascadeChanged {
        grant_id: String,
        role_keys: Vec<String>,
    },
    #[serde(rename = "project.grant.deactivated")]
    ProjectGrantDeactivated { grant_id: String },
    #[serde(rename = "project.grant.reactivated")]
    ProjectGrantReactivated { grant_id: String },
    #[serde(rename = "project.grant.removed")]
    ProjectGrantRemoved {
        grant_id: String,
        granted_org_id: String,
    },
    #[serde(rename = "project.grant.member.added")]
    ProjectGrantMemberAdded {
        grant_id: String,
        user_id: String,
        roles: Vec<String>,
    },
    #[serde(rename = "project.grant.member.changed")]
    ProjectGrantMemberChanged {
        grant_id: String,
        user_id: String,
        roles: Vec<String>,
    },
    #[serde(rename = "project.grant.member.removed")]
    ProjectGrantMemberRemoved { grant_id: String, user_id: String },

    #[serde(rename = "project.application.added")]
    AppAdded { app_id: String, name: String },
    #[serde(rename = "project.application.changed")]
    AppChanged { app_id: String, name: String },
    #[serde(rename = "project.application.deactivated")]
    AppDeactivated { app_id: String },
    #[serde(rename = "project.application.reactivated")]
    AppReactivated { app_id: String },
    #[serde(rename = "project.application.removed")]
    AppRemoved { app_id: String, name: String },
    /// `hash` is the SHA-256 of the client secret, empty when the auth method needs none.
    #[serde(rename = "project.application.config.oidc.added")]
    OidcConfigAdded {
        app_id: String,
        client_id: String,
        hash: String,
        settings: OidcSettings,
    },
    #[serde(rename = "project.application.config.oidc.changed")]
    OidcConfigChanged {
        app_id: String,
        settings: OidcSettings,
    },
    #[serde(rename = "project.application.config.oidc.secret.changed")]
    OidcSecretChanged { app_id: String, hash: String },
    #[serde(rename = "project.application.config.api.added")]
    ApiConfigAdded {
        app_id: String,
        client_id: String,
        hash: String,
        auth_method_type: i32,
    },
    #[serde(rename = "project.application.config.api.changed")]
    ApiConfigChanged {
        app_id: String,
        auth_method_type: i32,
    },
    #[serde(rename = "project.application.config.api.secret.changed")]
    ApiSecretChanged { app_id: String, hash: String },
    #[serde(rename = "project.application.config.saml.added")]
    SamlConfigAdded(SamlConfig),
    #[serde(rename = "project.application.config.saml.changed")]
    SamlConfigChanged(SamlConfig),
    #[serde(rename = "project.application.oidc.key.added")]
    AppKeyAdded {
        app_id: String,
        client_id: String,
        key_id: String,
        key_type: i32,
        expiration: i64,
        public_key: String,
    },
    #[serde(rename = "project.application.oidc.key.removed")]
    AppKeyRemoved { app_id: String, key_id: String },

    // Policies: the settings object of the kind (see `policy`).
    #[serde(rename = "instance.policy.password.complexity.added")]
    InstancePasswordComplexityPolicyAdded(serde_json::Value),
    #[serde(rename = "instance.policy.password.complexity.changed")]
    InstancePasswordComplexityPolicyChanged(serde_json::Value),
    #[serde(rename = "org.policy.password.complexity.added")]
    OrgPasswordComplexityPolicyAdded(serde_json::Value),
    #[serde(rename = "org.policy.password.complexity.changed")]
    OrgPasswordComplexityPolicyChanged(serde_json::Value),
    #[serde(rename = "org.policy.password.complexity.removed")]
    OrgPasswordComplexityPolicyRemoved(serde_json::Value),
    #[serde(rename = "instance.policy.lockout.added")]
    InstanceLockoutPolicyAdded(serde_json::Value),
    #[serde(rename = "instance.policy.lockout.changed")]
    InstanceLockoutPolicyChanged(serde_json::Value),
    #[serde(rename = "org.policy.lockout.added")]
    OrgLockoutPolicyAdded(serde_json::Value),
    #[serde(rename = "org.policy.lockout.changed")]
    OrgLockoutPolicyChanged(serde_json::Value),
    #[serde(rename = "org.policy.lockout.removed")]
    OrgLockoutPolicyRemoved(serde_json::Value),
    #[serde(rename = "instance.policy.password.age.added")]
    InstancePasswordAgePolicyAdded(serde_json::Value),
    #[serde(rename = "instance.policy.password.age.changed")]
    InstancePasswordAgePolicyChanged(serde_json::Value),
    #[serde(rename = "org.policy.password.age.added")]
    OrgPasswordAgePolicyAdded(serde_json::Value),
    #[serde(rename = "org.policy.password.age.changed")]
    OrgPasswordAgePolicyChanged(serde_json::Value),
    #[serde(rename = "org.policy.password.age.removed")]
    OrgPasswordAgePolicyRemoved(serde_json::Value),
    #[serde(rename = "instance.policy.privacy.added")]
    InstancePrivacyPolicyAdded(serde_json::Value),
    #[serde(rename = "instance.policy.privacy.changed")]
    InstancePrivacyPolicyChanged(serde_json::Value),
    #[serde(rename = "org.policy.privacy.added")]
    OrgPrivacyPolicyAdded(serde_json::Value),
    #[serde(rename = "org.policy.privacy.changed")]
    OrgPrivacyPolicyChanged(serde_json::Value),
    #[serde(rename = "org.policy.privacy.removed")]
    OrgPrivacyPolicyRemoved(serde_json::Value),
    #[serde(rename = "instance.policy.login.added")]
    InstanceLoginPolicyAdded(serde_json::Value),
    #[serde(rename = "instance.policy.login.changed")]
    InstanceLoginPolicyChanged(serde_json::Value),
    #[serde(rename = "org.policy.login.added")]
    OrgLoginPolicyAdded(serde_json::Value),
    #[serde(rename = "org.policy.login.changed")]
    OrgLoginPolicyChanged(serde_json::Value),
    #[serde(rename = "org.policy.login.removed")]
    OrgLoginPolicyRemoved(serde_json::Value),
    #[serde(rename = "instance.policy.label.added")]
    InstanceLabelPolicyAdded(serde_json::Value),
    #[serde(rename = "instance.policy.label.changed")]
    InstanceLabelPolicyChanged(serde_json::Value),
    #[serde(rename = "org.policy.label.added")]
    OrgLabelPolicyAdded(serde_json::Value),
    #[serde(rename = "org.policy.label.changed")]
    OrgLabelPolicyChanged(serde_json::Value),
    #[serde(rename = "org.policy.label.removed")]
    OrgLabelPolicyRemoved(serde_json::Value),
    #[serde(rename = "instance.policy.domain.added")]
    InstanceDomainPolicyAdded(serde_json::Value),
    #[serde(rename = "instance.policy.domain.changed")]
    InstanceDomainPolicyChanged(serde_json::Value),
    #[serde(rename = "org.policy.domain.added")]
    OrgDomainPolicyAdded(serde_json::Value),
    #[serde(rename = "org.policy.domain.changed")]
    OrgDomainPolicyChanged(serde_json::Value),
    #[serde(rename = "org.policy.domain.removed")]
    OrgDomainPolicyRemoved(serde_json::Value),
    #[serde(rename = "instance.policy.notification.added")]
    InstanceNotificationPolicyAdded(serde_json::Value),
    #[serde(rename = "instance.policy.notification.changed")]
    InstanceNotificationPolicyChanged(serde_json::Value),
    #[serde(rename = "org.policy.notification.added")]
    OrgNotificationPolicyAdded(serde_json::Value),
    #[serde(rename = "org.policy.notification.changed")]
    OrgNotificationPolicyChanged(serde_json::Value),
    #[serde(rename = "org.policy.notification.removed")]
    OrgNotificationPolicyRemoved(serde_json::Value),
    #[serde(rename = "instance.policy.login.secondfactor.added")]
    InstanceSecondFactorAdded { mfa_type: i32 },
    #[serde(rename = "instance.policy.login.secondfactor.removed")]
    InstanceSecondFactorRemoved { mfa_type: i32 },
    #[serde(rename = "instance.policy.login.multifactor.added")]
    InstanceMultiFactorAdded { mfa_type: i32 },
    #[serde(rename = "instance.policy.login.multifactor.removed")]
    InstanceMultiFactorRemoved { mfa_type: i32 },
    #[serde(rename = "org.policy.login.secondfactor.added")]
    OrgSecondFactorAdded { mfa_type: i32 },
    #[serde(rename = "org.policy.login.secondfactor.removed")]
    OrgSecondFactorRemoved { mfa_type: i32 },
    #[serde(rename = "org.policy.login.multifactor.added")]
    OrgMultiFactorAdded { mfa_type: i32 },
    #[serde(rename = "org.policy.login.multifactor.removed")]
    OrgMultiFactorRemoved { mfa_type: i32 },

    // Label policy: activation of the preview and its files (`assets`).
    #[serde(rename = "instance.policy.label.activated")]
    InstanceLabelPolicyActivated {},
    #[serde(rename = "org.policy.label.activated")]
    OrgLabelPolicyActivated {},
    #[serde(rename = "instance.policy.label.logo.added")]
    InstanceLabelPolicyLogoAdded(Asset),
    #[serde(rename = "instance.policy.label.logo.removed")]
    InstanceLabelPolicyLogoRemoved { store_key: String },
    #[serde(rename = "instance.policy.label.logo.dark.added")]
    InstanceLabelPolicyLogoDarkAdded(Asset),
    #[serde(rename = "instance.policy.label.logo.dark.removed")]
    InstanceLabelPolicyLogoDarkRemoved { store_key: String },
    #[serde(rename = "instance.policy.label.icon.added")]
    InstanceLabelPolicyIconAdded(Asset),
    #[serde(rename = "instance.policy.label.icon.removed")]
    InstanceLabelPolicyIconRemoved { store_key: String },
    #[serde(rename = "instance.policy.label.icon.dark.added")]
    InstanceLabelPolicyIconDarkAdded(Asset),
    #[serde(rename = "instance.policy.label.icon.dark.removed")]
    InstanceLabelPolicyIconDarkRemoved { store_key: String },
    #[serde(rename = "instance.policy.label.font.added")]
    InstanceLabelPolicyFontAdded(Asset),
    #[serde(rename = "instance.policy.label.font.removed")]
    InstanceLabelPolicyFontRemoved { store_key: String },
    #[serde(rename = "org.policy.label.logo.added")]
    OrgLabelPolicyLogoAdded(Asset),
    #[serde(rename = "org.policy.label.logo.removed")]
    OrgLabelPolicyLogoRemoved { store_key: String },
    #[serde(rename = "org.policy.label.logo.dark.added")]
    OrgLabelPolicyLogoDarkAdded(Asset),
    #[serde(rename = "org.policy.label.logo.dark.removed")]
    OrgLabelPolicyLogoDarkRemoved { store_key: String },
    #[serde(rename = "org.policy.label.icon.added")]
    OrgLabelPolicyIconAdded(Asset),
    #[serde(rename = "org.policy.label.icon.removed")]
    OrgLabelPolicyIconRemoved { store_key: String },
    #[serde(rename = "org.policy.label.icon.dark.added")]
    OrgLabelPolicyIconDarkAdded(Asset),
    #[serde(rename = "org.policy.label.icon.dark.removed")]
    OrgLabelPolicyIconDarkRemoved { store_key: String },
    #[serde(rename = "org.policy.label.font.added")]
    OrgLabelPolicyFontAdded(Asset),
    #[serde(rename = "org.policy.label.font.removed")]
    OrgLabelPolicyFontRemoved { store_key: String },
    #[serde(rename = "user.human.avatar.added")]
    HumanAvatarAdded(Asset),
    #[serde(rename = "user.human.avatar.removed")]
    HumanAvatarRemoved { store_key: String },

    #[serde(rename = "user.grant.added")]
    UserGrantAdded {
        user_id: String,
        project_id: String,
        project_grant_id: String,
        role_keys: Vec<String>,
    },
    #[serde(rename = "user.grant.changed")]
    UserGrantChanged { role_keys: Vec<String> },
    /// The grant's role keys after a role left the project or its project grant.
    #[serde(rename = "user.grant.cascade.changed")]
    UserGrantCascadeChanged { role_keys: Vec<String> },
    #[serde(rename = "user.grant.deactivated")]
    UserGrantDeactivated {},
    #[serde(rename = "user.grant.reactivated")]
    UserGrantReactivated {},
    #[serde(rename = "user.grant.removed")]
    UserGrantRemoved {
        user_id: String,
        project_id: String,
        project_grant_id: String,
    },
}

/// The settable part of a project (`project.added`, `project.changed` carry all of it).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProjectSettings {
    pub name: String,
    pub project_role_assertion: bool,
    pub project_role_check: bool,
    pub has_project_check: bool,
    pub private_labeling_setting: i32,
}

/// The SAML part of an application (`project.application.config.saml.added`/`changed`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SamlConfig {
    pub app_id: String,
    pub entity_id: String,
    /// The metadata document, base64.
    pub metadata: String,
    /// Where the metadata was fetched from, if it was given as a URL.
    pub metadata_url: String,
    pub login: Login,
}

/// An SMTP configuration of an instance. The password is sealed with the masterkey
/// (`crypto::SMTP_PASSWORD`), never stored in plain text.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SmtpConfig {
    pub id: String,
    pub description: String,
    pub sender_address: String,
    pub sender_name: String,
    pub reply_to_address: String,
    pub tls: bool,
    /// `host:port`.
    pub host: String,
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// The settings of one secret generator type (`secret_generator::GeneratorConfig`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SecretGenerator {
    pub generator_type: i32,
    pub length: u32,
    pub expiry_secs: i64,
    pub include_lower_letters: bool,
    pub include_upper_letters: bool,
    pub include_digits: bool,
    pub include_symbols: bool,
}

/// The instance's OIDC settings (`oidc_settings::OidcSettings`), lifetimes in seconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct InstanceOidcSettings {
    pub access_token_lifetime_secs: u64,
    pub id_token_lifetime_secs: u64,
    pub refresh_token_idle_expiration_secs: u64,
    pub refresh_token_expiration_secs: u64,
    #[serde(default)]
    pub flat_roles_claim: bool,
    #[serde(default)]
    pub token_exchange_enabled: bool,
    #[serde(default)]
    pub pkce_plain_allowed: bool,
}

/// The profile part of a human user.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Profile {
    pub first_name: String,
    pub last_name: String,
    pub nick_name: String,
    pub display_name: String,
    pub preferred_language: String,
    pub gender: i32,
}

/// Payload of `user.human.added`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct HumanAdded {
    pub user_name: String,
    pub login_name: String,
    #[serde(flatten)]
    pub profile: Profile,
    pub email: String,
    pub email_verified: bool,
    pub phone: String,
    pub phone_verified: bool,
    /// Hash of the initial password, if one was set.
    pub password_hash: String,
    pub password_change_required: bool,
}

/// What happened to a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyOp {
    Added,
    Changed,
    Removed,
}

macro_rules! policy_events {
    ($($variant:ident, $kind:ident, $org:expr, $op:ident;)*) => {
        impl Payload {
            /// A policy event: (kind, on an organisation, op, settings).
            pub fn policy(&self) -> Option<(PolicyKind, bool, PolicyOp, &serde_json::Value)> {
                match self {
                    $(Payload::$variant(v) => Some((PolicyKind::$kind, $org, PolicyOp::$op, v)),)*
                    _ => None,
                }
            }

            /// Builds the policy event of `kind` (instance events have no `Removed`).
            pub fn policy_event(kind: PolicyKind, org: bool, op: PolicyOp, settings: serde_json::Value) -> Option<Payload> {
                $(if kind == PolicyKind::$kind && org == $org && op == PolicyOp::$op {
                    return Some(Payload::$variant(settings));
                })*
                None
            }
        }
    };
}

policy_events! {
    InstancePasswordComplexityPolicyAdded, PasswordComplexity, false, Added;
    InstancePasswordComplexityPolicyChanged, PasswordComplexity, false, Changed;
    OrgPasswordComplexityPolicyAdded, PasswordComplexity, true, Added;
    OrgPasswordComplexityPolicyChanged, PasswordComplexity, true, Changed;
    OrgPasswordComplexityPolicyRemoved, PasswordComplexity, true, Removed;
    InstanceLockoutPolicyAdded, Lockout, false, Added;
    InstanceLockoutPolicyChanged, Lockout, false, Changed;
    OrgLockoutPolicyAdded, Lockout, true, Added;
    OrgLockoutPolicyChanged, Lockout, true, Changed;
    OrgLockoutPolicyRemoved, Lockout, true, Removed;
    InstancePasswordAgePolicyAdded, PasswordAge, false, Added;
    InstancePasswordAgePolicyChanged, PasswordAge, false, Changed;
    OrgPasswordAgePolicyAdded, PasswordAge, true, Added;
    OrgPasswordAgePolicyChanged, PasswordAge, true, Changed;
    OrgPasswordAgePolicyRemoved, PasswordAge, true, Removed;
    InstancePrivacyPolicyAdded, Privacy, false, Added;
    InstancePrivacyPolicyChanged, Privacy, false, Changed;
    OrgPrivacyPolicyAdded, Privacy, true, Added;
    OrgPrivacyPolicyChanged, Privacy, true, Changed;
    OrgPrivacyPolicyRemoved, Privacy, true, Removed;
    InstanceLoginPolicyAdded, Login, false, Added;
    InstanceLoginPolicyChanged, Login, false, Changed;
    OrgLoginPolicyAdded, Login, true, Added;
    OrgLoginPolicyChanged, Login, true, Changed;
    OrgLoginPolicyRemoved, Login, true, Removed;
    InstanceLabelPolicyAdded, Label, false, Added;
    InstanceLabelPolicyChanged, Label, false, Changed;
    OrgLabelPolicyAdded, Label, true, Added;
    OrgLabelPolicyChanged, Label, true, Changed;
    OrgLabelPolicyRemoved, Label, true, Removed;
    InstanceDomainPolicyAdded, Domain, false, Added;
    InstanceDomainPolicyChanged, Domain, false, Changed;
    OrgDomainPolicyAdded, Domain, true, Added;
    OrgDomainPolicyChanged, Domain, true, Changed;
    OrgDomainPolicyRemoved, Domain, true, Removed;
    InstanceNotificationPolicyAdded, Notification, false, Added;
    InstanceNotificationPolicyChanged, Notification, false, Changed;
    OrgNotificationPolicyAdded, Notification, true, Added;
    OrgNotificationPolicyChanged, Notification, true, Changed;
    OrgNotificationPolicyRemoved, Notification, true, Removed;
}

macro_rules! label_asset_events {
    ($($added:ident, $removed:ident, $org:expr, $slot:ident;)*) => {
        impl Payload {
            /// A label policy file event: (on an organisation, slot, the file when added, its
            /// store key).
            pub fn label_asset(&self) -> Option<(bool, LabelSlot, Option<&Asset>, &str)> {
                match self {
                    $(Payload::$added(a) => Some(($org, LabelSlot::$slot, Some(a), a.store_key.as_str())),
                    Payload::$removed { store_key } => Some(($org, LabelSlot::$slot, None, store_key.as_str())),)*
                    _ => None,
                }
            }

            /// Builds the event adding `asset` to `slot` (`Some`) or removing `store_key` from it.
            pub fn label_asset_event(org: bool, slot: LabelSlot, asset: Option<Asset>, store_key: &str) -> Payload {
                $(if org == $org && slot == LabelSlot::$slot {
                    return match asset {
                        Some(a) => Payload::$added(a),
                        None => Payload::$removed { store_key: store_key.to_string() },
                    };
                })*
                // Every (org, slot) pair is listed above.
                Payload::InstanceLabelPolicyFontRemoved { store_key: store_key.to_string() }
            }
        }
    };
}

label_asset_events! {
    InstanceLabelPolicyLogoAdded, InstanceLabelPolicyLogoRemoved, false, Logo;
    InstanceLabelPolicyLogoDarkAdded, InstanceLabelPolicyLogoDarkRemoved, false, LogoDark;
    InstanceLabelPolicyIconAdded, InstanceLabelPolicyIconRemoved, false, Icon;
    InstanceLabelPolicyIconDarkAdded, InstanceLabelPolicyIconDarkRemoved, false, IconDark;
    InstanceLabelPolicyFontAdded, InstanceLabelPolicyFontRemoved, false, Font;
    OrgLabelPolicyLogoAdded, OrgLabelPolicyLogoRemoved, true, Logo;
    OrgLabelPolicyLogoDarkAdded, OrgLabelPolicyLogoDarkRemoved, true, LogoDark;
    OrgLabelPolicyIconAdded, OrgLabelPolicyIconRemoved, true, Icon;
    OrgLabelPolicyIconDarkAdded, OrgLabelPolicyIconDarkRemoved, true, IconDark;
    OrgLabelPolicyFontAdded, OrgLabelPolicyFontRemoved, true, Font;
}

impl Payload {
    /// The event type string (`user.human.added`, ...).
    pub fn event_type(&self) -> String {
        self.split().0
    }

    /// Splits into the event type and the payload JSON without the tag.
    pub fn split(&self) -> (String, serde_json::Value) {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        let t = v
            .as_object_mut()
            .and_then(|o| o.remove("eventType"))
            .and_then(|t| t.as_str().map(str::to_string))
            .unwrap_or_default();
        (t, v)
    }

    /// Rebuilds a payload from its stored event type and JSON.
    pub fn join(event_type: &str, payload: &serde_json::Value) -> Result<Self, serde_json::Error> {
        let mut v = payload.clone();
        if let Some(o) = v.as_object_mut() {
            o.insert("eventType".into(), event_type.into());
        }
        serde_json::from_value(v)
    }

    /// Whether this event changes who may call the APIs with which rights (users, tokens,
    /// members, organisations, projects that hold memberships, apps that hold tokens, the OIDC
    /// settings), so that authentication caches must be dropped.
    pub fn affects_auth(&self) -> bool {
        use Payload::*;
        matches!(
            self,
            InstanceMemberAdded { .. }
                | InstanceMemberChanged { .. }
                | InstanceMemberRemoved { .. }
                | OrgMemberAdded { .. }
                | OrgMemberChanged { .. }
                | OrgMemberRemoved { .. }
                | ProjectMemberAdded { .. }
                | ProjectMemberChanged { .. }
                | ProjectMemberRemoved { .. }
                | ProjectRemoved { .. }
                | ProjectDeactivated {}
                | ProjectReactivated {}
                | AppDeactivated { .. }
                | AppReactivated { .. }
                | AppRemoved { .. }
                | ProjectGrantMemberAdded { .. }
                | ProjectGrantMemberChanged { .. }
                | ProjectGrantMemberRemoved { .. }
                | ProjectGrantRemoved { .. }
                | OrgDeactivated {}
                | OrgReactivated {}
                | OrgRemoved { .. }
                | UserDeactivated {}
                | UserReactivated {}
                | UserLocked {}
                | UserUnlocked {}
                | UserRemoved { .. }
                | PatRemoved { .. }
                | MachineKeyRemoved { .. }
                | MachineSecretRemoved {}
                | MachineSecretSet { .. }
                | InstanceDomainAdded { .. }
                | InstanceDomainRemoved { .. }
                | InstanceDomainPrimarySet { .. }
                | InstanceRemoved { .. }
                | InstanceDomainPolicyAdded(_)
                | InstanceDomainPolicyChanged(_)
                | OrgDomainPolicyAdded(_)
                | OrgDomainPolicyChanged(_)
                | OrgDomainPolicyRemoved(_)
        )
    }
}

/// Every event type, for `ListEventTypes`.
pub const EVENT_TYPES: &[&str] = &[
    "key_pair.added",
    "instance.added",
    "instance.changed",
    "instance.removed",
    "instance.domain.added",
    "instance.domain.removed",
    "instance.domain.primary.set",
    "instance.trusted_domain.added",
    "instance.trusted_domain.removed",
    "instance.default.language.set",
    "instance.default.org.set",
    "instance.policy.domain.added",
    "instance.member.added",
    "instance.member.changed",
    "instance.member.removed",
    "instance.smtp.config.added",
    "instance.smtp.config.changed",
    "instance.smtp.config.password.changed",
    "instance.smtp.config.activated",
    "instance.smtp.config.deactivated",
    "instance.smtp.config.removed",
    "instance.secret.generator.added",
    "instance.secret.generator.changed",
    "instance.oidc.settings.added",
    "instance.oidc.settings.changed",
    "instance.policy.security.set",
    "org.added",
    "org.changed",
    "org.deactivated",
    "org.reactivated",
    "org.removed",
    "org.domain.added",
    "org.domain.verification.added",
    "org.domain.verification.failed",
    "org.domain.verified",
    "org.domain.primary.set",
    "org.domain.removed",
    "org.member.added",
    "org.member.changed",
    "org.member.removed",
    "org.metadata.set",
    "org.metadata.removed",
    "user.human.added",
    "user.machine.added",
    "user.username.changed",
    "user.domain.claimed",
    "user.deactivated",
    "user.reactivated",
    "user.locked",
    "user.unlocked",
    "user.removed",
    "user.human.profile.changed",
    "user.human.email.changed",
    "user.human.phone.changed",
    "user.human.phone.removed",
    "user.human.password.changed",
    "user.human.password.check.failed",
    "user.human.password.check.succeeded",
    "user.machine.changed",
    "user.machine.secret.set",
    "user.machine.secret.removed",
    "user.metadata.set",
    "user.metadata.removed",
    "user.personal.access.token.added",
    "user.personal.access.token.removed",
    "user.machine.key.added",
    "user.machine.key.removed",
    "project.added",
    "project.changed",
    "project.deactivated",
    "project.reactivated",
    "project.removed",
    "project.role.added",
    "project.role.changed",
    "project.role.removed",
    "project.member.added",
    "project.member.changed",
    "project.member.removed",
    "project.grant.added",
    "project.grant.changed",
    "project.grant.cascade.changed",
    "project.grant.deactivated",
    "project.grant.reactivated",
    "project.grant.removed",
    "project.grant.member.added",
    "project.grant.member.changed",
    "project.grant.member.removed",
    "project.application.added",
    "project.application.changed",
    "project.application.deactivated",
    "project.application.reactivated",
    "project.application.removed",
    "project.application.config.oidc.added",
    "project.application.config.oidc.changed",
    "project.application.config.oidc.secret.changed",
    "project.application.config.api.added",
    "project.application.config.api.changed",
    "project.application.config.api.secret.changed",
    "project.application.config.saml.added",
    "project.application.config.saml.changed",
    "project.application.oidc.key.added",
    "project.application.oidc.key.removed",
    "instance.policy.password.complexity.added",
    "instance.policy.password.complexity.changed",
    "org.policy.password.complexity.added",
    "org.policy.password.complexity.changed",
    "org.policy.password.complexity.removed",
    "instance.policy.lockout.added",
    "instance.policy.lockout.changed",
    "org.policy.lockout.added",
    "org.policy.lockout.changed",
    "org.policy.lockout.removed",
    "instance.policy.password.age.added",
    "instance.policy.password.age.changed",
    "org.policy.password.age.added",
    "org.policy.password.age.changed",
    "org.policy.password.age.removed",
    "instance.policy.privacy.added",
    "instance.policy.privacy.changed",
    "org.policy.privacy.added",
    "org.policy.privacy.changed",
    "org.policy.privacy.removed",
    "instance.policy.login.added",
    "instance.policy.login.changed",
    "org.policy.login.added",
    "org.policy.login.changed",
    "org.policy.login.removed",
    "instance.policy.label.added",
    "instance.policy.label.changed",
    "org.policy.label.added",
    "org.policy.label.changed",
    "org.policy.label.removed",
    "instance.policy.domain.changed",
    "org.policy.domain.added",
    "org.policy.domain.changed",
    "org.policy.domain.removed",
    "instance.policy.notification.added",
    "instance.policy.notification.changed",
    "org.policy.notification.added",
    "org.policy.notification.changed",
    "org.policy.notification.removed",
    "instance.policy.login.secondfactor.added",
    "instance.policy.login.secondfactor.removed",
    "instance.policy.login.multifactor.added",
    "instance.policy.login.multifactor.removed",
    "org.policy.login.secondfactor.added",
    "org.policy.login.secondfactor.removed",
    "org.policy.login.multifactor.added",
    "org.policy.login.multifactor.removed",
    "instance.policy.label.activated",
    "org.policy.label.activated",
    "instance.policy.label.logo.added",
    "instance.policy.label.logo.removed",
    "instance.policy.label.logo.dark.added",
    "instance.policy.label.logo.dark.removed",
    "instance.policy.label.icon.added",
    "instance.policy.label.icon.removed",
    "instance.policy.label.icon.dark.added",
    "instance.policy.label.icon.dark.removed",
    "instance.policy.label.font.added",
    "instance.policy.label.font.removed",
    "org.policy.label.logo.added",
    "org.policy.label.logo.removed",
    "org.policy.label.logo.dark.added",
    "org.policy.label.logo.dark.removed",
    "org.policy.label.icon.added",
    "org.policy.label.icon.removed",
    "org.policy.label.icon.dark.added",
    "org.policy.label.icon.dark.removed",
    "org.policy.label.font.added",
    "org.policy.label.font.removed",
    "user.human.avatar.added",
    "user.human.avatar.removed",
    "user.grant.added",
    "user.grant.changed",
    "user.grant.cascade.changed",
    "user.grant.deactivated",
    "user.grant.reactivated",
    "user.grant.removed",
];

/// Every aggregate type, for `ListAggregateTypes`.
pub const AGGREGATE_TYPES: &[&str] = &[
    agg::INSTANCE,
    agg::KEY_PAIR,
    agg::ORG,
    agg::USER,
    agg::PROJECT,
    agg::USER_GRANT,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_join_roundtrip() {
        let p = Payload::HumanAdded(HumanAdded {
            user_name: "a".into(),
            email: "a@b.ch".into(),
            ..Default::default()
        });
        let (t, v) = p.split();
        assert_eq!(t, "user.human.added");
        assert!(v.get("eventType").is_none());
        assert_eq!(Payload::join(&t, &v).expect("join"), p);
        assert_eq!(Payload::OrgDeactivated {}.event_type(), "org.deactivated");
    }

    #[test]
    fn every_event_type_is_listed() {
        for p in [
            Payload::OrgDeactivated {},
            Payload::UserLocked {},
            Payload::MachineSecretRemoved {},
            Payload::ProjectDeactivated {},
            Payload::ProjectRoleRemoved { key: "k".into() },
            Payload::ProjectAdded(ProjectSettings::default()),
            Payload::ProjectMemberRemoved {
                user_id: "u".into(),
            },
            Payload::ProjectGrantCascadeChanged {
                grant_id: "g".into(),
                role_keys: vec![],
            },
            Payload::ProjectGrantMemberRemoved {
                grant_id: "g".into(),
                user_id: "u".into(),
            },
            Payload::UserGrantCascadeChanged { role_keys: vec![] },
            Payload::UserGrantRemoved {
                user_id: "u".into(),
                project_id: "p".into(),
                project_grant_id: String::new(),
            },
            Payload::UserGrantReactivated {},
            Payload::InstanceSecondFactorAdded { mfa_type: 1 },
            Payload::OrgMultiFactorRemoved { mfa_type: 1 },
            Payload::AppDeactivated { app_id: "a".into() },
            Payload::OidcConfigChanged {
                app_id: "a".into(),
                settings: OidcSettings::default(),
            },
            Payload::SamlConfigAdded(SamlConfig::default()),
            Payload::AppKeyRemoved {
                app_id: "a".into(),
                key_id: "k".into(),
            },
            Payload::OrgDomainVerificationFailed { domain: "d".into() },
            Payload::OrgDomainVerificationAdded {
                domain: "d".into(),
                validation_type: 1,
                validation_code: "c".into(),
            },
            Payload::UserDomainClaimed {
                user_name: "u".into(),
                old_user_name: "o".into(),
                login_name: "u".into(),
            },
            Payload::SmtpConfigAdded(SmtpConfig::default()),
            Payload::SmtpConfigChanged(SmtpConfig::default()),
            Payload::SmtpConfigPasswordChanged {
                id: "s".into(),
                password: "v1.x".into(),
            },
            Payload::SmtpConfigActivated { id: "s".into() },
            Payload::SmtpConfigDeactivated { id: "s".into() },
            Payload::SmtpConfigRemoved { id: "s".into() },
            Payload::SecretGeneratorAdded(SecretGenerator::default()),
            Payload::SecretGeneratorChanged(SecretGenerator::default()),
            Payload::OidcSettingsAdded(InstanceOidcSettings::default()),
            Payload::OidcSettingsChanged(InstanceOidcSettings::default()),
            Payload::SecurityPolicySet(Default::default()),
        ] {
            let (t, v) = p.split();
            assert_eq!(Payload::join(&t, &v).expect("join"), p);
            assert!(EVENT_TYPES.contains(&p.event_type().as_str()));
        }
        for k in PolicyKind::ALL {
            for (org, op) in [
                (false, PolicyOp::Added),
                (false, PolicyOp::Changed),
                (true, PolicyOp::Added),
                (true, PolicyOp::Changed),
                (true, PolicyOp::Removed),
            ] {
                let p = Payload::policy_event(k, org, op, serde_json::json!({"a": 1}))
                    .expect("policy event");
                assert_eq!(p.policy().map(|x| (x.0, x.1, x.2)), Some((k, org, op)));
                let (t, v) = p.split();
                assert_eq!(Payload::join(&t, &v).expect("join"), p);
                assert!(EVENT_TYPES.contains(&t.as_str()));
            }
        }
    }

    #[test]
    fn label_asset_events_roundtrip() {
        let a = Asset {
            store_key: "policy/label/logo-1".into(),
            content_type: "image/png".into(),
            hash: "ab".into(),
            size: 3,
        };
        for org in [false, true] {
            for slot in LabelSlot::ALL {
                for asset in [Some(a.clone()), None] {
                    let p = Payload::label_asset_event(org, slot, asset.clone(), &a.store_key);
                    let got = p.label_asset().expect("label asset event");
                    assert_eq!(
                        (got.0, got.1, got.2.cloned(), got.3),
                        (org, slot, asset, a.store_key.as_str())
                    );
                    let (t, v) = p.split();
                    assert!(EVENT_TYPES.contains(&t.as_str()), "{t}");
                    assert_eq!(Payload::join(&t, &v).expect("join"), p);
                }
            }
        }
        for p in [
            Payload::InstanceLabelPolicyActivated {},
            Payload::OrgLabelPolicyActivated {},
            Payload::HumanAvatarAdded(a.clone()),
            Payload::HumanAvatarRemoved {
                store_key: "k".into(),
            },
        ] {
            assert!(EVENT_TYPES.contains(&p.event_type().as_str()));
        }
    }
}
