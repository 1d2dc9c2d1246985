//! Shared state of the API layer.

use crate::metrics::Metrics;
use castellan_domain::crypto::{Cipher, Masterkey, ACCESS_TOKEN, AUTH_REQUEST, SMTP_PASSWORD};
use castellan_domain::id::IdGenerator;
use castellan_domain::password::HashParams;
use castellan_store::Db;
use std::sync::Arc;

/// Settings the API layer needs.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub external_domain: String,
    pub external_port: u16,
    pub external_secure: bool,
    /// Largest `limit` a list request may ask for.
    pub max_query_limit: u64,
    /// Limit applied when a list request asks for none (0).
    pub default_query_limit: u64,
    pub hash: HashParams,
    /// Headers that carry the instance host when set by a trusted proxy.
    pub instance_host_headers: Vec<String>,
    /// Proxies whose `X-Forwarded-For` names the client's address.
    pub trusted_proxies: crate::client_address::TrustedProxies,
    /// Largest accepted REST body.
    pub max_body_bytes: usize,
    /// Callers of the system API.
    pub system_users: Vec<crate::system_auth::SystemUser>,
    /// Domain policy of instances created by the system API (`DefaultInstance.DomainPolicy`).
    pub user_login_must_be_domain: bool,
    pub validate_org_domains: bool,
    /// Largest accepted image upload (logos, icons, avatars).
    pub max_image_bytes: usize,
    /// Largest accepted font upload.
    pub max_font_bytes: usize,
    /// How organisation domains are checked (`DomainValidation`).
    pub domain_validation: DomainValidationConfig,
    /// Encrypts secrets at rest (SMTP passwords). Its `Debug` is redacted; never log it.
    pub masterkey: Masterkey,
    /// Bound on a whole SMTP exchange (connect, TLS, auth, send).
    pub smtp_timeout: std::time::Duration,
    /// Lifetimes and algorithm of token signing keys (`SystemDefaults.KeyConfig`).
    pub key_config: crate::signing_keys::KeyConfig,
}

/// How the HTTP and DNS checks of organisation domain validation reach the domain.
#[derive(Debug, Clone)]
pub struct DomainValidationConfig {
    /// Name server (`ip[:port]`) for TXT lookups and for the address of the HTTP challenge
    /// host; empty: the system's (`/etc/resolv.conf` for TXT, the OS resolver for HTTP).
    pub dns_server: String,
    /// Scheme of the challenge URL: `https` (production) or `http`.
    pub http_scheme: String,
    /// Port of the challenge URL; 0 is the scheme's default.
    pub http_port: u16,
    /// Bounds each check (connect, answer and body, or the DNS lookup).
    pub timeout: std::time::Duration,
}

impl Default for DomainValidationConfig {
    fn default() -> Self {
        DomainValidationConfig {
            dns_server: String::new(),
            http_scheme: "https".into(),
            http_port: 0,
            timeout: std::time::Duration::from_secs(5),
        }
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            external_domain: "localhost".into(),
            external_port: 8080,
            external_secure: false,
            max_query_limit: 1000,
            default_query_limit: 100,
            hash: HashParams::default(),
            instance_host_headers: vec!["x-zitadel-instance-host".into()],
            trusted_proxies: Default::default(),
            max_body_bytes: 1024 * 1024,
            system_users: Vec::new(),
            user_login_must_be_domain: false,
            validate_org_domains: false,
            domain_validation: DomainValidationConfig::default(),
            masterkey: Masterkey::default(),
            smtp_timeout: std::time::Duration::from_secs(10),
            max_image_bytes: 5 << 20,
            max_font_bytes: 10 << 20,
            key_config: crate::signing_keys::KeyConfig::default(),
        }
    }
}

/// Everything handlers share.
pub struct AppState {
    pub db: Db,
    pub ids: IdGenerator,
    pub cfg: ApiConfig,
    pub cache: crate::authn::Cache,
    pub metrics: Metrics,
    /// The password hashing threads (one per core), so that hashing never starves the runtime.
    pub hash_pool: crate::hash_pool::HashPool,
    /// Users by id, valid while the data epoch is unchanged (single-writer databases only).
    pub user_cache: UserCache,
    /// The HTTP and DNS checks of organisation domain validation.
    pub domain_check: crate::app::domain_check::DomainCheck,
    /// Seals SMTP passwords; `None` without a masterkey.
    smtp_cipher: Option<Cipher>,
    /// Seals opaque access tokens; `None` without a masterkey.
    access_token_cipher: Option<Cipher>,
    /// Seals authorization requests (`authRequestID`); `None` without a masterkey.
    auth_request_cipher: Option<Cipher>,
    /// Token signing keys of every instance this node has served.
    pub keys: crate::signing_keys::KeyRing,
    /// Verdicts of `token_check::access_token_active` per token id.
    pub token_checks: crate::token_check::Cache,
    /// Users and clients as the provider's claims need them.
    pub claims_data: crate::app::claims_data::Cache,
    /// Policies, label views, default organisations, OIDC settings and security policies
    /// (`read_cache::ReadCache`).
    pub read_cache: crate::read_cache::ReadCache,
}

/// A small cache of user rows keyed by (instance, user id) and stamped with the data epoch.
#[derive(Default)]
pub struct UserCache {
    map: std::sync::RwLock<
        std::collections::HashMap<(String, String), (u64, crate::app::users::UserRow)>,
    >,
}

impl UserCache {
    pub fn get(&self, instance: &str, id: &str, epoch: u64) -> Option<crate::app::users::UserRow> {
        let m = self.map.read().unwrap_or_else(|e| e.into_inner());
        m.get(&(instance.to_string(), id.to_string()))
            .filter(|(e, _)| *e == epoch)
            .map(|(_, u)| u.clone())
    }
    pub fn put(&self, instance: &str, id: &str, epoch: u64, u: crate::app::users::UserRow) {
        let mut m = self.map.write().unwrap_or_else(|e| e.into_inner());
        if m.len() >= 10_000 {
            m.clear();
        }
        m.insert((instance.to_string(), id.to_string()), (epoch, u));
    }
}

pub type St = Arc<AppState>;

impl AppState {
    pub fn new(db: Db, cfg: ApiConfig, node: u16) -> St {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let domain_check = crate::app::domain_check::DomainCheck::new(&cfg.domain_validation);
        let smtp_cipher = cfg.masterkey.cipher(SMTP_PASSWORD).ok();
        let access_token_cipher = cfg.masterkey.cipher(ACCESS_TOKEN).ok();
        let auth_request_cipher = cfg.masterkey.cipher(AUTH_REQUEST).ok();
        let keys = crate::signing_keys::KeyRing::new(cfg.key_config);
        Arc::new(AppState {
            smtp_cipher,
            access_token_cipher,
            auth_request_cipher,
            keys,
            token_checks: Default::default(),
            claims_data: Default::default(),
            read_cache: Default::default(),
            cache: crate::authn::Cache::new(db.auth_epoch().clone()),
            db,
            ids: IdGenerator::new(node),
            cfg,
            metrics: Metrics::new(),
            hash_pool: crate::hash_pool::HashPool::new(workers),
            user_cache: UserCache::default(),
            domain_check,
        })
    }

    /// The cipher of SMTP passwords (an error when no masterkey is configured).
    pub fn smtp_cipher(&self) -> castellan_domain::Result<&Cipher> {
        self.smtp_cipher.as_ref().ok_or_else(|| {
            castellan_domain::Error::internal("CRYPT-n0key", "no masterkey configured")
        })
    }

    /// The cipher of opaque access tokens (an error when no masterkey is configured).
    pub fn access_token_cipher(&self) -> castellan_domain::Result<&Cipher> {
        self.access_token_cipher.as_ref().ok_or_else(|| {
            castellan_domain::Error::internal("CRYPT-n0key", "no masterkey configured")
        })
    }

    /// The cipher of authorization requests (an error when no masterkey is configured).
    pub fn auth_request_cipher(&self) -> castellan_domain::Result<&Cipher> {
        self.auth_request_cipher.as_ref().ok_or_else(|| {
            castellan_domain::Error::internal("CRYPT-n0key", "no masterkey configured")
        })
    }

    /// Hashes a password with argon2id on the hashing threads.
    pub async fn hash_password(&self, pw: String) -> castellan_domain::Result<String> {
        let params = self.cfg.hash;
        self.on_hasher(move || castellan_domain::password::hash(&pw, params))
            .await?
    }

    /// Verifies a password against a stored hash on the hashing threads.
    pub async fn verify_password(
        &self,
        pw: String,
        hash: String,
    ) -> castellan_domain::Result<bool> {
        self.on_hasher(move || castellan_domain::password::verify(&pw, &hash))
            .await
    }

    /// Runs `f` (a hash or a check) on the pool of hashing threads.
    async fn on_hasher<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> castellan_domain::Result<T> {
        self.hash_pool.run(f).await.ok_or_else(|| {
            castellan_domain::Error::internal("HASH-p00l", "the password hash failed")
        })
    }

    /// The instance's external origin, e.g. `https://auth.example.com`.
    pub fn origin(&self) -> String {
        let scheme = if self.cfg.external_secure {
            "https"
        } else {
            "http"
        };
        let default_port = if self.cfg.external_secure { 443 } else { 80 };
        if self.cfg.external_port == default_port {
            format!("{scheme}://{}", self.cfg.external_domain)
        } else {
            format!(
                "{scheme}://{}:{}",
                self.cfg.external_domain, self.cfg.external_port
            )
        }
    }
}
