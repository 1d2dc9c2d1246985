//! Domain and notification policies, and the factor lists of the login policy: instance
//! defaults (admin API) and organisation overrides, with their effects (login names follow the
//! domain policy in force).

use super::*;

fn flag(v: &Value) -> bool {
    v.as_bool().unwrap_or(false)
}

/// A machine user's login name in `org`.
async fn login_name(s: &TestServer, org: &str, user: &str) -> String {
    let u = ok(in_org(s, org, "GET", &format!("/management/v1/users/{user}"), None).await);
    u["user"]["preferredLoginName"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn machine_in(s: &TestServer, org: &str, name: &str) -> String {
    ok(in_org(
        s,
        org,
        "POST",
        "/management/v1/users/machine",
        Some(json!({"userName": name, "name": name})),
    )
    .await)["userId"]
        .as_str()
        .expect("userId")
        .to_string()
}

both!(
    domain_policy_default_and_override_drive_login_names,
    |s: TestServer| async move {
        let (a, b) = (
            new_org(&s, "Alpha Dom").await,
            new_org(&s, "Beta Dom").await,
        );
        let ua = machine_in(&s, &a, "ann").await;
        let ub = machine_in(&s, &b, "bob").await;
        // The test instance starts with user names as login names.
        let d = ok(s.admin("GET", "/admin/v1/policies/domain", None).await);
        assert!(!flag(&d["policy"]["userLoginMustBeDomain"]), "{d}");
        assert!(flag(&d["policy"]["isDefault"]));
        assert_eq!(login_name(&s, &a, &ua).await, "ann");

        // The default changes every organisation without its own policy.
        let body =
            json!({"userLoginMustBeDomain": true, "smtpSenderAddressMatchesInstanceDomain": true});
        ok(
            s.admin("PUT", "/admin/v1/policies/domain", Some(body.clone()))
                .await,
        );
        assert_eq!(login_name(&s, &a, &ua).await, "ann@alpha-dom.localhost");
        assert_eq!(login_name(&s, &b, &ub).await, "bob@beta-dom.localhost");
        let r = s
            .admin("PUT", "/admin/v1/policies/domain", Some(body))
            .await;
        assert_err(&r, 400, 9, "not been changed");
        let m = ok(in_org(&s, &a, "GET", "/management/v1/policies/domain", None).await);
        assert!(
            flag(&m["policy"]["userLoginMustBeDomain"]) && flag(&m["policy"]["isDefault"]),
            "{m}"
        );
        let m = ok(in_org(&s, &a, "GET", "/management/v1/policies/orgiam", None).await);
        assert!(flag(&m["policy"]["userLoginMustBeDomain"]), "{m}");

        // Org B opts out: only its login names change back.
        let path = format!("/admin/v1/orgs/{b}/policies/domain");
        ok(
            s.admin("POST", &path, Some(json!({"userLoginMustBeDomain": false})))
                .await,
        );
        assert_eq!(login_name(&s, &b, &ub).await, "bob");
        assert_eq!(login_name(&s, &a, &ua).await, "ann@alpha-dom.localhost");
        let r = s
            .admin("POST", &path, Some(json!({"userLoginMustBeDomain": false})))
            .await;
        assert_err(&r, 409, 6, "already");
        let g = ok(s.admin("GET", &path, None).await);
        assert!(
            !flag(&g["policy"]["isDefault"]) && !flag(&g["isDefault"]),
            "{g}"
        );
        // New users follow the org's policy.
        let ub2 = machine_in(&s, &b, "bea").await;
        assert_eq!(login_name(&s, &b, &ub2).await, "bea");
        ok(s.admin(
            "PUT",
            &path,
            Some(json!({"userLoginMustBeDomain": true, "validateOrgDomains": true})),
        )
        .await);
        assert_eq!(login_name(&s, &b, &ub2).await, "bea@beta-dom.localhost");
        // Domains added to B now need validation; A's do not.
        let r = ok(in_org(
            &s,
            &b,
            "POST",
            "/management/v1/orgs/me/domains",
            Some(json!({"domain": "beta.example"})),
        )
        .await);
        assert!(r.get("details").is_some());
        let doms = ok(in_org(
            &s,
            &b,
            "POST",
            "/management/v1/orgs/me/domains/_search",
            Some(json!({})),
        )
        .await);
        let added = doms["result"]
            .as_array()
            .expect("result")
            .iter()
            .find(|d| d["domainName"] == "beta.example")
            .cloned()
            .expect("domain");
        assert!(!flag(&added["isVerified"]), "{added}");
        // Reset: back to the default (login names with domain).
        ok(s.admin("DELETE", &path, None).await);
        let r = s.admin("DELETE", &path, None).await;
        assert_err(&r, 404, 5, "own");
        assert_eq!(login_name(&s, &b, &ub).await, "bob@beta-dom.localhost");
        // Unknown org.
        let r = s
            .admin("GET", "/admin/v1/orgs/404404/policies/domain", None)
            .await;
        assert_eq!(r.0, 404, "{}", r.1);
        let r = s
            .admin(
                "POST",
                "/admin/v1/orgs/404404/policies/domain",
                Some(json!({})),
            )
            .await;
        assert_eq!(r.0, 404, "{}", r.1);
        // Org owners cannot change it (admin API only).
        let (_, t) = machine(&s, Some(&a), "owner-a").await;
        let r = s
            .call(
                "PUT",
                "/admin/v1/policies/domain",
                Some(json!({})),
                Some(&t),
                Some(&a),
            )
            .await;
        assert_eq!(r.0, 403);
    }
);

both!(
    switching_off_domain_logins_refuses_clashing_user_names,
    |s: TestServer| async move {
        ok(s.admin(
            "PUT",
            "/admin/v1/policies/domain",
            Some(json!({"userLoginMustBeDomain": true})),
        )
        .await);
        let (a, b) = (new_org(&s, "Clash A").await, new_org(&s, "Clash B").await);
        machine_in(&s, &a, "same").await;
        machine_in(&s, &b, "same").await;
        // Two orgs hold "same": user names cannot become unique per instance.
        let r = s
            .admin(
                "PUT",
                "/admin/v1/policies/domain",
                Some(json!({"userLoginMustBeDomain": false})),
            )
            .await;
        assert_err(&r, 400, 9, "same");
        let d = ok(s.admin("GET", "/admin/v1/policies/domain", None).await);
        assert!(
            flag(&d["policy"]["userLoginMustBeDomain"]),
            "nothing changed: {d}"
        );
    }
);

both!(
    notification_policy_default_and_override,
    |s: TestServer| async move {
        let org = new_org(&s, "Notify").await;
        let d = ok(s
            .admin("GET", "/admin/v1/policies/notification", None)
            .await);
        assert!(
            flag(&d["policy"]["passwordChange"]) && flag(&d["policy"]["isDefault"]),
            "{d}"
        );
        ok(s.admin(
            "POST",
            "/admin/v1/policies/notification",
            Some(json!({"passwordChange": false})),
        )
        .await);
        let r = s
            .admin(
                "POST",
                "/admin/v1/policies/notification",
                Some(json!({"passwordChange": false})),
            )
            .await;
        assert_err(&r, 409, 6, "already");
        ok(s.admin(
            "PUT",
            "/admin/v1/policies/notification",
            Some(json!({"passwordChange": true})),
        )
        .await);
        let p = "/management/v1/policies/notification";
        ok(in_org(&s, &org, "POST", p, Some(json!({"passwordChange": false}))).await);
        let e = ok(in_org(&s, &org, "GET", p, None).await);
        assert!(
            !flag(&e["policy"]["passwordChange"]) && !flag(&e["policy"]["isDefault"]),
            "{e}"
        );
        let d = ok(in_org(
            &s,
            &org,
            "GET",
            "/management/v1/policies/default/notification",
            None,
        )
        .await);
        assert!(flag(&d["policy"]["passwordChange"]), "{d}");
        ok(in_org(&s, &org, "PUT", p, Some(json!({"passwordChange": true}))).await);
        ok(in_org(&s, &org, "DELETE", p, None).await);
        let e = ok(in_org(&s, &org, "GET", p, None).await);
        assert!(flag(&e["policy"]["isDefault"]), "{e}");
    }
);

both!(login_policy_factor_lists, |s: TestServer| async move {
    let sf = "/admin/v1/policies/login/second_factors";
    let l = ok(s
        .admin("POST", &format!("{sf}/_search"), Some(json!({})))
        .await);
    assert_eq!(
        l["result"],
        json!(["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]),
        "{l}"
    );
    assert_eq!(total(&l), 2);
    ok(s.admin(
        "POST",
        sf,
        Some(json!({"type": "SECOND_FACTOR_TYPE_OTP_EMAIL"})),
    )
    .await);
    let r = s
        .admin(
            "POST",
            sf,
            Some(json!({"type": "SECOND_FACTOR_TYPE_OTP_EMAIL"})),
        )
        .await;
    assert_err(&r, 409, 6, "already");
    let r = s
        .admin(
            "POST",
            sf,
            Some(json!({"type": "SECOND_FACTOR_TYPE_UNSPECIFIED"})),
        )
        .await;
    assert_err(&r, 400, 3, "type");
    ok(
        s.admin("DELETE", &format!("{sf}/SECOND_FACTOR_TYPE_OTP"), None)
            .await,
    );
    let r = s
        .admin("DELETE", &format!("{sf}/SECOND_FACTOR_TYPE_OTP"), None)
        .await;
    assert_err(&r, 404, 5, "not allowed");
    let p = ok(s.admin("GET", "/admin/v1/policies/login", None).await);
    assert_eq!(
        p["policy"]["secondFactors"],
        json!(["SECOND_FACTOR_TYPE_U2F", "SECOND_FACTOR_TYPE_OTP_EMAIL"]),
        "{p}"
    );
    // Updating the policy keeps the factors.
    let mut body = p["policy"].clone();
    body["forceMfa"] = json!(true);
    ok(s.admin("PUT", "/admin/v1/policies/login", Some(body)).await);
    let p = ok(s.admin("GET", "/admin/v1/policies/login", None).await);
    assert_eq!(
        p["policy"]["secondFactors"].as_array().map(Vec::len),
        Some(2),
        "{p}"
    );
    let mf = "/admin/v1/policies/login/multi_factors";
    ok(s.admin(
        "DELETE",
        &format!("{mf}/MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"),
        None,
    )
    .await);
    let l = ok(s
        .admin("POST", &format!("{mf}/_search"), Some(json!({})))
        .await);
    assert!(l.get("result").is_none() || l["result"] == json!([]), "{l}");

    // An organisation needs its own login policy first; it starts with the factors it is given.
    let org = new_org(&s, "Factors").await;
    let osf = "/management/v1/policies/login/second_factors";
    let r = in_org(
        &s,
        &org,
        "POST",
        osf,
        Some(json!({"type": "SECOND_FACTOR_TYPE_OTP"})),
    )
    .await;
    assert_err(&r, 404, 5, "own");
    let l = ok(in_org(&s, &org, "POST", &format!("{osf}/_search"), Some(json!({}))).await);
    assert_eq!(total(&l), 2, "the default's factors: {l}");
    ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/policies/login",
        Some(
            json!({"allowUsernamePassword": true, "secondFactors": ["SECOND_FACTOR_TYPE_OTP_SMS"]}),
        ),
    )
    .await);
    ok(in_org(
        &s,
        &org,
        "POST",
        osf,
        Some(json!({"type": "SECOND_FACTOR_TYPE_OTP"})),
    )
    .await);
    let l = ok(in_org(&s, &org, "POST", &format!("{osf}/_search"), Some(json!({}))).await);
    assert_eq!(
        l["result"],
        json!(["SECOND_FACTOR_TYPE_OTP_SMS", "SECOND_FACTOR_TYPE_OTP"]),
        "{l}"
    );
    ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/policies/login/multi_factors",
        Some(json!({"type": "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"})),
    )
    .await);
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/policies/login/auth_factors/_search",
        Some(json!({})),
    )
    .await);
    assert_eq!(
        l["result"],
        json!(["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"]),
        "{l}"
    );
    // The instance's lists are untouched by the org's.
    let l = ok(s
        .admin("POST", &format!("{sf}/_search"), Some(json!({})))
        .await);
    assert_eq!(total(&l), 2);
});
