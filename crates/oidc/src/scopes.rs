//! Requested scopes: the standard ones and ZITADEL's reserved `urn:zitadel:iam:*` scopes are
//! kept, anything else is dropped (as ZITADEL does); project audience scopes widen `aud`.

pub const OPENID: &str = "openid";
pub const OFFLINE_ACCESS: &str = "offline_access";
/// Puts the instance's IAM project (Castellan: the instance id) into `aud`.
pub const ZITADEL_AUD: &str = "urn:zitadel:iam:org:project:id:zitadel:aud";
const PROJECT_AUD_PREFIX: &str = "urn:zitadel:iam:org:project:id:";
const ORG_ID_PREFIX: &str = "urn:zitadel:iam:org:id:";
const ORG_DOMAIN_PREFIX: &str = "urn:zitadel:iam:org:domain:primary:";

/// The concrete scopes Castellan understands, for discovery (the templated reserved scopes,
/// `urn:zitadel:iam:org:project:id:{id}:aud` and the like, are understood too). `address` is
/// accepted but not advertised: no postal addresses are stored, so it yields no claim, and
/// relying parties (and the OpenID conformance suite) read `scopes_supported` as a promise.
pub const SUPPORTED: &[&str] = &[
    "openid",
    "profile",
    "email",
    "phone",
    "offline_access",
    "urn:zitadel:iam:org:project:id:zitadel:aud",
    "urn:zitadel:iam:org:projects:roles",
    "urn:zitadel:iam:user:metadata",
    "urn:zitadel:iam:user:resourceowner",
];

const STANDARD: &[&str] = &[
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "offline_access",
];
const EXACT: &[&str] = &[
    "urn:zitadel:iam:org:projects:roles",
    "urn:zitadel:iam:user:metadata",
    "urn:zitadel:iam:user:resourceowner",
];
const PREFIXES: &[&str] = &[
    ORG_ID_PREFIX,
    ORG_DOMAIN_PREFIX,
    "urn:zitadel:iam:org:project:role:",
    "urn:zitadel:iam:org:roles:id:",
];

fn known(s: &str) -> bool {
    STANDARD.contains(&s)
        || EXACT.contains(&s)
        || PREFIXES
            .iter()
            .any(|p| s.len() > p.len() && s.starts_with(p))
        || project_of(s).is_some()
}

/// The project id of an audience scope `urn:zitadel:iam:org:project:id:{id}:aud` (`zitadel`
/// for the IAM project).
fn project_of(s: &str) -> Option<&str> {
    s.strip_prefix(PROJECT_AUD_PREFIX)?
        .strip_suffix(":aud")
        .filter(|id| !id.is_empty() && !id.contains(':'))
}

/// The known scopes of a space-separated `scope` value, each once, in request order.
pub fn parse(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split_ascii_whitespace() {
        if known(s) && !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    out
}

/// `base` followed by the projects the scopes ask for (the instance id for the IAM project).
pub fn audience(base: &[String], scopes: &[String], instance: &str) -> Vec<String> {
    let mut out = base.to_vec();
    for s in scopes {
        let id = match project_of(s) {
            Some("zitadel") => instance,
            Some(id) => id,
            None => continue,
        };
        if !out.iter().any(|o| o == id) {
            out.push(id.to_string());
        }
    }
    out
}

/// The scopes a machine grant keeps: no `offline_access` (no refresh token), and organisation
/// scopes only when they name the machine user's own organisation.
pub fn for_machine(scopes: Vec<String>, org_id: &str, org_domain: &str) -> Vec<String> {
    scopes
        .into_iter()
        .filter(|s| {
            if s == OFFLINE_ACCESS {
                return false;
            }
            if let Some(id) = s.strip_prefix(ORG_ID_PREFIX) {
                return id == org_id;
            }
            if let Some(d) = s.strip_prefix(ORG_DOMAIN_PREFIX) {
                return d.eq_ignore_ascii_case(org_domain);
            }
            true
        })
        .collect()
}

/// Whether every scope of `narrower` is in `granted`.
pub fn subset(narrower: &[String], granted: &[String]) -> bool {
    narrower.iter().all(|s| granted.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_known_scopes_and_widens_the_audience() {
        let s = parse(
            "openid bogus email openid urn:zitadel:iam:org:project:id:123:aud \
             urn:zitadel:iam:org:project:id:zitadel:aud urn:zitadel:iam:org:project:id::aud \
             urn:zitadel:iam:org:id: urn:zitadel:iam:org:id:9 urn:zitadel:iam:user:metadata",
        );
        assert_eq!(
            s,
            [
                "openid",
                "email",
                "urn:zitadel:iam:org:project:id:123:aud",
                ZITADEL_AUD,
                "urn:zitadel:iam:org:id:9",
                "urn:zitadel:iam:user:metadata"
            ]
        );
        let aud = audience(&["c".into(), "123".into()], &s, "inst");
        assert_eq!(aud, ["c", "123", "inst"]);
        let m = for_machine(
            parse("openid offline_access urn:zitadel:iam:org:id:9 urn:zitadel:iam:org:id:8"),
            "9",
            "",
        );
        assert_eq!(m, ["openid", "urn:zitadel:iam:org:id:9"]);
        assert!(subset(&["openid".into()], &s));
        assert!(!subset(&["profile".into()], &s));
    }
}
