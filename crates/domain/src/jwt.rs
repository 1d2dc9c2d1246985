//! JSON Web Tokens signed by someone else: parsing, signature verification with a public key
//! (RS256, ES256, EdDSA) and the time and audience checks. Used for system users' self-signed
//! tokens and, later, the JWT profile grant and private_key_jwt client authentication.

use crate::{Error, Kind, Result};
use base64::Engine;
use serde_json::Value;

/// A signature algorithm we verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    RS256,
    ES256,
    EdDSA,
}

impl Alg {
    /// The algorithm named `name` (`RS256`, `ES256`, `EdDSA`).
    pub fn parse(name: &str) -> Option<Alg> {
        [Alg::RS256, Alg::ES256, Alg::EdDSA]
            .into_iter()
            .find(|a| a.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::ES256 => "ES256",
            Alg::EdDSA => "EdDSA",
        }
    }
}

/// A public key that verifies signatures of one algorithm.
#[derive(Debug, Clone)]
pub struct VerifyingKey {
    pub alg: Alg,
    /// What aws-lc-rs verifies with: SPKI or PKCS#1 DER for RSA, the raw point or key otherwise.
    key: Vec<u8>,
}

fn bad_key(detail: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::invalid("JWT-k3y01", "Errors.Key.Invalid", detail)
}

fn unauthenticated(id: &'static str, detail: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(Kind::Unauthenticated, id, "Errors.Token.Invalid").with(detail)
}

/// The DER bytes of every PEM block of `pem`, with their labels.
pub fn pem_blocks(pem: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut label: Option<String> = None;
    let mut body = String::new();
    for line in pem.lines().map(str::trim) {
        if let Some(l) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            label = Some(l.to_string());
            body.clear();
        } else if line.starts_with("-----END ") {
            if let Some(l) = label.take() {
                if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(&body) {
                    out.push((l, der));
                }
            }
        } else if label.is_some() {
            body.push_str(line);
        }
    }
    out
}

/// Reads one DER TLV at `pos`: (tag, content start, content end).
pub fn der_tlv(d: &[u8], pos: usize) -> Option<(u8, usize, usize)> {
    let tag = *d.get(pos)?;
    let first = *d.get(pos + 1)? as usize;
    let (len, start) = if first < 0x80 {
        (first, pos + 2)
    } else {
        let n = first & 0x7f;
        if n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *d.get(pos + 2 + i)? as usize;
        }
        (len, pos + 2 + n)
    };
    (start.checked_add(len)? <= d.len()).then_some((tag, start, start + len))
}

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// Splits a SubjectPublicKeyInfo into (algorithm identifier contents, key bits).
fn spki_parts(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (t, s, e) = der_tlv(der, 0)?;
    if t != 0x30 || e != der.len() {
        return None;
    }
    let (t, as_, ae) = der_tlv(der, s)?;
    if t != 0x30 {
        return None;
    }
    let (t, bs, be) = der_tlv(der, ae)?;
    if t != 0x03 || be != e || bs >= be || der[bs] != 0 {
        return None;
    }
    Some((&der[as_..ae], &der[bs + 1..be]))
}

fn has_oid(alg_id: &[u8], oid: &[u8]) -> bool {
    let mut pos = 0;
    while let Some((t, s, e)) = der_tlv(alg_id, pos) {
        if t == 0x06 && &alg_id[s..e] == oid {
            return true;
        }
        pos = e;
    }
    false
}

impl VerifyingKey {
    /// A key from PEM: `PUBLIC KEY` (SubjectPublicKeyInfo of RSA, P-256 or Ed25519) or
    /// `RSA PUBLIC KEY` (PKCS#1).
    pub fn from_pem(pem: &str) -> Result<Self> {
        let blocks = pem_blocks(pem);
        let (label, der) = blocks
            .into_iter()
            .find(|(l, _)| l.ends_with("PUBLIC KEY"))
            .ok_or_else(|| bad_key("no PEM block with a public key"))?;
        if label == "RSA PUBLIC KEY" {
            return Ok(VerifyingKey {
                alg: Alg::RS256,
                key: der,
            });
        }
        Self::from_spki(&der)
    }

    /// A key from SubjectPublicKeyInfo DER.
    pub fn from_spki(der: &[u8]) -> Result<Self> {
        let (alg_id, bits) =
            spki_parts(der).ok_or_else(|| bad_key("not a SubjectPublicKeyInfo structure"))?;
        if has_oid(alg_id, OID_RSA) {
            Ok(VerifyingKey {
                alg: Alg::RS256,
                key: der.to_vec(),
            })
        } else if has_oid(alg_id, OID_EC) && has_oid(alg_id, OID_P256) {
            Ok(VerifyingKey {
                alg: Alg::ES256,
                key: bits.to_vec(),
            })
        } else if has_oid(alg_id, OID_ED25519) {
            Ok(VerifyingKey {
                alg: Alg::EdDSA,
                key: bits.to_vec(),
            })
        } else {
            Err(bad_key(
                "unsupported key type (RSA, EC P-256 and Ed25519 are supported)",
            ))
        }
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        use aws_lc_rs::signature as sig;
        let alg: &dyn sig::VerificationAlgorithm = match self.alg {
            Alg::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            Alg::ES256 => &sig::ECDSA_P256_SHA256_FIXED,
            Alg::EdDSA => &sig::ED25519,
        };
        sig::UnparsedPublicKey::new(alg, &self.key)
            .verify(message, signature)
            .is_ok()
    }
}

/// A parsed, not yet verified, compact JWS.
#[derive(Debug, Clone)]
pub struct Jwt {
    pub header: Value,
    pub claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

fn b64url(part: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()
}

/// Largest token we look at.
pub const MAX_LEN: usize = 16 * 1024;

impl Jwt {
    /// Parses a compact JWS; the signature is checked by [`Jwt::verify`].
    pub fn parse(token: &str) -> Result<Self> {
        if token.len() > MAX_LEN {
            return Err(unauthenticated("JWT-l3n01", "the token is too long"));
        }
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(unauthenticated(
                "JWT-f0rm1",
                "the token is not a JWT (three base64url parts)",
            ));
        };
        let json = |p: &str| -> Option<Value> {
            let v: Value = serde_json::from_slice(&b64url(p)?).ok()?;
            v.is_object().then_some(v)
        };
        let header = json(h).ok_or_else(|| unauthenticated("JWT-h3ad1", "malformed header"))?;
        let claims = json(c).ok_or_else(|| unauthenticated("JWT-cl4m1", "malformed claims"))?;
        let signature =
            b64url(s).ok_or_else(|| unauthenticated("JWT-s1g01", "malformed signature"))?;
        Ok(Jwt {
            header,
            claims,
            signing_input: format!("{h}.{c}"),
            signature,
        })
    }

    /// A string claim.
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// Verifies the signature with `key`; the header's `alg` must be the key's.
    pub fn verify(&self, key: &VerifyingKey) -> Result<()> {
        let alg = self.header.get("alg").and_then(Value::as_str).unwrap_or("");
        if alg != key.alg.name() {
            return Err(unauthenticated(
                "JWT-a1g01",
                format!("alg \"{alg}\" does not match the key ({})", key.alg.name()),
            ));
        }
        if !key.verify(self.signing_input.as_bytes(), &self.signature) {
            return Err(unauthenticated("JWT-s1g02", "signature invalid"));
        }
        Ok(())
    }

    /// Checks `exp` (required), `nbf` and `iat` against `now` (seconds) with `skew` seconds.
    pub fn check_times(&self, now: i64, skew: i64, max_age: Option<i64>) -> Result<()> {
        let num = |n: &str| self.claims.get(n).and_then(Value::as_f64).map(|f| f as i64);
        let exp = num("exp").ok_or_else(|| unauthenticated("JWT-3xp01", "exp is missing"))?;
        if exp + skew < now {
            return Err(unauthenticated("JWT-3xp02", "the token has expired"));
        }
        if num("nbf").is_some_and(|nbf| nbf - skew > now) {
            return Err(unauthenticated("JWT-nbf01", "the token is not valid yet"));
        }
        if let Some(iat) = num("iat") {
            if iat - skew > now {
                return Err(unauthenticated("JWT-1at01", "iat is in the future"));
            }
            if max_age.is_some_and(|m| now - iat > m + skew) {
                return Err(unauthenticated(
                    "JWT-1at02",
                    "the token was issued too long ago",
                ));
            }
        }
        Ok(())
    }

    /// Whether `aud` (a string or an array) contains one of `accepted`.
    pub fn audience_contains(&self, accepted: &[String]) -> bool {
        let matches = |a: &str| {
            let a = a.trim_end_matches('/');
            accepted.iter().any(|x| x.trim_end_matches('/') == a)
        };
        match self.claims.get("aud") {
            Some(Value::String(a)) => matches(a),
            Some(Value::Array(v)) => v.iter().filter_map(Value::as_str).any(matches),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
    use aws_lc_rs::signature::KeyPair;

    fn enc(v: &Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    }

    fn pem(der: &[u8]) -> String {
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        )
    }

    #[test]
    fn rs256_round_trip_and_tampering() {
        let kp = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("kp");
        let spki: PublicKeyX509Der = kp.public_key().as_der().expect("der");
        let key = VerifyingKey::from_pem(&pem(spki.as_ref())).expect("key");
        assert_eq!(key.alg, Alg::RS256);
        let input = format!(
            "{}.{}",
            enc(&serde_json::json!({"alg":"RS256"})),
            enc(
                &serde_json::json!({"iss":"sys","exp":2000,"iat":1000,"aud":["https://a.example"]})
            )
        );
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let mut sig = vec![0; kp.public_modulus_len()];
        kp.sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &rng,
            input.as_bytes(),
            &mut sig,
        )
        .expect("sign");
        let token = format!(
            "{input}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&sig)
        );
        let jwt = Jwt::parse(&token).expect("parse");
        jwt.verify(&key).expect("verify");
        assert_eq!(jwt.claim("iss"), Some("sys"));
        assert!(jwt.audience_contains(&["https://a.example/".into()]));
        assert!(!jwt.audience_contains(&["https://b.example".into()]));
        jwt.check_times(1500, 0, None).expect("valid");
        assert!(jwt.check_times(2100, 60, None).is_err());
        assert!(jwt.check_times(900, 60, None).is_err());
        assert!(jwt.check_times(1500, 0, Some(100)).is_err());
        let mut bad = token.clone().into_bytes();
        let n = bad.len() - 5;
        bad[n] = if bad[n] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).expect("utf8");
        assert!(Jwt::parse(&bad).and_then(|j| j.verify(&key)).is_err());
    }

    #[test]
    fn ed25519_and_garbage() {
        let kp = aws_lc_rs::signature::Ed25519KeyPair::generate().expect("kp");
        let spki: PublicKeyX509Der = kp.public_key().as_der().expect("der");
        let key = VerifyingKey::from_spki(spki.as_ref()).expect("key");
        assert_eq!(key.alg, Alg::EdDSA);
        let input = format!(
            "{}.{}",
            enc(&serde_json::json!({"alg":"EdDSA"})),
            enc(&serde_json::json!({"exp":1}))
        );
        let sig = kp.sign(input.as_bytes());
        let token = format!(
            "{input}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig.as_ref())
        );
        Jwt::parse(&token)
            .expect("parse")
            .verify(&key)
            .expect("verify");
        for t in ["", "a.b", "a.b.c.d", "!!.??.**", &"x".repeat(MAX_LEN + 1)] {
            assert!(Jwt::parse(t).is_err(), "{t:.20}");
        }
        assert!(VerifyingKey::from_pem(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
        )
        .is_err());
        assert!(VerifyingKey::from_pem("nothing").is_err());
    }
}
