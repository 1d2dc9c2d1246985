//! User claims at `/oidc/v1/userinfo`: standard claims by scope for humans and machines,
//! ZITADEL's role claims across two organisations, resourceowner, metadata and primary domain
//! claims, the project's role assertion, the flat `roles` setting; and the refusals
//! (RFC 6750) for missing, garbage, expired, revoked, foreign and badly signed tokens.

use super::*;

/// GET userinfo with a bearer token: status, body, `WWW-Authenticate`.
pub async fn userinfo(s: &TestServer, token: Option<&str>) -> (u16, Value, String) {
    let mut req = s.http.get(s.url("/oidc/v1/userinfo"));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let r = req.send().await.expect("send");
    let status = r.status().as_u16();
    let www = r
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = r.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
        www,
    )
}

/// Userinfo claims, asserting a 200.
async fn claims(s: &TestServer, token: &str) -> Value {
    let (status, v, _) = userinfo(s, Some(token)).await;
    assert_eq!(status, 200, "{v}");
    v
}

/// An opaque token for `user` from `client` with `scopes`.
async fn opaque(s: &TestServer, user: &str, client: &str, scopes: &[&str]) -> String {
    let t = s.access_token(user, client, &[client], scopes).await;
    s.seal(&t)
}

fn id(v: &Value, field: &str) -> String {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {v}"))
        .to_string()
}

async fn primary_domain(s: &TestServer, org: &str) -> String {
    let o = ok(in_org(s, org, "GET", "/management/v1/orgs/me", None).await);
    id(&o["org"], "primaryDomain")
}

/// Two organisations, a project of the first with roles and an OIDC app, granted to the
/// second; a human of the first with grants in both and metadata.
struct Scene {
    owner: String,
    partner: String,
    owner_domain: String,
    partner_domain: String,
    project: String,
    client: String,
    user: String,
}

async fn scene(s: &TestServer) -> Scene {
    let owner = new_org(s, "Claims Owner").await;
    let partner = new_org(s, "Claims Partner").await;
    let project = id(
        &ok(in_org(
            s,
            &owner,
            "POST",
            "/management/v1/projects",
            Some(json!({"name": "Shop"})),
        )
        .await),
        "id",
    );
    ok(in_org(
        s,
        &owner,
        "POST",
        &format!("/management/v1/projects/{project}/roles/_bulk"),
        Some(json!({"roles": [
            {"key": "admin", "displayName": "Admin"},
            {"key": "reader", "displayName": "Reader"},
            {"key": "writer", "displayName": "Writer"}
        ]})),
    )
    .await);
    let app = ok(in_org(
        s,
        &owner,
        "POST",
        &format!("/management/v1/projects/{project}/apps/oidc"),
        Some(json!({
            "name": "web",
            "redirectUris": ["http://localhost/cb"],
            "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
            "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"],
            "appType": "OIDC_APP_TYPE_WEB",
            "authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC",
            "devMode": true
        })),
    )
    .await);
    let client = id(&app, "clientId");
    let pg = id(
        &ok(in_org(
            s,
            &owner,
            "POST",
            &format!("/management/v1/projects/{project}/grants"),
            Some(json!({"grantedOrgId": partner, "roleKeys": ["reader", "writer"]})),
        )
        .await),
        "grantId",
    );
    let user = id(
        &ok(in_org(
            s,
            &owner,
            "POST",
            "/management/v1/users/human",
            Some(json!({
                "userName": "alice",
                "profile": {
                    "firstName": "Alice", "lastName": "Anderson", "nickName": "ally",
                    "displayName": "Alice A.", "preferredLanguage": "de", "gender": "GENDER_FEMALE"
                },
                "email": {"email": "alice@example.com", "isEmailVerified": true},
                "phone": {"phone": "+41 71 123 45 67", "isPhoneVerified": false},
                "initialPassword": "Password1!"
            })),
        )
        .await),
        "userId",
    );
    ok(in_org(
        s,
        &owner,
        "POST",
        &format!("/management/v1/users/{user}/grants"),
        Some(json!({"projectId": project, "roleKeys": ["admin", "reader"]})),
    )
    .await);
    ok(in_org(
        s,
        &partner,
        "POST",
        &format!("/management/v1/users/{user}/grants"),
        Some(json!({"projectId": project, "projectGrantId": pg, "roleKeys": ["reader"]})),
    )
    .await);
    for (k, v) in [("team", "blue"), ("level", "7")] {
        ok(in_org(
            s,
            &owner,
            "POST",
            &format!("/management/v1/users/{user}/metadata/{k}"),
            Some(json!({"value": b64(v)})),
        )
        .await);
    }
    Scene {
        owner_domain: primary_domain(s, &owner).await,
        partner_domain: primary_domain(s, &partner).await,
        owner,
        partner,
        project,
        client,
        user,
    }
}

both!(userinfo_claims_by_scope, |s: TestServer| async move {
    let sc = scene(&s).await;
    let u = &sc.user;

    // openid alone: the subject only.
    let c = claims(&s, &opaque(&s, u, &sc.client, &["openid"]).await).await;
    assert_eq!(c, json!({"sub": u}));

    // Standard claims.
    let c = claims(
        &s,
        &opaque(
            &s,
            u,
            &sc.client,
            &["openid", "profile", "email", "phone", "address"],
        )
        .await,
    )
    .await;
    assert_eq!(c["name"], "Alice A.");
    assert_eq!(c["given_name"], "Alice");
    assert_eq!(c["family_name"], "Anderson");
    assert_eq!(c["nickname"], "ally");
    assert_eq!(c["gender"], "female");
    assert_eq!(c["locale"], "de");
    // The preferred login name: the user name, as the domain policy does not add the domain.
    assert_eq!(c["preferred_username"], "alice");
    assert!(
        c["updated_at"].as_i64().is_some_and(|t| t > 1_600_000_000),
        "{c}"
    );
    assert_eq!(c["email"], "alice@example.com");
    assert_eq!(c["email_verified"], true);
    assert_eq!(c["phone_number"], "+41711234567");
    assert_eq!(c["phone_number_verified"], false);
    assert!(
        c.get("address").is_none() && c.get("picture").is_none(),
        "{c}"
    );
    assert!(c.get(super::oidc_claims::ROLES).is_none(), "{c}");

    // One requested role: only that key, from both organisations.
    let c = claims(
        &s,
        &opaque(
            &s,
            u,
            &sc.client,
            &["openid", "urn:zitadel:iam:org:project:role:reader"],
        )
        .await,
    )
    .await;
    let reader =
        json!({"reader": {(&sc.owner): sc.owner_domain, (&sc.partner): sc.partner_domain}});
    assert_eq!(c[ROLES], reader, "{c}");
    assert_eq!(
        c[format!("urn:zitadel:iam:org:project:{}:roles", sc.project)],
        reader
    );
    assert!(c.get("roles").is_none(), "no flat roles by default: {c}");

    // Every role of the audience projects, then only those granted by the partner.
    let all = ["openid", "urn:zitadel:iam:org:projects:roles"];
    let c = claims(&s, &opaque(&s, u, &sc.client, &all).await).await;
    assert_eq!(
        c[ROLES],
        json!({
            "admin": {(&sc.owner): sc.owner_domain},
            "reader": {(&sc.owner): sc.owner_domain, (&sc.partner): sc.partner_domain}
        }),
        "{c}"
    );
    let only_partner = format!("urn:zitadel:iam:org:roles:id:{}", sc.partner);
    let c = claims(
        &s,
        &opaque(&s, u, &sc.client, &[all[0], all[1], &only_partner]).await,
    )
    .await;
    assert_eq!(
        c[ROLES],
        json!({"reader": {(&sc.partner): sc.partner_domain}}),
        "{c}"
    );

    // Resource owner, metadata (base64 values), requested primary domain.
    let c = claims(
        &s,
        &opaque(
            &s,
            u,
            &sc.client,
            &[
                "openid",
                "urn:zitadel:iam:user:resourceowner",
                "urn:zitadel:iam:user:metadata",
                "urn:zitadel:iam:org:domain:primary:shop.example.com",
            ],
        )
        .await,
    )
    .await;
    assert_eq!(c["urn:zitadel:iam:user:resourceowner:id"], sc.owner);
    assert_eq!(c["urn:zitadel:iam:user:resourceowner:name"], "Claims Owner");
    assert_eq!(
        c["urn:zitadel:iam:user:resourceowner:primary_domain"],
        sc.owner_domain
    );
    assert_eq!(
        c["urn:zitadel:iam:user:metadata"],
        json!({"level": b64("7"), "team": b64("blue")})
    );
    assert_eq!(c["urn:zitadel:iam:org:domain:primary"], "shop.example.com");

    // The project asserts its roles: userinfo carries them without a role scope.
    ok(in_org(
        &s,
        &sc.owner,
        "PUT",
        &format!("/management/v1/projects/{}", sc.project),
        Some(json!({"name": "Shop", "projectRoleAssertion": true})),
    )
    .await);
    let openid = opaque(&s, u, &sc.client, &["openid"]).await;
    let c = claims(&s, &openid).await;
    assert_eq!(
        c[ROLES]["admin"],
        json!({(&sc.owner): sc.owner_domain}),
        "{c}"
    );

    // The flat roles claim, once the instance asks for it.
    ok(s.admin(
        "PUT",
        "/admin/v1/settings/oidc",
        Some(json!({
            "accessTokenLifetime": "43200s", "idTokenLifetime": "43200s",
            "refreshTokenIdleExpiration": "2592000s", "refreshTokenExpiration": "7776000s",
            "flatRolesClaim": true
        })),
    )
    .await);
    let c = claims(&s, &openid).await;
    assert_eq!(c["roles"], json!(["admin", "reader"]), "{c}");

    // The same as a JWT, and as the form field of a POST.
    let t = s
        .access_token(u, &sc.client, &[&sc.client], &["openid", "email"])
        .await;
    let c = claims(&s, &s.sign_jwt(&t).await).await;
    assert_eq!(c["email"], "alice@example.com");
    let r = s
        .http
        .post(s.url("/oidc/v1/userinfo"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("access_token={}", s.seal(&t)))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    let c: Value = r.json().await.expect("json");
    assert_eq!(c["sub"], json!(u));
    assert_eq!(c["email_verified"], true);
});

both!(userinfo_machine_claims, |s: TestServer| async move {
    let (m, _) = machine(&s, None, "robot").await;
    let c = claims(
        &s,
        &opaque(&s, &m, "robot", &["openid", "profile", "email", "phone"]).await,
    )
    .await;
    assert_eq!(c["sub"], json!(m));
    assert_eq!(c["name"], "robot");
    assert!(
        c["preferred_username"]
            .as_str()
            .is_some_and(|p| p.starts_with("robot")),
        "{c}"
    );
    assert!(
        c.get("email").is_none() && c.get("given_name").is_none(),
        "{c}"
    );
});

pub const ROLES: &str = "urn:zitadel:iam:org:project:roles";

both!(userinfo_refuses_bad_tokens, |s: TestServer| async move {
    let sc = scene(&s).await;
    let u = &sc.user;
    let invalid = |r: (u16, Value, String)| {
        assert_eq!(r.0, 401, "{}", r.1);
        assert!(r.2.starts_with("Bearer error=\"invalid_token\""), "{}", r.2);
        assert_eq!(r.1["error"], "invalid_token");
    };

    // No token: 401 with a bare challenge.
    let (status, _, www) = userinfo(&s, None).await;
    assert_eq!((status, www.as_str()), (401, "Bearer"));
    invalid(userinfo(&s, Some("garbage")).await);
    invalid(userinfo(&s, Some("v1.garbage")).await);

    // Expired.
    let mut t = s
        .access_token(u, &sc.client, &[&sc.client], &["openid"])
        .await;
    t.exp = t.iat - 10;
    invalid(userinfo(&s, Some(&s.seal(&t))).await);

    // Sealed for another instance.
    let mut t = s
        .access_token(u, &sc.client, &[&sc.client], &["openid"])
        .await;
    t.instance_id = "another-instance".into();
    invalid(userinfo(&s, Some(&s.seal(&t))).await);

    // A JWT whose signature does not match.
    let t = s
        .access_token(u, &sc.client, &[&sc.client], &["openid"])
        .await;
    let jwt = s.sign_jwt(&t).await;
    assert_eq!(claims(&s, &jwt).await["sub"], json!(u));
    let (head, _) = jwt.rsplit_once('.').expect("jws");
    invalid(userinfo(&s, Some(&format!("{head}.AAAA{}", &jwt[jwt.len() - 8..]))).await);
    // ... or whose claims were changed after signing.
    let parts: Vec<&str> = jwt.split('.').collect();
    let forged = {
        use base64::Engine;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut c: Value = serde_json::from_slice(&e.decode(parts[1]).expect("b64")).expect("json");
        c["sub"] = json!("someone-else");
        format!("{}.{}.{}", parts[0], e.encode(c.to_string()), parts[2])
    };
    invalid(userinfo(&s, Some(&forged)).await);

    // Without openid: 403 insufficient_scope.
    let (status, v, www) = userinfo(&s, Some(&opaque(&s, u, &sc.client, &["profile"]).await)).await;
    assert_eq!(status, 403, "{v}");
    assert!(www.contains("insufficient_scope"), "{www}");

    // Revoked by token id, and by grant id.
    let t = s
        .access_token(u, &sc.client, &[&sc.client], &["openid"])
        .await;
    let tok = s.seal(&t);
    claims(&s, &tok).await;
    let st = s.state();
    castellan_api::token_check::revoke(st, &t.instance_id, &t.id, t.exp * 1_000_000)
        .await
        .expect("revoke");
    invalid(userinfo(&s, Some(&tok)).await);
    let mut t = s
        .access_token(u, &sc.client, &[&sc.client], &["openid"])
        .await;
    t.grant_id = Some("grant-1".into());
    let opaque_tok = s.seal(&t);
    // A token of another grant (the JWT form carries no grant id).
    t.id = format!("{}-other", t.id);
    let tok = s.sign_jwt(&t).await;
    claims(&s, &opaque_tok).await;
    castellan_api::token_check::revoke(st, &t.instance_id, "grant-1", t.exp * 1_000_000)
        .await
        .expect("revoke");
    invalid(userinfo(&s, Some(&opaque_tok)).await);
    claims(&s, &tok).await;

    // The user deactivated: its tokens stop working; reactivated: they work again.
    let tok = opaque(&s, u, &sc.client, &["openid"]).await;
    claims(&s, &tok).await;
    ok(in_org(
        &s,
        &sc.owner,
        "POST",
        &format!("/management/v1/users/{u}/_deactivate"),
        Some(json!({})),
    )
    .await);
    invalid(userinfo(&s, Some(&tok)).await);
    ok(in_org(
        &s,
        &sc.owner,
        "POST",
        &format!("/management/v1/users/{u}/_reactivate"),
        Some(json!({})),
    )
    .await);
    claims(&s, &tok).await;

    // The app deactivated.
    let app_id = ok(in_org(
        &s,
        &sc.owner,
        "POST",
        &format!("/management/v1/projects/{}/apps/_search", sc.project),
        Some(json!({})),
    )
    .await)["result"][0]["id"]
        .as_str()
        .expect("app id")
        .to_string();
    ok(in_org(
        &s,
        &sc.owner,
        "POST",
        &format!(
            "/management/v1/projects/{}/apps/{app_id}/_deactivate",
            sc.project
        ),
        Some(json!({})),
    )
    .await);
    invalid(userinfo(&s, Some(&tok)).await);
});

both!(
    claims_for_tokens_and_project_checks,
    |s: TestServer| async move {
        use castellan_oidc::claims::{project_access, user_claims, ClientCtx, Target};
        let sc = scene(&s).await;
        let (st, inst) = (s.state(), s.instance_id().await);
        let scopes: Vec<String> = [
            "openid",
            "profile",
            "email",
            "urn:zitadel:iam:org:project:role:admin",
        ]
        .iter()
        .map(|x| x.to_string())
        .collect();
        let ctx = |with_access_token| ClientCtx {
            client_id: sc.client.clone(),
            project_id: sc.project.clone(),
            with_access_token,
        };
        let claims = |target, with_at| {
            let c = ctx(with_at);
            let scopes = scopes.clone();
            let (inst, user) = (inst.clone(), sc.user.clone());
            async move {
                user_claims(st, &inst, &user, &scopes, &c, target)
                    .await
                    .expect("claims")
            }
        };
        // An ID token alone carries the profile and the requested roles.
        let c = claims(Target::IdToken, false).await;
        assert_eq!(c["email"], "alice@example.com");
        assert_eq!(
            c[ROLES],
            json!({"admin": {(&sc.owner): sc.owner_domain}}),
            "{c:?}"
        );
        // Issued with an access token: neither (OIDC core 5.4), the client asks userinfo.
        let c = claims(Target::IdToken, true).await;
        assert!(c.get("email").is_none() && c.get(ROLES).is_none(), "{c:?}");
        assert_eq!(c["sub"], json!(sc.user));
        // A JWT access token carries no profile claims.
        let c = claims(Target::AccessToken, true).await;
        assert!(c.get("email").is_none() && c.get("name").is_none(), "{c:?}");

        // The app asserts roles and userinfo claims in ID tokens.
        let app_id = ok(in_org(
            &s,
            &sc.owner,
            "POST",
            &format!("/management/v1/projects/{}/apps/_search", sc.project),
            Some(json!({})),
        )
        .await)["result"][0]["id"]
            .as_str()
            .expect("app id")
            .to_string();
        ok(in_org(
            &s,
            &sc.owner,
            "PUT",
            &format!(
                "/management/v1/projects/{}/apps/{app_id}/oidc_config",
                sc.project
            ),
            Some(json!({
                "redirectUris": ["http://localhost/cb"],
                "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
                "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"],
                "appType": "OIDC_APP_TYPE_WEB",
                "authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC",
                "devMode": true,
                "idTokenRoleAssertion": true,
                "idTokenUserinfoAssertion": true,
                "accessTokenRoleAssertion": true
            })),
        )
        .await);
        let c = claims(Target::IdToken, true).await;
        assert_eq!(c["email"], "alice@example.com", "{c:?}");
        assert_eq!(
            c[ROLES],
            json!({"admin": {(&sc.owner): sc.owner_domain}}),
            "{c:?}"
        );
        let c = claims(Target::AccessToken, true).await;
        assert_eq!(
            c[ROLES],
            json!({"admin": {(&sc.owner): sc.owner_domain}}),
            "{c:?}"
        );

        // Project checks: without them anyone may get tokens.
        let (stranger, _) = machine(&s, None, "stranger").await;
        let (inst2, project) = (inst.clone(), sc.project.clone());
        let check = |u: String| {
            let (inst, project) = (inst2.clone(), project.clone());
            async move {
                project_access(st, &inst, &u, &project)
                    .await
                    .expect("check")
            }
        };
        assert_eq!(check(stranger.clone()).await, Ok(()));
        ok(in_org(
            &s,
            &sc.owner,
            "PUT",
            &format!("/management/v1/projects/{}", sc.project),
            Some(json!({"name": "Shop", "projectRoleCheck": true})),
        )
        .await);
        assert_eq!(check(sc.user.clone()).await, Ok(()));
        assert!(check(stranger.clone()).await.is_err());
        ok(in_org(
            &s,
            &sc.owner,
            "PUT",
            &format!("/management/v1/projects/{}", sc.project),
            Some(json!({"name": "Shop", "hasProjectCheck": true})),
        )
        .await);
        // The stranger's org (the default org) neither owns nor was granted the project.
        assert!(check(stranger).await.is_err());
        assert_eq!(check(sc.user.clone()).await, Ok(()));
        let partner_user = ok(in_org(
            &s,
            &sc.partner,
            "POST",
            "/management/v1/users/machine",
            Some(json!({"userName": "partner-bot", "name": "P"})),
        )
        .await)["userId"]
            .as_str()
            .expect("userId")
            .to_string();
        assert_eq!(check(partner_user).await, Ok(()), "a granted org's user");
    }
);
