//! Configuration: built-in defaults → YAML files (`--config`, keys named as ZITADEL's) →
//! environment (`CASTELLAN_` + the upper-cased key path joined by `_`) → command-line flags.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The whole configuration. Field names are ZITADEL's configuration keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Config {
    pub port: u16,
    pub external_domain: String,
    pub external_port: u16,
    pub external_secure: bool,
    #[serde(rename = "TLS")]
    pub tls: Tls,
    pub database: Database,
    pub first_instance: FirstInstance,
    /// Settings of every new instance (`DefaultInstance`).
    pub default_instance: DefaultInstance,
    /// Headers a trusted proxy sets to name the instance host.
    pub instance_host_headers: Vec<String>,
    /// Proxies (addresses or CIDR networks) whose `X-Forwarded-For` names the client's
    /// address (the login's rate limits); empty: the TCP peer is the client.
    pub trusted_proxies: Vec<String>,
    pub log: Log,
    pub system_defaults: SystemDefaults,
    pub password_hasher: PasswordHasher,
    /// How organisation domains are validated (`DomainValidation`).
    pub domain_validation: DomainValidation,
    /// System API users (`SystemAPIUsers`); used by the system API.
    #[serde(rename = "SystemAPIUsers")]
    pub system_api_users: Value,
    /// The masterkey: only from `--masterkey*` flags, never from files or the environment
    /// mapping, never serialised; its `Debug` is redacted.
    #[serde(skip)]
    pub masterkey: castellan_domain::crypto::Masterkey,
    /// Limits of the assets API (uploads of logos, icons, fonts, avatars).
    pub assets: Assets,
    /// How long the port waits for its clients (`HTTP`).
    #[serde(rename = "HTTP")]
    pub http: Http,
}

/// How long the port waits for a client before it lets the connection go.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Http {
    /// For a new connection's first bytes or its TLS handshake, for each request's headers, for
    /// each next part of a request's body, and for the next request on an idle HTTP/1.1
    /// connection; an idle HTTP/2 connection is pinged this often and closed when the ping goes
    /// unanswered as long: `30s`.
    pub header_timeout: String,
}

impl Default for Http {
    fn default() -> Self {
        Http {
            header_timeout: "30s".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Assets {
    /// Largest image upload in bytes (logos, icons, avatars).
    pub max_image_size: usize,
    /// Largest font upload in bytes.
    pub max_font_size: usize,
}

impl Default for Assets {
    fn default() -> Self {
        Assets {
            max_image_size: 5 << 20,
            max_font_size: 10 << 20,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Tls {
    pub enabled: bool,
    pub cert_path: String,
    pub key_path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Database {
    /// `sqlite://PATH` (default `sqlite://castellan-data/castellan.db`) or `postgres://...`.
    #[serde(rename = "URL")]
    pub url: String,
    /// Reader connections per node.
    pub max_open_conns: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct FirstInstance {
    pub instance_name: String,
    /// A personal access token of the machine user is written here (and nothing else).
    pub pat_path: String,
    pub org: FirstOrg,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DefaultInstance {
    pub domain_policy: DomainPolicy,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DomainPolicy {
    /// Login names are `username@<org primary domain>` and user names unique per organisation.
    pub user_login_must_be_domain: bool,
    /// Domains added to organisations must be validated (DNS/HTTP) before they are verified;
    /// when off (the default, as ZITADEL's self-hosting defaults) they are verified at once.
    pub validate_org_domains: bool,
}

/// Where the checks of GenerateOrgDomainValidation / ValidateOrgDomain look.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DomainValidation {
    /// Name server (`ip[:port]`) for the TXT lookups and for the address of the HTTP challenge
    /// host; empty: the system's resolvers (`/etc/resolv.conf`).
    pub dns_server: String,
    /// `https` (as ZITADEL) or `http` (tests, plain-HTTP challenge hosts).
    pub http_scheme: String,
    /// Port of the challenge URL; 0 is the scheme's default.
    pub http_port: u16,
    /// Bound of one check: `5s`, `1500ms`, `1m`.
    pub timeout: String,
}

impl Default for DomainValidation {
    fn default() -> Self {
        DomainValidation {
            dns_server: String::new(),
            http_scheme: "https".into(),
            http_port: 0,
            timeout: "5s".into(),
        }
    }
}

/// Parses a Go duration (`500ms`, `5s`, `1m`, `6h`, `1h30m`; a bare number is seconds) that
/// must lie between 1 ms and `max`.
pub fn duration_within(s: &str, max: std::time::Duration) -> Result<std::time::Duration, String> {
    // Configuration also takes a bare number as seconds.
    let t = s.trim();
    let d = if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) {
        castellan_domain::duration::parse(&format!("{t}s"))?
    } else {
        castellan_domain::duration::parse(t)?
    };
    if d < std::time::Duration::from_millis(1) || d > max {
        return Err(format!("{s:?} must be between 1ms and {}s", max.as_secs()));
    }
    Ok(d)
}

/// A timeout: between 1 ms and 1 h.
pub fn duration(s: &str) -> Result<std::time::Duration, String> {
    duration_within(s, std::time::Duration::from_secs(3600))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct FirstOrg {
    pub name: String,
    pub human: FirstHuman,
    pub machine: FirstMachine,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct FirstHuman {
    pub username: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Email,
    pub password_change_required: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Email {
    pub address: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct FirstMachine {
    pub machine: MachineUser,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MachineUser {
    pub username: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Log {
    /// error, warn, info, debug, trace
    pub level: String,
    /// text or json
    pub format: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SystemDefaults {
    pub default_query_limit: u64,
    pub max_query_limit: u64,
    /// Token signing keys.
    pub key_config: KeyConfig,
}

/// Token signing keys (`SystemDefaults.KeyConfig`): how long a key signs and how long it is
/// published, and the algorithm of new keys (`RS256`, `ES256` or `EdDSA`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct KeyConfig {
    pub private_key_lifetime: String,
    pub public_key_lifetime: String,
    pub algorithm: String,
}

impl Default for KeyConfig {
    fn default() -> Self {
        KeyConfig {
            private_key_lifetime: "6h".into(),
            public_key_lifetime: "30h".into(),
            algorithm: "RS256".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PasswordHasher {
    /// Argon2id memory in KiB, iterations and lanes.
    pub memory: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 8080,
            external_domain: "localhost".into(),
            external_port: 8080,
            external_secure: true,
            tls: Tls::default(),
            database: Database::default(),
            first_instance: FirstInstance::default(),
            default_instance: DefaultInstance::default(),
            instance_host_headers: vec!["x-zitadel-instance-host".into()],
            trusted_proxies: Vec::new(),
            log: Log::default(),
            system_defaults: SystemDefaults::default(),
            password_hasher: PasswordHasher::default(),
            system_api_users: Value::Null,
            domain_validation: DomainValidation::default(),
            masterkey: Default::default(),
            assets: Assets::default(),
            http: Http::default(),
        }
    }
}

impl Default for Tls {
    fn default() -> Self {
        Tls {
            enabled: true,
            cert_path: String::new(),
            key_path: String::new(),
        }
    }
}

impl Default for Database {
    fn default() -> Self {
        Database {
            url: "sqlite://castellan-data/castellan.db".into(),
            max_open_conns: 8,
        }
    }
}

impl Default for FirstInstance {
    fn default() -> Self {
        FirstInstance {
            instance_name: "ZITADEL".into(),
            pat_path: String::new(),
            org: FirstOrg::default(),
        }
    }
}

impl Default for FirstOrg {
    fn default() -> Self {
        FirstOrg {
            name: "ZITADEL".into(),
            human: FirstHuman::default(),
            machine: FirstMachine::default(),
        }
    }
}

impl Default for FirstHuman {
    fn default() -> Self {
        FirstHuman {
            username: "zitadel-admin".into(),
            password: String::new(),
            first_name: "ZITADEL".into(),
            last_name: "Admin".into(),
            email: Email {
                address: String::new(),
            },
            password_change_required: true,
        }
    }
}

impl Default for Log {
    fn default() -> Self {
        Log {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

impl Default for SystemDefaults {
    fn default() -> Self {
        SystemDefaults {
            default_query_limit: 100,
            max_query_limit: 1000,
            key_config: KeyConfig::default(),
        }
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        PasswordHasher {
            memory: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Deep-merges `over` into `base` (objects merge key by key, case-insensitively; anything
/// else replaces).
fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                let existing = b.keys().find(|bk| bk.eq_ignore_ascii_case(&k)).cloned();
                match existing {
                    Some(bk) => merge(b.get_mut(&bk).unwrap_or(&mut Value::Null), v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// Applies one environment variable `CASTELLAN_A_B_C=value` to the tree.
fn apply_env(tree: &mut Value, path: &[String], value: &str) -> bool {
    let Some((head, rest)) = path.split_first() else {
        return false;
    };
    let Value::Object(map) = tree else {
        return false;
    };
    let Some(key) = map.keys().find(|k| k.eq_ignore_ascii_case(head)).cloned() else {
        return false;
    };
    let slot = match map.get_mut(&key) {
        Some(s) => s,
        None => return false,
    };
    if rest.is_empty() {
        *slot = match slot {
            Value::Bool(_) => value
                .parse::<bool>()
                .map(Value::Bool)
                .unwrap_or_else(|_| Value::String(value.into())),
            Value::Number(_) => value
                .parse::<u64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(value.into())),
            Value::Array(_) => Value::Array(
                value
                    .split(',')
                    .map(|s| Value::String(s.trim().into()))
                    .collect(),
            ),
            _ => Value::String(value.into()),
        };
        return true;
    }
    apply_env(slot, rest, value)
}

/// Loads the configuration from defaults, the given YAML files and the environment.
pub fn load(
    files: &[std::path::PathBuf],
    env: impl Iterator<Item = (String, String)>,
) -> Result<Config, String> {
    let mut tree = serde_json::to_value(Config::default()).map_err(|e| e.to_string())?;
    for f in files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("cannot read config file {}: {e}", f.display()))?;
        let doc: Value = serde_yaml_ng::from_str(&text)
            .map_err(|e| format!("config file {} is not valid YAML: {e}", f.display()))?;
        if !doc.is_null() {
            merge(&mut tree, doc);
        }
    }
    for (k, v) in env {
        if let Some(rest) = k.strip_prefix("CASTELLAN_") {
            if rest == "MASTERKEY" {
                continue;
            }
            let path: Vec<String> = rest.split('_').map(str::to_string).collect();
            if !apply_env(&mut tree, &path, &v) {
                tracing::debug!(var = %k, "environment variable matches no configuration key");
            }
        }
    }
    serde_json::from_value(tree).map_err(|e| format!("invalid configuration: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("1m"), Ok(Duration::from_secs(60)));
        assert!(duration("0s").is_err());
        assert!(duration("5h").is_err());
        assert!(duration("x").is_err());
    }

    #[test]
    fn env_overrides_nested_keys() {
        let env = vec![
            ("CASTELLAN_PORT".to_string(), "9999".to_string()),
            ("CASTELLAN_EXTERNALSECURE".to_string(), "false".to_string()),
            (
                "CASTELLAN_DATABASE_URL".to_string(),
                "postgres://x@y/z".to_string(),
            ),
            (
                "CASTELLAN_FIRSTINSTANCE_ORG_HUMAN_PASSWORD".to_string(),
                "12345".to_string(),
            ),
            (
                "CASTELLAN_FIRSTINSTANCE_ORG_MACHINE_MACHINE_USERNAME".to_string(),
                "robot".to_string(),
            ),
            ("OTHER".to_string(), "1".to_string()),
        ];
        let c = load(&[], env.into_iter()).expect("config");
        assert_eq!(c.port, 9999);
        assert!(!c.external_secure);
        assert_eq!(c.database.url, "postgres://x@y/z");
        assert_eq!(c.first_instance.org.human.password, "12345");
        assert_eq!(c.first_instance.org.machine.machine.username, "robot");
    }

    #[test]
    fn yaml_files_merge_case_insensitively() {
        let dir = std::env::temp_dir().join(format!("castellan-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let f = dir.join("a.yaml");
        std::fs::write(&f, "ExternalDomain: auth.example.com\nTLS:\n  Enabled: false\nFirstInstance:\n  Org:\n    Name: Acme\n").expect("write");
        let c = load(&[f], std::iter::empty()).expect("config");
        assert_eq!(c.external_domain, "auth.example.com");
        assert!(!c.tls.enabled);
        assert_eq!(c.first_instance.org.name, "Acme");
        assert_eq!(c.first_instance.org.human.username, "zitadel-admin");
    }
}
