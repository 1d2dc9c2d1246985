//! The calling user's own account (auth API). Every command acts on the caller's user in its
//! own organisation and reuses the management-side user commands of `users`.

use super::query::Page;
use super::users::{self, UserRow};
use crate::ctx::Ctx;
use crate::error::{ApiErr, R};
use crate::state::St;
use castellan_domain::events::{Payload, Profile};
use castellan_domain::{Error, Kind};
use castellan_proto::zitadel::org::v1 as opb;
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::params;
use castellan_store::projection::HUMAN;

/// Longest password the request fields accept, in bytes (as ZITADEL's auth API).
const MAX_PASSWORD_BYTES: usize = 70;

/// The context narrowed to the caller's own organisation, and the caller's user id.
fn own(ctx: &Ctx) -> R<(Ctx, String)> {
    let p = ctx.caller()?;
    let mut c = ctx.clone();
    c.org_id = p.org_id.clone();
    Ok((c, p.user_id.clone()))
}

/// The caller's user as stored now.
pub async fn user(st: &St, ctx: &Ctx) -> R<UserRow> {
    let (c, id) = own(ctx)?;
    users::get(st, &c, &id).await
}

/// The caller's user if it is a human; FAILED_PRECONDITION `Errors.User.NotHuman` with the
/// error id of the reading RPC otherwise (as ZITADEL's profile, email and phone queries).
pub async fn human(st: &St, ctx: &Ctx, id: &'static str) -> R<UserRow> {
    let u = user(st, ctx).await?;
    if u.kind != HUMAN {
        return Err(ApiErr(
            Error::precondition(id, "Errors.User.NotHuman")
                .with("only human users have a profile, an email and a phone"),
        ));
    }
    Ok(u)
}

/// UpdateMyProfile.
pub async fn update_profile(st: &St, ctx: &Ctx, p: Profile) -> R<ObjectDetails> {
    let (c, id) = own(ctx)?;
    users::update_profile_as(st, &c, &id, p, &users::PROFILE_FLAT).await
}

/// SetMyEmail: the new address is stored unverified.
pub async fn set_email(st: &St, ctx: &Ctx, email: &str) -> R<ObjectDetails> {
    let (c, id) = own(ctx)?;
    users::update_email(st, &c, &id, email, false).await
}

/// SetMyPhone: the new number is stored unverified.
pub async fn set_phone(st: &St, ctx: &Ctx, phone: &str) -> R<ObjectDetails> {
    let (c, id) = own(ctx)?;
    users::update_phone(st, &c, &id, phone, false).await
}

/// RemoveMyPhone.
pub async fn remove_phone(st: &St, ctx: &Ctx) -> R<ObjectDetails> {
    let (c, id) = own(ctx)?;
    users::remove_phone(st, &c, &id).await
}

/// UpdateMyUserName (the domain policy decides the login name and its uniqueness scope).
pub async fn update_username(st: &St, ctx: &Ctx, username: &str) -> R<ObjectDetails> {
    let (c, id) = own(ctx)?;
    users::update_username(st, &c, &id, username).await
}

/// RemoveMyUser: removes the user like the management RemoveUser (memberships, grants,
/// tokens and metadata go with it).
pub async fn remove(st: &St, ctx: &Ctx) -> R<ObjectDetails> {
    let (c, id) = own(ctx)?;
    users::remove(st, &c, &id).await
}

fn password_field(field: &'static str, v: &str) -> R<()> {
    if v.is_empty() {
        return Err(ApiErr(Error::invalid(
            "COMMAND-3M0fs",
            "Errors.User.Password.Empty",
            format!("{field} is required"),
        )));
    }
    if v.len() > MAX_PASSWORD_BYTES {
        return Err(ApiErr(Error::invalid(
            "USER-pw70b",
            "Errors.User.Password.Invalid",
            format!("{field} must be at most {MAX_PASSWORD_BYTES} bytes"),
        )));
    }
    Ok(())
}

/// UpdateMyPassword: checks the new password against the complexity policy in force in the
/// user's organisation, then the old password, and stores the new hash.
pub async fn change_password(st: &St, ctx: &Ctx, old: &str, new: &str) -> R<ObjectDetails> {
    password_field("oldPassword", old)?;
    password_field("newPassword", new)?;
    let (c, id) = own(ctx)?;
    let u = users::get(st, &c, &id).await?;
    if u.kind != HUMAN {
        return Err(ApiErr(Error::precondition(
            "USER-hum4n",
            "Errors.User.NotHuman",
        )));
    }
    if u.password_hash.is_empty() {
        return Err(ApiErr(
            Error::precondition("COMMAND-Fds3s", "Errors.User.Password.Empty")
                .with("the user has no password yet"),
        ));
    }
    super::policies::complexity(st, &c.instance_id, &u.org_id)
        .await?
        .check(new)?;
    if !st
        .verify_password(old.to_string(), u.password_hash.clone())
        .await?
    {
        return Err(ApiErr(Error::invalid(
            "COMMAND-3M0fs",
            "Errors.User.Password.Invalid",
            "oldPassword does not match the current password",
        )));
    }
    if old == new {
        return Err(ApiErr(Error::precondition(
            "COMMAND-Aesh5",
            "Errors.User.Password.NotChanged",
        )));
    }
    let hash = st.hash_password(new.to_string()).await?;
    let checked = u.password_hash;
    users::change(st, &c, &id, move |u| {
        // The old password was checked against this hash; a concurrent change voids the check.
        if u.password_hash != checked {
            return Err(Error::new(
                Kind::Aborted,
                "USER-pwC0n",
                "Errors.Concurrent.Modification",
            ));
        }
        Ok(vec![Payload::PasswordChanged {
            hash: hash.clone(),
            change_required: false,
        }])
    })
    .await
}

/// ListMyProjectPermissions: the role keys of the caller's user grant on `project` (the
/// project the token was issued for) in the context organisation. Tokens without a project
/// (today every token: personal access tokens) have none, so the answer is NOT_FOUND as
/// ZITADEL's for a token without project audience.
pub async fn project_permissions(st: &St, ctx: &Ctx, project: Option<&str>) -> R<Vec<String>> {
    let not_found = || ApiErr(Error::not_found("QUERY-wIPkA", "Errors.UserGrant.NotFound"));
    let Some(project) = project.filter(|p| !p.is_empty()) else {
        return Err(ApiErr(
            Error::not_found("QUERY-wIPkA", "Errors.UserGrant.NotFound")
                .with("the token was not issued for a project"),
        ));
    };
    let (inst, org, me, project) = (
        ctx.instance_id.clone(),
        ctx.org_id.clone(),
        ctx.caller()?.user_id.clone(),
        project.to_string(),
    );
    let keys = st
        .db
        .read(move |c| {
            c.one(
                "SELECT role_keys FROM user_grants WHERE instance_id = ? AND org_id = ? AND project_id = ? AND user_id = ?",
                &params![&inst, &org, &project, &me],
            )?
            .map(|r| r.text(0))
            .transpose()
        })
        .await?
        .ok_or_else(not_found)?;
    serde_json::from_str(&keys).map_err(|e| ApiErr(Error::internal("USER-r0l3k", e.to_string())))
}

/// ListMyProjectOrgs for a token of the management API (every token today): all
/// organisations for members of the instance, else the organisations of the caller's
/// memberships (an organisation, the organisation of a project, the organisation a project is
/// granted to), narrowed by `queries`.
pub async fn project_orgs(
    st: &St,
    ctx: &Ctx,
    page: Page,
    queries: &[opb::OrgQuery],
) -> R<(i64, i64, Vec<super::orgs::OrgRow>)> {
    let p = ctx.caller()?;
    let ids: Option<Vec<String>> = if p.instance_roles.is_empty() {
        let mut ids: Vec<String> = p
            .org_roles
            .keys()
            .cloned()
            .chain(p.project_roles.values().map(|r| r.org_id.clone()))
            .chain(p.grant_roles.values().map(|r| r.org_id.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        Some(ids)
    } else {
        None
    };
    super::orgs::list_in(st, ctx, page, 0, queries, ids.as_deref()).await
}
