//! Project members through the management API, and calls authorised by project roles alone,
//! on SQLite and PostgreSQL.

use super::*;
use castellan_proto::zitadel::management::v1 as mgmt;
use castellan_proto::zitadel::management::v1::management_service_client::ManagementServiceClient;

/// AddProject in `org`; returns the project id.
async fn new_project(s: &TestServer, org: &str, name: &str) -> String {
    let r = ok(in_org(
        s,
        org,
        "POST",
        "/management/v1/projects",
        Some(json!({ "name": name })),
    )
    .await);
    r["id"].as_str().expect("project id").to_string()
}

/// AddProjectMember as the IAM_OWNER in the context of `org`.
async fn add_member(s: &TestServer, org: &str, project: &str, user: &str, roles: &[&str]) {
    ok(in_org(
        s,
        org,
        "POST",
        &format!("/management/v1/projects/{project}/members"),
        Some(json!({ "userId": user, "roles": roles })),
    )
    .await);
}

/// A REST call with `token` (and no org header: the caller's own org is the context).
async fn as_user(
    s: &TestServer,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    s.call(method, path, body, Some(token), None).await
}

both!(project_member_rpcs, |s: TestServer| async move {
    let org = new_org(&s, "PM Org").await;
    let pa = new_project(&s, &org, "Alpha").await;
    let (u, _) = machine(&s, Some(&org), "pm-user").await;
    let (u2, _) = machine(&s, Some(&org), "pm-other").await;

    let roles = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/projects/members/roles/_search",
        None,
    )
    .await);
    let list: Vec<&str> = roles["result"]
        .as_array()
        .expect("result")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(list.contains(&"PROJECT_OWNER"), "{roles}");
    assert!(list.contains(&"PROJECT_OWNER_VIEWER"), "{roles}");
    assert!(
        list.iter()
            .all(|r| r.starts_with("PROJECT_") && !r.starts_with("PROJECT_GRANT_")),
        "{roles}"
    );

    let members = format!("/management/v1/projects/{pa}/members");
    // Unknown and non-project roles are refused, naming the role.
    for bad in ["NOPE", "ORG_OWNER", "PROJECT_GRANT_OWNER"] {
        assert_err(
            &in_org(
                &s,
                &org,
                "POST",
                &members,
                Some(json!({ "userId": u, "roles": [bad] })),
            )
            .await,
            400,
            3,
            bad,
        );
    }
    let r = ok(in_org(
        &s,
        &org,
        "POST",
        &members,
        Some(json!({ "userId": u, "roles": ["PROJECT_OWNER_VIEWER"] })),
    )
    .await);
    assert_eq!(r["details"]["resourceOwner"], org.as_str(), "{r}");
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &members,
            Some(json!({ "userId": u, "roles": ["PROJECT_OWNER"] })),
        )
        .await,
        409,
        6,
        "already exists",
    );
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{members}/_search"),
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&l), 1, "{l}");
    assert_eq!(l["result"][0]["userId"], u.as_str(), "{l}");
    assert_eq!(
        l["result"][0]["roles"],
        json!(["PROJECT_OWNER_VIEWER"]),
        "{l}"
    );

    ok(in_org(
        &s,
        &org,
        "PUT",
        &format!("{members}/{u}"),
        Some(json!({ "roles": ["PROJECT_OWNER"] })),
    )
    .await);
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{members}/_search"),
        Some(json!({})),
    )
    .await);
    assert_eq!(l["result"][0]["roles"], json!(["PROJECT_OWNER"]), "{l}");

    // The user's memberships show the project, named by its name.
    let m = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("/management/v1/users/{u}/memberships/_search"),
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&m), 1, "{m}");
    assert_eq!(m["result"][0]["projectId"], pa.as_str(), "{m}");
    assert_eq!(m["result"][0]["displayName"], "Alpha", "{m}");

    // Non-members cannot be updated or removed.
    assert_err(
        &in_org(
            &s,
            &org,
            "PUT",
            &format!("{members}/{u2}"),
            Some(json!({ "roles": ["PROJECT_OWNER"] })),
        )
        .await,
        404,
        5,
        "member does not exist",
    );
    assert_err(
        &in_org(&s, &org, "DELETE", &format!("{members}/{u2}"), None).await,
        404,
        5,
        "member does not exist",
    );

    // A project of another organisation is not found in this one.
    let other = new_org(&s, "PM Other").await;
    let pb = new_project(&s, &other, "Beta").await;
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &format!("/management/v1/projects/{pb}/members"),
            Some(json!({ "userId": u, "roles": ["PROJECT_OWNER"] })),
        )
        .await,
        404,
        5,
        "project could not be found",
    );
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &format!("/management/v1/projects/{pb}/members/_search"),
            Some(json!({})),
        )
        .await,
        404,
        5,
        "project could not be found",
    );

    // The events are on the project aggregate.
    let ev = ok(s
        .admin(
            "POST",
            "/admin/v1/events/_search",
            Some(json!({"aggregateTypes": ["project"], "asc": true})),
        )
        .await);
    assert!(ev.to_string().contains("project.member.changed"), "{ev}");

    ok(in_org(&s, &org, "DELETE", &format!("{members}/{u}"), None).await);
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{members}/_search"),
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&l), 0, "{l}");

    // Removing the org removes the memberships on its projects.
    add_member(&s, &other, &pb, &u2, &["PROJECT_OWNER"]).await;
    ok(in_org(&s, &other, "DELETE", "/management/v1/orgs/me", None).await);
    let m = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("/management/v1/users/{u2}/memberships/_search"),
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&m), 0, "{m}");
});

both!(project_role_permissions, |s: TestServer| async move {
    let org = new_org(&s, "PR Org").await;
    let pa = new_project(&s, &org, "Alpha").await;
    let pb = new_project(&s, &org, "Beta").await;
    let (owner, ot) = machine(&s, Some(&org), "p-owner").await;
    let (viewer, vt) = machine(&s, Some(&org), "p-viewer").await;
    add_member(&s, &org, &pa, &owner, &["PROJECT_OWNER"]).await;
    add_member(&s, &org, &pa, &viewer, &["PROJECT_OWNER_VIEWER"]).await;

    // The project owner manages project A, and only A.
    let g = ok(as_user(
        &s,
        &ot,
        "GET",
        &format!("/management/v1/projects/{pa}"),
        None,
    )
    .await);
    assert_eq!(g["project"]["name"], "Alpha", "{g}");
    ok(as_user(
        &s,
        &ot,
        "PUT",
        &format!("/management/v1/projects/{pa}"),
        Some(json!({ "name": "Alpha 2" })),
    )
    .await);
    ok(as_user(
        &s,
        &ot,
        "POST",
        &format!("/management/v1/projects/{pa}/roles"),
        Some(json!({ "roleKey": "admin", "displayName": "Admin" })),
    )
    .await);
    ok(as_user(
        &s,
        &ot,
        "POST",
        &format!("/management/v1/projects/{pa}/members/_search"),
        Some(json!({})),
    )
    .await);
    let denied = [
        ("GET", format!("/management/v1/projects/{pb}"), None),
        (
            "PUT",
            format!("/management/v1/projects/{pb}"),
            Some(json!({ "name": "Beta 2" })),
        ),
        (
            "POST",
            "/management/v1/projects".to_string(),
            Some(json!({ "name": "Gamma" })),
        ),
        ("GET", "/management/v1/projects/123456789".to_string(), None),
    ];
    for (method, path, body) in denied {
        assert_err(
            &as_user(&s, &ot, method, &path, body).await,
            403,
            7,
            "no matching permissions",
        );
    }
    // Another org in context: the project does not belong to it.
    let other = new_org(&s, "PR Other").await;
    assert_err(
        &s.call(
            "GET",
            &format!("/management/v1/projects/{pa}"),
            None,
            Some(&ot),
            Some(&other),
        )
        .await,
        403,
        7,
        "no matching permissions",
    );

    // The viewer reads but does not write.
    ok(as_user(
        &s,
        &vt,
        "GET",
        &format!("/management/v1/projects/{pa}"),
        None,
    )
    .await);
    assert_err(
        &as_user(
            &s,
            &vt,
            "PUT",
            &format!("/management/v1/projects/{pa}"),
            Some(json!({ "name": "Viewer was here" })),
        )
        .await,
        403,
        7,
        "no matching permissions",
    );

    // ListMyMemberships shows the project membership.
    let m = ok(as_user(
        &s,
        &ot,
        "POST",
        "/auth/v1/memberships/me/_search",
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&m), 1, "{m}");
    assert_eq!(m["result"][0]["projectId"], pa.as_str(), "{m}");
    assert_eq!(m["result"][0]["displayName"], "Alpha 2", "{m}");
    assert_eq!(m["result"][0]["roles"], json!(["PROJECT_OWNER"]), "{m}");

    // The same over gRPC with the generated client.
    let token: tonic::metadata::MetadataValue<_> = format!("Bearer {ot}").parse().expect("header");
    let mut c = ManagementServiceClient::new(s.channel().await);
    macro_rules! req {
        ($msg:expr) => {{
            let mut r = tonic::Request::new($msg);
            r.metadata_mut().insert("authorization", token.clone());
            r
        }};
    }
    let p = c
        .get_project_by_id(req!(mgmt::GetProjectByIdRequest { id: pa.clone() }))
        .await
        .expect("GetProjectByID")
        .into_inner()
        .project
        .expect("project");
    assert_eq!(p.name, "Alpha 2");
    c.update_project(req!(mgmt::UpdateProjectRequest {
        id: pa.clone(),
        name: "Alpha 3".into(),
        ..Default::default()
    }))
    .await
    .expect("UpdateProject");
    c.add_project_role(req!(mgmt::AddProjectRoleRequest {
        project_id: pa.clone(),
        role_key: "grpc".into(),
        display_name: "gRPC".into(),
        group: String::new(),
    }))
    .await
    .expect("AddProjectRole");
    let e = c
        .get_project_by_id(req!(mgmt::GetProjectByIdRequest { id: pb.clone() }))
        .await
        .expect_err("project B");
    assert_eq!(e.code(), tonic::Code::PermissionDenied);
    let e = c
        .add_project(req!(mgmt::AddProjectRequest {
            name: "Delta".into(),
            ..Default::default()
        }))
        .await
        .expect_err("AddProject");
    assert_eq!(e.code(), tonic::Code::PermissionDenied);

    // Removing the project removes its memberships: the token no longer reaches it.
    ok(in_org(
        &s,
        &org,
        "DELETE",
        &format!("/management/v1/projects/{pa}"),
        None,
    )
    .await);
    assert_err(
        &as_user(
            &s,
            &ot,
            "GET",
            &format!("/management/v1/projects/{pa}"),
            None,
        )
        .await,
        403,
        7,
        "no matching permissions",
    );
    let m = ok(as_user(
        &s,
        &ot,
        "POST",
        "/auth/v1/memberships/me/_search",
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&m), 0, "{m}");
    let e = c
        .get_project_by_id(req!(mgmt::GetProjectByIdRequest { id: pa.clone() }))
        .await
        .expect_err("removed project");
    assert_eq!(e.code(), tonic::Code::PermissionDenied);
});

both!(
    project_owners_list_only_their_projects,
    |s: TestServer| async move {
        let org = new_org(&s, "Scoped Org").await;
        let pa = new_project(&s, &org, "Mine").await;
        let pb = new_project(&s, &org, "Not Mine").await;
        let pc = new_project(&s, &org, "Viewed").await;
        let (owner, t) = machine(&s, Some(&org), "scoped-owner").await;
        add_member(&s, &org, &pa, &owner, &["PROJECT_OWNER"]).await;
        add_member(&s, &org, &pc, &owner, &["PROJECT_OWNER_VIEWER"]).await;
        let l = ok(as_user(
            &s,
            &t,
            "POST",
            "/management/v1/projects/_search",
            Some(json!({})),
        )
        .await);
        let mut ids: Vec<&str> = l["result"]
            .as_array()
            .expect("result")
            .iter()
            .filter_map(|p| p["id"].as_str())
            .collect();
        ids.sort();
        let mut want = vec![pa.as_str(), pc.as_str()];
        want.sort();
        assert_eq!(ids, want, "{l}");
        assert_eq!(total(&l), 2);
        assert!(!l.to_string().contains(&pb));
        // Queries still apply within the scope.
        let l = ok(as_user(
        &s,
        &t,
        "POST",
        "/management/v1/projects/_search",
        Some(json!({"queries": [{"nameQuery": {"name": "Not", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}]})),
    )
    .await);
        assert_eq!(total(&l), 0, "{l}");
        // In another org the same caller has no projects: denied.
        let other = new_org(&s, "Elsewhere").await;
        let r = s
            .call(
                "POST",
                "/management/v1/projects/_search",
                Some(json!({})),
                Some(&t),
                Some(&other),
            )
            .await;
        assert_eq!(r.0, 403, "{}", r.1);
        // Without any project role the list is denied.
        let (_, t2) = machine(&s, Some(&org), "no-roles").await;
        let r = as_user(
            &s,
            &t2,
            "POST",
            "/management/v1/projects/_search",
            Some(json!({})),
        )
        .await;
        assert_eq!(r.0, 403, "{}", r.1);
    }
);
