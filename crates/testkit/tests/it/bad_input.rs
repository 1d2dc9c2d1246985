//! Malformed requests at the public endpoints, written byte for byte on raw sockets (a client
//! library would refuse to send most of them): each gets an answer below 500 that names the
//! problem in the endpoint's own shape (OAuth JSON, a login page, the API's error JSON), nothing
//! is written by them, and the server goes on serving logins.

use super::login::{human, login_to_code, oidc_app, Browser, REDIRECT};
use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An answer as read off the socket.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Writes `head` (the request line and headers, without the blank line) and `body` on a fresh
/// connection and reads the answer to the end (`connection: close`).
async fn raw(s: &TestServer, head: &str, body: &[u8]) -> Answer {
    let mut c = tokio::net::TcpStream::connect(("127.0.0.1", s.port))
        .await
        .expect("connect");
    let mut bytes = format!(
        "{head}\r\nhost: localhost:{}\r\nconnection: close\r\n\r\n",
        s.port
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    // A server may answer and close before a refused body is all sent: read the answer anyway.
    let _ = c.write_all(&bytes).await;
    let text = until_closed(&mut c, 20)
        .await
        .unwrap_or_else(|| panic!("no end of answer to {head:?}"));
    let (h, b) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = h
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    assert!(
        (200..500).contains(&status),
        "{head:?} got {status}: {}",
        &text[..text.len().min(400)]
    );
    Answer {
        status,
        head: h.to_string(),
        body: b.to_string(),
    }
}

async fn form(s: &TestServer, path: &str, auth: Option<&str>, body: &[u8]) -> Answer {
    let auth = auth.map_or(String::new(), |a| format!("\r\nauthorization: {a}"));
    let head = format!(
        "POST {path} HTTP/1.1\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}{auth}",
        body.len()
    );
    raw(s, &head, body).await
}

/// An OAuth endpoint's refusal: 4xx with `{"error", "error_description"}`.
#[track_caller]
fn oauth_refusal(a: &Answer, what: &str) {
    assert!((400..500).contains(&a.status), "{what}: {a:?}");
    let v: Value = serde_json::from_str(&a.body).unwrap_or_else(|_| panic!("{what}: {a:?}"));
    assert!(v["error"].is_string(), "{what}: {a:?}");
    assert!(v["error_description"].is_string(), "{what}: {a:?}");
}

/// A login page's refusal: 4xx with an HTML page that explains.
#[track_caller]
fn page_refusal(a: &Answer, what: &str) {
    assert!((400..500).contains(&a.status), "{what}: {a:?}");
    assert!(
        a.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{what}: {a:?}"
    );
    assert!(
        a.body.contains("<h1>") && a.body.contains("</html>"),
        "{what}: {a:?}"
    );
}

/// An API refusal: 4xx with the error JSON (`code`, `message`).
#[track_caller]
fn api_refusal(a: &Answer, what: &str) {
    assert!((400..500).contains(&a.status), "{what}: {a:?}");
    let v: Value = serde_json::from_str(&a.body).unwrap_or_else(|_| panic!("{what}: {a:?}"));
    assert!(
        v["code"].is_i64() && v["message"].is_string(),
        "{what}: {a:?}"
    );
}

/// Values that break parsers: empty, bad percent-encodings, a NUL, long, non-ASCII, JSON, big
/// numbers, markup.
const WEIRD: &[&str] = &[
    "",
    "%",
    "%ff",
    "%00",
    "%C3%A9",
    "-1",
    "99999999999999999999999",
    "1e309",
    "%7B%7D",
    "%3Cscript%3E",
    "a.b.c",
    "eyJhbGciOiJub25lIn0.eyJ9.",
];

both!(
    malformed_requests_get_answers_that_name_the_problem,
    |s: TestServer| async move {
        let client = oidc_app(&s, json!({})).await;
        let (_, login) = human(&s, "bad-input", false).await;
        let secret_less = format!("Basic {}", b64(&format!("{client}:wrong")));
        let projects_before = total(&ok(s
            .admin("POST", "/management/v1/projects/_search", Some(json!({})))
            .await));

        // Authorize: every parameter with every odd value, as GET and POST. Before the client
        // and redirect URI are known good, a page; after, an error on the redirect URI.
        let base = [
            ("client_id", client.as_str()),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
        ];
        let extra = [
            "prompt",
            "max_age",
            "code_challenge",
            "code_challenge_method",
            "response_mode",
            "id_token_hint",
            "login_hint",
            "ui_locales",
            "request",
        ];
        let names = base.iter().map(|(k, _)| *k).chain(extra);
        for name in names {
            for w in WEIRD {
                let mut q: Vec<String> = base
                    .iter()
                    .filter(|(k, _)| *k != name)
                    .map(|(k, v)| format!("{k}={}", super::login::urlencode(v)))
                    .collect();
                q.push(format!("{name}={w}"));
                let q = q.join("&");
                let what = format!("authorize {name}={w}");
                let a = raw(&s, &format!("GET /oauth/v2/authorize?{q} HTTP/1.1"), b"").await;
                let to_rp = a
                    .header("location")
                    .is_some_and(|l| l.starts_with(REDIRECT));
                // Without a good client and redirect URI: a page that explains. Else a
                // refusal on the redirect URI (`error=`), or a code or login page for a value
                // the request can do without.
                if matches!(name, "client_id" | "redirect_uri") || (!to_rp && a.status >= 400) {
                    page_refusal(&a, &what);
                } else if to_rp && a.status == 302 {
                    let l = a.header("location").unwrap_or_default();
                    assert!(l.contains("error=") || l.contains("code="), "{what}: {a:?}");
                }
                let p = form(&s, "/oauth/v2/authorize", None, q.as_bytes()).await;
                // A POST that is good enough to serve goes on as a GET (303 to `resume`).
                let resumed = p.status == 303
                    && p.header("location")
                        .is_some_and(|l| l.starts_with("/oauth/v2/authorize/resume?"));
                assert!(
                    p.status == a.status || (resumed && a.status == 200),
                    "{what} as POST: {p:?} (GET: {a:?})"
                );
            }
        }

        // The token endpoint: every grant with odd values in its fields, with and without a
        // client.
        let grants = [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "urn:ietf:params:oauth:grant-type:device_code",
            "password",
            "%ff",
        ];
        let fields = [
            "code",
            "refresh_token",
            "assertion",
            "subject_token",
            "subject_token_type",
            "device_code",
            "code_verifier",
            "client_assertion",
            "scope",
        ];
        for g in grants {
            for f in fields {
                for w in [WEIRD[2], WEIRD[6], WEIRD[10], WEIRD[11]] {
                    let body = format!("grant_type={g}&{f}={w}");
                    let what = format!("token {body}");
                    oauth_refusal(
                        &form(&s, "/oauth/v2/token", None, body.as_bytes()).await,
                        &what,
                    );
                    let with =
                        form(&s, "/oauth/v2/token", Some(&secret_less), body.as_bytes()).await;
                    oauth_refusal(&with, &what);
                }
            }
        }

        // Broken client authentication and bodies at every OAuth endpoint.
        let endpoints = [
            "/oauth/v2/token",
            "/oauth/v2/introspect",
            "/oauth/v2/revoke",
            "/oauth/v2/device_authorization",
        ];
        let auths = [
            "Basic".to_string(),
            "Basic !!!".to_string(),
            format!("Basic {}", b64("nocolon")),
            format!("Basic {}", b64("%zz:%zz")),
            format!("Basic {}", "A".repeat(10_000)),
            "Bearer x".to_string(),
            secret_less.clone(),
        ];
        for ep in endpoints {
            for a in &auths {
                let body = b"grant_type=client_credentials&token=x&scope=openid";
                let ans = form(&s, ep, Some(a), body).await;
                oauth_refusal(&ans, &format!("{ep} with {}", &a[..a.len().min(20)]));
            }
            for body in [&b"a=%zz&b"[..], b"\xff\xfe\x00", b""] {
                oauth_refusal(&form(&s, ep, None, body).await, &format!("{ep} {body:?}"));
            }
            let json = raw(
                &s,
                &format!(
                    "POST {ep} HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 7"
                ),
                b"{\"a\":1}",
            )
            .await;
            oauth_refusal(&json, &format!("{ep} JSON"));
            let big = vec![b'x'; 3 << 20];
            let ans = form(&s, ep, None, &big).await;
            assert!((400..500).contains(&ans.status), "{ep} 3 MB: {ans:?}");
            // A method the endpoint does not take: 405, `Allow`, and the OAuth error.
            let get = raw(&s, &format!("GET {ep} HTTP/1.1"), b"").await;
            assert_eq!(get.status, 405, "{get:?}");
            assert_eq!(get.header("allow"), Some("POST"), "{get:?}");
            oauth_refusal(&get, &format!("GET {ep}"));
            assert!(get.body.contains("GET is not allowed on"), "{get:?}");
        }

        // Userinfo with odd tokens: 401 and the challenge.
        for t in WEIRD.iter().chain(&["Bearer", "x y z"]) {
            let u = raw(
                &s,
                &format!("GET /oidc/v1/userinfo HTTP/1.1\r\nauthorization: Bearer {t}"),
                b"",
            )
            .await;
            assert_eq!(u.status, 401, "userinfo {t}: {u:?}");
            assert!(u.header("www-authenticate").is_some(), "{u:?}");
        }

        // The login pages: odd request ids, forms without their fields, wrong methods, and
        // paths that name no page.
        for t in WEIRD {
            for page in ["login", "select", "register"] {
                let a = raw(
                    &s,
                    &format!("GET /ui/login/{page}?authRequestID={t} HTTP/1.1"),
                    b"",
                )
                .await;
                page_refusal(&a, &format!("{page} authRequestID={t}"));
            }
            for page in [
                "loginname",
                "password",
                "password/change",
                "select",
                "register",
            ] {
                let body = format!("authRequestID={t}&loginName={t}&password={t}");
                let a = form(&s, &format!("/ui/login/{page}"), None, body.as_bytes()).await;
                page_refusal(&a, &format!("POST {page} {t}"));
            }
            let d = form(&s, "/device", None, format!("user_code={t}").as_bytes()).await;
            page_refusal(&d, &format!("device {t}"));
        }
        for (method, page) in [
            ("GET", "password"),
            ("GET", "loginname"),
            ("PUT", "login"),
            ("DELETE", "register"),
        ] {
            let a = raw(
                &s,
                &format!("{method} /ui/login/{page} HTTP/1.1\r\ncontent-length: 0"),
                b"",
            )
            .await;
            assert_eq!(a.status, 405, "{method} {page}: {a:?}");
            assert!(a.header("allow").is_some(), "{a:?}");
            page_refusal(&a, &format!("{method} {page}"));
            assert!(a.body.contains("cannot be opened this way"), "{a:?}");
        }
        // Odd values in the forms of a live login: a page that explains, never busy.
        let mut b = Browser::new(&s);
        let first = b.get(&super::login::authorize_url(&client, "")).await;
        let first = b.follow(first).await;
        for w in [
            "a\u{0}b",
            "",
            "x".repeat(5000).as_str(),
            "\u{e9}\u{4e2d}\u{1F600}",
            "' OR 1=1 --",
        ] {
            let p = b
                .submit(&first, "/ui/login/loginname", &[("loginName", w)])
                .await;
            assert!(
                p.status == 200 || (400..500).contains(&p.status),
                "login name {w:?}: {p:?}"
            );
        }
        let pw = b
            .submit(&first, "/ui/login/loginname", &[("loginName", &login)])
            .await;
        let odd = b
            .submit(
                &pw,
                "/ui/login/password",
                &[("loginName", "a\u{0}b"), ("password", "x")],
            )
            .await;
        assert_eq!(odd.status, 400, "{odd:?}");
        assert!(
            odd.body.contains("characters that cannot be used"),
            "{odd:?}"
        );
        for path in ["/ui/login", "/ui/login/nope", "/ui/login/password/x"] {
            let a = raw(&s, &format!("GET {path} HTTP/1.1"), b"").await;
            assert_eq!(a.status, 404, "{path}: {a:?}");
            page_refusal(&a, path);
        }

        // The APIs: bodies that are not the message, odd tokens, gRPC over HTTP/1.1.
        // (Unknown fields are ignored, as ZITADEL's gateway does.)
        let bodies: [&[u8]; 6] = [
            b"{",
            b"[]",
            b"null",
            b"\xff",
            b"{\"query\":{\"offset\":\"18446744073709551616\"}}",
            b"{\"queries\":[{\"nameQuery\":{\"method\":\"TEXT_QUERY_METHOD_X\"}}]}",
        ];
        let pat = format!("authorization: Bearer {}", s.pat);
        for path in [
            "/management/v1/projects",
            "/management/v1/projects/_search",
            "/management/v1/users/human/_import",
        ] {
            for b in bodies {
                let head = format!("POST {path} HTTP/1.1\r\ncontent-type: application/json\r\n{pat}\r\ncontent-length: {}", b.len());
                api_refusal(&raw(&s, &head, b).await, &format!("{path} {b:?}"));
            }
            let nested = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
            let head = format!("POST {path} HTTP/1.1\r\ncontent-type: application/json\r\n{pat}\r\ncontent-length: {}", nested.len());
            api_refusal(
                &raw(&s, &head, nested.as_bytes()).await,
                &format!("{path} nested"),
            );
            for t in ["Bearer", "Bearer x", "Basic eA==", "Bearer a.b.c"] {
                let head = format!("POST {path} HTTP/1.1\r\ncontent-type: application/json\r\nauthorization: {t}\r\ncontent-length: 2");
                let a = raw(&s, &head, b"{}").await;
                assert_eq!(a.status, 401, "{path} {t}: {a:?}");
                api_refusal(&a, &format!("{path} {t}"));
            }
        }
        // Text with a NUL character (PostgreSQL cannot hold one): 400 on either store.
        let nul = s
            .admin(
                "POST",
                "/management/v1/projects",
                Some(json!({"name": "a\u{0}b"})),
            )
            .await;
        assert_err(&nul, 400, 3, "NUL");
        let nul = s.admin("GET", "/management/v1/users/a%00b", None).await;
        assert_err(&nul, 400, 3, "NUL");
        let head = format!("POST /zitadel.management.v1.ManagementService/ListProjects HTTP/1.1\r\ncontent-type: application/grpc\r\n{pat}\r\ncontent-length: 5");
        let g = raw(&s, &head, b"\0\0\0\0\0").await;
        api_refusal(&g, "gRPC over HTTP/1.1");
        assert_eq!(g.header("grpc-status"), Some("3"), "{g:?}");
        assert!(g.body.contains("HTTP/2"), "{g:?}");

        // Nothing was written, and logins go on.
        let projects_after = total(&ok(s
            .admin("POST", "/management/v1/projects/_search", Some(json!({})))
            .await));
        assert_eq!(projects_after, projects_before);
        let mut b = Browser::new(&s);
        login_to_code(&s, &mut b, &client, &login).await;
    }
);

both!(
    every_rest_operation_answers_odd_input_below_500,
    |s: TestServer| async move {
        let (user, _) = human(&s, "odd-paths", false).await;
        // Path values: not a number, a huge number, a NUL, an escaped slash, and a real id of
        // another kind of object; bodies: broken JSON, the wrong type, a NUL, negative paging.
        let values = [
            "x",
            "99999999999999999999999",
            "%00",
            "a%2Fb",
            user.as_str(),
        ];
        let bodies = [
            "{\"a\"",
            "[1]",
            "{\"name\":\"\\u0000\",\"id\":\"\\u0000\"}",
            "{\"query\":{\"limit\":-5,\"offset\":\"-1\"}}",
        ];
        let mut sent = 0;
        for api in ["auth", "management", "admin", "system"] {
            let doc: Value = s
                .http
                .get(s.url(&format!("/openapi/v2/swagger/{api}.swagger.json")))
                .send()
                .await
                .expect("openapi")
                .json()
                .await
                .expect("openapi json");
            let base = doc["basePath"].as_str().unwrap_or_default();
            let paths = doc["paths"].as_object().expect("paths");
            for (path, ops) in paths {
                for method in ops.as_object().expect("operations").keys() {
                    // What would end the caller's own access: its organisation and itself.
                    let own = format!("{method} {base}{path}");
                    if [
                        "post /management/v1/orgs/me/_deactivate",
                        "delete /management/v1/orgs/me",
                        "delete /auth/v1/users/me",
                    ]
                    .contains(&own.as_str())
                    {
                        continue;
                    }
                    let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
                        .expect("method");
                    let has_vars = path.contains('{');
                    for v in if has_vars { &values[..] } else { &values[..1] } {
                        let url = s.url(&format!("{base}{}", fill(path, v)));
                        let with_body = matches!(method.as_str(), "post" | "put" | "patch");
                        for b in if with_body { &bodies[..] } else { &bodies[..1] } {
                            let mut req = s
                                .http
                                .request(m.clone(), &url)
                                .header("authorization", format!("Bearer {}", s.pat));
                            if with_body {
                                req = req.header("content-type", "application/json").body(*b);
                            }
                            let r = req.send().await.expect("send");
                            let status = r.status().as_u16();
                            let text = r.text().await.unwrap_or_default();
                            sent += 1;
                            assert!(status < 500, "{method} {url} {b}: {status} {text}");
                            // The instance owner's token is good for every API but the
                            // system API's.
                            assert!(
                                status != 401 || api == "system",
                                "{method} {url}: {status} {text}"
                            );
                            if status >= 400 {
                                let v: Value = serde_json::from_str(&text)
                                    .unwrap_or_else(|_| panic!("{method} {url}: {status} {text}"));
                                assert!(v["code"].is_i64(), "{method} {url}: {text}");
                            }
                        }
                    }
                }
            }
        }
        assert!(
            sent > 1000,
            "only {sent} requests: the OpenAPI documents lost operations"
        );
    }
);

/// `path` with every `{variable}` replaced by `v`.
fn fill(path: &str, v: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        rest = rest[open..].split_once('}').map_or("", |(_, r)| r);
        out.push_str(v);
    }
    out.push_str(rest);
    out
}

/// Reads until the server closes the connection; what it sent, or `None` when it kept the
/// connection open past `secs`.
pub(crate) async fn until_closed(
    c: &mut (impl tokio::io::AsyncRead + Unpin),
    secs: u64,
) -> Option<String> {
    let mut out = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(secs), async {
        let mut buf = [0u8; 4096];
        loop {
            match c.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|_| String::from_utf8_lossy(&out).to_string())
}

/// Writes `bytes` on a fresh connection, then stays silent: what the server sent before it
/// ended the connection (within 5 s, or the test fails naming `what`).
async fn sent_then_let_go(s: &TestServer, bytes: &[u8], what: &str) -> String {
    let mut c = tokio::net::TcpStream::connect(("127.0.0.1", s.port))
        .await
        .expect("connect");
    c.write_all(bytes).await.expect("write");
    until_closed(&mut c, 5)
        .await
        .unwrap_or_else(|| panic!("{what} kept its connection"))
}

both_backends!(silent_clients_are_let_go, |backend| async move {
    let Some(s) = TestServer::start_with(backend, |c| c.http.header_timeout = "1s".into()).await
    else {
        return;
    };
    // Nothing sent after connecting.
    assert_eq!(sent_then_let_go(&s, b"", "a silent connection").await, "");
    // An HTTP/2 preface that stops short: which HTTP this is cannot be told yet.
    let got = sent_then_let_go(&s, b"PRI * HTTP/2.0\r\n", "an unfinished HTTP/2 preface").await;
    assert_eq!(got, "");
    // A whole preface, then silence: HTTP/2's pings go unanswered.
    let got = sent_then_let_go(
        &s,
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "a silent HTTP/2 connection",
    )
    .await;
    assert!(!got.is_empty(), "the server's HTTP/2 settings");
    // Headers that never end.
    let got = sent_then_let_go(
        &s,
        b"GET /debug/healthz HTTP/1.1\r\nhost: localhost\r\n",
        "unfinished headers",
    )
    .await;
    assert!(!got.contains("200 OK"), "{got}");
    // A kept-alive connection that goes idle after its answer.
    let got = sent_then_let_go(
        &s,
        b"GET /debug/healthz HTTP/1.1\r\nhost: localhost\r\n\r\n",
        "an idle connection",
    )
    .await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    // A body that stops halfway: the API answers 408 and the connection ends; so does a form.
    let head = format!(
        "POST /management/v1/projects HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nauthorization: Bearer {}\r\ncontent-length: 100\r\n\r\n{{\"na",
        s.pat
    );
    let got = sent_then_let_go(&s, head.as_bytes(), "a stalled body").await;
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains("REST-b0dyT"), "{got}");
    let got = sent_then_let_go(
        &s,
        b"POST /ui/login/loginname HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\nloginName=a",
        "a stalled form",
    )
    .await;
    assert!(!got.starts_with("HTTP/1.1 5"), "{got}");
    // A slow but steady client within the bound is served.
    let mut c = tokio::net::TcpStream::connect(("127.0.0.1", s.port))
        .await
        .expect("connect");
    c.write_all(b"GET /debug/healthz HTTP/1.1\r\n")
        .await
        .expect("write");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    c.write_all(b"host: localhost\r\nconnection: close\r\n\r\n")
        .await
        .expect("write");
    let got = until_closed(&mut c, 5).await.expect("answer");
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    s.stop().await;
});

both!(
    undecodable_grpc_messages_are_invalid_arguments,
    |s: TestServer| async move {
        let h2 = reqwest::Client::builder()
            .http2_prior_knowledge()
            .no_proxy()
            .build()
            .expect("client");
        // Frames: none at all, cut short, a string field that is not UTF-8.
        let bodies: [&[u8]; 3] = [
            b"",
            b"\0\0\0\0\x05abc",
            b"\0\0\0\0\x06\x0a\x04\xff\xfe\0\x01",
        ];
        for (client, ct) in [
            (&h2, "application/grpc"),
            (&s.http, "application/grpc-web+proto"),
        ] {
            for b in bodies {
                let r = client
                    .post(s.url("/zitadel.management.v1.ManagementService/GetUserByID"))
                    .header("content-type", ct)
                    .header("te", "trailers")
                    .header("authorization", format!("Bearer {}", s.pat))
                    .body(b.to_vec())
                    .send()
                    .await
                    .expect("send");
                let h = r.headers();
                let what = format!("{ct} {b:?}: {h:?}");
                assert_eq!(
                    h.get("grpc-status").map(|v| v.as_bytes()),
                    Some(&b"3"[..]),
                    "{what}"
                );
                let msg = h
                    .get("grpc-message")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                assert!(msg.contains("GRPC-d3c0d"), "{what}");
                assert!(h.contains_key("grpc-status-details-bin"), "{what}");
            }
        }
    }
);
