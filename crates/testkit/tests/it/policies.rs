//! Policies: instance defaults (admin API), organisation overrides (management API), the
//! effective policy of an organisation and the enforcement of password complexity.

use super::*;
use castellan_proto::zitadel::admin::v1 as adm;
use castellan_proto::zitadel::admin::v1::admin_service_client::AdminServiceClient;
use castellan_proto::zitadel::management::v1 as mgmt;
use castellan_proto::zitadel::management::v1::management_service_client::ManagementServiceClient;

/// A protojson bool (false is omitted).
fn flag(v: &Value) -> bool {
    v.as_bool().unwrap_or(false)
}

const COMPLEXITY: &str = "/management/v1/policies/password/complexity";
const ADMIN_COMPLEXITY: &str = "/admin/v1/policies/password/complexity";

/// An AddHumanUser body with an initial password.
fn human(user_name: &str, password: &str) -> Value {
    let mut h = setup_human(user_name, password);
    h["initialPassword"] = h["password"].take();
    h.as_object_mut().map(|o| o.remove("password"));
    h
}

/// A SetUpOrg human with a password.
fn setup_human(user_name: &str, password: &str) -> Value {
    json!({
        "userName": user_name,
        "profile": {"firstName": "Pat", "lastName": "Policy"},
        "email": {"email": format!("{user_name}@example.com"), "isEmailVerified": true},
        "password": password,
    })
}

both!(
    password_complexity_default_override_reset,
    |s: TestServer| async move {
        let org = new_org(&s, "Strict").await;

        // The instance default is ZITADEL's.
        let d = ok(s.admin("GET", ADMIN_COMPLEXITY, None).await);
        let p = &d["policy"];
        assert_eq!(p["minLength"], "8", "{d}");
        for f in [
            "hasUppercase",
            "hasLowercase",
            "hasNumber",
            "hasSymbol",
            "isDefault",
        ] {
            assert!(flag(&p[f]), "{f}: {d}");
        }
        let e = ok(in_org(&s, &org, "GET", COMPLEXITY, None).await);
        assert!(
            flag(&e["isDefault"]) && flag(&e["policy"]["isDefault"]),
            "{e}"
        );
        assert_eq!(e["policy"]["minLength"], "8");
        let gd = ok(in_org(
            &s,
            &org,
            "GET",
            "/management/v1/policies/default/password/complexity",
            None,
        )
        .await);
        assert_eq!(gd["policy"]["minLength"], "8", "{gd}");

        // Update and reset need an own policy.
        let strict = json!({"minLength": 12, "hasUppercase": true, "hasLowercase": true, "hasNumber": true, "hasSymbol": true});
        assert_err(
            &in_org(&s, &org, "PUT", COMPLEXITY, Some(strict.clone())).await,
            404,
            5,
            "no policy of its own",
        );
        assert_err(
            &in_org(&s, &org, "DELETE", COMPLEXITY, None).await,
            404,
            5,
            "no policy of its own",
        );
        // Invalid values name the field.
        for bad in [0, 73] {
            assert_err(
                &in_org(
                    &s,
                    &org,
                    "POST",
                    COMPLEXITY,
                    Some(json!({"minLength": bad})),
                )
                .await,
                400,
                3,
                "minLength",
            );
        }
        let r = ok(in_org(&s, &org, "POST", COMPLEXITY, Some(strict.clone())).await);
        assert_eq!(r["details"]["resourceOwner"], org.as_str(), "{r}");
        assert_err(
            &in_org(&s, &org, "POST", COMPLEXITY, Some(strict.clone())).await,
            409,
            6,
            "already has",
        );
        assert_err(
            &in_org(&s, &org, "PUT", COMPLEXITY, Some(strict.clone())).await,
            400,
            9,
            "not been changed",
        );
        let e = ok(in_org(&s, &org, "GET", COMPLEXITY, None).await);
        assert!(
            !flag(&e["isDefault"]) && !flag(&e["policy"]["isDefault"]),
            "{e}"
        );
        assert_eq!(e["policy"]["minLength"], "12");
        assert_eq!(e["policy"]["details"]["resourceOwner"], org.as_str());
        // The default is unchanged.
        let gd = ok(in_org(
            &s,
            &org,
            "GET",
            "/management/v1/policies/default/password/complexity",
            None,
        )
        .await);
        assert_eq!(gd["policy"]["minLength"], "8", "{gd}");

        // The stricter policy rejects a password the default accepts, in this org only.
        assert_err(
            &in_org(
                &s,
                &org,
                "POST",
                "/management/v1/users/human",
                Some(human("strict1", "Passw0rd!")),
            )
            .await,
            400,
            3,
            "at least 12 characters",
        );
        ok(s.admin(
            "POST",
            "/management/v1/users/human",
            Some(human("default1", "Passw0rd!")),
        )
        .await);
        let u = ok(in_org(
            &s,
            &org,
            "POST",
            "/management/v1/users/human",
            Some(human("strict2", "Passw0rd!Long")),
        )
        .await);
        let uid = u["userId"].as_str().expect("userId").to_string();
        assert_err(
            &in_org(
                &s,
                &org,
                "POST",
                &format!("/management/v1/users/{uid}/password"),
                Some(json!({"password": "Sh0rt!xx"})),
            )
            .await,
            400,
            3,
            "at least 12 characters",
        );

        // A relaxed policy accepts what the default rejects.
        ok(in_org(&s, &org, "PUT", COMPLEXITY, Some(json!({"minLength": 4}))).await);
        ok(in_org(
            &s,
            &org,
            "POST",
            "/management/v1/users/human",
            Some(human("relaxed1", "abcd")),
        )
        .await);
        ok(in_org(
            &s,
            &org,
            "POST",
            &format!("/management/v1/users/{uid}/password"),
            Some(json!({"password": "wxyz"})),
        )
        .await);
        assert_err(
            &s.admin(
                "POST",
                "/management/v1/users/human",
                Some(human("default2", "abcdefgh")),
            )
            .await,
            400,
            3,
            "upper case",
        );

        // Reset: the default applies again.
        ok(in_org(&s, &org, "DELETE", COMPLEXITY, None).await);
        let e = ok(in_org(&s, &org, "GET", COMPLEXITY, None).await);
        assert!(flag(&e["isDefault"]), "{e}");
        assert_eq!(e["policy"]["minLength"], "8");
        assert_err(
            &in_org(
                &s,
                &org,
                "POST",
                "/management/v1/users/human",
                Some(human("relaxed2", "abcd")),
            )
            .await,
            400,
            3,
            "at least 8 characters",
        );

        // The instance default: no change is refused, a change applies to orgs without their own.
        let def = json!({"minLength": 8, "hasUppercase": true, "hasLowercase": true, "hasNumber": true, "hasSymbol": true});
        assert_err(
            &s.admin("PUT", ADMIN_COMPLEXITY, Some(def)).await,
            400,
            9,
            "not been changed",
        );
        assert_err(
            &s.admin("PUT", ADMIN_COMPLEXITY, Some(json!({"minLength": 0})))
                .await,
            400,
            3,
            "minLength",
        );
        let r = ok(s
            .admin("PUT", ADMIN_COMPLEXITY, Some(json!({"minLength": 3})))
            .await);
        assert!(r["details"]["sequence"].is_string(), "{r}");
        let e = ok(in_org(&s, &org, "GET", COMPLEXITY, None).await);
        assert!(flag(&e["isDefault"]), "{e}");
        assert_eq!(e["policy"]["minLength"], "3");
        assert!(!flag(&e["policy"]["hasSymbol"]));
        ok(in_org(
            &s,
            &org,
            "POST",
            "/management/v1/users/human",
            Some(human("relaxed3", "abc")),
        )
        .await);
        // SetUpOrg uses the instance default too.
        ok(s.admin(
            "POST",
            "/admin/v1/orgs/_setup",
            Some(json!({"org": {"name": "Setup Org"}, "human": setup_human("setup1", "xyz")})),
        )
        .await);
        ok(s.admin(
            "PUT",
            ADMIN_COMPLEXITY,
            Some(json!({"minLength": 9, "hasNumber": true})),
        )
        .await);
        assert_err(
            &s.admin(
                "POST",
                "/admin/v1/orgs/_setup",
                Some(json!({"org": {"name": "Setup Org 2"}, "human": setup_human("setup2", "abcdefgh")})),
            )
            .await,
            400,
            3,
            "at least 9 characters",
        );

        // Removing the org removes its policies (and a new own policy can be added elsewhere).
        ok(in_org(&s, &org, "POST", COMPLEXITY, Some(json!({"minLength": 20}))).await);
        ok(in_org(&s, &org, "DELETE", "/management/v1/orgs/me", None).await);
        let ev = ok(s
            .admin("POST", "/admin/v1/events/_search", Some(json!({"eventTypes": ["org.policy.password.complexity.added", "org.policy.password.complexity.changed", "org.policy.password.complexity.removed", "instance.policy.password.complexity.added", "instance.policy.password.complexity.changed"]})))
            .await);
        let types: Vec<String> = ev["events"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["type"]["type"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(types.len(), 6, "{ev}");
    }
);

/// (management path, default path, admin GET path, admin PUT path, add body, update body,
/// field checked, value after add, value after update, built-in default value).
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Value,
    Value,
    &'static str,
    Value,
    Value,
    Value,
);

fn cases() -> Vec<Case> {
    vec![
        (
            "/management/v1/policies/lockout",
            "/management/v1/policies/default/lockout",
            "/admin/v1/policies/lockout",
            "/admin/v1/policies/password/lockout",
            json!({"maxPasswordAttempts": 5, "maxOtpAttempts": 3}),
            json!({"maxPasswordAttempts": 7, "maxOtpAttempts": 3}),
            "maxPasswordAttempts",
            json!("5"),
            json!("7"),
            Value::Null,
        ),
        (
            "/management/v1/policies/password/age",
            "/management/v1/policies/default/password/age",
            "/admin/v1/policies/password/age",
            "/admin/v1/policies/password/age",
            json!({"maxAgeDays": 90, "expireWarnDays": 10}),
            json!({"maxAgeDays": 180, "expireWarnDays": 10}),
            "maxAgeDays",
            json!("90"),
            json!("180"),
            Value::Null,
        ),
        (
            "/management/v1/policies/privacy",
            "/management/v1/policies/default/privacy",
            "/admin/v1/policies/privacy",
            "/admin/v1/policies/privacy",
            json!({"tosLink": "https://acme.test/tos", "supportEmail": "help@acme.test", "customLink": "https://acme.test", "customLinkText": "Acme"}),
            json!({"tosLink": "https://acme.test/tos2", "supportEmail": "help@acme.test"}),
            "tosLink",
            json!("https://acme.test/tos"),
            json!("https://acme.test/tos2"),
            json!("https://zitadel.com/docs/legal/terms-of-service"),
        ),
        (
            "/management/v1/policies/login",
            "/management/v1/policies/default/login",
            "/admin/v1/policies/login",
            "/admin/v1/policies/login",
            json!({"allowUsernamePassword": true, "forceMfa": true, "passwordlessType": "PASSWORDLESS_TYPE_NOT_ALLOWED", "passwordCheckLifetime": "3600s", "defaultRedirectUri": "https://acme.test"}),
            json!({"allowUsernamePassword": true, "forceMfa": true, "passwordCheckLifetime": "7200s", "disableLoginWithEmail": true}),
            "passwordCheckLifetime",
            json!("3600s"),
            json!("7200s"),
            json!("864000s"),
        ),
    ]
}

both!(
    lockout_age_privacy_login_policies,
    |s: TestServer| async move {
        let org = new_org(&s, "Custom").await;
        for (path, dpath, aget, aput, add, upd, field, v_add, v_upd, v_def) in cases() {
            // Defaults everywhere.
            let a = ok(s.admin("GET", aget, None).await);
            assert!(flag(&a["policy"]["isDefault"]), "{path}: {a}");
            assert_eq!(a["policy"][field], v_def, "{path}: {a}");
            let e = ok(in_org(&s, &org, "GET", path, None).await);
            assert!(flag(&e["policy"]["isDefault"]), "{path}: {e}");
            assert_eq!(e["policy"][field], v_def, "{path}: {e}");
            let d = ok(in_org(&s, &org, "GET", dpath, None).await);
            assert_eq!(d["policy"][field], v_def, "{path}: {d}");

            // Custom lifecycle and its errors.
            assert_err(
                &in_org(&s, &org, "PUT", path, Some(upd.clone())).await,
                404,
                5,
                "no policy of its own",
            );
            assert_err(
                &in_org(&s, &org, "DELETE", path, None).await,
                404,
                5,
                "no policy of its own",
            );
            ok(in_org(&s, &org, "POST", path, Some(add.clone())).await);
            assert_err(
                &in_org(&s, &org, "POST", path, Some(add.clone())).await,
                409,
                6,
                "already has",
            );
            assert_err(
                &in_org(&s, &org, "PUT", path, Some(add.clone())).await,
                400,
                9,
                "not been changed",
            );
            let e = ok(in_org(&s, &org, "GET", path, None).await);
            assert!(!flag(&e["policy"]["isDefault"]), "{path}: {e}");
            assert_eq!(e["policy"][field], v_add, "{path}: {e}");
            ok(in_org(&s, &org, "PUT", path, Some(upd.clone())).await);
            let e = ok(in_org(&s, &org, "GET", path, None).await);
            assert_eq!(e["policy"][field], v_upd, "{path}: {e}");
            // The default is untouched by the override.
            let d = ok(in_org(&s, &org, "GET", dpath, None).await);
            assert_eq!(d["policy"][field], v_def, "{path}: {d}");
            ok(in_org(&s, &org, "DELETE", path, None).await);
            let e = ok(in_org(&s, &org, "GET", path, None).await);
            assert!(flag(&e["policy"]["isDefault"]), "{path}: {e}");
            assert_eq!(e["policy"][field], v_def, "{path}: {e}");

            // The instance default.
            ok(s.admin("PUT", aput, Some(add.clone())).await);
            assert_err(
                &s.admin("PUT", aput, Some(add.clone())).await,
                400,
                9,
                "not been changed",
            );
            let a = ok(s.admin("GET", aget, None).await);
            assert_eq!(a["policy"][field], v_add, "{path}: {a}");
            let e = ok(in_org(&s, &org, "GET", path, None).await);
            assert!(flag(&e["policy"]["isDefault"]), "{path}: {e}");
            assert_eq!(e["policy"][field], v_add, "{path}: {e}");
        }

        // Invalid values name the field.
        assert_err(
            &in_org(
                &s,
                &org,
                "POST",
                "/management/v1/policies/privacy",
                Some(json!({"supportEmail": "not-an-email"})),
            )
            .await,
            400,
            3,
            "supportEmail",
        );
        assert_err(
            &s.admin(
                "PUT",
                "/admin/v1/policies/login",
                Some(json!({"passwordCheckLifetime": "-5s"})),
            )
            .await,
            400,
            3,
            "passwordCheckLifetime",
        );
        // Login policy scalars round-trip.
        let l = ok(s.admin("GET", "/admin/v1/policies/login", None).await);
        assert!(flag(&l["policy"]["forceMfa"]), "{l}");
        assert_eq!(
            l["policy"]["defaultRedirectUri"], "https://acme.test",
            "{l}"
        );
        assert_eq!(l["policy"]["mfaInitSkipLifetime"], "0s", "{l}");
    }
);

both!(policy_permissions, |s: TestServer| async move {
    let org = new_org(&s, "Perms").await;
    // A user without roles may not read or write policies, nor the instance defaults.
    let (_, token) = machine(&s, Some(&org), "nobody").await;
    for (m, path, body) in [
        ("GET", COMPLEXITY, None),
        ("POST", COMPLEXITY, Some(json!({"minLength": 10}))),
        ("DELETE", "/management/v1/policies/lockout", None),
        ("GET", ADMIN_COMPLEXITY, None),
        (
            "PUT",
            "/admin/v1/policies/password/lockout",
            Some(json!({"maxPasswordAttempts": 1})),
        ),
    ] {
        let r = s.call(m, path, body, Some(&token), Some(&org)).await;
        assert_err(&r, 403, 7, "");
    }
});

both!(grpc_policies, |s: TestServer| async move {
    let org = new_org(&s, "gRPC Policies").await;
    let token: tonic::metadata::MetadataValue<_> =
        format!("Bearer {}", s.pat).parse().expect("header");
    let org_md: tonic::metadata::MetadataValue<_> = org.parse().expect("org header");
    macro_rules! req {
        ($msg:expr) => {{
            let mut r = tonic::Request::new($msg);
            r.metadata_mut().insert("authorization", token.clone());
            r.metadata_mut().insert("x-zitadel-orgid", org_md.clone());
            r
        }};
    }
    let mut a = AdminServiceClient::new(s.channel().await);
    let mut m = ManagementServiceClient::new(s.channel().await);
    let d = a
        .get_password_complexity_policy(req!(adm::GetPasswordComplexityPolicyRequest {}))
        .await
        .expect("GetPasswordComplexityPolicy")
        .into_inner()
        .policy
        .expect("policy");
    assert_eq!(d.min_length, 8);
    assert!(d.is_default && d.has_symbol);
    m.add_custom_lockout_policy(req!(mgmt::AddCustomLockoutPolicyRequest {
        max_password_attempts: 3,
        max_otp_attempts: 2,
    }))
    .await
    .expect("AddCustomLockoutPolicy");
    let l = m
        .get_lockout_policy(req!(mgmt::GetLockoutPolicyRequest {}))
        .await
        .expect("GetLockoutPolicy")
        .into_inner();
    assert!(!l.is_default);
    let p = l.policy.expect("policy");
    assert_eq!((p.max_password_attempts, p.max_otp_attempts), (3, 2));
    let e = m
        .add_custom_lockout_policy(req!(mgmt::AddCustomLockoutPolicyRequest {
            max_password_attempts: 3,
            max_otp_attempts: 2,
        }))
        .await
        .expect_err("exists");
    assert_eq!(e.code(), tonic::Code::AlreadyExists);
    let e = m
        .update_custom_password_complexity_policy(req!(
            mgmt::UpdateCustomPasswordComplexityPolicyRequest {
                min_length: 10,
                ..Default::default()
            }
        ))
        .await
        .expect_err("no custom");
    assert_eq!(e.code(), tonic::Code::NotFound);
});
