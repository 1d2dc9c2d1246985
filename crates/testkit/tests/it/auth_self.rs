//! The calling user's auth API (`/auth/v1/...`) as human users see it: profile, email, phone,
//! password, user name, removal, permissions, memberships and the policies in force. Humans
//! get their bearer token from the test-only `TestServer::token_for`.

use super::*;
use castellan_proto::zitadel::auth::v1 as apb;
use castellan_proto::zitadel::auth::v1::auth_service_client::AuthServiceClient;

const PASSWORD: &str = "Password1!";

/// Adds an active human with a password to `org` (the admin's org when `None`) and returns
/// (id, bearer token).
async fn human(s: &TestServer, org: Option<&str>, user_name: &str) -> (String, String) {
    let body = json!({
        "userName": user_name,
        "profile": {"firstName": "Given", "lastName": "Family", "preferredLanguage": "en"},
        "email": {"email": format!("{user_name}@example.com"), "isEmailVerified": true},
        "phone": {"phone": "+41 71 123 45 67", "isPhoneVerified": true},
        "initialPassword": PASSWORD
    });
    let pat = s.pat.clone();
    let r = ok(s
        .call(
            "POST",
            "/management/v1/users/human",
            Some(body),
            Some(&pat),
            org,
        )
        .await);
    let id = r["userId"].as_str().expect("userId").to_string();
    let token = s.token_for(&id).await;
    (id, token)
}

/// A REST call with the caller's token and no org header.
async fn me(
    s: &TestServer,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    s.call(method, path, body, Some(token), None).await
}

/// Event types of the caller's own history, oldest first.
async fn my_changes(s: &TestServer, token: &str) -> Vec<String> {
    let r = ok(me(
        s,
        token,
        "POST",
        "/auth/v1/users/me/changes/_search",
        Some(json!({"query": {"asc": true}})),
    )
    .await);
    r["result"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["eventType"]["key"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The admin machine user's org (the default org).
async fn default_org(s: &TestServer) -> String {
    let r = ok(s.admin("GET", "/auth/v1/users/me", None).await);
    r["user"]["details"]["resourceOwner"]
        .as_str()
        .expect("org")
        .to_string()
}

both!(profile_email_and_phone, |s: TestServer| async move {
    let (id, t) = human(&s, None, "alice").await;

    // The product still refuses personal access tokens for humans.
    assert_err(
        &s.admin(
            "POST",
            &format!("/management/v1/users/{id}/pats"),
            Some(json!({})),
        )
        .await,
        400,
        9,
        "not a machine",
    );

    let u = ok(me(&s, &t, "GET", "/auth/v1/users/me", None).await);
    assert_eq!(u["user"]["id"], id.as_str());
    assert_eq!(u["user"]["human"]["profile"]["firstName"], "Given");

    // Profile.
    let p = ok(me(&s, &t, "GET", "/auth/v1/users/me/profile", None).await);
    assert_eq!(p["profile"]["firstName"], "Given");
    assert_eq!(p["profile"]["displayName"], "Given Family");
    assert_eq!(
        p["details"]["resourceOwner"],
        u["user"]["details"]["resourceOwner"]
    );
    let upd = json!({"firstName": "Alice", "lastName": "Anderson", "nickName": "ally", "displayName": "Alice A.", "preferredLanguage": "de", "gender": "GENDER_FEMALE"});
    let r = ok(me(
        &s,
        &t,
        "PUT",
        "/auth/v1/users/me/profile",
        Some(upd.clone()),
    )
    .await);
    assert!(r["details"]["sequence"].is_string());
    let p = ok(me(&s, &t, "GET", "/auth/v1/users/me/profile", None).await);
    assert_eq!(p["profile"]["firstName"], "Alice");
    assert_eq!(p["profile"]["nickName"], "ally");
    assert_eq!(p["profile"]["displayName"], "Alice A.");
    assert_eq!(p["profile"]["preferredLanguage"], "de");
    assert_eq!(p["profile"]["gender"], "GENDER_FEMALE");
    assert_err(
        &me(&s, &t, "PUT", "/auth/v1/users/me/profile", Some(upd)).await,
        400,
        9,
        "profile not changed",
    );
    assert_err(
        &me(
            &s,
            &t,
            "PUT",
            "/auth/v1/users/me/profile",
            Some(json!({"lastName": "X"})),
        )
        .await,
        400,
        3,
        "firstName",
    );
    assert_err(
        &me(
            &s,
            &t,
            "PUT",
            "/auth/v1/users/me/profile",
            Some(json!({"firstName": "A", "lastName": "B", "nickName": "n".repeat(201)})),
        )
        .await,
        400,
        3,
        "nickName",
    );

    // Email: a new address is unverified.
    let e = ok(me(&s, &t, "GET", "/auth/v1/users/me/email", None).await);
    assert_eq!(e["email"]["email"], "alice@example.com");
    assert_eq!(e["email"]["isEmailVerified"], true);
    ok(me(
        &s,
        &t,
        "PUT",
        "/auth/v1/users/me/email",
        Some(json!({"email": "alice@new.example"})),
    )
    .await);
    let e = ok(me(&s, &t, "GET", "/auth/v1/users/me/email", None).await);
    assert_eq!(e["email"]["email"], "alice@new.example");
    assert!(e["email"].get("isEmailVerified").is_none(), "{e}");
    assert_err(
        &me(
            &s,
            &t,
            "PUT",
            "/auth/v1/users/me/email",
            Some(json!({"email": "not-an-address"})),
        )
        .await,
        400,
        3,
        "email",
    );
    assert_err(
        &me(
            &s,
            &t,
            "PUT",
            "/auth/v1/users/me/email",
            Some(json!({"email": "alice@new.example"})),
        )
        .await,
        400,
        9,
        "email not changed",
    );

    // Phone: set unverified, validated, removed.
    let ph = ok(me(&s, &t, "GET", "/auth/v1/users/me/phone", None).await);
    assert_eq!(ph["phone"]["phone"], "+41711234567");
    assert_eq!(ph["phone"]["isPhoneVerified"], true);
    assert_err(
        &me(
            &s,
            &t,
            "PUT",
            "/auth/v1/users/me/phone",
            Some(json!({"phone": "0711234567"})),
        )
        .await,
        400,
        3,
        "phone",
    );
    ok(me(
        &s,
        &t,
        "PUT",
        "/auth/v1/users/me/phone",
        Some(json!({"phone": "+49 30 1234567"})),
    )
    .await);
    let ph = ok(me(&s, &t, "GET", "/auth/v1/users/me/phone", None).await);
    assert_eq!(ph["phone"]["phone"], "+49301234567");
    assert!(ph["phone"].get("isPhoneVerified").is_none(), "{ph}");
    ok(me(&s, &t, "DELETE", "/auth/v1/users/me/phone", None).await);
    let ph = ok(me(&s, &t, "GET", "/auth/v1/users/me/phone", None).await);
    assert!(ph["phone"].get("phone").is_none(), "{ph}");
    assert_err(
        &me(&s, &t, "DELETE", "/auth/v1/users/me/phone", None).await,
        404,
        5,
        "phone not found",
    );

    // The changes are events with ZITADEL's names, on the user and authored by it.
    let changes = my_changes(&s, &t).await;
    for ty in [
        "user.human.profile.changed",
        "user.human.email.changed",
        "user.human.phone.changed",
        "user.human.phone.removed",
    ] {
        assert!(
            changes.iter().any(|c| c == ty),
            "{ty} missing in {changes:?}"
        );
    }

    // The same over gRPC.
    let mut auth = AuthServiceClient::new(s.channel().await);
    let mut req = tonic::Request::new(apb::GetMyProfileRequest {});
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {t}").parse().expect("header"),
    );
    let p = auth
        .get_my_profile(req)
        .await
        .expect("GetMyProfile")
        .into_inner();
    assert_eq!(p.profile.map(|p| p.first_name), Some("Alice".to_string()));
});

both!(machine_users_have_no_profile, |s: TestServer| async move {
    let (_, t) = machine(&s, None, "robot").await;
    ok(me(&s, &t, "GET", "/auth/v1/users/me", None).await);
    for path in [
        "/auth/v1/users/me/profile",
        "/auth/v1/users/me/email",
        "/auth/v1/users/me/phone",
    ] {
        let r = me(&s, &t, "GET", path, None).await;
        assert_err(&r, 400, 9, "not a human");
    }
    assert_eq!(
        me(&s, &t, "GET", "/auth/v1/users/me/profile", None).await.1["details"][0]["id"],
        "QUERY-WLTce"
    );
    assert_err(
        &me(
            &s,
            &t,
            "PUT",
            "/auth/v1/users/me/profile",
            Some(json!({"firstName": "R", "lastName": "B"})),
        )
        .await,
        400,
        9,
        "not a human",
    );
    assert_err(
        &me(
            &s,
            &t,
            "PUT",
            "/auth/v1/users/me/password",
            Some(json!({"oldPassword": "a", "newPassword": "b"})),
        )
        .await,
        400,
        9,
        "not a human",
    );
});

both!(update_my_password, |s: TestServer| async move {
    let org = default_org(&s).await;
    let (_, t) = human(&s, None, "pat").await;
    let pw = |old: &str, new: &str| json!({"oldPassword": old, "newPassword": new});
    const PATH: &str = "/auth/v1/users/me/password";

    assert_err(
        &me(
            &s,
            &t,
            "PUT",
            PATH,
            Some(json!({"newPassword": "Whatever1!"})),
        )
        .await,
        400,
        3,
        "oldPassword",
    );
    assert_err(
        &me(&s, &t, "PUT", PATH, Some(json!({"oldPassword": PASSWORD}))).await,
        400,
        3,
        "newPassword",
    );
    assert_err(
        &me(&s, &t, "PUT", PATH, Some(pw("Wrong1!", "Another1!"))).await,
        400,
        3,
        "password is invalid",
    );

    // The organisation's complexity policy applies.
    ok(in_org(&s, &org, "POST", "/management/v1/policies/password/complexity", Some(json!({"minLength": 12, "hasUppercase": true, "hasLowercase": true, "hasNumber": true, "hasSymbol": true}))).await);
    let c = ok(me(
        &s,
        &t,
        "GET",
        "/auth/v1/policies/passwords/complexity",
        None,
    )
    .await);
    assert_eq!(c["policy"]["minLength"], "12");
    assert!(c["policy"].get("isDefault").is_none(), "{c}");
    assert_err(
        &me(&s, &t, "PUT", PATH, Some(pw(PASSWORD, "Short1!"))).await,
        400,
        3,
        "too short",
    );
    assert_err(
        &me(&s, &t, "PUT", PATH, Some(pw(PASSWORD, "Longenough12"))).await,
        400,
        3,
        "symbol",
    );

    ok(me(&s, &t, "PUT", PATH, Some(pw(PASSWORD, "Longer-Password-1"))).await);
    // The old one no longer matches, the new one does.
    assert_err(
        &me(&s, &t, "PUT", PATH, Some(pw(PASSWORD, "Longer-Password-2"))).await,
        400,
        3,
        "password is invalid",
    );
    assert_err(
        &me(
            &s,
            &t,
            "PUT",
            PATH,
            Some(pw("Longer-Password-1", "Longer-Password-1")),
        )
        .await,
        400,
        9,
        "cannot be the same",
    );
    ok(me(
        &s,
        &t,
        "PUT",
        PATH,
        Some(pw("Longer-Password-1", "Longer-Password-2")),
    )
    .await);
    let changes = my_changes(&s, &t).await;
    assert_eq!(
        changes
            .iter()
            .filter(|c| *c == "user.human.password.changed")
            .count(),
        2,
        "{changes:?}"
    );
    // Wrong old passwords do not lock the user (ZITADEL's ChangePassword counts no attempts).
    ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/policies/lockout",
        Some(json!({"maxPasswordAttempts": 1})),
    )
    .await);
    for _ in 0..2 {
        assert_err(
            &me(
                &s,
                &t,
                "PUT",
                PATH,
                Some(pw("Wrong-Password-1", "Longer-Password-3")),
            )
            .await,
            400,
            3,
            "password is invalid",
        );
    }
    ok(me(
        &s,
        &t,
        "PUT",
        PATH,
        Some(pw("Longer-Password-2", "Longer-Password-3")),
    )
    .await);
});

both!(update_my_user_name, |s: TestServer| async move {
    let (id, t) = human(&s, None, "carol").await;
    human(&s, None, "dave").await;
    const PATH: &str = "/auth/v1/users/me/username";
    ok(me(&s, &t, "PUT", PATH, Some(json!({"userName": "carol2"}))).await);
    let u = ok(me(&s, &t, "GET", "/auth/v1/users/me", None).await);
    assert_eq!(u["user"]["userName"], "carol2");
    assert_eq!(u["user"]["preferredLoginName"], "carol2");
    let g = ok(s
        .admin("GET", &format!("/management/v1/users/{id}"), None)
        .await);
    assert_eq!(g["user"]["userName"], "carol2");
    assert_err(
        &me(&s, &t, "PUT", PATH, Some(json!({"userName": "dave"}))).await,
        409,
        6,
        "taken",
    );
    assert_err(
        &me(&s, &t, "PUT", PATH, Some(json!({"userName": "carol2"}))).await,
        400,
        9,
        "not changed",
    );
    assert_err(
        &me(&s, &t, "PUT", PATH, Some(json!({"userName": ""}))).await,
        400,
        3,
        "userName",
    );
    assert!(my_changes(&s, &t)
        .await
        .iter()
        .any(|c| c == "user.username.changed"));
});

/// With `UserLoginMustBeDomain`, the new login name carries the organisation's domain and
/// user names are unique per organisation only.
async fn user_name_under_domain_policy(backend: Backend) {
    let Some(s) = TestServer::start_with(backend, |c| {
        c.default_instance.domain_policy.user_login_must_be_domain = true
    })
    .await
    else {
        return;
    };
    let a = new_org(&s, "Org A").await;
    let b = new_org(&s, "Org B").await;
    let (_, t) = human(&s, Some(&a), "erin").await;
    human(&s, Some(&b), "frank").await;
    human(&s, Some(&a), "gina").await;
    ok(me(
        &s,
        &t,
        "PUT",
        "/auth/v1/users/me/username",
        Some(json!({"userName": "frank"})),
    )
    .await);
    let u = ok(me(&s, &t, "GET", "/auth/v1/users/me", None).await);
    assert_eq!(u["user"]["preferredLoginName"], "frank@org-a.localhost");
    assert_err(
        &me(
            &s,
            &t,
            "PUT",
            "/auth/v1/users/me/username",
            Some(json!({"userName": "gina"})),
        )
        .await,
        409,
        6,
        "taken",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_name_under_domain_policy_sqlite() {
    user_name_under_domain_policy(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_name_under_domain_policy_postgres() {
    user_name_under_domain_policy(Backend::Postgres).await;
}

both!(remove_my_user, |s: TestServer| async move {
    let org = default_org(&s).await;
    let (id, t) = human(&s, None, "henry").await;
    // Deleting oneself needs user.self.delete (ORG_USER_SELF_MANAGER or SELF_MANAGEMENT_GLOBAL).
    assert_err(
        &me(&s, &t, "DELETE", "/auth/v1/users/me", None).await,
        403,
        7,
        "",
    );
    ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/orgs/me/members",
        Some(json!({"userId": id, "roles": ["ORG_USER_SELF_MANAGER"]})),
    )
    .await);
    let project = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/projects",
        Some(json!({"name": "Shop"})),
    )
    .await)["id"]
        .as_str()
        .expect("project")
        .to_string();
    ok(in_org(
        &s,
        &org,
        "POST",
        &format!("/management/v1/projects/{project}/roles"),
        Some(json!({"roleKey": "buyer", "displayName": "Buyer"})),
    )
    .await);
    ok(in_org(
        &s,
        &org,
        "POST",
        &format!("/management/v1/users/{id}/grants"),
        Some(json!({"projectId": project, "roleKeys": ["buyer"]})),
    )
    .await);

    let r = ok(me(&s, &t, "DELETE", "/auth/v1/users/me", None).await);
    assert!(r["details"]["sequence"].is_string());
    // The token dies with the user; memberships and grants go too.
    assert_err(
        &me(&s, &t, "GET", "/auth/v1/users/me", None).await,
        401,
        16,
        "",
    );
    assert_err(
        &s.admin("GET", &format!("/management/v1/users/{id}"), None)
            .await,
        404,
        5,
        "user could not be found",
    );
    let m = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/orgs/me/members/_search",
        Some(json!({})),
    )
    .await);
    assert!(!m.to_string().contains(&id), "{m}");
    let g = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/users/grants/_search",
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&g), 0, "{g}");
});

both!(
    permissions_memberships_and_orgs,
    |s: TestServer| async move {
        let org = default_org(&s).await;
        let other = new_org(&s, "Other").await;
        let (owner, t_owner) = human(&s, None, "olga").await;
        let (_, t_plain) = human(&s, None, "paul").await;

        // Without roles: no permissions, no memberships, no organisations.
        let p = ok(me(
            &s,
            &t_plain,
            "POST",
            "/auth/v1/permissions/zitadel/me/_search",
            None,
        )
        .await);
        assert_eq!(
            p.get("result")
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
            0,
            "{p}"
        );
        let m = ok(me(
            &s,
            &t_plain,
            "POST",
            "/auth/v1/memberships/me/_search",
            Some(json!({})),
        )
        .await);
        assert_eq!(total(&m), 0);
        let o = ok(me(
            &s,
            &t_plain,
            "POST",
            "/auth/v1/global/projectorgs/_search",
            Some(json!({})),
        )
        .await);
        assert_eq!(total(&o), 0, "{o}");

        // An ORG_OWNER of its org with a project role.
        ok(in_org(
            &s,
            &org,
            "POST",
            "/management/v1/orgs/me/members",
            Some(json!({"userId": owner, "roles": ["ORG_OWNER"]})),
        )
        .await);
        let project = ok(in_org(
            &s,
            &org,
            "POST",
            "/management/v1/projects",
            Some(json!({"name": "Portal"})),
        )
        .await)["id"]
            .as_str()
            .expect("project")
            .to_string();
        ok(in_org(
            &s,
            &org,
            "POST",
            &format!("/management/v1/projects/{project}/members"),
            Some(json!({"userId": owner, "roles": ["PROJECT_OWNER_VIEWER"]})),
        )
        .await);
        ok(in_org(
            &s,
            &other,
            "POST",
            "/management/v1/orgs/me/members",
            Some(json!({"userId": owner, "roles": ["ORG_OWNER_VIEWER"]})),
        )
        .await);

        let p = ok(me(
            &s,
            &t_owner,
            "POST",
            "/auth/v1/permissions/zitadel/me/_search",
            None,
        )
        .await);
        let perms: Vec<&str> = p["result"]
            .as_array()
            .expect("result")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for want in [
            "org.read",
            "org.write",
            "user.write",
            "policy.write",
            "project.create",
        ] {
            assert!(perms.contains(&want), "{want} missing in {perms:?}");
        }
        assert!(
            perms.contains(&format!("project.read:{project}").as_str()),
            "{perms:?}"
        );
        assert!(!perms.iter().any(|p| p.starts_with("iam.")), "{perms:?}");
        // In the other organisation (x-zitadel-orgid) only the viewer's permissions.
        let p = ok(s
            .call(
                "POST",
                "/auth/v1/permissions/zitadel/me/_search",
                None,
                Some(&t_owner),
                Some(&other),
            )
            .await);
        let perms: Vec<&str> = p["result"]
            .as_array()
            .expect("result")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            perms.contains(&"org.read") && !perms.contains(&"org.write"),
            "{perms:?}"
        );

        // Memberships with filters and paging.
        const M: &str = "/auth/v1/memberships/me/_search";
        let all = ok(me(&s, &t_owner, "POST", M, Some(json!({}))).await);
        assert_eq!(total(&all), 3, "{all}");
        let f = ok(me(
            &s,
            &t_owner,
            "POST",
            M,
            Some(json!({"queries": [{"orgQuery": {"orgId": other}}]})),
        )
        .await);
        assert_eq!(total(&f), 1);
        assert_eq!(f["result"][0]["orgId"], other.as_str());
        assert_eq!(f["result"][0]["roles"], json!(["ORG_OWNER_VIEWER"]));
        assert_eq!(f["result"][0]["displayName"], "Other");
        let f = ok(me(
            &s,
            &t_owner,
            "POST",
            M,
            Some(json!({"queries": [{"projectQuery": {"projectId": project}}]})),
        )
        .await);
        assert_eq!(total(&f), 1);
        assert_eq!(f["result"][0]["projectId"], project.as_str());
        let f = ok(me(
            &s,
            &t_owner,
            "POST",
            M,
            Some(json!({"queries": [{"iamQuery": {"iam": true}}]})),
        )
        .await);
        assert_eq!(total(&f), 0);
        let page = ok(me(
            &s,
            &t_owner,
            "POST",
            M,
            Some(json!({"query": {"limit": 1, "offset": 1, "asc": true}})),
        )
        .await);
        assert_eq!(total(&page), 3);
        assert_eq!(page["result"].as_array().map(Vec::len), Some(1));
        assert_eq!(page["result"][0], all["result"][1]);

        // Project orgs: the organisations of the memberships, narrowed by queries.
        const O: &str = "/auth/v1/global/projectorgs/_search";
        let o = ok(me(
            &s,
            &t_owner,
            "POST",
            O,
            Some(json!({"query": {"asc": true}})),
        )
        .await);
        assert_eq!(total(&o), 2, "{o}");
        let o = ok(me(&s, &t_owner, "POST", O, Some(json!({"queries": [{"nameQuery": {"name": "oth", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]}))).await);
        assert_eq!(total(&o), 1);
        assert_eq!(o["result"][0]["id"], other.as_str());
        assert_eq!(o["result"][0]["state"], "ORG_STATE_ACTIVE");
        // Instance members see every organisation.
        let o = ok(s.admin("POST", O, Some(json!({}))).await);
        assert_eq!(total(&o), 2, "{o}");

        // Project permissions need a token issued for a project.
        assert_err(
            &me(
                &s,
                &t_owner,
                "POST",
                "/auth/v1/permissions/me/_search",
                None,
            )
            .await,
            404,
            5,
            "user grant could not be found",
        );
    }
);

both!(policies_in_force, |s: TestServer| async move {
    let org = default_org(&s).await;
    let (_, t) = human(&s, None, "quinn").await;
    let l = ok(me(&s, &t, "GET", "/auth/v1/policies/label", None).await);
    assert_eq!(l["policy"]["primaryColor"], "#5469d4");
    assert_eq!(l["policy"]["backgroundColorDark"], "#111827");
    assert_eq!(l["policy"]["themeMode"], "THEME_MODE_AUTO");
    assert_eq!(l["policy"]["isDefault"], true);
    let lp = ok(me(&s, &t, "GET", "/auth/v1/policies/login", None).await);
    assert_eq!(lp["policy"]["allowUsernamePassword"], true);
    assert_eq!(lp["policy"]["passwordCheckLifetime"], "864000s");
    assert_eq!(lp["policy"]["isDefault"], true);
    let pp = ok(me(&s, &t, "GET", "/auth/v1/policies/privacy", None).await);
    assert_eq!(
        pp["policy"]["tosLink"],
        "https://zitadel.com/docs/legal/terms-of-service"
    );
    assert_eq!(pp["policy"]["isDefault"], true);
    let c = ok(me(
        &s,
        &t,
        "GET",
        "/auth/v1/policies/passwords/complexity",
        None,
    )
    .await);
    assert_eq!(c["policy"]["minLength"], "8");
    assert_eq!(c["policy"]["isDefault"], true);

    // An organisation's own policy wins over the instance default.
    ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/policies/privacy",
        Some(json!({"tosLink": "https://acme.test/tos"})),
    )
    .await);
    ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/policies/login",
        Some(json!({"allowUsernamePassword": true, "forceMfa": true})),
    )
    .await);
    let pp = ok(me(&s, &t, "GET", "/auth/v1/policies/privacy", None).await);
    assert_eq!(pp["policy"]["tosLink"], "https://acme.test/tos");
    assert!(pp["policy"].get("isDefault").is_none(), "{pp}");
    let lp = ok(me(&s, &t, "GET", "/auth/v1/policies/login", None).await);
    assert_eq!(lp["policy"]["forceMfa"], true);
    // Languages stay available to every caller.
    let langs = ok(me(&s, &t, "GET", "/auth/v1/languages", None).await);
    assert!(langs["languages"]
        .as_array()
        .is_some_and(|a| a.iter().any(|l| l == "en")));
    // Grants the user holds (none yet).
    let g = ok(me(
        &s,
        &t,
        "POST",
        "/auth/v1/usergrants/me/_search",
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&g), 0);
});
