//! Organisation domains through the management API: add, list, set primary, remove, the
//! errors of each, login names following the primary domain, and domain validation.

use super::*;

const BASE: &str = "/management/v1/orgs/me/domains";

async fn add(s: &TestServer, org: &str, domain: &str) -> (u16, Value) {
    in_org(s, org, "POST", BASE, Some(json!({ "domain": domain }))).await
}

async fn list(s: &TestServer, org: &str, body: Value) -> Value {
    ok(in_org(s, org, "POST", &format!("{BASE}/_search"), Some(body)).await)
}

async fn set_primary(s: &TestServer, org: &str, domain: &str) -> (u16, Value) {
    in_org(
        s,
        org,
        "POST",
        &format!("{BASE}/{domain}/_set_primary"),
        None,
    )
    .await
}

async fn remove(s: &TestServer, org: &str, domain: &str) -> (u16, Value) {
    in_org(s, org, "DELETE", &format!("{BASE}/{domain}"), None).await
}

/// The domain entry named `domain` of a list answer.
fn entry<'a>(l: &'a Value, domain: &str) -> Option<&'a Value> {
    l["result"]
        .as_array()?
        .iter()
        .find(|d| d["domainName"] == domain)
}

both!(org_domains_lifecycle, |s: TestServer| async move {
    let org = new_org(&s, "Dom Org").await;
    let generated = "dom-org.localhost";
    // The generated domain is there, verified and primary.
    let l = list(&s, &org, json!({})).await;
    assert_eq!(total(&l), 1, "{l}");
    let g = entry(&l, generated).expect("generated domain");
    assert_eq!(g["isVerified"], true);
    assert_eq!(g["isPrimary"], true);
    assert_eq!(g["orgId"], org.as_str());

    // Added (upper case is lower-cased), verified at once: validation is off by default.
    let r = ok(add(&s, &org, "Example.COM").await);
    assert!(r["details"]["changeDate"].is_string(), "{r}");
    assert_eq!(r["details"]["resourceOwner"], org.as_str(), "{r}");
    ok(add(&s, &org, "other.example.org").await);
    let l = list(&s, &org, json!({})).await;
    assert_eq!(total(&l), 3, "{l}");
    let e = entry(&l, "example.com").expect("example.com");
    assert_eq!(e["isVerified"], true, "{l}");
    assert_ne!(e["isPrimary"], true, "{l}");

    // Queries on the name with text methods.
    let l = list(
            &s,
            &org,
            json!({"queries": [{"domainNameQuery": {"name": "EXAMPLE", "method": "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE"}}]}),
        )
        .await;
    assert_eq!(total(&l), 2, "{l}");
    let l = list(
            &s,
            &org,
            json!({"queries": [{"domainNameQuery": {"name": "example.com", "method": "TEXT_QUERY_METHOD_EQUALS"}}]}),
        )
        .await;
    assert_eq!(total(&l), 1, "{l}");
    let l = list(
            &s,
            &org,
            json!({"query": {"limit": 1}, "queries": [{"domainNameQuery": {"name": "other", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}]}),
        )
        .await;
    assert_eq!(total(&l), 1, "{l}");
    assert_eq!(l["result"][0]["domainName"], "other.example.org", "{l}");

    // Set primary: the org follows.
    ok(set_primary(&s, &org, "example.com").await);
    let o = ok(in_org(&s, &org, "GET", "/management/v1/orgs/me", None).await);
    assert_eq!(o["org"]["primaryDomain"], "example.com", "{o}");
    let l = list(&s, &org, json!({})).await;
    assert_eq!(entry(&l, "example.com").expect("e")["isPrimary"], true);
    assert_ne!(entry(&l, generated).expect("g")["isPrimary"], true);
    // The organisation is found by its new domain.
    let f = ok(s
        .admin(
            "GET",
            "/management/v1/global/orgs/_by_domain?domain=example.com",
            None,
        )
        .await);
    assert_eq!(f["org"]["id"], org.as_str());

    // The primary domain cannot be removed; the generated one can, once not primary.
    assert_err(&remove(&s, &org, "example.com").await, 400, 9, "primary");
    ok(remove(&s, &org, generated).await);
    ok(remove(&s, &org, "other.example.org").await);
    let l = list(&s, &org, json!({})).await;
    assert_eq!(total(&l), 1, "{l}");
    assert!(entry(&l, "example.com").is_some());
    // Removed: unknown now.
    assert_err(
        &remove(&s, &org, generated).await,
        404,
        5,
        "could not be found",
    );
});

both!(org_domain_errors, |s: TestServer| async move {
    let a = new_org(&s, "Alpha Org").await;
    let b = new_org(&s, "Beta Org").await;
    for bad in [
        "",
        "nodot",
        "-a.com",
        "a-.com",
        "a..com",
        "a_b.com",
        "ex ample.com",
    ] {
        assert_err(&add(&s, &a, bad).await, 400, 3, "domain");
    }
    let long = format!("{}.com", "a".repeat(64));
    assert_err(&add(&s, &a, &long).await, 400, 3, "domain");
    let too_long = vec!["a".repeat(60); 5].join(".");
    assert_err(&add(&s, &a, &too_long).await, 400, 3, "domain");

    ok(add(&s, &a, "alpha.example").await);
    // Twice in one org, and verified by another org (also the other's generated domain).
    assert_err(&add(&s, &a, "ALPHA.example").await, 409, 6, "exists");
    assert_err(&add(&s, &b, "alpha.example").await, 409, 6, "exists");
    assert_err(&add(&s, &b, "alpha-org.localhost").await, 409, 6, "exists");
    // Unknown domains.
    assert_err(
        &set_primary(&s, &a, "nope.example").await,
        404,
        5,
        "could not be found",
    );
    assert_err(
        &remove(&s, &a, "nope.example").await,
        404,
        5,
        "could not be found",
    );
    // A domain of another org is unknown here.
    assert_err(
        &set_primary(&s, &b, "alpha.example").await,
        404,
        5,
        "could not be found",
    );
    assert_err(
        &remove(&s, &b, "alpha.example").await,
        404,
        5,
        "could not be found",
    );
    // The generated primary domain cannot be removed.
    assert_err(
        &remove(&s, &a, "alpha-org.localhost").await,
        400,
        9,
        "primary",
    );
    // Freed by removal, the domain can be taken by another org.
    ok(remove(&s, &a, "alpha.example").await);
    ok(add(&s, &b, "alpha.example").await);
    // A user without org.write in the org is denied.
    let (_, token) = machine(&s, Some(&a), "dom-reader").await;
    let r = s
        .call(
            "POST",
            BASE,
            Some(json!({"domain": "x.example"})),
            Some(&token),
            Some(&a),
        )
        .await;
    assert_eq!(r.0, 403, "{}", r.1);
});

async fn login_name(s: &TestServer, org: &str, id: &str) -> Value {
    ok(in_org(s, org, "GET", &format!("/management/v1/users/{id}"), None).await)["user"]
        ["preferredLoginName"]
        .clone()
}

/// With `UserLoginMustBeDomain`, login names follow SetPrimaryOrgDomain.
async fn login_names_follow_the_primary_domain(backend: Backend) {
    let Some(s) = TestServer::start_with(backend, |c| {
        c.default_instance.domain_policy.user_login_must_be_domain = true
    })
    .await
    else {
        return;
    };
    let org = new_org(&s, "Login Org").await;
    let body = json!({"userName": "bob", "profile": {"firstName": "B", "lastName": "O"}, "email": {"email": "bob@example.com"}});
    let id = ok(in_org(&s, &org, "POST", "/management/v1/users/human", Some(body)).await)["userId"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(login_name(&s, &org, &id).await, "bob@login-org.localhost");
    ok(add(&s, &org, "login.example").await);
    ok(set_primary(&s, &org, "login.example").await);
    assert_eq!(login_name(&s, &org, &id).await, "bob@login.example");
    let g = ok(s
        .admin(
            "GET",
            "/management/v1/global/users/_by_login_name?loginName=bob@login.example",
            None,
        )
        .await);
    assert_eq!(g["user"]["id"], id.as_str());
    // Back to the generated domain.
    ok(set_primary(&s, &org, "login-org.localhost").await);
    assert_eq!(login_name(&s, &org, &id).await, "bob@login-org.localhost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_names_follow_the_primary_domain_sqlite() {
    login_names_follow_the_primary_domain(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_names_follow_the_primary_domain_postgres() {
    login_names_follow_the_primary_domain(Backend::Postgres).await;
}

/// With `ValidateOrgDomains`, added domains stay unverified and cannot become primary; an
/// unverified domain does not block other organisations.
async fn validated_domains_stay_unverified(backend: Backend) {
    let Some(s) = TestServer::start_with(backend, |c| {
        c.default_instance.domain_policy.validate_org_domains = true
    })
    .await
    else {
        return;
    };
    let a = new_org(&s, "Val Org").await;
    let b = new_org(&s, "Other Val Org").await;
    ok(add(&s, &a, "val.example").await);
    let l = list(&s, &a, json!({})).await;
    let e = entry(&l, "val.example").expect("val.example");
    assert_ne!(e["isVerified"], true, "{l}");
    assert_ne!(e["isPrimary"], true, "{l}");
    assert_err(
        &set_primary(&s, &a, "val.example").await,
        400,
        9,
        "not verified",
    );
    // Still unique within the org, but another org may claim it (unverified) too.
    assert_err(&add(&s, &a, "val.example").await, 409, 6, "exists");
    ok(add(&s, &b, "val.example").await);
    // Unverified domains can be removed.
    ok(remove(&s, &a, "val.example").await);
    let o = ok(in_org(&s, &a, "GET", "/management/v1/orgs/me", None).await);
    assert_eq!(o["org"]["primaryDomain"], "val-org.localhost", "{o}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validated_domains_stay_unverified_sqlite() {
    validated_domains_stay_unverified(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validated_domains_stay_unverified_postgres() {
    validated_domains_stay_unverified(Backend::Postgres).await;
}
