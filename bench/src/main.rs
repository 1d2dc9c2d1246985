//! `castellan-bench`: drives one scenario against a running server with N keep-alive HTTP/1.1
//! connections for a fixed time, and prints throughput and latency percentiles as JSON.
//!
//! Scenarios (ZITADEL's benchmark names in brackets):
//! - `noop`: `GET /debug/healthz`, the baseline of this server on this machine;
//! - `pat`: `GET /auth/v1/users/me` with a personal access token [machine_pat_login];
//! - `manipulate`: create human, update profile, lock, unlock, remove [manipulate_user];
//! - `list-users`: ListUsers with a user-name prefix query;
//! - `seed`: adds `--count` humans named `user000000`… (for `list-users`);
//! - `seed-grants`: 1,000 projects with a role, 100 users with a grant on every project
//!   (100,000 user grants), and a machine user with PROJECT_OWNER on all 1,000 projects; ids
//!   go to `--state`;
//! - `list-user-grants`: ListUserGrants of one project (100 grants);
//! - `list-projects`: ListProjects with a name prefix query;
//! - `perm-check`: GetProjectByID by the caller with 1,000 project memberships (authorised
//!   through its project roles); `perm-org`: the same call by the IAM_OWNER (authorised by org
//!   role), the baseline for the cost of the project check.
//! - `oidc-client-credentials`: a client_credentials token (client secret basic, opaque token);
//!   `oidc-introspect`: introspection of `--token` by an API client; `oidc-userinfo`: userinfo
//!   with `--token`. Endpoints come from the discovery document of `--addr`, so the same
//!   scenarios measure Castellan and a peer OP (conformance/reference-op.mjs --bench).
//! - `oidc-jwt-profile`: the JWT profile grant (RFC 7523) of a machine user, with an assertion
//!   signed once with its key (`--key-file`: the AddMachineKey answer); the grant accepts the
//!   same assertion again while it is valid (only `jti`s of client-authentication assertions
//!   are checked for replay, and this one has none);
//! - `oidc-login`: a full password login through the hosted login with a fresh cookie jar per
//!   iteration: authorize → login page → login name → password → callback → token (code
//!   exchange by the web app `--client-id`/`--client-secret`) [human_password_login];
//! - `oidc-issue`: issues `--count` client_credentials tokens as fast as it can (the
//!   "p99 flat as issued tokens grow" run) and prints the time it took;
//! - `hash-ceiling`: no server; argon2id verifications of one hash made with `--hash-memory`,
//!   `--hash-iterations`, `--hash-parallelism` (the server's PasswordHasher) on every core for
//!   `--duration` seconds: the ceiling of password logins on this machine.

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Clone)]
struct Args {
    /// Server address, host:port.
    #[arg(long, default_value = "localhost:8080")]
    addr: String,
    #[arg(long)]
    scenario: String,
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// File holding the PAT of an IAM_OWNER.
    #[arg(long, default_value = "")]
    pat_file: String,
    /// Users to create with `seed`.
    #[arg(long, default_value_t = 100_000)]
    count: usize,
    /// Label for the result line.
    #[arg(long, default_value = "")]
    label: String,
    /// JSON file with the ids `seed-grants` created (read by the grant scenarios).
    #[arg(long, default_value = "")]
    state: String,
    /// OIDC scenarios: the calling client's id and secret (HTTP basic).
    #[arg(long, default_value = "")]
    client_id: String,
    #[arg(long, default_value = "")]
    client_secret: String,
    /// OIDC scenarios: the access token to introspect or to call userinfo with.
    #[arg(long, default_value = "")]
    token: String,
    /// `oidc-jwt-profile`: file with the AddMachineKey answer (`keyDetails`, base64 JSON with
    /// `keyId`, `key` (PEM) and `userId`).
    #[arg(long, default_value = "")]
    key_file: String,
    /// `oidc-login`: the user's login name and password and the web app's redirect URI.
    #[arg(long, default_value = "")]
    login_name: String,
    #[arg(long, default_value = "")]
    password: String,
    #[arg(long, default_value = "https://rp.example.com/cb")]
    redirect_uri: String,
    /// `hash-ceiling`: argon2id memory (KiB), iterations and lanes.
    #[arg(long, default_value_t = 19 * 1024)]
    hash_memory: u32,
    #[arg(long, default_value_t = 2)]
    hash_iterations: u32,
    #[arg(long, default_value_t = 1)]
    hash_parallelism: u32,
}

/// Endpoint paths and credentials of the OIDC scenarios.
#[derive(Clone, Default)]
struct Oidc {
    token_path: String,
    introspect_path: String,
    userinfo_path: String,
    /// `Basic ...` of the calling client.
    basic: String,
    token: String,
    authorize_path: String,
    /// `oidc-jwt-profile`: the signed assertion.
    assertion: String,
    /// `oidc-login`: the authorize request's query, login name, password, redirect URI.
    authorize_query: String,
    login_name: String,
    password: String,
    redirect_uri: String,
}

/// Ids created by `seed-grants`.
#[derive(Clone, Default)]
struct State {
    projects: Vec<String>,
    member_token: String,
    oidc: Oidc,
}

struct Conn {
    sender: http1::SendRequest<Full<Bytes>>,
    host: String,
    token: String,
    /// Cookies set by the server (name=value), sent back on every request.
    cookies: Vec<String>,
}

/// One answer: status, `Location`, body.
struct Answer {
    status: u16,
    location: String,
    body: Bytes,
}

impl Conn {
    async fn open(addr: &str, token: &str) -> Result<Conn, String> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        Ok(Conn {
            sender,
            host: addr.split(':').next().unwrap_or("localhost").to_string(),
            token: token.to_string(),
            cookies: Vec::new(),
        })
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Bytes), String> {
        let payload = body.map(|v| ("application/json", Bytes::from(v.to_string())));
        self.request(method, path, payload, None).await
    }

    /// A request with an optional typed body and an authorization header other than the
    /// connection's bearer token.
    async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<(&str, Bytes)>,
        authorization: Option<&str>,
    ) -> Result<(u16, Bytes), String> {
        let a = self.exchange(method, path, body, authorization).await?;
        Ok((a.status, a.body))
    }

    /// `request` that keeps cookies and returns the `Location` header too.
    async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        body: Option<(&str, Bytes)>,
        authorization: Option<&str>,
    ) -> Result<Answer, String> {
        self.sender.ready().await.map_err(|e| e.to_string())?;
        let mut b = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.host);
        if let Some(a) = authorization {
            b = b.header("authorization", a);
        } else if !self.token.is_empty() {
            b = b.header("authorization", format!("Bearer {}", self.token));
        }
        if !self.cookies.is_empty() {
            b = b.header("cookie", self.cookies.join("; "));
        }
        let payload = match body {
            Some((content_type, bytes)) => {
                b = b.header("content-type", content_type);
                bytes
            }
            None => Bytes::new(),
        };
        let req = b.body(Full::new(payload)).map_err(|e| e.to_string())?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        for v in resp.headers().get_all("set-cookie") {
            let pair = v
                .to_str()
                .unwrap_or_default()
                .split(';')
                .next()
                .unwrap_or_default();
            if let Some((name, _)) = pair.split_once('=') {
                self.cookies.retain(|c| !c.starts_with(&format!("{name}=")));
                self.cookies.push(pair.to_string());
            }
        }
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok(Answer {
            status,
            location,
            body: bytes,
        })
    }

    /// Follows redirects inside the server; stops at a page or a redirect elsewhere.
    async fn follow(&mut self, mut a: Answer) -> Result<Answer, String> {
        for _ in 0..10 {
            if !(300..400).contains(&a.status) || !a.location.starts_with('/') {
                return Ok(a);
            }
            let to = a.location.clone();
            a = self.exchange("GET", &to, None, None).await?;
        }
        Ok(a)
    }

    /// Submits a login form of page `page` (its `authRequestID` and CSRF token plus `fields`)
    /// to `action`, following redirects.
    async fn submit(
        &mut self,
        page: &Answer,
        action: &str,
        fields: &[(&str, &str)],
    ) -> Result<Answer, String> {
        let mut form = String::new();
        for name in ["authRequestID", "gorilla.csrf.Token"] {
            let v = field(&page.body, name).ok_or_else(|| {
                format!(
                    "no {name} on the page (HTTP {}): {}",
                    page.status,
                    String::from_utf8_lossy(&page.body)
                )
            })?;
            form.push_str(&format!("{name}={}&", form_encode(&v)));
        }
        for (k, v) in fields {
            form.push_str(&format!("{k}={}&", form_encode(v)));
        }
        form.pop();
        let a = self
            .exchange("POST", action, Some((FORM, Bytes::from(form))), None)
            .await?;
        self.follow(a).await
    }
}

/// The value of form field `name` of an HTML page (rendered `name="x" value="y"`).
fn field(body: &[u8], name: &str) -> Option<String> {
    let body = std::str::from_utf8(body).ok()?;
    let needle = format!("name=\"{name}\" ");
    let rest = &body[body.find(&needle)? + needle.len()..];
    let rest = &rest[rest.find("value=\"")? + 7..];
    Some(
        rest[..rest.find('"')?]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// application/x-www-form-urlencoded value.
fn form_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'*') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A full password login of `o.login_name`, from authorize to the token of the code; fails
/// (with the page it stopped at) unless every step leads where it should.
async fn login(c: &mut Conn, o: &Oidc) -> Result<bool, String> {
    c.cookies.clear();
    let a = c
        .exchange(
            "GET",
            &format!("{}?{}", o.authorize_path, o.authorize_query),
            None,
            None,
        )
        .await?;
    let page = c.follow(a).await?;
    if !contains(&page.body, "name=\"loginName\"") {
        return Ok(false);
    }
    let pw = c
        .submit(
            &page,
            "/ui/login/loginname",
            &[("loginName", &o.login_name)],
        )
        .await?;
    if !contains(&pw.body, "name=\"password\"") {
        return Ok(false);
    }
    let lname = field(&pw.body, "loginName").unwrap_or_else(|| o.login_name.clone());
    let done = c
        .submit(
            &pw,
            "/ui/login/password",
            &[("loginName", &lname), ("password", &o.password)],
        )
        .await?;
    if !done.location.starts_with(&o.redirect_uri) {
        return Ok(false);
    }
    let Some(code) = done
        .location
        .split_once('?')
        .map(|x| x.1)
        .unwrap_or_default()
        .split('&')
        .find_map(|kv| kv.strip_prefix("code="))
    else {
        return Ok(false);
    };
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}",
        form_encode(&o.redirect_uri)
    );
    let (st, b) = c
        .request(
            "POST",
            &o.token_path,
            Some((FORM, Bytes::from(form))),
            Some(&o.basic),
        )
        .await?;
    Ok(st == 200 && contains(&b, "\"access_token\""))
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

static SEQ: AtomicU64 = AtomicU64::new(0);

fn id_of(b: &Bytes, field: &str) -> Option<String> {
    serde_json::from_slice::<Value>(b)
        .ok()?
        .get(field)?
        .as_str()
        .map(str::to_string)
}

/// One unit of work of a scenario; returns whether it succeeded.
async fn iteration(
    c: &mut Conn,
    scenario: &str,
    worker: usize,
    state: &State,
) -> Result<bool, String> {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let project = || {
        state
            .projects
            .get((n as usize * 7919) % state.projects.len().max(1))
            .cloned()
            .unwrap_or_default()
    };
    Ok(match scenario {
        "list-user-grants" => {
            let q = json!({"query": {"limit": 100}, "queries": [{"projectIdQuery": {"projectId": project()}}]});
            c.send("POST", "/management/v1/users/grants/_search", Some(q))
                .await?
                .0
                == 200
        }
        "list-projects" => {
            let q = json!({"query": {"limit": 100}, "queries": [{"nameQuery": {"name": format!("p{}", n % 100), "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}]});
            c.send("POST", "/management/v1/projects/_search", Some(q))
                .await?
                .0
                == 200
        }
        "perm-check" | "perm-org" => {
            c.send(
                "GET",
                &format!("/management/v1/projects/{}", project()),
                None,
            )
            .await?
            .0 == 200
        }
        "oidc-client-credentials" => {
            let form = Bytes::from_static(b"grant_type=client_credentials&scope=openid");
            let o = &state.oidc;
            c.request("POST", &o.token_path, Some((FORM, form)), Some(&o.basic))
                .await?
                .0
                == 200
        }
        "oidc-jwt-profile" => {
            let o = &state.oidc;
            let form = Bytes::from(format!(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&scope=openid%20profile&assertion={}",
                o.assertion
            ));
            c.request("POST", &o.token_path, Some((FORM, form)), None)
                .await?
                .0
                == 200
        }
        "oidc-login" => login(c, &state.oidc).await?,
        "oidc-introspect" => {
            let o = &state.oidc;
            let form = Bytes::from(format!("token={}", o.token));
            let (st, b) = c
                .request(
                    "POST",
                    &o.introspect_path,
                    Some((FORM, form)),
                    Some(&o.basic),
                )
                .await?;
            st == 200 && serde_json::from_slice::<Value>(&b).is_ok_and(|v| v["active"] == true)
        }
        "oidc-userinfo" => {
            let o = &state.oidc;
            let bearer = format!("Bearer {}", o.token);
            c.request("GET", &o.userinfo_path, None, Some(&bearer))
                .await?
                .0
                == 200
        }
        "noop" => c.send("GET", "/debug/healthz", None).await?.0 == 200,
        "rest-noop" => c.send("GET", "/auth/v1/healthz", None).await?.0 == 200,
        "pat" => c.send("GET", "/auth/v1/users/me", None).await?.0 == 200,
        "list-users" => {
            let prefix = format!("user{:04}", (n * 7919) % 10_000);
            let q = json!({"query": {"limit": 100}, "queries": [{"userNameQuery": {"userName": prefix, "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}]});
            c.send("POST", "/management/v1/users/_search", Some(q))
                .await?
                .0
                == 200
        }
        "manipulate" => {
            let user = format!("bench-{worker}-{n}-{}", std::process::id());
            let add = json!({"userName": user, "profile": {"firstName": "Bench", "lastName": "User"}, "email": {"email": format!("{user}@example.com")}});
            let (st, b) = c
                .send("POST", "/management/v1/users/human", Some(add))
                .await?;
            let Some(id) = (st == 200).then(|| id_of(&b, "userId")).flatten() else {
                return Ok(false);
            };
            let prof =
                json!({"firstName": "Changed", "lastName": "User", "displayName": "Changed User"});
            let ok =
                c.send(
                    "PUT",
                    &format!("/management/v1/users/{id}/profile"),
                    Some(prof),
                )
                .await?
                .0 == 200
                    && c.send(
                        "POST",
                        &format!("/management/v1/users/{id}/_lock"),
                        Some(json!({})),
                    )
                    .await?
                    .0 == 200
                    && c.send(
                        "POST",
                        &format!("/management/v1/users/{id}/_unlock"),
                        Some(json!({})),
                    )
                    .await?
                    .0 == 200;
            let removed = c
                .send("DELETE", &format!("/management/v1/users/{id}"), None)
                .await?
                .0
                == 200;
            ok && removed
        }
        other => return Err(format!("unknown scenario {other}")),
    })
}

const FORM: &str = "application/x-www-form-urlencoded";

/// Reads the discovery document of `--addr` for the OIDC scenarios.
async fn oidc_setup(args: &Args) -> Result<Oidc, String> {
    use base64::Engine;
    let mut c = Conn::open(&args.addr, "").await?;
    let (st, b) = c
        .send("GET", "/.well-known/openid-configuration", None)
        .await?;
    let meta: Value = serde_json::from_slice(&b).map_err(|e| format!("discovery ({st}): {e}"))?;
    let path = |k: &str| {
        let url = meta[k].as_str().unwrap_or_default();
        // The path of an absolute URL: after the third slash.
        url.match_indices('/')
            .nth(2)
            .map(|(i, _)| url[i..].to_string())
            .unwrap_or_default()
    };
    let creds = format!("{}:{}", args.client_id, args.client_secret);
    let assertion = if args.key_file.is_empty() {
        String::new()
    } else {
        sign_assertion(&args.key_file, meta["issuer"].as_str().unwrap_or_default())?
    };
    Ok(Oidc {
        authorize_path: path("authorization_endpoint"),
        assertion,
        authorize_query: format!(
            "client_id={}&redirect_uri={}&response_type=code&scope=openid%20profile&state=bench&nonce=bench",
            form_encode(&args.client_id),
            form_encode(&args.redirect_uri)
        ),
        login_name: args.login_name.clone(),
        password: args.password.clone(),
        redirect_uri: args.redirect_uri.clone(),
        token_path: path("token_endpoint"),
        introspect_path: path("introspection_endpoint"),
        userinfo_path: path("userinfo_endpoint"),
        basic: format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(creds)
        ),
        token: args.token.clone(),
    })
}

/// An RS256 JWT profile assertion (iss = sub = the machine user, aud = the issuer, valid for
/// an hour) signed with the machine key of the AddMachineKey answer in `key_file`.
fn sign_assertion(key_file: &str, issuer: &str) -> Result<String, String> {
    use aws_lc_rs::signature as sig;
    use base64::Engine;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let answer: Value = serde_json::from_str(
        &std::fs::read_to_string(key_file).map_err(|e| format!("{key_file}: {e}"))?,
    )
    .map_err(|e| format!("{key_file}: {e}"))?;
    let details = base64::engine::general_purpose::STANDARD
        .decode(answer["keyDetails"].as_str().unwrap_or_default())
        .map_err(|e| format!("keyDetails: {e}"))?;
    let details: Value =
        serde_json::from_slice(&details).map_err(|e| format!("keyDetails: {e}"))?;
    let pem = details["key"].as_str().unwrap_or_default();
    let (_, der) = castellan_domain::jwt::pem_blocks(pem)
        .into_iter()
        .next()
        .ok_or("keyDetails: no PEM block")?;
    let key = sig::RsaKeyPair::from_der(&der).map_err(|e| format!("machine key: {e}"))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let user = &details["userId"];
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": details["keyId"]});
    let claims = json!({"iss": user, "sub": user, "aud": issuer, "iat": now, "exp": now + 3600});
    let input = format!(
        "{}.{}",
        b64url.encode(header.to_string()),
        b64url.encode(claims.to_string())
    );
    let mut out = vec![0; key.public_modulus_len()];
    key.sign(
        &sig::RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut out,
    )
    .map_err(|e| format!("sign: {e}"))?;
    Ok(format!("{input}.{}", b64url.encode(out)))
}

/// `oidc-issue`: `--count` client_credentials tokens on `--connections` connections.
async fn issue(args: &Args, oidc: Oidc) -> Result<(), String> {
    let started = Instant::now();
    let oidc = Arc::new(oidc);
    let failed = Arc::new(AtomicU64::new(0));
    let (o, f) = (oidc.clone(), failed.clone());
    fan_out(args, "", args.count, move |mut c, _| {
        let (o, f) = (o.clone(), f.clone());
        async move {
            let form = Bytes::from_static(b"grant_type=client_credentials&scope=openid");
            if c.request("POST", &o.token_path, Some((FORM, form)), Some(&o.basic))
                .await?
                .0
                != 200
            {
                f.fetch_add(1, Ordering::Relaxed);
            }
            Ok(c)
        }
    })
    .await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"scenario": "oidc-issue", "label": args.label, "tokens": args.count,
               "errors": failed.load(Ordering::Relaxed), "seconds": secs,
               "per_second": (args.count as f64 / secs).round()})
    );
    Ok(())
}

/// `hash-ceiling`: argon2id verifications on every core for `--duration` seconds.
fn hash_ceiling(args: &Args) -> Result<(), String> {
    use castellan_domain::password;
    let params = password::HashParams {
        memory_kib: args.hash_memory,
        iterations: args.hash_iterations,
        parallelism: args.hash_parallelism,
    };
    let hash = password::hash("Bench-Password-1!", params).map_err(|e| format!("hash: {e:?}"))?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let hash = hash.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    if password::verify("Bench-Password-1!", &hash) {
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for w in workers {
        total += w.join().map_err(|_| "hash thread panicked")?;
    }
    let secs = started.elapsed().as_secs_f64();
    let per_core_ms = if total > 0 {
        secs * 1000.0 * threads as f64 / total as f64
    } else {
        0.0
    };
    println!(
        "{}",
        json!({"scenario": "hash-ceiling", "label": args.label, "threads": threads,
               "memory_kib": args.hash_memory, "iterations": args.hash_iterations,
               "parallelism": args.hash_parallelism, "verifications": total,
               "per_second": (total as f64 / secs * 10.0).round() / 10.0,
               "ms_per_verification_per_core": per_core_ms})
    );
    Ok(())
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

async fn seed(args: &Args, token: &str) -> Result<(), String> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.connections {
        let (next, addr, token, count) = (
            next.clone(),
            args.addr.clone(),
            token.to_string(),
            args.count as u64,
        );
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::open(&addr, &token).await?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<(), String>(());
                }
                let user = format!("user{i:06}");
                let body = json!({"userName": user, "profile": {"firstName": "Seed", "lastName": format!("N{i}")}, "email": {"email": format!("{user}@example.com"), "isEmailVerified": true}});
                let (st, b) = c.send("POST", "/management/v1/users/human", Some(body)).await?;
                if st != 200 && st != 409 {
                    return Err(format!("seeding {user}: HTTP {st} {}", String::from_utf8_lossy(&b)));
                }
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    println!(
        "{}",
        json!({"scenario": "seed", "label": args.label, "users": args.count, "seconds": started.elapsed().as_secs_f64()})
    );
    Ok(())
}

async fn post_id(c: &mut Conn, path: &str, body: Value, field: &str) -> Result<String, String> {
    let (st, b) = c.send("POST", path, Some(body)).await?;
    if st != 200 {
        return Err(format!(
            "POST {path}: HTTP {st} {}",
            String::from_utf8_lossy(&b)
        ));
    }
    id_of(&b, field).ok_or_else(|| format!("POST {path}: no {field}"))
}

/// Runs `f(i)` for i in 0..count on `conns` connections.
async fn fan_out<F, Fut>(args: &Args, token: &str, count: usize, f: F) -> Result<(), String>
where
    F: Fn(Conn, usize) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = Result<Conn, String>> + Send + 'static,
{
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..args.connections.min(count.max(1)) {
        let (next, addr, token, f) = (
            next.clone(),
            args.addr.clone(),
            token.to_string(),
            f.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::open(&addr, &token).await?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= count {
                    return Ok::<(), String>(());
                }
                c = f(c, i).await?;
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}

async fn seed_grants(args: &Args, token: &str) -> Result<(), String> {
    let started = Instant::now();
    let mut c = Conn::open(&args.addr, token).await?;
    let tag = std::process::id();
    let mut users = Vec::new();
    for i in 0..100 {
        users.push(
            post_id(
                &mut c,
                "/management/v1/users/machine",
                json!({"userName": format!("g{tag}-{i}"), "name": "Grantee"}),
                "userId",
            )
            .await?,
        );
    }
    let member = post_id(
        &mut c,
        "/management/v1/users/machine",
        json!({"userName": format!("pm{tag}"), "name": "Project manager"}),
        "userId",
    )
    .await?;
    let member_token = post_id(
        &mut c,
        &format!("/management/v1/users/{member}/pats"),
        json!({}),
        "token",
    )
    .await?;
    let projects = Arc::new(std::sync::Mutex::new(vec![String::new(); 1000]));
    let (p2, member2) = (projects.clone(), member.clone());
    fan_out(args, token, 1000, move |mut c, i| {
        let (projects, member) = (p2.clone(), member2.clone());
        async move {
            let id = post_id(
                &mut c,
                "/management/v1/projects",
                json!({"name": format!("p{i}")}),
                "id",
            )
            .await?;
            let (st, b) = c
                .send(
                    "POST",
                    &format!("/management/v1/projects/{id}/roles"),
                    Some(json!({"roleKey": "r", "displayName": "R"})),
                )
                .await?;
            if st != 200 {
                return Err(format!(
                    "project role: HTTP {st} {}",
                    String::from_utf8_lossy(&b)
                ));
            }
            let (st, b) = c
                .send(
                    "POST",
                    &format!("/management/v1/projects/{id}/members"),
                    Some(json!({"userId": member, "roles": ["PROJECT_OWNER"]})),
                )
                .await?;
            if st != 200 {
                return Err(format!(
                    "project member: HTTP {st} {}",
                    String::from_utf8_lossy(&b)
                ));
            }
            projects.lock().map_err(|e| e.to_string())?[i] = id;
            Ok(c)
        }
    })
    .await?;
    let projects: Vec<String> = projects.lock().map_err(|e| e.to_string())?.clone();
    let (pr, us) = (Arc::new(projects.clone()), Arc::new(users));
    fan_out(args, token, 100_000, move |mut c, i| {
        let (projects, users) = (pr.clone(), us.clone());
        async move {
            let body = json!({"projectId": projects[i / 100], "roleKeys": ["r"]});
            let (st, b) = c
                .send(
                    "POST",
                    &format!("/management/v1/users/{}/grants", users[i % 100]),
                    Some(body),
                )
                .await?;
            if st != 200 {
                return Err(format!(
                    "user grant: HTTP {st} {}",
                    String::from_utf8_lossy(&b)
                ));
            }
            Ok(c)
        }
    })
    .await?;
    let state = json!({"projects": projects, "memberToken": member_token});
    std::fs::write(&args.state, state.to_string()).map_err(|e| format!("{}: {e}", args.state))?;
    println!(
        "{}",
        json!({"scenario": "seed-grants", "label": args.label, "projects": 1000, "user_grants": 100_000, "seconds": started.elapsed().as_secs_f64()})
    );
    Ok(())
}

fn read_state(path: &str) -> Result<State, String> {
    if path.is_empty() {
        return Ok(State::default());
    }
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?)
            .map_err(|e| e.to_string())?;
    Ok(State {
        projects: v["projects"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        member_token: v["memberToken"].as_str().unwrap_or_default().to_string(),
        oidc: Oidc::default(),
    })
}

async fn run(args: Args) -> Result<(), String> {
    let token = if args.pat_file.is_empty() {
        String::new()
    } else {
        std::fs::read_to_string(&args.pat_file)
            .map_err(|e| format!("{}: {e}", args.pat_file))?
            .trim()
            .to_string()
    };
    if args.scenario == "seed" {
        return seed(&args, &token).await;
    }
    if args.scenario == "seed-grants" {
        return seed_grants(&args, &token).await;
    }
    let mut state = read_state(&args.state)?;
    if args.scenario.starts_with("oidc-") {
        state.oidc = oidc_setup(&args).await?;
    }
    if args.scenario == "oidc-issue" {
        return issue(&args, state.oidc).await;
    }
    let token = if args.scenario == "perm-check" {
        state.member_token.clone()
    } else {
        token
    };
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let mut tasks = Vec::new();
    for w in 0..args.connections {
        let (args, token, state) = (args.clone(), token.clone(), state.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::open(&args.addr, &token).await?;
            let (mut lat, mut errors) = (Vec::with_capacity(100_000), 0u64);
            while Instant::now() < deadline {
                let t = Instant::now();
                match iteration(&mut c, &args.scenario, w, &state).await {
                    Ok(true) => lat.push(t.elapsed().as_micros() as u64),
                    Ok(false) => errors += 1,
                    Err(e) => return Err(e),
                }
            }
            Ok::<_, String>((lat, errors))
        }));
    }
    let started = Instant::now();
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (lat, e) = t.await.map_err(|e| e.to_string())??;
        all.extend(lat);
        errors += e;
    }
    let secs = started.elapsed().as_secs_f64().max(args.duration as f64);
    all.sort_unstable();
    println!(
        "{}",
        json!({
            "scenario": args.scenario, "label": args.label, "connections": args.connections,
            "ok": all.len(), "errors": errors, "per_second": (all.len() as f64 / secs).round(),
            "p50_ms": percentile(&all, 0.50), "p90_ms": percentile(&all, 0.90), "p99_ms": percentile(&all, 0.99),
        })
    );
    Ok(())
}

fn main() {
    let args = Args::parse();
    if args.scenario == "hash-ceiling" {
        if let Err(e) = hash_ceiling(&args) {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
        return;
    }
    let threads = if args.scenario.starts_with("seed") {
        2
    } else {
        1
    };
    // Named so that a machine-wide profile tells the load generator from the server.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("load-generator")
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("runtime: {e}");
            std::process::exit(1)
        });
    if let Err(e) = rt.block_on(run(args)) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
