//! Encryption of small secrets at rest (SMTP passwords, later signing keys) with keys derived
//! from the masterkey.
//!
//! Each purpose gets its own AES-256-GCM key: HKDF-SHA256 over the masterkey with the purpose
//! label as info, so a value encrypted for one purpose never decrypts under another (the label is
//! also the associated data). A sealed value is text: `v1.` followed by base64url (no padding) of
//! a random 96-bit nonce, the ciphertext and the 128-bit tag. The version prefix lets us change
//! the scheme or rotate keys later without guessing.

use crate::{Error, Result};
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hkdf::{Salt, HKDF_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Purpose label of SMTP passwords.
pub const SMTP_PASSWORD: &str = "castellan/smtp-password";
/// Purpose label of the private halves of token signing keys.
pub const SIGNING_KEY: &str = "castellan/signing-key";
/// Purpose label of opaque access tokens (their claims, sealed).
pub const ACCESS_TOKEN: &str = "castellan/access-token";
/// Purpose label of authorization requests travelling through the login (`authRequestID`).
pub const AUTH_REQUEST: &str = "castellan/auth-request";

const VERSION: &str = "v1.";
const SALT: &[u8] = b"castellan masterkey v1";

/// The masterkey (32 characters). Its `Debug` never shows it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Masterkey(Vec<u8>);

impl std::fmt::Debug for Masterkey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Masterkey(unset)"
        } else {
            "Masterkey(<redacted>)"
        })
    }
}

impl Masterkey {
    /// Accepts exactly 32 characters, as ZITADEL.
    pub fn parse(key: &str) -> Result<Self> {
        let n = key.chars().count();
        if n != 32 {
            return Err(Error::invalid(
                "CRYPT-mk32c",
                "Errors.Masterkey.Invalid",
                format!("the masterkey must be exactly 32 characters (got {n})"),
            ));
        }
        Ok(Masterkey(key.as_bytes().to_vec()))
    }

    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }

    /// The cipher of one purpose.
    pub fn cipher(&self, purpose: &'static str) -> Result<Cipher> {
        if !self.is_set() {
            return Err(Error::internal("CRYPT-n0key", "no masterkey configured"));
        }
        let prk = Salt::new(HKDF_SHA256, SALT).extract(&self.0);
        let info = [purpose.as_bytes()];
        let okm = prk
            .expand(&info, &AES_256_GCM)
            .map_err(|_| Error::internal("CRYPT-hkdf1", "key derivation failed"))?;
        Ok(Cipher {
            key: LessSafeKey::new(UnboundKey::from(okm)),
            purpose,
        })
    }
}

/// AES-256-GCM with a key of one purpose.
pub struct Cipher {
    key: LessSafeKey,
    purpose: &'static str,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cipher({})", self.purpose)
    }
}

fn corrupt(detail: &'static str) -> Error {
    Error::internal("CRYPT-d3crp", detail)
}

impl Cipher {
    /// Seals `plain` with a fresh random nonce.
    pub fn encrypt(&self, plain: &[u8]) -> Result<String> {
        let mut nonce_bytes = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce_bytes)
            .map_err(|_| Error::internal("CRYPT-rand1", "no randomness for a nonce"))?;
        let mut buf = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(self.purpose.as_bytes()),
                &mut buf,
            )
            .map_err(|_| Error::internal("CRYPT-s3al1", "encryption failed"))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// Opens a value sealed by `encrypt`; fails on any change to it or on another key.
    pub fn decrypt(&self, sealed: &str) -> Result<Vec<u8>> {
        let body = sealed
            .strip_prefix(VERSION)
            .ok_or_else(|| corrupt("unknown secret format"))?;
        let raw = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| corrupt("secret is not base64"))?;
        if raw.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(corrupt("secret is too short"));
        }
        let (n, ct) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(n).map_err(|_| corrupt("bad nonce"))?;
        let mut buf = ct.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(self.purpose.as_bytes()), &mut buf)
            .map_err(|_| corrupt("secret cannot be decrypted (wrong masterkey or tampered)"))?;
        Ok(plain.to_vec())
    }

    /// `decrypt` for text secrets.
    pub fn decrypt_string(&self, sealed: &str) -> Result<String> {
        String::from_utf8(self.decrypt(sealed)?).map_err(|_| corrupt("secret is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Masterkey {
        Masterkey::parse(s).expect("key")
    }
    const K: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn roundtrip_with_random_nonce() {
        let c = key(K).cipher(SMTP_PASSWORD).expect("cipher");
        let a = c.encrypt(b"s3cret").expect("enc");
        let b = c.encrypt(b"s3cret").expect("enc");
        assert!(a.starts_with("v1."));
        assert_ne!(a, b, "nonces must differ");
        assert!(!a.contains("s3cret"));
        assert_eq!(c.decrypt(&a).expect("dec"), b"s3cret");
        assert_eq!(c.decrypt_string(&b).expect("dec"), "s3cret");
        assert_eq!(
            c.decrypt_string(&c.encrypt(b"").expect("e")).expect("d"),
            ""
        );
    }

    #[test]
    fn tampering_and_wrong_keys_fail() {
        let c = key(K).cipher(SMTP_PASSWORD).expect("cipher");
        let sealed = c.encrypt(b"hello world").expect("enc");
        let raw = URL_SAFE_NO_PAD.decode(&sealed[3..]).expect("b64");
        for i in 0..raw.len() {
            let mut t = raw.clone();
            t[i] ^= 1;
            let s = format!("v1.{}", URL_SAFE_NO_PAD.encode(&t));
            assert!(c.decrypt(&s).is_err(), "flipping byte {i} must fail");
        }
        assert!(c.decrypt(&raw_prefix(&sealed, "v2.")).is_err());
        assert!(c.decrypt("v1.").is_err());
        assert!(c.decrypt("v1.!!!").is_err());
        let other = key("ffffffffffffffffffffffffffffffff")
            .cipher(SMTP_PASSWORD)
            .expect("cipher");
        assert!(other.decrypt(&sealed).is_err());
        let purpose = key(K).cipher("another purpose").expect("cipher");
        assert!(purpose.decrypt(&sealed).is_err());
    }

    fn raw_prefix(sealed: &str, p: &str) -> String {
        format!("{p}{}", &sealed[3..])
    }

    #[test]
    fn masterkey_rules_and_debug() {
        assert!(Masterkey::parse("short").is_err());
        assert!(Masterkey::parse(&"x".repeat(33)).is_err());
        let k = key(K);
        assert!(!format!("{k:?}").contains("0123"));
        assert!(Masterkey::default().cipher(SMTP_PASSWORD).is_err());
    }
}
