//! The implicit flow (OpenID Connect Core 3.2) through the hosted login: `id_token` and
//! `id_token token` for apps that enable them, tokens in the fragment or a form post, and the
//! refusals (a code-only app, no nonce, query mode).

use super::login::{human, oidc_app, urlencode, Browser, Page, PASSWORD, REDIRECT};
use super::oidc_claims::userinfo;
use super::oidc_token::verify_with_jwks;
use super::*;
use base64::Engine;

static PROJECTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A user-agent app (in a project of its own) allowed both implicit response types.
async fn implicit_app(s: &TestServer) -> String {
    user_agent_app(
        s,
        &[
            "OIDC_RESPONSE_TYPE_ID_TOKEN",
            "OIDC_RESPONSE_TYPE_ID_TOKEN_TOKEN",
        ],
    )
    .await
}

async fn user_agent_app(s: &TestServer, response_types: &[&str]) -> String {
    let n = PROJECTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let project = super::oidc_token::project(s, &format!("implicit-{n}")).await;
    super::oidc_token::app(
        s,
        &project,
        "oidc",
        json!({
            "name": "spa",
            "redirectUris": [REDIRECT],
            "responseTypes": response_types,
            "grantTypes": ["OIDC_GRANT_TYPE_IMPLICIT"],
            "appType": "OIDC_APP_TYPE_USER_AGENT",
            "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE",
            "devMode": true,
        }),
    )
    .await
    .1
}

fn url(client: &str, response_type: &str, extra: &str) -> String {
    format!(
        "/oauth/v2/authorize?client_id={client}&redirect_uri={}&response_type={}&scope=openid%20profile%20email&state=st4te{extra}",
        urlencode(REDIRECT),
        urlencode(response_type)
    )
}

/// Signs in from the authorize URL `u` and returns the answer to the client.
async fn sign_in(b: &mut Browser, u: &str, login: &str) -> Page {
    let p = b.get(u).await;
    let p = b.follow(p).await;
    b.sign_in(&p, login, PASSWORD).await
}

/// The fragment's parameters of a redirect to the client (none in the query).
fn fragment(p: &Page) -> std::collections::HashMap<String, String> {
    assert_eq!(p.status, 302, "{p:?}");
    assert!(p.location.starts_with(&format!("{REDIRECT}#")), "{p:?}");
    p.params()
}

fn at_hash(at: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, at.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&d.as_ref()[..16])
}

both!(
    implicit_id_token_token_in_the_fragment,
    |s: TestServer| async move {
        let client = implicit_app(&s).await;
        let (uid, login) = human(&s, "implicit-ada", false).await;
        let mut b = Browser::new(&s);
        let done = sign_in(
            &mut b,
            &url(&client, "token id_token", "&nonce=n-0S6_WzA2Mj"),
            &login,
        )
        .await;
        let f = fragment(&done);
        assert!(!f.contains_key("code"), "{f:?}");
        assert_eq!(f["state"], "st4te");
        assert_eq!(f["iss"], s.base);
        assert_eq!(f["token_type"], "Bearer");
        let expires: i64 = f["expires_in"].parse().expect("expires_in");
        assert!(expires > 0);
        let at = f["access_token"].clone();
        let claims = verify_with_jwks(&s, &f["id_token"]).await;
        assert_eq!(claims["sub"], uid.as_str());
        assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
        assert_eq!(claims["iss"], s.base);
        assert!(claims["aud"]
            .as_array()
            .expect("aud")
            .iter()
            .any(|a| a == client.as_str()));
        assert_eq!(claims["at_hash"], at_hash(&at).as_str());
        assert!(
            claims["sid"].as_str().is_some_and(|x| !x.is_empty()),
            "{claims}"
        );
        assert!(claims["auth_time"].as_i64().is_some(), "{claims}");
        assert_eq!(claims["amr"], json!(["pwd"]));
        // With an access token the profile claims are fetched at userinfo, not put in the ID token.
        assert!(claims.get("email").is_none(), "{claims}");
        let (status, info, _) = userinfo(&s, Some(&at)).await;
        assert_eq!(status, 200, "{info}");
        assert_eq!(info["sub"], uid.as_str());
        assert_eq!(info["email"], "implicit-ada@example.com");
        // The browser's session serves the next request straight away, with new tokens.
        let id = b.get(&url(&client, "id_token token", "&nonce=again")).await;
        let again = b.follow(id).await;
        let f2 = fragment(&again);
        assert_ne!(f2["access_token"], at, "a new request gets new tokens");
    }
);

both!(
    implicit_id_token_only_carries_profile_claims,
    |s: TestServer| async move {
        let client = implicit_app(&s).await;
        let (uid, login) = human(&s, "implicit-bob", false).await;
        let mut b = Browser::new(&s);
        let done = sign_in(&mut b, &url(&client, "id_token", "&nonce=abc"), &login).await;
        let f = fragment(&done);
        assert!(!f.contains_key("access_token"), "{f:?}");
        assert!(!f.contains_key("code"), "{f:?}");
        let claims = verify_with_jwks(&s, &f["id_token"]).await;
        assert_eq!(claims["sub"], uid.as_str());
        assert_eq!(claims["nonce"], "abc");
        assert!(claims.get("at_hash").is_none(), "{claims}");
        assert_eq!(claims["email"], "implicit-bob@example.com", "{claims}");
        assert_eq!(claims["given_name"], "Ada", "{claims}");
    }
);

both!(implicit_form_post, |s: TestServer| async move {
    let client = implicit_app(&s).await;
    let (_, login) = human(&s, "implicit-carl", false).await;
    let mut b = Browser::new(&s);
    let done = sign_in(
        &mut b,
        &url(
            &client,
            "id_token token",
            "&nonce=xyz&response_mode=form_post",
        ),
        &login,
    )
    .await;
    assert_eq!(done.status, 200, "{done:?}");
    assert!(
        done.body.contains(&format!("action=\"{REDIRECT}\"")),
        "{}",
        done.body
    );
    let at = done.field("access_token").expect("access_token posted");
    let id = done.field("id_token").expect("id_token posted");
    assert_eq!(done.field("state").as_deref(), Some("st4te"));
    let claims = verify_with_jwks(&s, &id).await;
    assert_eq!(claims["nonce"], "xyz");
    assert_eq!(claims["at_hash"], at_hash(&at).as_str());
});

both!(implicit_refusals, |s: TestServer| async move {
    let code_only = oidc_app(&s, json!({})).await;
    let client = implicit_app(&s).await;
    // Only id_token allowed: id_token token is refused.
    let id_only = user_agent_app(&s, &["OIDC_RESPONSE_TYPE_ID_TOKEN"]).await;
    let mut b = Browser::new(&s);
    // A code-only app: unauthorized_client, in the fragment.
    let p = b.get(&url(&code_only, "id_token token", "&nonce=n")).await;
    let f = fragment(&p);
    assert_eq!(f["error"], "unauthorized_client", "{f:?}");
    assert_eq!(f["state"], "st4te");
    let p = b.get(&url(&id_only, "id_token token", "&nonce=n")).await;
    assert_eq!(fragment(&p)["error"], "unauthorized_client");
    let p = b.get(&url(&id_only, "id_token", "&nonce=n")).await;
    assert!(p.is_login_name_page(), "the login: {p:?}");
    // No nonce.
    let p = b.get(&url(&client, "id_token token", "")).await;
    let f = fragment(&p);
    assert_eq!(f["error"], "invalid_request");
    assert!(f["error_description"].contains("nonce"), "{f:?}");
    // Query mode: refused, and the error itself goes to the fragment.
    let p = b
        .get(&url(&client, "id_token", "&nonce=n&response_mode=query"))
        .await;
    let f = fragment(&p);
    assert_eq!(f["error"], "invalid_request");
    assert!(f["error_description"].contains("query"), "{f:?}");
    // Hybrid flows stay unsupported.
    let p = b.get(&url(&client, "code id_token", "&nonce=n")).await;
    assert_eq!(fragment(&p)["error"], "unsupported_response_type");
    // prompt=none without a session: login_required in the fragment.
    let p = b
        .get(&url(&client, "id_token", "&nonce=n&prompt=none"))
        .await;
    assert_eq!(fragment(&p)["error"], "login_required");
});
