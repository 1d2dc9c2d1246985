//! Access tokens as the provider issues them and the API gate accepts them.
//!
//! An access token carries its claims itself, in one of two forms chosen per app or machine
//! user: opaque (`OIDC_TOKEN_TYPE_BEARER`: the claims as JSON, sealed with AES-256-GCM under
//! the masterkey's `ACCESS_TOKEN` key, so only the issuing deployment can read them) or a JWT
//! signed with the instance's signing key. Neither form is stored: issuing a token writes
//! nothing, and the database does not grow with issued tokens. A token stops working before
//! its expiry when its id, its grant (the authorization code or refresh-token family that
//! produced it) or its session is in the revocation table, or when its user or client is no
//! longer active; every check of a token looks at those.

use crate::crypto::Cipher;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Prefix of sealed opaque tokens (`Cipher` output). JWTs start with `ey`.
pub const OPAQUE_PREFIX: &str = "v1.";

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessToken {
    /// Token id (`jti`): revoking it ends this token alone.
    #[serde(rename = "jti")]
    pub id: String,
    /// Instance that issued it (`iss` is its origin; the id is what the gate compares).
    #[serde(rename = "ins")]
    pub instance_id: String,
    /// The user (human or machine) the token acts for.
    #[serde(rename = "sub")]
    pub subject: String,
    /// Client id of the app it was issued to; for machine grants the machine's user name.
    #[serde(rename = "cid")]
    pub client_id: String,
    /// Audience: client ids and project ids (the ZITADEL project's id when the scope
    /// `urn:zitadel:iam:org:project:id:zitadel:aud` was granted).
    #[serde(rename = "aud")]
    pub audience: Vec<String>,
    /// Granted scopes.
    #[serde(rename = "scp")]
    pub scopes: Vec<String>,
    /// Issued at and expiry, seconds since the epoch.
    pub iat: i64,
    pub exp: i64,
    /// When the user authenticated (seconds), for tokens from a login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// Authentication methods (`pwd`, `mfa`, `otp`, `user`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The authorization request (code) or refresh-token family this token came from:
    /// revoking it ends every token of that grant.
    #[serde(rename = "gid", default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    /// The login session (`sid`): ending the session ends its tokens.
    #[serde(rename = "sid", default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// RFC 8693 actor (`act`) after an impersonating token exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<serde_json::Value>,
}

impl AccessToken {
    /// The ids that revoke this token: its own, its grant's and its session's.
    pub fn revocation_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str())
            .chain(self.grant_id.as_deref())
            .chain(self.session_id.as_deref())
    }

    /// Seals the claims into an opaque token.
    pub fn seal(&self, cipher: &Cipher) -> Result<String> {
        let json =
            serde_json::to_vec(self).map_err(|e| Error::internal("TOKEN-s3r1a", e.to_string()))?;
        cipher.encrypt(&json)
    }

    /// Opens an opaque token; `None` when it is not one of ours (wrong key, tampered, garbage).
    pub fn open(token: &str, cipher: &Cipher) -> Option<AccessToken> {
        if !token.starts_with(OPAQUE_PREFIX) || token.len() > 8192 {
            return None;
        }
        let plain = cipher.decrypt(token).ok()?;
        serde_json::from_slice(&plain).ok()
    }
}

/// Whether a bearer value has the shape of a compact JWS (three base64url parts).
pub fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("ey") && token.split('.').count() == 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Masterkey, ACCESS_TOKEN, SMTP_PASSWORD};

    fn sample() -> AccessToken {
        AccessToken {
            id: "1".into(),
            instance_id: "i".into(),
            subject: "u".into(),
            client_id: "c@p".into(),
            audience: vec!["c@p".into(), "p".into()],
            scopes: vec!["openid".into()],
            iat: 10,
            exp: 20,
            auth_time: None,
            amr: vec![],
            grant_id: Some("g".into()),
            session_id: None,
            act: None,
        }
    }

    #[test]
    fn seal_open_roundtrip_and_rejects_others() {
        let mk = Masterkey::parse("0123456789abcdef0123456789abcdef").expect("key");
        let c = mk.cipher(ACCESS_TOKEN).expect("cipher");
        let t = sample().seal(&c).expect("seal");
        assert!(t.starts_with(OPAQUE_PREFIX));
        assert_eq!(AccessToken::open(&t, &c), Some(sample()));
        let other = mk.cipher(SMTP_PASSWORD).expect("cipher");
        assert_eq!(AccessToken::open(&t, &other), None);
        let mut bad = t.clone();
        bad.pop();
        assert_eq!(AccessToken::open(&bad, &c), None);
        assert_eq!(AccessToken::open("garbage", &c), None);
        let s = sample();
        let ids: Vec<&str> = s.revocation_ids().collect();
        assert_eq!(ids, ["1", "g"]);
        assert!(looks_like_jwt("eyJh.eyJ.sig"));
        assert!(!looks_like_jwt(&t));
    }
}
