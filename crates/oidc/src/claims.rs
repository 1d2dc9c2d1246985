//! Claims about a user for ID tokens, userinfo, introspection and JWT access tokens, from the
//! granted scopes (standard and ZITADEL's reserved ones) and the app's and project's flags.
//!
//! - `profile`, `email`, `phone` (OIDC core 5.4); `address` is granted but yields nothing (no
//!   addresses are stored). In an ID token issued with an access token they are left out
//!   unless the app sets `id_token_userinfo_assertion` (the client reads them from userinfo);
//!   JWT access tokens never carry them.
//! - Role claims `urn:zitadel:iam:org:project:roles` (the client's project) and
//!   `urn:zitadel:iam:org:project:{id}:roles` (each role audience project), shaped
//!   `{"role": {"orgId": "orgPrimaryDomain"}}`, from the user's active grants. Asked for by
//!   `urn:zitadel:iam:org:project:role:{key}` (only those keys) or
//!   `urn:zitadel:iam:org:projects:roles` (every audience project), or asserted: the project's
//!   `project_role_assertion` for userinfo and introspection, the app's
//!   `id_token_role_assertion` / `access_token_role_assertion` for ID / access tokens.
//!   `urn:zitadel:iam:org:roles:id:{orgId}` keeps only grants of those organisations. With the
//!   instance setting `flat_roles_claim`, also `roles`: the role keys as one array.
//! - `urn:zitadel:iam:user:resourceowner` → `...:resourceowner:{id,name,primary_domain}`;
//!   `urn:zitadel:iam:user:metadata` → `{"key": "<base64 value>"}`;
//!   `urn:zitadel:iam:org:domain:primary:{domain}` → `urn:zitadel:iam:org:domain:primary`.

use base64::Engine;
use castellan_api::app::claims_data::{self, ClientData, UserData};
use castellan_api::error::R;
use castellan_api::state::St;
use castellan_store::projection::MACHINE;
use serde_json::{json, Map, Value};

/// Where the claims go; decides which scopes become claims there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    IdToken,
    Userinfo,
    Introspection,
    AccessToken,
}

/// The app the claims are for.
#[derive(Debug, Clone)]
pub struct ClientCtx {
    pub client_id: String,
    pub project_id: String,
    /// Whether an access token is issued along with the ID token (then profile claims stay
    /// out of the ID token unless the app asserts them).
    pub with_access_token: bool,
}

pub const ROLES: &str = "urn:zitadel:iam:org:project:roles";
const ROLE_PREFIX: &str = "urn:zitadel:iam:org:project:role:";
const PROJECTS_ROLES: &str = "urn:zitadel:iam:org:projects:roles";
const AUD_PREFIX: &str = "urn:zitadel:iam:org:project:id:";
const ROLE_ORG_PREFIX: &str = "urn:zitadel:iam:org:roles:id:";
const RESOURCEOWNER: &str = "urn:zitadel:iam:user:resourceowner";
const METADATA: &str = "urn:zitadel:iam:user:metadata";
const PRIMARY_DOMAIN_PREFIX: &str = "urn:zitadel:iam:org:domain:primary:";

/// The user claims for `user_id` under `scopes`, for `target`. Protocol claims (`iss`,
/// `aud`, `exp`, `nonce`, ...) are the caller's.
pub async fn user_claims(
    st: &St,
    instance: &str,
    user_id: &str,
    scopes: &[String],
    client: &ClientCtx,
    target: Target,
) -> R<Map<String, Value>> {
    let user = claims_data::user(st, instance, user_id).await?;
    let app = claims_data::client(st, instance, &client.client_id).await?;
    let settings = crate::settings::of_instance(st, instance).await?;
    let mut flags = (*app).clone().unwrap_or_default();
    if flags.project_id.is_empty() {
        flags.project_id = client.project_id.clone();
    }
    let mut m = Map::new();
    m.insert("sub".into(), Value::String(user_id.to_string()));
    let has = |s: &str| scopes.iter().any(|x| x == s);
    let profile_here = match target {
        Target::Userinfo | Target::Introspection => true,
        Target::IdToken => !client.with_access_token || flags.id_token_userinfo_assertion,
        Target::AccessToken => false,
    };
    if profile_here {
        standard(&mut m, &user, &has);
    }
    if has(RESOURCEOWNER) {
        m.insert(format!("{RESOURCEOWNER}:id"), json!(user.user.org_id));
        m.insert(format!("{RESOURCEOWNER}:name"), json!(user.org_name));
        m.insert(
            format!("{RESOURCEOWNER}:primary_domain"),
            json!(user.org_primary_domain),
        );
    }
    if has(METADATA) && !user.metadata.is_empty() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let md: Map<String, Value> = user
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(b64.encode(v))))
            .collect();
        m.insert(METADATA.into(), Value::Object(md));
    }
    if let Some(d) = scopes
        .iter()
        .find_map(|s| s.strip_prefix(PRIMARY_DOMAIN_PREFIX))
    {
        m.insert("urn:zitadel:iam:org:domain:primary".into(), json!(d));
    }
    roles(
        &mut m,
        &user,
        scopes,
        &flags,
        target,
        profile_here,
        settings.flat_roles_claim,
    );
    Ok(m)
}

/// `profile`, `email` and `phone` claims.
fn standard(m: &mut Map<String, Value>, u: &UserData, has: &dyn Fn(&str) -> bool) {
    let r = &u.user;
    let machine = r.kind == MACHINE;
    if has("profile") {
        if machine {
            m.insert("name".into(), json!(r.machine_name));
        } else {
            let p = &r.profile;
            m.insert("name".into(), json!(p.display_name));
            m.insert("given_name".into(), json!(p.first_name));
            m.insert("family_name".into(), json!(p.last_name));
            if !p.nick_name.is_empty() {
                m.insert("nickname".into(), json!(p.nick_name));
            }
            if let Some(g) = match p.gender {
                1 => Some("female"),
                2 => Some("male"),
                3 => Some("diverse"),
                _ => None,
            } {
                m.insert("gender".into(), json!(g));
            }
            if !p.preferred_language.is_empty() {
                m.insert("locale".into(), json!(p.preferred_language));
            }
            let pic = castellan_api::assets::url(&r.org_id, &r.avatar_key);
            if !pic.is_empty() {
                m.insert("picture".into(), json!(pic));
            }
        }
        m.insert("preferred_username".into(), json!(r.login_name));
        m.insert("updated_at".into(), json!(r.changed_at / 1_000_000));
    }
    if machine {
        return;
    }
    if has("email") && !r.email.is_empty() {
        m.insert("email".into(), json!(r.email));
        m.insert("email_verified".into(), json!(r.email_verified));
    }
    if has("phone") && !r.phone.is_empty() {
        m.insert("phone_number".into(), json!(r.phone));
        m.insert("phone_number_verified".into(), json!(r.phone_verified));
    }
}

/// The role claims (see the module doc).
fn roles(
    m: &mut Map<String, Value>,
    u: &UserData,
    scopes: &[String],
    c: &ClientData,
    target: Target,
    profile_here: bool,
    flat: bool,
) {
    let keys: Vec<&str> = scopes
        .iter()
        .filter_map(|s| s.strip_prefix(ROLE_PREFIX))
        .collect();
    let orgs: Vec<&str> = scopes
        .iter()
        .filter_map(|s| s.strip_prefix(ROLE_ORG_PREFIX))
        .collect();
    let all_projects = scopes.iter().any(|s| s == PROJECTS_ROLES);
    let asserted = match target {
        Target::Userinfo | Target::Introspection => c.project_role_assertion,
        Target::IdToken => c.id_token_role_assertion,
        Target::AccessToken => c.access_token_role_assertion,
    };
    // Asked for explicitly: in an ID token only where the profile claims go too.
    let requested =
        (!keys.is_empty() || all_projects) && (target != Target::IdToken || profile_here);
    if !asserted && !requested {
        return;
    }
    let mut audience: Vec<&str> = Vec::new();
    if !c.project_id.is_empty() {
        audience.push(&c.project_id);
    }
    if all_projects {
        for s in scopes {
            if let Some(p) = s
                .strip_prefix(AUD_PREFIX)
                .and_then(|p| p.strip_suffix(":aud"))
            {
                if p != "zitadel" && !audience.contains(&p) {
                    audience.push(p);
                }
            }
        }
    }
    let mut flat_keys: Vec<String> = Vec::new();
    for project in audience {
        let mut claim = Map::new();
        for g in u.grants.iter().filter(|g| g.project_id == project) {
            if !orgs.is_empty() && !orgs.contains(&g.org_id.as_str()) {
                continue;
            }
            for k in &g.role_keys {
                if !keys.is_empty() && !keys.contains(&k.as_str()) {
                    continue;
                }
                let e = claim
                    .entry(k.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(o) = e {
                    o.insert(g.org_id.clone(), json!(g.org_primary_domain));
                }
                if !flat_keys.contains(k) {
                    flat_keys.push(k.clone());
                }
            }
        }
        if claim.is_empty() {
            continue;
        }
        if project == c.project_id {
            m.insert(ROLES.into(), Value::Object(claim.clone()));
        }
        m.insert(
            format!("urn:zitadel:iam:org:project:{project}:roles"),
            Value::Object(claim),
        );
    }
    if flat && !flat_keys.is_empty() {
        m.insert("roles".into(), json!(flat_keys));
    }
}

/// Whether `user_id` may get tokens for `project_id` under the project's
/// `project_role_check` and `has_project_check`; `Err(reason)` names the failed check (the
/// token and authorize endpoints answer it as an error instead of issuing).
pub async fn project_access(
    st: &St,
    instance: &str,
    user_id: &str,
    project_id: &str,
) -> R<Result<(), &'static str>> {
    claims_data::project_access(st, instance, user_id, project_id).await
}
