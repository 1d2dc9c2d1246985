//! Key rotation under load (issue 4): keys sign for two seconds and are published for thirty;
//! for eight seconds several tasks get JWT access tokens while others verify each one as a
//! relying party would (the JWK set it holds, fetched again on an unknown kid) and through the
//! API gate. Every token must verify, and several keys must have signed.

use super::login::db_text;
use super::oidc_token::{machine_with_secret, token};
use super::*;
use aws_lc_rs::signature as sig;
use base64::Engine;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
const RUN: Duration = Duration::from_secs(8);

/// What the relying party holds: the last JWK set it fetched.
struct Rp {
    jwks: Mutex<Value>,
    fetches: AtomicUsize,
}

impl Rp {
    fn key(&self, kid: &str) -> Option<Value> {
        let set = self.jwks.lock().unwrap_or_else(|e| e.into_inner());
        set["keys"]
            .as_array()?
            .iter()
            .find(|k| k["kid"] == kid)
            .cloned()
    }

    async fn fetch(&self, s: &TestServer) -> Result<(), String> {
        let r = s
            .http
            .get(s.url("/oauth/v2/keys"))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if r.status() != 200 {
            return Err(format!("JWKS answered {}", r.status()));
        }
        let v: Value = r.json().await.map_err(|e| e.to_string())?;
        *self.jwks.lock().unwrap_or_else(|e| e.into_inner()) = v;
        self.fetches.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Verifies `jwt` as an RP: the held set, or the set fetched again for an unknown kid.
    async fn verify(&self, s: &TestServer, jwt: &str) -> Result<String, String> {
        let parts: Vec<&str> = jwt.split('.').collect();
        if parts.len() != 3 {
            return Err(format!("not a JWT: {jwt}"));
        }
        let header: Value =
            serde_json::from_slice(&B64URL.decode(parts[0]).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        let kid = header["kid"].as_str().unwrap_or_default().to_string();
        let jwk = match self.key(&kid) {
            Some(k) => k,
            None => {
                self.fetch(s).await?;
                self.key(&kid)
                    .ok_or_else(|| format!("kid {kid} is not published"))?
            }
        };
        let x = B64URL
            .decode(jwk["x"].as_str().unwrap_or_default())
            .map_err(|e| e.to_string())?;
        sig::UnparsedPublicKey::new(&sig::ED25519, &x)
            .verify(
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &B64URL.decode(parts[2]).map_err(|e| e.to_string())?,
            )
            .map_err(|_| format!("signature of a token signed by {kid} does not verify"))?;
        Ok(kid)
    }
}

async fn rotation_under_load(backend: Backend) {
    let Some(s) = TestServer::start_with(backend, |c| {
        c.system_defaults.key_config.private_key_lifetime = "2s".into();
        c.system_defaults.key_config.public_key_lifetime = "30s".into();
        c.system_defaults.key_config.algorithm = "EdDSA".into();
    })
    .await
    else {
        return;
    };
    let s = Arc::new(s);
    let (_, secret) = machine_with_secret(&s, "rotor", "ACCESS_TOKEN_TYPE_JWT").await;
    let rp = Arc::new(Rp {
        jwks: Mutex::new(json!({"keys": []})),
        fetches: AtomicUsize::new(0),
    });
    rp.fetch(&s).await.expect("first JWKS");
    let (tx, rx) = tokio::sync::mpsc::channel::<String>(32);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let kids = Arc::new(Mutex::new(HashSet::<String>::new()));
    let verified = Arc::new(AtomicUsize::new(0));
    let end = Instant::now() + RUN;

    let mut tasks = Vec::new();
    for _ in 0..3 {
        let (s, tx, failures, secret) = (s.clone(), tx.clone(), failures.clone(), secret.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                let r = token(
                    &s,
                    Some(("rotor", &secret)),
                    &[
                        ("grant_type", "client_credentials"),
                        ("scope", "openid urn:zitadel:iam:org:project:id:zitadel:aud"),
                    ],
                )
                .await;
                match r.body["access_token"].as_str() {
                    Some(t) if r.status == 200 => {
                        let _ = tx.send(t.to_string()).await;
                    }
                    _ => failures
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(format!("token: {} {}", r.status, r.body)),
                }
            }
        }));
    }
    drop(tx);
    for _ in 0..3 {
        let (s, rx, rp, failures, kids, verified) = (
            s.clone(),
            rx.clone(),
            rp.clone(),
            failures.clone(),
            kids.clone(),
            verified.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(t) = rx.lock().await.recv().await else {
                    return;
                };
                let mut problems = Vec::new();
                match rp.verify(&s, &t).await {
                    Ok(kid) => {
                        kids.lock().unwrap_or_else(|e| e.into_inner()).insert(kid);
                    }
                    Err(e) => problems.push(e),
                }
                // The API gate accepts it too.
                match s
                    .http
                    .get(s.url("/auth/v1/users/me"))
                    .bearer_auth(&t)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 200 => {}
                    Ok(r) => problems.push(format!(
                        "gate: {} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    )),
                    Err(e) => problems.push(format!("gate: {e}")),
                }
                if problems.is_empty() {
                    verified.fetch_add(1, Ordering::Relaxed);
                }
                failures
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(problems);
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let failures = failures.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let kids = kids.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let n = verified.load(Ordering::Relaxed);
    assert!(
        failures.is_empty(),
        "{} failures of {} verified, first: {:?}",
        failures.len(),
        n,
        failures.iter().take(5).collect::<Vec<_>>()
    );
    assert!(kids.len() >= 3, "keys used: {kids:?}");
    assert!(n >= 20, "only {n} tokens verified");
    assert!(rp.fetches.load(Ordering::Relaxed) >= 2);
    // One key per rotation: concurrent requests meeting an expired key make one key, not one
    // each, so keys are made about two seconds apart.
    let mut expiries: Vec<i64> = db_text(&s, "SELECT private_expiry FROM signing_keys".to_string())
        .await
        .iter()
        .map(|r| {
            r.chars()
                .filter(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .expect("expiry")
        })
        .collect();
    expiries.sort_unstable();
    assert!(
        expiries.windows(2).all(|w| w[1] - w[0] > 1_500_000),
        "keys made at once: {expiries:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_under_load_sqlite() {
    rotation_under_load(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_under_load_postgres() {
    rotation_under_load(Backend::Postgres).await;
}
