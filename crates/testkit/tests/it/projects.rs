//! Projects and project roles through the management API, on SQLite and PostgreSQL.

use super::*;
use castellan_proto::zitadel::management::v1 as mgmt;
use castellan_proto::zitadel::management::v1::management_service_client::ManagementServiceClient;
use castellan_proto::zitadel::project::v1 as ppb;

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

both!(project_lifecycle, |s: TestServer| async move {
    let org = new_org(&s, "Proj Org").await;
    let r = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/projects",
        Some(json!({
            "name": "Portal",
            "projectRoleAssertion": true,
            "hasProjectCheck": true,
            "privateLabelingSetting": "PRIVATE_LABELING_SETTING_ENFORCE_PROJECT_RESOURCE_OWNER_POLICY"
        })),
    )
    .await);
    let id = r["id"].as_str().expect("id").to_string();
    assert_eq!(r["details"]["resourceOwner"], org.as_str(), "{r}");
    assert!(r["details"]["creationDate"].is_string(), "{r}");

    let g = ok(in_org(
        &s,
        &org,
        "GET",
        &format!("/management/v1/projects/{id}"),
        None,
    )
    .await);
    let p = &g["project"];
    assert_eq!(p["id"], id.as_str());
    assert_eq!(p["name"], "Portal");
    assert_eq!(p["state"], "PROJECT_STATE_ACTIVE");
    assert_eq!(p["projectRoleAssertion"], true);
    assert!(p["projectRoleCheck"].is_null(), "{p}");
    assert_eq!(p["hasProjectCheck"], true);
    assert_eq!(
        p["privateLabelingSetting"],
        "PRIVATE_LABELING_SETTING_ENFORCE_PROJECT_RESOURCE_OWNER_POLICY"
    );
    assert_eq!(p["details"]["resourceOwner"], org.as_str());

    // Duplicate names in one org (case-insensitively); the same name in another org is fine.
    for dup in ["Portal", "portal"] {
        assert_err(
            &in_org(
                &s,
                &org,
                "POST",
                "/management/v1/projects",
                Some(json!({ "name": dup })),
            )
            .await,
            409,
            6,
            "already exists",
        );
    }
    let other = new_org(&s, "Other Org").await;
    let other_p = new_project(&s, &other, "Portal").await;

    // Bad input names the field.
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            "/management/v1/projects",
            Some(json!({ "name": " " })),
        )
        .await,
        400,
        3,
        "name must not be empty",
    );
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            "/management/v1/projects",
            Some(json!({ "name": "n".repeat(201) })),
        )
        .await,
        400,
        3,
        "name must be at most 200",
    );

    // Update: changed flags are stored, an unchanged update is a failed precondition.
    let path = format!("/management/v1/projects/{id}");
    ok(in_org(
        &s,
        &org,
        "PUT",
        &path,
        Some(json!({"name": "Portal 2", "projectRoleCheck": true})),
    )
    .await);
    let g = ok(in_org(&s, &org, "GET", &path, None).await);
    assert_eq!(g["project"]["name"], "Portal 2");
    assert_eq!(g["project"]["projectRoleCheck"], true);
    assert!(g["project"]["projectRoleAssertion"].is_null(), "{g}");
    assert!(
        g["project"]["privateLabelingSetting"].is_null()
            || g["project"]["privateLabelingSetting"] == "PRIVATE_LABELING_SETTING_UNSPECIFIED",
        "{g}"
    );
    assert_err(
        &in_org(
            &s,
            &org,
            "PUT",
            &path,
            Some(json!({"name": "Portal 2", "projectRoleCheck": true})),
        )
        .await,
        400,
        9,
        "not been changed",
    );
    // Renaming onto another project's name.
    new_project(&s, &org, "Backoffice").await;
    assert_err(
        &in_org(&s, &org, "PUT", &path, Some(json!({"name": "backoffice"}))).await,
        409,
        6,
        "already exists",
    );

    // Deactivate / reactivate with state checks.
    ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{path}/_deactivate"),
        Some(json!({})),
    )
    .await);
    let g = ok(in_org(&s, &org, "GET", &path, None).await);
    assert_eq!(g["project"]["state"], "PROJECT_STATE_INACTIVE");
    assert_err(
        &in_org(
            &s,
            &org,
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
        &org,
        "POST",
        &format!("{path}/_reactivate"),
        Some(json!({})),
    )
    .await);
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &format!("{path}/_reactivate"),
            Some(json!({})),
        )
        .await,
        400,
        9,
        "not deactivated",
    );

    // List: only this org's projects, with name queries.
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/projects/_search",
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&l), 2, "{l}");
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/projects/_search",
        Some(json!({"queries": [{"nameQuery": {"name": "portal", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]})),
    )
    .await);
    assert_eq!(total(&l), 1, "{l}");
    assert_eq!(l["result"][0]["id"], id.as_str());
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/projects/_search",
        Some(json!({"queries": [{"projectResourceOwnerQuery": {"resourceOwner": other}}]})),
    )
    .await);
    assert_eq!(total(&l), 0, "{l}");

    // Changes: the project's history.
    let c = ok(in_org(&s, &org, "POST", &format!("{path}/changes/_search"), None).await);
    let types: Vec<&str> = c["result"]
        .as_array()
        .expect("result")
        .iter()
        .filter_map(|x| x["eventType"]["key"].as_str())
        .collect();
    assert_eq!(types.len(), 4, "{c}");

    // Projects of another org are not found there.
    for (m, p, b) in [
        ("GET", format!("/management/v1/projects/{other_p}"), None),
        (
            "PUT",
            format!("/management/v1/projects/{other_p}"),
            Some(json!({"name": "x"})),
        ),
        (
            "POST",
            format!("/management/v1/projects/{other_p}/_deactivate"),
            Some(json!({})),
        ),
        ("DELETE", format!("/management/v1/projects/{other_p}"), None),
        (
            "POST",
            format!("/management/v1/projects/{other_p}/changes/_search"),
            None,
        ),
        (
            "POST",
            format!("/management/v1/projects/{other_p}/roles"),
            Some(json!({"roleKey": "a", "displayName": "A"})),
        ),
        (
            "POST",
            format!("/management/v1/projects/{other_p}/roles/_search"),
            Some(json!({})),
        ),
        ("GET", "/management/v1/projects/404404".to_string(), None),
    ] {
        assert_err(
            &in_org(&s, &org, m, &p, b).await,
            404,
            5,
            "project could not be found",
        );
    }

    // Remove.
    ok(in_org(&s, &org, "DELETE", &path, None).await);
    assert_err(
        &in_org(&s, &org, "GET", &path, None).await,
        404,
        5,
        "not be found",
    );
    assert_err(
        &in_org(&s, &org, "DELETE", &path, None).await,
        404,
        5,
        "not be found",
    );
    // The name is free again.
    new_project(&s, &org, "Portal 2").await;
    ok(in_org(
        &s,
        &other,
        "GET",
        &format!("/management/v1/projects/{other_p}"),
        None,
    )
    .await);
});

both!(project_roles, |s: TestServer| async move {
    let org = new_org(&s, "Roles Org").await;
    let pid = new_project(&s, &org, "Shop").await;
    let roles = format!("/management/v1/projects/{pid}/roles");
    let r = ok(in_org(
        &s,
        &org,
        "POST",
        &roles,
        Some(json!({"roleKey": "admin", "displayName": "Administrator", "group": "staff"})),
    )
    .await);
    assert_eq!(r["details"]["resourceOwner"], org.as_str(), "{r}");
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &roles,
            Some(json!({"roleKey": "admin", "displayName": "Again"})),
        )
        .await,
        409,
        6,
        "already exists",
    );
    for (body, needle) in [
        (
            json!({"roleKey": "", "displayName": "X"}),
            "roleKey must not be empty",
        ),
        (
            json!({"roleKey": "k".repeat(201), "displayName": "X"}),
            "roleKey must be at most 200",
        ),
        (
            json!({"roleKey": "x", "displayName": ""}),
            "displayName must not be empty",
        ),
        (
            json!({"roleKey": "x", "displayName": "d".repeat(201)}),
            "displayName must be at most 200",
        ),
        (
            json!({"roleKey": "x", "displayName": "X", "group": "g".repeat(201)}),
            "group must be at most 200",
        ),
    ] {
        assert_err(
            &in_org(&s, &org, "POST", &roles, Some(body)).await,
            400,
            3,
            needle,
        );
    }

    // Bulk: all or nothing.
    ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{roles}/_bulk"),
        Some(json!({"roles": [
            {"key": "viewer", "displayName": "Viewer"},
            {"key": "editor", "displayName": "Editor", "group": "staff"}
        ]})),
    )
    .await);
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &format!("{roles}/_bulk"),
            Some(json!({"roles": [
                {"key": "support", "displayName": "Support"},
                {"key": "viewer", "displayName": "Viewer again"}
            ]})),
        )
        .await,
        409,
        6,
        "already exists",
    );
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &format!("{roles}/_bulk"),
            Some(json!({"roles": [{"key": "support", "displayName": "Support"}, {"key": "", "displayName": "X"}]})),
        )
        .await,
        400,
        3,
        "key must not be empty",
    );
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{roles}/_search"),
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&l), 3, "{l}");
    assert!(!l.to_string().contains("support"), "{l}");

    // Queries.
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{roles}/_search"),
        Some(json!({"queries": [{"keyQuery": {"key": "admin"}}]})),
    )
    .await);
    assert_eq!(total(&l), 1, "{l}");
    assert_eq!(l["result"][0]["key"], "admin");
    assert_eq!(l["result"][0]["displayName"], "Administrator");
    assert_eq!(l["result"][0]["group"], "staff");
    assert_eq!(l["result"][0]["details"]["resourceOwner"], org.as_str());
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{roles}/_search"),
        Some(json!({"queries": [{"displayNameQuery": {"displayName": "ITOR", "method": "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE"}}]})),
    )
    .await);
    assert_eq!(total(&l), 1, "{l}");
    assert_eq!(l["result"][0]["key"], "editor");

    // Update and remove.
    ok(in_org(
        &s,
        &org,
        "PUT",
        &format!("{roles}/editor"),
        Some(json!({"displayName": "Chief Editor"})),
    )
    .await);
    assert_err(
        &in_org(
            &s,
            &org,
            "PUT",
            &format!("{roles}/editor"),
            Some(json!({"displayName": "Chief Editor"})),
        )
        .await,
        400,
        9,
        "not been changed",
    );
    assert_err(
        &in_org(
            &s,
            &org,
            "PUT",
            &format!("{roles}/nobody"),
            Some(json!({"displayName": "N"})),
        )
        .await,
        404,
        5,
        "role could not be found",
    );
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{roles}/_search"),
        Some(json!({"queries": [{"keyQuery": {"key": "editor"}}]})),
    )
    .await);
    assert_eq!(l["result"][0]["displayName"], "Chief Editor");
    assert!(l["result"][0]["group"].is_null(), "{l}");
    ok(in_org(&s, &org, "DELETE", &format!("{roles}/viewer"), None).await);
    assert_err(
        &in_org(&s, &org, "DELETE", &format!("{roles}/viewer"), None).await,
        404,
        5,
        "role could not be found",
    );
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{roles}/_search"),
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&l), 2, "{l}");

    // Role events are part of the project's history.
    let c = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("/management/v1/projects/{pid}/changes/_search"),
        None,
    )
    .await);
    assert_eq!(c["result"].as_array().map(Vec::len), Some(6), "{c}");

    // Removing the project removes its roles; a new project of the same name starts empty.
    ok(in_org(
        &s,
        &org,
        "DELETE",
        &format!("/management/v1/projects/{pid}"),
        None,
    )
    .await);
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &format!("{roles}/_search"),
            Some(json!({})),
        )
        .await,
        404,
        5,
        "project could not be found",
    );
    let pid2 = new_project(&s, &org, "Shop").await;
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("/management/v1/projects/{pid2}/roles/_search"),
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&l), 0, "{l}");
});

both!(
    project_permissions_and_org_removal,
    |s: TestServer| async move {
        let org = new_org(&s, "Perm Org").await;
        let pid = new_project(&s, &org, "Visible").await;
        let (viewer, vt) = machine(&s, Some(&org), "proj-viewer").await;
        let (creator, ct) = machine(&s, Some(&org), "proj-creator").await;
        for (u, role) in [
            (&viewer, "ORG_OWNER_VIEWER"),
            (&creator, "ORG_PROJECT_CREATOR"),
        ] {
            ok(in_org(
                &s,
                &org,
                "POST",
                "/management/v1/orgs/me/members",
                Some(json!({ "userId": u, "roles": [role] })),
            )
            .await);
        }
        // The viewer reads but cannot create.
        ok(s.call(
            "GET",
            &format!("/management/v1/projects/{pid}"),
            None,
            Some(&vt),
            None,
        )
        .await);
        assert_err(
            &s.call(
                "POST",
                "/management/v1/projects",
                Some(json!({"name": "Nope"})),
                Some(&vt),
                None,
            )
            .await,
            403,
            7,
            "no matching permissions",
        );
        // The project creator creates.
        let r = ok(s
            .call(
                "POST",
                "/management/v1/projects",
                Some(json!({"name": "Mine"})),
                Some(&ct),
                None,
            )
            .await);
        assert!(r["id"].is_string(), "{r}");

        // Removing the org removes its projects and roles.
        ok(in_org(
            &s,
            &org,
            "POST",
            &format!("/management/v1/projects/{pid}/roles"),
            Some(json!({"roleKey": "r", "displayName": "R"})),
        )
        .await);
        ok(in_org(&s, &org, "DELETE", "/management/v1/orgs/me", None).await);
        let keep = new_org(&s, "Keep Org").await;
        let kp = new_project(&s, &keep, "Visible").await;
        ok(in_org(
            &s,
            &keep,
            "GET",
            &format!("/management/v1/projects/{kp}"),
            None,
        )
        .await);
        let l = ok(in_org(
            &s,
            &keep,
            "POST",
            "/management/v1/projects/_search",
            Some(json!({})),
        )
        .await);
        assert_eq!(total(&l), 1, "{l}");
        // The removed org's project is gone from the read model: the event store still has its history.
        let ev = ok(s
            .admin(
                "POST",
                "/admin/v1/events/_search",
                Some(json!({"aggregateTypes": ["project"], "asc": true})),
            )
            .await);
        assert!(ev.to_string().contains("project.role.added"), "{ev}");
    }
);

both!(grpc_projects, |s: TestServer| async move {
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
    let add = m
        .add_project(req!(mgmt::AddProjectRequest {
            name: "gRPC project".into(),
            project_role_check: true,
            private_labeling_setting: ppb::PrivateLabelingSetting::AllowLoginUserResourceOwnerPolicy
                as i32,
            ..Default::default()
        }))
        .await
        .expect("AddProject")
        .into_inner();
    assert!(!add.id.is_empty());
    m.bulk_add_project_roles(req!(mgmt::BulkAddProjectRolesRequest {
        project_id: add.id.clone(),
        roles: vec![
            mgmt::bulk_add_project_roles_request::Role {
                key: "a".into(),
                display_name: "A".into(),
                group: String::new(),
            },
            mgmt::bulk_add_project_roles_request::Role {
                key: "b".into(),
                display_name: "B".into(),
                group: "g".into(),
            },
        ],
    }))
    .await
    .expect("BulkAddProjectRoles");
    let p = m
        .get_project_by_id(req!(mgmt::GetProjectByIdRequest { id: add.id.clone() }))
        .await
        .expect("GetProjectByID")
        .into_inner()
        .project
        .expect("project");
    assert_eq!(p.name, "gRPC project");
    assert_eq!(p.state, ppb::ProjectState::Active as i32);
    assert!(p.project_role_check && !p.project_role_assertion && !p.has_project_check);
    assert_eq!(
        p.private_labeling_setting,
        ppb::PrivateLabelingSetting::AllowLoginUserResourceOwnerPolicy as i32
    );
    let roles = m
        .list_project_roles(req!(mgmt::ListProjectRolesRequest {
            project_id: add.id.clone(),
            query: None,
            queries: vec![],
        }))
        .await
        .expect("ListProjectRoles")
        .into_inner();
    assert_eq!(roles.details.map(|d| d.total_result), Some(2));
    let e = m
        .add_project_role(req!(mgmt::AddProjectRoleRequest {
            project_id: add.id.clone(),
            role_key: "a".into(),
            display_name: "A".into(),
            group: String::new(),
        }))
        .await
        .expect_err("duplicate role");
    assert_eq!(e.code(), tonic::Code::AlreadyExists);
    let e = m
        .add_project(req!(mgmt::AddProjectRequest {
            name: "bad labeling".into(),
            private_labeling_setting: 9,
            ..Default::default()
        }))
        .await
        .expect_err("unknown enum");
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(
        e.message().contains("privateLabelingSetting"),
        "{}",
        e.message()
    );
    let e = m
        .get_project_by_id(req!(mgmt::GetProjectByIdRequest { id: "nope".into() }))
        .await
        .expect_err("unknown");
    assert_eq!(e.code(), tonic::Code::NotFound);
});
