//! User grants (a user's roles on a project, directly or through a project grant), their
//! queries, cascades and authorisation, on SQLite and PostgreSQL.

use super::*;
use castellan_proto::zitadel::management::v1 as mgmt;
use castellan_proto::zitadel::management::v1::management_service_client::ManagementServiceClient;

/// AddProject in `org` with roles; returns the project id.
async fn project_with_roles(s: &TestServer, org: &str, name: &str, roles: &[&str]) -> String {
    let r = ok(in_org(
        s,
        org,
        "POST",
        "/management/v1/projects",
        Some(json!({ "name": name })),
    )
    .await);
    let id = r["id"].as_str().expect("project id").to_string();
    let roles: Vec<Value> = roles
        .iter()
        .map(|k| json!({"key": k, "displayName": format!("Role {k}")}))
        .collect();
    ok(in_org(
        s,
        org,
        "POST",
        &format!("/management/v1/projects/{id}/roles/_bulk"),
        Some(json!({ "roles": roles })),
    )
    .await);
    id
}

/// A human user in `org`; returns its id.
async fn human(s: &TestServer, org: &str, user_name: &str, first: &str, last: &str) -> String {
    let r = ok(in_org(
        s,
        org,
        "POST",
        "/management/v1/users/human",
        Some(json!({
            "userName": user_name,
            "profile": {"firstName": first, "lastName": last, "displayName": format!("{first} {last}")},
            "email": {"email": format!("{user_name}@example.com"), "isEmailVerified": true},
        })),
    )
    .await);
    r["userId"].as_str().expect("userId").to_string()
}

/// AddUserGrant in the context of `org`; returns the raw answer.
async fn add_grant(
    s: &TestServer,
    org: &str,
    user: &str,
    project: &str,
    project_grant: &str,
    keys: &[&str],
) -> (u16, Value) {
    in_org(
        s,
        org,
        "POST",
        &format!("/management/v1/users/{user}/grants"),
        Some(json!({ "projectId": project, "projectGrantId": project_grant, "roleKeys": keys })),
    )
    .await
}

async fn grant_id(s: &TestServer, org: &str, user: &str, project: &str, keys: &[&str]) -> String {
    let r = ok(add_grant(s, org, user, project, "", keys).await);
    r["userGrantId"].as_str().expect("userGrantId").to_string()
}

fn keys(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

async fn search(s: &TestServer, org: &str, queries: Value) -> Value {
    ok(in_org(
        s,
        org,
        "POST",
        "/management/v1/users/grants/_search",
        Some(json!({ "queries": queries })),
    )
    .await)
}

async fn get(s: &TestServer, org: &str, user: &str, id: &str) -> (u16, Value) {
    in_org(
        s,
        org,
        "GET",
        &format!("/management/v1/users/{user}/grants/{id}"),
        None,
    )
    .await
}

both!(user_grant_lifecycle, |s: TestServer| async move {
    let org = new_org(&s, "UG Owner").await;
    let p = project_with_roles(&s, &org, "Granted App", &["admin", "reader", "writer"]).await;
    let u = human(&s, &org, "gina", "Gina", "Grant").await;

    let r = ok(add_grant(&s, &org, &u, &p, "", &["reader", "writer", "reader"]).await);
    let g = r["userGrantId"].as_str().expect("id").to_string();
    assert_eq!(r["details"]["resourceOwner"], org.as_str(), "{r}");

    let got = ok(get(&s, &org, &u, &g).await);
    let ug = &got["userGrant"];
    assert_eq!(ug["id"], g.as_str(), "{got}");
    assert_eq!(ug["userId"], u.as_str());
    assert_eq!(ug["userName"], "gina");
    assert_eq!(ug["firstName"], "Gina");
    assert_eq!(ug["lastName"], "Grant");
    assert_eq!(ug["email"], "gina@example.com");
    assert_eq!(ug["displayName"], "Gina Grant");
    assert_eq!(ug["orgId"], org.as_str());
    assert_eq!(ug["orgName"], "UG Owner");
    assert_eq!(ug["projectId"], p.as_str());
    assert_eq!(ug["projectName"], "Granted App");
    assert_eq!(ug["state"], "USER_GRANT_STATE_ACTIVE");
    assert_eq!(keys(&ug["roleKeys"]), vec!["reader", "writer"]);
    assert!(ug.get("projectGrantId").is_none(), "{got}");

    // Update.
    let path = format!("/management/v1/users/{u}/grants/{g}");
    ok(in_org(&s, &org, "PUT", &path, Some(json!({"roleKeys": ["admin"]}))).await);
    let got = ok(get(&s, &org, &u, &g).await);
    assert_eq!(keys(&got["userGrant"]["roleKeys"]), vec!["admin"]);
    assert_err(
        &in_org(&s, &org, "PUT", &path, Some(json!({"roleKeys": ["admin"]}))).await,
        400,
        9,
        "not been changed",
    );
    assert_err(
        &in_org(&s, &org, "PUT", &path, Some(json!({"roleKeys": ["ghost"]}))).await,
        400,
        9,
        "ghost",
    );

    // Deactivate / reactivate with state checks.
    let deact = format!("{path}/_deactivate");
    let react = format!("{path}/_reactivate");
    assert_err(
        &in_org(&s, &org, "POST", &react, Some(json!({}))).await,
        400,
        9,
        "not deactivated",
    );
    ok(in_org(&s, &org, "POST", &deact, Some(json!({}))).await);
    let got = ok(get(&s, &org, &u, &g).await);
    assert_eq!(got["userGrant"]["state"], "USER_GRANT_STATE_INACTIVE");
    assert_err(
        &in_org(&s, &org, "POST", &deact, Some(json!({}))).await,
        400,
        9,
        "not active",
    );
    ok(in_org(&s, &org, "POST", &react, Some(json!({}))).await);

    // Remove.
    ok(in_org(&s, &org, "DELETE", &path, None).await);
    assert_err(&get(&s, &org, &u, &g).await, 404, 5, "user grant");
    assert_err(
        &in_org(&s, &org, "DELETE", &path, None).await,
        404,
        5,
        "user grant",
    );

    // The events are recorded on the usergrant aggregate.
    let ev = ok(s
        .admin(
            "POST",
            "/admin/v1/events/_search",
            Some(json!({"aggregateTypes": ["usergrant"], "aggregateId": g, "asc": true})),
        )
        .await);
    let types: Vec<&str> = ev["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["type"]["type"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "user.grant.added",
            "user.grant.changed",
            "user.grant.deactivated",
            "user.grant.reactivated",
            "user.grant.removed"
        ],
        "{ev}"
    );
});

both!(user_grant_errors, |s: TestServer| async move {
    let org = new_org(&s, "UG Errors").await;
    let other = new_org(&s, "UG Other").await;
    let p = project_with_roles(&s, &org, "Err App", &["a", "b"]).await;
    let po = project_with_roles(&s, &other, "Other App", &["a"]).await;
    let u = human(&s, &org, "eric", "Eric", "Error").await;
    // A user of another org may be granted roles (users of the instance).
    let foreign = human(&s, &other, "fred", "Fred", "Foreign").await;

    assert_err(
        &add_grant(&s, &org, &u, &p, "", &["a", "nope"]).await,
        400,
        9,
        "nope",
    );
    assert_err(
        &add_grant(&s, &org, "404404", &p, "", &["a"]).await,
        404,
        5,
        "user",
    );
    // A project of another org is not found.
    assert_err(
        &add_grant(&s, &org, &u, &po, "", &["a"]).await,
        404,
        5,
        "project",
    );
    assert_err(
        &add_grant(&s, &org, &u, "", "", &["a"]).await,
        400,
        3,
        "projectId",
    );
    let g = grant_id(&s, &org, &u, &p, &["a"]).await;
    assert_err(
        &add_grant(&s, &org, &u, &p, "", &["b"]).await,
        409,
        6,
        "already exists",
    );
    ok(add_grant(&s, &org, &foreign, &p, "", &[]).await);

    // Grants of another org are not found there.
    assert_err(&get(&s, &other, &u, &g).await, 404, 5, "user grant");
    assert_err(
        &in_org(
            &s,
            &other,
            "DELETE",
            &format!("/management/v1/users/{u}/grants/{g}"),
            None,
        )
        .await,
        404,
        5,
        "user grant",
    );
    // The wrong user for the grant.
    assert_err(&get(&s, &org, &foreign, &g).await, 404, 5, "user grant");
    // Bulk removal is all or nothing.
    assert_err(
        &in_org(
            &s,
            &org,
            "DELETE",
            "/management/v1/user_grants/_bulk",
            Some(json!({"grantId": [g, "404404"]})),
        )
        .await,
        404,
        5,
        "user grant",
    );
    ok(get(&s, &org, &u, &g).await);
});

both!(user_grant_queries, |s: TestServer| async move {
    let org = new_org(&s, "UG Query").await;
    let pa = project_with_roles(&s, &org, "Alpha", &["admin", "viewer"]).await;
    let pb = project_with_roles(&s, &org, "Beta", &["viewer"]).await;
    let anna = human(&s, &org, "anna", "Anna", "Ames").await;
    let bert = human(&s, &org, "bert", "Bert", "Brown").await;
    let g1 = grant_id(&s, &org, &anna, &pa, &["admin"]).await;
    let g2 = grant_id(&s, &org, &anna, &pb, &["viewer"]).await;
    let g3 = grant_id(&s, &org, &bert, &pa, &["viewer"]).await;

    let ids = |v: &Value| -> Vec<String> {
        let mut out: Vec<String> = v["result"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };

    let all = search(&s, &org, json!([])).await;
    assert_eq!(total(&all), 3, "{all}");
    let r = search(&s, &org, json!([{"projectIdQuery": {"projectId": pa}}])).await;
    assert_eq!(ids(&r), sorted(vec![g1.clone(), g3.clone()]));
    let r = search(&s, &org, json!([{"userIdQuery": {"userId": anna}}])).await;
    assert_eq!(ids(&r), sorted(vec![g1.clone(), g2.clone()]));
    let r = search(
        &s,
        &org,
        json!([{"roleKeyQuery": {"roleKey": "VIEW", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]),
    )
    .await;
    assert_eq!(ids(&r), sorted(vec![g2.clone(), g3.clone()]));
    let r = search(
        &s,
        &org,
        json!([{"userNameQuery": {"userName": "bert", "method": "TEXT_QUERY_METHOD_EQUALS"}}]),
    )
    .await;
    assert_eq!(ids(&r), vec![g3.clone()]);
    let r = search(
        &s,
        &org,
        json!([{"firstNameQuery": {"firstName": "ann", "method": "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE"}}]),
    )
    .await;
    assert_eq!(ids(&r), sorted(vec![g1.clone(), g2.clone()]));
    let r = search(
        &s,
        &org,
        json!([{"lastNameQuery": {"lastName": "own", "method": "TEXT_QUERY_METHOD_ENDS_WITH"}}]),
    )
    .await;
    assert_eq!(ids(&r), vec![g3.clone()]);
    let r = search(
        &s,
        &org,
        json!([{"emailQuery": {"email": "anna@", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}]),
    )
    .await;
    assert_eq!(total(&r), 2, "{r}");
    let r = search(
        &s,
        &org,
        json!([{"displayNameQuery": {"displayName": "Bert Brown", "method": "TEXT_QUERY_METHOD_EQUALS"}}]),
    )
    .await;
    assert_eq!(ids(&r), vec![g3.clone()]);
    let r = search(
        &s,
        &org,
        json!([{"projectNameQuery": {"projectName": "bet", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]),
    )
    .await;
    assert_eq!(ids(&r), vec![g2.clone()]);
    let r = search(
        &s,
        &org,
        json!([{"orgNameQuery": {"orgName": "UG Query", "method": "TEXT_QUERY_METHOD_EQUALS"}}]),
    )
    .await;
    assert_eq!(total(&r), 3, "{r}");
    let domain = all["result"][0]["orgDomain"]
        .as_str()
        .expect("orgDomain")
        .to_string();
    assert!(!domain.is_empty());
    let r = search(
        &s,
        &org,
        json!([{"orgDomainQuery": {"orgDomain": domain, "method": "TEXT_QUERY_METHOD_EQUALS"}}]),
    )
    .await;
    assert_eq!(total(&r), 3, "{r}");
    let r = search(
        &s,
        &org,
        json!([{"projectGrantIdQuery": {"projectGrantId": "404"}}]),
    )
    .await;
    assert_eq!(total(&r), 0, "{r}");
    // Combined: AND.
    let r = search(
        &s,
        &org,
        json!([{"projectIdQuery": {"projectId": pa}}, {"userIdQuery": {"userId": bert}}]),
    )
    .await;
    assert_eq!(ids(&r), vec![g3.clone()]);
    // Paging.
    let r = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/users/grants/_search",
        Some(json!({"query": {"limit": 2, "asc": true}})),
    )
    .await);
    assert_eq!(r["result"].as_array().map(Vec::len), Some(2));
    assert_eq!(total(&r), 3);
    // Another org sees none of them.
    let other = new_org(&s, "UG Query Other").await;
    assert_eq!(total(&search(&s, &other, json!([])).await), 0);

    // Bulk removal.
    ok(in_org(
        &s,
        &org,
        "DELETE",
        "/management/v1/user_grants/_bulk",
        Some(json!({"grantId": [g1, g2]})),
    )
    .await);
    let r = search(&s, &org, json!([])).await;
    assert_eq!(ids(&r), vec![g3]);
});

both!(user_grant_cascades, |s: TestServer| async move {
    let org = new_org(&s, "UG Cascade").await;
    let p = project_with_roles(&s, &org, "Cascading", &["a", "b", "c"]).await;
    let p2 = project_with_roles(&s, &org, "Doomed", &["x"]).await;
    let u = human(&s, &org, "cara", "Cara", "Cascade").await;
    let v = human(&s, &org, "vic", "Vic", "Victim").await;
    let g = grant_id(&s, &org, &u, &p, &["a", "b"]).await;
    let gv = grant_id(&s, &org, &v, &p, &["b", "c"]).await;
    let g2 = grant_id(&s, &org, &u, &p2, &["x"]).await;

    // Removing a role of the project takes it out of every user grant.
    ok(in_org(
        &s,
        &org,
        "DELETE",
        &format!("/management/v1/projects/{p}/roles/b"),
        None,
    )
    .await);
    let got = ok(get(&s, &org, &u, &g).await);
    assert_eq!(keys(&got["userGrant"]["roleKeys"]), vec!["a"]);
    let got = ok(get(&s, &org, &v, &gv).await);
    assert_eq!(keys(&got["userGrant"]["roleKeys"]), vec!["c"]);
    let r = search(
        &s,
        &org,
        json!([{"roleKeyQuery": {"roleKey": "b", "method": "TEXT_QUERY_METHOD_EQUALS"}}]),
    )
    .await;
    assert_eq!(total(&r), 0, "{r}");
    let ev = ok(s
        .admin(
            "POST",
            "/admin/v1/events/_search",
            Some(json!({"aggregateTypes": ["usergrant"], "aggregateId": g, "asc": true})),
        )
        .await);
    assert!(
        ev.to_string().contains("user.grant.cascade.changed"),
        "{ev}"
    );

    // Removing a project removes its user grants.
    ok(in_org(
        &s,
        &org,
        "DELETE",
        &format!("/management/v1/projects/{p2}"),
        None,
    )
    .await);
    assert_err(&get(&s, &org, &u, &g2).await, 404, 5, "user grant");

    // Removing a user removes its user grants.
    ok(in_org(
        &s,
        &org,
        "DELETE",
        &format!("/management/v1/users/{v}"),
        None,
    )
    .await);
    assert_err(&get(&s, &org, &v, &gv).await, 404, 5, "user grant");
    let r = search(&s, &org, json!([])).await;
    assert_eq!(total(&r), 1, "{r}");

    // The same user may be granted again after the removal of the old grant's project.
    let p3 = project_with_roles(&s, &org, "Doomed", &["x"]).await;
    ok(add_grant(&s, &org, &u, &p3, "", &["x"]).await);
});

both!(
    user_grant_through_project_grant,
    |s: TestServer| async move {
        let owner = new_org(&s, "UG Granting").await;
        let rcv = new_org(&s, "UG Receiving").await;
        let p = project_with_roles(&s, &owner, "Shared UG", &["r", "w", "x"]).await;
        let pg = ok(in_org(
            &s,
            &owner,
            "POST",
            &format!("/management/v1/projects/{p}/grants"),
            Some(json!({ "grantedOrgId": rcv, "roleKeys": ["r", "w"] })),
        )
        .await)["grantId"]
            .as_str()
            .expect("grantId")
            .to_string();
        let u = human(&s, &rcv, "rita", "Rita", "Receiver").await;

        // Only roles of the project grant.
        assert_err(
            &add_grant(&s, &rcv, &u, &p, &pg, &["r", "x"]).await,
            400,
            9,
            "\"x\"",
        );
        // A project grant to another org is not found.
        assert_err(
            &add_grant(&s, &owner, &u, &p, &pg, &["r"]).await,
            404,
            5,
            "project grant",
        );
        let r = ok(add_grant(&s, &rcv, &u, &p, &pg, &["r", "w"]).await);
        let g = r["userGrantId"].as_str().expect("id").to_string();
        assert_eq!(r["details"]["resourceOwner"], rcv.as_str());
        let got = ok(get(&s, &rcv, &u, &g).await);
        assert_eq!(got["userGrant"]["projectGrantId"], pg.as_str(), "{got}");
        assert_eq!(got["userGrant"]["orgId"], rcv.as_str());
        assert_eq!(got["userGrant"]["projectName"], "Shared UG");
        let r = search(
            &s,
            &rcv,
            json!([{"projectGrantIdQuery": {"projectGrantId": pg}}]),
        )
        .await;
        assert_eq!(total(&r), 1, "{r}");
        // The owner sees it with `withGranted`.
        assert_eq!(total(&search(&s, &owner, json!([])).await), 0);
        let r = search(
            &s,
            &owner,
            json!([{"withGrantedQuery": {"withGranted": true}}]),
        )
        .await;
        assert_eq!(total(&r), 1, "{r}");

        // Without the grant id, the grant to the context org is found.
        assert_err(
            &add_grant(&s, &rcv, &u, &p, "", &["r"]).await,
            409,
            6,
            "already exists",
        );

        // Taking a role out of the project grant takes it out of its user grants.
        ok(in_org(
            &s,
            &owner,
            "PUT",
            &format!("/management/v1/projects/{p}/grants/{pg}"),
            Some(json!({"roleKeys": ["r"]})),
        )
        .await);
        let got = ok(get(&s, &rcv, &u, &g).await);
        assert_eq!(keys(&got["userGrant"]["roleKeys"]), vec!["r"]);

        // Removing the project grant removes its user grants.
        ok(in_org(
            &s,
            &owner,
            "DELETE",
            &format!("/management/v1/projects/{p}/grants/{pg}"),
            None,
        )
        .await);
        assert_err(&get(&s, &rcv, &u, &g).await, 404, 5, "user grant");
    }
);

both!(user_grant_authz, |s: TestServer| async move {
    let org = new_org(&s, "UG Authz").await;
    let p = project_with_roles(&s, &org, "Guarded UG", &["r"]).await;
    let target = human(&s, &org, "tina", "Tina", "Target").await;
    let (viewer, vt) = machine(&s, Some(&org), "ug-viewer").await;
    ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/orgs/me/members",
        Some(json!({"userId": viewer, "roles": ["ORG_OWNER_VIEWER"]})),
    )
    .await);
    let body = json!({"projectId": p, "roleKeys": ["r"]});
    let path = format!("/management/v1/users/{target}/grants");
    assert_err(
        &s.call("POST", &path, Some(body.clone()), Some(&vt), None)
            .await,
        403,
        7,
        "",
    );
    // The viewer reads.
    let g = grant_id(&s, &org, &target, &p, &["r"]).await;
    let r = ok(s
        .call(
            "POST",
            "/management/v1/users/grants/_search",
            Some(json!({})),
            Some(&vt),
            None,
        )
        .await);
    assert_eq!(total(&r), 1, "{r}");
    assert_err(
        &s.call(
            "DELETE",
            &format!("/management/v1/users/{target}/grants/{g}"),
            None,
            Some(&vt),
            None,
        )
        .await,
        403,
        7,
        "",
    );

    // Upstream declares no check field on AddUserGrant: a PROJECT_OWNER of the project
    // without an org role is denied.
    let (po, pt) = machine(&s, Some(&org), "ug-project-owner").await;
    ok(in_org(
        &s,
        &org,
        "POST",
        &format!("/management/v1/projects/{p}/members"),
        Some(json!({"userId": po, "roles": ["PROJECT_OWNER"]})),
    )
    .await);
    let other = human(&s, &org, "otto", "Otto", "Other").await;
    assert_err(
        &s.call(
            "POST",
            &format!("/management/v1/users/{other}/grants"),
            Some(body),
            Some(&pt),
            None,
        )
        .await,
        403,
        7,
        "",
    );
});

both!(grpc_user_grants, |s: TestServer| async move {
    let token: tonic::metadata::MetadataValue<_> =
        format!("Bearer {}", s.pat).parse().expect("header");
    let mut m = ManagementServiceClient::new(s.channel().await);
    macro_rules! req {
        ($msg:expr) => {{
            let mut r = tonic::Request::new($msg);
            r.metadata_mut().insert("authorization", token.clone());
            r
        }};
    }
    let p = m
        .add_project(req!(mgmt::AddProjectRequest {
            name: "gRPC UG".into(),
            ..Default::default()
        }))
        .await
        .expect("AddProject")
        .into_inner()
        .id;
    m.add_project_role(req!(mgmt::AddProjectRoleRequest {
        project_id: p.clone(),
        role_key: "k".into(),
        display_name: "K".into(),
        ..Default::default()
    }))
    .await
    .expect("AddProjectRole");
    let (u, _) = machine(&s, None, "grpc-ug-user").await;
    let add = m
        .add_user_grant(req!(mgmt::AddUserGrantRequest {
            user_id: u.clone(),
            project_id: p.clone(),
            role_keys: vec!["k".into()],
            ..Default::default()
        }))
        .await
        .expect("AddUserGrant")
        .into_inner();
    let got = m
        .get_user_grant_by_id(req!(mgmt::GetUserGrantByIdRequest {
            user_id: u.clone(),
            grant_id: add.user_grant_id.clone(),
        }))
        .await
        .expect("GetUserGrantByID")
        .into_inner()
        .user_grant
        .expect("grant");
    assert_eq!(got.role_keys, vec!["k".to_string()]);
    assert_eq!(got.user_name, "grpc-ug-user");
    let err = m
        .add_user_grant(req!(mgmt::AddUserGrantRequest {
            user_id: u.clone(),
            project_id: p.clone(),
            ..Default::default()
        }))
        .await
        .expect_err("duplicate");
    assert_eq!(err.code(), tonic::Code::AlreadyExists);
    m.bulk_remove_user_grant(req!(mgmt::BulkRemoveUserGrantRequest {
        grant_id: vec![add.user_grant_id],
    }))
    .await
    .expect("BulkRemoveUserGrant");
    let list = m
        .list_user_grants(req!(mgmt::ListUserGrantRequest::default()))
        .await
        .expect("ListUserGrants")
        .into_inner();
    assert!(list.result.is_empty());
});

both!(list_my_user_grants, |s: TestServer| async move {
    let owner = new_org(&s, "UG Mine Owner").await;
    let rcv = new_org(&s, "UG Mine Receiver").await;
    let p = project_with_roles(&s, &owner, "Mine", &["r", "w"]).await;
    let pg = ok(in_org(
        &s,
        &owner,
        "POST",
        &format!("/management/v1/projects/{p}/grants"),
        Some(json!({ "grantedOrgId": rcv, "roleKeys": ["w"] })),
    )
    .await)["grantId"]
        .as_str()
        .expect("grantId")
        .to_string();
    let (me, token) = machine(&s, Some(&rcv), "ug-me").await;
    let direct = grant_id(&s, &owner, &me, &p, &["r"]).await;
    ok(add_grant(&s, &rcv, &me, &p, &pg, &["w"]).await);
    let (_, other_token) = machine(&s, Some(&rcv), "ug-not-me").await;

    let r = ok(s
        .call(
            "POST",
            "/auth/v1/usergrants/me/_search",
            Some(json!({"query": {"asc": true}})),
            Some(&token),
            None,
        )
        .await);
    assert_eq!(total(&r), 2, "{r}");
    let first = &r["result"][0];
    assert_eq!(first["grantId"], direct.as_str(), "{r}");
    assert_eq!(first["orgId"], owner.as_str());
    assert_eq!(first["orgName"], "UG Mine Owner");
    assert_eq!(first["projectName"], "Mine");
    assert_eq!(first["userId"], me.as_str());
    assert_eq!(keys(&first["roleKeys"]), vec!["r"]);
    assert_eq!(keys(&first["roles"]), vec!["r"]);
    let second = &r["result"][1];
    assert_eq!(second["projectGrantId"], pg.as_str());
    assert_eq!(second["orgId"], rcv.as_str());
    assert_eq!(keys(&second["roleKeys"]), vec!["w"]);

    let r = ok(s
        .call(
            "POST",
            "/auth/v1/usergrants/me/_search",
            Some(json!({})),
            Some(&other_token),
            None,
        )
        .await);
    assert_eq!(total(&r), 0, "{r}");
});
