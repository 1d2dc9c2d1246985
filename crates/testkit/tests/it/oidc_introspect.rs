//! Introspection (RFC 7662), revocation (RFC 7009) and discovery over real sockets: tokens of
//! other apps, other instances, revoked and garbage tokens are inactive.

use super::oidc_token::*;
use super::*;
use castellan_testkit::system::SystemUser;

/// Introspects `token` as an app with basic credentials.
pub(crate) async fn introspect(s: &TestServer, basic: (&str, &str), token: &str) -> Value {
    let r = post_form(
        s,
        None,
        "/oauth/v2/introspect",
        Some(basic),
        &[("token", token)],
    )
    .await;
    r.ok().clone()
}

/// Introspects `token` as an app with credentials in the form.
pub(crate) async fn introspect_post(s: &TestServer, who: (&str, &str), token: &str) -> Value {
    let f = [
        ("token", token),
        ("client_id", who.0),
        ("client_secret", who.1),
    ];
    post_form(s, None, "/oauth/v2/introspect", None, &f)
        .await
        .ok()
        .clone()
}

async fn revoke(s: &TestServer, basic: (&str, &str), token: &str, hint: &str) -> u16 {
    let mut f = vec![("token", token)];
    if !hint.is_empty() {
        f.push(("token_type_hint", hint));
    }
    let r = post_form(s, None, "/oauth/v2/revoke", Some(basic), &f).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.status
}

async fn cc(s: &TestServer, who: (&str, &str), scope: &str) -> String {
    let r = token(
        s,
        Some(who),
        &[("grant_type", "client_credentials"), ("scope", scope)],
    )
    .await;
    r.ok()["access_token"].as_str().expect("at").to_string()
}

both!(introspection_of_api_apps, |s: TestServer| async move {
    let pa = project(&s, "api-a").await;
    let pb = project(&s, "api-b").await;
    let (_, a, a_secret) = app(
        &s,
        &pa,
        "api",
        json!({"name": "a", "authMethodType": "API_AUTH_METHOD_TYPE_BASIC"}),
    )
    .await;
    let (_, b, b_secret) = app(
        &s,
        &pb,
        "api",
        json!({"name": "b", "authMethodType": "API_AUTH_METHOD_TYPE_BASIC"}),
    )
    .await;
    let (uid, secret) = machine_with_secret(&s, "intro-bot", "ACCESS_TOKEN_TYPE_BEARER").await;
    let (_, jsecret) = machine_with_secret(&s, "intro-jwt", "ACCESS_TOKEN_TYPE_JWT").await;
    let for_a = format!("openid urn:zitadel:iam:org:project:id:{pa}:aud");
    let t = cc(&s, ("intro-bot", &secret), &for_a).await;
    let r = introspect(&s, (&a, &a_secret), &t).await;
    assert_eq!(r["active"], true, "{r}");
    assert_eq!(r["sub"], uid.as_str());
    assert_eq!(r["client_id"], "intro-bot");
    assert_eq!(r["token_type"], "Bearer");
    assert_eq!(r["scope"], for_a.as_str());
    assert_eq!(r["iss"], s.origin());
    assert_eq!(r["aud"], json!([pa]));
    assert!(
        r["username"]
            .as_str()
            .is_some_and(|u| u.starts_with("intro-bot")),
        "{r}"
    );
    assert!(r["exp"].as_i64().expect("exp") > now() && r["iat"].as_i64().expect("iat") <= now());
    assert!(r["jti"].is_string());
    // A token for project A is not active for project B's app.
    assert_eq!(
        introspect(&s, (&b, &b_secret), &t).await,
        json!({"active": false})
    );
    // JWT access tokens are introspected as well.
    let jt = cc(&s, ("intro-jwt", &jsecret), &for_a).await;
    assert!(jt.starts_with("ey"));
    assert_eq!(introspect(&s, (&a, &a_secret), &jt).await["active"], true);
    // Garbage, a tampered token, an empty token.
    for g in [
        "garbage",
        "v1.AAAA",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
    ] {
        assert_eq!(
            introspect(&s, (&a, &a_secret), g).await,
            json!({"active": false}),
            "{g}"
        );
    }
    let mut tampered = jt.clone();
    tampered.truncate(jt.len() - 4);
    tampered.push_str("AAAA");
    assert_eq!(
        introspect(&s, (&a, &a_secret), &tampered).await,
        json!({"active": false})
    );
    post_form(&s, None, "/oauth/v2/introspect", Some((&a, &a_secret)), &[])
        .await
        .err(400, "invalid_request");
    // Client authentication: wrong secret, no credentials, a machine user is no app.
    let r = post_form(
        &s,
        None,
        "/oauth/v2/introspect",
        Some((&a, "wrong")),
        &[("token", &t)],
    )
    .await;
    r.err(401, "invalid_client");
    assert!(r.header("www-authenticate").starts_with("Basic"));
    post_form(&s, None, "/oauth/v2/introspect", None, &[("token", &t)])
        .await
        .err(401, "invalid_client");
    post_form(
        &s,
        None,
        "/oauth/v2/introspect",
        Some(("intro-bot", &secret)),
        &[("token", &t)],
    )
    .await
    .err(401, "invalid_client");
    // A deactivated user's token is no longer active.. once token_check looks at users; a
    // deactivated app may not introspect at once.
    let apps = ok(s
        .admin(
            "POST",
            &format!("/management/v1/projects/{pa}/apps/_search"),
            Some(json!({})),
        )
        .await);
    let app_id = apps["result"][0]["id"]
        .as_str()
        .expect("app id")
        .to_string();
    ok(s.admin(
        "POST",
        &format!("/management/v1/projects/{pa}/apps/{app_id}/_deactivate"),
        Some(json!({})),
    )
    .await);
    post_form(
        &s,
        None,
        "/oauth/v2/introspect",
        Some((&a, &a_secret)),
        &[("token", &t)],
    )
    .await
    .err(401, "invalid_client");
});

both!(
    introspection_with_private_key_jwt,
    |s: TestServer| async move {
        let p = project(&s, "api-pkj").await;
        let (app_id, client, _) = app(
            &s,
            &p,
            "api",
            json!({"name": "pkj", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}),
        )
        .await;
        let (kid, pem) = key(
            &s,
            &format!("/management/v1/projects/{p}/apps/{app_id}/keys"),
        )
        .await;
        let (_, secret) = machine_with_secret(&s, "pkj-bot", "ACCESS_TOKEN_TYPE_BEARER").await;
        let t = cc(
            &s,
            ("pkj-bot", &secret),
            &format!("urn:zitadel:iam:org:project:id:{p}:aud"),
        )
        .await;
        let ask = |aud: String, jti: String| {
            let (s, t) = (&s, t.clone());
            let a = sign(
                &pem,
                &kid,
                &json!({"iss": client, "sub": client, "aud": aud, "iat": now(), "exp": now() + 60, "jti": jti}),
            );
            async move {
                post_form(
                    s,
                    None,
                    "/oauth/v2/introspect",
                    None,
                    &[
                        ("token", &t),
                        (
                            "client_assertion_type",
                            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                        ),
                        ("client_assertion", &a),
                    ],
                )
                .await
            }
        };
        assert_eq!(ask(s.origin(), "1".into()).await.ok()["active"], true);
        assert_eq!(
            ask(s.url("/oauth/v2/introspect"), "2".into()).await.ok()["active"],
            true
        );
        ask(s.origin(), "1".into()).await.err(401, "invalid_client");
        ask("https://other.example".into(), "3".into())
            .await
            .err(401, "invalid_client");
        // Basic is not this app's method.
        post_form(
            &s,
            None,
            "/oauth/v2/introspect",
            Some((&client, "x")),
            &[("token", &t)],
        )
        .await
        .err(401, "invalid_client");
    }
);

both!(revocation_ends_tokens, |s: TestServer| async move {
    let user = human(&s).await;
    let p = project(&s, "revoke-project").await;
    let (_, client, secret) = web_app(
        &s,
        &p,
        "web",
        "OIDC_AUTH_METHOD_TYPE_BASIC",
        "OIDC_TOKEN_TYPE_BEARER",
    )
    .await;
    let (_, jclient, jsecret) = web_app(
        &s,
        &p,
        "jwt",
        "OIDC_AUTH_METHOD_TYPE_BASIC",
        "OIDC_TOKEN_TYPE_JWT",
    )
    .await;
    let me = (client.as_str(), secret.as_str());
    let issue = |c: String, sec: String| {
        let (s, user) = (&s, user.clone());
        async move {
            let (_, code) =
                insert_code(s, CodeRequest::new(&c, &user, "openid offline_access")).await;
            token(
                s,
                Some((&c, &sec)),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                ],
            )
            .await
            .ok()
            .clone()
        }
    };
    // An opaque access token.
    let b = issue(client.clone(), secret.clone()).await;
    let at = b["access_token"].as_str().expect("at").to_string();
    assert_eq!(introspect(&s, me, &at).await["active"], true);
    // Another client's revocation is answered 200 and changes nothing.
    revoke(&s, (&jclient, &jsecret), &at, "").await;
    assert_eq!(introspect(&s, me, &at).await["active"], true);
    revoke(&s, me, &at, "access_token").await;
    assert_eq!(introspect(&s, me, &at).await, json!({"active": false}));
    // The refresh token of that grant still works: only the access token was revoked.
    let rt = b["refresh_token"].as_str().expect("rt").to_string();
    let r = token(
        &s,
        Some(me),
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .await;
    let rt2 = r.ok()["refresh_token"].as_str().expect("rt2").to_string();
    let at2 = r.body["access_token"].as_str().expect("at2").to_string();
    // Revoking the refresh token (even with the wrong hint) ends the family.
    revoke(&s, me, &rt2, "access_token").await;
    token(
        &s,
        Some(me),
        &[("grant_type", "refresh_token"), ("refresh_token", &rt2)],
    )
    .await
    .err(400, "invalid_grant");
    assert_eq!(introspect(&s, me, &at2).await, json!({"active": false}));
    // A JWT access token.
    let jb = issue(jclient.clone(), jsecret.clone()).await;
    let jat = jb["access_token"].as_str().expect("jat").to_string();
    assert!(jat.starts_with("ey"));
    assert_eq!(
        introspect(&s, (&jclient, &jsecret), &jat).await["active"],
        true
    );
    revoke(&s, (&jclient, &jsecret), &jat, "").await;
    assert_eq!(
        introspect(&s, (&jclient, &jsecret), &jat).await,
        json!({"active": false})
    );
    // Unknown tokens: 200. No credentials: 401.
    revoke(&s, me, "no-such-token", "refresh_token").await;
    post_form(&s, None, "/oauth/v2/revoke", None, &[("token", "x")])
        .await
        .err(401, "invalid_client");
    post_form(&s, None, "/oauth/v2/revoke", Some(me), &[])
        .await
        .err(400, "invalid_request");
});

both!(discovery_is_consistent, |s: TestServer| async move {
    let r = s
        .http
        .get(s.url("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    let cache = r
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(cache.contains("max-age"), "{cache}");
    let d: Value = r.json().await.expect("json");
    let origin = s.origin();
    assert_eq!(d["issuer"], origin.as_str());
    for (k, path) in [
        ("authorization_endpoint", "/oauth/v2/authorize"),
        ("token_endpoint", "/oauth/v2/token"),
        ("introspection_endpoint", "/oauth/v2/introspect"),
        ("userinfo_endpoint", "/oidc/v1/userinfo"),
        ("revocation_endpoint", "/oauth/v2/revoke"),
        ("end_session_endpoint", "/oidc/v1/end_session"),
        ("jwks_uri", "/oauth/v2/keys"),
    ] {
        assert_eq!(d[k], format!("{origin}{path}"), "{k}");
    }
    assert_eq!(
        d["response_types_supported"],
        json!(["code", "id_token", "id_token token"])
    );
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert_eq!(d["subject_types_supported"], json!(["public"]));
    assert_eq!(d["request_parameter_supported"], false);
    let grants = d["grant_types_supported"].as_array().expect("grants");
    for g in [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "implicit",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ] {
        assert!(grants.contains(&json!(g)), "{g}");
    }
    assert!(!grants.contains(&json!("password")));
    let scopes = d["scopes_supported"].as_array().expect("scopes");
    assert!(scopes.contains(&json!("openid")) && scopes.contains(&json!("offline_access")));
    // The token, introspection and revocation endpoints it names answer as OAuth endpoints.
    for k in [
        "token_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
    ] {
        let url = d[k].as_str().expect("url");
        let r = s
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("")
            .send()
            .await
            .expect("send");
        let status = r.status().as_u16();
        let v: Value = r.json().await.expect("json");
        assert!(status == 400 || status == 401, "{k}: {status} {v}");
        assert!(v["error"].is_string(), "{k}: {v}");
    }
    let jwks = s
        .http
        .get(d["jwks_uri"].as_str().expect("jwks"))
        .send()
        .await
        .expect("send");
    assert_eq!(jwks.status().as_u16(), 200);
    // Tokens issued here carry the same issuer and verify with the published keys.
    let (_, secret) = machine_with_secret(&s, "disc-jwt", "ACCESS_TOKEN_TYPE_JWT").await;
    let at = token(
        &s,
        Some(("disc-jwt", &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let claims = verify_with_jwks(&s, at.ok()["access_token"].as_str().expect("at")).await;
    assert_eq!(claims["iss"], d["issuer"]);
});

both_backends!(
    tokens_of_one_instance_are_nothing_at_another,
    |backend: Backend| async move {
        let owner = SystemUser::new("sys");
        let Some(s) = TestServer::start_with(backend, |c| owner.configure(c, &[])).await else {
            return;
        };
        let other = owner.create_instance(&s, "Other").await;
        let (other_pat, host) = (other.pat, other.host);
        let host = format!("{host}:{}", s.port);
        // In the other instance: a project, an API app, a machine with a secret.
        let call = |m: &'static str, p: String, b: Value| {
            let (s, host, pat) = (&s, host.clone(), other_pat.clone());
            async move { ok(s.call_host(&host, m, &p, Some(b), Some(&pat), None).await) }
        };
        let p = call(
            "POST",
            "/management/v1/projects".into(),
            json!({"name": "x"}),
        )
        .await["id"]
            .as_str()
            .expect("id")
            .to_string();
        let a = call(
            "POST",
            format!("/management/v1/projects/{p}/apps/api"),
            json!({"name": "api"}),
        )
        .await;
        let (oc, os) = (
            a["clientId"].as_str().expect("c").to_string(),
            a["clientSecret"].as_str().expect("s").to_string(),
        );
        let m = call(
            "POST",
            "/management/v1/users/machine".into(),
            json!({"userName": "bot", "name": "bot"}),
        )
        .await;
        let mid = m["userId"].as_str().expect("userId").to_string();
        let sec = call(
            "PUT",
            format!("/management/v1/users/{mid}/secret"),
            json!({}),
        )
        .await;
        let msecret = sec["clientSecret"].as_str().expect("secret").to_string();
        let scope = format!("urn:zitadel:iam:org:project:id:{p}:aud");
        let r = post_form(
            &s,
            Some(&host),
            "/oauth/v2/token",
            Some(("bot", &msecret)),
            &[("grant_type", "client_credentials"), ("scope", &scope)],
        )
        .await;
        let other_token = r.ok()["access_token"].as_str().expect("at").to_string();
        let r = post_form(
            &s,
            Some(&host),
            "/oauth/v2/introspect",
            Some((&oc, &os)),
            &[("token", &other_token)],
        )
        .await;
        assert_eq!(r.ok()["active"], true);
        assert_eq!(r.body["iss"], format!("http://{host}"));
        // The same token at the first instance, introspected by an app there whose project id
        // it does not know: inactive; the other instance's client is unknown here.
        let pa = project(&s, "here").await;
        let (_, hc, hs) = app(&s, &pa, "api", json!({"name": "api"})).await;
        assert_eq!(
            introspect(&s, (&hc, &hs), &other_token).await,
            json!({"active": false})
        );
        post_form(
            &s,
            None,
            "/oauth/v2/introspect",
            Some((&oc, &os)),
            &[("token", &other_token)],
        )
        .await
        .err(401, "invalid_client");
        // The machine of the other instance is unknown here.
        token(
            &s,
            Some(("bot", &msecret)),
            &[("grant_type", "client_credentials")],
        )
        .await
        .err(401, "invalid_client");
        s.stop().await;
    }
);

/// With EdDSA signing keys: discovery names EdDSA, ID tokens verify with the Ed25519 JWK and
/// `at_hash` is the left half of SHA-512.
async fn eddsa_keys_sign_id_tokens(backend: Backend) {
    use aws_lc_rs::signature as sig;
    use base64::Engine;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let Some(s) = TestServer::start_with(backend, |c| {
        c.system_defaults.key_config.algorithm = "EdDSA".into();
    })
    .await
    else {
        return;
    };
    let d: Value = s
        .http
        .get(s.url("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(d["id_token_signing_alg_values_supported"], json!(["EdDSA"]));
    let r = ok(s
        .admin(
            "POST",
            "/management/v1/users/machine",
            Some(json!({"userName": "ed-bot", "name": "ed"})),
        )
        .await);
    let uid = r["userId"].as_str().expect("userId").to_string();
    let (kid, pem) = key(&s, &format!("/management/v1/users/{uid}/keys")).await;
    let a = sign(
        &pem,
        &kid,
        &json!({"iss": uid, "sub": uid, "aud": s.origin(), "iat": now(), "exp": now() + 60}),
    );
    let f = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", a.as_str()),
        ("scope", "openid"),
    ];
    let b = token(&s, None, &f).await.ok().clone();
    let id = b["id_token"].as_str().expect("id_token");
    let parts: Vec<&str> = id.split('.').collect();
    let header: Value =
        serde_json::from_slice(&b64url.decode(parts[0]).expect("b64")).expect("header");
    assert_eq!(header["alg"], "EdDSA");
    let set: Value = s
        .http
        .get(s.url("/oauth/v2/keys"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let jwk = set["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("kid published");
    assert_eq!(jwk["crv"], "Ed25519");
    let x = b64url.decode(jwk["x"].as_str().expect("x")).expect("x");
    sig::UnparsedPublicKey::new(&sig::ED25519, &x)
        .verify(
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &b64url.decode(parts[2]).expect("sig"),
        )
        .expect("the Ed25519 JWK verifies the ID token");
    let claims: Value =
        serde_json::from_slice(&b64url.decode(parts[1]).expect("b64")).expect("claims");
    let at = b["access_token"].as_str().expect("at");
    let h = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, at.as_bytes());
    assert_eq!(claims["at_hash"], b64url.encode(&h.as_ref()[..32]));
    s.stop().await;
}

both_backends!(eddsa_keys, eddsa_keys_sign_id_tokens);

// Every verdict of the token check (`token_check::still_valid`) against the database, asked
// with fresh tokens (no cached verdict), and an organisation's deactivation seen through
// introspection of a token that was active before. For an app's tokens, the check the code
// grant folds into the code's redemption (`login_still_valid_sql`) must give the same verdict.
both!(
    token_verdicts_follow_users_orgs_apps_and_projects,
    |s: TestServer| async move {
        let st = s.state();
        let active = |t: castellan_domain::access_token::AccessToken| async move {
            let verdict = castellan_api::token_check::access_token_active(st, &t)
                .await
                .unwrap_or_else(|e| panic!("{:?}", e.0));
            let (inst, user, client) = (
                t.instance_id.clone(),
                t.subject.clone(),
                t.client_id.clone(),
            );
            let grant = t.grant_id.clone().unwrap_or_default();
            let session = t.session_id.clone().unwrap_or_default();
            let (folded, of_an_app) = st
                .db
                .read(move |c| {
                    let sql = format!(
                        "SELECT {}, EXISTS (SELECT 1 FROM apps WHERE instance_id = ? AND client_id = ?)",
                        castellan_api::token_check::login_still_valid_sql("?", "?", "?", "?", "?")
                    );
                    let r = c
                        .one(
                            &sql,
                            &castellan_store::params![&client, &inst, &user, &grant, &session, &inst, &client],
                        )?
                        .expect("a row");
                    Ok((r.bool(0)?, r.bool(1)?))
                })
                .await
                .expect("the folded check");
            if of_an_app {
                assert_eq!(folded, verdict, "the folded check of {t:?}");
            }
            verdict
        };
        // The introspecting app, in the default org; a user of another org.
        let pa = project(&s, "verdict-api").await;
        let (_, api, api_secret) = app(
            &s,
            &pa,
            "api",
            json!({"name": "verdict-api", "authMethodType": "API_AUTH_METHOD_TYPE_BASIC"}),
        )
        .await;
        let other = new_org(&s, "Verdict Org").await;
        let (bot, _) = machine(&s, Some(&other), "verdict-bot").await;
        // Login names with the org's domain, so that the login name differs from the user name.
        ok(s.admin(
            "POST",
            &format!("/admin/v1/orgs/{other}/policies/domain"),
            Some(json!({"userLoginMustBeDomain": true, "validateOrgDomains": false})),
        )
        .await);
        let login_name = ok(in_org(
            &s,
            &other,
            "GET",
            &format!("/management/v1/users/{bot}"),
            None,
        )
        .await)["user"]["preferredLoginName"]
            .as_str()
            .expect("preferredLoginName")
            .to_string();
        assert_ne!(login_name, "verdict-bot");
        let token = |user: &str, client: &str| {
            let (s, user, client, pa) = (&s, user.to_string(), client.to_string(), pa.clone());
            async move { s.access_token(&user, &client, &[&pa], &["openid"]).await }
        };

        // An app's token; an unknown client that is not the user; an unknown user.
        assert!(active(token(&bot, &api).await).await);
        assert!(!active(token(&bot, "no-such-client").await).await);
        assert!(!active(token("no-such-user", &api).await).await);
        // Machine grants: the client is the user (id, user name or login name); no client.
        for c in [bot.as_str(), "verdict-bot", login_name.as_str(), ""] {
            assert!(active(token(&bot, c).await).await, "client {c:?}");
        }

        // Revoked by session and by grant.
        let mut t = token(&bot, &api).await;
        t.session_id = Some("verdict-session".into());
        t.grant_id = Some("verdict-grant".into());
        assert!(active(t.clone()).await);
        for id in ["verdict-session", "verdict-grant"] {
            castellan_api::token_check::revoke(st, &t.instance_id, id, t.exp * 1_000_000)
                .await
                .expect("revoke");
            let mut fresh = t.clone();
            fresh.id = st.ids.next();
            if id == "verdict-session" {
                fresh.grant_id = None;
            } else {
                fresh.session_id = None;
            }
            assert!(!active(fresh).await, "revoked {id}");
        }

        // The client's project, then the app itself, deactivated.
        let pc = project(&s, "verdict-client").await;
        let (app_id, client, _) = app(
            &s,
            &pc,
            "api",
            json!({"name": "verdict-client", "authMethodType": "API_AUTH_METHOD_TYPE_BASIC"}),
        )
        .await;
        assert!(active(token(&bot, &client).await).await);
        let post = |path: String| {
            let s = &s;
            async move { ok(s.admin("POST", &path, Some(json!({}))).await) }
        };
        post(format!("/management/v1/projects/{pc}/_deactivate")).await;
        assert!(!active(token(&bot, &client).await).await);
        post(format!("/management/v1/projects/{pc}/_reactivate")).await;
        assert!(active(token(&bot, &client).await).await);
        post(format!(
            "/management/v1/projects/{pc}/apps/{app_id}/_deactivate"
        ))
        .await;
        assert!(!active(token(&bot, &client).await).await);

        // The user's organisation deactivated: its users' tokens end, also those introspected
        // as active before; reactivated, they work again.
        let t = s.seal(&token(&bot, &api).await);
        assert_eq!(
            introspect(&s, (&api, &api_secret), &t).await["active"],
            true
        );
        ok(in_org(
            &s,
            &other,
            "POST",
            "/management/v1/orgs/me/_deactivate",
            Some(json!({})),
        )
        .await);
        assert_eq!(
            introspect(&s, (&api, &api_secret), &t).await,
            json!({"active": false})
        );
        assert!(!active(token(&bot, &api).await).await);
        assert!(!active(token(&bot, &bot).await).await);
        ok(in_org(
            &s,
            &other,
            "POST",
            "/management/v1/orgs/me/_reactivate",
            Some(json!({})),
        )
        .await);
        assert_eq!(
            introspect(&s, (&api, &api_secret), &t).await["active"],
            true
        );
    }
);
