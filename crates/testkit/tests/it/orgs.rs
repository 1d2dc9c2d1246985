//! Organisations through the management API: lifecycle, metadata, members, and who may do
//! what in which organisation (`x-zitadel-orgid`), on SQLite and PostgreSQL.

use super::*;

/// Makes `user` a member of `org` with `roles` (as the IAM_OWNER).
async fn add_member(s: &TestServer, org: &str, user: &str, roles: &[&str]) {
    ok(in_org(
        s,
        org,
        "POST",
        "/management/v1/orgs/me/members",
        Some(json!({ "userId": user, "roles": roles })),
    )
    .await);
}

async fn my_id(s: &TestServer) -> String {
    let me = ok(s.admin("GET", "/auth/v1/users/me", None).await);
    me["user"]["id"].as_str().expect("id").to_string()
}

both!(
    add_org_makes_the_creator_owner,
    |s: TestServer| async move {
        let me = my_id(&s).await;
        let r = ok(s
            .admin(
                "POST",
                "/management/v1/orgs",
                Some(json!({"name": "Acme Corp"})),
            )
            .await);
        let id = r["id"].as_str().expect("id").to_string();
        assert!(!id.is_empty());
        assert!(r["details"]["creationDate"].is_string(), "{r}");
        assert_eq!(r["details"]["resourceOwner"], id.as_str(), "{r}");

        // The caller is ORG_OWNER of the new org.
        let members = ok(in_org(
            &s,
            &id,
            "POST",
            "/management/v1/orgs/me/members/_search",
            Some(json!({})),
        )
        .await);
        assert_eq!(total(&members), 1, "{members}");
        assert_eq!(members["result"][0]["userId"], me.as_str());
        assert_eq!(members["result"][0]["roles"], json!(["ORG_OWNER"]));
        assert_eq!(members["result"][0]["preferredLoginName"], "admin-sa");

        // Names are unique, case-insensitively.
        for dup in ["Acme Corp", "acme corp", "  ACME CORP "] {
            assert_err(
                &s.admin("POST", "/management/v1/orgs", Some(json!({ "name": dup })))
                    .await,
                409,
                6,
                "already taken",
            );
        }
        // Empty and over-long names.
        for bad in ["", "   "] {
            assert_err(
                &s.admin("POST", "/management/v1/orgs", Some(json!({ "name": bad })))
                    .await,
                400,
                3,
                "name must not be empty",
            );
        }
        assert_err(
            &s.admin(
                "POST",
                "/management/v1/orgs",
                Some(json!({"name": "n".repeat(201)})),
            )
            .await,
            400,
            3,
            "name must be at most 200",
        );
        // Exactly 200 is fine.
        ok(s.admin(
            "POST",
            "/management/v1/orgs",
            Some(json!({"name": "n".repeat(200)})),
        )
        .await);
    }
);

both!(get_update_my_org, |s: TestServer| async move {
    // Without a header: the caller's own (default) org.
    let mine = ok(s.admin("GET", "/management/v1/orgs/me", None).await);
    assert_eq!(mine["org"]["name"], "Castellan");
    assert_eq!(mine["org"]["primaryDomain"], "castellan.localhost");
    assert_eq!(mine["org"]["state"], "ORG_STATE_ACTIVE");

    let id = new_org(&s, "Acme Corp").await;
    let o = ok(in_org(&s, &id, "GET", "/management/v1/orgs/me", None).await);
    assert_eq!(o["org"]["id"], id.as_str());
    assert_eq!(o["org"]["name"], "Acme Corp");
    assert_eq!(o["org"]["primaryDomain"], "acme-corp.localhost");
    assert_eq!(o["org"]["state"], "ORG_STATE_ACTIVE");
    assert_eq!(o["org"]["details"]["resourceOwner"], id.as_str());

    // Found by its generated domain.
    let g = ok(s
        .admin(
            "GET",
            "/management/v1/global/orgs/_by_domain?domain=acme-corp.localhost",
            None,
        )
        .await);
    assert_eq!(g["org"]["id"], id.as_str());
    let g = ok(s
        .admin(
            "GET",
            "/management/v1/global/orgs/_by_domain?domain=ACME-CORP.localhost",
            None,
        )
        .await);
    assert_eq!(g["org"]["id"], id.as_str());
    assert_err(
        &s.admin(
            "GET",
            "/management/v1/global/orgs/_by_domain?domain=nope.localhost",
            None,
        )
        .await,
        404,
        5,
        "organisation could not be found",
    );

    // Rename: name and generated primary domain change.
    let u = ok(in_org(
        &s,
        &id,
        "PUT",
        "/management/v1/orgs/me",
        Some(json!({"name": "Acme Industries"})),
    )
    .await);
    assert!(u["details"]["changeDate"].is_string(), "{u}");
    let o = ok(in_org(&s, &id, "GET", "/management/v1/orgs/me", None).await);
    assert_eq!(o["org"]["name"], "Acme Industries");
    assert_eq!(o["org"]["primaryDomain"], "acme-industries.localhost");
    let g = ok(s
        .admin(
            "GET",
            "/management/v1/global/orgs/_by_domain?domain=acme-industries.localhost",
            None,
        )
        .await);
    assert_eq!(g["org"]["id"], id.as_str());
    assert_err(
        &s.admin(
            "GET",
            "/management/v1/global/orgs/_by_domain?domain=acme-corp.localhost",
            None,
        )
        .await,
        404,
        5,
        "could not be found",
    );
    // The old name is free again.
    let again = new_org(&s, "Acme Corp").await;
    assert_ne!(again, id);

    // Unchanged name, a taken name, an empty name.
    assert_err(
        &in_org(
            &s,
            &id,
            "PUT",
            "/management/v1/orgs/me",
            Some(json!({"name": "Acme Industries"})),
        )
        .await,
        400,
        9,
        "unchanged",
    );
    assert_err(
        &in_org(
            &s,
            &id,
            "PUT",
            "/management/v1/orgs/me",
            Some(json!({"name": "castellan"})),
        )
        .await,
        409,
        6,
        "already taken",
    );
    assert_err(
        &in_org(
            &s,
            &id,
            "PUT",
            "/management/v1/orgs/me",
            Some(json!({"name": ""})),
        )
        .await,
        400,
        3,
        "name must not be empty",
    );
    // A change of case only keeps the domain.
    ok(in_org(
        &s,
        &id,
        "PUT",
        "/management/v1/orgs/me",
        Some(json!({"name": "ACME Industries"})),
    )
    .await);
    let o = ok(in_org(&s, &id, "GET", "/management/v1/orgs/me", None).await);
    assert_eq!(o["org"]["name"], "ACME Industries");
    assert_eq!(o["org"]["primaryDomain"], "acme-industries.localhost");
});

both!(deactivate_reactivate_remove, |s: TestServer| async move {
    let id = new_org(&s, "Shortlived").await;
    let path = "/management/v1/orgs/me";
    // Reactivating an active org is a precondition failure.
    assert_err(
        &in_org(
            &s,
            &id,
            "POST",
            "/management/v1/orgs/me/_reactivate",
            Some(json!({})),
        )
        .await,
        400,
        9,
        "not deactivated",
    );
    ok(in_org(
        &s,
        &id,
        "POST",
        "/management/v1/orgs/me/_deactivate",
        Some(json!({})),
    )
    .await);
    let o = ok(in_org(&s, &id, "GET", path, None).await);
    assert_eq!(o["org"]["state"], "ORG_STATE_INACTIVE");
    assert_err(
        &in_org(
            &s,
            &id,
            "POST",
            "/management/v1/orgs/me/_deactivate",
            Some(json!({})),
        )
        .await,
        400,
        9,
        "not active",
    );
    ok(in_org(
        &s,
        &id,
        "POST",
        "/management/v1/orgs/me/_reactivate",
        Some(json!({})),
    )
    .await);
    let o = ok(in_org(&s, &id, "GET", path, None).await);
    assert_eq!(o["org"]["state"], "ORG_STATE_ACTIVE");

    // Remove: gone everywhere.
    let (uid, token) = machine(&s, Some(&id), "shortlived-bot").await;
    ok(in_org(&s, &id, "DELETE", path, None).await);
    assert_err(
        &in_org(&s, &id, "GET", path, None).await,
        404,
        5,
        "organisation could not be found",
    );
    assert_err(
        &s.admin("GET", &format!("/admin/v1/orgs/{id}"), None).await,
        404,
        5,
        "could not be found",
    );
    assert_err(
        &in_org(&s, &id, "DELETE", path, None).await,
        404,
        5,
        "could not be found",
    );
    assert_err(
        &in_org(&s, &id, "GET", &format!("/management/v1/users/{uid}"), None).await,
        404,
        5,
        "",
    );
    // Its users' tokens are dead at once.
    let r = s
        .call("GET", "/auth/v1/users/me", None, Some(&token), None)
        .await;
    assert_err(&r, 401, 16, "token");
    // The name can be used again.
    new_org(&s, "Shortlived").await;

    // The default org cannot be removed.
    assert_err(
        &s.admin("DELETE", path, None).await,
        400,
        9,
        "default organisation cannot be removed",
    );
    let o = ok(s.admin("GET", path, None).await);
    assert_eq!(o["org"]["name"], "Castellan");
});

both!(list_org_changes, |s: TestServer| async move {
    let me = my_id(&s).await;
    let id = new_org(&s, "Chronicle").await;
    ok(in_org(
        &s,
        &id,
        "PUT",
        "/management/v1/orgs/me",
        Some(json!({"name": "Chronicles"})),
    )
    .await);
    ok(in_org(
        &s,
        &id,
        "POST",
        "/management/v1/orgs/me/_deactivate",
        Some(json!({})),
    )
    .await);
    let all = ok(in_org(
        &s,
        &id,
        "POST",
        "/management/v1/orgs/me/changes/_search",
        Some(json!({})),
    )
    .await);
    let types: Vec<String> = all["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|c| {
            c["eventType"]["key"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    // Newest first by default.
    assert_eq!(types.first().map(String::as_str), Some("org.deactivated"));
    assert_eq!(types.last().map(String::as_str), Some("org.added"));
    for t in [
        "org.added",
        "org.domain.added",
        "org.domain.primary.set",
        "org.member.added",
        "org.changed",
        "org.domain.removed",
    ] {
        assert!(types.iter().any(|x| x == t), "{t} missing in {types:?}");
    }
    let c = &all["result"][0];
    assert_eq!(c["editorId"], me.as_str());
    assert_eq!(c["editorDisplayName"], "Automation");
    assert_eq!(c["editorPreferredLoginName"], "admin-sa");
    assert_eq!(c["resourceOwnerId"], id.as_str());
    assert!(c["changeDate"].is_string());

    // Ascending with a limit, then paging on by sequence.
    let first = ok(in_org(
        &s,
        &id,
        "POST",
        "/management/v1/orgs/me/changes/_search",
        Some(json!({"query": {"asc": true, "limit": 2}})),
    )
    .await);
    let first = first["result"].as_array().expect("result").clone();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0]["eventType"]["key"], "org.added");
    assert_eq!(first[1]["eventType"]["key"], "org.domain.added");
    let seq = first[1]["sequence"].clone();
    let next = ok(in_org(
        &s,
        &id,
        "POST",
        "/management/v1/orgs/me/changes/_search",
        Some(json!({"query": {"asc": true, "limit": 1, "sequence": seq}})),
    )
    .await);
    assert_eq!(
        next["result"][0]["eventType"]["key"],
        "org.domain.primary.set"
    );

    // The changes of an org that does not exist.
    assert_err(
        &in_org(
            &s,
            "404404",
            "POST",
            "/management/v1/orgs/me/changes/_search",
            Some(json!({})),
        )
        .await,
        404,
        5,
        "could not be found",
    );
});

both!(org_metadata, |s: TestServer| async move {
    let id = new_org(&s, "Meta Org").await;
    ok(in_org(
        &s,
        &id,
        "POST",
        "/management/v1/metadata/color",
        Some(json!({"value": b64("blue")})),
    )
    .await);
    let g = ok(in_org(&s, &id, "GET", "/management/v1/metadata/color", None).await);
    assert_eq!(g["metadata"]["key"], "color");
    assert_eq!(g["metadata"]["value"], b64("blue"));
    assert_eq!(g["metadata"]["details"]["resourceOwner"], id.as_str());
    // Overwrite.
    ok(in_org(
        &s,
        &id,
        "POST",
        "/management/v1/metadata/color",
        Some(json!({"value": b64("green")})),
    )
    .await);
    let g = ok(in_org(&s, &id, "GET", "/management/v1/metadata/color", None).await);
    assert_eq!(g["metadata"]["value"], b64("green"));
    // Metadata is per org: the default org has none.
    assert_err(
        &s.admin("GET", "/management/v1/metadata/color", None).await,
        404,
        5,
        "metadata not found",
    );

    ok(in_org(
        &s,
        &id,
        "POST",
        "/management/v1/metadata/_bulk",
        Some(json!({"metadata": [
            {"key": "tier", "value": b64("gold")},
            {"key": "tenant.region", "value": b64("eu-1")},
        ]})),
    )
    .await);
    let l = ok(in_org(
        &s,
        &id,
        "POST",
        "/management/v1/metadata/_search",
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&l), 3, "{l}");
    let mut keys: Vec<&str> = l["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|m| m["key"].as_str().unwrap_or_default())
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["color", "tenant.region", "tier"]);
    let l = ok(in_org(
        &s,
        &id,
        "POST",
        "/management/v1/metadata/_search",
        Some(json!({"queries": [{"keyQuery": {"key": "t", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}]})),
    )
    .await);
    assert_eq!(total(&l), 2, "{l}");
    let l = ok(in_org(
        &s,
        &id,
        "POST",
        "/management/v1/metadata/_search",
        Some(json!({"queries": [{"keyQuery": {"key": "TIER", "method": "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE"}}]})),
    )
    .await);
    assert_eq!(total(&l), 1, "{l}");
    assert_eq!(l["result"][0]["value"], b64("gold"));

    // Remove one; a missing key is NOT_FOUND.
    ok(in_org(&s, &id, "DELETE", "/management/v1/metadata/color", None).await);
    assert_err(
        &in_org(&s, &id, "GET", "/management/v1/metadata/color", None).await,
        404,
        5,
        "color",
    );
    assert_err(
        &in_org(&s, &id, "DELETE", "/management/v1/metadata/color", None).await,
        404,
        5,
        "color",
    );
    // Bulk remove is all or nothing.
    assert_err(
        &in_org(
            &s,
            &id,
            "DELETE",
            "/management/v1/metadata/_bulk",
            Some(json!({"keys": ["tier", "nope"]})),
        )
        .await,
        404,
        5,
        "nope",
    );
    let l = ok(in_org(
        &s,
        &id,
        "POST",
        "/management/v1/metadata/_search",
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&l), 2, "{l}");
    ok(in_org(
        &s,
        &id,
        "DELETE",
        "/management/v1/metadata/_bulk",
        Some(json!({"keys": ["tier", "tenant.region"]})),
    )
    .await);
    let l = ok(in_org(
        &s,
        &id,
        "POST",
        "/management/v1/metadata/_search",
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&l), 0, "{l}");
    assert!(l["result"].as_array().is_none_or(Vec::is_empty), "{l}");
    // Values must be base64.
    let bad = in_org(
        &s,
        &id,
        "POST",
        "/management/v1/metadata/k",
        Some(json!({"value": "%%%not base64"})),
    )
    .await;
    assert_eq!(bad.0, 400, "{}", bad.1);
});

both!(org_members, |s: TestServer| async move {
    let roles = ok(s
        .admin("POST", "/management/v1/orgs/members/roles/_search", None)
        .await);
    let roles: Vec<&str> = roles["result"]
        .as_array()
        .expect("result")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for r in ["ORG_OWNER", "ORG_OWNER_VIEWER", "ORG_USER_MANAGER"] {
        assert!(roles.contains(&r), "{r} missing: {roles:?}");
    }
    assert!(roles.iter().all(|r| r.starts_with("ORG_")), "{roles:?}");

    let org = new_org(&s, "Members Inc").await;
    let (uid, _) = machine(&s, Some(&org), "member-bot").await;
    let members_path = "/management/v1/orgs/me/members";

    // Unknown role, a role of another level, no roles.
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            members_path,
            Some(json!({"userId": uid, "roles": ["ORG_NOPE"]})),
        )
        .await,
        400,
        3,
        "ORG_NOPE",
    );
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            members_path,
            Some(json!({"userId": uid, "roles": ["IAM_OWNER"]})),
        )
        .await,
        400,
        3,
        "IAM_OWNER",
    );
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            members_path,
            Some(json!({"userId": uid, "roles": []})),
        )
        .await,
        400,
        3,
        "at least one role",
    );
    // Unknown user.
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            members_path,
            Some(json!({"userId": "404404", "roles": ["ORG_OWNER"]})),
        )
        .await,
        404,
        5,
        "user could not be found",
    );

    ok(in_org(
        &s,
        &org,
        "POST",
        members_path,
        Some(json!({"userId": uid, "roles": ["ORG_USER_MANAGER"]})),
    )
    .await);
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            members_path,
            Some(json!({"userId": uid, "roles": ["ORG_OWNER"]})),
        )
        .await,
        409,
        6,
        "member already exists",
    );
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/orgs/me/members/_search",
        Some(json!({"queries": [{"userIdQuery": {"userId": uid}}]})),
    )
    .await);
    assert_eq!(total(&l), 1, "{l}");
    assert_eq!(l["result"][0]["roles"], json!(["ORG_USER_MANAGER"]));
    assert_eq!(l["result"][0]["userType"], "TYPE_MACHINE");
    assert_eq!(l["result"][0]["userResourceOwner"], org.as_str());
    assert_eq!(l["result"][0]["displayName"], "member-bot");
    let all = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/orgs/me/members/_search",
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&all), 2, "{all}");

    // Update.
    ok(in_org(
        &s,
        &org,
        "PUT",
        &format!("{members_path}/{uid}"),
        Some(json!({"roles": ["ORG_OWNER_VIEWER", "ORG_USER_MANAGER"]})),
    )
    .await);
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/orgs/me/members/_search",
        Some(json!({"queries": [{"userIdQuery": {"userId": uid}}]})),
    )
    .await);
    assert_eq!(
        l["result"][0]["roles"],
        json!(["ORG_OWNER_VIEWER", "ORG_USER_MANAGER"])
    );
    assert_err(
        &in_org(
            &s,
            &org,
            "PUT",
            &format!("{members_path}/{uid}"),
            Some(json!({"roles": ["ORG_OWNER_VIEWER", "ORG_USER_MANAGER"]})),
        )
        .await,
        400,
        9,
        "roles have not been changed",
    );
    assert_err(
        &in_org(
            &s,
            &org,
            "PUT",
            &format!("{members_path}/{uid}"),
            Some(json!({"roles": ["ORG_BOGUS"]})),
        )
        .await,
        400,
        3,
        "ORG_BOGUS",
    );
    // A user that is not a member of this org (but of the default org).
    let (other, _) = machine(&s, None, "outsider").await;
    assert_err(
        &in_org(
            &s,
            &org,
            "PUT",
            &format!("{members_path}/{other}"),
            Some(json!({"roles": ["ORG_OWNER"]})),
        )
        .await,
        404,
        5,
        "member does not exist",
    );
    // Users of other orgs may be members.
    ok(in_org(
        &s,
        &org,
        "POST",
        members_path,
        Some(json!({"userId": other, "roles": ["ORG_OWNER_VIEWER"]})),
    )
    .await);

    // Remove.
    ok(in_org(&s, &org, "DELETE", &format!("{members_path}/{uid}"), None).await);
    assert_err(
        &in_org(&s, &org, "DELETE", &format!("{members_path}/{uid}"), None).await,
        404,
        5,
        "member does not exist",
    );
    let all = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/orgs/me/members/_search",
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&all), 2, "{all}");
    assert!(all["result"]
        .as_array()
        .expect("result")
        .iter()
        .all(|m| m["userId"] != uid.as_str()));
});

both!(authorization_by_org, |s: TestServer| async move {
    let a = new_org(&s, "Alpha").await;
    let b = new_org(&s, "Bravo").await;
    let (um, um_token) = machine(&s, Some(&a), "alpha-um").await;
    add_member(&s, &a, &um, &["ORG_USER_MANAGER"]).await;
    let um_call =
        |method: &'static str, path: &'static str, body: Option<Value>, org: Option<String>| {
            let (s, t) = (&s, um_token.clone());
            async move { s.call(method, path, body, Some(&t), org.as_deref()).await }
        };

    // Its own org is the default context.
    let me = ok(um_call("GET", "/management/v1/orgs/me", None, None).await);
    assert_eq!(me["org"]["id"], a.as_str());
    let users = ok(um_call(
        "POST",
        "/management/v1/users/_search",
        Some(json!({})),
        None,
    )
    .await);
    assert!(users["result"]
        .as_array()
        .expect("result")
        .iter()
        .any(|u| u["userName"] == "alpha-um"));
    // Users of other orgs are not listed.
    assert!(users["result"]
        .as_array()
        .expect("result")
        .iter()
        .all(|u| u["userName"] != "admin-sa"));
    let created = ok(um_call(
        "POST",
        "/management/v1/users/machine",
        Some(json!({"userName": "alpha-made", "name": "Made"})),
        Some(a.clone()),
    )
    .await);
    assert_eq!(created["details"]["resourceOwner"], a.as_str());
    // ... but no org creation, no admin API, nothing in other orgs.
    assert_err(
        &um_call(
            "POST",
            "/management/v1/orgs",
            Some(json!({"name": "Sneaky"})),
            None,
        )
        .await,
        403,
        7,
        "no matching permissions",
    );
    assert_err(
        &um_call("POST", "/admin/v1/orgs/_search", Some(json!({})), None).await,
        403,
        7,
        "no matching permissions",
    );
    assert_err(
        &um_call(
            "POST",
            "/management/v1/users/_search",
            Some(json!({})),
            Some(b.clone()),
        )
        .await,
        403,
        7,
        "no matching permissions",
    );
    // ORG_USER_MANAGER holds no org.write.
    assert_err(
        &um_call(
            "PUT",
            "/management/v1/orgs/me",
            Some(json!({"name": "Alpha 2"})),
            None,
        )
        .await,
        403,
        7,
        "no matching permissions",
    );

    // An ORG_OWNER_VIEWER reads but does not write.
    let (viewer, vt) = machine(&s, Some(&a), "alpha-viewer").await;
    add_member(&s, &a, &viewer, &["ORG_OWNER_VIEWER"]).await;
    let v = |method: &'static str, path: &'static str, body: Option<Value>| {
        let (s, t) = (&s, vt.clone());
        async move { s.call(method, path, body, Some(&t), None).await }
    };
    ok(v("GET", "/management/v1/orgs/me", None).await);
    ok(v(
        "POST",
        "/management/v1/orgs/me/members/_search",
        Some(json!({})),
    )
    .await);
    ok(v("POST", "/management/v1/users/_search", Some(json!({}))).await);
    for (method, path, body) in [
        (
            "PUT",
            "/management/v1/orgs/me",
            json!({"name": "Viewer Was Here"}),
        ),
        ("POST", "/management/v1/orgs/me/_deactivate", json!({})),
        (
            "POST",
            "/management/v1/users/machine",
            json!({"userName": "v-made", "name": "V"}),
        ),
        (
            "POST",
            "/management/v1/metadata/k",
            json!({"value": b64("v")}),
        ),
        (
            "POST",
            "/management/v1/orgs/me/members",
            json!({"userId": viewer, "roles": ["ORG_OWNER"]}),
        ),
        ("DELETE", "/management/v1/orgs/me", Value::Null),
    ] {
        let body = (!body.is_null()).then_some(body);
        assert_err(
            &v(method, path, body).await,
            403,
            7,
            "no matching permissions",
        );
    }
    let o = ok(in_org(&s, &a, "GET", "/management/v1/orgs/me", None).await);
    assert_eq!(o["org"]["name"], "Alpha");
    assert_eq!(o["org"]["state"], "ORG_STATE_ACTIVE");

    // No membership at all: an existing org and a made-up id look the same.
    let (_, nt) = machine(&s, Some(&a), "alpha-nobody").await;
    let existing = s
        .call("GET", "/management/v1/orgs/me", None, Some(&nt), Some(&b))
        .await;
    let missing = s
        .call(
            "GET",
            "/management/v1/orgs/me",
            None,
            Some(&nt),
            Some("999999999999999999"),
        )
        .await;
    assert_err(&existing, 403, 7, "no matching permissions");
    assert_err(&missing, 403, 7, "no matching permissions");
    assert_eq!(existing.1["code"], missing.1["code"]);
    assert_eq!(existing.1["message"], missing.1["message"]);
    assert_eq!(existing.1["details"], missing.1["details"]);
    // ... nor in its own org.
    assert_err(
        &s.call("GET", "/management/v1/orgs/me", None, Some(&nt), None)
            .await,
        403,
        7,
        "no matching permissions",
    );
    // Authenticated-only methods still work.
    ok(s.call("GET", "/auth/v1/users/me", None, Some(&nt), None)
        .await);

    // The IAM_OWNER passes the gate everywhere: a made-up org is NOT_FOUND.
    assert_err(
        &in_org(
            &s,
            "999999999999999999",
            "GET",
            "/management/v1/orgs/me",
            None,
        )
        .await,
        404,
        5,
        "organisation could not be found",
    );
    ok(in_org(&s, &b, "GET", "/management/v1/orgs/me", None).await);

    // Membership changes take effect at once.
    add_member(&s, &b, &um, &["ORG_OWNER_VIEWER"]).await;
    ok(um_call(
        "POST",
        "/management/v1/users/_search",
        Some(json!({})),
        Some(b.clone()),
    )
    .await);
    ok(in_org(
        &s,
        &b,
        "DELETE",
        &format!("/management/v1/orgs/me/members/{um}"),
        None,
    )
    .await);
    assert_err(
        &um_call(
            "POST",
            "/management/v1/users/_search",
            Some(json!({})),
            Some(b.clone()),
        )
        .await,
        403,
        7,
        "no matching permissions",
    );
});

both!(
    deactivated_org_users_cannot_authenticate,
    |s: TestServer| async move {
        let org = new_org(&s, "Sleepy").await;
        let (_, token) = machine(&s, Some(&org), "sleepy-bot").await;
        let me = ok(s
            .call("GET", "/auth/v1/users/me", None, Some(&token), None)
            .await);
        assert_eq!(me["user"]["userName"], "sleepy-bot");

        ok(in_org(
            &s,
            &org,
            "POST",
            "/management/v1/orgs/me/_deactivate",
            Some(json!({})),
        )
        .await);
        assert_err(
            &s.call("GET", "/auth/v1/users/me", None, Some(&token), None)
                .await,
            401,
            16,
            "token is invalid",
        );
        // Other orgs are unaffected.
        ok(s.admin("GET", "/auth/v1/users/me", None).await);

        ok(in_org(
            &s,
            &org,
            "POST",
            "/management/v1/orgs/me/_reactivate",
            Some(json!({})),
        )
        .await);
        let me = ok(s
            .call("GET", "/auth/v1/users/me", None, Some(&token), None)
            .await);
        assert_eq!(me["user"]["userName"], "sleepy-bot");
    }
);

both!(generated_primary_domains, |s: TestServer| async move {
    for (name, domain) in [
        ("Acme Corp", "acme-corp.localhost".to_string()),
        (
            "  Mixed CASE  Name ",
            "mixed-case--name.localhost".to_string(),
        ),
        // One DNS label: dots are dropped, so no org gets a subdomain of another's domain.
        ("shop.Castellan", "shopcastellan.localhost".to_string()),
        // At most 63 characters, never ending in a dash.
        (&*"n".repeat(200), format!("{}.localhost", "n".repeat(63))),
        (
            &*format!("{} b", "a".repeat(62)),
            format!("{}.localhost", "a".repeat(62)),
        ),
        ("!!!", "org.localhost".to_string()),
    ] {
        let id = new_org(&s, name).await;
        let o = ok(in_org(&s, &id, "GET", "/management/v1/orgs/me", None).await);
        assert_eq!(o["org"]["primaryDomain"], domain.as_str(), "{name:?}");
        let label = domain.trim_end_matches(".localhost");
        assert!(label.len() <= 63 && !label.contains('.'), "{domain}");
        let g = ok(s
            .admin(
                "GET",
                &format!("/management/v1/global/orgs/_by_domain?domain={domain}"),
                None,
            )
            .await);
        assert_eq!(g["org"]["id"], id.as_str());
    }
    // A different name whose generated domain is taken.
    assert_err(
        &s.admin("POST", "/management/v1/orgs", Some(json!({"name": "???"})))
            .await,
        409,
        6,
        "org.localhost",
    );
    // Renaming an org moves the truncated domain along.
    let long = new_org(&s, &format!("{}x", "q".repeat(70))).await;
    ok(in_org(
        &s,
        &long,
        "PUT",
        "/management/v1/orgs/me",
        Some(json!({"name": "Short"})),
    )
    .await);
    let o = ok(in_org(&s, &long, "GET", "/management/v1/orgs/me", None).await);
    assert_eq!(o["org"]["primaryDomain"], "short.localhost");
    let r = s
        .admin(
            "GET",
            &format!(
                "/management/v1/global/orgs/_by_domain?domain={}.localhost",
                "q".repeat(63)
            ),
            None,
        )
        .await;
    assert_err(&r, 404, 5, "could not be found");
});
