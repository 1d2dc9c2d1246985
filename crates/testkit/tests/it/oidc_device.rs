//! The device authorization grant (RFC 8628) end to end: the device asks for codes, polls the
//! token endpoint, the user types the code on `/device`, signs in (or denies) in a browser,
//! and the device gets its tokens once.

use super::login::*;
use super::oidc_token::{app, post_form, project, token, Answer};
use super::*;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// An OIDC app of `project`: (client id, secret or "").
async fn oidc(
    s: &TestServer,
    project: &str,
    name: &str,
    grants: &[&str],
    auth: &str,
) -> (String, String) {
    let (_, id, secret) = app(
        s,
        project,
        "oidc",
        json!({
            "name": name,
            "appType": "OIDC_APP_TYPE_NATIVE",
            "authMethodType": auth,
            "redirectUris": ["http://localhost/cb"],
            "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
            "grantTypes": grants,
        }),
    )
    .await;
    (id, secret)
}

/// A public native app that may use the device grant (and refresh tokens).
async fn device_app(s: &TestServer, project: &str, name: &str) -> String {
    oidc(
        s,
        project,
        name,
        &[
            "OIDC_GRANT_TYPE_DEVICE_CODE",
            "OIDC_GRANT_TYPE_REFRESH_TOKEN",
        ],
        "OIDC_AUTH_METHOD_TYPE_NONE",
    )
    .await
    .0
}

async fn authorize_device(s: &TestServer, client: &str, scope: &str) -> Answer {
    post_form(
        s,
        None,
        "/oauth/v2/device_authorization",
        None,
        &[("client_id", client), ("scope", scope)],
    )
    .await
}

async fn poll(s: &TestServer, client: &str, device_code: &str) -> Answer {
    token(
        s,
        None,
        &[
            ("grant_type", GRANT),
            ("client_id", client),
            ("device_code", device_code),
        ],
    )
    .await
}

/// Runs a statement on the server's database.
async fn exec(s: &TestServer, sql: &'static str, user_code: &str) {
    let code = user_code.to_string();
    s.state()
        .db
        .write("device-test", move |c| {
            c.exec(sql, &castellan_store::params![&code])?;
            Ok(())
        })
        .await
        .expect("exec");
}

/// As if the device's last poll was long ago (instead of waiting the interval).
async fn poll_later(s: &TestServer, user_code: &str) {
    exec(
        s,
        "UPDATE oidc_device_authorizations SET last_poll_at = 0 WHERE user_code = ?",
        user_code,
    )
    .await;
}

/// The browser part: the code typed on /device, then the login or the deny button.
async fn on_device_page(s: &TestServer, user_code: &str, login: Option<&str>) -> Page {
    let mut b = Browser::new(s);
    let p = b.get("/device").await;
    assert_eq!(p.status, 200);
    let csrf = p.field("gorilla.csrf.Token").expect("csrf");
    let mut fields = vec![
        ("gorilla.csrf.Token", csrf.as_str()),
        ("user_code", user_code),
    ];
    if login.is_none() {
        fields.push(("action", "deny"));
    }
    let r = b.post("/device", &fields).await;
    match login {
        // A refused code stays on the page.
        None => r,
        Some(_) if r.status == 200 => r,
        Some(l) => {
            let login_page = b.follow(r).await;
            b.sign_in(&login_page, l, PASSWORD).await
        }
    }
}

both!(device_flow_end_to_end, |s: TestServer| async move {
    let p = project(&s, "TV").await;
    let client = device_app(&s, &p, "tv").await;
    let (uid, login) = human(&s, "tv", false).await;

    let disco: Value = s
        .http
        .get(s.url("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("disco")
        .json()
        .await
        .expect("json");
    let issuer = disco["issuer"].as_str().expect("issuer").to_string();
    assert_eq!(
        disco["device_authorization_endpoint"],
        format!("{issuer}/oauth/v2/device_authorization")
    );
    assert!(disco["grant_types_supported"]
        .as_array()
        .expect("grants")
        .contains(&json!(GRANT)));

    let a = authorize_device(&s, &client, "openid profile offline_access").await;
    let d = a.ok().clone();
    assert_eq!(a.header("cache-control"), "no-store");
    let device_code = d["device_code"].as_str().expect("device_code").to_string();
    let user_code = d["user_code"].as_str().expect("user_code").to_string();
    assert!(device_code.len() >= 43, "{d}");
    assert_eq!(user_code.len(), 9, "{d}");
    assert_eq!(&user_code[4..5], "-");
    assert!(user_code
        .chars()
        .all(|c| c == '-' || "BCDFGHJKLMNPQRSTVWXZ".contains(c)));
    assert_eq!(d["verification_uri"], format!("{issuer}/device"));
    assert_eq!(
        d["verification_uri_complete"],
        format!("{issuer}/device?user_code={}", user_code.replace('-', ""))
    );
    assert_eq!(d["expires_in"], 300);
    assert_eq!(d["interval"], 5);
    // Stored hashed.
    let stored = db_text(
        &s,
        format!("SELECT device_code_hash FROM oidc_device_authorizations WHERE user_code = '{user_code}'"),
    )
    .await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&device_code), "{stored:?}");

    // Pending, then too fast.
    poll(&s, &client, &device_code)
        .await
        .err(400, "authorization_pending");
    poll(&s, &client, &device_code).await.err(400, "slow_down");

    // The verification_uri_complete prefills the code on the page.
    let mut b = Browser::new(&s);
    let p = b
        .get(&format!("/device?user_code={}", user_code.replace('-', "")))
        .await;
    assert_eq!(p.field("user_code"), Some(user_code.replace('-', "")));

    let done = on_device_page(
        &s,
        &user_code.to_lowercase().replace('-', " "),
        Some(&login),
    )
    .await;
    assert_eq!(done.status, 200, "{done:?}");
    assert!(done.body.contains("Device connected"), "{}", done.body);

    poll_later(&s, &user_code).await;
    let t = poll(&s, &client, &device_code).await;
    let body = t.ok().clone();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["id_token"].is_string(), "{body}");
    assert!(body["refresh_token"].is_string(), "{body}");
    let at = body["access_token"].as_str().expect("access_token");
    let ui: Value = s
        .http
        .get(s.url("/oidc/v1/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json");
    assert_eq!(ui["sub"], uid.as_str(), "{ui}");

    // The ID token names the user, the client and the login's auth_time.
    let id_token = body["id_token"].as_str().expect("id_token");
    let payload = id_token.split('.').nth(1).expect("payload");
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .expect("b64"),
    )
    .expect("claims");
    assert_eq!(claims["sub"], uid.as_str());
    assert_eq!(claims["aud"][0], client.as_str(), "{claims}");
    assert!(claims["auth_time"].as_i64().unwrap_or(0) > 0, "{claims}");
    assert!(
        claims["amr"].as_array().is_some_and(|a| !a.is_empty()),
        "{claims}"
    );

    // The refresh token works.
    let rt = body["refresh_token"].as_str().expect("rt");
    token(
        &s,
        None,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client),
            ("refresh_token", rt),
        ],
    )
    .await
    .ok();

    // Single use.
    poll_later(&s, &user_code).await;
    poll(&s, &client, &device_code)
        .await
        .err(400, "invalid_grant");
});

both!(device_flow_refusals, |s: TestServer| async move {
    let p = project(&s, "TV").await;
    let client = device_app(&s, &p, "tv").await;
    let other = device_app(&s, &p, "other").await;
    let (_, login) = human(&s, "tv2", false).await;

    // An app without the grant type may not start it, nor poll.
    let (web, _) = oidc(
        &s,
        &p,
        "web",
        &["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"],
        "OIDC_AUTH_METHOD_TYPE_NONE",
    )
    .await;
    authorize_device(&s, &web, "openid")
        .await
        .err(400, "unauthorized_client");
    // Unknown clients and wrong secrets.
    authorize_device(&s, "nobody", "openid")
        .await
        .err(401, "invalid_client");
    let (secret_app, secret) = oidc(
        &s,
        &p,
        "basic",
        &["OIDC_GRANT_TYPE_DEVICE_CODE"],
        "OIDC_AUTH_METHOD_TYPE_BASIC",
    )
    .await;
    assert!(!secret.is_empty());
    post_form(
        &s,
        None,
        "/oauth/v2/device_authorization",
        Some((&secret_app, &secret)),
        &[("scope", "openid")],
    )
    .await
    .ok();
    post_form(
        &s,
        None,
        "/oauth/v2/device_authorization",
        Some((&secret_app, "wrong")),
        &[("scope", "openid")],
    )
    .await
    .err(401, "invalid_client");

    // Denied by the user.
    let d = authorize_device(&s, &client, "openid").await.ok().clone();
    let (dc, uc) = (
        d["device_code"].as_str().expect("dc").to_string(),
        d["user_code"].as_str().expect("uc").to_string(),
    );
    // Another client cannot redeem it; an unknown code is unknown.
    poll(&s, &other, &dc).await.err(400, "invalid_grant");
    poll(&s, &client, "not-a-device-code")
        .await
        .err(400, "invalid_grant");
    poll(&s, &web, &dc).await.err(400, "unauthorized_client");
    let denied = on_device_page(&s, &uc, None).await;
    assert_eq!(denied.status, 200);
    assert!(
        denied.body.contains("Device not connected"),
        "{}",
        denied.body
    );
    poll(&s, &client, &dc).await.err(400, "access_denied");
    // The denied code cannot be approved afterwards.
    let again = on_device_page(&s, &uc, Some(&login)).await;
    assert!(again.body.contains("unknown or has expired"), "{again:?}");
    poll(&s, &client, &dc).await.err(400, "access_denied");

    // Expired.
    let d = authorize_device(&s, &client, "openid").await.ok().clone();
    let (dc, uc) = (
        d["device_code"].as_str().expect("dc").to_string(),
        d["user_code"].as_str().expect("uc").to_string(),
    );
    exec(
        &s,
        "UPDATE oidc_device_authorizations SET expires_at = 1 WHERE user_code = ?",
        &uc,
    )
    .await;
    poll(&s, &client, &dc).await.err(400, "expired_token");
    let late = on_device_page(&s, &uc, Some(&login)).await;
    assert!(late.body.contains("unknown or has expired"), "{late:?}");

    // Approved, but the approval expired before the device came back.
    let d = authorize_device(&s, &client, "openid").await.ok().clone();
    let (dc, uc) = (
        d["device_code"].as_str().expect("dc").to_string(),
        d["user_code"].as_str().expect("uc").to_string(),
    );
    let ok = on_device_page(&s, &uc, Some(&login)).await;
    assert!(ok.body.contains("Device connected"), "{ok:?}");
    exec(
        &s,
        "UPDATE oidc_device_authorizations SET expires_at = 1 WHERE user_code = ?",
        &uc,
    )
    .await;
    poll(&s, &client, &dc).await.err(400, "expired_token");

    // Missing device code.
    token(&s, None, &[("grant_type", GRANT), ("client_id", &client)])
        .await
        .err(400, "invalid_request");
});

/// Sets the device's last poll to `secs_ago` seconds before now.
async fn last_poll_ago(s: &TestServer, user_code: &str, secs_ago: i64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_micros();
    let at = i64::try_from(now).expect("micros") - secs_ago * 1_000_000;
    let code = user_code.to_string();
    s.state()
        .db
        .write("device-test", move |c| {
            c.exec(
                "UPDATE oidc_device_authorizations SET last_poll_at = ? WHERE user_code = ?",
                &castellan_store::params![at, &code],
            )?;
            Ok(())
        })
        .await
        .expect("exec");
}

both!(
    device_slow_down_raises_the_interval,
    |s: TestServer| async move {
        let p = project(&s, "TV").await;
        let client = device_app(&s, &p, "tv").await;
        let d = authorize_device(&s, &client, "openid").await.ok().clone();
        let (dc, uc) = (
            d["device_code"].as_str().expect("dc").to_string(),
            d["user_code"].as_str().expect("uc").to_string(),
        );
        let interval = || {
            let code = uc.clone();
            s.state().db.read(move |c| {
                c.scalar(
                    "SELECT poll_interval FROM oidc_device_authorizations WHERE user_code = ?",
                    &castellan_store::params![&code],
                )
            })
        };
        assert_eq!(d["interval"], 5);
        poll(&s, &client, &dc)
            .await
            .err(400, "authorization_pending");
        assert_eq!(interval().await.expect("interval"), 5);
        // Too soon: slow_down, and from now on 10 s.
        poll(&s, &client, &dc).await.err(400, "slow_down");
        assert_eq!(interval().await.expect("interval"), 10);
        // 6 s later is fine for the original 5 s, not for the raised 10 s: slow_down again, 15 s.
        last_poll_ago(&s, &uc, 6).await;
        poll(&s, &client, &dc).await.err(400, "slow_down");
        assert_eq!(interval().await.expect("interval"), 15);
        last_poll_ago(&s, &uc, 11).await;
        poll(&s, &client, &dc).await.err(400, "slow_down");
        assert_eq!(interval().await.expect("interval"), 20);
        // Waiting the raised interval: pending, and the interval stays.
        last_poll_ago(&s, &uc, 21).await;
        poll(&s, &client, &dc)
            .await
            .err(400, "authorization_pending");
        assert_eq!(interval().await.expect("interval"), 20);
        last_poll_ago(&s, &uc, 19).await;
        poll(&s, &client, &dc).await.err(400, "slow_down");
    }
);
