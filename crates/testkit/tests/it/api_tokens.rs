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
