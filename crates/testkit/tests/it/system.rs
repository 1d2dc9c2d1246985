//! System API: system users' JWTs, instances and their domains, routing by host, and the
//! isolation of instances from each other.

use super::*;
use castellan_testkit::system::SystemUser;

/// A server with a SYSTEM_OWNER `sys` and a SYSTEM_OWNER_VIEWER `viewer`.
async fn start(backend: Backend) -> Option<(TestServer, SystemUser, SystemUser)> {
    let (owner, viewer) = (SystemUser::new("sys"), SystemUser::new("viewer"));
    let s = TestServer::start_with(backend, |c| {
        owner.configure(c, &[]);
        viewer.configure(c, &["SYSTEM_OWNER_VIEWER"]);
    })
    .await?;
    Some((s, owner, viewer))
}

async fn sys(
    s: &TestServer,
    u: &SystemUser,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let t = u.token(&s.origin());
    s.call(method, &format!("/system/v1{path}"), body, Some(&t), None)
        .await
}

/// Creates an instance with a machine owner holding a PAT: (instance id, host, PAT).
async fn machine_instance(s: &TestServer, u: &SystemUser, name: &str) -> (String, String, String) {
    let r = ok(sys(
        s,
        u,
        "POST",
        "/instances/_create",
        Some(json!({
            "instanceName": name,
            "firstOrgName": format!("{name} org"),
            "machine": { "userName": "boss-sa", "name": "Boss", "personalAccessToken": {} }
        })),
    )
    .await);
    let id = r["instanceId"].as_str().expect("instanceId").to_string();
    let pat = r["pat"].as_str().expect("pat").to_string();
    let got = ok(sys(s, u, "GET", &format!("/instances/{id}"), None).await);
    let host = got["instance"]["domains"]
        .as_array()
        .expect("domains")
        .iter()
        .find(|d| d["generated"] == true)
        .and_then(|d| d["domain"].as_str())
        .expect("generated domain")
        .to_string();
    (id, host, pat)
}

both_backends!(
    system_users_authenticate_with_self_signed_jwts,
    |backend: Backend| async move {
        let Some((s, owner, viewer)) = start(backend).await else {
            return;
        };
        let list = || Some(json!({}));
        // The owner lists the first instance.
        let r = ok(sys(&s, &owner, "POST", "/instances/_search", list()).await);
        assert_eq!(total(&r), 1, "{r}");
        assert_eq!(r["result"][0]["name"], "ZITADEL");
        assert_eq!(r["result"][0]["state"], "STATE_RUNNING");
        // The viewer reads but cannot create.
        ok(sys(&s, &viewer, "POST", "/instances/_search", list()).await);
        let r = sys(
            &s,
            &viewer,
            "POST",
            "/instances/_create",
            Some(json!({"instanceName": "x", "machine": {"userName": "a"}})),
        )
        .await;
        assert_err(&r, 403, 7, "permission");

        let call = |t: Option<String>| {
            let s = &s;
            async move {
                s.call(
                    "POST",
                    "/system/v1/instances/_search",
                    list(),
                    t.as_deref(),
                    None,
                )
                .await
            }
        };
        assert_err(&call(None).await, 401, 16, "missing");
        // An instance PAT is not a system token.
        assert_err(&call(Some(s.pat.clone())).await, 401, 16, "invalid");
        // Signed by a key that is not the configured one.
        let impostor = SystemUser::new("sys");
        assert_err(
            &call(Some(impostor.token(&s.origin()))).await,
            401,
            16,
            "signature",
        );
        // Unknown issuer.
        let stranger = SystemUser::new("stranger");
        assert_err(
            &call(Some(stranger.token(&s.origin()))).await,
            401,
            16,
            "stranger",
        );
        // Wrong audience, expired, iss != sub.
        assert_err(
            &call(Some(owner.token("https://elsewhere.example"))).await,
            401,
            16,
            "aud",
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("time")
            .as_secs();
        let expired = owner
            .sign(&json!({"iss":"sys","sub":"sys","aud":s.origin(),"iat":now-7200,"exp":now-3600}));
        assert_err(&call(Some(expired)).await, 401, 16, "expired");
        let other_sub =
            owner.sign(&json!({"iss":"sys","sub":"x","aud":s.origin(),"iat":now,"exp":now+60}));
        assert_err(&call(Some(other_sub)).await, 401, 16, "sub");
        assert_err(&call(Some("a.b.c".into())).await, 401, 16, "invalid");
        // A system token does not open the instance APIs.
        let t = owner.token(&s.origin());
        let r = s
            .call("GET", "/admin/v1/instances/me", None, Some(&t), None)
            .await;
        assert_eq!(r.0, 401, "{}", r.1);
    }
);

both_backends!(
    instances_are_created_routed_by_host_and_removed,
    |backend: Backend| async move {
        let Some((s, owner, _)) = start(backend).await else {
            return;
        };
        let (id, host, pat) = machine_instance(&s, &owner, "Acme Corp").await;
        assert!(
            host.starts_with("acme-corp-") && host.ends_with(".localhost"),
            "{host}"
        );
        // The new instance answers on its host with its own data and its owner's PAT.
        let me = ok(s
            .call_host(
                &host,
                "GET",
                "/admin/v1/instances/me",
                None,
                Some(&pat),
                None,
            )
            .await);
        assert_eq!(me["instance"]["id"], id.as_str());
        assert_eq!(me["instance"]["name"], "Acme Corp");
        let org = ok(s
            .call_host(
                &host,
                "GET",
                "/management/v1/orgs/me",
                None,
                Some(&pat),
                None,
            )
            .await);
        assert_eq!(org["org"]["name"], "Acme Corp org");
        let members = ok(sys(
            &s,
            &owner,
            "POST",
            &format!("/instances/{id}/members/_search"),
            Some(json!({})),
        )
        .await);
        assert_eq!(
            members["result"][0]["roles"],
            json!(["IAM_OWNER"]),
            "{members}"
        );
        // The PAT of one instance means nothing on another.
        let r = s
            .call_host(
                &host,
                "GET",
                "/admin/v1/instances/me",
                None,
                Some(&s.pat),
                None,
            )
            .await;
        assert_err(&r, 401, 16, "invalid");
        let r = s
            .call("GET", "/admin/v1/instances/me", None, Some(&pat), None)
            .await;
        assert_err(&r, 401, 16, "invalid");
        // An unknown host is named in a NOT_FOUND.
        let r = s
            .call_host(
                "nobody.example",
                "GET",
                "/admin/v1/instances/me",
                None,
                Some(&pat),
                None,
            )
            .await;
        assert_err(&r, 404, 5, "nobody.example");
        // The trusted proxy header selects the instance too.
        let r = s
            .http
            .get(s.url("/admin/v1/instances/me"))
            .header("x-zitadel-instance-host", &host)
            .bearer_auth(&pat)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), 200);

        // Rename, list with queries.
        ok(sys(
            &s,
            &owner,
            "PUT",
            &format!("/instances/{id}"),
            Some(json!({"instanceName": "Acme Inc"})),
        )
        .await);
        let r = ok(sys(
            &s,
            &owner,
            "POST",
            "/instances/_search",
            Some(json!({"queries": [{"idQuery": {"ids": [id]}}]})),
        )
        .await);
        assert_eq!(total(&r), 1);
        assert_eq!(r["result"][0]["name"], "Acme Inc");
        let r = ok(sys(
            &s,
            &owner,
            "POST",
            "/instances/_search",
            Some(json!({"queries": [{"domainQuery": {"domains": ["localhost"]}}]})),
        )
        .await);
        assert_eq!(total(&r), 1);
        assert_eq!(r["result"][0]["name"], "ZITADEL");
        let r = ok(sys(
            &s,
            &owner,
            "POST",
            "/instances/_search",
            Some(json!({"query": {"limit": 1, "asc": true}, "sortingColumn": "FIELD_NAME_NAME"})),
        )
        .await);
        assert_eq!(total(&r), 2);
        assert_eq!(r["result"].as_array().map(Vec::len), Some(1));
        assert_eq!(r["result"][0]["name"], "Acme Inc");

        // Remove: the host, the PAT and the domain are gone; other instances stay.
        ok(sys(&s, &owner, "DELETE", &format!("/instances/{id}"), None).await);
        let r = sys(&s, &owner, "GET", &format!("/instances/{id}"), None).await;
        assert_err(&r, 404, 5, "instance");
        let r = s
            .call_host(
                &host,
                "GET",
                "/admin/v1/instances/me",
                None,
                Some(&pat),
                None,
            )
            .await;
        assert_err(&r, 404, 5, &host);
        let r = ok(sys(
            &s,
            &owner,
            "POST",
            &format!("/domains/{host}/_exists"),
            Some(json!({})),
        )
        .await);
        assert_ne!(r["exists"], true, "{r}");
        ok(s.admin("GET", "/admin/v1/instances/me", None).await);
        let r = sys(&s, &owner, "DELETE", &format!("/instances/{id}"), None).await;
        assert_err(&r, 404, 5, "instance");
    }
);

both_backends!(
    instance_domains_and_human_owners,
    |backend: Backend| async move {
        let Some((s, owner, _)) = start(backend).await else {
            return;
        };
        let r = ok(sys(
            &s,
            &owner,
            "POST",
            "/instances",
            Some(json!({
                "instanceName": "Beta",
                "customDomain": "auth.beta.example",
                "ownerUserName": "root",
                "ownerEmail": {"email": "root@beta.example", "isEmailVerified": true},
                "ownerPassword": {"password": "Sup3r-secret!"}
            })),
        )
        .await);
        let id = r["instanceId"].as_str().expect("id").to_string();
        let domains = ok(sys(
            &s,
            &owner,
            "POST",
            &format!("/instances/{id}/domains/_search"),
            Some(json!({})),
        )
        .await);
        assert_eq!(total(&domains), 2, "{domains}");
        let primary: Vec<&Value> = domains["result"]
            .as_array()
            .expect("result")
            .iter()
            .filter(|d| d["primary"] == true)
            .collect();
        assert_eq!(primary.len(), 1);
        assert_eq!(primary[0]["domain"], "auth.beta.example");
        assert_ne!(primary[0]["generated"], true);
        let generated = domains["result"]
            .as_array()
            .expect("result")
            .iter()
            .find(|d| d["generated"] == true)
            .and_then(|d| d["domain"].as_str())
            .expect("generated")
            .to_string();
        // The owner is a human IAM_OWNER of the new instance.
        let m = ok(sys(
            &s,
            &owner,
            "POST",
            &format!("/instances/{id}/members/_search"),
            Some(json!({})),
        )
        .await);
        assert_eq!(total(&m), 1);
        assert_eq!(m["result"][0]["roles"], json!(["IAM_OWNER"]));
        assert_eq!(m["result"][0]["email"], "root@beta.example");

        let path = format!("/instances/{id}/domains");
        ok(sys(
            &s,
            &owner,
            "POST",
            &path,
            Some(json!({"domain": "login.beta.example"})),
        )
        .await);
        let r = ok(sys(
            &s,
            &owner,
            "POST",
            "/domains/login.beta.example/_exists",
            Some(json!({})),
        )
        .await);
        assert_eq!(r["exists"], true);
        // Domains are unique across instances; the first instance's domain is taken.
        let r = sys(
            &s,
            &owner,
            "POST",
            &path,
            Some(json!({"domain": "login.beta.example"})),
        )
        .await;
        assert_err(&r, 409, 6, "login.beta.example");
        let first = ok(sys(
            &s,
            &owner,
            "POST",
            "/instances/_search",
            Some(json!({"queries": [{"domainQuery": {"domains": ["localhost"]}}]})),
        )
        .await);
        let first = first["result"][0]["id"]
            .as_str()
            .expect("first instance")
            .to_string();
        let r = sys(
            &s,
            &owner,
            "POST",
            &format!("/instances/{first}/domains"),
            Some(json!({"domain": "login.beta.example"})),
        )
        .await;
        assert_err(&r, 409, 6, "login.beta.example");
        let r = sys(
            &s,
            &owner,
            "POST",
            &path,
            Some(json!({"domain": "not a domain"})),
        )
        .await;
        assert_err(&r, 400, 3, "domain");
        // The new domain routes to the instance.
        let r = s
            .call_host(
                "login.beta.example",
                "GET",
                "/auth/v1/healthz",
                None,
                None,
                None,
            )
            .await;
        assert_eq!(r.0, 200);
        // Primary and generated domains cannot be removed.
        let r = sys(
            &s,
            &owner,
            "DELETE",
            &format!("{path}/auth.beta.example"),
            None,
        )
        .await;
        assert_err(&r, 400, 9, "primary");
        let r = sys(&s, &owner, "DELETE", &format!("{path}/{generated}"), None).await;
        assert_err(&r, 400, 9, "generated");
        ok(sys(
            &s,
            &owner,
            "POST",
            &format!("{path}/_set_primary"),
            Some(json!({"domain": "login.beta.example"})),
        )
        .await);
        ok(sys(
            &s,
            &owner,
            "DELETE",
            &format!("{path}/auth.beta.example"),
            None,
        )
        .await);
        let r = sys(
            &s,
            &owner,
            "DELETE",
            &format!("{path}/auth.beta.example"),
            None,
        )
        .await;
        assert_err(&r, 404, 5, "auth.beta.example");
        let r = sys(
            &s,
            &owner,
            "POST",
            &format!("{path}/_set_primary"),
            Some(json!({"domain": "nope.example"})),
        )
        .await;
        assert_err(&r, 404, 5, "nope.example");
        let got = ok(sys(&s, &owner, "GET", &format!("/instances/{id}"), None).await);
        assert_eq!(got["instance"]["domains"].as_array().map(Vec::len), Some(2));

        // Bad input names the field.
        let r = sys(
            &s,
            &owner,
            "POST",
            "/instances/_create",
            Some(json!({"instanceName": " ", "machine": {"userName": "a"}})),
        )
        .await;
        assert_err(&r, 400, 3, "instanceName");
        let r = sys(
            &s,
            &owner,
            "POST",
            "/instances/_create",
            Some(json!({"instanceName": "x"})),
        )
        .await;
        assert_err(&r, 400, 3, "owner");
        let r = sys(
            &s,
            &owner,
            "POST",
            "/instances/_create",
            Some(json!({"instanceName": "x", "customDomain": "a b", "machine": {"userName": "a"}})),
        )
        .await;
        assert_err(&r, 400, 3, "customDomain");
        let r = sys(
            &s,
            &owner,
            "POST",
            "/instances",
            Some(json!({"instanceName": "x", "ownerEmail": {"email": "nope"}})),
        )
        .await;
        assert_err(&r, 400, 3, "email");
        let r = sys(&s, &owner, "POST", "/instances", Some(json!({"instanceName": "x", "ownerEmail": {"email": "a@b.example"}, "ownerPassword": {"password": "short"}}))).await;
        assert_eq!(r.0, 400, "{}", r.1);
        let r = sys(&s, &owner, "POST", "/instances/_create", Some(json!({"instanceName": "x", "defaultLanguage": "tlh", "machine": {"userName": "a"}}))).await;
        assert_err(&r, 400, 3, "tlh");
        let r = sys(
            &s,
            &owner,
            "PUT",
            "/instances/123",
            Some(json!({"instanceName": "y"})),
        )
        .await;
        assert_err(&r, 404, 5, "123");
        let r = ok(sys(&s, &owner, "POST", "/instances/_search", Some(json!({}))).await);
        assert_eq!(total(&r), 2, "nothing half-created: {r}");
    }
);

both_backends!(
    machine_owner_gets_a_key_file,
    |backend: Backend| async move {
        let Some((s, owner, _)) = start(backend).await else {
            return;
        };
        let r = ok(sys(
            &s,
            &owner,
            "POST",
            "/instances/_create",
            Some(json!({
                "instanceName": "Keyed",
                "machine": { "userName": "robot", "machineKey": {"type": "KEY_TYPE_JSON"} }
            })),
        )
        .await);
        assert!(r.get("pat").is_none() || r["pat"] == "", "{r}");
        let file = b64_decode(r["machineKey"].as_str().expect("machineKey"));
        let key: Value = serde_json::from_slice(&file).expect("key file JSON");
        assert_eq!(key["type"], "serviceaccount");
        assert!(key["key"]
            .as_str()
            .is_some_and(|k| k.starts_with("-----BEGIN RSA PRIVATE KEY-----")));
        assert!(key["userId"].as_str().is_some_and(|u| !u.is_empty()));
    }
);

fn b64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}

/// Ids and names of one instance's objects, and a token of its IAM_OWNER.
struct Tenant {
    host: String,
    pat: String,
    org: String,
    other_org: String,
    user: String,
    project: String,
    project_grant: String,
    user_grant: String,
    marker: String,
}

/// Fills an instance with an org, a user, a project with a role granted to a second org and
/// a user grant, all named with `marker`.
async fn populate(s: &TestServer, host: &str, pat: &str, marker: &str) -> Tenant {
    let call = |m: &'static str, p: String, b: Value, org: Option<String>| async move {
        ok(s.call_host(host, m, &p, Some(b), Some(pat), org.as_deref())
            .await)
    };
    let org = call(
        "POST",
        "/management/v1/orgs".into(),
        json!({"name": format!("{marker} org")}),
        None,
    )
    .await["id"]
        .as_str()
        .expect("org")
        .to_string();
    let other_org = call(
        "POST",
        "/management/v1/orgs".into(),
        json!({"name": format!("{marker} partner")}),
        None,
    )
    .await["id"]
        .as_str()
        .expect("org")
        .to_string();
    let user = call(
        "POST",
        "/management/v1/users/human/_import".into(),
        json!({"userName": format!("{marker}-user"), "profile": {"firstName": marker, "lastName": marker},
               "email": {"email": format!("{marker}@example.com")}}),
        Some(org.clone()),
    )
    .await["userId"]
        .as_str()
        .expect("user")
        .to_string();
    let project = call(
        "POST",
        "/management/v1/projects".into(),
        json!({"name": format!("{marker} project")}),
        Some(org.clone()),
    )
    .await["id"]
        .as_str()
        .expect("project")
        .to_string();
    call(
        "POST",
        format!("/management/v1/projects/{project}/roles"),
        json!({"roleKey": format!("{marker}-role"), "displayName": marker}),
        Some(org.clone()),
    )
    .await;
    let project_grant = call(
        "POST",
        format!("/management/v1/projects/{project}/grants"),
        json!({"grantedOrgId": other_org, "roleKeys": [format!("{marker}-role")]}),
        Some(org.clone()),
    )
    .await["grantId"]
        .as_str()
        .expect("grant")
        .to_string();
    let user_grant = call(
        "POST",
        format!("/management/v1/users/{user}/grants"),
        json!({"projectId": project, "roleKeys": [format!("{marker}-role")]}),
        Some(org.clone()),
    )
    .await["userGrantId"]
        .as_str()
        .expect("user grant")
        .to_string();
    call(
        "POST",
        format!("/management/v1/users/{user}/metadata/k"),
        json!({"value": b64(marker)}),
        Some(org.clone()),
    )
    .await;
    Tenant {
        host: host.to_string(),
        pat: pat.to_string(),
        org,
        other_org,
        user,
        project,
        project_grant,
        user_grant,
        marker: marker.to_string(),
    }
}

/// A value for a path variable of `template`: the victim's object of that kind.
fn fill(template: &str, victim: &Tenant) -> String {
    let mut out = String::new();
    let mut prev = "";
    for seg in template.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        if let Some(var) = seg.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
            let var = var.split('=').next().unwrap_or(var);
            let v: &str = match (var, prev) {
                ("user_id", _) | ("id", "users") => &victim.user,
                ("project_id", _) | ("id", "projects") => &victim.project,
                ("org_id", _) | ("id", "orgs") => &victim.org,
                ("grant_id", "grants") if template.contains("/users/") => &victim.user_grant,
                ("grant_id", _) => &victim.project_grant,
                ("id", "grants") => &victim.user_grant,
                (v, _) if v.contains("key") || v.contains("domain") => "probekey",
                // An enum path variable must name a value, else REST rejects it before the gate.
                ("generator_type", _) => "SECRET_GENERATOR_TYPE_INIT_CODE",
                _ => &victim.org,
            };
            out.push_str(v);
        } else {
            out.push_str(seg);
        }
        prev = seg;
    }
    out
}

/// Every read RPC of the instance APIs, called on `attacker`'s instance with its token and
/// the victim's ids everywhere: nothing of the victim comes back.
async fn probe(s: &TestServer, attacker: &Tenant, victim: &Tenant) -> usize {
    use castellan_api::methods::{Api, Methods};
    let secrets = [
        victim.org.as_str(),
        victim.other_org.as_str(),
        victim.user.as_str(),
        victim.project.as_str(),
        victim.project_grant.as_str(),
        victim.user_grant.as_str(),
        victim.marker.as_str(),
    ];
    let mut calls = 0;
    for m in &Methods::get().all {
        let read = m.permission.ends_with(".read") || m.permission == "authenticated";
        if m.api == Api::System || m.permission == "none" || !read {
            continue;
        }
        for b in &m.bindings {
            let path = fill(&b.template, victim);
            let body = (!b.body.is_empty()).then(|| json!({}));
            for org in [Some(victim.org.as_str()), None] {
                let (status, v) = s
                    .call_host(
                        &attacker.host,
                        b.verb.as_str(),
                        &path,
                        body.clone(),
                        Some(&attacker.pat),
                        org,
                    )
                    .await;
                calls += 1;
                let text = v.to_string();
                for secret in secrets {
                    assert!(
                        !text.contains(secret),
                        "{} {path} ({status}) leaked {secret}: {text}",
                        m.name
                    );
                }
                assert_ne!(status, 500, "{} {path}: {text}", m.name);
            }
            // The attacker's token is not valid on the victim's host at all.
            let (status, v) = s
                .call_host(
                    &victim.host,
                    b.verb.as_str(),
                    &path,
                    body.clone(),
                    Some(&attacker.pat),
                    None,
                )
                .await;
            assert_eq!(status, 401, "{} {path} on the victim's host: {v}", m.name);
            calls += 1;
        }
    }
    calls
}

both_backends!(
    nothing_of_one_instance_is_visible_from_another,
    |backend: Backend| async move {
        let Some((s, owner, _)) = start(backend).await else {
            return;
        };
        let (_, host_b, pat_b) = machine_instance(&s, &owner, "Bravo").await;
        let a = populate(&s, "localhost", &s.pat, "alphamarker").await;
        let b = populate(&s, &host_b, &pat_b, "bravomarker").await;
        // Sanity: each tenant sees its own objects through the same paths.
        let own = ok(s
            .call_host(
                &b.host,
                "GET",
                &format!("/management/v1/users/{}", b.user),
                None,
                Some(&b.pat),
                Some(&b.org),
            )
            .await);
        assert!(own.to_string().contains("bravomarker"));
        let n = probe(&s, &a, &b).await + probe(&s, &b, &a).await;
        assert!(n > 100, "only {n} calls made");
    }
);
