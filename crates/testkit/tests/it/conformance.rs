//! The relying-party conformance suite (conformance/): proven against the certified reference
//! OP (npm oidc-provider) with openid-client, authlib, the Rust openidconnect crate and a real
//! Chromium; and the Castellan target config built through the management API.

use castellan_testkit::conformance::{self, ModuleResult, OidcHttp, ReferenceOp};
use openidconnect::core::{
    CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AsyncHttpClient, AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest,
    HttpResponse, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope,
    TokenResponse,
};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use super::*;

/// openidconnect's HTTP client trait over the workspace's reqwest.
struct Http(OidcHttp);

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.0.send(request))
    }
}

const OIDC_MODULES: [&str; 5] = [
    "openidconnect-discovery",
    "openidconnect-code-pkce-nonce",
    "openidconnect-id-token",
    "openidconnect-userinfo",
    "openidconnect-refresh",
];

/// The openidconnect crate's subset: discovery, code flow with PKCE and nonce (login through
/// login.mjs), ID token verification against the JWKS, userinfo, refresh. Each step is a
/// module; the steps after a failure fail as not reached.
async fn openidconnect_subset(path: &Path, cfg: &Value) -> Vec<ModuleResult> {
    let mut passed = 0;
    let outcome = openidconnect_steps(path, cfg, &mut passed).await;
    OIDC_MODULES
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let (result, reason) = match (&outcome, i.cmp(&passed)) {
                (_, std::cmp::Ordering::Less) => ("pass", String::new()),
                (Err(e), std::cmp::Ordering::Equal) => ("fail", e.clone()),
                _ => ("fail", "not reached".to_string()),
            };
            ModuleResult {
                module: m.to_string(),
                result: result.into(),
                reason,
            }
        })
        .collect()
}

async fn openidconnect_steps(path: &Path, cfg: &Value, passed: &mut usize) -> Result<(), String> {
    let e = |what: &str| {
        let what = what.to_string();
        move |err: &dyn std::fmt::Display| format!("{what}: {err}")
    };
    let http = Http(OidcHttp::new().map_err(|x| e("client")(&x))?);
    let issuer = IssuerUrl::new(cfg["issuer"].as_str().unwrap_or_default().into())
        .map_err(|x| e("issuer")(&x))?;
    let meta = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .map_err(|x| e("discovery")(&x))?;
    *passed += 1;

    let basic = &cfg["clients"]["basic"];
    let cb = format!("{}/cb", cfg["redirect_base"].as_str().unwrap_or_default());
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(basic["client_id"].as_str().unwrap_or_default().into()),
        Some(ClientSecret::new(
            basic["client_secret"].as_str().unwrap_or_default().into(),
        )),
    )
    .set_redirect_uri(RedirectUrl::new(cb).map_err(|x| e("redirect")(&x))?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .add_prompt(CoreAuthPrompt::Consent)
        .set_pkce_challenge(challenge)
        .url();
    let back = conformance::login(path, url.as_str())?;
    let back = openidconnect::url::Url::parse(&back).map_err(|x| e("callback")(&x))?;
    let param = |k: &str| {
        back.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.to_string())
    };
    if param("state").as_deref() != Some(csrf.secret().as_str()) {
        return Err(format!("state not echoed: {back}"));
    }
    let code = param("code").ok_or_else(|| format!("no code: {back}"))?;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|x| e("token endpoint")(&x))?
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .map_err(|x| e("code exchange")(&x))?;
    *passed += 1;

    let id_token = token.id_token().ok_or("no id_token")?;
    // ZITADEL's ID tokens name the project and every client of it in `aud`: an RP of a
    // ZITADEL project trusts those (openidconnect rejects untrusted extra audiences).
    let mut trusted: Vec<String> = cfg["clients"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, c)| c["client_id"].as_str().map(str::to_string))
        .collect();
    trusted.extend(cfg["project_id"].as_str().map(str::to_string));
    let verifier = client
        .id_token_verifier()
        .set_other_audience_verifier_fn(move |aud| trusted.iter().any(|t| t == aud.as_str()));
    let claims = id_token
        .claims(&verifier, &nonce)
        .map_err(|x| e("id_token")(&x))?;
    if let Some(sub) = cfg["account"]["sub"].as_str() {
        if claims.subject().as_str() != sub {
            return Err(format!("id_token sub {}", claims.subject().as_str()));
        }
    }
    *passed += 1;

    let info: CoreUserInfoClaims = client
        .user_info(token.access_token().clone(), Some(claims.subject().clone()))
        .map_err(|x| e("userinfo endpoint")(&x))?
        .request_async(&http)
        .await
        .map_err(|x| e("userinfo")(&x))?;
    if info.email().is_none() {
        return Err("userinfo lacks the email of scope email".into());
    }
    *passed += 1;

    let refresh = token.refresh_token().ok_or("no refresh_token")?;
    let fresh = client
        .exchange_refresh_token(refresh)
        .map_err(|x| e("token endpoint")(&x))?
        .request_async(&http)
        .await
        .map_err(|x| e("refresh")(&x))?;
    if fresh.access_token().secret() == token.access_token().secret() {
        return Err("refresh returned the same access token".into());
    }
    *passed += 1;
    Ok(())
}

/// A free localhost port for the RP's redirect listener.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Asserts that every module passed or was skipped with a reason; lists the failures.
#[track_caller]
fn assert_conformant(results: &[ModuleResult]) {
    for r in results {
        eprintln!("{:<80} {} {}", r.module, r.result, r.reason);
    }
    let bad: Vec<String> = results
        .iter()
        .filter(|r| {
            let skipped_with_reason = r.result == "skip" && !r.reason.is_empty();
            r.result != "pass" && !skipped_with_reason
        })
        .map(|r| format!("  {} [{}]: {}", r.module, r.result, r.reason))
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} conformance modules failed:\n{}",
        bad.len(),
        results.len(),
        bad.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_op_passes_the_suite() {
    if let Err(missing) = conformance::tools_missing() {
        if std::env::var_os("CASTELLAN_REQUIRE_CONFORMANCE").is_some() {
            panic!("conformance tools missing (CASTELLAN_REQUIRE_CONFORMANCE is set): {missing}");
        }
        eprintln!(
            "\n!!!!!!!! SKIPPED reference_op_passes_the_suite: missing {missing}; .ci/run installs them !!!!!!!!\n"
        );
        return;
    }
    let base = format!("http://localhost:{}", free_port());
    let op = ReferenceOp::start(&base, false).unwrap_or_else(|e| panic!("{e}"));
    let results = run_everything(&conformance::reference_target_config(&op, &base)).await;
    drop(op);

    // The suite covers what it claims: the OIDF module names are all there.
    for m in [
        "oidcc-server",
        "oidcc-prompt-none-logged-in",
        "oidcc-codereuse-30seconds",
        "oidcc-refresh-token",
        "oidcc-rp-initiated-logout-modified-id-token-hint",
        "authlib-refresh",
        "openidconnect-refresh",
        "browser-code-flow",
        "browser-spa-cross-origin",
        "browser-login-accessibility",
    ] {
        assert!(
            results.iter().any(|r| r.module == m),
            "module {m} did not run"
        );
    }
    assert_conformant(&results);
}

// The same suite against Castellan, with the apps and user `castellan_target_config` makes,
// on SQLite and on PostgreSQL.
both!(castellan_passes_the_suite, |s: TestServer| async move {
    if let Err(missing) = conformance::tools_missing() {
        if std::env::var_os("CASTELLAN_REQUIRE_CONFORMANCE").is_some() {
            panic!("conformance tools missing: {missing}");
        }
        eprintln!("!!! SKIPPING the conformance suite against Castellan: {missing}");
        return;
    }
    let base = format!("http://localhost:{}", free_port());
    let cfg = conformance::castellan_target_config(&s, &base).await;
    let results = run_everything(&cfg).await;
    assert_conformant(&results);
    // Skipped only against the reference OP: Castellan's own pages are always audited.
    assert!(
        results
            .iter()
            .any(|r| r.module == "browser-login-accessibility" && r.result == "pass"),
        "the login pages' accessibility audit did not pass"
    );
});

/// Writes `cfg` and runs the openid-client suite, the authlib subset, the openidconnect
/// subset and the browser run against it.
async fn run_everything(cfg: &Value) -> Vec<ModuleResult> {
    let path = castellan_testkit::temp_dir("conformance").join("target.json");
    std::fs::write(&path, cfg.to_string()).expect("write target config");
    let mut results = Vec::new();
    for (program, args) in [
        ("node", &["suite.mjs"][..]),
        ("python3", &["authlib_suite.py"][..]),
    ] {
        results.extend(
            conformance::run_script(program, args, &path).unwrap_or_else(|e| panic!("{e}")),
        );
    }
    results.extend(openidconnect_subset(&path, cfg).await);
    results.extend(
        conformance::run_script("node", &["browser.mjs"], &path).unwrap_or_else(|e| panic!("{e}")),
    );
    results
}

both!(
    castellan_target_config_creates_the_clients,
    |s: TestServer| async move {
        let cfg = conformance::castellan_target_config(&s, "http://localhost:18950").await;
        assert_eq!(cfg["issuer"], s.base.as_str());
        let clients = &cfg["clients"];
        for kind in ["basic", "post", "introspection", "client_credentials"] {
            assert!(
                clients[kind]["client_id"]
                    .as_str()
                    .is_some_and(|c| !c.is_empty()),
                "{kind}: {cfg}"
            );
            assert!(
                clients[kind]["client_secret"]
                    .as_str()
                    .is_some_and(|c| !c.is_empty()),
                "{kind}: {cfg}"
            );
        }
        assert!(clients["public"]["client_secret"].is_null(), "{cfg}");
        assert!(clients["public"]["client_id"].is_string(), "{cfg}");
        let pem = clients["private_key_jwt"]["private_key_pem"]
            .as_str()
            .unwrap_or_default();
        assert!(pem.starts_with("-----BEGIN"), "{cfg}");
        assert!(clients["private_key_jwt"]["kid"].is_string(), "{cfg}");
        assert!(cfg["account"]["sub"].is_string(), "{cfg}");

        // The basic client's secret is the one the apps API checks (client_secret_basic works).
        let id = clients["basic"]["client_id"].as_str().unwrap_or_default();
        let secret = clients["basic"]["client_secret"]
            .as_str()
            .unwrap_or_default();
        let p = cfg["project_id"].as_str().unwrap_or_default();
        let apps = ok(s
            .admin(
                "POST",
                &format!("/management/v1/projects/{p}/apps/_search"),
                Some(json!({})),
            )
            .await);
        let found = apps["result"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|x| x["oidcConfig"]["clientId"] == id)
                    .count()
            })
            .unwrap_or(0);
        assert_eq!(found, 1, "{apps}");
        assert!(!secret.is_empty());
    }
);
