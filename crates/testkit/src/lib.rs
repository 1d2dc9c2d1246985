//! Test support: starts a real Castellan server in process on a free port (SQLite or a
//! throwaway PostgreSQL database) and offers REST and gRPC clients that talk to it over real
//! sockets.

pub mod conformance;
pub mod oidc;
pub mod postgres;
pub mod smtp;
pub mod system;

use castellan_server::config::Config;
use castellan_server::{Options, Running, TlsMode};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// Which database a test server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The password of the human instance administrator in tests.
pub const ADMIN_PASSWORD: &str = "Password1!";

/// A running test server.
pub struct TestServer {
    /// `http://localhost:PORT`
    pub base: String,
    pub port: u16,
    /// PAT of the IAM_OWNER machine user created at init.
    pub pat: String,
    pub http: reqwest::Client,
    pub db_url: String,
    pub backend: Backend,
    pub dir: PathBuf,
    running: Option<Running>,
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "castellan-test-{}-{}-{tag}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("cannot create {}: {e}", d.display()));
    d
}

/// A database URL for a new test server, or `None` when PostgreSQL is unavailable (and not
/// required).
pub fn database_url(backend: Backend, dir: &std::path::Path) -> Option<String> {
    match backend {
        Backend::Sqlite => Some(format!("sqlite://{}", dir.join("castellan.db").display())),
        Backend::Postgres => {
            let pg = postgres::shared()?;
            Some(
                pg.create_database()
                    .unwrap_or_else(|e| panic!("cannot create a test database: {e}")),
            )
        }
    }
}

/// The configuration test servers use: cheap password hashing, a PAT for the machine admin.
pub fn test_config(db_url: &str, dir: &std::path::Path) -> Config {
    let mut c = Config::default();
    c.database.url = db_url.to_string();
    c.database.max_open_conns = 4;
    c.external_domain = "localhost".into();
    c.external_secure = false;
    c.tls.enabled = false;
    c.first_instance.org.name = "Castellan".into();
    c.first_instance.org.human.password = ADMIN_PASSWORD.into();
    c.first_instance.org.machine.machine.username = "admin-sa".into();
    c.first_instance.pat_path = dir.join("pat.txt").display().to_string();
    c.password_hasher.memory = 64;
    c.password_hasher.iterations = 1;
    c.log.level = "warn".into();
    c.masterkey = castellan_domain::crypto::Masterkey::parse(TEST_MASTERKEY)
        .unwrap_or_else(|e| panic!("{e}"));
    c
}

/// The masterkey of test servers.
pub const TEST_MASTERKEY: &str = "castellan-test-masterkey-0123456";

impl TestServer {
    /// Starts a server on `backend`; `None` when PostgreSQL is unavailable and not required.
    pub async fn start(backend: Backend) -> Option<TestServer> {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts a server after letting `tweak` adjust the test configuration.
    pub async fn start_with(
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
    ) -> Option<TestServer> {
        let dir = temp_dir("srv");
        let url = database_url(backend, &dir)?;
        let mut cfg = test_config(&url, &dir);
        tweak(&mut cfg);
        Some(Self::launch(backend, cfg, dir, true).await)
    }

    /// Starts a server with a given configuration (`init` runs start-from-init).
    pub async fn launch(backend: Backend, cfg: Config, dir: PathBuf, init: bool) -> TestServer {
        let db_url = cfg.database.url.clone();
        let pat_path = cfg.first_instance.pat_path.clone();
        let running = castellan_server::start(Options {
            config: cfg,
            tls_mode: Some(TlsMode::Disabled),
            init,
            listen: Some("127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}"))),
            node: None,
        })
        .await
        .unwrap_or_else(|e| panic!("server did not start: {e}"));
        let port = running.addr.port();
        let pat = std::fs::read_to_string(&pat_path).unwrap_or_default();
        TestServer {
            base: format!("http://localhost:{port}"),
            port,
            pat,
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
            db_url,
            backend,
            dir,
            running: Some(running),
        }
    }

    /// Stops the server (its database stays).
    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    /// **Test only**: the running server's state (e.g. to sign a token with the instance key).
    pub fn state(&self) -> &castellan_api::state::St {
        &self
            .running
            .as_ref()
            .unwrap_or_else(|| panic!("server stopped"))
            .state
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a REST request; returns the status and the JSON body (or `Value::String` of the
    /// body when it is not JSON).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
        org: Option<&str>,
    ) -> (u16, Value) {
        self.send(None, method, path, body, token, org).await
    }

    /// Sends a REST request, addressed to `host` when given (the instance it selects).
    pub(crate) async fn send(
        &self,
        host: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
        org: Option<&str>,
    ) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut req = self.http.request(m, self.url(path));
        if let Some(h) = host {
            req = req.header("host", h);
        }
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(o) = org {
            req = req.header("x-zitadel-orgid", o);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path} (host {host:?}): {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, json)
    }

    /// REST call as the IAM_OWNER machine user.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call(method, path, body, Some(&self.pat.clone()), None)
            .await
    }

    /// **Test only**: a bearer token for any user, human ones included.
    ///
    /// Humans cannot obtain tokens through the product yet (OIDC and the login come later) and
    /// the management API refuses personal access tokens for them. This writes the token the
    /// way a personal access token is stored, as a `user.personal.access.token.added` event
    /// pushed through the server's own event store (so the `pats` read model and the caches
    /// stay consistent), bypassing the machine-only check of `AddPersonalAccessToken`. Nothing
    /// in the server exposes this path.
    pub async fn token_for(&self, user_id: &str) -> String {
        use castellan_domain::events::{agg, Payload};
        let st = &self
            .running
            .as_ref()
            .unwrap_or_else(|| panic!("server stopped"))
            .state;
        let uid = user_id.to_string();
        let (instance, org) = st
            .db
            .read(move |c| {
                let r = c.one(
                    "SELECT instance_id, org_id FROM users WHERE id = ?",
                    &castellan_store::params![&uid],
                )?;
                Ok(match r {
                    Some(r) => Some((r.text(0)?, r.text(1)?)),
                    None => None,
                })
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no user {user_id}"));
        let token = castellan_api::app::tokens::random_token();
        let ev = Payload::PatAdded {
            token_id: st.ids.next(),
            token_hash: castellan_api::authn::hash_secret(&token),
            expiration: castellan_api::authn::NO_EXPIRY,
            scopes: castellan_api::app::tokens::PAT_SCOPES
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        let author = castellan_store::Author {
            instance_id: instance,
            creator: "TESTKIT".into(),
        };
        let uid = user_id.to_string();
        st.db
            .command(user_id, author, move |tx| {
                tx.push(agg::USER, &uid, &org, vec![ev.clone()])
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        token
    }

    /// A gRPC channel to the server.
    pub async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Endpoint::from_shared(self.base.clone())
            .unwrap_or_else(|e| panic!("{e}"))
            .connect()
            .await
            .unwrap_or_else(|e| panic!("gRPC connect: {e}"))
    }
}

/// Runs an async test body against SQLite and PostgreSQL: `both!(name, |s| async move { ... })`.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(s) = $crate::TestServer::start($crate::Backend::Sqlite).await {
                    ($body)(s).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(s) = $crate::TestServer::start($crate::Backend::Postgres).await {
                    ($body)(s).await;
                }
            }
        }
    };
}

/// Runs an async test function that starts its own server(s) on SQLite and on PostgreSQL:
/// `both_backends!(name, |backend| async move { ... })`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)($crate::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                ($body)($crate::Backend::Postgres).await;
            }
        }
    };
}
