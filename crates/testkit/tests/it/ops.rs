//! Operations: several nodes on one PostgreSQL, TLS with ALPN, request routing by host.

use super::*;
use castellan_testkit::{temp_dir, test_config};

/// Two nodes on one PostgreSQL database: a write on one is visible on the other at once, and
/// revoking a token on one is honoured by the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_postgres() {
    let Some(a) = TestServer::start(Backend::Postgres).await else {
        return;
    };
    let cfg = test_config(&a.db_url, &a.dir);
    let mut b = TestServer::launch(Backend::Postgres, cfg, temp_dir("nodeb"), false).await;
    b.pat = a.pat.clone();
    // Writes on A are read on B at once, and the other way round.
    let id = ok(a
        .admin(
            "POST",
            "/management/v1/users/machine",
            Some(json!({"userName": "on-a", "name": "A"})),
        )
        .await)["userId"]
        .as_str()
        .map(str::to_string)
        .expect("id");
    assert_eq!(
        ok(b.admin("GET", &format!("/management/v1/users/{id}"), None)
            .await)["user"]["userName"],
        "on-a"
    );
    let id2 = ok(b
        .admin(
            "POST",
            "/management/v1/users/machine",
            Some(json!({"userName": "on-b", "name": "B"})),
        )
        .await)["userId"]
        .as_str()
        .map(str::to_string)
        .expect("id");
    assert_eq!(
        ok(a.admin("GET", &format!("/management/v1/users/{id2}"), None)
            .await)["user"]["userName"],
        "on-b"
    );
    // Unique constraints hold across nodes.
    assert_eq!(
        b.admin(
            "POST",
            "/management/v1/users/machine",
            Some(json!({"userName": "on-a", "name": "dup"}))
        )
        .await
        .0,
        409
    );
    // A PAT used on B (and cached there) stops working on B once A removes it.
    let pat = ok(a
        .admin(
            "POST",
            &format!("/management/v1/users/{id}/pats"),
            Some(json!({})),
        )
        .await);
    let (tid, token) = (
        pat["tokenId"].as_str().expect("tokenId").to_string(),
        pat["token"].as_str().expect("token").to_string(),
    );
    ok(b.call("GET", "/auth/v1/users/me", None, Some(&token), None)
        .await);
    ok(a.admin(
        "DELETE",
        &format!("/management/v1/users/{id}/pats/{tid}"),
        None,
    )
    .await);
    let mut status = 0;
    for _ in 0..50 {
        status = b
            .call("GET", "/auth/v1/users/me", None, Some(&token), None)
            .await
            .0;
        if status == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status, 401, "node B still accepts a PAT removed on node A");
    b.stop().await;
    a.stop().await;
}

fn self_signed(dir: &std::path::Path) -> (String, String) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert.display().to_string(), key.display().to_string())
}

/// `--tls-mode enabled` serves HTTPS with HTTP/2 by ALPN and refuses plain HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_https_with_h2_and_refuses_plain_http() {
    let dir = temp_dir("tls");
    let (cert, key) = self_signed(&dir);
    let mut cfg = test_config(&format!("sqlite://{}", dir.join("c.db").display()), &dir);
    cfg.tls.cert_path = cert.clone();
    cfg.tls.key_path = key;
    cfg.http.header_timeout = "2s".into();
    let running = castellan_server::start(castellan_server::Options {
        config: cfg,
        tls_mode: Some(castellan_server::TlsMode::Enabled),
        init: true,
        listen: Some("127.0.0.1:0".parse().expect("addr")),
        node: None,
    })
    .await
    .expect("start with TLS");
    let port = running.addr.port();
    let pat = std::fs::read_to_string(dir.join("pat.txt")).expect("pat");
    let root = reqwest::Certificate::from_pem(&std::fs::read(&cert).expect("cert")).expect("pem");
    let https = reqwest::Client::builder()
        .add_root_certificate(root)
        .no_proxy()
        .build()
        .expect("client");
    let r = https
        .get(format!("https://localhost:{port}/auth/v1/users/me"))
        .header("authorization", format!("Bearer {pat}"))
        .send()
        .await
        .expect("https");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000"),
        "HSTS over https"
    );
    assert_eq!(
        r.version(),
        reqwest::Version::HTTP_2,
        "ALPN must negotiate h2 (gRPC needs it)"
    );
    let plain = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    assert!(
        plain
            .get(format!("http://localhost:{port}/debug/healthz"))
            .send()
            .await
            .is_err(),
        "plain HTTP must be refused"
    );
    // A client that never starts its handshake is let go (`HTTP.HeaderTimeout`).
    let mut c = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    assert_let_go(&mut c, "a silent TLS client").await;
    // Nor is one that finishes its handshake (ALPN http/1.1) and then sends nothing.
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut std::io::BufReader::new(
        std::fs::File::open(&cert).expect("cert"),
    )) {
        roots.add(c.expect("pem")).expect("root");
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    for (alpn, what) in [
        (
            Some("http/1.1"),
            "silent after its handshake (ALPN http/1.1)",
        ),
        (None, "silent after its handshake (no ALPN)"),
    ] {
        tls.alpn_protocols = alpn.map(|p| p.as_bytes().to_vec()).into_iter().collect();
        let mut c = handshake(&tls, port).await;
        assert_let_go(&mut c, what).await;
    }
    // Under ALPN h2 the server sends its settings first; a client that then sends no
    // preface, or half of one, is let go as well.
    tls.alpn_protocols = vec![b"h2".to_vec()];
    for (sent, what) in [
        (
            &b""[..],
            "a TLS client silent after its handshake (ALPN h2)",
        ),
        (
            b"PRI * HTTP/2.0\r\n",
            "a TLS client that stops within its HTTP/2 preface",
        ),
    ] {
        let mut c = handshake(&tls, port).await;
        tokio::io::AsyncWriteExt::write_all(&mut c, sent)
            .await
            .expect("write");
        let got = crate::bad_input::until_closed(&mut c, 6).await;
        assert!(got.is_some(), "{what} stayed connected");
    }
    running.stop().await;
}

/// A TLS connection to `port` after the handshake `tls` makes with it.
async fn handshake(
    tls: &rustls::ClientConfig,
    port: u16,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(tls.clone()))
        .connect(name, tcp)
        .await
        .expect("handshake")
}

/// Asserts that the server ends connection `c` within 6 s without sending anything.
async fn assert_let_go(c: &mut (impl tokio::io::AsyncRead + Unpin), what: &str) {
    let mut buf = [0u8; 16];
    let end = tokio::time::timeout(
        std::time::Duration::from_secs(6),
        tokio::io::AsyncReadExt::read(c, &mut buf),
    )
    .await;
    assert!(
        matches!(end, Ok(Ok(0)) | Ok(Err(_))),
        "{what} stayed connected: {end:?}"
    );
}

// A trusted proxy names the instance with x-zitadel-instance-host.
both!(
    instance_host_header_selects_the_instance,
    |s: TestServer| async move {
        let r = s
            .http
            .get(s.url("/auth/v1/users/me"))
            .header("x-zitadel-instance-host", "localhost")
            .header("host", "proxy.internal:9999")
            .header("authorization", format!("Bearer {}", s.pat))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
        let r = s
            .http
            .get(s.url("/auth/v1/users/me"))
            .header("x-zitadel-instance-host", "other.example.com")
            .header("authorization", format!("Bearer {}", s.pat))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 404);
    }
);

/// With `DefaultInstance.DomainPolicy.UserLoginMustBeDomain`, login names are
/// `username@<org primary domain>`, user names are unique per organisation only, and login
/// names follow the organisation's primary domain.
async fn login_names_carry_the_org_domain(backend: Backend) {
    let Some(s) = TestServer::start_with(backend, |c| {
        c.default_instance.domain_policy.user_login_must_be_domain = true
    })
    .await
    else {
        return;
    };
    let me = ok(s.admin("GET", "/auth/v1/users/me", None).await);
    assert_eq!(
        me["user"]["preferredLoginName"],
        "admin-sa@castellan.localhost"
    );
    let mut orgs = Vec::new();
    for name in ["Org One", "Org Two"] {
        orgs.push(
            ok(
                s.admin("POST", "/management/v1/orgs", Some(json!({"name": name})))
                    .await,
            )["id"]
                .as_str()
                .expect("id")
                .to_string(),
        );
    }
    let body = json!({"userName": "alice", "profile": {"firstName": "A", "lastName": "L"}, "email": {"email": "alice@example.com"}});
    let a1 = ok(s
        .call(
            "POST",
            "/management/v1/users/human",
            Some(body.clone()),
            Some(&s.pat),
            Some(&orgs[0]),
        )
        .await)["userId"]
        .as_str()
        .expect("id")
        .to_string();
    // The same user name in another organisation is fine, twice in one is not.
    ok(s.call(
        "POST",
        "/management/v1/users/human",
        Some(body.clone()),
        Some(&s.pat),
        Some(&orgs[1]),
    )
    .await);
    assert_eq!(
        s.call(
            "POST",
            "/management/v1/users/human",
            Some(body),
            Some(&s.pat),
            Some(&orgs[0])
        )
        .await
        .0,
        409
    );
    let u = ok(s
        .call(
            "GET",
            &format!("/management/v1/users/{a1}"),
            None,
            Some(&s.pat),
            Some(&orgs[0]),
        )
        .await);
    assert_eq!(u["user"]["preferredLoginName"], "alice@org-one.localhost");
    assert_eq!(u["user"]["loginNames"], json!(["alice@org-one.localhost"]));
    let g = ok(s
        .admin(
            "GET",
            "/management/v1/global/users/_by_login_name?loginName=alice@org-two.localhost",
            None,
        )
        .await);
    assert_ne!(g["user"]["id"], a1.as_str());
    // Renaming the organisation moves its generated primary domain, and the login names follow.
    ok(s.call(
        "PUT",
        "/management/v1/orgs/me",
        Some(json!({"name": "Org Uno"})),
        Some(&s.pat),
        Some(&orgs[0]),
    )
    .await);
    let u = ok(s
        .call(
            "GET",
            &format!("/management/v1/users/{a1}"),
            None,
            Some(&s.pat),
            Some(&orgs[0]),
        )
        .await);
    assert_eq!(u["user"]["preferredLoginName"], "alice@org-uno.localhost");
    let g = ok(s
        .admin(
            "GET",
            "/management/v1/global/users/_by_login_name?loginName=ALICE@org-uno.localhost",
            None,
        )
        .await);
    assert_eq!(g["user"]["id"], a1.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_names_carry_the_org_domain_sqlite() {
    login_names_carry_the_org_domain(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_names_carry_the_org_domain_postgres() {
    login_names_carry_the_org_domain(Backend::Postgres).await;
}

// Concurrent commands on one aggregate never lose an update: every acknowledged change is in
// the read model and in the event log with its own sequence, and a name race has one winner.
both!(
    concurrent_writes_on_one_aggregate,
    |s: TestServer| async move {
        let s = std::sync::Arc::new(s);
        let id = ok(s
            .admin(
                "POST",
                "/management/v1/users/machine",
                Some(json!({"userName": "busy", "name": "Busy"})),
            )
            .await)["userId"]
            .as_str()
            .expect("id")
            .to_string();
        let mut tasks = Vec::new();
        for i in 0..40 {
            let (s, id) = (s.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                s.admin(
                    "POST",
                    &format!("/management/v1/users/{id}/metadata/k{i}"),
                    Some(json!({"value": "dg=="})),
                )
                .await
                .0
            }));
        }
        for t in tasks {
            assert_eq!(t.await.expect("task"), 200);
        }
        let list = ok(s
            .admin(
                "POST",
                &format!("/management/v1/users/{id}/metadata/_search"),
                Some(json!({})),
            )
            .await);
        assert_eq!(list["details"]["totalResult"], "40");
        let ev = ok(s.admin("POST", "/admin/v1/events/_search", Some(json!({"aggregateId": id, "aggregateTypes": ["user"], "limit": 100, "asc": true}))).await);
        let events = ev["events"].as_array().expect("events");
        assert_eq!(
            events.len(),
            41,
            "one machine.added and 40 metadata.set events"
        );

        // Lock/unlock races: every answer is a success or a clear precondition error, and the
        // final state matches the log.
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (s, id) = (s.clone(), id.clone());
            let action = if i % 2 == 0 { "_lock" } else { "_unlock" };
            tasks.push(tokio::spawn(async move {
                s.admin(
                    "POST",
                    &format!("/management/v1/users/{id}/{action}"),
                    Some(json!({})),
                )
                .await
            }));
        }
        for t in tasks {
            let (status, body) = t.await.expect("task");
            assert!(
                status == 200 || (status == 400 && body["code"] == 9),
                "{status} {body}"
            );
        }
        let ev = ok(s.admin("POST", "/admin/v1/events/_search", Some(json!({"aggregateId": id, "eventTypes": ["user.locked", "user.unlocked"], "limit": 100, "asc": true}))).await);
        let kinds: Vec<&str> = ev["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["type"]["type"].as_str())
            .collect();
        for pair in kinds.windows(2) {
            assert_ne!(pair[0], pair[1], "two {} in a row: a lost update", pair[0]);
        }
        let state = ok(s
            .admin("GET", &format!("/management/v1/users/{id}"), None)
            .await)["user"]["state"]
            .clone();
        let expected = if kinds.last() == Some(&"user.locked") {
            "USER_STATE_LOCKED"
        } else {
            "USER_STATE_ACTIVE"
        };
        assert_eq!(state, expected);

        // Ten concurrent creations of one user name: exactly one wins.
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.admin(
                    "POST",
                    "/management/v1/users/machine",
                    Some(json!({"userName": "race", "name": "Race"})),
                )
                .await
                .0
            }));
        }
        let mut codes = Vec::new();
        for t in tasks {
            codes.push(t.await.expect("task"));
        }
        codes.sort_unstable();
        assert_eq!(
            codes,
            vec![200, 409, 409, 409, 409, 409, 409, 409, 409, 409]
        );
    }
);
