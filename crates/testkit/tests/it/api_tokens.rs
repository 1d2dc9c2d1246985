//! The provider's access tokens at the management, admin and auth APIs: accepted (opaque and
//! JWT) with the ZITADEL audience, refused without it, refused when revoked, expired, forged,
//! of another instance, or when the user is deactivated, even after they were accepted (and
//! cached) once.

use super::oidc_claims::userinfo;
use super::*;

const ZITADEL_AUD: &str = "urn:zitadel:iam:org:project:id:zitadel:aud";

/// An OIDC app in a new project of the default org; its client id.
async fn console_app(s: &TestServer) -> String {
    let p = ok(s
        .admin(
            "POST",
            "/management/v1/projects",
            Some(json!({"name": "Console"})),
        )
        .await)["id"]
        .as_str()
        .expect("project")
        .to_string();
    ok(s.admin(
        "POST",
        &format!("/management/v1/projects/{p}/apps/oidc"),
        Some(json!({
            "name": "console",
            "redirectUris": ["http://localhost/cb"],
            "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
            "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"],
            "appType": "OIDC_APP_TYPE_USER_AGENT",
            "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE",
            "devMode": true
        })),
    )
    .await)["clientId"]
        .as_str()
        .expect("clientId")
        .to_string()
}

async fn me_id(s: &TestServer) -> String {
    ok(s.admin("GET", "/auth/v1/users/me", None).await)["user"]["id"]
        .as_str()
        .expect("id")
        .to_string()
}

both!(oidc_tokens_at_the_apis, |s: TestServer| async move {
    let inst = s.instance_id().await;
    let admin = me_id(&s).await;
    let scopes = ["openid", ZITADEL_AUD];

    // Opaque and JWT tokens with the ZITADEL audience reach all three APIs.
    let t = s.access_token(&admin, "admin-sa", &[&inst], &scopes).await;
    for tok in [s.seal(&t), s.sign_jwt(&t).await] {
        let r = ok(s
            .call("GET", "/auth/v1/users/me", None, Some(&tok), None)
            .await);
        assert_eq!(r["user"]["id"], json!(admin));
        ok(
            s.call("GET", "/management/v1/orgs/me", None, Some(&tok), None)
                .await,
        );
        ok(
            s.call("GET", "/admin/v1/settings/oidc", None, Some(&tok), None)
                .await,
        );
    }

    // GetIAM names the audience an API client must ask for.
    let iam = ok(s.admin("GET", "/management/v1/iam", None).await);
    assert_eq!(iam["iamProjectId"], json!(inst), "{iam}");
    let org = ok(s.admin("GET", "/auth/v1/users/me", None).await)["user"]["details"]
        ["resourceOwner"]
        .clone();
    assert_eq!(iam["defaultOrgId"], org, "{iam}");
    assert_eq!(iam["globalOrgId"], org, "{iam}");

    // Without the ZITADEL audience: refused by the APIs, fine for userinfo.
    let t = s
        .access_token(&admin, "admin-sa", &["admin-sa"], &["openid"])
        .await;
    let tok = s.seal(&t);
    let r = s
        .call("GET", "/management/v1/orgs/me", None, Some(&tok), None)
        .await;
    assert_err(&r, 401, 16, "ZITADEL audience");
    let (status, v, _) = userinfo(&s, Some(&tok)).await;
    assert_eq!(status, 200, "{v}");

    // Expired, of another instance, forged.
    let mut t = s.access_token(&admin, "admin-sa", &[&inst], &scopes).await;
    t.exp = t.iat - 1;
    let r = s
        .call(
            "GET",
            "/management/v1/orgs/me",
            None,
            Some(&s.seal(&t)),
            None,
        )
        .await;
    assert_eq!(r.0, 401, "{}", r.1);
    let mut t = s
        .access_token(&admin, "admin-sa", &["other"], &scopes)
        .await;
    t.instance_id = "other".into();
    let r = s
        .call(
            "GET",
            "/management/v1/orgs/me",
            None,
            Some(&s.seal(&t)),
            None,
        )
        .await;
    assert_eq!(r.0, 401, "{}", r.1);
    let t = s.access_token(&admin, "admin-sa", &[&inst], &scopes).await;
    let jwt = s.sign_jwt(&t).await;
    let forged = format!("{}AAAA", &jwt[..jwt.len() - 4]);
    let r = s
        .call("GET", "/management/v1/orgs/me", None, Some(&forged), None)
        .await;
    assert_eq!(r.0, 401, "{}", r.1);

    // Revoked after being accepted once (and cached).
    ok(
        s.call("GET", "/management/v1/orgs/me", None, Some(&jwt), None)
            .await,
    );
    castellan_api::token_check::revoke(s.state(), &inst, &t.id, t.exp * 1_000_000)
        .await
        .expect("revoke");
    let r = s
        .call("GET", "/management/v1/orgs/me", None, Some(&jwt), None)
        .await;
    assert_eq!(r.0, 401, "{}", r.1);
    // Other tokens of the user still work.
    let t2 = s.access_token(&admin, "admin-sa", &[&inst], &scopes).await;
    ok(s.call(
        "GET",
        "/management/v1/orgs/me",
        None,
        Some(&s.seal(&t2)),
        None,
    )
    .await);
});

both!(
    oidc_tokens_end_with_their_user,
    |s: TestServer| async move {
        let inst = s.instance_id().await;
        // An org owner (human) of the default org.
        let bob = ok(s
            .admin(
                "POST",
                "/management/v1/users/human",
                Some(json!({
                    "userName": "bob",
                    "profile": {"firstName": "Bob", "lastName": "Builder"},
                    "email": {"email": "bob@example.com", "isEmailVerified": true},
                    "initialPassword": "Password1!"
                })),
            )
            .await)["userId"]
            .as_str()
            .expect("userId")
            .to_string();
        ok(s.admin(
            "POST",
            "/management/v1/orgs/me/members",
            Some(json!({"userId": bob, "roles": ["ORG_OWNER"]})),
        )
        .await);
        let console = console_app(&s).await;
        let t = s
            .access_token(&bob, &console, &[&console, &inst], &["openid", ZITADEL_AUD])
            .await;
        let tok = s.seal(&t);
        ok(
            s.call("GET", "/management/v1/orgs/me", None, Some(&tok), None)
                .await,
        );
        // An org owner is not an instance administrator.
        let r = s
            .call("GET", "/admin/v1/settings/oidc", None, Some(&tok), None)
            .await;
        assert_eq!(r.0, 403, "{}", r.1);

        ok(s.admin(
            "POST",
            &format!("/management/v1/users/{bob}/_deactivate"),
            Some(json!({})),
        )
        .await);
        let r = s
            .call("GET", "/management/v1/orgs/me", None, Some(&tok), None)
            .await;
        assert_eq!(r.0, 401, "{}", r.1);
        ok(s.admin(
            "POST",
            &format!("/management/v1/users/{bob}/_reactivate"),
            Some(json!({})),
        )
        .await);
        ok(
            s.call("GET", "/management/v1/orgs/me", None, Some(&tok), None)
                .await,
        );
    }
);

/// Polls `f` until it holds (notifications between nodes take milliseconds).
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if f().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{what}");
}

/// Two nodes on one PostgreSQL: a grant changed on one node shows in the other's userinfo
/// (its claims cache follows), and a token revoked on one is refused by the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_tokens_across_nodes() {
    use castellan_testkit::{temp_dir, test_config};
    let Some(a) = TestServer::start(Backend::Postgres).await else {
        return;
    };
    let cfg = test_config(&a.db_url, &a.dir);
    let b = TestServer::launch(Backend::Postgres, cfg, temp_dir("nodeb"), false).await;
    let client = console_app(&a).await;
    let project = ok(a
        .admin("POST", "/management/v1/projects/_search", Some(json!({})))
        .await)["result"][0]["id"]
        .as_str()
        .expect("project")
        .to_string();
    ok(a.admin(
        "POST",
        &format!("/management/v1/projects/{project}/roles/_bulk"),
        Some(json!({"roles": [{"key": "reader", "displayName": "R"}, {"key": "writer", "displayName": "W"}]})),
    )
    .await);
    let (m, _) = machine(&a, None, "worker").await;
    let g = ok(a
        .admin(
            "POST",
            &format!("/management/v1/users/{m}/grants"),
            Some(json!({"projectId": project, "roleKeys": ["reader"]})),
        )
        .await)["userGrantId"]
        .as_str()
        .expect("grant")
        .to_string();
    let t = a
        .access_token(
            &m,
            &client,
            &[&client],
            &["openid", "urn:zitadel:iam:org:projects:roles"],
        )
        .await;
    let tok = a.seal(&t);
    let roles = |v: &Value| {
        let mut k: Vec<String> = v["urn:zitadel:iam:org:project:roles"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    let (status, v, _) = userinfo(&b, Some(&tok)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(roles(&v), ["reader"]);
    ok(a.admin(
        "PUT",
        &format!("/management/v1/users/{m}/grants/{g}"),
        Some(json!({"roleKeys": ["reader", "writer"]})),
    )
    .await);
    eventually("node B still shows the old roles", || async {
        roles(&userinfo(&b, Some(&tok)).await.1) == ["reader", "writer"]
    })
    .await;
    castellan_api::token_check::revoke(a.state(), &t.instance_id, &t.id, t.exp * 1_000_000)
        .await
        .expect("revoke");
    eventually("node B still accepts a token revoked on node A", || async {
        userinfo(&b, Some(&tok)).await.0 == 401
    })
    .await;
    b.stop().await;
    a.stop().await;
}

/// Tokens of instance B are refused at instance A, and the other way round, though one
/// deployment (one masterkey) issued them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_tokens_stay_in_their_instance() {
    use castellan_testkit::system::SystemUser;
    let sys = SystemUser::new("sys");
    let Some(s) = TestServer::start_with(Backend::Sqlite, |c| sys.configure(c, &[])).await else {
        return;
    };
    let b = sys.create_instance(&s, "Second").await;
    let (b_inst, b_pat, b_host) = (b.id, b.pat, b.host);
    let b_me = ok(s
        .call_host(
            &b_host,
            "GET",
            "/auth/v1/users/me",
            None,
            Some(&b_pat),
            None,
        )
        .await);
    let b_user = b_me["user"]["id"].as_str().expect("id").to_string();
    let iam = ok(s
        .call_host(
            &b_host,
            "GET",
            "/management/v1/iam",
            None,
            Some(&b_pat),
            None,
        )
        .await);
    assert_eq!(iam["iamProjectId"], json!(b_inst));

    let mut t = s
        .access_token(&b_user, "boss-sa", &[&b_inst], &["openid", ZITADEL_AUD])
        .await;
    t.instance_id = b_inst.clone();
    let opaque = s.seal(&t);
    let jwt = s
        .sign_jwt_as(&t, &format!("http://{b_host}:{}", s.port))
        .await;
    for tok in [&opaque, &jwt] {
        // At B: accepted.
        ok(
            s.call_host(&b_host, "GET", "/auth/v1/users/me", None, Some(tok), None)
                .await,
        );
        // At A: refused, at the APIs and at userinfo.
        let r = s
            .call("GET", "/auth/v1/users/me", None, Some(tok), None)
            .await;
        assert_eq!(r.0, 401, "{}", r.1);
        let (status, v, _) = userinfo(&s, Some(tok)).await;
        assert_eq!(status, 401, "{v}");
    }
    // A JWT of B claiming A as issuer is refused at A (signed with B's key) and at B (issuer).
    let forged = s.sign_jwt_as(&t, &s.origin()).await;
    let r = s
        .call("GET", "/auth/v1/users/me", None, Some(&forged), None)
        .await;
    assert_eq!(r.0, 401, "{}", r.1);
    let r = s
        .call_host(
            &b_host,
            "GET",
            "/auth/v1/users/me",
            None,
            Some(&forged),
            None,
        )
        .await;
    assert_eq!(r.0, 401, "{}", r.1);
}
