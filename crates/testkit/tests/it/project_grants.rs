//! Project grants (sharing a project with another organisation), the receiving organisation's
//! view of them and project grant members, on SQLite and PostgreSQL.

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

/// AddProjectGrant in the context of `org`; returns the grant id.
async fn grant(s: &TestServer, org: &str, project: &str, to: &str, keys: &[&str]) -> String {
    let r = ok(in_org(
        s,
        org,
        "POST",
        &format!("/management/v1/projects/{project}/grants"),
        Some(json!({ "grantedOrgId": to, "roleKeys": keys })),
    )
    .await);
    r["grantId"].as_str().expect("grantId").to_string()
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

both!(project_grant_lifecycle, |s: TestServer| async move {
    let owner = new_org(&s, "Grant Owner").await;
    let rcv = new_org(&s, "Grant Receiver").await;
    let p = project_with_roles(&s, &owner, "Shared", &["admin", "reader", "writer"]).await;

    // Add: the details name the granting org.
    let r = ok(in_org(
        &s,
        &owner,
        "POST",
        &format!("/management/v1/projects/{p}/grants"),
        Some(json!({ "grantedOrgId": rcv, "roleKeys": ["reader", "writer"] })),
    )
    .await);
    let g = r["grantId"].as_str().expect("grantId").to_string();
    assert_eq!(r["details"]["resourceOwner"], owner.as_str(), "{r}");

    let path = format!("/management/v1/projects/{p}/grants/{g}");
    let got = ok(in_org(&s, &owner, "GET", &path, None).await);
    let pg = &got["projectGrant"];
    assert_eq!(pg["grantId"], g.as_str(), "{got}");
    assert_eq!(pg["grantedOrgId"], rcv.as_str());
    assert_eq!(pg["grantedOrgName"], "Grant Receiver");
    assert_eq!(pg["projectId"], p.as_str());
    assert_eq!(pg["projectName"], "Shared");
    assert_eq!(pg["projectOwnerId"], owner.as_str());
    assert_eq!(pg["projectOwnerName"], "Grant Owner");
    assert_eq!(pg["state"], "PROJECT_GRANT_STATE_ACTIVE");
    assert_eq!(keys(&pg["grantedRoleKeys"]), vec!["reader", "writer"]);

    // Errors: one grant per org, unknown role keys named, own org, unknown org.
    assert_err(
        &in_org(
            &s,
            &owner,
            "POST",
            &format!("/management/v1/projects/{p}/grants"),
            Some(json!({ "grantedOrgId": rcv, "roleKeys": [] })),
        )
        .await,
        409,
        6,
        "already exists",
    );
    let third = new_org(&s, "Grant Third").await;
    assert_err(
        &in_org(
            &s,
            &owner,
            "POST",
            &format!("/management/v1/projects/{p}/grants"),
            Some(json!({ "grantedOrgId": third, "roleKeys": ["reader", "ghost"] })),
        )
        .await,
        400,
        9,
        "ghost",
    );
    assert_err(
        &in_org(
            &s,
            &owner,
            "POST",
            &format!("/management/v1/projects/{p}/grants"),
            Some(json!({ "grantedOrgId": owner, "roleKeys": [] })),
        )
        .await,
        400,
        3,
        "grantedOrgId",
    );
    assert_err(
        &in_org(
            &s,
            &owner,
            "POST",
            &format!("/management/v1/projects/{p}/grants"),
            Some(json!({ "grantedOrgId": "404404", "roleKeys": [] })),
        )
        .await,
        404,
        5,
        "organisation",
    );
    // A project of another org is not found.
    let foreign = project_with_roles(&s, &third, "Foreign", &["x"]).await;
    assert_err(
        &in_org(
            &s,
            &owner,
            "POST",
            &format!("/management/v1/projects/{foreign}/grants"),
            Some(json!({ "grantedOrgId": rcv, "roleKeys": [] })),
        )
        .await,
        404,
        5,
        "project",
    );

    // Update: new keys stored; unchanged is a failed precondition; unknown keys named.
    ok(in_org(
        &s,
        &owner,
        "PUT",
        &path,
        Some(json!({ "roleKeys": ["admin", "reader"] })),
    )
    .await);
    let got = ok(in_org(&s, &owner, "GET", &path, None).await);
    assert_eq!(
        keys(&got["projectGrant"]["grantedRoleKeys"]),
        vec!["admin", "reader"]
    );
    assert_err(
        &in_org(
            &s,
            &owner,
            "PUT",
            &path,
            Some(json!({ "roleKeys": ["admin", "reader"] })),
        )
        .await,
        400,
        9,
        "not been changed",
    );
    assert_err(
        &in_org(
            &s,
            &owner,
            "PUT",
            &path,
            Some(json!({ "roleKeys": ["nope"] })),
        )
        .await,
        400,
        9,
        "nope",
    );

    // Deactivate / reactivate with state checks.
    ok(in_org(
        &s,
        &owner,
        "POST",
        &format!("{path}/_deactivate"),
        Some(json!({})),
    )
    .await);
    let got = ok(in_org(&s, &owner, "GET", &path, None).await);
    assert_eq!(got["projectGrant"]["state"], "PROJECT_GRANT_STATE_INACTIVE");
    assert_err(
        &in_org(
            &s,
            &owner,
            "POST",
            &format!("{path}/_deactivate"),
            Some(json!({})),
        )
        .await,
        400,
        9,
        "not active",
    );
    ok(in_org(
        &s,
        &owner,
        "POST",
        &format!("{path}/_reactivate"),
        Some(json!({})),
    )
    .await);
    assert_err(
        &in_org(
            &s,
            &owner,
            "POST",
            &format!("{path}/_reactivate"),
            Some(json!({})),
        )
        .await,
        400,
        9,
        "not deactivated",
    );

    // List with queries.
    let g3 = grant(&s, &owner, &p, &third, &["writer"]).await;
    let l = ok(in_org(
        &s,
        &owner,
        "POST",
        &format!("/management/v1/projects/{p}/grants/_search"),
        Some(json!({ "query": {"asc": true} })),
    )
    .await);
    assert_eq!(total(&l), 2, "{l}");
    assert_eq!(l["result"][0]["grantId"], g.as_str());
    assert_eq!(l["result"][1]["grantId"], g3.as_str());
    let l = ok(in_org(
        &s,
        &owner,
        "POST",
        &format!("/management/v1/projects/{p}/grants/_search"),
        Some(json!({ "queries": [{"roleKeyQuery": {"roleKey": "writer", "method": "TEXT_QUERY_METHOD_EQUALS"}}] })),
    )
    .await);
    assert_eq!(total(&l), 1, "{l}");
    assert_eq!(l["result"][0]["grantId"], g3.as_str());
    let l = ok(in_org(
        &s,
        &owner,
        "POST",
        &format!("/management/v1/projects/{p}/grants/_search"),
        Some(json!({ "queries": [{"projectNameQuery": {"name": "shar", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}] })),
    )
    .await);
    assert_eq!(total(&l), 2, "{l}");

    // The grant is not visible from other orgs as a project grant.
    assert_err(&in_org(&s, &rcv, "GET", &path, None).await, 404, 5, "grant");

    // Remove; then it is gone.
    ok(in_org(&s, &owner, "DELETE", &path, None).await);
    assert_err(
        &in_org(&s, &owner, "GET", &path, None).await,
        404,
        5,
        "grant",
    );
    assert_err(
        &in_org(&s, &owner, "DELETE", &path, None).await,
        404,
        5,
        "grant",
    );

    // The events are on the project aggregate.
    let ev = ok(s
        .admin(
            "POST",
            "/admin/v1/events/_search",
            Some(json!({"aggregateTypes": ["project"], "asc": true})),
        )
        .await);
    let text = ev.to_string();
    for t in [
        "project.grant.added",
        "project.grant.changed",
        "project.grant.deactivated",
        "project.grant.reactivated",
        "project.grant.removed",
    ] {
        assert!(text.contains(t), "{t} missing");
    }
});

both!(granted_org_view, |s: TestServer| async move {
    let owner = new_org(&s, "View Owner").await;
    let rcv = new_org(&s, "View Receiver").await;
    let p = project_with_roles(&s, &owner, "Seen", &["a", "b", "c"]).await;
    let hidden = project_with_roles(&s, &owner, "Hidden", &["z"]).await;
    let g = grant(&s, &owner, &p, &rcv, &["a", "c"]).await;

    let l = ok(in_org(
        &s,
        &rcv,
        "POST",
        "/management/v1/granted_projects/_search",
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&l), 1, "{l}");
    assert_eq!(l["result"][0]["projectId"], p.as_str());
    assert_eq!(l["result"][0]["projectName"], "Seen");
    assert_eq!(l["result"][0]["projectOwnerName"], "View Owner");
    let l = ok(in_org(
        &s,
        &rcv,
        "POST",
        "/management/v1/granted_projects/_search",
        Some(json!({"queries": [{"nameQuery": {"name": "nothing", "method": "TEXT_QUERY_METHOD_EQUALS"}}]})),
    )
    .await);
    assert_eq!(total(&l), 0, "{l}");
    // The granting org has no granted projects.
    let l = ok(in_org(
        &s,
        &owner,
        "POST",
        "/management/v1/granted_projects/_search",
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&l), 0, "{l}");

    let got = ok(in_org(
        &s,
        &rcv,
        "GET",
        &format!("/management/v1/granted_projects/{p}/grants/{g}"),
        None,
    )
    .await);
    assert_eq!(got["grantedProject"]["grantId"], g.as_str(), "{got}");
    assert_eq!(
        keys(&got["grantedProject"]["grantedRoleKeys"]),
        vec!["a", "c"]
    );

    // Only the granted roles.
    let roles = ok(in_org(
        &s,
        &rcv,
        "GET",
        &format!("/management/v1/granted_projects/{p}/grants/{g}/roles/_search"),
        None,
    )
    .await);
    assert_eq!(total(&roles), 2, "{roles}");
    let mut got_keys: Vec<String> = roles["result"]
        .as_array()
        .expect("result")
        .iter()
        .filter_map(|r| r["key"].as_str().map(str::to_string))
        .collect();
    got_keys.sort();
    assert_eq!(got_keys, vec!["a", "c"]);

    // Other projects of the granting org stay invisible.
    for path in [
        format!("/management/v1/projects/{p}"),
        format!("/management/v1/projects/{hidden}"),
        format!("/management/v1/granted_projects/{hidden}/grants/{g}"),
    ] {
        assert_err(&in_org(&s, &rcv, "GET", &path, None).await, 404, 5, "");
    }
    assert_err(
        &in_org(
            &s,
            &rcv,
            "POST",
            &format!("/management/v1/projects/{hidden}/roles/_search"),
            Some(json!({})),
        )
        .await,
        404,
        5,
        "project",
    );
    // The granting org does not see the grant as granted to it.
    assert_err(
        &in_org(
            &s,
            &owner,
            "GET",
            &format!("/management/v1/granted_projects/{p}/grants/{g}"),
            None,
        )
        .await,
        404,
        5,
        "grant",
    );
});

both!(
    role_removal_cascades_into_grants,
    |s: TestServer| async move {
        let owner = new_org(&s, "Cascade Owner").await;
        let r1 = new_org(&s, "Cascade R1").await;
        let r2 = new_org(&s, "Cascade R2").await;
        let p = project_with_roles(&s, &owner, "Cascading", &["keep", "drop"]).await;
        let g1 = grant(&s, &owner, &p, &r1, &["keep", "drop"]).await;
        let g2 = grant(&s, &owner, &p, &r2, &["drop"]).await;

        ok(in_org(
            &s,
            &owner,
            "DELETE",
            &format!("/management/v1/projects/{p}/roles/drop"),
            None,
        )
        .await);
        for (g, want) in [(&g1, vec!["keep"]), (&g2, vec![])] {
            let got = ok(in_org(
                &s,
                &owner,
                "GET",
                &format!("/management/v1/projects/{p}/grants/{g}"),
                None,
            )
            .await);
            assert_eq!(keys(&got["projectGrant"]["grantedRoleKeys"]), want, "{got}");
        }
        let roles = ok(in_org(
            &s,
            &r2,
            "GET",
            &format!("/management/v1/granted_projects/{p}/grants/{g2}/roles/_search"),
            None,
        )
        .await);
        assert_eq!(total(&roles), 0, "{roles}");
        let l = ok(in_org(
            &s,
            &owner,
            "POST",
            &format!("/management/v1/projects/{p}/grants/_search"),
            Some(json!({ "queries": [{"roleKeyQuery": {"roleKey": "drop"}}] })),
        )
        .await);
        assert_eq!(total(&l), 0, "{l}");
        let ev = ok(s
            .admin(
                "POST",
                "/admin/v1/events/_search",
                Some(json!({"aggregateTypes": ["project"], "aggregateId": p, "asc": true})),
            )
            .await);
        assert_eq!(
            ev.to_string()
                .matches("\"type\":\"project.grant.cascade.changed\"")
                .count(),
            2,
            "{ev}"
        );
    }
);

both!(
    grants_removed_with_project_and_orgs,
    |s: TestServer| async move {
        let owner = new_org(&s, "Gone Owner").await;
        let rcv = new_org(&s, "Gone Receiver").await;
        let rcv2 = new_org(&s, "Gone Receiver 2").await;
        let (u, _) = machine(&s, Some(&rcv), "gone-member").await;

        // Removing the project removes its grants (and their members).
        let p = project_with_roles(&s, &owner, "Doomed", &["r"]).await;
        let g = grant(&s, &owner, &p, &rcv, &["r"]).await;
        ok(in_org(
            &s,
            &owner,
            "POST",
            &format!("/management/v1/projects/{p}/grants/{g}/members"),
            Some(json!({"userId": u, "roles": ["PROJECT_GRANT_OWNER"]})),
        )
        .await);
        ok(in_org(
            &s,
            &owner,
            "DELETE",
            &format!("/management/v1/projects/{p}"),
            None,
        )
        .await);
        let l = ok(in_org(
            &s,
            &rcv,
            "POST",
            "/management/v1/granted_projects/_search",
            Some(json!({})),
        )
        .await);
        assert_eq!(total(&l), 0, "{l}");
        let m = ok(in_org(
            &s,
            &rcv,
            "POST",
            &format!("/management/v1/users/{u}/memberships/_search"),
            Some(json!({})),
        )
        .await);
        assert_eq!(total(&m), 0, "{m}");

        // Removing the granted org removes the grant on the owner's side.
        let p2 = project_with_roles(&s, &owner, "Survivor", &["r"]).await;
        let g2 = grant(&s, &owner, &p2, &rcv, &["r"]).await;
        grant(&s, &owner, &p2, &rcv2, &["r"]).await;
        ok(in_org(&s, &rcv, "DELETE", "/management/v1/orgs/me", None).await);
        assert_err(
            &in_org(
                &s,
                &owner,
                "GET",
                &format!("/management/v1/projects/{p2}/grants/{g2}"),
                None,
            )
            .await,
            404,
            5,
            "grant",
        );
        let l = ok(in_org(
            &s,
            &owner,
            "POST",
            &format!("/management/v1/projects/{p2}/grants/_search"),
            Some(json!({})),
        )
        .await);
        assert_eq!(total(&l), 1, "{l}");

        // Removing the granting org removes the grants the receivers see.
        ok(in_org(&s, &owner, "DELETE", "/management/v1/orgs/me", None).await);
        let l = ok(in_org(
            &s,
            &rcv2,
            "POST",
            "/management/v1/granted_projects/_search",
            Some(json!({})),
        )
        .await);
        assert_eq!(total(&l), 0, "{l}");
    }
);

both!(project_grant_members, |s: TestServer| async move {
    let owner = new_org(&s, "GM Owner").await;
    let rcv = new_org(&s, "GM Receiver").await;
    let p = project_with_roles(&s, &owner, "Membered", &["r"]).await;
    let g = grant(&s, &owner, &p, &rcv, &["r"]).await;
    let (u, _) = machine(&s, Some(&rcv), "gm-user").await;

    let roles = ok(in_org(
        &s,
        &owner,
        "POST",
        "/management/v1/projects/grants/members/roles/_search",
        None,
    )
    .await);
    let list = keys(&roles["result"]);
    assert!(list.contains(&"PROJECT_GRANT_OWNER".to_string()), "{roles}");
    assert!(
        list.iter().all(|r| r.starts_with("PROJECT_GRANT_")),
        "{roles}"
    );

    let members = format!("/management/v1/projects/{p}/grants/{g}/members");
    assert_err(
        &in_org(
            &s,
            &owner,
            "POST",
            &members,
            Some(json!({"userId": u, "roles": ["PROJECT_OWNER"]})),
        )
        .await,
        400,
        3,
        "PROJECT_OWNER",
    );
    ok(in_org(
        &s,
        &owner,
        "POST",
        &members,
        Some(json!({"userId": u, "roles": ["PROJECT_GRANT_OWNER"]})),
    )
    .await);
    assert_err(
        &in_org(
            &s,
            &owner,
            "POST",
            &members,
            Some(json!({"userId": u, "roles": ["PROJECT_GRANT_OWNER"]})),
        )
        .await,
        409,
        6,
        "",
    );
    // The receiving org sees and manages the grant's members too.
    let l = ok(in_org(
        &s,
        &rcv,
        "POST",
        &format!("{members}/_search"),
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&l), 1, "{l}");
    assert_eq!(keys(&l["result"][0]["roles"]), vec!["PROJECT_GRANT_OWNER"]);
    ok(in_org(
        &s,
        &rcv,
        "PUT",
        &format!("{members}/{u}"),
        Some(json!({"roles": ["PROJECT_GRANT_OWNER_VIEWER"]})),
    )
    .await);
    let l = ok(in_org(
        &s,
        &owner,
        "POST",
        &format!("{members}/_search"),
        Some(json!({})),
    )
    .await);
    assert_eq!(
        keys(&l["result"][0]["roles"]),
        vec!["PROJECT_GRANT_OWNER_VIEWER"]
    );
    let m = ok(in_org(
        &s,
        &rcv,
        "POST",
        &format!("/management/v1/users/{u}/memberships/_search"),
        Some(json!({})),
    )
    .await);
    assert_eq!(m["result"][0]["projectGrantId"], g.as_str(), "{m}");
    // A third org knows nothing of the grant.
    let third = new_org(&s, "GM Third").await;
    assert_err(
        &in_org(
            &s,
            &third,
            "POST",
            &format!("{members}/_search"),
            Some(json!({})),
        )
        .await,
        404,
        5,
        "grant",
    );
    ok(in_org(&s, &owner, "DELETE", &format!("{members}/{u}"), None).await);
    assert_err(
        &in_org(&s, &owner, "DELETE", &format!("{members}/{u}"), None).await,
        404,
        5,
        "",
    );
    let ev = ok(s
        .admin(
            "POST",
            "/admin/v1/events/_search",
            Some(json!({"aggregateTypes": ["project"], "asc": true})),
        )
        .await);
    let text = ev.to_string();
    for t in [
        "project.grant.member.added",
        "project.grant.member.changed",
        "project.grant.member.removed",
    ] {
        assert!(text.contains(t), "{t} missing");
    }
});

both!(project_grant_authz, |s: TestServer| async move {
    let owner = new_org(&s, "Authz Owner").await;
    let rcv = new_org(&s, "Authz Receiver").await;
    let p = project_with_roles(&s, &owner, "Guarded", &["r"]).await;
    let (viewer, token) = machine(&s, Some(&owner), "grant-viewer").await;
    ok(in_org(
        &s,
        &owner,
        "POST",
        "/management/v1/orgs/me/members",
        Some(json!({"userId": viewer, "roles": ["ORG_OWNER_VIEWER"]})),
    )
    .await);
    let add = s
        .call(
            "POST",
            &format!("/management/v1/projects/{p}/grants"),
            Some(json!({"grantedOrgId": rcv, "roleKeys": ["r"]})),
            Some(&token),
            None,
        )
        .await;
    assert_err(&add, 403, 7, "");
    // Reading is allowed for the viewer.
    let g = grant(&s, &owner, &p, &rcv, &["r"]).await;
    let got = ok(s
        .call(
            "GET",
            &format!("/management/v1/projects/{p}/grants/{g}"),
            None,
            Some(&token),
            None,
        )
        .await);
    assert_eq!(got["projectGrant"]["grantId"], g.as_str());
    for (m, path) in [
        ("DELETE", format!("/management/v1/projects/{p}/grants/{g}")),
        (
            "POST",
            format!("/management/v1/projects/{p}/grants/{g}/_deactivate"),
        ),
    ] {
        let r = s.call(m, &path, Some(json!({})), Some(&token), None).await;
        assert_err(&r, 403, 7, "");
    }
});

both!(grpc_project_grants, |s: TestServer| async move {
    let token: tonic::metadata::MetadataValue<_> =
        format!("Bearer {}", s.pat).parse().expect("header");
    let rcv = new_org(&s, "gRPC Receiver").await;
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
            name: "gRPC granted".into(),
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
    let add = m
        .add_project_grant(req!(mgmt::AddProjectGrantRequest {
            project_id: p.clone(),
            granted_org_id: rcv.clone(),
            role_keys: vec!["k".into()],
        }))
        .await
        .expect("AddProjectGrant")
        .into_inner();
    assert!(!add.grant_id.is_empty());
    let got = m
        .get_project_grant_by_id(req!(mgmt::GetProjectGrantByIdRequest {
            project_id: p.clone(),
            grant_id: add.grant_id.clone(),
        }))
        .await
        .expect("GetProjectGrantByID")
        .into_inner()
        .project_grant
        .expect("grant");
    assert_eq!(got.granted_org_id, rcv);
    assert_eq!(got.granted_role_keys, vec!["k".to_string()]);
    let err = m
        .add_project_grant(req!(mgmt::AddProjectGrantRequest {
            project_id: p.clone(),
            granted_org_id: rcv.clone(),
            role_keys: vec![],
        }))
        .await
        .expect_err("duplicate");
    assert_eq!(err.code(), tonic::Code::AlreadyExists);
});

both!(grant_owner_acts_on_its_grant, |s: TestServer| async move {
    let owner = new_org(&s, "GO Owner").await;
    let rcv = new_org(&s, "GO Receiver").await;
    let p = project_with_roles(&s, &owner, "Delegated", &["r"]).await;
    let p2 = project_with_roles(&s, &owner, "Other", &["r"]).await;
    let g = grant(&s, &owner, &p, &rcv, &["r"]).await;
    let g2 = grant(&s, &owner, &p2, &rcv, &["r"]).await;
    let (u, token) = machine(&s, Some(&rcv), "grant-owner").await;
    ok(in_org(
        &s,
        &rcv,
        "POST",
        &format!("/management/v1/projects/{p}/grants/{g}/members"),
        Some(json!({"userId": u, "roles": ["PROJECT_GRANT_OWNER"]})),
    )
    .await);
    // The grant named by GrantId: allowed; another grant, or a method without a check field:
    // denied.
    let got = ok(s
        .call(
            "GET",
            &format!("/management/v1/granted_projects/{p}/grants/{g}"),
            None,
            Some(&token),
            None,
        )
        .await);
    assert_eq!(got["grantedProject"]["grantId"], g.as_str());
    // Listing granted projects shows only the grant the caller holds a role on.
    let l = ok(s
        .call(
            "POST",
            "/management/v1/granted_projects/_search",
            Some(json!({})),
            Some(&token),
            None,
        )
        .await);
    assert_eq!(total(&l), 1, "{l}");
    assert_eq!(l["result"][0]["grantId"], g.as_str());
    for (m, path) in [
        (
            "GET",
            format!("/management/v1/granted_projects/{p2}/grants/{g2}"),
        ),
        // PROJECT_GRANT_OWNER has no project.role.read.
        (
            "GET",
            format!("/management/v1/granted_projects/{p}/grants/{g}/roles/_search"),
        ),
    ] {
        let r = s.call(m, &path, Some(json!({})), Some(&token), None).await;
        assert_err(&r, 403, 7, "");
    }
    // Removing the membership takes the right away at once.
    ok(in_org(
        &s,
        &rcv,
        "DELETE",
        &format!("/management/v1/projects/{p}/grants/{g}/members/{u}"),
        None,
    )
    .await);
    let r = s
        .call(
            "GET",
            &format!("/management/v1/granted_projects/{p}/grants/{g}"),
            None,
            Some(&token),
            None,
        )
        .await;
    assert_err(&r, 403, 7, "");
});
