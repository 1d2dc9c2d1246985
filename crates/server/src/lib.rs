//! The castellan server: configuration, start-up (migrations, first instance), serving and
//! shutdown. `main.rs` is the CLI; tests start the same server in process through `start`.
#![deny(clippy::unwrap_used)]

pub mod config;
pub mod cors;
pub mod first_bytes;
pub mod idle_body;
pub mod security_headers;
pub mod serve;
pub mod system_users;

use castellan_api::app::setup::{FirstInstance, InitOutcome};
use castellan_api::{ApiConfig, AppState};
use castellan_domain::password::HashParams;
use castellan_store::{Db, Target};
use config::Config;
use std::net::SocketAddr;
use tokio::sync::watch;

/// How TLS is handled (`--tls-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsMode {
    /// Serve HTTPS (HTTP/1.1 and HTTP/2 by ALPN) with TLS.CertPath and TLS.KeyPath.
    Enabled,
    /// A proxy terminates TLS: links use https, the server listens plain.
    External,
    /// Plain HTTP for local use.
    Disabled,
}

/// What `start` needs besides the configuration.
#[derive(Debug, Clone)]
pub struct Options {
    pub config: Config,
    pub tls_mode: Option<TlsMode>,
    /// Create the first instance if the database has none.
    pub init: bool,
    /// Address to listen on; default `0.0.0.0:<Port>`.
    pub listen: Option<SocketAddr>,
    /// Node number for id generation (0-1023); random when `None`.
    pub node: Option<u16>,
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub state: castellan_api::state::St,
    pub init: Option<InitOutcome>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets open connections finish, and waits.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Opens the database (running migrations) on a blocking thread.
pub async fn open_db(cfg: &Config) -> Result<Db, String> {
    let target = Target::parse(&cfg.database.url).map_err(|e| e.text())?;
    let readers = cfg.database.max_open_conns.max(1) as usize;
    tokio::task::spawn_blocking(move || Db::open(target, readers))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot open the database: {}", e.text()))
}

fn api_config(cfg: &Config, secure: bool) -> Result<ApiConfig, String> {
    Ok(ApiConfig {
        external_domain: cfg.external_domain.to_lowercase(),
        external_port: cfg.external_port,
        external_secure: secure,
        max_query_limit: cfg.system_defaults.max_query_limit,
        default_query_limit: cfg.system_defaults.default_query_limit,
        hash: HashParams {
            memory_kib: cfg.password_hasher.memory,
            iterations: cfg.password_hasher.iterations,
            parallelism: cfg.password_hasher.parallelism,
        },
        instance_host_headers: cfg
            .instance_host_headers
            .iter()
            .map(|h| h.to_lowercase())
            .collect(),
        trusted_proxies: castellan_api::client_address::TrustedProxies::parse(
            &cfg.trusted_proxies,
        )?,
        max_body_bytes: 1024 * 1024,
        system_users: system_users::parse(&cfg.system_api_users)?,
        user_login_must_be_domain: cfg.default_instance.domain_policy.user_login_must_be_domain,
        validate_org_domains: cfg.default_instance.domain_policy.validate_org_domains,
        max_image_bytes: cfg.assets.max_image_size,
        max_font_bytes: cfg.assets.max_font_size,
        domain_validation: domain_validation(&cfg.domain_validation)?,
        masterkey: cfg.masterkey.clone(),
        key_config: key_config(cfg)?,
        ..ApiConfig::default()
    })
}

fn domain_validation(
    d: &crate::config::DomainValidation,
) -> Result<castellan_api::state::DomainValidationConfig, String> {
    let scheme = d.http_scheme.trim().to_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(format!(
            "DomainValidation.HttpScheme must be https or http, not {:?}",
            d.http_scheme
        ));
    }
    if !d.dns_server.trim().is_empty() {
        castellan_api::dns::Resolver::new(&d.dns_server, std::time::Duration::from_secs(1))
            .map_err(|e| format!("DomainValidation.DnsServer: {e}"))?;
    }
    Ok(castellan_api::state::DomainValidationConfig {
        dns_server: d.dns_server.trim().to_string(),
        http_scheme: scheme,
        http_port: d.http_port,
        timeout: crate::config::duration(&d.timeout)
            .map_err(|e| format!("DomainValidation.Timeout: {e}"))?,
    })
}

/// Signing key lifetimes and algorithm; the keys must be published longer than they sign.
fn key_config(cfg: &Config) -> Result<castellan_api::signing_keys::KeyConfig, String> {
    use castellan_domain::jwt::Alg;
    let k = &cfg.system_defaults.key_config;
    const YEAR: std::time::Duration = std::time::Duration::from_secs(366 * 24 * 3600);
    let private_lifetime = crate::config::duration_within(&k.private_key_lifetime, YEAR)
        .map_err(|e| format!("SystemDefaults.KeyConfig.PrivateKeyLifetime: {e}"))?;
    let public_lifetime = crate::config::duration_within(&k.public_key_lifetime, YEAR)
        .map_err(|e| format!("SystemDefaults.KeyConfig.PublicKeyLifetime: {e}"))?;
    if public_lifetime <= private_lifetime {
        return Err(
            "SystemDefaults.KeyConfig.PublicKeyLifetime must be longer than PrivateKeyLifetime"
                .into(),
        );
    }
    let alg = Alg::parse(&k.algorithm).ok_or_else(|| {
        format!(
            "SystemDefaults.KeyConfig.Algorithm must be RS256, ES256 or EdDSA, not {:?}",
            k.algorithm
        )
    })?;
    Ok(castellan_api::signing_keys::KeyConfig {
        private_lifetime,
        public_lifetime,
        alg,
    })
}

fn first_instance(cfg: &Config) -> FirstInstance {
    let fi = &cfg.first_instance;
    let h = &fi.org.human;
    let m = &fi.org.machine.machine;
    let machine_wanted = !m.username.is_empty() || !fi.pat_path.is_empty();
    FirstInstance {
        instance_name: fi.instance_name.clone(),
        org_name: fi.org.name.clone(),
        human_username: h.username.clone(),
        human_password: h.password.clone(),
        human_first_name: h.first_name.clone(),
        human_last_name: h.last_name.clone(),
        human_email: if h.email.address.is_empty() {
            format!(
                "{}@{}",
                h.username,
                castellan_api::app::orgs::generated_domain(&fi.org.name, &cfg.external_domain)
            )
        } else {
            h.email.address.clone()
        },
        password_change_required: h.password_change_required,
        machine_username: machine_wanted.then(|| {
            if m.username.is_empty() {
                "zitadel-admin-sa".to_string()
            } else {
                m.username.clone()
            }
        }),
        machine_name: if m.name.is_empty() {
            "Automation".into()
        } else {
            m.name.clone()
        },
        user_login_must_be_domain: cfg.default_instance.domain_policy.user_login_must_be_domain,
        validate_org_domains: cfg.default_instance.domain_policy.validate_org_domains,
    }
}

/// Starts a node: opens the database, initialises it if asked, and serves.
pub async fn start(opts: Options) -> Result<Running, String> {
    let cfg = &opts.config;
    let (tls_on, secure) = match opts.tls_mode {
        Some(TlsMode::Enabled) => (true, true),
        Some(TlsMode::External) => (false, true),
        Some(TlsMode::Disabled) => (false, false),
        None => (cfg.tls.enabled, cfg.external_secure),
    };
    let acceptor = if tls_on {
        Some(serve::tls_acceptor(&cfg.tls.cert_path, &cfg.tls.key_path)?)
    } else {
        None
    };
    if !tls_on && !secure {
        tracing::warn!("TLS is disabled and links use http: use this for local development only");
    }
    if !cfg.masterkey.is_set() {
        return Err("a masterkey is required (it encrypts secrets at rest)".into());
    }
    let api = api_config(cfg, secure)?;
    let db = open_db(cfg).await?;
    db.spawn_listener();
    let node = opts
        .node
        .unwrap_or_else(|| u16::from_le_bytes(castellan_domain::id::random_bytes::<2>()) & 0x3ff);
    let st = AppState::new(db, api, node);
    let init = if opts.init {
        let out = castellan_api::app::setup::init_first_instance(&st, first_instance(cfg))
            .await
            .map_err(|e| format!("cannot create the first instance: {}", e.0.text()))?;
        if let Some(o) = &out {
            announce(cfg, o)?;
        }
        out
    } else {
        None
    };
    if !castellan_api::app::setup::initialised(&st)
        .await
        .map_err(|e| e.0.text())?
    {
        return Err(
            "the database holds no instance yet: run `castellan start-from-init` once".into(),
        );
    }
    let listen = opts
        .listen
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], cfg.port)));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let router = castellan_login::router(st.clone()).merge(castellan_api::router(st.clone()));
    let (stop, stop_rx) = watch::channel(false);
    let wait = crate::config::duration(&cfg.http.header_timeout)
        .map_err(|e| format!("HTTP.HeaderTimeout: {e}"))?;
    let edge = serve::Edge {
        router,
        https: secure,
        wait,
    };
    let task = tokio::spawn(serve::serve(listener, edge, acceptor, stop_rx));
    tracing::info!(%addr, tls = tls_on, external = %st.origin(), "serving");
    Ok(Running {
        addr,
        state: st,
        init,
        stop,
        task,
    })
}

/// Prints the generated admin password once and writes the PAT file.
fn announce(cfg: &Config, o: &InitOutcome) -> Result<(), String> {
    if let Some(pw) = &o.generated_password {
        println!("First instance created. Instance administrator: login name {}  password {}  (you must change it at first login; it is not shown again)", o.admin_login, pw);
    } else {
        println!(
            "First instance created. Instance administrator: login name {}",
            o.admin_login
        );
    }
    if let (Some(pat), false) = (&o.pat, cfg.first_instance.pat_path.is_empty()) {
        write_secret_file(&cfg.first_instance.pat_path, pat)?;
        println!(
            "A personal access token of the IAM_OWNER machine user was written to {}",
            cfg.first_instance.pat_path
        );
    }
    Ok(())
}

fn write_secret_file(path: &str, content: &str) -> Result<(), String> {
    use std::io::Write;
    let p = std::path::Path::new(path);
    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(p)
        .map_err(|e| format!("cannot write {path}: {e}"))?;
    f.write_all(content.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("cannot write {path}: {e}"))
}

/// Rebuilds every read model from the events; returns the number of events replayed.
pub async fn rebuild_projections(cfg: &Config) -> Result<u64, String> {
    let db = open_db(cfg).await?;
    db.write_read_models("", |c| castellan_store::rebuild::rebuild(c))
        .await
        .map_err(|e| e.text())
}

/// Validates a masterkey (exactly 32 characters).
pub fn check_masterkey(key: &str) -> Result<castellan_domain::crypto::Masterkey, String> {
    castellan_domain::crypto::Masterkey::parse(key)
        .map_err(|e| e.detail.as_deref().map_or_else(|| e.text(), str::to_string))
}
