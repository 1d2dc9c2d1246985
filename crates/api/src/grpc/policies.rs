//! Conversions between policy settings and messages, shared by the admin and management
//! handlers.

use crate::app::label::LabelView;
use crate::app::policies::Policy;
use crate::error::{invalid, R};
use castellan_domain::assets::LabelSlot;
use castellan_domain::password::Complexity;
use castellan_domain::policy::{Lockout, Login, PasswordAge, Privacy};
use castellan_proto::zitadel::policy::v1 as pb;
use prost_types::Duration;

fn dur(secs: i64) -> Option<Duration> {
    Some(Duration {
        seconds: secs,
        nanos: 0,
    })
}

/// Seconds of a lifetime (absent = 0).
pub fn secs(field: &'static str, d: Option<&Duration>) -> R<i64> {
    match d {
        None => Ok(0),
        Some(d) if d.seconds < 0 || d.nanos < 0 => {
            Err(invalid(format!("{field} must not be negative")))
        }
        Some(d) => Ok(d.seconds),
    }
}

/// A requested count as u32 (larger values fail validation).
pub fn u32_of(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

pub fn complexity(p: Policy<Complexity>) -> pb::PasswordComplexityPolicy {
    let s = p.settings;
    pb::PasswordComplexityPolicy {
        details: p.details,
        min_length: s.min_length.into(),
        has_uppercase: s.has_uppercase,
        has_lowercase: s.has_lowercase,
        has_number: s.has_number,
        has_symbol: s.has_symbol,
        is_default: p.is_default,
    }
}

pub fn lockout(p: Policy<Lockout>) -> pb::LockoutPolicy {
    pb::LockoutPolicy {
        details: p.details,
        max_password_attempts: p.settings.max_password_attempts,
        max_otp_attempts: p.settings.max_otp_attempts,
        is_default: p.is_default,
    }
}

pub fn age(p: Policy<PasswordAge>) -> pb::PasswordAgePolicy {
    pb::PasswordAgePolicy {
        details: p.details,
        max_age_days: p.settings.max_age_days,
        expire_warn_days: p.settings.expire_warn_days,
        is_default: p.is_default,
    }
}

pub fn privacy(p: Policy<Privacy>) -> pb::PrivacyPolicy {
    let s = p.settings;
    pb::PrivacyPolicy {
        details: p.details,
        tos_link: s.tos_link,
        privacy_link: s.privacy_link,
        is_default: p.is_default,
        help_link: s.help_link,
        support_email: s.support_email,
        docs_link: s.docs_link,
        custom_link: s.custom_link,
        custom_link_text: s.custom_link_text,
    }
}

pub fn login(p: Policy<Login>) -> pb::LoginPolicy {
    let s = p.settings;
    pb::LoginPolicy {
        details: p.details,
        allow_username_password: s.allow_username_password,
        allow_register: s.allow_register,
        allow_external_idp: s.allow_external_idp,
        force_mfa: s.force_mfa,
        passwordless_type: s.passwordless_type,
        is_default: p.is_default,
        hide_password_reset: s.hide_password_reset,
        ignore_unknown_usernames: s.ignore_unknown_usernames,
        default_redirect_uri: s.default_redirect_uri,
        password_check_lifetime: dur(s.password_check_lifetime),
        external_login_check_lifetime: dur(s.external_login_check_lifetime),
        mfa_init_skip_lifetime: dur(s.mfa_init_skip_lifetime),
        second_factor_check_lifetime: dur(s.second_factor_check_lifetime),
        multi_factor_check_lifetime: dur(s.multi_factor_check_lifetime),
        second_factors: s.second_factors,
        multi_factors: s.multi_factors,
        allow_domain_discovery: s.allow_domain_discovery,
        disable_login_with_email: s.disable_login_with_email,
        disable_login_with_phone: s.disable_login_with_phone,
        force_mfa_local_only: s.force_mfa_local_only,
    }
}

/// The label policy with the download URLs of its files (`assets::url`).
pub fn label(v: LabelView) -> pb::LabelPolicy {
    let url = |slot| crate::assets::url(&v.owner, v.file(slot).unwrap_or_default());
    let (logo_url, icon_url) = (url(LabelSlot::Logo), url(LabelSlot::Icon));
    let (logo_url_dark, icon_url_dark) = (url(LabelSlot::LogoDark), url(LabelSlot::IconDark));
    let font_url = url(LabelSlot::Font);
    let p = v.policy;
    let s = p.settings;
    pb::LabelPolicy {
        details: p.details,
        primary_color: s.primary_color,
        is_default: p.is_default,
        hide_login_name_suffix: s.hide_login_name_suffix,
        warn_color: s.warn_color,
        background_color: s.background_color,
        font_color: s.font_color,
        primary_color_dark: s.primary_color_dark,
        background_color_dark: s.background_color_dark,
        warn_color_dark: s.warn_color_dark,
        font_color_dark: s.font_color_dark,
        disable_watermark: s.disable_watermark,
        theme_mode: s.theme_mode,
        logo_url,
        icon_url,
        logo_url_dark,
        icon_url_dark,
        font_url,
    }
}

/// Settings from a request with the complexity fields.
macro_rules! complexity_of {
    ($r:expr) => {
        castellan_domain::password::Complexity {
            min_length: $crate::grpc::policies::u32_of($r.min_length as u64),
            has_uppercase: $r.has_uppercase,
            has_lowercase: $r.has_lowercase,
            has_number: $r.has_number,
            has_symbol: $r.has_symbol,
        }
    };
}

/// Settings from a request with the lockout fields.
macro_rules! lockout_of {
    ($r:expr) => {
        castellan_domain::policy::Lockout {
            max_password_attempts: $r.max_password_attempts.into(),
            max_otp_attempts: $r.max_otp_attempts.into(),
            ..Default::default()
        }
    };
}

/// Settings from a request with the password age fields.
macro_rules! age_of {
    ($r:expr) => {
        castellan_domain::policy::PasswordAge {
            max_age_days: $r.max_age_days.into(),
            expire_warn_days: $r.expire_warn_days.into(),
        }
    };
}

/// Settings from a request with the privacy fields.
macro_rules! privacy_of {
    ($r:expr) => {
        castellan_domain::policy::Privacy {
            tos_link: $r.tos_link,
            privacy_link: $r.privacy_link,
            help_link: $r.help_link,
            support_email: $r.support_email,
            docs_link: $r.docs_link,
            custom_link: $r.custom_link,
            custom_link_text: $r.custom_link_text,
        }
    };
}

/// Settings from a request with the login fields.
macro_rules! login_of {
    ($r:expr) => {{
        use $crate::grpc::policies::secs;
        let r = $r;
        castellan_domain::policy::Login {
            allow_username_password: r.allow_username_password,
            allow_register: r.allow_register,
            allow_external_idp: r.allow_external_idp,
            force_mfa: r.force_mfa,
            force_mfa_local_only: r.force_mfa_local_only,
            passwordless_type: r.passwordless_type,
            hide_password_reset: r.hide_password_reset,
            ignore_unknown_usernames: r.ignore_unknown_usernames,
            allow_domain_discovery: r.allow_domain_discovery,
            disable_login_with_email: r.disable_login_with_email,
            disable_login_with_phone: r.disable_login_with_phone,
            default_redirect_uri: r.default_redirect_uri,
            password_check_lifetime: secs(
                "passwordCheckLifetime",
                r.password_check_lifetime.as_ref(),
            )?,
            external_login_check_lifetime: secs(
                "externalLoginCheckLifetime",
                r.external_login_check_lifetime.as_ref(),
            )?,
            mfa_init_skip_lifetime: secs("mfaInitSkipLifetime", r.mfa_init_skip_lifetime.as_ref())?,
            second_factor_check_lifetime: secs(
                "secondFactorCheckLifetime",
                r.second_factor_check_lifetime.as_ref(),
            )?,
            multi_factor_check_lifetime: secs(
                "multiFactorCheckLifetime",
                r.multi_factor_check_lifetime.as_ref(),
            )?,
            // Factors are kept on updates (`PolicySettings::carry_over`) and set by their RPCs.
            second_factors: Vec::new(),
            multi_factors: Vec::new(),
        }
    }};
}

/// Settings from a request with the label fields (ZITADEL has no `errorMsgPopup` in v1).
macro_rules! label_of {
    ($r:expr) => {{
        let r = $r;
        castellan_domain::policy::Label {
            primary_color: r.primary_color,
            background_color: r.background_color,
            warn_color: r.warn_color,
            font_color: r.font_color,
            primary_color_dark: r.primary_color_dark,
            background_color_dark: r.background_color_dark,
            warn_color_dark: r.warn_color_dark,
            font_color_dark: r.font_color_dark,
            hide_login_name_suffix: r.hide_login_name_suffix,
            error_msg_popup: false,
            disable_watermark: r.disable_watermark,
            theme_mode: r.theme_mode,
        }
    }};
}

pub(crate) use {age_of, complexity_of, label_of, lockout_of, login_of, privacy_of};

pub fn domain(p: Policy<castellan_domain::policy::Domain>) -> pb::DomainPolicy {
    let s = p.settings;
    pb::DomainPolicy {
        details: p.details,
        user_login_must_be_domain: s.user_login_must_be_domain,
        is_default: p.is_default,
        validate_org_domains: s.validate_org_domains,
        smtp_sender_address_matches_instance_domain: s.smtp_sender_address_matches_instance_domain,
    }
}

pub fn org_iam(p: Policy<castellan_domain::policy::Domain>) -> pb::OrgIamPolicy {
    pb::OrgIamPolicy {
        details: p.details,
        user_login_must_be_domain: p.settings.user_login_must_be_domain,
        is_default: p.is_default,
    }
}

pub fn notification(p: Policy<castellan_domain::policy::Notification>) -> pb::NotificationPolicy {
    pb::NotificationPolicy {
        details: p.details,
        is_default: p.is_default,
        password_change: p.settings.password_change,
    }
}

/// Settings from a request with the domain policy fields.
macro_rules! domain_of {
    ($r:expr) => {
        castellan_domain::policy::Domain {
            user_login_must_be_domain: $r.user_login_must_be_domain,
            validate_org_domains: $r.validate_org_domains,
            smtp_sender_address_matches_instance_domain: $r
                .smtp_sender_address_matches_instance_domain,
        }
    };
}
pub(crate) use domain_of;

/// Paging details of a factor list.
pub fn factor_details(n: usize) -> Option<castellan_proto::zitadel::v1::ListDetails> {
    crate::convert::list_details(n as i64, 0)
}
