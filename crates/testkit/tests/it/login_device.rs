//! The user-code page of the device authorization grant (`/device`). The device authorization
//! endpoint belongs to the token endpoints; this test writes the pending row itself.

use super::login::*;
use super::*;

async fn pending_device(s: &TestServer, client: &str, user_code: &str, expires_in_secs: i64) {
    let rows = super::smtp::raw(&s.db_url, "SELECT id FROM instances").await;
    let instance: String = rows[0].chars().filter(char::is_ascii_digit).collect();
    let now = castellan_domain::id::now_micros();
    let (client, code) = (client.to_string(), user_code.to_string());
    s.state()
        .db
        .write("device", move |c| {
            c.exec(
                "INSERT INTO oidc_device_authorizations (instance_id, device_code_hash, user_code, client_id, scope, created_at, expires_at) VALUES (?, ?, ?, ?, 'openid', ?, ?)",
                &castellan_store::params![&instance, format!("hash-{code}"), &code, &client, now, now + expires_in_secs * 1_000_000],
            )?;
            Ok(())
        })
        .await
        .expect("insert");
}

both!(
    device_code_page_approves_after_login,
    |s: TestServer| async move {
        let client = oidc_app(&s, json!({"grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_DEVICE_CODE"]})).await;
        let (uid, login) = human(&s, "dev", false).await;
        pending_device(&s, &client, "ABCD-EFGH", 600).await;
        pending_device(&s, &client, "OLDC-ODES", -1).await;
        let mut b = Browser::new(&s);
        // verification_uri_complete prefills the code.
        let p = b.get("/device?user_code=abcdefgh").await;
        assert_eq!(p.status, 200);
        assert_eq!(p.field("user_code").as_deref(), Some("abcdefgh"));
        let csrf = p.field("gorilla.csrf.Token").expect("csrf");
        // Unknown and expired codes are refused on the page.
        for bad in ["ZZZZ-ZZZZ", "OLDC-ODES"] {
            let r = b
                .post(
                    "/device",
                    &[("gorilla.csrf.Token", &csrf), ("user_code", bad)],
                )
                .await;
            assert!(r.body.contains("unknown or has expired"), "{}", r.body);
        }
        // Without the CSRF token: 403.
        let r = b.post("/device", &[("user_code", "abcdefgh")]).await;
        assert_eq!(r.status, 403);
        let r = b
            .post(
                "/device",
                &[("gorilla.csrf.Token", &csrf), ("user_code", "abcd efgh")],
            )
            .await;
        let login_page = b.follow(r).await;
        let done = b.sign_in(&login_page, &login, PASSWORD).await;
        assert_eq!(done.status, 200, "{done:?}");
        assert!(done.body.contains("Device connected"), "{}", done.body);
        let rows = db_text(&s, "SELECT state, user_id, session_id FROM oidc_device_authorizations WHERE user_code = 'ABCD-EFGH'".to_string()).await;
        assert!(
            rows[0].contains("approved") && rows[0].contains(&uid),
            "{rows:?}"
        );
        // The code cannot be used twice.
        let r = b
            .post(
                "/device",
                &[("gorilla.csrf.Token", &csrf), ("user_code", "ABCD-EFGH")],
            )
            .await;
        assert!(r.body.contains("unknown or has expired"), "{}", r.body);
    }
);

both!(
    unknown_user_codes_from_one_address_are_limited,
    |s: TestServer| async move {
        let client = oidc_app(&s, json!({"grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_DEVICE_CODE"]})).await;
        pending_device(&s, &client, "GOOD-CODE", 600).await;
        let mut b = Browser::new(&s);
        let p = b.get("/device").await;
        let csrf = p.field("gorilla.csrf.Token").expect("csrf");
        // RFC 8628 5.1: guessing user codes is limited per client address.
        for i in 0..20 {
            let r = b
                .post(
                    "/device",
                    &[
                        ("gorilla.csrf.Token", &csrf),
                        ("user_code", &format!("ZZZZ-{i:04}")),
                    ],
                )
                .await;
            assert_eq!(r.status, 200, "{r:?}");
            assert!(r.body.contains("unknown or has expired"), "{}", r.body);
        }
        let r = b
            .post(
                "/device",
                &[("gorilla.csrf.Token", &csrf), ("user_code", "GOOD-CODE")],
            )
            .await;
        assert_eq!(r.status, 429, "{r:?}");
        assert!(r.body.contains("Too many attempts"), "{}", r.body);
    }
);
