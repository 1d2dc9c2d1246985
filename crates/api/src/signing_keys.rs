//! Token signing keys per instance. A key signs until its private expiry and is published (JWKS)
//! until its later public expiry, so every token signed with it verifies for its whole life.
//! A new key is made when no key can sign any more; keys are parsed once and kept in memory, and
//! a node reloads from the database when it meets a key id it does not know (another node made
//! it) or when its cached set is due. Reloads are made one at a time, and a caller that waited
//! for another's reload takes its result: when a key expires under load, one new key is made,
//! not one per request in flight.

use crate::error::R;
use crate::state::St;
use base64::Engine;
use castellan_domain::crypto::SIGNING_KEY;
use castellan_domain::events::{agg, Payload};
use castellan_domain::id::now_micros;
use castellan_domain::jws::Signer;
use castellan_domain::jwt::{Alg, VerifyingKey};
use castellan_domain::{Error, Result};
use castellan_store::{params, Author};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Lifetimes of signing keys (ZITADEL: `SystemDefaults.KeyConfig`).
#[derive(Debug, Clone, Copy)]
pub struct KeyConfig {
    /// How long a key signs.
    pub private_lifetime: Duration,
    /// How long a key is published; at least the private lifetime plus the longest token life.
    pub public_lifetime: Duration,
    /// Algorithm of new keys.
    pub alg: Alg,
}

impl Default for KeyConfig {
    /// ZITADEL's defaults: sign for 6 h, publish for 30 h, RS256.
    fn default() -> Self {
        KeyConfig {
            private_lifetime: Duration::from_secs(6 * 3600),
            public_lifetime: Duration::from_secs(30 * 3600),
            alg: Alg::RS256,
        }
    }
}

/// The keys of one instance as loaded.
pub struct InstanceKeys {
    /// The key to sign with (the newest that may still sign).
    pub signer: Arc<Signer>,
    /// Every published key by key id.
    pub public: HashMap<String, VerifyingKey>,
    /// The JWKS document.
    pub jwks: Value,
    /// When this set must be looked at again (µs).
    refresh_at: i64,
    /// When it was read (µs).
    loaded_at: i64,
}

/// The signing keys of every instance this node has served.
#[derive(Default)]
pub struct KeyRing {
    cfg: KeyConfig,
    by_instance: RwLock<HashMap<String, Arc<InstanceKeys>>>,
    /// Held while reloading.
    reloading: tokio::sync::Mutex<()>,
}

/// The longest a cached key set is trusted before it is read again (µs).
const RELOAD_EVERY: i64 = 300 * 1_000_000;
/// After making a key, the set is read again this soon (µs): another node may have made one
/// at the same moment, and this node's JWKS must publish it too.
const RECHECK_AFTER_CREATE: i64 = 1_000_000;

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

struct Stored {
    id: String,
    alg: Alg,
    private_key: String,
    public_key: String,
    private_expiry: i64,
}

fn alg_of(name: &str) -> Result<Alg> {
    Alg::parse(name)
        .ok_or_else(|| Error::internal("OIDC-k3ya1", format!("unknown key algorithm {name}")))
}

impl KeyRing {
    pub fn new(cfg: KeyConfig) -> Self {
        KeyRing {
            cfg,
            by_instance: RwLock::default(),
            reloading: tokio::sync::Mutex::default(),
        }
    }

    /// The keys of `instance`, loading or making them as needed.
    pub async fn get(&self, st: &St, instance: &str) -> R<Arc<InstanceKeys>> {
        let now = now_micros();
        if let Some(k) = self.cached(instance).filter(|k| k.refresh_at > now) {
            return Ok(k);
        }
        self.reload(st, instance, now).await
    }

    /// The public key `kid` of `instance`; reads the database again for an unknown id.
    pub async fn verifying_key(
        &self,
        st: &St,
        instance: &str,
        kid: &str,
    ) -> R<Option<VerifyingKey>> {
        let keys = self.get(st, instance).await?;
        if let Some(k) = keys.public.get(kid) {
            return Ok(Some(k.clone()));
        }
        let keys = self.reload(st, instance, now_micros()).await?;
        Ok(keys.public.get(kid).cloned())
    }

    fn cached(&self, instance: &str) -> Option<Arc<InstanceKeys>> {
        let m = self.by_instance.read().unwrap_or_else(|e| e.into_inner());
        m.get(instance).cloned()
    }

    /// Reads the keys again, unless another caller read them after `since` (then every key
    /// stored before `since` is in that set, and a flood of unknown key ids costs one read).
    async fn reload(&self, st: &St, instance: &str, since: i64) -> R<Arc<InstanceKeys>> {
        let _one_at_a_time = self.reloading.lock().await;
        let now = now_micros();
        if let Some(k) = self
            .cached(instance)
            .filter(|k| k.loaded_at >= since && k.refresh_at > now)
        {
            return Ok(k);
        }
        let mut stored = load(st, instance, now).await?;
        let mut created = false;
        if !stored.iter().any(|k| k.private_expiry > now) {
            self.create(st, instance, now).await?;
            created = true;
            stored = load(st, instance, now).await?;
        }
        let cipher = st.cfg.masterkey.cipher(SIGNING_KEY)?;
        let mut public = HashMap::new();
        let mut jwks = Vec::new();
        let mut signer: Option<(i64, Arc<Signer>)> = None;
        for k in &stored {
            let spki = base64::engine::general_purpose::STANDARD
                .decode(&k.public_key)
                .map_err(|e| Error::internal("OIDC-k3yb1", e.to_string()))?;
            public.insert(k.id.clone(), VerifyingKey::from_spki(&spki)?);
            let s = Signer::from_pkcs8(k.alg, &k.id, &cipher.decrypt(&k.private_key)?)?;
            jwks.push(s.jwk()?);
            let newer = signer
                .as_ref()
                .is_none_or(|(exp, _)| k.private_expiry > *exp);
            if k.private_expiry > now && newer {
                signer = Some((k.private_expiry, Arc::new(s)));
            }
        }
        let (private_expiry, signer) = signer
            .ok_or_else(|| Error::internal("OIDC-k3yc1", "no signing key after creating one"))?;
        let keys = Arc::new(InstanceKeys {
            signer,
            public,
            jwks: serde_json::json!({ "keys": jwks }),
            refresh_at: (now + RELOAD_EVERY).min(private_expiry).min(if created {
                now + RECHECK_AFTER_CREATE
            } else {
                i64::MAX
            }),
            loaded_at: now,
        });
        let mut m = self.by_instance.write().unwrap_or_else(|e| e.into_inner());
        m.insert(instance.to_string(), keys.clone());
        Ok(keys)
    }

    /// Makes a new key for `instance` (event `key_pair.added`).
    async fn create(&self, st: &St, instance: &str, now: i64) -> R<()> {
        let id = st.ids.next();
        let (alg, kid) = (self.cfg.alg, id.clone());
        let (signer, pkcs8) = tokio::task::spawn_blocking(move || Signer::generate(alg, &kid))
            .await
            .map_err(|e| Error::internal("OIDC-k3yd1", e.to_string()))??;
        let cipher = st.cfg.masterkey.cipher(SIGNING_KEY)?;
        let spki = signer.spki()?;
        let payload = Payload::KeyPairAdded {
            algorithm: alg.name().to_string(),
            private_key: cipher.encrypt(&pkcs8)?,
            public_key: base64::engine::general_purpose::STANDARD.encode(spki),
            private_expiry: now + micros(self.cfg.private_lifetime),
            public_expiry: now + micros(self.cfg.public_lifetime),
        };
        let author = Author {
            instance_id: instance.to_string(),
            creator: "SYSTEM".into(),
        };
        st.db
            .command(&id.clone(), author, move |tx| {
                let inst = tx.instance().to_string();
                tx.push(agg::KEY_PAIR, &id, &inst, vec![payload.clone()])
            })
            .await?;
        Ok(())
    }
}

/// The published keys of `instance`, newest first.
async fn load(st: &St, instance: &str, now: i64) -> R<Vec<Stored>> {
    let inst = instance.to_string();
    Ok(st
        .db
        .read(move |c| {
            c.query(
                "SELECT id, algorithm, private_key, public_key, private_expiry FROM signing_keys \
                 WHERE instance_id = ? AND public_expiry > ? ORDER BY private_expiry DESC",
                &params![&inst, now],
            )?
            .iter()
            .map(|r| {
                Ok(Stored {
                    id: r.text(0)?,
                    alg: alg_of(&r.text(1)?)?,
                    private_key: r.text(2)?,
                    public_key: r.text(3)?,
                    private_expiry: r.int(4)?,
                })
            })
            .collect::<Result<Vec<_>>>()
        })
        .await?)
}
