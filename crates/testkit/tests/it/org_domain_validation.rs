//! Organisation domain validation over REST with real sockets: a tiny DNS server (UDP on
//! 127.0.0.1) answers A records for the test domains and TXT records from a map the test
//! controls, a tiny HTTP server serves `/.well-known/zitadel-challenge/<token>.txt`, and the
//! server under test is pointed at both (`DomainValidation.DnsServer`, `HttpScheme: http`,
//! `HttpPort`).

use super::*;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BASE: &str = "/management/v1/orgs/me/domains";

/// What the fake DNS server answers: A records and TXT records by name.
#[derive(Default)]
struct Zone {
    a: HashMap<String, Ipv4Addr>,
    txt: HashMap<String, Vec<String>>,
}

type Shared<T> = Arc<Mutex<T>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A DNS responder on 127.0.0.1: parses the question, answers from `zone` (NXDOMAIN for
/// unknown names); `silent` never answers at all.
async fn dns_server(zone: Shared<Zone>, silent: bool) -> SocketAddr {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind dns");
    let addr = sock.local_addr().expect("dns addr");
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
                return;
            };
            if silent {
                continue;
            }
            if let Some(resp) = dns_answer(&buf[..n], &zone) {
                let _ = sock.send_to(&resp, peer).await;
            }
        }
    });
    addr
}

fn dns_answer(q: &[u8], zone: &Shared<Zone>) -> Option<Vec<u8>> {
    let mut pos = 12;
    let mut labels = Vec::new();
    loop {
        let len = *q.get(pos)? as usize;
        pos += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(q.get(pos..pos + len)?).to_lowercase());
        pos += len;
    }
    let name = labels.join(".");
    let qtype = u16::from_be_bytes([*q.get(pos)?, *q.get(pos + 1)?]);
    let question = q.get(12..pos + 4)?;
    let z = lock(zone);
    let mut answers: Vec<(u16, Vec<u8>)> = Vec::new();
    let known = z.a.contains_key(&name) || z.txt.contains_key(&name);
    match qtype {
        1 => {
            if let Some(ip) = z.a.get(&name) {
                answers.push((1, ip.octets().to_vec()));
            }
        }
        16 => {
            for t in z.txt.get(&name).into_iter().flatten() {
                let mut rd = Vec::new();
                for chunk in t.as_bytes().chunks(255) {
                    rd.push(chunk.len() as u8);
                    rd.extend_from_slice(chunk);
                }
                answers.push((16, rd));
            }
        }
        _ => {}
    }
    let rcode = if known { 0 } else { 3 };
    let mut m = vec![q[0], q[1], 0x81, 0x80 | rcode, 0, 1];
    m.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    m.extend_from_slice(question);
    for (t, rd) in answers {
        m.extend_from_slice(&[0xc0, 0x0c]);
        m.extend_from_slice(&t.to_be_bytes());
        m.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
        m.extend_from_slice(&(rd.len() as u16).to_be_bytes());
        m.extend_from_slice(&rd);
    }
    Some(m)
}

/// Challenge files by `host/file name`: (status, body). Unknown files are 404.
type Files = Shared<HashMap<String, (u16, String)>>;

/// An HTTP server on 127.0.0.1 serving `/.well-known/zitadel-challenge/<file>` per Host.
async fn http_server(files: Files) -> u16 {
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode};
    async fn serve(
        State(files): State<Files>,
        headers: HeaderMap,
        Path(file): Path<String>,
    ) -> (StatusCode, String) {
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let host = host.split(':').next().unwrap_or_default();
        match lock(&files).get(&format!("{host}/{file}")) {
            Some((status, body)) => (
                StatusCode::from_u16(*status).unwrap_or(StatusCode::OK),
                body.clone(),
            ),
            None => (StatusCode::NOT_FOUND, "not found".into()),
        }
    }
    let app = axum::Router::new()
        .route(
            "/.well-known/zitadel-challenge/{file}",
            axum::routing::get(serve),
        )
        .with_state(files);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind http");
    let port = listener.local_addr().expect("http addr").port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    port
}

/// A test world: the fake DNS and HTTP servers and a server under test that uses them.
struct World {
    s: TestServer,
    zone: Shared<Zone>,
    files: Files,
}

impl World {
    /// `silent_dns`: the DNS server never answers. Login names carry the org domain.
    async fn start(
        backend: Backend,
        silent_dns: bool,
        login_must_be_domain: bool,
    ) -> Option<World> {
        let zone: Shared<Zone> = Arc::default();
        let files: Files = Arc::default();
        let dns = dns_server(zone.clone(), silent_dns).await;
        let port = http_server(files.clone()).await;
        let s = TestServer::start_with(backend, |c| {
            c.default_instance.domain_policy.validate_org_domains = true;
            c.default_instance.domain_policy.user_login_must_be_domain = login_must_be_domain;
            c.domain_validation.dns_server = dns.to_string();
            c.domain_validation.http_scheme = "http".into();
            c.domain_validation.http_port = port;
            c.domain_validation.timeout = "1500ms".into();
        })
        .await?;
        Some(World { s, zone, files })
    }

    /// `domain` resolves to `ip`.
    fn host(&self, domain: &str, ip: [u8; 4]) {
        lock(&self.zone).a.insert(domain.into(), ip.into());
    }

    fn txt(&self, name: &str, values: &[&str]) {
        lock(&self.zone)
            .txt
            .insert(name.into(), values.iter().map(|v| v.to_string()).collect());
    }

    fn publish(&self, domain: &str, file: &str, status: u16, body: &str) {
        lock(&self.files).insert(format!("{domain}/{file}"), (status, body.into()));
    }

    async fn add(&self, org: &str, domain: &str) {
        ok(in_org(
            &self.s,
            org,
            "POST",
            BASE,
            Some(json!({ "domain": domain })),
        )
        .await);
    }

    async fn generate(&self, org: &str, domain: &str, kind: &str) -> (u16, Value) {
        in_org(
            &self.s,
            org,
            "POST",
            &format!("{BASE}/{domain}/validation/_generate"),
            Some(json!({ "type": kind })),
        )
        .await
    }

    /// Generates a token; returns (token, url).
    async fn token(&self, org: &str, domain: &str, kind: &str) -> (String, String) {
        let r = ok(self.generate(org, domain, kind).await);
        let token = r["token"].as_str().expect("token").to_string();
        let url = r["url"].as_str().expect("url").to_string();
        (token, url)
    }

    async fn validate(&self, org: &str, domain: &str) -> (u16, Value) {
        in_org(
            &self.s,
            org,
            "POST",
            &format!("{BASE}/{domain}/validation/_validate"),
            Some(json!({})),
        )
        .await
    }

    /// The list entry of `domain` in `org`.
    async fn entry(&self, org: &str, domain: &str) -> Value {
        let l = ok(in_org(
            &self.s,
            org,
            "POST",
            &format!("{BASE}/_search"),
            Some(json!({})),
        )
        .await);
        l["result"]
            .as_array()
            .and_then(|a| a.iter().find(|d| d["domainName"] == domain))
            .cloned()
            .unwrap_or_else(|| panic!("{domain} not listed: {l}"))
    }
}

fn message(r: &(u16, Value)) -> String {
    r.1["message"].as_str().unwrap_or_default().to_string()
}

/// HTTP and DNS validation end to end, with the errors users meet on the way.
async fn http_and_dns(backend: Backend) {
    let Some(w) = World::start(backend, false, true).await else {
        return;
    };
    let s = &w.s;
    let org = new_org(s, "Web Org").await;
    w.host("web.test", [127, 0, 0, 1]);
    w.add(&org, "web.test").await;
    let e = w.entry(&org, "web.test").await;
    assert_ne!(e["isVerified"], true, "{e}");

    // Validation before a token was generated.
    let r = w.validate(&org, "web.test").await;
    assert_err(&r, 400, 9, "GenerateOrgDomainValidation");
    // An unknown type, a domain the org does not have.
    assert_err(
        &w.generate(&org, "web.test", "DOMAIN_VALIDATION_TYPE_UNSPECIFIED")
            .await,
        400,
        3,
        "type",
    );
    assert_err(
        &w.generate(&org, "nope.test", "DOMAIN_VALIDATION_TYPE_HTTP")
            .await,
        404,
        5,
        "nope.test",
    );

    // HTTP: the token and where to serve it.
    let (token, url) = w
        .token(&org, "web.test", "DOMAIN_VALIDATION_TYPE_HTTP")
        .await;
    assert_eq!(token.len(), 32, "{token}");
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric()), "{token}");
    let port = url
        .split(':')
        .nth(2)
        .and_then(|p| p.split('/').next())
        .unwrap_or_default();
    assert_eq!(
        url,
        format!("http://web.test:{port}/.well-known/zitadel-challenge/{token}.txt")
    );
    let e = w.entry(&org, "web.test").await;
    assert_eq!(e["validationType"], "DOMAIN_VALIDATION_TYPE_HTTP", "{e}");
    assert!(
        !e.to_string().contains(&token),
        "the token is not listed: {e}"
    );

    // Nothing served yet: 404, and the domain stays unverified.
    let r = w.validate(&org, "web.test").await;
    assert_err(&r, 400, 9, &format!("HTTP 404 at {url}"));
    assert_ne!(w.entry(&org, "web.test").await["isVerified"], true);
    // A server error, then wrong content.
    w.publish("web.test", &format!("{token}.txt"), 503, "busy");
    assert_err(&w.validate(&org, "web.test").await, 400, 9, "HTTP 503");
    w.publish("web.test", &format!("{token}.txt"), 302, "moved");
    assert_err(
        &w.validate(&org, "web.test").await,
        400,
        9,
        "redirects are not followed",
    );
    w.publish("web.test", &format!("{token}.txt"), 200, &"x".repeat(5000));
    assert_err(
        &w.validate(&org, "web.test").await,
        400,
        9,
        "larger than 4096 bytes",
    );
    w.publish("web.test", &format!("{token}.txt"), 200, "something else");
    let r = w.validate(&org, "web.test").await;
    assert_err(&r, 400, 9, "token mismatch");
    assert!(message(&r).contains("\"something else\""), "{}", r.1);
    assert_ne!(w.entry(&org, "web.test").await["isVerified"], true);

    // Generating again replaces the token: the old file no longer counts.
    w.publish("web.test", &format!("{token}.txt"), 200, &token);
    let (token2, url2) = w
        .token(&org, "web.test", "DOMAIN_VALIDATION_TYPE_HTTP")
        .await;
    assert_ne!(token, token2);
    assert_err(
        &w.validate(&org, "web.test").await,
        400,
        9,
        &format!("HTTP 404 at {url2}"),
    );
    w.publish("web.test", &format!("{token2}.txt"), 200, &token);
    assert_err(
        &w.validate(&org, "web.test").await,
        400,
        9,
        "token mismatch",
    );

    // The right token (surrounding whitespace is ignored): verified.
    w.publish(
        "web.test",
        &format!("{token2}.txt"),
        200,
        &format!("{token2}\n"),
    );
    let r = ok(w.validate(&org, "web.test").await);
    assert_eq!(r["details"]["resourceOwner"], org.as_str(), "{r}");
    let e = w.entry(&org, "web.test").await;
    assert_eq!(e["isVerified"], true, "{e}");
    assert_eq!(e["validationType"], "DOMAIN_VALIDATION_TYPE_HTTP", "{e}");
    assert_err(
        &w.validate(&org, "web.test").await,
        400,
        9,
        "already verified",
    );
    assert_err(
        &w.generate(&org, "web.test", "DOMAIN_VALIDATION_TYPE_DNS")
            .await,
        400,
        9,
        "already verified",
    );

    // Verified, it can become primary, and login names follow.
    let body = json!({"userName": "carol", "profile": {"firstName": "C", "lastName": "A"}, "email": {"email": "carol@example.com"}});
    let uid = ok(in_org(s, &org, "POST", "/management/v1/users/human", Some(body)).await)["userId"]
        .as_str()
        .expect("id")
        .to_string();
    ok(in_org(
        s,
        &org,
        "POST",
        &format!("{BASE}/web.test/_set_primary"),
        None,
    )
    .await);
    let u = ok(in_org(s, &org, "GET", &format!("/management/v1/users/{uid}"), None).await);
    assert_eq!(u["user"]["preferredLoginName"], "carol@web.test", "{u}");

    // DNS.
    w.add(&org, "dns.test").await;
    let (token, url) = w
        .token(&org, "dns.test", "DOMAIN_VALIDATION_TYPE_DNS")
        .await;
    assert_eq!(url, "_zitadel-challenge.dns.test");
    assert_err(
        &w.validate(&org, "dns.test").await,
        400,
        9,
        "no TXT record at _zitadel-challenge.dns.test",
    );
    w.txt("_zitadel-challenge.dns.test", &["v=spf1 -all", "stale"]);
    let r = w.validate(&org, "dns.test").await;
    assert_err(&r, 400, 9, "token mismatch");
    assert!(
        message(&r).contains("\"v=spf1 -all\", \"stale\""),
        "{}",
        r.1
    );
    w.txt(
        "_zitadel-challenge.dns.test",
        &["v=spf1 -all", &format!(" {token} ")],
    );
    ok(w.validate(&org, "dns.test").await);
    let e = w.entry(&org, "dns.test").await;
    assert_eq!(e["isVerified"], true, "{e}");
    assert_eq!(e["validationType"], "DOMAIN_VALIDATION_TYPE_DNS", "{e}");

    // Another org cannot see or validate this org's domains.
    let other = new_org(s, "Nosy Org").await;
    assert_err(&w.validate(&other, "web.test").await, 404, 5, "web.test");
    assert_err(
        &w.generate(&other, "dns.test", "DOMAIN_VALIDATION_TYPE_DNS")
            .await,
        404,
        5,
        "dns.test",
    );

    // Without org.write: denied.
    w.add(&org, "late.test").await;
    let (_, weak) = machine(s, Some(&org), "no-rights").await;
    for (path, body) in [
        (
            "late.test/validation/_generate",
            json!({"type": "DOMAIN_VALIDATION_TYPE_DNS"}),
        ),
        ("late.test/validation/_validate", json!({})),
    ] {
        let r = s
            .call(
                "POST",
                &format!("{BASE}/{path}"),
                Some(body),
                Some(&weak),
                Some(&org),
            )
            .await;
        assert_err(&r, 403, 7, "permission");
    }

    // Failed and successful checks are events of the org.
    let ch = ok(in_org(
        s,
        &org,
        "POST",
        "/management/v1/orgs/me/changes/_search",
        Some(json!({})),
    )
    .await);
    let text = ch.to_string();
    for t in [
        "org.domain.verification.added",
        "org.domain.verification.failed",
        "org.domain.verified",
    ] {
        assert!(text.contains(t), "{t} missing in {ch}");
    }
}

both_backends!(http_and_dns_validation, http_and_dns);

/// Unreachable hosts, unknown names and a DNS server that never answers: clear errors within
/// the configured timeout (1.5 s here).
async fn unreachable(backend: Backend) {
    let Some(w) = World::start(backend, false, false).await else {
        return;
    };
    let org = new_org(&w.s, "Down Org").await;
    // 127.0.0.2 is loopback too, but the HTTP server listens on 127.0.0.1 only.
    w.host("down.test", [127, 0, 0, 2]);
    w.add(&org, "down.test").await;
    w.token(&org, "down.test", "DOMAIN_VALIDATION_TYPE_HTTP")
        .await;
    let t = Instant::now();
    let r = w.validate(&org, "down.test").await;
    assert_err(&r, 400, 9, "cannot connect to http://down.test:");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    // A name without an address.
    w.add(&org, "ghost.test").await;
    w.token(&org, "ghost.test", "DOMAIN_VALIDATION_TYPE_HTTP")
        .await;
    let r = w.validate(&org, "ghost.test").await;
    assert_err(&r, 400, 9, "cannot resolve ghost.test");
    assert_ne!(w.entry(&org, "ghost.test").await["isVerified"], true);
}

both_backends!(unreachable_hosts, unreachable);

async fn silent_dns(backend: Backend) {
    let Some(w) = World::start(backend, true, false).await else {
        return;
    };
    let org = new_org(&w.s, "Quiet Org").await;
    w.add(&org, "quiet.test").await;
    w.token(&org, "quiet.test", "DOMAIN_VALIDATION_TYPE_DNS")
        .await;
    let t = Instant::now();
    let r = w.validate(&org, "quiet.test").await;
    assert_err(
        &r,
        400,
        9,
        "did not answer for _zitadel-challenge.quiet.test within 1.5s",
    );
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(4),
        "{took:?}"
    );
    // The HTTP check needs the host's address from the same server.
    w.token(&org, "quiet.test", "DOMAIN_VALIDATION_TYPE_HTTP")
        .await;
    let t = Instant::now();
    let r = w.validate(&org, "quiet.test").await;
    assert_eq!(r.0, 400, "{}", r.1);
    assert!(message(&r).contains("quiet.test"), "{}", r.1);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_ne!(w.entry(&org, "quiet.test").await["isVerified"], true);
}

both_backends!(dns_timeout, silent_dns);

/// Org B verifies a domain org A had added too: A's users named `…@<domain>` get temporary
/// user names (`user.domain.claimed`), A's entry stays unverified and A can no longer
/// verify it. Rebuilt read models equal the live ones.
async fn claim(backend: Backend) {
    let Some(w) = World::start(backend, false, false).await else {
        return;
    };
    let s = &w.s;
    let a = new_org(s, "Early Org").await;
    let b = new_org(s, "Owner Org").await;
    w.host("claim.test", [127, 0, 0, 1]);
    w.add(&a, "claim.test").await;
    w.add(&b, "claim.test").await;
    let (alice, _) = machine(s, Some(&a), "alice@claim.test").await;
    let (bob, _) = machine(s, Some(&b), "bob@claim.test").await;
    let (carl, _) = machine(s, Some(&a), "carl@other.test").await;

    w.token(&a, "claim.test", "DOMAIN_VALIDATION_TYPE_DNS")
        .await;
    assert_err(&w.validate(&a, "claim.test").await, 400, 9, "no TXT record");
    let (token, _) = w
        .token(&b, "claim.test", "DOMAIN_VALIDATION_TYPE_HTTP")
        .await;
    w.publish("claim.test", &format!("{token}.txt"), 200, &token);
    ok(w.validate(&b, "claim.test").await);
    assert_eq!(w.entry(&b, "claim.test").await["isVerified"], true);

    let user = |org: String, id: String| async move {
        ok(in_org(s, &org, "GET", &format!("/management/v1/users/{id}"), None).await)["user"]
            .clone()
    };
    let u = user(a.clone(), alice.clone()).await;
    let name = u["userName"].as_str().unwrap_or_default();
    assert!(name.ends_with("@temporary.localhost"), "{u}");
    assert_ne!(name, "alice@claim.test");
    assert_eq!(u["preferredLoginName"], name, "{u}");
    // Users of the verifying org and other names stay.
    assert_eq!(user(b.clone(), bob).await["userName"], "bob@claim.test");
    assert_eq!(user(a.clone(), carl).await["userName"], "carl@other.test");
    // The name is free for the owner's users now.
    machine(s, Some(&b), "alice@claim.test").await;

    // A's entry stays unverified and cannot be verified any more.
    assert_ne!(w.entry(&a, "claim.test").await["isVerified"], true);
    w.txt("_zitadel-challenge.claim.test", &["x"]);
    assert_err(
        &w.validate(&a, "claim.test").await,
        409,
        6,
        "another organisation",
    );

    // The read models rebuilt from the events equal the live ones.
    let before = super::admin::dump(&s.db_url).await;
    let (db_url, dir) = (s.db_url.clone(), s.dir.clone());
    w.s.stop().await;
    castellan_server::rebuild_projections(&castellan_testkit::test_config(&db_url, &dir))
        .await
        .unwrap_or_else(|e| panic!("rebuild: {e}"));
    assert_eq!(before, super::admin::dump(&db_url).await);
}

both_backends!(claimed_domain, claim);
