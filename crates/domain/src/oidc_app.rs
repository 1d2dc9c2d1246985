//! OpenID Connect applications: the settings, their validation and ZITADEL's compliance check
//! (which combinations of app type, grant types, auth method and redirect URIs the OIDC 1.0
//! specification allows). Enum values are the numbers of `zitadel.app.v1`.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// `OIDCResponseType`.
pub mod response_type {
    pub const CODE: i32 = 0;
    pub const ID_TOKEN: i32 = 1;
    pub const ID_TOKEN_TOKEN: i32 = 2;
    pub const NAMES: &[&str] = &[
        "OIDC_RESPONSE_TYPE_CODE",
        "OIDC_RESPONSE_TYPE_ID_TOKEN",
        "OIDC_RESPONSE_TYPE_ID_TOKEN_TOKEN",
    ];
}

/// `OIDCGrantType`.
pub mod grant_type {
    pub const AUTHORIZATION_CODE: i32 = 0;
    pub const IMPLICIT: i32 = 1;
    pub const REFRESH_TOKEN: i32 = 2;
    pub const DEVICE_CODE: i32 = 3;
    pub const TOKEN_EXCHANGE: i32 = 4;
    pub const NAMES: &[&str] = &[
        "OIDC_GRANT_TYPE_AUTHORIZATION_CODE",
        "OIDC_GRANT_TYPE_IMPLICIT",
        "OIDC_GRANT_TYPE_REFRESH_TOKEN",
        "OIDC_GRANT_TYPE_DEVICE_CODE",
        "OIDC_GRANT_TYPE_TOKEN_EXCHANGE",
    ];
}

/// `OIDCAppType`.
pub mod app_type {
    pub const WEB: i32 = 0;
    pub const USER_AGENT: i32 = 1;
    pub const NATIVE: i32 = 2;
    pub const MAX: i32 = 2;
}

/// `OIDCAuthMethodType`.
pub mod auth_method {
    pub const BASIC: i32 = 0;
    pub const POST: i32 = 1;
    pub const NONE: i32 = 2;
    pub const PRIVATE_KEY_JWT: i32 = 3;
    pub const MAX: i32 = 3;
}

/// `APIAuthMethodType`.
pub mod api_auth_method {
    pub const BASIC: i32 = 0;
    pub const PRIVATE_KEY_JWT: i32 = 1;
    pub const MAX: i32 = 1;
}

/// The longest clock skew an application may ask for, in nanoseconds (5 s).
pub const MAX_CLOCK_SKEW_NANOS: i64 = 5_000_000_000;

/// Which login UI an application uses (`LoginVersion`): 0 = instance default, 1 = v1, 2 = v2.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Login {
    pub version: i32,
    /// Base URI of the v2 login, if given.
    pub base_uri: Option<String>,
}

/// The settable OIDC configuration of an application, validated.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct OidcSettings {
    pub redirect_uris: Vec<String>,
    pub response_types: Vec<i32>,
    pub grant_types: Vec<i32>,
    pub app_type: i32,
    pub auth_method_type: i32,
    pub post_logout_redirect_uris: Vec<String>,
    pub version: i32,
    pub dev_mode: bool,
    pub access_token_type: i32,
    pub access_token_role_assertion: bool,
    pub id_token_role_assertion: bool,
    pub id_token_userinfo_assertion: bool,
    pub clock_skew_nanos: i64,
    pub additional_origins: Vec<String>,
    pub skip_native_app_success_page: bool,
    pub back_channel_logout_uri: String,
    pub login: Login,
}

impl OidcSettings {
    /// Whether the auth method needs a client secret (BASIC or POST).
    pub fn needs_secret(&self) -> bool {
        matches!(
            self.auth_method_type,
            auth_method::BASIC | auth_method::POST
        )
    }

    /// The result of ZITADEL's compliance check on these settings.
    pub fn compliance(&self) -> Compliance {
        compliance(
            self.version,
            self.app_type,
            &self.grant_types,
            self.auth_method_type,
            &self.redirect_uris,
        )
    }

    /// Origins allowed to call: those of the redirect URIs, then the additional ones, once each.
    pub fn allowed_origins(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let from_redirects = self.redirect_uris.iter().filter_map(|u| origin_of(u));
        for o in from_redirects.chain(self.additional_origins.iter().cloned()) {
            if !out.contains(&o) {
                out.push(o);
            }
        }
        out
    }
}

fn bad(detail: String) -> Error {
    Error::invalid("APP-4n9Fs", "Errors.Project.App.Invalid", detail)
}

/// Checks enum values, URIs, origins and the clock skew; fills ZITADEL's defaults (response
/// type CODE and grant type AUTHORIZATION_CODE when none is given) and requires the grant types
/// the response types need.
pub fn validate(mut s: OidcSettings) -> Result<OidcSettings> {
    if s.response_types.is_empty() {
        s.response_types = vec![response_type::CODE];
    }
    if s.grant_types.is_empty() {
        s.grant_types = vec![grant_type::AUTHORIZATION_CODE];
    }
    for (i, r) in s.response_types.iter().enumerate() {
        if !(0..response_type::NAMES.len() as i32).contains(r) {
            return Err(bad(format!("responseTypes[{i}] {r} is unknown")));
        }
    }
    for (i, g) in s.grant_types.iter().enumerate() {
        if !(0..grant_type::NAMES.len() as i32).contains(g) {
            return Err(bad(format!("grantTypes[{i}] {g} is unknown")));
        }
    }
    dedup(&mut s.response_types);
    dedup(&mut s.grant_types);
    if !(0..=app_type::MAX).contains(&s.app_type) {
        return Err(bad(format!("appType {} is unknown", s.app_type)));
    }
    if !(0..=auth_method::MAX).contains(&s.auth_method_type) {
        return Err(bad(format!(
            "authMethodType {} is unknown",
            s.auth_method_type
        )));
    }
    if s.version != 0 {
        return Err(bad(format!("version {} is unknown", s.version)));
    }
    if !(0..=1).contains(&s.access_token_type) {
        return Err(bad(format!(
            "accessTokenType {} is unknown",
            s.access_token_type
        )));
    }
    if !(0..=MAX_CLOCK_SKEW_NANOS).contains(&s.clock_skew_nanos) {
        return Err(bad("clockSkew must be between 0s and 5s".into()));
    }
    s.redirect_uris = uris("redirectUris", &s.redirect_uris)?;
    s.post_logout_redirect_uris = uris("postLogoutRedirectUris", &s.post_logout_redirect_uris)?;
    let mut origins = Vec::with_capacity(s.additional_origins.len());
    for (i, o) in s.additional_origins.iter().enumerate() {
        let o = o.trim();
        if !is_origin(o) {
            return Err(bad(format!(
                "additionalOrigins[{i}] {o:?} is not an origin (scheme://host[:port] without path)"
            )));
        }
        origins.push(o.to_string());
    }
    s.additional_origins = origins;
    let bcl = s.back_channel_logout_uri.trim().to_string();
    if !bcl.is_empty() && !is_http_url(&bcl) {
        return Err(bad(format!(
            "backChannelLogoutUri {bcl:?} is not an http(s) URL"
        )));
    }
    s.back_channel_logout_uri = bcl;
    if let Some(b) = &s.login.base_uri {
        if !is_http_url(b) {
            return Err(bad(format!(
                "loginVersion.loginV2.baseUri {b:?} is not an http(s) URL"
            )));
        }
    }
    let required = required_grant_types(&s.response_types, &s.grant_types);
    for g in required {
        if !s.grant_types.contains(&g) {
            return Err(bad(format!(
                "grantTypes must contain {} for the response types given",
                grant_type::NAMES[g as usize]
            )));
        }
    }
    Ok(s)
}

fn dedup(v: &mut Vec<i32>) {
    let mut seen = Vec::with_capacity(v.len());
    v.retain(|x| {
        let new = !seen.contains(x);
        seen.push(*x);
        new
    });
}

/// Trims a list of redirect URIs and checks that each is an absolute URI.
fn uris(field: &str, list: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(list.len());
    for (i, u) in list.iter().enumerate() {
        let u = u.trim();
        if !is_absolute_uri(u) {
            return Err(bad(format!("{field}[{i}] {u:?} is not an absolute URI")));
        }
        out.push(u.to_string());
    }
    Ok(out)
}

/// `scheme:rest`, scheme per RFC 3986, no whitespace; http(s) URIs need a host.
pub fn is_absolute_uri(u: &str) -> bool {
    if u.is_empty() || u.len() > 2000 || u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((scheme, rest)) = u.split_once(':') else {
        return false;
    };
    let mut sc = scheme.chars();
    let scheme_ok = sc.next().is_some_and(|c| c.is_ascii_alphabetic())
        && sc.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || rest.is_empty() {
        return false;
    }
    match scheme.to_ascii_lowercase().as_str() {
        "http" | "https" => is_http_url(u),
        _ => true,
    }
}

/// Splits an http(s) URL into (scheme, authority, rest) if it has a non-empty host.
fn http_parts(u: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = u.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(h) = host_port.strip_prefix('[') {
        h.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    if host.is_empty() || u.chars().any(char::is_whitespace) {
        return None;
    }
    if let Some((_, port)) = host_port.rsplit_once("]:").or_else(|| {
        (!host_port.starts_with('['))
            .then(|| host_port.split_once(':'))
            .flatten()
    }) {
        if port.parse::<u16>().is_err() {
            return None;
        }
    }
    Some((scheme, authority, tail))
}

/// An http(s) URL with a host.
pub fn is_http_url(u: &str) -> bool {
    http_parts(u).is_some()
}

/// `scheme://host[:port]` without path, query or fragment (a trailing `/` is not allowed).
pub fn is_origin(o: &str) -> bool {
    if let Some((_, _, tail)) = http_parts(o) {
        return tail.is_empty();
    }
    // Custom schemes (e.g. of native apps) are allowed as origins too.
    match o.split_once("://") {
        Some((scheme, host)) => {
            is_absolute_uri(o)
                && !scheme.is_empty()
                && !host.is_empty()
                && !host.contains(['/', '?', '#'])
        }
        None => false,
    }
}

/// The origin (`scheme://host[:port]`) of a URI with a host.
pub fn origin_of(u: &str) -> Option<String> {
    let (scheme, rest) = u.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    (!host_port.is_empty()).then(|| format!("{}://{}", scheme.to_ascii_lowercase(), host_port))
}

/// The grant types the response types need: CODE needs AUTHORIZATION_CODE (or DEVICE_CODE when
/// that is set), the id token responses need IMPLICIT.
pub fn required_grant_types(response_types: &[i32], grant_types: &[i32]) -> Vec<i32> {
    let mut out = Vec::new();
    let mut implicit = false;
    for r in response_types {
        match *r {
            response_type::CODE => {
                if grant_types.contains(&grant_type::DEVICE_CODE) {
                    out.push(grant_type::DEVICE_CODE);
                } else {
                    out.push(grant_type::AUTHORIZATION_CODE);
                }
            }
            response_type::ID_TOKEN | response_type::ID_TOKEN_TOKEN if !implicit => {
                implicit = true;
                out.push(grant_type::IMPLICIT);
            }
            _ => {}
        }
    }
    out
}

/// Outcome of the compliance check: problem keys (`Application.OIDC.V1...`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compliance {
    pub none_compliant: bool,
    pub problems: Vec<&'static str>,
}

const NOT_COMPLIANT: &str = "Application.OIDC.V1.NotCompliant";

/// ZITADEL's compliance check (`GetOIDCCompliance`), problem for problem and in its order.
pub fn compliance(
    version: i32,
    app_type: i32,
    grant_types: &[i32],
    auth_method: i32,
    redirect_uris: &[String],
) -> Compliance {
    if version != 0 {
        return Compliance {
            none_compliant: true,
            problems: vec!["Application.OIDC.UnsupportedVersion"],
        };
    }
    let mut c = Compliance::default();
    let has = |g: i32| grant_types.contains(&g);
    // Refresh tokens need the code flow (unless the device flow is used).
    if !has(grant_type::DEVICE_CODE)
        && has(grant_type::REFRESH_TOKEN)
        && !has(grant_type::AUTHORIZATION_CODE)
    {
        c.fail("Application.OIDC.V1.GrantType.Refresh.NoAuthCode");
    }
    check_redirect_uris(&mut c, grant_types, app_type, redirect_uris);
    check_app_type(&mut c, app_type, auth_method);
    if c.none_compliant {
        c.problems.insert(0, NOT_COMPLIANT);
    }
    c
}

impl Compliance {
    fn fail(&mut self, problem: &'static str) {
        self.none_compliant = true;
        self.problems.push(problem);
    }
}

fn check_redirect_uris(c: &mut Compliance, grant_types: &[i32], app_type: i32, uris: &[String]) {
    let has = |g: i32| grant_types.contains(&g);
    if uris.is_empty() && (!has(grant_type::DEVICE_CODE) || has(grant_type::AUTHORIZATION_CODE)) {
        c.none_compliant = true;
        c.problems.insert(0, "Application.OIDC.V1.NoRedirectUris");
    }
    if has(grant_type::IMPLICIT) && has(grant_type::AUTHORIZATION_CODE) {
        implicit_and_code(c, app_type, uris);
    } else {
        if has(grant_type::IMPLICIT) {
            implicit(c, app_type, uris);
        }
        if has(grant_type::AUTHORIZATION_CODE) {
            code(c, app_type, uris);
        }
    }
}

fn check_app_type(c: &mut Compliance, app_type: i32, auth_method: i32) {
    match app_type {
        app_type::NATIVE if auth_method != auth_method::NONE => {
            c.fail("Application.OIDC.V1.Native.AuthMethodType.NotNone")
        }
        app_type::USER_AGENT if auth_method != auth_method::NONE => {
            c.fail("Application.OIDC.V1.UserAgent.AuthMethodType.NotNone")
        }
        app_type::WEB => return,
        _ => {}
    }
    if c.none_compliant {
        c.problems.insert(0, NOT_COMPLIANT);
    }
}

const HTTP: &str = "http://";
const HTTPS: &str = "https://";

fn all_https(uris: &[String]) -> bool {
    uris.iter().all(|u| u.starts_with(HTTPS))
}

fn any_http(uris: &[String]) -> bool {
    uris.iter().any(|u| u.starts_with(HTTP))
}

fn any_custom(uris: &[String]) -> bool {
    uris.iter()
        .any(|u| !u.starts_with(HTTP) && !u.starts_with(HTTPS))
}

/// Whether every http URI points at localhost or a loopback address.
fn only_localhost_is_http(uris: &[String]) -> bool {
    uris.iter().all(|u| {
        let Some(rest) = u.strip_prefix(HTTP) else {
            // Other schemes are not this rule's concern; unparsable URIs fail it.
            return is_absolute_uri(u);
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let hp = &rest[..end];
        let host = if let Some(h) = hp.strip_prefix('[') {
            h.split(']').next().unwrap_or("")
        } else {
            hp.split(':').next().unwrap_or("")
        };
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

fn code(c: &mut Compliance, app_type: i32, uris: &[String]) {
    if all_https(uris) {
        return;
    }
    if any_http(uris) {
        if app_type == app_type::USER_AGENT {
            c.fail("Application.OIDC.V1.Code.RedirectUris.HttpOnlyForWeb");
        }
        if app_type == app_type::NATIVE && !only_localhost_is_http(uris) {
            c.fail("Application.OIDC.V1.Native.RedirectUris.MustBeHttpLocalhost");
        }
    }
    if any_custom(uris) && app_type != app_type::NATIVE {
        c.fail("Application.OIDC.V1.Code.RedirectUris.CustomOnlyForNative");
    }
}

fn implicit(c: &mut Compliance, app_type: i32, uris: &[String]) {
    if all_https(uris) {
        return;
    }
    if any_custom(uris) {
        c.fail("Application.OIDC.V1.Implicit.RedirectUris.CustomNotAllowed");
    }
    if any_http(uris) {
        if app_type == app_type::NATIVE {
            if !only_localhost_is_http(uris) {
                c.fail("Application.OIDC.V1.Native.RedirectUris.MustBeHttpLocalhost");
            }
            return;
        }
        c.fail("Application.OIDC.V1.Implicit.RedirectUris.HttpNotAllowed");
    }
}

fn implicit_and_code(c: &mut Compliance, app_type: i32, uris: &[String]) {
    if all_https(uris) {
        return;
    }
    if any_custom(uris) && app_type != app_type::NATIVE {
        c.fail("Application.OIDC.V1.Implicit.RedirectUris.CustomNotAllowed");
    }
    if any_http(uris) {
        if app_type == app_type::USER_AGENT {
            c.fail("Application.OIDC.V1.Code.RedirectUris.HttpOnlyForWeb");
        }
        if !only_localhost_is_http(uris) && app_type == app_type::NATIVE {
            c.fail("Application.OIDC.V1.Native.RedirectUris.MustBeHttpLocalhost");
        }
    }
    if !c.none_compliant {
        c.problems
            .push("Application.OIDC.V1.NotAllCombinationsAreAllowed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_type::*;
    use grant_type::*;

    fn v(uris: &[&str]) -> Vec<String> {
        uris.iter().map(|s| s.to_string()).collect()
    }

    fn check(app: i32, grants: &[i32], auth: i32, uris: &[&str]) -> Compliance {
        compliance(0, app, grants, auth, &v(uris))
    }

    #[test]
    fn web_code_https_is_compliant() {
        let c = check(
            WEB,
            &[AUTHORIZATION_CODE],
            auth_method::BASIC,
            &["https://a.ch/cb"],
        );
        assert_eq!(c, Compliance::default());
        // http is fine for web apps too.
        let c = check(
            WEB,
            &[AUTHORIZATION_CODE],
            auth_method::BASIC,
            &["http://a.ch/cb"],
        );
        assert!(!c.none_compliant, "{c:?}");
    }

    #[test]
    fn user_agent_http_and_secret() {
        let c = check(
            USER_AGENT,
            &[AUTHORIZATION_CODE],
            auth_method::BASIC,
            &["http://a.ch/cb"],
        );
        assert!(c.none_compliant);
        // The app-type check prepends NotCompliant, then the final check prepends it again.
        assert_eq!(
            c.problems,
            vec![
                NOT_COMPLIANT,
                NOT_COMPLIANT,
                "Application.OIDC.V1.Code.RedirectUris.HttpOnlyForWeb",
                "Application.OIDC.V1.UserAgent.AuthMethodType.NotNone",
            ]
        );
    }

    #[test]
    fn custom_scheme_only_for_native() {
        let c = check(
            WEB,
            &[AUTHORIZATION_CODE],
            auth_method::BASIC,
            &["com.app:/cb"],
        );
        assert_eq!(
            c.problems,
            vec![
                NOT_COMPLIANT,
                "Application.OIDC.V1.Code.RedirectUris.CustomOnlyForNative"
            ]
        );
        let c = check(
            NATIVE,
            &[AUTHORIZATION_CODE],
            auth_method::NONE,
            &["com.app:/cb"],
        );
        assert_eq!(c, Compliance::default());
    }

    #[test]
    fn native_http_must_be_localhost() {
        let ok = check(
            NATIVE,
            &[AUTHORIZATION_CODE],
            auth_method::NONE,
            &[
                "http://localhost:3000/cb",
                "http://127.0.0.1/cb",
                "http://[::1]:8/cb",
            ],
        );
        assert!(!ok.none_compliant, "{ok:?}");
        let c = check(
            NATIVE,
            &[AUTHORIZATION_CODE],
            auth_method::NONE,
            &["http://example.com/cb"],
        );
        assert_eq!(
            c.problems,
            vec![
                NOT_COMPLIANT,
                NOT_COMPLIANT,
                "Application.OIDC.V1.Native.RedirectUris.MustBeHttpLocalhost"
            ]
        );
    }

    #[test]
    fn implicit_rules() {
        let c = check(
            USER_AGENT,
            &[IMPLICIT],
            auth_method::NONE,
            &["http://a.ch/cb"],
        );
        assert_eq!(
            c.problems,
            vec![
                NOT_COMPLIANT,
                NOT_COMPLIANT,
                "Application.OIDC.V1.Implicit.RedirectUris.HttpNotAllowed"
            ]
        );
        let c = check(USER_AGENT, &[IMPLICIT], auth_method::NONE, &["app:/cb"]);
        assert_eq!(
            c.problems,
            vec![
                NOT_COMPLIANT,
                NOT_COMPLIANT,
                "Application.OIDC.V1.Implicit.RedirectUris.CustomNotAllowed"
            ]
        );
        let c = check(
            USER_AGENT,
            &[IMPLICIT],
            auth_method::NONE,
            &["https://a.ch/cb"],
        );
        assert_eq!(c, Compliance::default());
    }

    #[test]
    fn implicit_and_code_is_flagged_even_when_fine() {
        let c = check(
            WEB,
            &[IMPLICIT, AUTHORIZATION_CODE],
            auth_method::BASIC,
            &["http://a.ch/cb"],
        );
        assert!(!c.none_compliant);
        assert_eq!(
            c.problems,
            vec!["Application.OIDC.V1.NotAllCombinationsAreAllowed"]
        );
    }

    #[test]
    fn no_redirect_uris_and_refresh_without_code() {
        let c = check(WEB, &[REFRESH_TOKEN, IMPLICIT], auth_method::BASIC, &[]);
        assert_eq!(
            c.problems,
            vec![
                NOT_COMPLIANT,
                "Application.OIDC.V1.NoRedirectUris",
                "Application.OIDC.V1.GrantType.Refresh.NoAuthCode",
            ]
        );
        // Device code alone needs no redirect URI.
        let c = check(NATIVE, &[DEVICE_CODE], auth_method::NONE, &[]);
        assert_eq!(c, Compliance::default());
    }

    #[test]
    fn unsupported_version() {
        let c = compliance(7, WEB, &[AUTHORIZATION_CODE], 0, &v(&["https://a"]));
        assert_eq!(c.problems, vec!["Application.OIDC.UnsupportedVersion"]);
    }

    #[test]
    fn validation_defaults_and_errors() {
        let s = validate(OidcSettings {
            redirect_uris: v(&[" https://a.ch/cb "]),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(s.response_types, vec![response_type::CODE]);
        assert_eq!(s.grant_types, vec![AUTHORIZATION_CODE]);
        assert_eq!(s.redirect_uris, v(&["https://a.ch/cb"]));

        let err = |s: OidcSettings| validate(s).expect_err("invalid").text();
        assert!(err(OidcSettings {
            redirect_uris: v(&["not a uri"]),
            ..Default::default()
        })
        .contains("redirectUris[0]"));
        assert!(err(OidcSettings {
            redirect_uris: v(&["https://"]),
            ..Default::default()
        })
        .contains("redirectUris[0]"));
        assert!(err(OidcSettings {
            post_logout_redirect_uris: v(&["/relative"]),
            ..Default::default()
        })
        .contains("postLogoutRedirectUris[0]"));
        assert!(err(OidcSettings {
            additional_origins: v(&["https://a.ch/path"]),
            ..Default::default()
        })
        .contains("additionalOrigins[0]"));
        assert!(err(OidcSettings {
            clock_skew_nanos: 6_000_000_000,
            ..Default::default()
        })
        .contains("clockSkew"));
        assert!(err(OidcSettings {
            app_type: 9,
            ..Default::default()
        })
        .contains("appType"));
        assert!(err(OidcSettings {
            grant_types: vec![8],
            ..Default::default()
        })
        .contains("grantTypes[0]"));
        assert!(err(OidcSettings {
            response_types: vec![response_type::ID_TOKEN],
            ..Default::default()
        })
        .contains("OIDC_GRANT_TYPE_IMPLICIT"));
        assert!(err(OidcSettings {
            back_channel_logout_uri: "ftp://x".into(),
            ..Default::default()
        })
        .contains("backChannelLogoutUri"));
    }

    #[test]
    fn origins() {
        assert!(is_origin("https://a.ch"));
        assert!(is_origin("http://localhost:4200"));
        assert!(!is_origin("https://a.ch/"));
        assert!(!is_origin("a.ch"));
        let s = OidcSettings {
            redirect_uris: v(&["https://a.ch/cb", "https://a.ch/other", "com.app:/cb"]),
            additional_origins: v(&["https://b.ch", "https://a.ch"]),
            ..Default::default()
        };
        assert_eq!(s.allowed_origins(), v(&["https://a.ch", "https://b.ch"]));
    }
}
