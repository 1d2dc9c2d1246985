//! RP-initiated logout (`/oidc/v1/end_session`) and back-channel logout tokens.

use super::login::*;
use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

both!(
    end_session_with_registered_redirect,
    |s: TestServer| async move {
        let client = oidc_app(&s, json!({})).await;
        let (uid, login) = human(&s, "ada", false).await;
        let mut b = Browser::new(&s);
        login_to_code(&s, &mut b, &client, &login).await;
        // An unregistered post_logout_redirect_uri: an error page, the session stays.
        let p = b
            .get(&format!(
                "/oidc/v1/end_session?client_id={client}&post_logout_redirect_uri={}",
                urlencode("https://evil.example.com/")
            ))
            .await;
        assert_eq!(p.status, 400);
        assert!(p.body.contains("not registered"), "{}", p.body);
        let p = b.get(&authorize_url(&client, "&prompt=none")).await;
        assert!(b.follow(p).await.params().contains_key("code"));
        // The registered one: redirect with state; the session is over and its id revoked.
        let p = b
            .get(&format!(
                "/oidc/v1/end_session?client_id={client}&post_logout_redirect_uri={}&state=bye1",
                urlencode("https://rp.example.com/bye")
            ))
            .await;
        assert_eq!(p.status, 302, "{p:?}");
        assert_eq!(p.location, "https://rp.example.com/bye?state=bye1");
        let p = b.get(&authorize_url(&client, "&prompt=none")).await;
        assert_eq!(p.params()["error"], "login_required", "{p:?}");
        let sid = db_text(
            &s,
            format!("SELECT id FROM login_sessions WHERE user_id = '{uid}' AND terminated_at > 0"),
        )
        .await;
        assert_eq!(sid.len(), 1, "{sid:?}");
        let revoked = db_text(&s, "SELECT id FROM oidc_revocations".to_string()).await;
        assert_eq!(revoked, sid);
        // Without a redirect: the signed-out page.
        let p = b.get("/oidc/v1/end_session").await;
        assert_eq!(p.status, 200);
        assert!(p.body.contains("signed out"));
    }
);

both!(
    end_session_ends_the_sessions_tokens,
    |s: TestServer| async move {
        let (client, secret) = oidc_app_secret(&s, json!({})).await;
        let (_, login) = human(&s, "eve", false).await;
        let mut b = Browser::new(&s);
        let done = login_to_code(&s, &mut b, &client, &login).await;
        let r = redeem(&s, (&client, &secret), &done.params()["code"]).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let tokens = r.body.clone();
        let at = tokens["access_token"].as_str().expect("at").to_string();
        let userinfo = || {
            s.http
                .get(s.url("/oidc/v1/userinfo"))
                .bearer_auth(&at)
                .send()
        };
        // Twice: the second answer comes from the node's cache of token verdicts.
        assert_eq!(userinfo().await.expect("userinfo").status().as_u16(), 200);
        assert_eq!(userinfo().await.expect("userinfo").status().as_u16(), 200);
        // Signing out ends the session and every token carrying its id, cached or not.
        let p = b.get("/oidc/v1/end_session").await;
        assert_eq!(p.status, 200);
        assert_eq!(userinfo().await.expect("userinfo").status().as_u16(), 401);
    }
);

/// Redeems `code` at the token endpoint as `client` (basic authentication).
async fn redeem(s: &TestServer, client: (&str, &str), code: &str) -> super::oidc_token::Answer {
    super::oidc_token::token(
        s,
        Some(client),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await
}

both!(
    a_code_outlives_neither_its_session_nor_its_user,
    |s: TestServer| async move {
        let (client, secret) = oidc_app_secret(&s, json!({})).await;
        let (uid, login) = human(&s, "ivo", false).await;
        let code_of_a_login = || async {
            let mut b = Browser::new(&s);
            let code = login_to_code(&s, &mut b, &client, &login).await.params()["code"].clone();
            (b, code)
        };
        // Signed out before the client redeemed the code: no tokens.
        let (mut b, code) = code_of_a_login().await;
        assert_eq!(b.get("/oidc/v1/end_session").await.status, 200);
        redeem(&s, (&client, &secret), &code)
            .await
            .err(400, "invalid_grant");
        // Deactivated in between: no tokens either; once reactivated, a new login's code works.
        let (_, code) = code_of_a_login().await;
        let user = format!("/management/v1/users/{uid}");
        ok(
            s.admin("POST", &format!("{user}/_deactivate"), Some(json!({})))
                .await,
        );
        let r = redeem(&s, (&client, &secret), &code).await;
        r.err(400, "invalid_grant");
        assert!(
            r.body["error_description"]
                .as_str()
                .is_some_and(|d| d.contains("no longer valid")),
            "{}",
            r.body
        );
        ok(
            s.admin("POST", &format!("{user}/_reactivate"), Some(json!({})))
                .await,
        );
        let (_, code) = code_of_a_login().await;
        redeem(&s, (&client, &secret), &code).await.ok();
    }
);

/// Accepts one HTTP request on a free port and hands over its body.
async fn one_post() -> (String, tokio::sync::oneshot::Receiver<String>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://127.0.0.1:{}/backchannel",
        l.local_addr().expect("addr").port()
    );
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut c, _) = l.accept().await.expect("accept");
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = c.read(&mut chunk).await.expect("read");
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| {
                        l.to_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                    })
                    .unwrap_or(0);
                if body.len() >= len {
                    let _ = c
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    let _ = tx.send(body.to_string());
                    return;
                }
            }
        }
    });
    (url, rx)
}

both!(back_channel_logout_token, |s: TestServer| async move {
    let (url, rx) = one_post().await;
    let client = oidc_app(&s, json!({"devMode": true, "backChannelLogoutUri": url})).await;
    let (uid, login) = human(&s, "grace", false).await;
    let mut b = Browser::new(&s);
    login_to_code(&s, &mut b, &client, &login).await;
    let p = b.get("/oidc/v1/end_session").await;
    assert_eq!(p.status, 200);
    let body = tokio::time::timeout(std::time::Duration::from_secs(10), rx)
        .await
        .expect("logout token in time")
        .expect("body");
    let form: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(&body).expect("form");
    let token = &form["logout_token"];
    let jwt = castellan_domain::jwt::Jwt::parse(token).expect("jwt");
    // Verify with the published key.
    let keys: Value = s
        .http
        .get(s.url("/oauth/v2/keys"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let kid = jwt.header["kid"].as_str().expect("kid");
    let jwk = keys["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid)
        .expect("published key");
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwt.header["typ"], "logout+jwt");
    let c = &jwt.claims;
    assert_eq!(c["iss"], s.base);
    assert_eq!(c["aud"], client);
    assert_eq!(c["sub"], uid);
    assert!(c["sid"].as_str().is_some_and(|x| !x.is_empty()));
    assert!(c["jti"].is_string() && c["iat"].is_number());
    assert!(
        c["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object(),
        "{c}"
    );
    assert!(c.get("nonce").is_none());
});
