//! The authorisation matrix: every management and admin RPC, called by a holder of each
//! manager role on its level (instance, organisation, project, project grant), is allowed or
//! denied exactly as the role table says. Denied means 403; allowed means anything else
//! (the dummy requests may well be invalid or name missing objects).

use super::*;
use castellan_api::methods::{Api, Method, Methods};
use castellan_domain::roles::{Level, ROLES};

/// The objects a role holder acts on, all fresh per setup.
struct Scene {
    /// The context organisation (`x-zitadel-orgid`).
    org: String,
    /// A project of `org`.
    project: String,
    /// A project of another org, granted to `org`, and the grant.
    granted_project: String,
    grant: String,
    /// The role holder and its token.
    user: String,
    token: String,
}

async fn scene(s: &TestServer, role: &str, level: Level, n: usize) -> Scene {
    let org = new_org(s, &format!("matrix {n} {role}")).await;
    let owner_org = new_org(s, &format!("matrix owner {n} {role}")).await;
    let project = ok(in_org(
        s,
        &org,
        "POST",
        "/management/v1/projects",
        Some(json!({"name": "p"})),
    )
    .await)["id"]
        .as_str()
        .expect("project")
        .to_string();
    let granted_project = ok(in_org(
        s,
        &owner_org,
        "POST",
        "/management/v1/projects",
        Some(json!({"name": "gp"})),
    )
    .await)["id"]
        .as_str()
        .expect("project")
        .to_string();
    let grant = ok(in_org(
        s,
        &owner_org,
        "POST",
        &format!("/management/v1/projects/{granted_project}/grants"),
        Some(json!({"grantedOrgId": org})),
    )
    .await)["grantId"]
        .as_str()
        .expect("grant")
        .to_string();
    let (user, token) = machine(s, Some(&org), &format!("holder-{n}")).await;
    let body = json!({"userId": user, "roles": [role]});
    let path = match level {
        Level::Instance => "/admin/v1/members".to_string(),
        Level::Org => "/management/v1/orgs/me/members".to_string(),
        Level::Project => format!("/management/v1/projects/{project}/members"),
        Level::ProjectGrant => {
            format!("/management/v1/projects/{granted_project}/grants/{grant}/members")
        }
    };
    let as_org = if level == Level::ProjectGrant {
        &owner_org
    } else {
        &org
    };
    ok(in_org(s, as_org, "POST", &path, Some(body)).await);
    Scene {
        org,
        project,
        granted_project,
        grant,
        user,
        token,
    }
}

/// The request path for `template`, aimed at the scene's objects for the role's level.
fn fill(template: &str, sc: &Scene, level: Level) -> String {
    let project = if level == Level::ProjectGrant {
        &sc.granted_project
    } else {
        &sc.project
    };
    let mut out = String::new();
    let mut prev = "";
    for seg in template.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        if let Some(var) = seg.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
            let var = var.split('=').next().unwrap_or(var);
            let v: &str = match (var, prev) {
                ("project_id", _) | ("id", "projects") => project,
                ("id", "granted_projects") => &sc.granted_project,
                ("grant_id", _) if template.contains("/users/") => "404404",
                ("grant_id", _) => &sc.grant,
                ("org_id", _) | ("id", "orgs") => &sc.org,
                ("user_id", _) | ("id", "users") => "404404",
                // Path values are decoded before authorisation: they must be valid enums.
                ("type", "second_factors") => "SECOND_FACTOR_TYPE_OTP_SMS",
                ("type", "multi_factors") => "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION",
                ("generator_type", _) => "SECRET_GENERATOR_TYPE_INIT_CODE",
                _ => "matrix-key",
            };
            out.push_str(v);
        } else {
            out.push_str(seg);
        }
        prev = seg;
    }
    out
}

/// What the role table says about `m` for a holder of `role` on `level`.
fn expected(m: &Method, role: &str, level: Level) -> bool {
    if m.permission == "authenticated" {
        return true;
    }
    let grants = castellan_domain::roles::any_grants([role], &m.permission);
    match (m.api, level) {
        (Api::Admin, Level::Instance) | (Api::Management, Level::Instance | Level::Org) => grants,
        (Api::Management, Level::Project) => {
            grants
                && (m.check_field == "ProjectId"
                    || m.check_field == "Id"
                    || m.name == "ListProjects")
        }
        (Api::Management, Level::ProjectGrant) => {
            grants && (m.check_field == "GrantId" || m.name == "ListGrantedProjects")
        }
        _ => false,
    }
}

/// Whether a successful call may have destroyed the scene (so the next call needs a new one).
fn destructive(verb: &str, path: &str) -> bool {
    verb == "DELETE" || path.contains("_deactivate") || path.contains("_remove")
}

async fn run(s: &TestServer) {
    let methods: Vec<_> = Methods::get()
        .all
        .iter()
        .filter(|m| matches!(m.api, Api::Admin | Api::Management) && m.permission != "none")
        .cloned()
        .collect();
    let mut mismatches = Vec::new();
    let mut calls = 0;
    let mut n = 0;
    for role in ROLES {
        let level = role.level();
        // Roles nobody can be given (SELF_MANAGEMENT_GLOBAL applies to everyone implicitly).
        if !castellan_domain::roles::roles_of_level(level).contains(&role.name) {
            continue;
        }
        n += 1;
        let mut sc = scene(s, role.name, level, n).await;
        // Destructive calls last, so that most calls run against one scene.
        let mut ordered: Vec<(&Method, String, String, bool)> = Vec::new();
        for m in &methods {
            for b in &m.bindings {
                ordered.push((
                    m,
                    b.verb.as_str().to_string(),
                    b.template.clone(),
                    !b.body.is_empty(),
                ));
            }
        }
        ordered.sort_by_key(|(_, verb, t, _)| destructive(verb, t));
        for (m, verb, template, body) in ordered {
            let path = fill(&template, &sc, level);
            let want = expected(m, role.name, level);
            let (status, v) = s
                .call(
                    &verb,
                    &path,
                    body.then(|| json!({})),
                    Some(&sc.token),
                    Some(&sc.org),
                )
                .await;
            calls += 1;
            assert_ne!(status, 500, "{} as {}: {v}", m.name, role.name);
            let allowed = status != 403;
            if allowed != want {
                mismatches.push(format!(
                    "{} {verb} {path} as {} ({:?}): expected {}, got {status} {v}",
                    m.name,
                    role.name,
                    level,
                    if want { "allowed" } else { "denied" }
                ));
            }
            if allowed && status == 200 && destructive(&verb, &path) {
                n += 1;
                sc = scene(s, role.name, level, n).await;
            }
        }
        let _ = &sc.user;
    }
    assert!(
        mismatches.is_empty(),
        "{} of {calls} calls disagree with the role table:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(calls > 1000, "only {calls} calls");
}

both!(
    every_rpc_follows_the_role_table_for_every_role,
    |s| async move {
        run(&s).await;
    }
);
