//! Integration tests: every test starts a real server (in process, on a free port) and talks
//! to it over real sockets, on SQLite and on PostgreSQL. One binary, to keep link times low.

mod admin;
mod api_tokens;
mod apps;
mod auth_self;
mod authorize_hints;
mod authz_matrix;
mod bad_input;
mod conformance;
mod export_import;
mod instance;
mod label_assets;
mod login;
mod login_device;
mod login_limits;
mod login_logout;
mod oidc_claims;
mod oidc_device;
mod oidc_implicit;
mod oidc_introspect;
mod oidc_key_rotation;
mod oidc_keys;
mod oidc_pkce;
mod oidc_settings;
mod oidc_token;
mod oidc_token_exchange;
mod ops;
mod org_domain_validation;
mod org_domains;
mod orgs;
mod policies;
mod policies_more;
mod project_grants;
mod project_members;
mod projects;
mod security_policy;
mod smtp;
mod store_batch;
mod system;
mod transport;
mod user_grants;
mod users;

pub use castellan_testkit::{both, both_backends, Backend, TestServer};
pub use serde_json::{json, Value};

/// Asserts a REST error: HTTP status, gRPC code and that the message mentions `needle`.
#[track_caller]
pub fn assert_err(res: &(u16, Value), status: u16, code: i64, needle: &str) {
    let (s, body) = res;
    assert_eq!(*s, status, "unexpected status, body: {body}");
    assert_eq!(
        body["code"].as_i64(),
        Some(code),
        "unexpected code, body: {body}"
    );
    let msg = body["message"].as_str().unwrap_or_default();
    assert!(
        msg.to_lowercase().contains(&needle.to_lowercase()),
        "message {msg:?} does not mention {needle:?}"
    );
    assert_eq!(
        body["details"][0]["@type"], "type.googleapis.com/zitadel.v1.ErrorDetail",
        "body: {body}"
    );
    assert!(
        body["details"][0]["id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "body: {body}"
    );
}

/// Asserts a 200 and returns the body.
#[track_caller]
pub fn ok(res: (u16, Value)) -> Value {
    assert_eq!(res.0, 200, "expected 200, got {}: {}", res.0, res.1);
    res.1
}

/// Base64 of a text (metadata values travel as base64 in JSON).
pub fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// `details.totalResult` of a list answer as a number.
pub fn total(v: &Value) -> u64 {
    v["details"]["totalResult"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0)
}

/// AddOrg as the IAM_OWNER machine user; returns the new org's id.
pub async fn new_org(s: &TestServer, name: &str) -> String {
    let r = ok(s
        .admin("POST", "/management/v1/orgs", Some(json!({ "name": name })))
        .await);
    r["id"].as_str().expect("org id").to_string()
}

/// A call as the IAM_OWNER machine user in the context of `org`.
pub async fn in_org(
    s: &TestServer,
    org: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    s.call(method, path, body, Some(&s.pat.clone()), Some(org))
        .await
}

/// A machine user created in `org` (the default org when `None`) with a PAT: (id, token).
pub async fn machine(s: &TestServer, org: Option<&str>, user_name: &str) -> (String, String) {
    let pat = s.pat.clone();
    let r = ok(s
        .call(
            "POST",
            "/management/v1/users/machine",
            Some(json!({ "userName": user_name, "name": user_name })),
            Some(&pat),
            org,
        )
        .await);
    let id = r["userId"].as_str().expect("userId").to_string();
    let t = ok(s
        .call(
            "POST",
            &format!("/management/v1/users/{id}/pats"),
            Some(json!({})),
            Some(&pat),
            org,
        )
        .await);
    (id, t["token"].as_str().expect("token").to_string())
}
