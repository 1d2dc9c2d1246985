//! The checks of organisation domain validation, as ZITADEL's: the token served at
//! `https://<domain>/.well-known/zitadel-challenge/<token>.txt` (HTTP) or published as a TXT
//! record of `_zitadel-challenge.<domain>` (DNS). A failed check says what was found.
//! Unlike ZITADEL, HTTP redirects are not followed (see `DomainCheck::new`).

use crate::dns::{DnsError, Resolver};
use crate::state::DomainValidationConfig;
use castellan_domain::Error;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// `validation_type` of the proto enum `DomainValidationType`.
pub const HTTP: i32 = 1;
pub const DNS: i32 = 2;

/// The largest challenge file read; a token is 32 characters.
const MAX_BODY: usize = 4096;

/// Runs the checks with the configured resolution, scheme, port and timeout.
pub struct DomainCheck {
    scheme: String,
    port: u16,
    timeout: Duration,
    resolver: Result<Resolver, String>,
    http: Result<reqwest::Client, String>,
}

impl DomainCheck {
    /// Never fails: a bad setting is reported by each check instead.
    pub fn new(cfg: &DomainValidationConfig) -> Self {
        let resolver = Resolver::new(&cfg.dns_server, cfg.timeout);
        let mut b = reqwest::Client::builder()
            .connect_timeout(cfg.timeout)
            .timeout(cfg.timeout)
            // Redirects are not followed: the check must not become a way to fetch (and see
            // the start of) arbitrary URLs from the server's network.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("castellan-domain-validation");
        if let (Ok(r), false) = (&resolver, cfg.dns_server.trim().is_empty()) {
            // Resolution goes to the configured server, so a proxy must not resolve instead.
            b = b.no_proxy().dns_resolver(Arc::new(ViaResolver(r.clone())));
        }
        DomainCheck {
            scheme: if cfg.http_scheme.eq_ignore_ascii_case("http") {
                "http".into()
            } else {
                "https".into()
            },
            port: cfg.http_port,
            timeout: cfg.timeout,
            http: b.build().map_err(|e| e.to_string()),
            resolver,
        }
    }

    /// What the organisation publishes: the challenge URL (HTTP) or the TXT record name (DNS).
    pub fn target(&self, domain: &str, token: &str, kind: i32) -> String {
        if kind == DNS {
            return format!("_zitadel-challenge.{domain}");
        }
        let port = match (self.scheme.as_str(), self.port) {
            (_, 0) | ("https", 443) | ("http", 80) => String::new(),
            (_, p) => format!(":{p}"),
        };
        format!(
            "{}://{domain}{port}/.well-known/zitadel-challenge/{token}.txt",
            self.scheme
        )
    }

    /// Checks that `domain` publishes `token` the `kind` way.
    pub async fn check(&self, domain: &str, token: &str, kind: i32) -> Result<(), Error> {
        let target = self.target(domain, token, kind);
        let work = async {
            if kind == DNS {
                self.dns(&target, token).await
            } else {
                self.http(&target, token).await
            }
        };
        // The clients have their own timeouts; this one bounds the whole check.
        match tokio::time::timeout(self.timeout + Duration::from_millis(500), work).await {
            Ok(r) => r,
            Err(_) => Err(timeout(format!(
                "no answer for {target} within {}",
                secs(self.timeout)
            ))),
        }
    }

    async fn http(&self, url: &str, token: &str) -> Result<(), Error> {
        let client = self.http.as_ref().map_err(|e| failed(e.clone()))?;
        let mut resp = client.get(url).send().await.map_err(|e| {
            if e.is_timeout() {
                timeout(format!(
                    "no answer from {url} within {}",
                    secs(self.timeout)
                ))
            } else if e.is_connect() {
                failed(format!("cannot connect to {url}: {}", root_cause(&e)))
            } else {
                failed(format!("request to {url} failed: {}", root_cause(&e)))
            }
        })?;
        let status = resp.status().as_u16();
        if status != 200 {
            let e = if status == 404 {
                Error::precondition("ORG-F4zhw", "Errors.Org.DomainVerificationHTTPNotFound")
            } else {
                Error::precondition("ORG-G2zsw", "Errors.Org.DomainVerificationFailed")
            };
            let hint = if (300..400).contains(&status) {
                let to = resp
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .map(|l| format!(" to {}", snippet(l)))
                    .unwrap_or_default();
                format!(" (a redirect{to}; redirects are not followed, serve the file at this URL)")
            } else {
                String::new()
            };
            return Err(e.with(format!("HTTP {status} at {url}{hint}")));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| {
            if e.is_timeout() {
                timeout(format!(
                    "the answer of {url} did not arrive within {}",
                    secs(self.timeout)
                ))
            } else {
                failed(format!(
                    "reading the answer of {url} failed: {}",
                    root_cause(&e)
                ))
            }
        })? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_BODY {
                return Err(
                    no_match("ORG-GH422", "Errors.Org.DomainVerificationHTTPNoMatch").with(
                        format!(
                            "token mismatch at {url}: the answer is larger than {MAX_BODY} bytes"
                        ),
                    ),
                );
            }
        }
        let found = String::from_utf8_lossy(&body);
        if found.trim() == token {
            return Ok(());
        }
        Err(
            no_match("ORG-GH422", "Errors.Org.DomainVerificationHTTPNoMatch").with(format!(
                "token mismatch at {url}: found {}",
                snippet(&found)
            )),
        )
    }

    async fn dns(&self, name: &str, token: &str) -> Result<(), Error> {
        let r = self.resolver.as_ref().map_err(|e| failed(e.clone()))?;
        let not_found = || {
            Error::precondition("ORG-G241f", "Errors.Org.DomainVerificationTXTNotFound")
                .with(format!("no TXT record at {name}"))
        };
        let records = match r.txt(name).await {
            Ok(v) => v,
            Err(DnsError::NoSuchName) => return Err(not_found()),
            Err(DnsError::Timeout(s)) => {
                return Err(timeout(format!(
                    "the DNS server {s} did not answer for {name} within {}",
                    secs(self.timeout)
                )))
            }
            Err(e) => return Err(failed(format!("DNS lookup of {name} failed: {e}"))),
        };
        if records.is_empty() {
            return Err(not_found());
        }
        if records.iter().any(|t| t.trim() == token) {
            return Ok(());
        }
        let found: Vec<String> = records.iter().take(5).map(|t| snippet(t)).collect();
        Err(
            no_match("ORG-G28if", "Errors.Org.DomainVerificationTXTNoMatch").with(format!(
                "token mismatch: the TXT records at {name} are {}",
                found.join(", ")
            )),
        )
    }
}

fn failed(detail: String) -> Error {
    Error::precondition("ORG-GH3s", "Errors.Org.DomainVerificationFailed").with(detail)
}

fn timeout(detail: String) -> Error {
    Error::precondition("ORG-K563l", "Errors.Org.DomainVerificationTimeout").with(detail)
}

fn no_match(id: &'static str, key: &'static str) -> Error {
    Error::precondition(id, key)
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// What was found, quoted and cut to 64 characters.
fn snippet(s: &str) -> String {
    let t = s.trim();
    let cut: String = t.chars().take(64).collect();
    if cut.len() < t.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

/// The innermost error message (e.g. "Connection refused (os error 111)").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// reqwest's resolution through our DNS client (when a DNS server is configured).
struct ViaResolver(Resolver);

impl reqwest::dns::Resolve for ViaResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (r, host) = (self.0.clone(), name.as_str().to_string());
        Box::pin(async move {
            let ips = r.ips(&host).await.map_err(|e| {
                Box::new(DnsError::Other(format!("cannot resolve {host}: {e}")))
                    as Box<dyn std::error::Error + Send + Sync>
            })?;
            let addrs: reqwest::dns::Addrs =
                Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let mut cfg = DomainValidationConfig::default();
        let c = DomainCheck::new(&cfg);
        assert_eq!(
            c.target("a.ch", "T0k", HTTP),
            "https://a.ch/.well-known/zitadel-challenge/T0k.txt"
        );
        assert_eq!(c.target("a.ch", "T0k", DNS), "_zitadel-challenge.a.ch");
        cfg.http_scheme = "http".into();
        cfg.http_port = 8081;
        let c = DomainCheck::new(&cfg);
        assert_eq!(
            c.target("a.ch", "T0k", HTTP),
            "http://a.ch:8081/.well-known/zitadel-challenge/T0k.txt"
        );
        assert_eq!(snippet(&"x".repeat(100)), format!("{:?}…", "x".repeat(64)));
    }
}
