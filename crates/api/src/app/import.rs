//! ImportData: creates exported organisations and everything in them in this instance, keeping
//! their ids. Each object is one command of the normal application services (same validation,
//! all-or-nothing); one that fails is reported in `errors` and the rest goes on. The order is
//! ZITADEL's: per organisation the organisation, its policies, domains, users (metadata, keys),
//! projects, applications, app keys and roles; then every project grant and user grant; then
//! every member (organisation, project grant, project).

use super::apps::{self, Keep};
use super::members::{self, Scope};
use super::metadata::{self, Owner};
use super::policies::{add_custom, for_org};
use super::projects::{self, NewRole};
use super::users::{self, NewHuman, NewMachine};
use super::{grants, orgs, tokens, user_grants};
use crate::ctx::Ctx;
use crate::error::{ApiErr, R};
use crate::grpc::policies as conv;
use crate::state::St;
use castellan_domain::events::Profile;
use castellan_domain::{Error, Kind};
use castellan_proto::zitadel::admin::v1::{
    DataOrg, ImportDataError, ImportDataResponse, ImportDataSuccess, ImportDataSuccessOrg,
    ImportDataSuccessProjectGrant, ImportDataSuccessProjectGrantMember,
    ImportDataSuccessProjectMember, ImportDataSuccessUserGrant, ImportDataSuccessUserMetadata,
};
use castellan_store::projection::org_state;
use std::future::Future;
use std::time::{Duration, Instant};

/// Collects the outcome of the import, object by object.
struct Report {
    errors: Vec<ImportDataError>,
    orgs: Vec<ImportDataSuccessOrg>,
    deadline: Option<Instant>,
    timed_out: bool,
    /// Organisations created by this import (not found existing).
    created: Vec<String>,
}

impl Report {
    /// Runs one object's command; records its error under (`kind`, `id`). False when it failed
    /// or the time is over (then it does not run).
    async fn run<T, F>(&mut self, kind: &str, id: &str, f: F) -> bool
    where
        F: Future<Output = R<T>>,
    {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.timed_out = true;
            return false;
        }
        match f.await {
            Ok(_) => true,
            Err(ApiErr(e)) => {
                if e.kind == Kind::Internal {
                    tracing::error!(id = e.id, detail = ?e.detail, kind, object = id, "import failed");
                }
                self.errors.push(ImportDataError {
                    r#type: kind.to_string(),
                    id: id.to_string(),
                    message: e.to_string(),
                });
                false
            }
        }
    }

    fn org(&mut self, org_id: &str) -> Option<&mut ImportDataSuccessOrg> {
        self.orgs.iter_mut().find(|o| o.org_id == org_id)
    }
}

/// Imports `orgs` into the caller's instance; stops starting new objects after `timeout`.
pub async fn import(
    st: &St,
    ctx: &Ctx,
    orgs: Vec<DataOrg>,
    timeout: Option<Duration>,
) -> R<ImportDataResponse> {
    let mut rep = Report {
        errors: Vec::new(),
        orgs: Vec::new(),
        deadline: timeout.map(|t| Instant::now() + t),
        timed_out: false,
        created: Vec::new(),
    };
    for o in &orgs {
        import_org(st, ctx, o, &mut rep).await;
    }
    for o in &orgs {
        import_grants(st, ctx, o, &mut rep).await;
    }
    for o in &orgs {
        import_members(st, ctx, o, &mut rep).await;
    }
    // Last, so that nothing above meets an inactive organisation.
    for o in &orgs {
        if o.org_state == org_state::INACTIVE as i32 && rep.created.contains(&o.org_id) {
            let c = in_org(ctx, &o.org_id);
            rep.run("org_state", &o.org_id, orgs::deactivate(st, &c, &o.org_id))
                .await;
        }
    }
    if rep.timed_out {
        rep.errors.push(ImportDataError {
            r#type: "timeout".into(),
            id: String::new(),
            message: Error::new(Kind::Aborted, "IMPORT-t1m30", "Errors.Import.Timeout")
                .with("objects after this point were not imported")
                .to_string(),
        });
    }
    Ok(ImportDataResponse {
        errors: rep.errors,
        success: Some(ImportDataSuccess { orgs: rep.orgs }),
    })
}

/// The context of commands on one imported organisation.
fn in_org(ctx: &Ctx, org: &str) -> Ctx {
    Ctx {
        org_id: org.to_string(),
        ..ctx.clone()
    }
}

/// Phase one: the organisation and everything that only depends on it.
async fn import_org(st: &St, ctx: &Ctx, o: &DataOrg, rep: &mut Report) {
    let org_id = o.org_id.as_str();
    let name = o.org.as_ref().map(|r| r.name.clone()).unwrap_or_default();
    let created = rep
        .run(
            "org",
            org_id,
            orgs::add_with_id(st, ctx, Some(org_id), &name),
        )
        .await;
    // As ZITADEL: an organisation that exists already still gets the rest imported.
    if !created {
        let inst = ctx.instance_id.clone();
        if orgs::get(st, &inst, org_id).await.is_err() {
            return;
        }
    }
    rep.orgs.push(ImportDataSuccessOrg {
        org_id: org_id.to_string(),
        ..Default::default()
    });
    if created {
        rep.created.push(org_id.to_string());
    }
    let c = in_org(ctx, org_id);
    import_policies(st, &c, o, rep).await;
    import_domains(st, &c, o, &name, created, rep).await;
    import_users(st, &c, o, rep).await;
    import_projects(st, &c, o, rep).await;
}

async fn import_policies(st: &St, c: &Ctx, o: &DataOrg, rep: &mut Report) {
    let id = o.org_id.as_str();
    if let Some(p) = &o.domain_policy {
        rep.run("domain_policy", id, async {
            add_custom(st, &for_org(c, id)?, conv::domain_of!(p)).await
        })
        .await;
    }
    if let Some(p) = &o.lockout_policy {
        rep.run(
            "lockout_policy",
            id,
            add_custom(st, c, conv::lockout_of!(p)),
        )
        .await;
    }
    if let Some(p) = &o.login_policy {
        rep.run("login_policy", id, async {
            let mut s = conv::login_of!(p.clone());
            (s.second_factors, s.multi_factors) =
                (p.second_factors.clone(), p.multi_factors.clone());
            add_custom(st, c, s).await
        })
        .await;
    }
    if let Some(p) = &o.password_complexity_policy {
        rep.run(
            "password_complexity_policy",
            id,
            add_custom(st, c, conv::complexity_of!(p)),
        )
        .await;
    }
    if let Some(p) = &o.privacy_policy {
        rep.run(
            "privacy_policy",
            id,
            add_custom(st, c, conv::privacy_of!(p.clone())),
        )
        .await;
    }
}

/// Domains as exported; the generated domain of an organisation created here exists already.
async fn import_domains(
    st: &St,
    c: &Ctx,
    o: &DataOrg,
    name: &str,
    created: bool,
    rep: &mut Report,
) {
    let generated = orgs::generated_domain(name, &st.cfg.external_domain);
    for d in &o.domains {
        let key = format!("{}_{}", o.org_id, d.domain_name);
        let fresh = !(created && d.domain_name == generated);
        if fresh
            && !rep
                .run(
                    "domain",
                    &key,
                    orgs::import_domain(st, c, &o.org_id, &d.domain_name, d.is_verified),
                )
                .await
        {
            continue;
        }
        if let Some(s) = rep.org(&o.org_id) {
            s.domains.push(d.domain_name.clone());
        }
        if d.is_primary && fresh {
            rep.run(
                "domain_isprimary",
                &key,
                orgs::set_primary_domain(st, c, &o.org_id, &d.domain_name),
            )
            .await;
        }
    }
}

async fn import_users(st: &St, c: &Ctx, o: &DataOrg, rep: &mut Report) {
    let org = o.org_id.clone();
    for u in &o.human_users {
        let r = u.user.clone().unwrap_or_default();
        let ok = rep
            .run("human_user", &u.user_id, async {
                let p = users::required(r.profile, "profile")?;
                let e = users::required(r.email, "email")?;
                let ph = r.phone.unwrap_or_default();
                let h = NewHuman {
                    username: r.user_name,
                    profile: Profile {
                        first_name: p.first_name,
                        last_name: p.last_name,
                        nick_name: p.nick_name,
                        display_name: p.display_name,
                        preferred_language: p.preferred_language,
                        gender: p.gender,
                    },
                    email: e.email,
                    email_verified: e.is_email_verified,
                    phone: ph.phone,
                    phone_verified: ph.is_phone_verified,
                    password: r.password,
                    hashed_password: r.hashed_password.map(|h| h.value).unwrap_or_default(),
                    password_change_required: r.password_change_required,
                    user_id: Some(u.user_id.clone()),
                };
                users::add_human(st, c, org.clone(), h).await
            })
            .await;
        if ok {
            if let Some(s) = rep.org(&o.org_id) {
                s.human_user_ids.push(u.user_id.clone());
            }
        }
        // No OTP factors yet: a secret in the export is reported, as ZITADEL reports a failed one.
        if u.user.as_ref().is_some_and(|r| !r.otp_code.is_empty()) {
            let e: R<()> = Err(ApiErr(unsupported("otpCode")));
            rep.run("human_user_otp", &u.user_id, async { e }).await;
        }
    }
    for u in &o.machine_users {
        let r = u.user.clone().unwrap_or_default();
        let m = NewMachine {
            username: r.user_name,
            name: r.name,
            description: r.description,
            access_token_type: r.access_token_type,
            user_id: Some(u.user_id.clone()),
        };
        if rep
            .run(
                "machine_user",
                &u.user_id,
                users::add_machine(st, c, org.clone(), m),
            )
            .await
        {
            if let Some(s) = rep.org(&o.org_id) {
                s.machine_user_ids.push(u.user_id.clone());
            }
        }
    }
    for m in &o.user_metadata {
        let key = format!("{}_{}", m.id, m.key);
        let entry = vec![(m.key.clone(), m.value.clone())];
        if rep
            .run(
                "user_metadata",
                &key,
                metadata::set(st, c, Owner::User, &m.id, entry),
            )
            .await
        {
            if let Some(s) = rep.org(&o.org_id) {
                s.user_metadata.push(ImportDataSuccessUserMetadata {
                    user_id: m.id.clone(),
                    key: m.key.clone(),
                });
            }
        }
    }
    for k in &o.machine_keys {
        if rep
            .run(
                "machine_user_key",
                &k.key_id,
                tokens::add_key_with_id(
                    st,
                    c,
                    Some(&k.key_id),
                    &k.user_id,
                    k.r#type,
                    k.expiration_date.as_ref(),
                    &k.public_key,
                ),
            )
            .await
        {
            if let Some(s) = rep.org(&o.org_id) {
                s.machine_keys.push(k.key_id.clone());
            }
        }
    }
}

async fn import_projects(st: &St, c: &Ctx, o: &DataOrg, rep: &mut Report) {
    for p in &o.projects {
        let r = p.project.clone().unwrap_or_default();
        let ok = rep
            .run("project", &p.project_id, async {
                let s = projects::settings(
                    &r.name,
                    r.project_role_assertion,
                    r.project_role_check,
                    r.has_project_check,
                    r.private_labeling_setting,
                )?;
                projects::add_with_id(st, c, Some(&p.project_id), s).await
            })
            .await;
        if ok {
            if let Some(s) = rep.org(&o.org_id) {
                s.project_ids.push(p.project_id.clone());
            }
        }
    }
    for a in &o.oidc_apps {
        let r = a.app.clone().unwrap_or_default();
        let keep = keep(&a.app_id, &a.client_id);
        let ok = rep
            .run("oidc_app", &a.app_id, async {
                let name = apps::name(&r.name)?;
                let s = castellan_domain::oidc_app::OidcSettings {
                    redirect_uris: r.redirect_uris,
                    response_types: r.response_types,
                    grant_types: r.grant_types,
                    app_type: r.app_type,
                    auth_method_type: r.auth_method_type,
                    post_logout_redirect_uris: r.post_logout_redirect_uris,
                    version: r.version,
                    dev_mode: r.dev_mode,
                    access_token_type: r.access_token_type,
                    access_token_role_assertion: r.access_token_role_assertion,
                    id_token_role_assertion: r.id_token_role_assertion,
                    id_token_userinfo_assertion: r.id_token_userinfo_assertion,
                    clock_skew_nanos: apps::clock_skew(r.clock_skew.as_ref()),
                    additional_origins: r.additional_origins,
                    skip_native_app_success_page: r.skip_native_app_success_page,
                    back_channel_logout_uri: r.back_channel_logout_uri,
                    login: apps::login(r.login_version.as_ref()),
                };
                apps::add_oidc_with_id(st, c, &r.project_id, keep, name, s).await
            })
            .await;
        if ok {
            if let Some(s) = rep.org(&o.org_id) {
                s.oidc_app_ids.push(a.app_id.clone());
            }
        }
    }
    for a in &o.api_apps {
        let r = a.app.clone().unwrap_or_default();
        let keep = keep(&a.app_id, &a.client_id);
        let ok = rep
            .run("api_app", &a.app_id, async {
                let name = apps::name(&r.name)?;
                apps::add_api_with_id(st, c, &r.project_id, keep, name, r.auth_method_type).await
            })
            .await;
        if ok {
            if let Some(s) = rep.org(&o.org_id) {
                s.api_app_ids.push(a.app_id.clone());
            }
        }
    }
    for k in &o.app_keys {
        if rep
            .run(
                "app_key",
                &k.id,
                apps::import_key(
                    st,
                    c,
                    &k.project_id,
                    &k.app_id,
                    &k.id,
                    k.r#type,
                    k.expiration_date.as_ref(),
                    &k.public_key,
                ),
            )
            .await
        {
            if let Some(s) = rep.org(&o.org_id) {
                s.app_keys.push(k.id.clone());
            }
        }
    }
    for r in &o.project_roles {
        let key = format!("{}_{}", r.project_id, r.role_key);
        let ok = rep
            .run("project_role", &key, async {
                let role = NewRole::new("roleKey", &r.role_key, &r.display_name, &r.group)?;
                projects::add_roles(st, c, &r.project_id, vec![role]).await
            })
            .await;
        if ok {
            if let Some(s) = rep.org(&o.org_id) {
                s.project_roles.push(key);
            }
        }
    }
}

/// The ids an imported application keeps: its id, and its client id where the export has it.
fn keep(app_id: &str, client_id: &str) -> Keep {
    Keep {
        app_id: Some(app_id.to_string()),
        client_id: (!client_id.trim().is_empty()).then(|| client_id.to_string()),
    }
}

/// Phase two: project grants and user grants (they may point to other imported orgs).
async fn import_grants(st: &St, ctx: &Ctx, o: &DataOrg, rep: &mut Report) {
    if rep.org(&o.org_id).is_none() {
        return;
    }
    let c = in_org(ctx, &o.org_id);
    for g in &o.project_grants {
        let r = g.project_grant.clone().unwrap_or_default();
        let key = format!("{}_{}_{}", o.org_id, r.project_id, r.granted_org_id);
        if rep
            .run(
                "project_grant",
                &key,
                grants::add_with_id(
                    st,
                    &c,
                    Some(&g.grant_id),
                    &r.project_id,
                    &r.granted_org_id,
                    r.role_keys.clone(),
                ),
            )
            .await
        {
            if let Some(s) = rep.org(&o.org_id) {
                s.project_grants.push(ImportDataSuccessProjectGrant {
                    grant_id: g.grant_id.clone(),
                    project_id: r.project_id,
                    org_id: r.granted_org_id,
                });
            }
        }
    }
    for g in &o.user_grants {
        let key = format!("{}_{}_{}", o.org_id, g.project_id, g.user_id);
        if rep
            .run(
                "user_grant",
                &key,
                user_grants::add(
                    st,
                    &c,
                    &g.user_id,
                    &g.project_id,
                    &g.project_grant_id,
                    g.role_keys.clone(),
                ),
            )
            .await
        {
            if let Some(s) = rep.org(&o.org_id) {
                s.user_grants.push(ImportDataSuccessUserGrant {
                    project_id: g.project_id.clone(),
                    user_id: g.user_id.clone(),
                });
            }
        }
    }
}

/// Phase three: members of organisations, project grants and projects.
async fn import_members(st: &St, ctx: &Ctx, o: &DataOrg, rep: &mut Report) {
    if rep.org(&o.org_id).is_none() {
        return;
    }
    let c = in_org(ctx, &o.org_id);
    for m in &o.org_members {
        let key = format!("{}_{}", o.org_id, m.user_id);
        let scope = Scope::Org(o.org_id.clone());
        if rep
            .run(
                "org_member",
                &key,
                members::write(st, &c, scope, &m.user_id, Some(m.roles.clone()), true),
            )
            .await
        {
            if let Some(s) = rep.org(&o.org_id) {
                s.org_members.push(m.user_id.clone());
            }
        }
    }
    for m in &o.project_grant_members {
        let key = format!("{}_{}_{}_{}", o.org_id, m.project_id, m.grant_id, m.user_id);
        let scope = Scope::ProjectGrant(m.project_id.clone(), m.grant_id.clone());
        if rep
            .run(
                "project_grant_member",
                &key,
                members::write(st, &c, scope, &m.user_id, Some(m.roles.clone()), true),
            )
            .await
        {
            if let Some(s) = rep.org(&o.org_id) {
                s.project_grant_members
                    .push(ImportDataSuccessProjectGrantMember {
                        project_id: m.project_id.clone(),
                        grant_id: m.grant_id.clone(),
                        user_id: m.user_id.clone(),
                    });
            }
        }
    }
    for m in &o.project_members {
        let key = format!("{}_{}_{}", o.org_id, m.project_id, m.user_id);
        let scope = Scope::Project(m.project_id.clone());
        if rep
            .run(
                "project_member",
                &key,
                members::write(st, &c, scope, &m.user_id, Some(m.roles.clone()), true),
            )
            .await
        {
            if let Some(s) = rep.org(&o.org_id) {
                s.project_members.push(ImportDataSuccessProjectMember {
                    project_id: m.project_id.clone(),
                    user_id: m.user_id.clone(),
                });
            }
        }
    }
}

/// The error for an import source or export target Castellan does not offer (files, S3, GCS,
/// the v1 format): `field` names it.
pub fn unsupported(field: &str) -> Error {
    Error::new(Kind::Unimplemented, "IMPORT-n0t1m", "Errors.Import.Unsupported").with(format!(
        "{field} is not supported; send the organisations inline (dataOrgs) and read the export from the response"
    ))
}

/// The error for an ImportData request without data.
pub fn missing_data() -> Error {
    Error::invalid(
        "IMPORT-d4t4m",
        "Errors.Invalid.Argument",
        "dataOrgs is required",
    )
}

/// Parses a Go duration ("1h30m", "90s", "1.5m", "500ms"); `None` for an empty string.
pub fn go_duration(s: &str) -> R<Option<Duration>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    castellan_domain::duration::parse(s).map(Some).map_err(|_| {
        ApiErr(Error::invalid(
            "IMPORT-t1m31",
            "Errors.Invalid.Argument",
            format!("timeout \"{s}\" is not a duration such as \"30s\" or \"1h30m\""),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::go_duration;
    use std::time::Duration;

    #[test]
    fn go_durations() {
        let d = |s| go_duration(s).ok().flatten();
        assert_eq!(d("30s"), Some(Duration::from_secs(30)));
        assert_eq!(d("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(d("1.5m"), Some(Duration::from_secs(90)));
        assert_eq!(d("500ms"), Some(Duration::from_millis(500)));
        assert!(go_duration("").is_ok_and(|d| d.is_none()));
        for bad in ["10", "s", "1x", "-1s", "1..2s"] {
            assert!(go_duration(bad).is_err(), "{bad}");
        }
    }
}
