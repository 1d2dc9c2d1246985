//! The instance's security policy (ZITADEL's admin `Get/SetSecurityPolicy`): whether the hosted
//! login may be embedded in iframes of the allowed origins, and whether token exchange may
//! impersonate. Instance-level only; without a stored policy everything is off.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Most allowed origins a policy may hold.
pub const MAX_ORIGINS: usize = 100;

/// The settings; also the payload of `instance.policy.security.set`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct SecurityPolicy {
    /// The login pages may be shown in iframes of `allowed_origins`.
    pub enable_iframe_embedding: bool,
    /// Origins (`scheme://host[:port]`) that may embed the login pages.
    pub allowed_origins: Vec<String>,
    /// Token exchange may impersonate (the actor still needs an impersonator role).
    pub enable_impersonation: bool,
}

fn invalid_origin(origin: &str) -> Error {
    Error::invalid(
        "SECPOL-0r1g1",
        "Errors.Instance.Domain.AllowedOriginInvalid",
        format!("allowed_origins: {origin:?} is not an origin like https://example.com"),
    )
}

/// Whether `s` is an origin as ZITADEL accepts it: a scheme, a host (name, IPv4 or bracketed
/// IPv6) and an optional port; no user info, path, query or fragment.
pub fn is_origin(s: &str) -> bool {
    let Some((scheme, authority)) = s.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let (host_ok, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let Some((addr, after)) = v6.split_once(']') else {
                return false;
            };
            let port = match after {
                "" => None,
                p => match p.strip_prefix(':') {
                    Some(p) => Some(p),
                    None => return false,
                },
            };
            (addr.parse::<std::net::Ipv6Addr>().is_ok(), port)
        }
        None => {
            let (host, port) = match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            };
            let label_ok =
                |l: &str| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            (host.split('.').all(label_ok), port)
        }
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && p.parse::<u16>().is_ok()
    });
    scheme_ok && host_ok && port_ok
}

impl SecurityPolicy {
    /// Trims the origins and checks each (the error names the bad one).
    pub fn normalized(mut self) -> Result<Self> {
        if self.allowed_origins.len() > MAX_ORIGINS {
            return Err(Error::invalid(
                "SECPOL-m4x0r",
                "Errors.Instance.Domain.AllowedOriginInvalid",
                format!("allowed_origins: at most {MAX_ORIGINS} origins"),
            ));
        }
        for o in &mut self.allowed_origins {
            *o = o.trim().to_string();
            if !is_origin(o) {
                return Err(invalid_origin(o));
            }
        }
        Ok(self)
    }

    /// The `frame-ancestors` directive for the login pages: the allowed origins when embedding
    /// is enabled (`'none'` while the list is empty), else `'none'`.
    pub fn frame_ancestors(&self) -> String {
        if self.enable_iframe_embedding && !self.allowed_origins.is_empty() {
            format!("frame-ancestors {}", self.allowed_origins.join(" "))
        } else {
            "frame-ancestors 'none'".to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        for ok in [
            "https://example.com",
            "http://localhost:8080",
            "https://a-b.example.co.uk",
            "https://[::1]:8443",
            "https://[2001:db8::1]",
            "app+x://host",
        ] {
            assert!(is_origin(ok), "{ok}");
        }
        for bad in [
            "",
            "example.com",
            "https://",
            "https://example.com/",
            "https://example.com/path",
            "https://example.com?q",
            "https://example.com#f",
            "https://user@example.com",
            "https://example.com:99999",
            "https://example.com:",
            "https://exa mple.com",
            "https://example.com; script-src *",
            "https://[::1]x",
            "https://[nope]",
            "1http://example.com",
            "https://example..com",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
        let p = SecurityPolicy {
            allowed_origins: vec![" https://a.example ".into()],
            ..Default::default()
        }
        .normalized()
        .expect("valid");
        assert_eq!(p.allowed_origins, ["https://a.example"]);
        assert!(SecurityPolicy {
            allowed_origins: vec!["https://a.example/".into()],
            ..Default::default()
        }
        .normalized()
        .is_err());
    }

    #[test]
    fn frame_ancestors() {
        let mut p = SecurityPolicy::default();
        assert_eq!(p.frame_ancestors(), "frame-ancestors 'none'");
        p.allowed_origins = vec!["https://a.example".into(), "https://b.example:8443".into()];
        assert_eq!(p.frame_ancestors(), "frame-ancestors 'none'");
        p.enable_iframe_embedding = true;
        assert_eq!(
            p.frame_ancestors(),
            "frame-ancestors https://a.example https://b.example:8443"
        );
    }
}
