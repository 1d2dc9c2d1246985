//! Our own signing keys: generating them (RS256, ES256, EdDSA), signing JWTs with them, and
//! publishing their public halves as JWKs. Keys are kept parsed: signing never re-reads DER.

use crate::jwt::{Alg, VerifyingKey};
use crate::{Error, Result};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{self as sig, KeyPair};
use base64::Engine;
use serde_json::{json, Value};

enum Key {
    Rsa(sig::RsaKeyPair),
    Ec(sig::EcdsaKeyPair),
    Ed(sig::Ed25519KeyPair),
}

/// A private signing key with its key id.
pub struct Signer {
    pub kid: String,
    pub alg: Alg,
    key: Key,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn internal(id: &'static str, e: impl std::fmt::Display) -> Error {
    Error::internal(id, e.to_string())
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The unsigned big-endian value of a DER INTEGER's contents (leading zero dropped).
fn unsigned(bytes: &[u8]) -> &[u8] {
    match bytes {
        [0, rest @ ..] if !rest.is_empty() => rest,
        b => b,
    }
}

impl Signer {
    /// A new key pair; returns the signer and its PKCS#8 DER (to be stored encrypted).
    pub fn generate(alg: Alg, kid: &str) -> Result<(Signer, Vec<u8>)> {
        let der: Vec<u8> = match alg {
            Alg::RS256 => {
                let kp = sig::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(|e| internal("JWS-g3n01", e))?;
                kp.as_der()
                    .map_err(|e| internal("JWS-d3r01", e))?
                    .as_ref()
                    .to_vec()
            }
            Alg::ES256 => {
                let kp = sig::EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(|e| internal("JWS-g3n02", e))?;
                kp.to_pkcs8v1()
                    .map_err(|e| internal("JWS-d3r02", e))?
                    .as_ref()
                    .to_vec()
            }
            Alg::EdDSA => {
                let kp = sig::Ed25519KeyPair::generate().map_err(|e| internal("JWS-g3n03", e))?;
                kp.to_pkcs8v1()
                    .map_err(|e| internal("JWS-d3r03", e))?
                    .as_ref()
                    .to_vec()
            }
        };
        Ok((Self::from_pkcs8(alg, kid, &der)?, der))
    }

    /// A signer from stored PKCS#8 DER.
    pub fn from_pkcs8(alg: Alg, kid: &str, der: &[u8]) -> Result<Signer> {
        let key = match alg {
            Alg::RS256 => {
                Key::Rsa(sig::RsaKeyPair::from_pkcs8(der).map_err(|e| internal("JWS-p8r01", e))?)
            }
            Alg::ES256 => Key::Ec(
                sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|e| internal("JWS-p8r02", e))?,
            ),
            Alg::EdDSA => Key::Ed(
                sig::Ed25519KeyPair::from_pkcs8(der)
                    .or_else(|_| sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der))
                    .map_err(|e| internal("JWS-p8r03", e))?,
            ),
        };
        Ok(Signer {
            kid: kid.to_string(),
            alg,
            key,
        })
    }

    /// Signs `input` with the key's algorithm.
    pub fn sign(&self, input: &[u8]) -> Result<Vec<u8>> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match &self.key {
            Key::Rsa(k) => {
                let mut out = vec![0; k.public_modulus_len()];
                k.sign(&sig::RSA_PKCS1_SHA256, &rng, input, &mut out)
                    .map_err(|e| internal("JWS-s1g01", e))?;
                Ok(out)
            }
            Key::Ec(k) => Ok(k
                .sign(&rng, input)
                .map_err(|e| internal("JWS-s1g02", e))?
                .as_ref()
                .to_vec()),
            Key::Ed(k) => Ok(k.sign(input).as_ref().to_vec()),
        }
    }

    /// A compact JWS of `claims` with header `{alg, kid, typ}`.
    pub fn sign_jwt(&self, typ: &str, claims: &Value) -> Result<String> {
        let header = json!({"alg": self.alg.name(), "kid": self.kid, "typ": typ});
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let s = self.sign(input.as_bytes())?;
        Ok(format!("{input}.{}", b64url(&s)))
    }

    /// The public key as a JWK (`kid`, `alg`, `use: sig`).
    pub fn jwk(&self) -> Result<Value> {
        let mut jwk = match &self.key {
            Key::Rsa(k) => {
                // PKCS#1 RSAPublicKey: SEQUENCE { modulus INTEGER, exponent INTEGER }.
                let der = k.public_key().as_ref();
                let parts = crate::jwt::der_tlv(der, 0)
                    .and_then(|(_, s, _)| {
                        let (_, ns, ne) = crate::jwt::der_tlv(der, s)?;
                        let (_, es, ee) = crate::jwt::der_tlv(der, ne)?;
                        Some((&der[ns..ne], &der[es..ee]))
                    })
                    .ok_or_else(|| internal("JWS-jwk01", "unexpected RSA public key encoding"))?;
                json!({"kty": "RSA", "n": b64url(unsigned(parts.0)), "e": b64url(unsigned(parts.1))})
            }
            Key::Ec(k) => {
                let p = k.public_key().as_ref();
                if p.len() != 65 || p[0] != 4 {
                    return Err(internal("JWS-jwk02", "unexpected EC point encoding"));
                }
                json!({"kty": "EC", "crv": "P-256", "x": b64url(&p[1..33]), "y": b64url(&p[33..])})
            }
            Key::Ed(k) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(k.public_key().as_ref())})
            }
        };
        jwk["kid"] = self.kid.clone().into();
        jwk["alg"] = self.alg.name().into();
        jwk["use"] = "sig".into();
        Ok(jwk)
    }

    /// The public key as SubjectPublicKeyInfo DER.
    pub fn spki(&self) -> Result<Vec<u8>> {
        Ok(match &self.key {
            Key::Rsa(k) => k
                .public_key()
                .as_der()
                .map_err(|e| internal("JWS-spk01", e))?
                .as_ref()
                .to_vec(),
            Key::Ec(k) => k
                .public_key()
                .as_der()
                .map_err(|e| internal("JWS-spk02", e))?
                .as_ref()
                .to_vec(),
            Key::Ed(k) => k
                .public_key()
                .as_der()
                .map_err(|e| internal("JWS-spk03", e))?
                .as_ref()
                .to_vec(),
        })
    }

    /// The key that verifies this signer's signatures.
    pub fn verifying_key(&self) -> Result<VerifyingKey> {
        VerifyingKey::from_spki(&self.spki()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::Jwt;

    #[test]
    fn every_algorithm_signs_and_verifies_and_round_trips_pkcs8() {
        for alg in [Alg::RS256, Alg::ES256, Alg::EdDSA] {
            let (s, der) = Signer::generate(alg, "k1").expect("generate");
            let again = Signer::from_pkcs8(alg, "k1", &der).expect("pkcs8");
            let token = again
                .sign_jwt("JWT", &json!({"sub": "u", "exp": 10}))
                .expect("sign");
            let jwt = Jwt::parse(&token).expect("parse");
            assert_eq!(jwt.header["kid"], "k1");
            jwt.verify(&s.verifying_key().expect("vk")).expect("verify");
            let jwk = s.jwk().expect("jwk");
            assert_eq!(jwk["alg"], alg.name());
            assert_eq!(jwk["use"], "sig");
        }
    }

    #[test]
    fn rsa_jwk_has_a_2048_bit_modulus_and_65537() {
        let (s, _) = Signer::generate(Alg::RS256, "r").expect("generate");
        let jwk = s.jwk().expect("jwk");
        let n = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwk["n"].as_str().expect("n"))
            .expect("b64");
        assert_eq!(n.len(), 256);
        assert_eq!(jwk["e"], "AQAB");
    }
}
