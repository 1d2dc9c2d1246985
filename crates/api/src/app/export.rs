//! ExportData: organisations with their policies, domains, users, projects, applications,
//! grants and members in ZITADEL's export format (`admin.v1.DataOrg`), each object as the
//! request that creates it plus the id it keeps. As ZITADEL's, grants, user grants and members
//! are exported only when everything they point to is part of the export.

use super::apps::{AppRow, COLS as APP_COLS};
use super::policies::effective;
use crate::convert::ts;
use crate::ctx::Ctx;
use crate::error::R;
use crate::state::St;
use castellan_domain::password::Complexity;
use castellan_domain::policy::{Domain, Lockout, Login, PolicySettings, Privacy};
use castellan_domain::roles::Level;
use castellan_domain::Result;
use castellan_proto::zitadel::admin::v1::{AddCustomDomainPolicyRequest, DataOrg};
use castellan_proto::zitadel::management::v1 as mpb;
use castellan_proto::zitadel::org::v1 as opb;
use castellan_proto::zitadel::v1::v1 as dpb;
use castellan_store::projection::{app_kind, keys_of_json, HUMAN};
use castellan_store::{params, Conn, Row};
use std::collections::HashSet;

/// What to export.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only these organisations (all when empty).
    pub org_ids: Vec<String>,
    /// Never these organisations.
    pub excluded_org_ids: Vec<String>,
    /// Include the password hashes of human users.
    pub with_passwords: bool,
}

/// Exports the organisations of the caller's instance.
pub async fn export(st: &St, ctx: &Ctx, opts: Options) -> R<Vec<DataOrg>> {
    let inst = ctx.instance_id.clone();
    Ok(st.db.read(move |c| export_in(c, &inst, &opts)).await?)
}

/// The ids of what is exported so far: links to anything else are left out.
#[derive(Default)]
struct Seen {
    orgs: HashSet<String>,
    users: HashSet<String>,
    projects: HashSet<String>,
    grants: HashSet<String>,
}

fn export_in(c: &mut dyn Conn, inst: &str, opts: &Options) -> Result<Vec<DataOrg>> {
    let mut seen = Seen::default();
    let mut out = Vec::new();
    for r in c.query(
        "SELECT id, name, state FROM orgs WHERE instance_id = ? ORDER BY created_at, id",
        &params![inst],
    )? {
        let id = r.text(0)?;
        if (!opts.org_ids.is_empty() && !opts.org_ids.contains(&id))
            || opts.excluded_org_ids.contains(&id)
        {
            continue;
        }
        seen.orgs.insert(id.clone());
        let mut o = DataOrg {
            org_id: id.clone(),
            org: Some(mpb::AddOrgRequest { name: r.text(1)? }),
            org_state: r.int(2)? as i32,
            ..Default::default()
        };
        policies(c, inst, &mut o)?;
        o.domains = domains(c, inst, &id)?;
        users(c, inst, opts.with_passwords, &mut o, &mut seen)?;
        projects(c, inst, &mut o, &mut seen)?;
        out.push(o);
    }
    for o in &mut out {
        o.project_grants = project_grants(c, inst, o, &mut seen)?;
    }
    for o in &mut out {
        o.user_grants = user_grants(c, inst, &o.org_id, &seen)?;
        o.org_members = members(c, inst, Level::Org, &o.org_id, &seen)?
            .into_iter()
            .map(|(user_id, roles)| mpb::AddOrgMemberRequest { user_id, roles })
            .collect();
        for p in o
            .projects
            .iter()
            .map(|p| p.project_id.clone())
            .collect::<Vec<_>>()
        {
            for (user_id, roles) in members(c, inst, Level::Project, &p, &seen)? {
                o.project_members.push(mpb::AddProjectMemberRequest {
                    project_id: p.clone(),
                    user_id,
                    roles,
                });
            }
        }
        let grants: Vec<(String, String)> = o
            .project_grants
            .iter()
            .filter_map(|g| {
                let pg = g.project_grant.as_ref()?;
                Some((pg.project_id.clone(), g.grant_id.clone()))
            })
            .collect();
        for (project_id, grant_id) in grants {
            for (user_id, roles) in members(c, inst, Level::ProjectGrant, &grant_id, &seen)? {
                o.project_grant_members
                    .push(mpb::AddProjectGrantMemberRequest {
                        project_id: project_id.clone(),
                        grant_id: grant_id.clone(),
                        user_id,
                        roles,
                    });
            }
        }
    }
    Ok(out)
}

/// The organisation's own policy of a kind, if it has one.
fn custom<T: PolicySettings>(c: &mut dyn Conn, inst: &str, org: &str) -> Result<Option<T>> {
    let p = effective::<T>(c, inst, org)?;
    Ok((!p.is_default).then_some(p.settings))
}

fn duration(secs: i64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: secs,
        nanos: 0,
    })
}

fn policies(c: &mut dyn Conn, inst: &str, o: &mut DataOrg) -> Result<()> {
    let org = o.org_id.clone();
    o.domain_policy = custom::<Domain>(c, inst, &org)?.map(|s| AddCustomDomainPolicyRequest {
        org_id: org.clone(),
        user_login_must_be_domain: s.user_login_must_be_domain,
        validate_org_domains: s.validate_org_domains,
        smtp_sender_address_matches_instance_domain: s.smtp_sender_address_matches_instance_domain,
    });
    o.lockout_policy =
        custom::<Lockout>(c, inst, &org)?.map(|s| mpb::AddCustomLockoutPolicyRequest {
            max_password_attempts: u32::try_from(s.max_password_attempts).unwrap_or(u32::MAX),
            max_otp_attempts: u32::try_from(s.max_otp_attempts).unwrap_or(u32::MAX),
        });
    o.login_policy = custom::<Login>(c, inst, &org)?.map(|s| mpb::AddCustomLoginPolicyRequest {
        allow_username_password: s.allow_username_password,
        allow_register: s.allow_register,
        allow_external_idp: s.allow_external_idp,
        force_mfa: s.force_mfa,
        force_mfa_local_only: s.force_mfa_local_only,
        passwordless_type: s.passwordless_type,
        hide_password_reset: s.hide_password_reset,
        ignore_unknown_usernames: s.ignore_unknown_usernames,
        allow_domain_discovery: s.allow_domain_discovery,
        disable_login_with_email: s.disable_login_with_email,
        disable_login_with_phone: s.disable_login_with_phone,
        default_redirect_uri: s.default_redirect_uri,
        password_check_lifetime: duration(s.password_check_lifetime),
        external_login_check_lifetime: duration(s.external_login_check_lifetime),
        mfa_init_skip_lifetime: duration(s.mfa_init_skip_lifetime),
        second_factor_check_lifetime: duration(s.second_factor_check_lifetime),
        multi_factor_check_lifetime: duration(s.multi_factor_check_lifetime),
        second_factors: s.second_factors,
        multi_factors: s.multi_factors,
    });
    o.password_complexity_policy = custom::<Complexity>(c, inst, &org)?.map(|s| {
        mpb::AddCustomPasswordComplexityPolicyRequest {
            min_length: s.min_length.into(),
            has_uppercase: s.has_uppercase,
            has_lowercase: s.has_lowercase,
            has_number: s.has_number,
            has_symbol: s.has_symbol,
        }
    });
    o.privacy_policy =
        custom::<Privacy>(c, inst, &org)?.map(|s| mpb::AddCustomPrivacyPolicyRequest {
            tos_link: s.tos_link,
            privacy_link: s.privacy_link,
            help_link: s.help_link,
            support_email: s.support_email,
            docs_link: s.docs_link,
            custom_link: s.custom_link,
            custom_link_text: s.custom_link_text,
        });
    Ok(())
}

fn domains(c: &mut dyn Conn, inst: &str, org: &str) -> Result<Vec<opb::Domain>> {
    c.query(
        "SELECT domain, is_verified, is_primary FROM org_domains WHERE instance_id = ? AND org_id = ? ORDER BY domain",
        &params![inst, org],
    )?
    .iter()
    .map(|r| {
        Ok(opb::Domain {
            org_id: org.to_string(),
            domain_name: r.text(0)?,
            is_verified: r.int(1)? != 0,
            is_primary: r.int(2)? != 0,
            ..Default::default()
        })
    })
    .collect()
}

fn users(
    c: &mut dyn Conn,
    inst: &str,
    with_passwords: bool,
    o: &mut DataOrg,
    seen: &mut Seen,
) -> Result<()> {
    let rows = c.query(
        "SELECT id, kind, username, first_name, last_name, nick_name, display_name, preferred_language, gender, \
         email, email_verified, phone, phone_verified, password_hash, password_change_required, \
         machine_name, machine_description, access_token_type \
         FROM users WHERE instance_id = ? AND org_id = ? ORDER BY id",
        &params![inst, &o.org_id],
    )?;
    for r in rows {
        let id = r.text(0)?;
        seen.users.insert(id.clone());
        if r.int(1)? == HUMAN {
            o.human_users.push(human(&r, id.clone(), with_passwords)?);
        } else {
            o.machine_users.push(dpb::DataMachineUser {
                user_id: id.clone(),
                user: Some(mpb::AddMachineUserRequest {
                    user_name: r.text(2)?,
                    name: r.text(15)?,
                    description: r.text(16)?,
                    access_token_type: r.int(17)? as i32,
                    user_id: None,
                }),
            });
            for k in c.query(
                "SELECT id, key_type, expiration, public_key FROM machine_keys WHERE instance_id = ? AND user_id = ? ORDER BY id",
                &params![inst, &id],
            )? {
                o.machine_keys.push(dpb::DataMachineKey {
                    key_id: k.text(0)?,
                    user_id: id.clone(),
                    r#type: k.int(1)? as i32,
                    expiration_date: ts(k.int(2)?),
                    public_key: k.text(3)?.into_bytes(),
                });
            }
        }
        for m in c.query(
            "SELECT key, value FROM metadata WHERE instance_id = ? AND aggregate_id = ? ORDER BY key",
            &params![inst, &id],
        )? {
            o.user_metadata.push(mpb::SetUserMetadataRequest {
                id: id.clone(),
                key: m.text(0)?,
                value: m.blob(1)?,
            });
        }
    }
    Ok(())
}

fn human(r: &Row, user_id: String, with_passwords: bool) -> Result<dpb::DataHumanUser> {
    use mpb::import_human_user_request as h;
    let (email, phone, hash) = (r.text(9)?, r.text(11)?, r.text(13)?);
    Ok(dpb::DataHumanUser {
        user_id,
        user: Some(mpb::ImportHumanUserRequest {
            user_name: r.text(2)?,
            profile: Some(h::Profile {
                first_name: r.text(3)?,
                last_name: r.text(4)?,
                nick_name: r.text(5)?,
                display_name: r.text(6)?,
                preferred_language: r.text(7)?,
                gender: r.int(8)? as i32,
            }),
            email: (!email.is_empty()).then(|| h::Email {
                email,
                is_email_verified: r.int(10).unwrap_or(0) != 0,
            }),
            phone: (!phone.is_empty()).then(|| h::Phone {
                phone,
                is_phone_verified: r.int(12).unwrap_or(0) != 0,
            }),
            hashed_password: (with_passwords && !hash.is_empty())
                .then_some(h::HashedPassword { value: hash }),
            password_change_required: r.int(14)? != 0,
            ..Default::default()
        }),
    })
}

fn projects(c: &mut dyn Conn, inst: &str, o: &mut DataOrg, seen: &mut Seen) -> Result<()> {
    let rows = c.query(
        "SELECT id, name, project_role_assertion, project_role_check, has_project_check, private_labeling_setting \
         FROM projects WHERE instance_id = ? AND org_id = ? ORDER BY id",
        &params![inst, &o.org_id],
    )?;
    for r in rows {
        let id = r.text(0)?;
        seen.projects.insert(id.clone());
        o.projects.push(dpb::DataProject {
            project_id: id.clone(),
            project: Some(mpb::AddProjectRequest {
                name: r.text(1)?,
                project_role_assertion: r.int(2)? != 0,
                project_role_check: r.int(3)? != 0,
                has_project_check: r.int(4)? != 0,
                private_labeling_setting: r.int(5)? as i32,
            }),
        });
        for role in c.query(
            "SELECT key, display_name, group_name FROM project_roles WHERE instance_id = ? AND project_id = ? ORDER BY key",
            &params![inst, &id],
        )? {
            o.project_roles.push(mpb::AddProjectRoleRequest {
                project_id: id.clone(),
                role_key: role.text(0)?,
                display_name: role.text(1)?,
                group: role.text(2)?,
            });
        }
        let apps = c.query(
            &format!(
                "SELECT {APP_COLS} FROM apps WHERE instance_id = ? AND project_id = ? ORDER BY id"
            ),
            &params![inst, &id],
        )?;
        for a in apps {
            app(c, inst, &AppRow::from_row(&a)?, o)?;
        }
    }
    Ok(())
}

/// An OIDC or API application with its keys; SAML applications have no place in the format.
fn app(c: &mut dyn Conn, inst: &str, a: &AppRow, o: &mut DataOrg) -> Result<()> {
    match a.kind {
        app_kind::OIDC => {
            let s = a.oidc()?;
            let r = a.to_pb()?;
            let login_version = match r.config {
                Some(castellan_proto::zitadel::app::v1::app::Config::OidcConfig(c)) => {
                    c.login_version
                }
                _ => None,
            };
            o.oidc_apps.push(dpb::DataOidcApplication {
                app_id: a.id.clone(),
                client_id: a.client_id.clone(),
                app: Some(mpb::AddOidcAppRequest {
                    project_id: a.project_id.clone(),
                    name: a.name.clone(),
                    redirect_uris: s.redirect_uris,
                    response_types: s.response_types,
                    grant_types: s.grant_types,
                    app_type: s.app_type,
                    auth_method_type: s.auth_method_type,
                    post_logout_redirect_uris: s.post_logout_redirect_uris,
                    version: s.version,
                    dev_mode: s.dev_mode,
                    access_token_type: s.access_token_type,
                    access_token_role_assertion: s.access_token_role_assertion,
                    id_token_role_assertion: s.id_token_role_assertion,
                    id_token_userinfo_assertion: s.id_token_userinfo_assertion,
                    clock_skew: Some(prost_types::Duration {
                        seconds: s.clock_skew_nanos / 1_000_000_000,
                        nanos: (s.clock_skew_nanos % 1_000_000_000) as i32,
                    }),
                    additional_origins: s.additional_origins,
                    skip_native_app_success_page: s.skip_native_app_success_page,
                    back_channel_logout_uri: s.back_channel_logout_uri,
                    login_version,
                }),
            });
        }
        app_kind::API => o.api_apps.push(dpb::DataApiApplication {
            app_id: a.id.clone(),
            client_id: a.client_id.clone(),
            app: Some(mpb::AddApiAppRequest {
                project_id: a.project_id.clone(),
                name: a.name.clone(),
                auth_method_type: a.api_auth_method()?,
            }),
        }),
        _ => return Ok(()),
    }
    for k in c.query(
        "SELECT id, client_id, key_type, expiration, public_key FROM app_keys WHERE instance_id = ? AND app_id = ? ORDER BY id",
        &params![inst, &a.id],
    )? {
        o.app_keys.push(dpb::DataAppKey {
            id: k.text(0)?,
            project_id: a.project_id.clone(),
            app_id: a.id.clone(),
            client_id: k.text(1)?,
            r#type: k.int(2)? as i32,
            expiration_date: ts(k.int(3)?),
            public_key: k.text(4)?.into_bytes(),
        });
    }
    Ok(())
}

/// Grants of the organisation's projects to exported organisations.
fn project_grants(
    c: &mut dyn Conn,
    inst: &str,
    o: &DataOrg,
    seen: &mut Seen,
) -> Result<Vec<dpb::DataProjectGrant>> {
    let mut out = Vec::new();
    for p in &o.projects {
        for r in c.query(
            "SELECT id, granted_org_id, role_keys FROM project_grants WHERE instance_id = ? AND project_id = ? ORDER BY id",
            &params![inst, &p.project_id],
        )? {
            let (id, granted) = (r.text(0)?, r.text(1)?);
            if !seen.orgs.contains(&granted) {
                continue;
            }
            seen.grants.insert(id.clone());
            out.push(dpb::DataProjectGrant {
                grant_id: id,
                project_grant: Some(mpb::AddProjectGrantRequest {
                    project_id: p.project_id.clone(),
                    granted_org_id: granted,
                    role_keys: keys_of_json(&r.text(2)?),
                }),
            });
        }
    }
    Ok(out)
}

/// User grants owned by the organisation whose user, project and project grant are exported.
fn user_grants(
    c: &mut dyn Conn,
    inst: &str,
    org: &str,
    seen: &Seen,
) -> Result<Vec<mpb::AddUserGrantRequest>> {
    let mut out = Vec::new();
    for r in c.query(
        "SELECT user_id, project_id, project_grant_id, role_keys FROM user_grants WHERE instance_id = ? AND org_id = ? \
         ORDER BY user_id, project_id, project_grant_id",
        &params![inst, org],
    )? {
        let (user_id, project_id, grant_id) = (r.text(0)?, r.text(1)?, r.text(2)?);
        if !seen.users.contains(&user_id)
            || !seen.projects.contains(&project_id)
            || (!grant_id.is_empty() && !seen.grants.contains(&grant_id))
        {
            continue;
        }
        out.push(mpb::AddUserGrantRequest {
            user_id,
            project_id,
            project_grant_id: grant_id,
            role_keys: keys_of_json(&r.text(3)?),
        });
    }
    Ok(out)
}

/// Members (user id, roles) of one object whose user is exported.
fn members(
    c: &mut dyn Conn,
    inst: &str,
    level: Level,
    object: &str,
    seen: &Seen,
) -> Result<Vec<(String, Vec<String>)>> {
    let mut out = Vec::new();
    for r in c.query(
        "SELECT user_id, roles FROM members WHERE instance_id = ? AND level = ? AND object_id = ? ORDER BY user_id",
        &params![inst, level.as_str(), object],
    )? {
        let user_id = r.text(0)?;
        if !seen.users.contains(&user_id) {
            continue;
        }
        let roles = r
            .text(1)?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        out.push((user_id, roles));
    }
    Ok(out)
}
