//! Admin SMTP configurations against a real SMTP server (aiosmtpd, `support/smtp_server.py`),
//! secrets sealed with the masterkey, and the secret generator settings.

use super::*;
use castellan_store::{Db, Target};
use castellan_testkit::smtp::{SmtpServer, SMTP_PASSWORD, SMTP_USER};

/// The verified primary domain of the first organisation (senders must use a verified domain).
async fn verified_domain(s: &TestServer) -> String {
    let me = ok(s.admin("GET", "/management/v1/orgs/me", None).await);
    me["org"]["primaryDomain"]
        .as_str()
        .expect("primary domain")
        .to_string()
}

fn config(domain: &str, host: &str, password: &str) -> Value {
    json!({
        "senderAddress": format!("noreply@{domain}"),
        "senderName": "Castellan Test",
        "replyToAddress": "support@example.com",
        "tls": false,
        "host": host,
        "user": SMTP_USER,
        "password": password,
        "description": "test relay",
    })
}

async fn add(s: &TestServer, body: Value) -> String {
    let r = ok(s.admin("POST", "/admin/v1/smtp", Some(body)).await);
    assert!(r["details"]["sequence"].is_string(), "{r}");
    r["id"].as_str().expect("id").to_string()
}

fn state(v: &Value) -> &str {
    v["smtpConfig"]["state"].as_str().unwrap_or_default()
}

/// No response may carry the password, under any key.
#[track_caller]
fn no_password(v: &Value, pw: &str) {
    let t = v.to_string();
    assert!(!t.contains(pw), "password leaked: {t}");
    assert!(
        !t.to_lowercase().contains("\"password\""),
        "password field: {t}"
    );
}

/// Every row of `sql` as text, through the server's database URL.
pub(crate) async fn raw(db_url: &str, sql: &'static str) -> Vec<String> {
    let target = Target::parse(db_url).expect("url");
    let db = tokio::task::spawn_blocking(move || Db::open(target, 1))
        .await
        .expect("join")
        .expect("open db");
    db.read(move |c| {
        let rows = c.query(sql, &[])?;
        Ok(rows.into_iter().map(|r| format!("{:?}", r.0)).collect())
    })
    .await
    .expect("query")
}

both!(smtp_lifecycle, |s: TestServer| async move {
    let domain = verified_domain(&s).await;
    let pw = "Lifecycle-Pw-123";
    assert_err(
        &s.admin("GET", "/admin/v1/smtp", None).await,
        404,
        5,
        "SMTP configuration not found",
    );
    let a = add(&s, config(&domain, "smtp.example.com:587", pw)).await;
    let got = ok(s.admin("GET", &format!("/admin/v1/smtp/{a}"), None).await);
    no_password(&got, pw);
    let c = &got["smtpConfig"];
    assert_eq!(c["id"], a.as_str());
    assert_eq!(c["senderAddress"], format!("noreply@{domain}"));
    assert_eq!(c["senderName"], "Castellan Test");
    assert_eq!(c["replyToAddress"], "support@example.com");
    assert_eq!(c["host"], "smtp.example.com:587");
    assert_eq!(c["user"], SMTP_USER);
    assert_eq!(c["description"], "test relay");
    assert_eq!(state(&got), "SMTP_CONFIG_INACTIVE");
    // No active configuration yet.
    assert_err(
        &s.admin("GET", "/admin/v1/smtp", None).await,
        404,
        5,
        "not found",
    );

    ok(s.admin(
        "POST",
        &format!("/admin/v1/smtp/{a}/_activate"),
        Some(json!({})),
    )
    .await);
    let active = ok(s.admin("GET", "/admin/v1/smtp", None).await);
    assert_eq!(active["smtpConfig"]["id"], a.as_str());
    assert_eq!(state(&active), "SMTP_CONFIG_ACTIVE");
    assert_err(
        &s.admin(
            "POST",
            &format!("/admin/v1/smtp/{a}/_activate"),
            Some(json!({})),
        )
        .await,
        400,
        9,
        "already active",
    );

    // Only one active: activating the second deactivates the first.
    let b = add(&s, config(&domain, "mail.example.com:25", "other-pw")).await;
    ok(s.admin(
        "POST",
        &format!("/admin/v1/smtp/{b}/_activate"),
        Some(json!({})),
    )
    .await);
    let list = ok(s
        .admin(
            "POST",
            "/admin/v1/smtp/_search",
            Some(json!({"query": {"asc": true}})),
        )
        .await);
    no_password(&list, pw);
    assert_eq!(total(&list), 2, "{list}");
    let states: Vec<(String, String)> = list["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_string(),
                c["state"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            (a.clone(), "SMTP_CONFIG_INACTIVE".to_string()),
            (b.clone(), "SMTP_CONFIG_ACTIVE".to_string())
        ]
    );
    let paged = ok(s
        .admin(
            "POST",
            "/admin/v1/smtp/_search",
            Some(json!({"query": {"limit": 1}})),
        )
        .await);
    assert_eq!(paged["result"].as_array().map(Vec::len), Some(1));
    assert_eq!(total(&paged), 2);

    ok(s.admin(
        "POST",
        &format!("/admin/v1/smtp/{b}/_deactivate"),
        Some(json!({})),
    )
    .await);
    assert_err(
        &s.admin(
            "POST",
            &format!("/admin/v1/smtp/{b}/_deactivate"),
            Some(json!({})),
        )
        .await,
        400,
        9,
        "already deactivated",
    );
    assert_err(
        &s.admin("GET", "/admin/v1/smtp", None).await,
        404,
        5,
        "not found",
    );

    // Update replaces every field; an empty password keeps the stored one.
    let mut upd = config(&domain, "smtp2.example.com:2525", "");
    upd["senderName"] = json!("Renamed");
    upd["replyToAddress"] = json!("");
    upd["tls"] = json!(true);
    let r = ok(s
        .admin("PUT", &format!("/admin/v1/smtp/{a}"), Some(upd.clone()))
        .await);
    no_password(&r, pw);
    let got = ok(s.admin("GET", &format!("/admin/v1/smtp/{a}"), None).await);
    assert_eq!(got["smtpConfig"]["senderName"], "Renamed");
    assert_eq!(got["smtpConfig"]["host"], "smtp2.example.com:2525");
    assert_eq!(got["smtpConfig"]["tls"], true);
    assert!(got["smtpConfig"]["replyToAddress"].is_null(), "{got}");
    // The same update again changes nothing and still answers with details.
    let same = ok(s
        .admin("PUT", &format!("/admin/v1/smtp/{a}"), Some(upd))
        .await);
    assert!(same["details"]["sequence"].is_string(), "{same}");

    let r = ok(s
        .admin(
            "PUT",
            &format!("/admin/v1/smtp/{a}/password"),
            Some(json!({"password": "NewPw-456"})),
        )
        .await);
    no_password(&r, "NewPw-456");

    ok(s.admin("DELETE", &format!("/admin/v1/smtp/{a}"), None)
        .await);
    assert_err(
        &s.admin("GET", &format!("/admin/v1/smtp/{a}"), None).await,
        404,
        5,
        "not found",
    );
    assert_err(
        &s.admin("DELETE", &format!("/admin/v1/smtp/{a}"), None)
            .await,
        404,
        5,
        "not found",
    );
    let list = ok(s
        .admin("POST", "/admin/v1/smtp/_search", Some(json!({})))
        .await);
    assert_eq!(total(&list), 1, "{list}");

    // The audit trail names the events as ZITADEL does.
    let evs = ok(s
        .admin(
            "POST",
            "/admin/v1/events/_search",
            Some(json!({"eventTypes": ["instance.smtp.config.activated"], "asc": true})),
        )
        .await);
    assert_eq!(evs["events"].as_array().map(Vec::len), Some(2), "{evs}");
});

both!(
    smtp_password_is_sealed_at_rest,
    |s: TestServer| async move {
        let domain = verified_domain(&s).await;
        let pw = "Plaintext-Never-Stored-42";
        let id = add(&s, config(&domain, "smtp.example.com:587", pw)).await;
        ok(s.admin(
            "PUT",
            &format!("/admin/v1/smtp/{id}/password"),
            Some(json!({"password": "Second-Plaintext-77"})),
        )
        .await);
        let rows = raw(&s.db_url, "SELECT id, password_sealed FROM smtp_configs").await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert!(rows[0].contains("v1."), "sealed format: {rows:?}");
        let events = raw(
            &s.db_url,
            "SELECT event_type, payload FROM events WHERE event_type LIKE 'instance.smtp.config.%'",
        )
        .await;
        assert_eq!(events.len(), 2, "{events:?}");
        for text in rows.iter().chain(events.iter()) {
            assert!(!text.contains(pw), "plaintext stored: {text}");
            assert!(
                !text.contains("Second-Plaintext-77"),
                "plaintext stored: {text}"
            );
        }
        // The event log API shows only the sealed value too.
        let evs = ok(s
            .admin(
                "POST",
                "/admin/v1/events/_search",
                Some(json!({"eventTypes": ["instance.smtp.config.added"]})),
            )
            .await);
        assert!(!evs.to_string().contains(pw), "{evs}");
    }
);

both!(
    smtp_test_mails_reach_a_real_server,
    |s: TestServer| async move {
        let relay = SmtpServer::start();
        let domain = verified_domain(&s).await;
        let id = add(&s, config(&domain, &relay.host(), SMTP_PASSWORD)).await;

        ok(s.admin(
            "POST",
            &format!("/admin/v1/smtp/{id}/_test"),
            Some(json!({"receiverAddress": "someone@example.org"})),
        )
        .await);
        let mails = relay.wait_for(1).await;
        assert_eq!(mails.len(), 1, "no mail arrived");
        let m = &mails[0];
        assert_eq!(m.mail_from, format!("noreply@{domain}"));
        assert_eq!(m.rcpt_tos, ["someone@example.org"]);
        assert_eq!(
            m.header("Subject").as_deref(),
            Some("SMTP configuration test")
        );
        let from = m.header("From").unwrap_or_default();
        assert!(
            from.contains("Castellan Test") && from.contains(&domain),
            "{from}"
        );
        assert_eq!(m.header("To").as_deref(), Some("someone@example.org"));
        assert!(m
            .header("Reply-To")
            .unwrap_or_default()
            .contains("support@example.com"));

        // TestSMTPConfig sends with the given settings and stores nothing.
        let mut body = config(&domain, &relay.host(), SMTP_PASSWORD);
        body["receiverAddress"] = json!("other@example.org");
        ok(s.admin("POST", "/admin/v1/smtp/_test", Some(body)).await);
        // With the id of a stored configuration and no password, the stored password is used.
        let mut body = config(&domain, &relay.host(), "");
        body["receiverAddress"] = json!("third@example.org");
        body["id"] = json!(id);
        ok(s.admin("POST", "/admin/v1/smtp/_test", Some(body)).await);
        let mails = relay.wait_for(3).await;
        assert_eq!(mails.len(), 3);
        assert_eq!(mails[1].rcpt_tos, ["other@example.org"]);
        assert_eq!(mails[2].rcpt_tos, ["third@example.org"]);
        let list = ok(s
            .admin("POST", "/admin/v1/smtp/_search", Some(json!({})))
            .await);
        assert_eq!(total(&list), 1, "test calls store nothing: {list}");

        // The server's reason comes back as FAILED_PRECONDITION.
        ok(s.admin(
            "PUT",
            &format!("/admin/v1/smtp/{id}/password"),
            Some(json!({"password": "wrong-password"})),
        )
        .await);
        let r = s
            .admin(
                "POST",
                &format!("/admin/v1/smtp/{id}/_test"),
                Some(json!({"receiverAddress": "someone@example.org"})),
            )
            .await;
        assert_err(&r, 400, 9, "authentication credentials invalid");
        assert!(
            r.1["message"].as_str().unwrap_or_default().contains("535"),
            "{}",
            r.1
        );
        let mut body = config(&domain, &relay.host(), "also-wrong");
        body["receiverAddress"] = json!("someone@example.org");
        assert_err(
            &s.admin("POST", "/admin/v1/smtp/_test", Some(body)).await,
            400,
            9,
            "535",
        );
        // With tls, STARTTLS is required: this relay does not offer it, so nothing is sent in clear.
        let mut body = config(&domain, &relay.host(), SMTP_PASSWORD);
        body["tls"] = json!(true);
        body["receiverAddress"] = json!("someone@example.org");
        let r = s.admin("POST", "/admin/v1/smtp/_test", Some(body)).await;
        assert_err(&r, 400, 9, "STARTTLS is not supported");
        // Without tls, credentials go only to a loopback host (as ZITADEL's Go PlainAuth).
        let mut body = config(&domain, "smtp.example.com:25", SMTP_PASSWORD);
        body["receiverAddress"] = json!("someone@example.org");
        let r = s.admin("POST", "/admin/v1/smtp/_test", Some(body)).await;
        assert_err(&r, 400, 9, "only over TLS");
        assert_eq!(relay.mails().len(), 3, "failed tests deliver nothing");
    }
);

both!(
    smtp_unreachable_server_fails_fast,
    |s: TestServer| async move {
        let domain = verified_domain(&s).await;
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let mut body = config(&domain, &format!("127.0.0.1:{port}"), "pw");
        body["receiverAddress"] = json!("someone@example.org");
        let t0 = std::time::Instant::now();
        let r = s.admin("POST", "/admin/v1/smtp/_test", Some(body)).await;
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(10),
            "took {:?}",
            t0.elapsed()
        );
        assert_err(&r, 400, 9, "could not be sent");
        let msg = r.1["message"].as_str().unwrap_or_default().to_lowercase();
        assert!(
            msg.contains("refused") && msg.contains(&port.to_string()),
            "{msg}"
        );

        // A server that accepts and never greets: the exchange ends at the timeout (10 s).
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = silent.local_addr().expect("addr").port();
        let hold = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((c, _)) = silent.accept().await {
                open.push(c);
            }
        });
        let mut body = config(&domain, &format!("127.0.0.1:{port}"), "pw");
        body["receiverAddress"] = json!("someone@example.org");
        let t0 = std::time::Instant::now();
        let r = s.admin("POST", "/admin/v1/smtp/_test", Some(body)).await;
        let took = t0.elapsed();
        hold.abort();
        assert!(took >= std::time::Duration::from_secs(9), "took {took:?}");
        assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
        assert_err(&r, 400, 9, "could not be sent");
        let msg = r.1["message"].as_str().unwrap_or_default().to_lowercase();
        assert!(msg.contains("timed out") || msg.contains("within"), "{msg}");
    }
);

both!(
    smtp_validation_and_sender_policy,
    |s: TestServer| async move {
        let domain = verified_domain(&s).await;
        let good = config(&domain, "smtp.example.com:587", "pw");
        let with = |k: &str, v: Value| {
            let mut b = good.clone();
            b[k] = v;
            b
        };
        for (field, value, needle) in [
            ("senderAddress", json!(""), "sender_address"),
            ("senderAddress", json!("not-an-address"), "sender_address"),
            ("host", json!(""), "host"),
            ("host", json!("smtp.example.com"), "host must be host:port"),
            (
                "host",
                json!("smtp.example.com:0"),
                "host must be host:port",
            ),
            (
                "host",
                json!("smtp.example.com:70000"),
                "host must be host:port",
            ),
            ("replyToAddress", json!("nope"), "reply_to_address"),
            ("senderName", json!("x".repeat(201)), "sender_name"),
            ("description", json!("x".repeat(201)), "description"),
        ] {
            let r = s
                .admin("POST", "/admin/v1/smtp", Some(with(field, value)))
                .await;
            assert_err(&r, 400, 3, needle);
        }
        // smtpSenderAddressMatchesInstanceDomain: the sender needs a verified domain.
        let r = s
            .admin(
                "POST",
                "/admin/v1/smtp",
                Some(with("senderAddress", json!("noreply@example.com"))),
            )
            .await;
        assert_err(&r, 400, 3, "verified domain");
        let id = add(&s, good.clone()).await;
        let r = s
            .admin(
                "PUT",
                &format!("/admin/v1/smtp/{id}"),
                Some(with("senderAddress", json!("noreply@unverified.example"))),
            )
            .await;
        assert_err(&r, 400, 3, "verified domain");

        // Unknown ids and missing receivers.
        for (m, p) in [
            ("GET", "/admin/v1/smtp/123456"),
            ("DELETE", "/admin/v1/smtp/123456"),
        ] {
            assert_err(&s.admin(m, p, None).await, 404, 5, "not found");
        }
        for p in ["_activate", "_deactivate"] {
            assert_err(
                &s.admin(
                    "POST",
                    &format!("/admin/v1/smtp/123456/{p}"),
                    Some(json!({})),
                )
                .await,
                404,
                5,
                "not found",
            );
        }
        assert_err(
            &s.admin("PUT", "/admin/v1/smtp/123456", Some(good.clone()))
                .await,
            404,
            5,
            "not found",
        );
        assert_err(
            &s.admin(
                "PUT",
                "/admin/v1/smtp/123456/password",
                Some(json!({"password": "x"})),
            )
            .await,
            404,
            5,
            "not found",
        );
        assert_err(
            &s.admin(
                "POST",
                &format!("/admin/v1/smtp/{id}/_test"),
                Some(json!({})),
            )
            .await,
            400,
            3,
            "receiver_address",
        );
        assert_err(
            &s.admin(
                "POST",
                &format!("/admin/v1/smtp/{id}/_test"),
                Some(json!({"receiverAddress": "bad address"})),
            )
            .await,
            400,
            3,
            "receiver_address",
        );
        assert_err(
            &s.admin(
                "POST",
                "/admin/v1/smtp/123456/_test",
                Some(json!({"receiverAddress": "a@example.org"})),
            )
            .await,
            404,
            5,
            "not found",
        );

        // Only instance administrators: a user without instance roles is refused.
        let (status, _) = s
            .call(
                "POST",
                "/admin/v1/smtp/_search",
                Some(json!({})),
                None,
                None,
            )
            .await;
        assert_eq!(status, 401);
    }
);

both!(secret_generators, |s: TestServer| async move {
    let list = ok(s
        .admin(
            "POST",
            "/admin/v1/secretgenerators/_search",
            Some(json!({})),
        )
        .await);
    assert_eq!(total(&list), 8, "{list}");
    let types: Vec<&str> = list["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|g| g["generatorType"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(types[0], "SECRET_GENERATOR_TYPE_INIT_CODE");
    assert_eq!(types[7], "SECRET_GENERATOR_TYPE_OTP_EMAIL");

    let otp = ok(s
        .admin(
            "GET",
            "/admin/v1/secretgenerators/SECRET_GENERATOR_TYPE_OTP_EMAIL",
            None,
        )
        .await);
    let g = &otp["secretGenerator"];
    assert_eq!(g["length"], 8, "{otp}");
    assert_eq!(g["expiry"], "300s");
    assert_eq!(g["includeDigits"], true);
    assert!(g["includeUpperLetters"].is_null());
    let app = ok(s
        .admin(
            "GET",
            "/admin/v1/secretgenerators/SECRET_GENERATOR_TYPE_APP_SECRET",
            None,
        )
        .await);
    assert_eq!(app["secretGenerator"]["length"], 64);
    assert_eq!(app["secretGenerator"]["includeLowerLetters"], true);
    let init = ok(s
        .admin(
            "GET",
            "/admin/v1/secretgenerators/SECRET_GENERATOR_TYPE_INIT_CODE",
            None,
        )
        .await);
    assert_eq!(init["secretGenerator"]["expiry"], "259200s");

    let update = json!({
        "length": 10,
        "expiry": "1800s",
        "includeLowerLetters": true,
        "includeUpperLetters": false,
        "includeDigits": true,
        "includeSymbols": true,
    });
    let path = "/admin/v1/secretgenerators/SECRET_GENERATOR_TYPE_VERIFY_EMAIL_CODE";
    let r = ok(s.admin("PUT", path, Some(update.clone())).await);
    assert!(r["details"]["sequence"].is_string(), "{r}");
    let got = ok(s.admin("GET", path, None).await);
    let g = &got["secretGenerator"];
    assert_eq!(g["length"], 10, "{got}");
    assert_eq!(g["expiry"], "1800s");
    assert_eq!(g["includeSymbols"], true);
    assert!(g["includeUpperLetters"].is_null());
    // Unchanged settings are refused, as ZITADEL does.
    assert_err(
        &s.admin("PUT", path, Some(update.clone())).await,
        400,
        9,
        "no changes",
    );
    let mut second = update.clone();
    second["length"] = json!(12);
    ok(s.admin("PUT", path, Some(second)).await);
    let filtered = ok(s
        .admin(
            "POST",
            "/admin/v1/secretgenerators/_search",
            Some(json!({"queries": [{"typeQuery": {"generatorType": "SECRET_GENERATOR_TYPE_VERIFY_EMAIL_CODE"}}]})),
        )
        .await);
    assert_eq!(total(&filtered), 1, "{filtered}");
    assert_eq!(filtered["result"][0]["length"], 12);
    let evs = ok(s
        .admin(
            "POST",
            "/admin/v1/events/_search",
            Some(json!({"eventTypes": ["instance.secret.generator.added", "instance.secret.generator.changed"], "asc": true})),
        )
        .await);
    let kinds: Vec<&str> = evs["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"]["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        kinds,
        [
            "instance.secret.generator.added",
            "instance.secret.generator.changed"
        ],
        "{evs}"
    );

    // Validation names the field.
    let with = |k: &str, v: Value| {
        let mut b = update.clone();
        b[k] = v;
        b
    };
    assert_err(
        &s.admin("PUT", path, Some(with("length", json!(0)))).await,
        400,
        3,
        "length",
    );
    assert_err(
        &s.admin("PUT", path, Some(with("length", json!(257)))).await,
        400,
        3,
        "length",
    );
    assert_err(
        &s.admin("PUT", path, Some(with("expiry", json!("-5s"))))
            .await,
        400,
        3,
        "expiry",
    );
    let none = json!({"length": 6, "expiry": "60s"});
    assert_err(
        &s.admin("PUT", path, Some(none)).await,
        400,
        3,
        "include_digits",
    );
    assert_err(
        &s.admin(
            "PUT",
            "/admin/v1/secretgenerators/SECRET_GENERATOR_TYPE_UNSPECIFIED",
            Some(update.clone()),
        )
        .await,
        400,
        3,
        "generator_type",
    );
    assert_err(
        &s.admin(
            "GET",
            "/admin/v1/secretgenerators/SECRET_GENERATOR_TYPE_UNSPECIFIED",
            None,
        )
        .await,
        400,
        3,
        "generator_type",
    );
});

both!(
    email_provider_names_share_the_smtp_configs,
    |s: TestServer| async move {
        let relay = SmtpServer::start();
        let domain = verified_domain(&s).await;
        let r = ok(s
            .admin(
                "POST",
                "/admin/v1/email/smtp",
                Some(config(&domain, &relay.host(), SMTP_PASSWORD)),
            )
            .await);
        let id = r["id"].as_str().expect("id").to_string();
        let got = ok(s.admin("GET", &format!("/admin/v1/email/{id}"), None).await);
        no_password(&got, SMTP_PASSWORD);
        assert_eq!(got["config"]["state"], "EMAIL_PROVIDER_INACTIVE", "{got}");
        assert_eq!(got["config"]["description"], "test relay");
        assert_eq!(got["config"]["smtp"]["host"], relay.host());
        assert_eq!(
            got["config"]["smtp"]["senderAddress"],
            format!("noreply@{domain}")
        );
        // The same configuration under the older name.
        let legacy = ok(s.admin("GET", &format!("/admin/v1/smtp/{id}"), None).await);
        assert_eq!(legacy["smtpConfig"]["id"], id.as_str());

        ok(s.admin(
            "POST",
            &format!("/admin/v1/email/{id}/_activate"),
            Some(json!({})),
        )
        .await);
        let active = ok(s.admin("GET", "/admin/v1/email", None).await);
        assert_eq!(active["config"]["id"], id.as_str());
        assert_eq!(active["config"]["state"], "EMAIL_PROVIDER_ACTIVE");
        let list = ok(s
            .admin("POST", "/admin/v1/email/_search", Some(json!({})))
            .await);
        assert_eq!(total(&list), 1, "{list}");

        ok(s.admin(
            "POST",
            &format!("/admin/v1/email/smtp/{id}/_test"),
            Some(json!({"receiverAddress": "provider@example.org"})),
        )
        .await);
        let mut body = config(&domain, &relay.host(), SMTP_PASSWORD);
        body["receiverAddress"] = json!("direct@example.org");
        ok(s.admin("POST", "/admin/v1/email/smtp/_test", Some(body))
            .await);
        let mails = relay.wait_for(2).await;
        assert_eq!(mails.len(), 2);
        assert_eq!(mails[0].rcpt_tos, ["provider@example.org"]);
        assert_eq!(mails[1].rcpt_tos, ["direct@example.org"]);

        let mut upd = config(&domain, &relay.host(), "");
        upd["senderName"] = json!("Provider");
        ok(
            s.admin("PUT", &format!("/admin/v1/email/smtp/{id}"), Some(upd))
                .await,
        );
        ok(s.admin(
            "PUT",
            &format!("/admin/v1/email/smtp/{id}/password"),
            Some(json!({"password": "bad"})),
        )
        .await);
        assert_err(
            &s.admin(
                "POST",
                &format!("/admin/v1/email/smtp/{id}/_test"),
                Some(json!({"receiverAddress": "provider@example.org"})),
            )
            .await,
            400,
            9,
            "535",
        );
        ok(s.admin(
            "POST",
            &format!("/admin/v1/email/{id}/_deactivate"),
            Some(json!({})),
        )
        .await);
        ok(s.admin("DELETE", &format!("/admin/v1/email/{id}"), None)
            .await);
        assert_err(
            &s.admin("GET", &format!("/admin/v1/email/{id}"), None).await,
            404,
            5,
            "not found",
        );
    }
);
