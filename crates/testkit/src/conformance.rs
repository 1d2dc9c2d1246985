//! The relying-party conformance suite (`conformance/`) from Rust: checks the tools, starts the
//! reference OP (npm oidc-provider), writes the target config JSON the scripts read, runs the
//! scripts and collects their result lines. [`castellan_target_config`] creates the same
//! clients and user on a Castellan server through the management API, so the suite runs
//! against Castellan by switching the config.

use crate::TestServer;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// `conformance/` at the workspace root.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance")
}

/// The Chromium the browser run uses (Debian's package, never a downloaded build).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// `Err(what is missing)` when node, the npm packages, authlib or Chromium are absent.
pub fn tools_missing() -> Result<(), String> {
    let ok = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut missing = Vec::new();
    if !ok("node", &["--version"]) {
        missing.push("node");
    }
    let packages = [
        "openid-client",
        "oidc-provider",
        "playwright-core",
        "axe-core",
    ];
    if !packages
        .iter()
        .all(|p| dir().join("node_modules").join(p).is_dir())
    {
        missing.push("conformance/node_modules (npm ci in conformance/)");
    }
    if !ok("python3", &["-c", "import authlib, requests"]) {
        missing.push("python3 authlib (pip install -r conformance/requirements.txt)");
    }
    if !Path::new(CHROMIUM).exists() {
        missing.push("chromium (apt-get install chromium)");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing.join(", "))
    }
}

/// A running reference OP; killed on drop.
pub struct ReferenceOp {
    child: Child,
    /// Its ready line: `issuer`, `port`, `pkjwt` (`kid`, `private_key_pem`), `userinfo_token`.
    pub ready: Value,
}

impl ReferenceOp {
    /// Starts `conformance/reference-op.mjs` (with `--bench`: also mints a userinfo token).
    pub fn start(redirect_base: &str, bench: bool) -> Result<ReferenceOp, String> {
        let mut cmd = Command::new("node");
        cmd.current_dir(dir())
            .args(["reference-op.mjs", "--redirect-base", redirect_base])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if bench {
            cmd.arg("--bench");
        }
        let mut child = cmd.spawn().map_err(|e| format!("node: {e}"))?;
        let mut line = String::new();
        let read = child
            .stdout
            .take()
            .map(|out| BufReader::new(out).read_line(&mut line));
        match (read, serde_json::from_str::<Value>(&line)) {
            (Some(Ok(_)), Ok(ready)) => Ok(ReferenceOp { child, ready }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("reference OP did not start: {line:?}"))
            }
        }
    }

    pub fn issuer(&self) -> &str {
        self.ready["issuer"].as_str().unwrap_or_default()
    }
}

impl Drop for ReferenceOp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The target config of the reference OP (its clients are fixed in reference-op.mjs).
pub fn reference_target_config(op: &ReferenceOp, redirect_base: &str) -> Value {
    let secret = |id: &str, secret: &str, auth: &str| json!({"client_id": id, "client_secret": secret, "auth": auth});
    json!({
        "target": "oidc-provider",
        "issuer": op.issuer(),
        "redirect_base": redirect_base,
        // devInteractions' single login form; hidden `prompt` is echoed back.
        "login": {"fields": {"login": "{username}", "password": "{password}"}},
        "account": {"username": "alice", "password": "Password1!", "sub": "alice"},
        "clients": {
            "basic": {"client_id": "web-basic", "client_secret": "web-basic-secret",
                      "auth": "client_secret_basic", "backchannel_logout": true},
            "post": secret("web-post", "web-post-secret", "client_secret_post"),
            "public": {"client_id": "native-pkce", "auth": "none"},
            "private_key_jwt": {"client_id": "web-pkjwt", "auth": "private_key_jwt",
                                "kid": op.ready["pkjwt"]["kid"],
                                "private_key_pem": op.ready["pkjwt"]["private_key_pem"]},
            "client_credentials": {"client_id": "machine", "client_secret": "machine-secret",
                                   "auth": "client_secret_basic", "scope": "openid"},
            "introspection": secret("api", "api-secret", "client_secret_basic"),
        },
    })
}

/// Castellan's login page field names (the login UI; hidden `authRequestID` and the CSRF
/// token `gorilla.csrf.Token` are echoed back as served).
pub fn castellan_login_fields() -> Value {
    json!({
        "loginName": "{username}",
        "password": "{password}",
        "change-old-password": "{password}",
        "change-new-password": "{new_password}",
        "change-password-confirmation": "{new_password}",
    })
}

/// Creates on `s` (through the management API, as the IAM_OWNER) what the suite needs: a
/// project with a web app (basic), a web app (post), a native PKCE app, a private_key_jwt app
/// with an app key, an API app for introspection, a machine user with a secret, a human
/// user with a known password and one who must change it; returns the target config. The issuer is the instance origin
/// (`s.base`). Panics with the API's answer when a call fails.
pub async fn castellan_target_config(s: &TestServer, redirect_base: &str) -> Value {
    async fn post(s: &TestServer, method: &str, path: &str, body: Value) -> Value {
        let (status, v) = s.admin(method, path, Some(body)).await;
        assert_eq!(status, 200, "{method} {path}: {v}");
        v
    }
    let project = post(
        s,
        "POST",
        "/management/v1/projects",
        json!({"name": "Conformance"}),
    )
    .await;
    let p = project["id"].as_str().unwrap_or_default().to_string();
    let cb = format!("{redirect_base}/cb");
    let logout = format!("{redirect_base}/logout");
    let oidc_app = |name: &str, app_type: &str, auth: &str| {
        json!({
            "name": name,
            "redirectUris": [cb],
            "postLogoutRedirectUris": [logout, format!("{logout}?foo=bar")],
            "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
            "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"],
            "appType": app_type,
            "authMethodType": auth,
            "devMode": true,
            "accessTokenType": "OIDC_TOKEN_TYPE_BEARER",
        })
    };
    let apps = format!("/management/v1/projects/{p}/apps");
    let mut clients = serde_json::Map::new();
    for (kind, app_type, auth, name) in [
        (
            "basic",
            "OIDC_APP_TYPE_WEB",
            "OIDC_AUTH_METHOD_TYPE_BASIC",
            "client_secret_basic",
        ),
        (
            "post",
            "OIDC_APP_TYPE_WEB",
            "OIDC_AUTH_METHOD_TYPE_POST",
            "client_secret_post",
        ),
        (
            "public",
            "OIDC_APP_TYPE_USER_AGENT",
            "OIDC_AUTH_METHOD_TYPE_NONE",
            "none",
        ),
    ] {
        let mut body = oidc_app(kind, app_type, auth);
        if kind == "basic" {
            body["backChannelLogoutUri"] = json!(format!("{redirect_base}/backchannel"));
        }
        let a = post(s, "POST", &format!("{apps}/oidc"), body).await;
        let mut c = json!({"client_id": a["clientId"], "auth": name});
        if kind == "basic" {
            c["backchannel_logout"] = json!(true);
        }
        if a["clientSecret"].is_string() {
            c["client_secret"] = a["clientSecret"].clone();
        }
        clients.insert(kind.into(), c);
    }
    let jwt_app = oidc_app(
        "private_key_jwt",
        "OIDC_APP_TYPE_WEB",
        "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT",
    );
    let a = post(s, "POST", &format!("{apps}/oidc"), jwt_app).await;
    let key = post(
        s,
        "POST",
        &format!("{apps}/{}/keys", a["appId"].as_str().unwrap_or_default()),
        json!({"type": "KEY_TYPE_JSON", "expirationDate": "2519-04-01T08:45:00Z"}),
    )
    .await;
    let details: Value = {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(key["keyDetails"].as_str().unwrap_or_default())
            .unwrap_or_default();
        serde_json::from_slice(&raw).unwrap_or_default()
    };
    clients.insert(
        "private_key_jwt".into(),
        json!({"client_id": a["clientId"], "auth": "private_key_jwt",
               "kid": details["keyId"], "private_key_pem": details["key"]}),
    );
    let api = post(
        s,
        "POST",
        &format!("{apps}/api"),
        json!({"name": "introspection", "authMethodType": "API_AUTH_METHOD_TYPE_BASIC"}),
    )
    .await;
    clients.insert(
        "introspection".into(),
        json!({"client_id": api["clientId"], "client_secret": api["clientSecret"],
               "auth": "client_secret_basic"}),
    );
    let machine = post(
        s,
        "POST",
        "/management/v1/users/machine",
        json!({"userName": "conformance-machine", "name": "Conformance Machine",
               "accessTokenType": "ACCESS_TOKEN_TYPE_BEARER"}),
    )
    .await;
    let m = machine["userId"].as_str().unwrap_or_default();
    let secret = post(
        s,
        "PUT",
        &format!("/management/v1/users/{m}/secret"),
        json!({}),
    )
    .await;
    clients.insert(
        "client_credentials".into(),
        json!({"client_id": secret["clientId"], "client_secret": secret["clientSecret"],
               "auth": "client_secret_basic", "scope": "openid profile"}),
    );
    let password = "Conformance1!";
    let human = post(
        s,
        "POST",
        "/management/v1/users/human",
        json!({
            "userName": "alice",
            "profile": {"firstName": "Alice", "lastName": "Example", "nickName": "ali",
                        "preferredLanguage": "en", "gender": "GENDER_FEMALE"},
            "email": {"email": "alice@example.com", "isEmailVerified": true},
            "phone": {"phone": "+41 79 000 00 00", "isPhoneVerified": true},
            "initialPassword": password,
        }),
    )
    .await;
    // A second user who must change the initial password: the accessibility run looks at the
    // change page, never finishing it.
    post(
        s,
        "POST",
        "/management/v1/users/human/_import",
        json!({
            "userName": "carol",
            "profile": {"firstName": "Carol", "lastName": "Example"},
            "email": {"email": "carol@example.com", "isEmailVerified": true},
            "password": password,
            "passwordChangeRequired": true,
        }),
    )
    .await;
    json!({
        "target": "castellan",
        "issuer": s.base,
        "change_required_account": {"username": "carol", "password": password},
        "redirect_base": redirect_base,
        "login": {"fields": castellan_login_fields()},
        "account": {"username": "alice", "password": password, "new_password": "Conformance2!",
                    "sub": human["userId"]},
        "clients": clients,
        "project_id": p,
    })
}

/// One result line of a suite script.
#[derive(Debug, Clone)]
pub struct ModuleResult {
    pub module: String,
    /// `pass`, `fail` or `skip`
    pub result: String,
    pub reason: String,
}

/// Runs `program args...` in `conformance/` with the config path appended; returns its
/// result lines, or `Err` with its output when it printed none.
pub fn run_script(
    program: &str,
    args: &[&str],
    config: &Path,
) -> Result<Vec<ModuleResult>, String> {
    let out = Command::new(program)
        .current_dir(dir())
        .args(args)
        .arg(config)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let results: Vec<ModuleResult> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["module"].is_string())
        .map(|v| ModuleResult {
            module: v["module"].as_str().unwrap_or_default().into(),
            result: v["result"].as_str().unwrap_or_default().into(),
            reason: v["reason"].as_str().unwrap_or_default().into(),
        })
        .collect();
    if results.is_empty() {
        return Err(format!(
            "{program} {args:?} printed no result (status {}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(results)
}

/// The login helper alone: follows `url` through the target's forms and returns the URL the
/// OP redirected to under the redirect base (for Rust-side clients such as openidconnect).
pub fn login(config: &Path, url: &str) -> Result<String, String> {
    let out = Command::new("node")
        .current_dir(dir())
        .args(["login.mjs"])
        .arg(config)
        .arg(url)
        .output()
        .map_err(|e| format!("node: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() && !text.is_empty() {
        Ok(text)
    } else {
        Err(format!(
            "login.mjs failed: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The openidconnect crate's async HTTP client over the workspace's reqwest (no second HTTP
/// stack). Redirects are not followed, as the OAuth client expects.
pub struct OidcHttp(reqwest::Client);

impl OidcHttp {
    pub fn new() -> Result<Self, reqwest::Error> {
        reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map(OidcHttp)
    }

    /// Sends one request of the openidconnect crate.
    pub async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, std::io::Error> {
        let request = reqwest::Request::try_from(request).map_err(std::io::Error::other)?;
        let response = self
            .0
            .execute(request)
            .await
            .map_err(std::io::Error::other)?;
        let mut builder = http::Response::builder().status(response.status());
        for (k, v) in response.headers() {
            builder = builder.header(k, v);
        }
        let body = response.bytes().await.map_err(std::io::Error::other)?;
        builder.body(body.to_vec()).map_err(std::io::Error::other)
    }
}
