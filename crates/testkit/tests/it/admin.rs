//! The admin API: organisations of the instance, SetUpOrg, IAM members, the event log, and the
//! storage guarantees behind them (projection rebuild, durability across restarts).

use super::*;
use castellan_store::{Db, Target};
use std::time::Duration;

/// A protojson bool (false is omitted).
fn flag(v: &Value) -> bool {
    v.as_bool().unwrap_or(false)
}

async fn my_id(s: &TestServer) -> String {
    let me = ok(s.admin("GET", "/auth/v1/users/me", None).await);
    me["user"]["id"].as_str().expect("id").to_string()
}

async fn list_orgs(s: &TestServer, body: Value) -> Value {
    ok(s.admin("POST", "/admin/v1/orgs/_search", Some(body)).await)
}

fn names(v: &Value) -> Vec<String> {
    v["result"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o["name"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

both!(
    list_orgs_queries_sorting_paging,
    |s: TestServer| async move {
        let one = new_org(&s, "Beta One").await;
        new_org(&s, "Beta Two").await;
        let gamma = new_org(&s, "Gamma").await;
        ok(in_org(
            &s,
            &gamma,
            "POST",
            "/management/v1/orgs/me/_deactivate",
            Some(json!({})),
        )
        .await);

        let all = list_orgs(&s, json!({})).await;
        assert_eq!(total(&all), 4, "{all}");
        assert_eq!(
            sorted(names(&all)),
            ["Beta One", "Beta Two", "Castellan", "Gamma"]
        );
        assert!(all["details"]["processedSequence"].is_string(), "{all}");
        assert!(all["details"]["viewTimestamp"].is_string(), "{all}");

        let by_name = |name: &str, method: &str| json!({"queries": [{"nameQuery": {"name": name, "method": method}}]});
        for (name, method, want) in [
            ("Gamma", "TEXT_QUERY_METHOD_EQUALS", vec!["Gamma"]),
            ("gamma", "TEXT_QUERY_METHOD_EQUALS", vec![]),
            (
                "gamma",
                "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE",
                vec!["Gamma"],
            ),
            (
                "Beta",
                "TEXT_QUERY_METHOD_STARTS_WITH",
                vec!["Beta One", "Beta Two"],
            ),
            ("beta", "TEXT_QUERY_METHOD_STARTS_WITH", vec![]),
            (
                "beta",
                "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE",
                vec!["Beta One", "Beta Two"],
            ),
            ("ta O", "TEXT_QUERY_METHOD_CONTAINS", vec!["Beta One"]),
            (
                "A",
                "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE",
                vec!["Beta One", "Beta Two", "Castellan", "Gamma"],
            ),
            ("Two", "TEXT_QUERY_METHOD_ENDS_WITH", vec!["Beta Two"]),
            (
                "TWO",
                "TEXT_QUERY_METHOD_ENDS_WITH_IGNORE_CASE",
                vec!["Beta Two"],
            ),
            // LIKE wildcards are literal.
            ("%", "TEXT_QUERY_METHOD_CONTAINS", vec![]),
            ("_", "TEXT_QUERY_METHOD_CONTAINS", vec![]),
        ] {
            let r = list_orgs(&s, by_name(name, method)).await;
            assert_eq!(sorted(names(&r)), want, "{name} {method}: {r}");
            assert_eq!(total(&r), want.len() as u64, "{name} {method}: {r}");
        }
        // Default method is EQUALS.
        let r = list_orgs(&s, json!({"queries": [{"nameQuery": {"name": "Gamma"}}]})).await;
        assert_eq!(names(&r), ["Gamma"]);

        // By domain.
        let r = list_orgs(
        &s,
        json!({"queries": [{"domainQuery": {"domain": "gamma.localhost", "method": "TEXT_QUERY_METHOD_EQUALS"}}]}),
    )
    .await;
        assert_eq!(names(&r), ["Gamma"]);
        assert_eq!(r["result"][0]["primaryDomain"], "gamma.localhost");
        let r = list_orgs(
        &s,
        json!({"queries": [{"domainQuery": {"domain": "beta-", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}]}),
    )
    .await;
        assert_eq!(sorted(names(&r)), ["Beta One", "Beta Two"]);

        // By state.
        let r = list_orgs(
            &s,
            json!({"queries": [{"stateQuery": {"state": "ORG_STATE_INACTIVE"}}]}),
        )
        .await;
        assert_eq!(names(&r), ["Gamma"]);
        assert_eq!(r["result"][0]["state"], "ORG_STATE_INACTIVE");
        let r = list_orgs(
            &s,
            json!({"queries": [{"stateQuery": {"state": "ORG_STATE_ACTIVE"}}]}),
        )
        .await;
        assert_eq!(sorted(names(&r)), ["Beta One", "Beta Two", "Castellan"]);

        // By id; queries combine with AND.
        let r = list_orgs(&s, json!({"queries": [{"idQuery": {"id": one}}]})).await;
        assert_eq!(names(&r), ["Beta One"]);
        assert_eq!(r["result"][0]["id"], one.as_str());
        let r = list_orgs(
            &s,
            json!({"queries": [
                {"nameQuery": {"name": "Beta", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}},
                {"idQuery": {"id": gamma}},
            ]}),
        )
        .await;
        assert_eq!(total(&r), 0, "{r}");

        // Sorting by name both ways.
        let asc = list_orgs(
            &s,
            json!({"sortingColumn": "ORG_FIELD_NAME_NAME", "query": {"asc": true}}),
        )
        .await;
        assert_eq!(names(&asc), ["Beta One", "Beta Two", "Castellan", "Gamma"]);
        assert_eq!(asc["sortingColumn"], "ORG_FIELD_NAME_NAME");
        let desc = list_orgs(&s, json!({"sortingColumn": "ORG_FIELD_NAME_NAME"})).await;
        assert_eq!(names(&desc), ["Gamma", "Castellan", "Beta Two", "Beta One"]);
        // Unspecified: by creation date.
        let created = list_orgs(&s, json!({"query": {"asc": true}})).await;
        assert_eq!(
            names(&created),
            ["Castellan", "Beta One", "Beta Two", "Gamma"]
        );

        // Paging: totals count every match, not the page.
        let page = list_orgs(
        &s,
        json!({"sortingColumn": "ORG_FIELD_NAME_NAME", "query": {"asc": true, "offset": "1", "limit": 2}}),
    )
    .await;
        assert_eq!(total(&page), 4, "{page}");
        assert_eq!(names(&page), ["Beta Two", "Castellan"]);
        let page = list_orgs(
        &s,
        json!({"sortingColumn": "ORG_FIELD_NAME_NAME", "query": {"asc": true, "offset": 3, "limit": 2}}),
    )
    .await;
        assert_eq!(total(&page), 4, "{page}");
        assert_eq!(names(&page), ["Gamma"]);
        let page = list_orgs(&s, json!({"query": {"offset": 10}})).await;
        assert_eq!(total(&page), 4, "{page}");
        assert!(names(&page).is_empty());
        assert_err(
            &s.admin(
                "POST",
                "/admin/v1/orgs/_search",
                Some(json!({"query": {"limit": 1001}})),
            )
            .await,
            400,
            3,
            "at most 1000",
        );
        assert_err(
            &s.admin(
                "POST",
                "/admin/v1/orgs/_search",
                Some(json!({"queries": [{}]})),
            )
            .await,
            400,
            3,
            "query",
        );
    }
);

both!(get_org_by_id_and_is_unique, |s: TestServer| async move {
    let id = new_org(&s, "Gamma").await;
    let o = ok(s.admin("GET", &format!("/admin/v1/orgs/{id}"), None).await);
    assert_eq!(o["org"]["id"], id.as_str());
    assert_eq!(o["org"]["name"], "Gamma");
    assert_eq!(o["org"]["primaryDomain"], "gamma.localhost");
    assert_eq!(o["org"]["state"], "ORG_STATE_ACTIVE");
    assert_err(
        &s.admin("GET", "/admin/v1/orgs/404404", None).await,
        404,
        5,
        "organisation could not be found",
    );

    for (q, unique) in [
        ("name=Gamma", false),
        ("name=gAMMA", false),
        ("name=Castellan", false),
        ("name=Delta", true),
        ("domain=gamma.localhost", false),
        ("domain=GAMMA.localhost", false),
        ("domain=delta.localhost", true),
        ("name=Delta&domain=gamma.localhost", false),
        ("name=Gamma&domain=delta.localhost", false),
        ("name=Delta&domain=delta.localhost", true),
    ] {
        let r = ok(s
            .admin("GET", &format!("/admin/v1/orgs/_is_unique?{q}"), None)
            .await);
        assert_eq!(flag(&r["isUnique"]), unique, "{q}: {r}");
    }
    // Asking about nothing is an invalid request, not "unique".
    for q in ["", "?name=", "?name=%20&domain="] {
        assert_err(
            &s.admin("GET", &format!("/admin/v1/orgs/_is_unique{q}"), None)
                .await,
            400,
            3,
            "name or domain",
        );
    }
});

fn setup_body(org: &str, user: &str, email: &str, password: &str) -> Value {
    json!({
        "org": {"name": org},
        "human": {
            "userName": user,
            "profile": {"firstName": "Dora", "lastName": "Explorer"},
            "email": {"email": email, "isEmailVerified": true},
            "password": password,
        },
    })
}

/// The number of events of the instance (to prove that failed commands wrote nothing).
async fn event_count(s: &TestServer) -> usize {
    let r = ok(s
        .admin(
            "POST",
            "/admin/v1/events/_search",
            Some(json!({"limit": 1000})),
        )
        .await);
    r["events"].as_array().map_or(0, Vec::len)
}

both!(set_up_org, |s: TestServer| async move {
    let r = ok(s
        .admin(
            "POST",
            "/admin/v1/orgs/_setup",
            Some(setup_body(
                "Delta",
                "dora",
                "dora@example.com",
                "Password1!",
            )),
        )
        .await);
    let org = r["orgId"].as_str().expect("orgId").to_string();
    let user = r["userId"].as_str().expect("userId").to_string();
    assert_eq!(r["details"]["resourceOwner"], org.as_str(), "{r}");

    let o = ok(s.admin("GET", &format!("/admin/v1/orgs/{org}"), None).await);
    assert_eq!(o["org"]["name"], "Delta");
    assert_eq!(o["org"]["primaryDomain"], "delta.localhost");
    let u = ok(in_org(
        &s,
        &org,
        "GET",
        &format!("/management/v1/users/{user}"),
        None,
    )
    .await);
    assert_eq!(u["user"]["userName"], "dora");
    assert_eq!(u["user"]["details"]["resourceOwner"], org.as_str());
    assert_eq!(u["user"]["human"]["email"]["email"], "dora@example.com");
    assert!(flag(&u["user"]["human"]["email"]["isEmailVerified"]), "{u}");
    let m = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/orgs/me/members/_search",
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&m), 1, "{m}");
    assert_eq!(m["result"][0]["userId"], user.as_str());
    assert_eq!(m["result"][0]["roles"], json!(["ORG_OWNER"]));
    assert_eq!(m["result"][0]["userType"], "TYPE_HUMAN");
    assert_eq!(m["result"][0]["firstName"], "Dora");
    // The caller did not become a member.
    let me = my_id(&s).await;
    assert!(m["result"]
        .as_array()
        .expect("result")
        .iter()
        .all(|x| x["userId"] != me.as_str()));

    // Explicit roles.
    let mut body = setup_body("Echo", "eve", "eve@example.com", "Password1!");
    body["roles"] = json!(["ORG_OWNER_VIEWER", "ORG_USER_MANAGER"]);
    let r = ok(s.admin("POST", "/admin/v1/orgs/_setup", Some(body)).await);
    let echo = r["orgId"].as_str().expect("orgId").to_string();
    let m = ok(in_org(
        &s,
        &echo,
        "POST",
        "/management/v1/orgs/me/members/_search",
        Some(json!({})),
    )
    .await);
    assert_eq!(
        m["result"][0]["roles"],
        json!(["ORG_OWNER_VIEWER", "ORG_USER_MANAGER"])
    );

    // Invalid input: 400 (or 409), and neither the org nor the user exists afterwards.
    let before = event_count(&s).await;
    let bad: Vec<(Value, u16, i64, &str)> = vec![
        (
            setup_body("Epsilon", "eps", "not-an-email", "Password1!"),
            400,
            3,
            "email",
        ),
        (
            setup_body("Epsilon", "", "eps@example.com", "Password1!"),
            400,
            3,
            "userName",
        ),
        (
            setup_body("Epsilon", "eps", "eps@example.com", "short"),
            400,
            3,
            "password",
        ),
        (
            setup_body("", "eps", "eps@example.com", "Password1!"),
            400,
            3,
            "org.name",
        ),
        (
            {
                let mut b = setup_body("Epsilon", "eps", "eps@example.com", "Password1!");
                b["roles"] = json!(["ORG_NOPE"]);
                b
            },
            400,
            3,
            "ORG_NOPE",
        ),
        (
            {
                let mut b = setup_body("Epsilon", "eps", "eps@example.com", "Password1!");
                b["human"]["profile"] = json!({"firstName": "", "lastName": "X"});
                b
            },
            400,
            3,
            "first",
        ),
        (
            {
                let mut b = setup_body("Epsilon", "eps", "eps@example.com", "Password1!");
                b["human"].as_object_mut().expect("obj").remove("email");
                b
            },
            400,
            3,
            "email",
        ),
        (json!({"org": {"name": "Epsilon"}}), 400, 3, "user"),
        // Failures inside the transaction, after the org was written: rolled back.
        (
            setup_body("Epsilon", "admin-sa", "eps@example.com", "Password1!"),
            409,
            6,
            "admin-sa",
        ),
        (
            setup_body("Delta", "eps", "eps@example.com", "Password1!"),
            409,
            6,
            "already taken",
        ),
    ];
    for (body, status, code, needle) in bad {
        let r = s
            .admin("POST", "/admin/v1/orgs/_setup", Some(body.clone()))
            .await;
        assert_err(&r, status, code, needle);
        let o = list_orgs(
            &s,
            json!({"queries": [{"nameQuery": {"name": "Epsilon", "method": "TEXT_QUERY_METHOD_EQUALS"}}]}),
        )
        .await;
        assert_eq!(total(&o), 0, "partial write after {body}: {o}");
        let u = ok(s
            .admin(
                "POST",
                "/management/v1/users/_search",
                Some(json!({"queries": [{"userNameQuery": {"userName": "eps", "method": "TEXT_QUERY_METHOD_EQUALS"}}]})),
            )
            .await);
        assert_eq!(total(&u), 0, "partial write after {body}: {u}");
    }
    assert_eq!(
        event_count(&s).await,
        before,
        "failed SetUpOrg wrote events"
    );
    let r = ok(s
        .admin("GET", "/admin/v1/orgs/_is_unique?name=Epsilon", None)
        .await);
    assert!(flag(&r["isUnique"]), "{r}");
    // The same request with valid input then succeeds.
    ok(s.admin(
        "POST",
        "/admin/v1/orgs/_setup",
        Some(setup_body(
            "Epsilon",
            "eps",
            "eps@example.com",
            "Password1!",
        )),
    )
    .await);
});

both!(default_org, |s: TestServer| async move {
    let d = ok(s.admin("GET", "/admin/v1/orgs/default", None).await);
    assert_eq!(d["org"]["name"], "Castellan");
    let castellan = d["org"]["id"].as_str().expect("id").to_string();
    let other = new_org(&s, "Zulu").await;
    ok(
        s.admin("PUT", &format!("/admin/v1/orgs/default/{other}"), None)
            .await,
    );
    let d = ok(s.admin("GET", "/admin/v1/orgs/default", None).await);
    assert_eq!(d["org"]["id"], other.as_str());
    assert_eq!(d["org"]["name"], "Zulu");
    // The new default cannot be removed; the old one could be (not done: it holds the admin).
    assert_err(
        &in_org(&s, &other, "DELETE", "/management/v1/orgs/me", None).await,
        400,
        9,
        "default organisation",
    );
    assert_err(
        &s.admin("PUT", "/admin/v1/orgs/default/404404", None).await,
        404,
        5,
        "organisation could not be found",
    );
    let d = ok(s.admin("GET", "/admin/v1/orgs/default", None).await);
    assert_eq!(d["org"]["id"], other.as_str());
    ok(
        s.admin("PUT", &format!("/admin/v1/orgs/default/{castellan}"), None)
            .await,
    );
    let d = ok(s.admin("GET", "/admin/v1/orgs/default", None).await);
    assert_eq!(d["org"]["id"], castellan.as_str());
    ok(in_org(&s, &other, "DELETE", "/management/v1/orgs/me", None).await);
});

both!(iam_members, |s: TestServer| async move {
    let roles = ok(s
        .admin("POST", "/admin/v1/members/roles/_search", None)
        .await);
    let list: Vec<&str> = roles["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for r in [
        "IAM_OWNER",
        "IAM_OWNER_VIEWER",
        "IAM_ORG_MANAGER",
        "IAM_USER_MANAGER",
    ] {
        assert!(list.contains(&r), "{r} missing: {list:?}");
    }
    assert!(list.iter().all(|r| r.starts_with("IAM_")), "{list:?}");
    assert_eq!(total(&roles), list.len() as u64);

    let me = my_id(&s).await;
    let members = ok(s
        .admin("POST", "/admin/v1/members/_search", Some(json!({})))
        .await);
    assert_eq!(total(&members), 2, "{members}");
    let mine: Vec<&Value> = members["result"]
        .as_array()
        .expect("result")
        .iter()
        .filter(|m| m["userId"] == me.as_str())
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["roles"], json!(["IAM_OWNER"]));
    assert_eq!(mine[0]["userType"], "TYPE_MACHINE");

    let (viewer, vt) = machine(&s, None, "iam-viewer").await;
    // Before: no admin access.
    assert_err(
        &s.call(
            "POST",
            "/admin/v1/orgs/_search",
            Some(json!({})),
            Some(&vt),
            None,
        )
        .await,
        403,
        7,
        "no matching permissions",
    );
    // Bad roles, unknown user.
    assert_err(
        &s.admin(
            "POST",
            "/admin/v1/members",
            Some(json!({"userId": viewer, "roles": ["ORG_OWNER"]})),
        )
        .await,
        400,
        3,
        "ORG_OWNER",
    );
    assert_err(
        &s.admin(
            "POST",
            "/admin/v1/members",
            Some(json!({"userId": "404404", "roles": ["IAM_OWNER_VIEWER"]})),
        )
        .await,
        404,
        5,
        "user could not be found",
    );
    ok(s.admin(
        "POST",
        "/admin/v1/members",
        Some(json!({"userId": viewer, "roles": ["IAM_OWNER_VIEWER"]})),
    )
    .await);
    assert_err(
        &s.admin(
            "POST",
            "/admin/v1/members",
            Some(json!({"userId": viewer, "roles": ["IAM_OWNER"]})),
        )
        .await,
        409,
        6,
        "member already exists",
    );
    let m = ok(s
        .admin(
            "POST",
            "/admin/v1/members/_search",
            Some(json!({"queries": [{"userIdQuery": {"userId": viewer}}]})),
        )
        .await);
    assert_eq!(total(&m), 1, "{m}");
    assert_eq!(m["result"][0]["roles"], json!(["IAM_OWNER_VIEWER"]));

    // The viewer reads at once, but does not write.
    let vcall = |method: &'static str, path: &'static str, body: Option<Value>| {
        let (s, t) = (&s, vt.clone());
        async move { s.call(method, path, body, Some(&t), None).await }
    };
    let orgs = ok(vcall("POST", "/admin/v1/orgs/_search", Some(json!({}))).await);
    assert_eq!(total(&orgs), 1, "{orgs}");
    ok(vcall("POST", "/admin/v1/members/_search", Some(json!({}))).await);
    ok(vcall(
        "POST",
        "/admin/v1/events/_search",
        Some(json!({"limit": 1})),
    )
    .await);
    assert_err(
        &vcall(
            "POST",
            "/admin/v1/members",
            Some(json!({"userId": viewer, "roles": ["IAM_OWNER"]})),
        )
        .await,
        403,
        7,
        "no matching permissions",
    );
    assert_err(
        &vcall(
            "POST",
            "/admin/v1/orgs/_setup",
            Some(setup_body(
                "Viewer Org",
                "vo",
                "vo@example.com",
                "Password1!",
            )),
        )
        .await,
        403,
        7,
        "no matching permissions",
    );
    assert_err(
        &vcall("DELETE", "/admin/v1/members/404", None).await,
        403,
        7,
        "no matching permissions",
    );

    // Update: the new roles apply at once.
    ok(s.admin(
        "PUT",
        &format!("/admin/v1/members/{viewer}"),
        Some(json!({"roles": ["IAM_USER_MANAGER"]})),
    )
    .await);
    assert_err(
        &vcall("POST", "/admin/v1/orgs/_search", Some(json!({}))).await,
        403,
        7,
        "no matching permissions",
    );
    ok(s.admin(
        "PUT",
        &format!("/admin/v1/members/{viewer}"),
        Some(json!({"roles": ["IAM_OWNER"]})),
    )
    .await);
    assert_err(
        &s.admin(
            "PUT",
            &format!("/admin/v1/members/{viewer}"),
            Some(json!({"roles": ["IAM_OWNER"]})),
        )
        .await,
        400,
        9,
        "roles have not been changed",
    );
    let (stranger, _) = machine(&s, None, "stranger").await;
    assert_err(
        &s.admin(
            "PUT",
            &format!("/admin/v1/members/{stranger}"),
            Some(json!({"roles": ["IAM_OWNER"]})),
        )
        .await,
        404,
        5,
        "member does not exist",
    );
    ok(vcall(
        "POST",
        "/admin/v1/members",
        Some(json!({"userId": stranger, "roles": ["IAM_OWNER_VIEWER"]})),
    )
    .await);
    ok(
        s.admin("DELETE", &format!("/admin/v1/members/{stranger}"), None)
            .await,
    );

    // Remove: the token loses its rights at once.
    ok(
        s.admin("DELETE", &format!("/admin/v1/members/{viewer}"), None)
            .await,
    );
    assert_err(
        &vcall("POST", "/admin/v1/orgs/_search", Some(json!({}))).await,
        403,
        7,
        "no matching permissions",
    );
    assert_err(
        &vcall("POST", "/admin/v1/members/_search", Some(json!({}))).await,
        403,
        7,
        "no matching permissions",
    );
    assert_err(
        &s.admin("DELETE", &format!("/admin/v1/members/{viewer}"), None)
            .await,
        404,
        5,
        "member does not exist",
    );
    let members = ok(s
        .admin("POST", "/admin/v1/members/_search", Some(json!({})))
        .await);
    assert_eq!(total(&members), 2, "{members}");
    // Still authenticated, just without rights.
    ok(vcall("GET", "/auth/v1/users/me", None).await);
});

fn types(v: &Value) -> Vec<String> {
    v["events"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["type"]["type"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn events(s: &TestServer, body: Value) -> Value {
    ok(s.admin("POST", "/admin/v1/events/_search", Some(body))
        .await)
}

both!(list_events, |s: TestServer| async move {
    let me = my_id(&s).await;
    let added = ok(s
        .admin(
            "POST",
            "/management/v1/orgs",
            Some(json!({"name": "Eventful"})),
        )
        .await);
    let org = added["id"].as_str().expect("id").to_string();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let upd = ok(in_org(
        &s,
        &org,
        "PUT",
        "/management/v1/orgs/me",
        Some(json!({"name": "Eventful Two"})),
    )
    .await);
    let t_upd = upd["details"]["changeDate"]
        .as_str()
        .expect("changeDate")
        .to_string();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let deact = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/orgs/me/_deactivate",
        Some(json!({})),
    )
    .await);
    let t_deact = deact["details"]["changeDate"]
        .as_str()
        .expect("changeDate")
        .to_string();

    // By aggregate type and id, oldest first.
    let all = events(
        &s,
        json!({"aggregateTypes": ["org"], "aggregateId": org, "asc": true}),
    )
    .await;
    assert_eq!(
        types(&all),
        [
            "org.added",
            "org.domain.added",
            "org.domain.primary.set",
            "org.member.added",
            "org.changed",
            "org.domain.added",
            "org.domain.primary.set",
            "org.domain.removed",
            "org.deactivated",
        ]
    );
    let e0 = &all["events"][0];
    assert_eq!(e0["aggregate"]["id"], org.as_str());
    assert_eq!(e0["aggregate"]["type"]["type"], "org");
    assert_eq!(e0["aggregate"]["resourceOwner"], org.as_str());
    assert_eq!(e0["editor"]["userId"], me.as_str());
    assert_eq!(e0["editor"]["displayName"], "Automation");
    assert_eq!(e0["payload"]["name"], "Eventful");
    assert_eq!(e0["type"]["localized"]["key"], "org.added");
    assert!(e0["sequence"].is_string(), "{e0}");
    assert!(e0["creationDate"].is_string(), "{e0}");
    let seqs: Vec<u64> = all["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            e["sequence"]
                .as_str()
                .and_then(|x| x.parse().ok())
                .unwrap_or(0)
        })
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    // Newest first by default.
    let desc = events(&s, json!({"aggregateTypes": ["org"], "aggregateId": org})).await;
    assert_eq!(
        types(&desc).first().map(String::as_str),
        Some("org.deactivated")
    );
    assert_eq!(types(&desc).len(), 9);
    // The wrong aggregate type for the id: nothing.
    let none = events(&s, json!({"aggregateTypes": ["user"], "aggregateId": org})).await;
    assert!(types(&none).is_empty(), "{none}");

    // Event types.
    let ch = events(
        &s,
        json!({"aggregateId": org, "eventTypes": ["org.changed", "org.deactivated"], "asc": true}),
    )
    .await;
    assert_eq!(types(&ch), ["org.changed", "org.deactivated"]);
    assert_eq!(ch["events"][0]["payload"]["name"], "Eventful Two");
    let dom = events(
        &s,
        json!({"aggregateId": org, "eventTypes": ["org.domain.removed"]}),
    )
    .await;
    assert_eq!(dom["events"][0]["payload"]["domain"], "eventful.localhost");

    // Time range: the update alone, then from the update on, then up to it.
    let only = events(
        &s,
        json!({"aggregateId": org, "asc": true, "range": {"since": t_upd, "until": t_upd}}),
    )
    .await;
    assert_eq!(
        types(&only),
        [
            "org.changed",
            "org.domain.added",
            "org.domain.primary.set",
            "org.domain.removed"
        ]
    );
    let since = events(
        &s,
        json!({"aggregateId": org, "asc": true, "range": {"since": t_upd}}),
    )
    .await;
    assert_eq!(types(&since).len(), 5, "{since}");
    let until = events(
        &s,
        json!({"aggregateId": org, "asc": true, "range": {"until": t_upd}}),
    )
    .await;
    assert_eq!(types(&until).len(), 8, "{until}");
    let from = events(&s, json!({"aggregateId": org, "from": t_deact})).await;
    assert_eq!(types(&from), ["org.deactivated"]);

    // Limit and paging by sequence.
    let first = events(&s, json!({"aggregateId": org, "asc": true, "limit": 2})).await;
    assert_eq!(types(&first), ["org.added", "org.domain.added"]);
    let seq = first["events"][1]["sequence"].clone();
    let next = events(
        &s,
        json!({"aggregateId": org, "asc": true, "limit": 2, "sequence": seq}),
    )
    .await;
    assert_eq!(types(&next), ["org.domain.primary.set", "org.member.added"]);
    let latest = events(&s, json!({"aggregateId": org, "limit": 1})).await;
    assert_eq!(types(&latest), ["org.deactivated"]);
    assert_err(
        &s.admin(
            "POST",
            "/admin/v1/events/_search",
            Some(json!({"limit": 1001})),
        )
        .await,
        400,
        3,
        "at most 1000",
    );

    // Editor: another IAM_OWNER's changes.
    let (bot, bot_token) = machine(&s, None, "event-bot").await;
    ok(s.admin(
        "POST",
        "/admin/v1/members",
        Some(json!({"userId": bot, "roles": ["IAM_OWNER"]})),
    )
    .await);
    ok(s.call(
        "POST",
        "/management/v1/metadata/source",
        Some(json!({"value": b64("bot")})),
        Some(&bot_token),
        Some(&org),
    )
    .await);
    let by_bot = events(&s, json!({"editorUserId": bot})).await;
    assert_eq!(types(&by_bot), ["org.metadata.set"]);
    assert_eq!(by_bot["events"][0]["editor"]["displayName"], "event-bot");
    assert_eq!(by_bot["events"][0]["payload"]["key"], "source");
    let by_me = events(&s, json!({"editorUserId": me, "aggregateId": org})).await;
    assert_eq!(types(&by_me).len(), 9);
    // Resource owner.
    let owned = events(&s, json!({"resourceOwner": org})).await;
    assert_eq!(types(&owned).len(), 10);

    // Payloads: a human's user name is there, password hashes are not.
    let h = ok(s
        .admin(
            "POST",
            "/management/v1/users/human",
            Some(json!({
                "userName": "hugo",
                "profile": {"firstName": "Hugo", "lastName": "Hash"},
                "email": {"email": "hugo@example.com"},
                "initialPassword": "Password1!",
            })),
        )
        .await);
    let hugo = h["userId"].as_str().expect("userId").to_string();
    ok(s.admin(
        "POST",
        &format!("/management/v1/users/{hugo}/password"),
        Some(json!({"password": "Password2!", "noChangeRequired": true})),
    )
    .await);
    let hp = events(
        &s,
        json!({"aggregateTypes": ["user"], "aggregateId": hugo, "asc": true}),
    )
    .await;
    assert_eq!(
        types(&hp),
        ["user.human.added", "user.human.password.changed"]
    );
    let p = &hp["events"][0]["payload"];
    assert_eq!(p["user_name"], "hugo");
    assert_eq!(p["email"], "hugo@example.com");
    assert_eq!(p["first_name"], "Hugo");
    assert_eq!(p["password_hash"], "[redacted]");
    assert_eq!(hp["events"][1]["payload"]["hash"], "[redacted]");
    let (_, _) = machine(&s, None, "pat-bot").await;
    let pats = events(
        &s,
        json!({"eventTypes": ["user.personal.access.token.added"]}),
    )
    .await;
    assert!(!types(&pats).is_empty());
    for e in pats["events"].as_array().expect("events") {
        assert_eq!(e["payload"]["token_hash"], "[redacted]", "{e}");
    }
    let everything = ok(s
        .admin(
            "POST",
            "/admin/v1/events/_search",
            Some(json!({"limit": 1000})),
        )
        .await);
    let text = everything.to_string();
    assert!(!text.contains("$argon2"), "a password hash leaked");
    assert!(
        !text.contains("$2a$") && !text.contains("$2b$"),
        "a bcrypt hash leaked"
    );
    assert!(text.contains("instance.added"));

    // Types.
    let et = ok(s
        .admin("POST", "/admin/v1/events/types/_search", None)
        .await);
    let et: Vec<&str> = et["eventTypes"]
        .as_array()
        .expect("eventTypes")
        .iter()
        .filter_map(|t| t["type"].as_str())
        .collect();
    for t in [
        "user.human.added",
        "org.added",
        "instance.member.added",
        "org.metadata.set",
    ] {
        assert!(et.contains(&t), "{t} missing: {et:?}");
    }
    let at = ok(s
        .admin("POST", "/admin/v1/aggregates/types/_search", None)
        .await);
    let mut at: Vec<&str> = at["aggregateTypes"]
        .as_array()
        .expect("aggregateTypes")
        .iter()
        .filter_map(|t| t["type"].as_str())
        .collect();
    at.sort_unstable();
    assert_eq!(
        at,
        [
            "instance",
            "key_pair",
            "org",
            "project",
            "user",
            "usergrant"
        ]
    );

    // Org owners do not read the instance's events.
    let (owner, ot) = machine(&s, None, "org-owner").await;
    ok(s.admin(
        "POST",
        "/management/v1/orgs/me/members",
        Some(json!({"userId": owner, "roles": ["ORG_OWNER"]})),
    )
    .await);
    assert_err(
        &s.call(
            "POST",
            "/admin/v1/events/_search",
            Some(json!({})),
            Some(&ot),
            None,
        )
        .await,
        403,
        7,
        "no matching permissions",
    );
});

/// Every read-model table, every row, in a stable order.
pub(crate) async fn dump(db_url: &str) -> Vec<(String, Vec<Vec<castellan_store::Value>>)> {
    // Opening and dropping connections blocks (the PostgreSQL driver runs its own runtime).
    let target = Target::parse(db_url).expect("url");
    let db = tokio::task::spawn_blocking(move || Db::open(target, 2))
        .await
        .expect("join")
        .expect("open db");
    let mut out = Vec::new();
    for t in castellan_store::migrate::READ_MODELS {
        let table = t.to_string();
        let rows = db
            .read(move |c| {
                let probe = c.query(&format!("SELECT * FROM {table} LIMIT 1"), &[])?;
                let n = probe.first().map_or(0, |r| r.0.len());
                if n == 0 {
                    return Ok(Vec::new());
                }
                let order: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
                let rows = c.query(
                    &format!("SELECT * FROM {table} ORDER BY {}", order.join(", ")),
                    &[],
                )?;
                Ok(rows.into_iter().map(|r| r.0).collect::<Vec<_>>())
            })
            .await
            .unwrap_or_else(|e| panic!("dump {t}: {e}"));
        out.push((t.to_string(), rows));
    }
    tokio::task::spawn_blocking(move || drop(db))
        .await
        .expect("join");
    out
}

both!(
    projections_rebuild_to_the_same_state,
    |s: TestServer| async move {
        // A varied data set.
        let one = new_org(&s, "Rebuild One").await;
        let two = new_org(&s, "Rebuild Two").await;
        let three = new_org(&s, "Rebuild Three").await;
        let four = new_org(&s, "Rebuild Four").await;
        ok(in_org(
            &s,
            &two,
            "PUT",
            "/management/v1/orgs/me",
            Some(json!({"name": "Rebuild Deux"})),
        )
        .await);
        ok(in_org(
            &s,
            &three,
            "POST",
            "/management/v1/orgs/me/_deactivate",
            Some(json!({})),
        )
        .await);
        ok(in_org(&s, &one, "POST", "/management/v1/metadata/_bulk", Some(json!({"metadata": [
        {"key": "a", "value": b64("1")}, {"key": "b", "value": b64("2")}, {"key": "c", "value": b64("3")},
    ]}))).await);
        ok(in_org(&s, &one, "DELETE", "/management/v1/metadata/b", None).await);
        ok(in_org(
            &s,
            &one,
            "POST",
            "/management/v1/metadata/a",
            Some(json!({"value": b64("1b")})),
        )
        .await);

        let human = |name: &str| {
            json!({
                "userName": name,
                "profile": {"firstName": name, "lastName": "Person"},
                "email": {"email": format!("{name}@example.com"), "isEmailVerified": true},
                "phone": {"phone": "+41 79 123 45 67"},
                "initialPassword": "Password1!",
            })
        };
        let mut humans = Vec::new();
        for (org, name) in [(&one, "ann"), (&one, "ben"), (&two, "cat"), (&four, "dan")] {
            let r = ok(in_org(
                &s,
                org,
                "POST",
                "/management/v1/users/human",
                Some(human(name)),
            )
            .await);
            humans.push(r["userId"].as_str().expect("userId").to_string());
        }
        let (ann, ben, cat, dan) = (&humans[0], &humans[1], &humans[2], &humans[3]);
        ok(in_org(
            &s,
            &one,
            "PUT",
            &format!("/management/v1/users/{ann}/profile"),
            Some(json!({"firstName": "Anna", "lastName": "Person", "nickName": "A"})),
        )
        .await);
        ok(in_org(
            &s,
            &one,
            "POST",
            &format!("/management/v1/users/{ben}/_deactivate"),
            Some(json!({})),
        )
        .await);
        ok(in_org(
            &s,
            &two,
            "POST",
            &format!("/management/v1/users/{cat}/_lock"),
            Some(json!({})),
        )
        .await);
        ok(in_org(
            &s,
            &one,
            "POST",
            &format!("/management/v1/users/{ann}/metadata/pet"),
            Some(json!({"value": b64("dog")})),
        )
        .await);
        ok(in_org(
            &s,
            &one,
            "POST",
            &format!("/management/v1/users/{ann}/password"),
            Some(json!({"password": "Password3!"})),
        )
        .await);

        let (m1, m1_token) = machine(&s, Some(&one), "rb-bot-1").await;
        let (m2, _) = machine(&s, Some(&two), "rb-bot-2").await;
        let (m3, _) = machine(&s, Some(&four), "rb-bot-4").await;
        let (m5, _) = machine(&s, None, "rb-bot-5").await;
        let extra = ok(in_org(
            &s,
            &one,
            "POST",
            &format!("/management/v1/users/{m1}/pats"),
            Some(json!({"expirationDate": "2099-01-01T00:00:00Z"})),
        )
        .await);
        let extra_id = extra["tokenId"].as_str().expect("tokenId").to_string();
        ok(in_org(
            &s,
            &one,
            "DELETE",
            &format!("/management/v1/users/{m1}/pats/{extra_id}"),
            None,
        )
        .await);
        let key = in_org(
            &s,
            &two,
            "POST",
            &format!("/management/v1/users/{m2}/keys"),
            Some(json!({"type": "KEY_TYPE_JSON"})),
        )
        .await;
        assert_eq!(key.0, 200, "{}", key.1);
        ok(in_org(
            &s,
            &two,
            "PUT",
            &format!("/management/v1/users/{m2}/secret"),
            Some(json!({})),
        )
        .await);
        ok(in_org(
            &s,
            &two,
            "PUT",
            &format!("/management/v1/users/{m2}/machine"),
            Some(json!({"name": "Bot Two", "description": "changed"})),
        )
        .await);

        // Members: org and instance; some changed, some removed.
        for (org, user, roles) in [
            (&one, ann, vec!["ORG_OWNER"]),
            (&one, &m1, vec!["ORG_USER_MANAGER"]),
            (&one, cat, vec!["ORG_OWNER_VIEWER"]),
            (&two, &m2, vec!["ORG_OWNER"]),
            (&four, ann, vec!["ORG_OWNER_VIEWER"]),
            (&one, dan, vec!["ORG_OWNER_VIEWER"]),
        ] {
            ok(in_org(
                &s,
                org,
                "POST",
                "/management/v1/orgs/me/members",
                Some(json!({"userId": user, "roles": roles})),
            )
            .await);
        }
        ok(in_org(
            &s,
            &one,
            "PUT",
            &format!("/management/v1/orgs/me/members/{m1}"),
            Some(json!({"roles": ["ORG_USER_MANAGER", "ORG_OWNER_VIEWER"]})),
        )
        .await);
        ok(in_org(
            &s,
            &one,
            "DELETE",
            &format!("/management/v1/orgs/me/members/{cat}"),
            None,
        )
        .await);
        ok(s.admin(
            "POST",
            "/admin/v1/members",
            Some(json!({"userId": m5, "roles": ["IAM_OWNER_VIEWER"]})),
        )
        .await);
        ok(s.admin(
            "POST",
            "/admin/v1/members",
            Some(json!({"userId": m3, "roles": ["IAM_USER_MANAGER"]})),
        )
        .await);
        ok(s.admin(
            "PUT",
            &format!("/admin/v1/members/{m5}"),
            Some(json!({"roles": ["IAM_ORG_MANAGER"]})),
        )
        .await);
        ok(s.admin(
            "POST",
            "/admin/v1/members",
            Some(json!({"userId": ben, "roles": ["IAM_OWNER_VIEWER"]})),
        )
        .await);
        ok(s.admin("DELETE", &format!("/admin/v1/members/{ben}"), None)
            .await);
        // Removals: a user that is a member, an org with users and memberships elsewhere.
        ok(in_org(
            &s,
            &one,
            "DELETE",
            &format!("/management/v1/users/{ben}"),
            None,
        )
        .await);
        // Projects with roles: one kept, one removed, one removed with its organisation.
        let mut pids = Vec::new();
        for (org, name) in [
            (&one, "Rebuild App"),
            (&one, "Rebuild Gone"),
            (&four, "Rebuild Four App"),
        ] {
            let p = ok(in_org(
                &s,
                org,
                "POST",
                "/management/v1/projects",
                Some(json!({"name": name, "projectRoleCheck": true})),
            )
            .await);
            let pid = p["id"].as_str().expect("project id").to_string();
            ok(in_org(&s, org, "POST", &format!("/management/v1/projects/{pid}/roles/_bulk"), Some(json!({"roles": [
                {"key": "a", "displayName": "A"}, {"key": "b", "displayName": "B", "group": "g"}, {"key": "c", "displayName": "C"},
            ]}))).await);
            pids.push(pid);
        }
        let app = &pids[0];
        // Project grants (with a member), changed by the role removal below, and grants that
        // go with a removed project and a removed org.
        let mut gids = Vec::new();
        for (org, pid, to, keys) in [
            (&one, app, &two, json!(["a", "c"])),
            (&one, app, &three, json!(["c"])),
            (&one, &pids[1], &two, json!(["a"])),
            (&four, &pids[2], &one, json!(["b"])),
        ] {
            let g = ok(in_org(
                &s,
                org,
                "POST",
                &format!("/management/v1/projects/{pid}/grants"),
                Some(json!({"grantedOrgId": to, "roleKeys": keys})),
            )
            .await);
            gids.push(g["grantId"].as_str().expect("grantId").to_string());
        }
        ok(in_org(
            &s,
            &one,
            "POST",
            &format!(
                "/management/v1/projects/{app}/grants/{}/_deactivate",
                gids[1]
            ),
            Some(json!({})),
        )
        .await);
        let (gm, _) = machine(&s, Some(&two), "rb-grant-member").await;
        ok(in_org(
            &s,
            &two,
            "POST",
            &format!("/management/v1/projects/{app}/grants/{}/members", gids[0]),
            Some(json!({"userId": gm, "roles": ["PROJECT_GRANT_OWNER"]})),
        )
        .await);
        // User grants: direct and through project grants; changed by the role removal, removed
        // with a project, with the organisation of the user (dan) and with the organisation
        // that granted the project.
        let mut ugs = Vec::new();
        for (org, user, pid, pg, keys) in [
            (&one, &m1, app, "", json!(["a", "c"])),
            (&two, &gm, app, gids[0].as_str(), json!(["a", "c"])),
            (&one, cat, app, "", json!(["b"])),
            (&one, dan, app, "", json!(["b"])),
            (&one, &m1, &pids[1], "", json!(["a"])),
            (&one, &m1, &pids[2], gids[3].as_str(), json!(["b"])),
        ] {
            let g = ok(in_org(
                &s,
                org,
                "POST",
                &format!("/management/v1/users/{user}/grants"),
                Some(json!({"projectId": pid, "projectGrantId": pg, "roleKeys": keys})),
            )
            .await);
            ugs.push(g["userGrantId"].as_str().expect("userGrantId").to_string());
        }
        ok(in_org(
            &s,
            &one,
            "POST",
            &format!("/management/v1/users/{cat}/grants/{}/_deactivate", ugs[2]),
            Some(json!({})),
        )
        .await);
        ok(in_org(
            &s,
            &one,
            "PUT",
            &format!("/management/v1/projects/{app}/roles/a"),
            Some(json!({"displayName": "A2", "group": "h"})),
        )
        .await);
        ok(in_org(
            &s,
            &one,
            "DELETE",
            &format!("/management/v1/projects/{app}/roles/c"),
            None,
        )
        .await);
        ok(in_org(
            &s,
            &one,
            "PUT",
            &format!("/management/v1/projects/{app}"),
            Some(json!({"name": "Rebuild App 2", "hasProjectCheck": true})),
        )
        .await);
        ok(in_org(
            &s,
            &one,
            "POST",
            &format!("/management/v1/projects/{app}/_deactivate"),
            Some(json!({})),
        )
        .await);
        ok(in_org(
            &s,
            &one,
            "DELETE",
            &format!("/management/v1/projects/{}", pids[1]),
            None,
        )
        .await);
        ok(in_org(&s, &four, "DELETE", "/management/v1/orgs/me", None).await);
        ok(
            s.admin("PUT", &format!("/admin/v1/orgs/default/{one}"), None)
                .await,
        );
        // SetUpOrg.
        ok(s.admin(
            "POST",
            "/admin/v1/orgs/_setup",
            Some(setup_body(
                "Rebuild Five",
                "rb-owner",
                "o@example.com",
                "Password1!",
            )),
        )
        .await);
        // The security policy (its own table, origins as JSON).
        ok(s.admin(
            "PUT",
            "/admin/v1/policies/security",
            Some(json!({
                "enableIframeEmbedding": true,
                "allowedOrigins": ["https://a.example", "http://localhost:3000"],
                "enableImpersonation": true,
            })),
        )
        .await);

        let before = dump(&s.db_url).await;
        let count = |d: &Vec<(String, Vec<Vec<castellan_store::Value>>)>, t: &str| {
            d.iter().find(|(n, _)| n == t).map_or(0, |(_, r)| r.len())
        };
        assert!(count(&before, "orgs") >= 5);
        assert!(count(&before, "users") >= 8);
        assert!(count(&before, "members") >= 8);
        assert!(count(&before, "metadata") >= 3);
        assert!(count(&before, "pats") >= 4);
        assert_eq!(count(&before, "projects"), 1);
        assert_eq!(count(&before, "project_roles"), 2);
        assert_eq!(count(&before, "project_grants"), 2);
        assert_eq!(count(&before, "project_grant_roles"), 1);
        assert_eq!(count(&before, "user_grants"), 3);
        assert_eq!(count(&before, "user_grant_roles"), 3);
        assert_eq!(count(&before, "security_policies"), 1);

        let (db_url, dir, backend) = (s.db_url.clone(), s.dir.clone(), s.backend);
        let admin_pat = s.pat.clone();
        s.stop().await;
        let cfg = castellan_testkit::test_config(&db_url, &dir);
        let n = castellan_server::rebuild_projections(&cfg)
            .await
            .unwrap_or_else(|e| panic!("rebuild: {e}"));
        assert!(n > 50, "only {n} events replayed");
        let after = dump(&db_url).await;
        for ((t, a), (_, b)) in before.iter().zip(after.iter()) {
            assert_eq!(a.len(), b.len(), "{t}: row count differs after rebuild");
            for (x, y) in a.iter().zip(b.iter()) {
                assert_eq!(x, y, "{t}: row differs after rebuild");
            }
        }
        assert_eq!(before, after);

        // The rebuilt read models serve a fresh server: old tokens work.
        let s = TestServer::launch(
            backend,
            castellan_testkit::test_config(&db_url, &dir),
            dir,
            false,
        )
        .await;
        assert_eq!(s.pat, admin_pat);
        let me = ok(s
            .call("GET", "/auth/v1/users/me", None, Some(&m1_token), None)
            .await);
        assert_eq!(me["user"]["userName"], "rb-bot-1");
        let users = ok(s
            .call(
                "POST",
                "/management/v1/users/_search",
                Some(json!({})),
                Some(&m1_token),
                None,
            )
            .await);
        assert!(total(&users) >= 2, "{users}");
        let d = ok(s.admin("GET", "/admin/v1/orgs/default", None).await);
        assert_eq!(d["org"]["id"], one.as_str());
        s.stop().await;
    }
);

both!(durable_across_restart, |s: TestServer| async move {
    let org = new_org(&s, "Durable").await;
    ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/metadata/k",
        Some(json!({"value": b64("v")})),
    )
    .await);
    let (_, token) = machine(&s, Some(&org), "durable-bot").await;
    let (db_url, dir, backend) = (s.db_url.clone(), s.dir.clone(), s.backend);
    s.stop().await;

    let s = TestServer::launch(
        backend,
        castellan_testkit::test_config(&db_url, &dir),
        dir,
        false,
    )
    .await;
    let o = ok(s.admin("GET", &format!("/admin/v1/orgs/{org}"), None).await);
    assert_eq!(o["org"]["name"], "Durable");
    let m = ok(in_org(&s, &org, "GET", "/management/v1/metadata/k", None).await);
    assert_eq!(m["metadata"]["value"], b64("v"));
    let me = ok(s
        .call("GET", "/auth/v1/users/me", None, Some(&token), None)
        .await);
    assert_eq!(me["user"]["userName"], "durable-bot");
    // Writes continue where they left off.
    ok(in_org(
        &s,
        &org,
        "PUT",
        "/management/v1/orgs/me",
        Some(json!({"name": "Durable Two"})),
    )
    .await);
    let ch = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/orgs/me/changes/_search",
        Some(json!({"query": {"asc": true}})),
    )
    .await);
    let seqs: Vec<u64> = ch["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|c| {
            c["sequence"]
                .as_str()
                .and_then(|x| x.parse().ok())
                .unwrap_or(0)
        })
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    s.stop().await;
});
