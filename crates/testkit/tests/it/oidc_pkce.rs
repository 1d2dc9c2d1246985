//! PKCE `plain` (RFC 7636) only when the instance's OIDC settings allow it
//! (`pkcePlainAllowed`, Castellan's extension): refused by default, end to end from authorize
//! to token when on (a code issued with plain is refused once plain is off again), and
//! discovery's `code_challenge_methods_supported` says which.

use super::login::*;
use super::oidc_token::token;
use super::*;
use castellan_proto::zitadel::admin::v1 as adm;
use castellan_proto::zitadel::admin::v1::admin_service_client::AdminServiceClient;

/// Sets the OIDC settings to ZITADEL's default lifetimes with `pkcePlainAllowed`.
async fn allow_plain(s: &TestServer, on: bool) {
    ok(s.admin(
        "PUT",
        "/admin/v1/settings/oidc",
        Some(json!({
            "accessTokenLifetime": "43200s", "idTokenLifetime": "43200s",
            "refreshTokenIdleExpiration": "2592000s", "refreshTokenExpiration": "7776000s",
            "pkcePlainAllowed": on,
        })),
    )
    .await);
}

async fn methods(s: &TestServer) -> Value {
    let d: Value = s
        .http
        .get(s.url("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    d["code_challenge_methods_supported"].clone()
}

/// Authorize with `pkce` parameters in a new browser, sign in; the redirect to the client.
async fn authorize(s: &TestServer, client: &str, login: &str, pkce: &str) -> Page {
    let mut b = Browser::new(s);
    let p = b.get(&authorize_url(client, pkce)).await;
    let p = b.follow(p).await;
    if p.status == 302 && p.location.starts_with(REDIRECT) {
        return p;
    }
    b.sign_in(&p, login, PASSWORD).await
}

async fn redeem(
    s: &TestServer,
    client: &str,
    code: &str,
    verifier: &str,
) -> super::oidc_token::Answer {
    token(
        s,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", client),
            ("code_verifier", verifier),
        ],
    )
    .await
}

both!(
    pkce_plain_only_when_configured,
    |s: TestServer| async move {
        let client = oidc_app(
        &s,
        json!({"appType": "OIDC_APP_TYPE_USER_AGENT", "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE"}),
    )
    .await;
        let (_, login) = human(&s, "pkce", false).await;
        let verifier = "plain-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
        let plain = format!("&code_challenge={verifier}&code_challenge_method=plain");
        let no_method = format!("&code_challenge={verifier}");

        // Default: off. Plain and a challenge without method are refused; discovery says S256.
        let g = ok(s.admin("GET", "/admin/v1/settings/oidc", None).await);
        assert!(g["settings"].get("pkcePlainAllowed").is_none(), "{g}");
        assert_eq!(methods(&s).await, json!(["S256"]));
        for pkce in [&plain, &no_method] {
            let p = authorize(&s, &client, &login, pkce).await;
            assert_eq!(p.params()["error"], "invalid_request", "{p:?}");
            assert!(p.params()["error_description"].contains("S256"), "{p:?}");
        }

        // On: over REST and visible over gRPC; discovery lists plain.
        allow_plain(&s, true).await;
        let g = ok(s.admin("GET", "/admin/v1/settings/oidc", None).await);
        assert_eq!(g["settings"]["pkcePlainAllowed"], true, "{g}");
        let mut c = AdminServiceClient::new(s.channel().await);
        let mut req = tonic::Request::new(adm::GetOidcSettingsRequest {});
        req.metadata_mut().insert(
            "authorization",
            format!("Bearer {}", s.pat).parse().expect("header"),
        );
        let got = c.get_oidc_settings(req).await.expect("grpc").into_inner();
        assert!(got.settings.expect("settings").pkce_plain_allowed);
        assert_eq!(methods(&s).await, json!(["S256", "plain"]));

        // Plain end to end: the verifier equal to the challenge redeems the code, another does not.
        for pkce in [&plain, &no_method] {
            let p = authorize(&s, &client, &login, pkce).await;
            let code = p
                .params()
                .get("code")
                .cloned()
                .unwrap_or_else(|| panic!("{p:?}"));
            let t = redeem(&s, &client, &code, verifier).await;
            assert!(t.ok()["access_token"].is_string());
            let p = authorize(&s, &client, &login, pkce).await;
            let code = p
                .params()
                .get("code")
                .cloned()
                .unwrap_or_else(|| panic!("{p:?}"));
            redeem(&s, &client, &code, &format!("{verifier}x"))
                .await
                .err(400, "invalid_grant");
        }

        // Off again: refused again, and a code issued with plain before is not redeemed.
        let p = authorize(&s, &client, &login, &plain).await;
        let issued = p
            .params()
            .get("code")
            .cloned()
            .unwrap_or_else(|| panic!("{p:?}"));
        allow_plain(&s, false).await;
        assert_eq!(methods(&s).await, json!(["S256"]));
        let t = redeem(&s, &client, &issued, verifier).await;
        t.err(400, "invalid_grant");
        let why = t.body["error_description"].as_str().unwrap_or_default();
        assert!(why.contains("plain"), "{}", t.body);
        let p = authorize(&s, &client, &login, &plain).await;
        assert_eq!(p.params()["error"], "invalid_request", "{p:?}");
    }
);
