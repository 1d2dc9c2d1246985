//! System API test support: a system user with a fresh RSA key, its self-signed JWTs, and
//! requests addressed to another instance by its host.

use crate::TestServer;
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::signature::KeyPair;
use base64::Engine;
use castellan_server::config::Config;
use serde_json::Value;

/// A system user's key pair.
pub struct SystemUser {
    pub name: String,
    key: aws_lc_rs::rsa::KeyPair,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl SystemUser {
    /// A new system user `name` with a fresh RSA-2048 key.
    pub fn new(name: &str) -> Self {
        SystemUser {
            name: name.to_string(),
            key: aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .unwrap_or_else(|e| panic!("rsa: {e}")),
        }
    }

    /// The public key as PEM.
    pub fn public_pem(&self) -> String {
        let der: PublicKeyX509Der = self
            .key
            .public_key()
            .as_der()
            .unwrap_or_else(|e| panic!("der: {e}"));
        let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n")
    }

    /// Adds this user to `cfg` as ZITADEL configures it (KeyData, optional roles).
    pub fn configure(&self, cfg: &mut Config, roles: &[&str]) {
        let data = base64::engine::general_purpose::STANDARD.encode(self.public_pem());
        let mut entry = serde_json::json!({ "KeyData": data });
        if !roles.is_empty() {
            entry["Memberships"] = serde_json::json!([{ "MemberType": "System", "Roles": roles }]);
        }
        if !cfg.system_api_users.is_array() {
            cfg.system_api_users = Value::Array(Vec::new());
        }
        if let Value::Array(a) = &mut cfg.system_api_users {
            a.push(serde_json::json!({ self.name.clone(): entry }));
        }
    }

    /// A JWT with these claims, signed with this user's key.
    pub fn sign(&self, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64url(br#"{"alg":"RS256","typ":"JWT"}"#),
            b64url(claims.to_string().as_bytes())
        );
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let mut sig = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &rng,
                input.as_bytes(),
                &mut sig,
            )
            .unwrap_or_else(|e| panic!("sign: {e}"));
        format!("{input}.{}", b64url(&sig))
    }

    /// A valid token for `aud` (iss = sub = the user's name, one hour).
    pub fn token(&self, aud: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.sign(&serde_json::json!({
            "iss": self.name, "sub": self.name, "aud": aud, "iat": now, "exp": now + 3600
        }))
    }
}

impl TestServer {
    /// The external origin test servers run under (audience of system JWTs).
    pub fn origin(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    /// Sends a REST request addressed to `host` (the instance it selects).
    pub async fn call_host(
        &self,
        host: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
        org: Option<&str>,
    ) -> (u16, Value) {
        self.send(Some(host), method, path, body, token, org).await
    }
}

/// An instance created through the system API for a test.
pub struct CreatedInstance {
    pub id: String,
    /// The PAT of its first machine user (`boss-sa`, IAM_OWNER).
    pub pat: String,
    /// Its generated domain (add the server's port for `call_host`).
    pub host: String,
}

impl SystemUser {
    /// Creates instance `name` (first org `{name} org`, machine `boss-sa` with a PAT) and reads
    /// its generated domain; panics unless both calls answer 200.
    pub async fn create_instance(&self, s: &TestServer, name: &str) -> CreatedInstance {
        let t = self.token(&s.origin());
        let body = serde_json::json!({
            "instanceName": name,
            "firstOrgName": format!("{name} org"),
            "machine": { "userName": "boss-sa", "name": "Boss", "personalAccessToken": {} }
        });
        let (st, r) = s
            .call(
                "POST",
                "/system/v1/instances/_create",
                Some(body),
                Some(&t),
                None,
            )
            .await;
        assert_eq!(st, 200, "CreateInstance: {r}");
        let text = |v: &Value, k: &str| v[k].as_str().expect(k).to_string();
        let id = text(&r, "instanceId");
        let (st, got) = s
            .call(
                "GET",
                &format!("/system/v1/instances/{id}"),
                None,
                Some(&t),
                None,
            )
            .await;
        assert_eq!(st, 200, "GetInstance: {got}");
        let host = got["instance"]["domains"]
            .as_array()
            .expect("domains")
            .iter()
            .find(|d| d["generated"] == true)
            .and_then(|d| d["domain"].as_str())
            .expect("generated domain")
            .to_string();
        CreatedInstance {
            pat: text(&r, "pat"),
            id,
            host,
        }
    }
}
