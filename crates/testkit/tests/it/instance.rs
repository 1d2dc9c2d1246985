//! The instance: GetMyInstance, its domains, trusted domains and supported languages (admin and
//! auth), with errors and permissions.

use super::*;

fn domains(v: &Value) -> Vec<String> {
    v["result"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| d["domain"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

both!(get_my_instance_and_domains, |s: TestServer| async move {
    let me = ok(s.admin("GET", "/admin/v1/instances/me", None).await);
    let inst = &me["instance"];
    assert!(inst["id"].as_str().is_some_and(|i| !i.is_empty()), "{me}");
    assert_eq!(inst["state"], "STATE_RUNNING", "{me}");
    assert!(inst["name"].as_str().is_some(), "{me}");
    assert!(inst["version"].as_str().is_some(), "{me}");
    assert!(inst["details"]["sequence"].is_string(), "{me}");
    let ds = inst["domains"].as_array().expect("domains");
    assert!(
        ds.iter()
            .any(|d| d["domain"] == "localhost" && d["primary"] == true),
        "{me}"
    );

    let all = ok(s
        .admin("POST", "/admin/v1/domains/_search", Some(json!({})))
        .await);
    assert_eq!(total(&all), ds.len() as u64, "{all}");
    assert!(domains(&all).contains(&"localhost".to_string()), "{all}");

    let q = |body: Value| {
        let s = &s;
        async move {
            ok(s.admin("POST", "/admin/v1/domains/_search", Some(body))
                .await)
        }
    };
    let r = q(json!({"queries": [{"domainQuery": {"domain": "LOCAL", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]})).await;
    assert_eq!(domains(&r), ["localhost"], "{r}");
    let r = q(json!({"queries": [{"domainQuery": {"domain": "LOCAL", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}]})).await;
    assert_eq!(total(&r), 0, "{r}");
    let r = q(json!({"queries": [{"primaryQuery": {"primary": true}}]})).await;
    assert_eq!(domains(&r), ["localhost"], "{r}");
    let r = q(json!({"queries": [{"domainQuery": {"domain": "localhost", "method": "TEXT_QUERY_METHOD_EQUALS"}}, {"primaryQuery": {"primary": false}}]})).await;
    assert_eq!(total(&r), 0, "{r}");
    let gen = ds.iter().filter(|d| d["generated"] == true).count() as u64;
    let r = q(json!({"queries": [{"generatedQuery": {"generated": true}}]})).await;
    assert_eq!(total(&r), gen, "{r}");
    let r = q(json!({"sortingColumn": "DOMAIN_FIELD_NAME_DOMAIN", "query": {"limit": 1}})).await;
    assert_eq!(r["result"].as_array().map(Vec::len), Some(1), "{r}");
    assert_eq!(r["sortingColumn"], "DOMAIN_FIELD_NAME_DOMAIN", "{r}");
});

both!(
    trusted_domains_add_list_remove,
    |s: TestServer| async move {
        let empty = ok(s
            .admin("POST", "/admin/v1/trusted_domains/_search", Some(json!({})))
            .await);
        assert_eq!(total(&empty), 0, "{empty}");

        let added = ok(s
            .admin(
                "POST",
                "/admin/v1/trusted_domains",
                Some(json!({"domain": "Login.Example.com"})),
            )
            .await);
        assert!(added["details"]["sequence"].is_string(), "{added}");
        ok(s.admin(
            "POST",
            "/admin/v1/trusted_domains",
            Some(json!({"domain": "other.example.org"})),
        )
        .await);

        // Duplicates (case-insensitively) are rejected.
        assert_err(
            &s.admin(
                "POST",
                "/admin/v1/trusted_domains",
                Some(json!({"domain": "login.example.com"})),
            )
            .await,
            409,
            6,
            "login.example.com",
        );
        // Syntax is validated.
        for bad in ["", "not a domain", "-bad-.com", "a..b"] {
            let r = s
                .admin(
                    "POST",
                    "/admin/v1/trusted_domains",
                    Some(json!({ "domain": bad })),
                )
                .await;
            assert_eq!(r.0, 400, "{bad:?}: {}", r.1);
            assert_eq!(r.1["code"], 3, "{}", r.1);
        }

        let all = ok(s
            .admin(
                "POST",
                "/admin/v1/trusted_domains/_search",
                Some(json!({"query": {"asc": true}})),
            )
            .await);
        assert_eq!(total(&all), 2, "{all}");
        assert_eq!(
            domains(&all),
            ["login.example.com", "other.example.org"],
            "{all}"
        );
        assert!(
            all["result"][0]["details"]["creationDate"].is_string(),
            "{all}"
        );
        let r = ok(s
        .admin(
            "POST",
            "/admin/v1/trusted_domains/_search",
            Some(json!({"queries": [{"domainQuery": {"domain": ".org", "method": "TEXT_QUERY_METHOD_ENDS_WITH"}}]})),
        )
        .await);
        assert_eq!(domains(&r), ["other.example.org"], "{r}");

        // Instance domains are a different list.
        let inst = ok(s
            .admin("POST", "/admin/v1/domains/_search", Some(json!({})))
            .await);
        assert!(!domains(&inst).contains(&"other.example.org".to_string()));

        ok(s.admin(
            "DELETE",
            "/admin/v1/trusted_domains/login.example.com",
            None,
        )
        .await);
        assert_err(
            &s.admin(
                "DELETE",
                "/admin/v1/trusted_domains/login.example.com",
                None,
            )
            .await,
            404,
            5,
            "login.example.com",
        );
        let left = ok(s
            .admin("POST", "/admin/v1/trusted_domains/_search", Some(json!({})))
            .await);
        assert_eq!(domains(&left), ["other.example.org"], "{left}");

        // The events are in the instance's log.
        let evs = ok(s
        .admin(
            "POST",
            "/admin/v1/events/_search",
            Some(json!({"eventTypes": ["instance.trusted_domain.added", "instance.trusted_domain.removed"]})),
        )
        .await);
        assert_eq!(evs["events"].as_array().map(Vec::len), Some(3), "{evs}");
    }
);

both!(supported_languages, |s: TestServer| async move {
    let a = ok(s.admin("GET", "/admin/v1/languages", None).await);
    assert_eq!(a["languages"], json!(["en", "de"]), "{a}");
    let b = ok(s.admin("GET", "/auth/v1/languages", None).await);
    assert_eq!(b["languages"], json!(["en", "de"]), "{b}");
    // Any authenticated user may ask; anonymous callers may not.
    let (_, t) = machine(&s, None, "lang-user").await;
    let c = ok(s
        .call("GET", "/admin/v1/languages", None, Some(&t), None)
        .await);
    assert_eq!(c["languages"], json!(["en", "de"]));
    let d = s.call("GET", "/auth/v1/languages", None, None, None).await;
    assert_eq!(d.0, 401, "{}", d.1);
});

both!(instance_rpcs_need_iam_roles, |s: TestServer| async move {
    let (_, t) = machine(&s, None, "no-iam").await;
    for (method, path, body) in [
        ("GET", "/admin/v1/instances/me", None),
        ("POST", "/admin/v1/domains/_search", Some(json!({}))),
        ("POST", "/admin/v1/trusted_domains/_search", Some(json!({}))),
        (
            "POST",
            "/admin/v1/trusted_domains",
            Some(json!({"domain": "x.example.com"})),
        ),
        ("DELETE", "/admin/v1/trusted_domains/x.example.com", None),
    ] {
        assert_err(
            &s.call(method, path, body, Some(&t), None).await,
            403,
            7,
            "no matching permissions",
        );
    }
    // Nothing was added.
    let all = ok(s
        .admin("POST", "/admin/v1/trusted_domains/_search", Some(json!({})))
        .await);
    assert_eq!(total(&all), 0, "{all}");
});

both!(default_and_allowed_languages, |s: TestServer| async move {
    let d = ok(s.admin("GET", "/admin/v1/languages/default", None).await);
    assert_eq!(d["language"], "en", "{d}");
    let a = ok(s.admin("GET", "/admin/v1/languages/allowed", None).await);
    assert_eq!(a["languages"], json!(["en", "de"]), "{a}");

    let set = ok(s.admin("PUT", "/admin/v1/languages/default/EN", None).await);
    assert!(set["details"]["sequence"].is_string(), "{set}");
    let d = ok(s.admin("GET", "/admin/v1/languages/default", None).await);
    assert_eq!(d["language"], "en", "{d}");

    // An unsupported language is named in the error and changes nothing.
    assert_err(
        &s.admin("PUT", "/admin/v1/languages/default/xx", None).await,
        400,
        3,
        "xx",
    );
    let d = ok(s.admin("GET", "/admin/v1/languages/default", None).await);
    assert_eq!(d["language"], "en", "{d}");
    let evs = ok(s
        .admin(
            "POST",
            "/admin/v1/events/_search",
            Some(json!({"eventTypes": ["instance.default.language.set"]})),
        )
        .await);
    assert_eq!(evs["events"].as_array().map(Vec::len), Some(1), "{evs}");

    // Reading is open to every authenticated user; setting needs IAM rights.
    let (_, t) = machine(&s, None, "lang-reader").await;
    let d = ok(s
        .call("GET", "/admin/v1/languages/default", None, Some(&t), None)
        .await);
    assert_eq!(d["language"], "en");
    ok(
        s.call("GET", "/admin/v1/languages/allowed", None, Some(&t), None)
            .await,
    );
    assert_err(
        &s.call(
            "PUT",
            "/admin/v1/languages/default/en",
            None,
            Some(&t),
            None,
        )
        .await,
        403,
        7,
        "no matching permissions",
    );
});
