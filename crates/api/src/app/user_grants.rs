//! User grants: the roles a user holds on a project, given by the organisation owning the
//! project or, through a project grant, by the organisation the project is granted to. The
//! context organisation owns the grants it gives.

use super::grants::Side;
use super::query::{text, Filter, Page};
use crate::convert::{details, mutation};
use crate::ctx::Ctx;
use crate::error::{invalid, R};
use crate::state::St;
use castellan_domain::events::{agg, Payload};
use castellan_domain::{validate, Error, Result};
use castellan_proto::zitadel::user::v1 as pb;
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::projection::{keys_of_json, user_grant_state};
use castellan_store::{params, Conn, Row, Tx};

/// A user grant as stored, with the names of its user, project and owning organisation.
#[derive(Debug, Clone)]
pub struct UserGrantRow {
    pub id: String,
    pub user_id: String,
    pub project_id: String,
    pub project_grant_id: String,
    pub org_id: String,
    pub role_keys: Vec<String>,
    pub state: i64,
    pub created_at: i64,
    pub changed_at: i64,
    pub seq: i64,
    pub user_name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub display_name: String,
    pub user_kind: i64,
    pub org_name: String,
    pub org_domain: String,
    pub project_name: String,
    /// The user's organisation and avatar store key (for the avatar URL).
    pub user_org_id: String,
    pub avatar_key: String,
}

const COLS: &str = "g.id, g.user_id, g.project_id, g.project_grant_id, g.org_id, g.role_keys, g.state, g.created_at, g.changed_at, g.seq, \
    u.username, u.first_name, u.last_name, u.email, u.display_name, u.kind, o.name, o.primary_domain, p.name, u.org_id, u.avatar_key";

const FROM: &str = "user_grants g \
    JOIN users u ON u.instance_id = g.instance_id AND u.id = g.user_id \
    JOIN orgs o ON o.instance_id = g.instance_id AND o.id = g.org_id \
    JOIN projects p ON p.instance_id = g.instance_id AND p.id = g.project_id";

impl UserGrantRow {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(UserGrantRow {
            id: r.text(0)?,
            user_id: r.text(1)?,
            project_id: r.text(2)?,
            project_grant_id: r.text(3)?,
            org_id: r.text(4)?,
            role_keys: keys_of_json(&r.text(5)?),
            state: r.int(6)?,
            created_at: r.int(7)?,
            changed_at: r.int(8)?,
            seq: r.int(9)?,
            user_name: r.text(10)?,
            first_name: r.text(11)?,
            last_name: r.text(12)?,
            email: r.text(13)?,
            display_name: r.text(14)?,
            user_kind: r.int(15)?,
            org_name: r.text(16)?,
            org_domain: r.text(17)?,
            project_name: r.text(18)?,
            user_org_id: r.text(19)?,
            avatar_key: r.text(20)?,
        })
    }

    pub fn to_pb(&self) -> pb::UserGrant {
        pb::UserGrant {
            id: self.id.clone(),
            details: details(self.seq, self.created_at, self.changed_at, &self.org_id),
            role_keys: self.role_keys.clone(),
            state: self.state as i32,
            user_id: self.user_id.clone(),
            user_name: self.user_name.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            org_id: self.org_id.clone(),
            org_name: self.org_name.clone(),
            org_domain: self.org_domain.clone(),
            project_id: self.project_id.clone(),
            project_name: self.project_name.clone(),
            project_grant_id: self.project_grant_id.clone(),
            avatar_url: crate::assets::url(&self.user_org_id, &self.avatar_key),
        }
    }
}

fn not_found() -> Error {
    Error::not_found("USERGRANT-5z8sD", "Errors.UserGrant.NotFound")
}

/// Loads a grant of `user_id` owned by `org`; others are not found.
pub fn load(
    c: &mut dyn Conn,
    instance: &str,
    org: &str,
    user_id: &str,
    id: &str,
) -> Result<UserGrantRow> {
    let r = c.one(
        &format!(
            "SELECT {COLS} FROM {FROM} WHERE g.instance_id = ? AND g.id = ? AND g.user_id = ? AND g.org_id = ?"
        ),
        &params![instance, id.trim(), user_id.trim(), org],
    )?;
    r.as_ref()
        .map(UserGrantRow::from_row)
        .transpose()?
        .ok_or_else(not_found)
}

/// The roles a grant may hold: the project's (project of `org`) or the project grant's (a grant
/// of the project to `org`). Returns the project grant id actually used.
fn allowed_keys(
    tx: &mut Tx<'_>,
    org: &str,
    project_id: &str,
    project_grant_id: &str,
) -> Result<(String, Vec<String>)> {
    let inst = tx.instance().to_string();
    if project_grant_id.is_empty() {
        let own = match super::projects::load(tx.conn, &inst, org, project_id) {
            Ok(_) => true,
            Err(e) if e.kind == castellan_domain::Kind::NotFound => false,
            Err(e) => return Err(e),
        };
        if own {
            let rows = tx.query(
                "SELECT key FROM project_roles WHERE instance_id = ? AND project_id = ?",
                &params![&inst, project_id],
            )?;
            let keys = rows.iter().map(|r| r.text(0)).collect::<Result<_>>()?;
            return Ok((String::new(), keys));
        }
        // A project granted to the organisation: its (only) grant to it.
        let g = tx.one(
            "SELECT id FROM project_grants WHERE instance_id = ? AND project_id = ? AND granted_org_id = ?",
            &params![&inst, project_id, org],
        )?;
        let Some(g) = g else {
            return Err(Error::not_found("PROJECT-3M9sd", "Errors.Project.NotFound"));
        };
        let gid = g.text(0)?;
        let pg = super::grants::load(tx.conn, &inst, org, Side::Granted, project_id, &gid)?;
        return Ok((gid, pg.role_keys));
    }
    let pg = super::grants::load(
        tx.conn,
        &inst,
        org,
        Side::Granted,
        project_id,
        project_grant_id,
    )?;
    Ok((pg.id, pg.role_keys))
}

/// Checks role keys against the allowed ones, dropping duplicates; the error names the key.
fn check_keys(allowed: &[String], keys: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(keys.len());
    for k in keys {
        let k = k.trim().to_string();
        if out.contains(&k) {
            continue;
        }
        if !allowed.contains(&k) {
            return Err(
                Error::precondition("USERGRANT-m9fsE", "Errors.Project.Role.NotFound").with(
                    format!("role key \"{k}\" is not a role of the project or project grant"),
                ),
            );
        }
        out.push(k);
    }
    Ok(out)
}

fn required_id(field: &'static str, v: &str) -> R<String> {
    Ok(validate::required(field, v, validate::MAX_NAME)?)
}

/// AddUserGrant: roles of a project (of the context organisation, or granted to it) for a user
/// of the instance.
pub async fn add(
    st: &St,
    ctx: &Ctx,
    user_id: &str,
    project_id: &str,
    project_grant_id: &str,
    role_keys: Vec<String>,
) -> R<(String, ObjectDetails)> {
    let user_id = required_id("userId", user_id)?;
    let project_id = required_id("projectId", project_id)?;
    let project_grant_id = validate::optional("projectGrantId", project_grant_id, 200)?;
    let id = st.ids.next();
    let (gid, org) = (id.clone(), ctx.org_id.clone());
    let evs = st
        .db
        .command(&id, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            super::users::load(tx.conn, &inst, &user_id, None)?;
            let (pgid, allowed) = allowed_keys(tx, &org, &project_id, &project_grant_id)?;
            if tx
                .one(
                    "SELECT 1 FROM user_grants WHERE instance_id = ? AND user_id = ? AND project_id = ? AND project_grant_id = ?",
                    &params![&inst, &user_id, &project_id, &pgid],
                )?
                .is_some()
            {
                return Err(Error::exists("USERGRANT-2n8fS", "Errors.UserGrant.AlreadyExists")
                    .with("the user already has a grant on this project"));
            }
            let keys = check_keys(&allowed, &role_keys)?;
            tx.push(
                agg::USER_GRANT,
                &gid,
                &org,
                vec![Payload::UserGrantAdded {
                    user_id: user_id.clone(),
                    project_id: project_id.clone(),
                    project_grant_id: pgid,
                    role_keys: keys,
                }],
            )
        })
        .await?;
    Ok((id, mutation(&evs, true).unwrap_or_default()))
}

/// Runs a command on one grant of a user owned by the context organisation.
async fn change<F>(st: &St, ctx: &Ctx, user_id: &str, id: &str, f: F) -> R<ObjectDetails>
where
    F: Fn(&mut Tx<'_>, &UserGrantRow) -> Result<Vec<Payload>> + Send + Sync + 'static,
{
    let user_id = required_id("userId", user_id)?;
    let id = required_id("grantId", id)?;
    let (org, key) = (ctx.org_id.clone(), id.clone());
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let g = load(tx.conn, &inst, &org, &user_id, &id)?;
            let payloads = f(tx, &g)?;
            tx.push(agg::USER_GRANT, &g.id, &g.org_id, payloads)
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

pub async fn update(
    st: &St,
    ctx: &Ctx,
    user_id: &str,
    id: &str,
    role_keys: Vec<String>,
) -> R<ObjectDetails> {
    change(st, ctx, user_id, id, move |tx, g| {
        let (_, allowed) = allowed_keys(tx, &g.org_id, &g.project_id, &g.project_grant_id)?;
        let keys = check_keys(&allowed, &role_keys)?;
        if keys == g.role_keys {
            return Err(
                Error::precondition("USERGRANT-Lp0sd", "Errors.UserGrant.NotChanged")
                    .with("nothing changed"),
            );
        }
        Ok(vec![Payload::UserGrantChanged { role_keys: keys }])
    })
    .await
}

pub async fn deactivate(st: &St, ctx: &Ctx, user_id: &str, id: &str) -> R<ObjectDetails> {
    change(st, ctx, user_id, id, |_, g| match g.state {
        user_grant_state::ACTIVE => Ok(vec![Payload::UserGrantDeactivated {}]),
        _ => Err(Error::precondition(
            "USERGRANT-1n8dS",
            "Errors.UserGrant.NotActive",
        )),
    })
    .await
}

pub async fn reactivate(st: &St, ctx: &Ctx, user_id: &str, id: &str) -> R<ObjectDetails> {
    change(st, ctx, user_id, id, |_, g| match g.state {
        user_grant_state::INACTIVE => Ok(vec![Payload::UserGrantReactivated {}]),
        _ => Err(Error::precondition(
            "USERGRANT-3m9fW",
            "Errors.UserGrant.NotInactive",
        )),
    })
    .await
}

fn removed(g: &UserGrantRow) -> Payload {
    Payload::UserGrantRemoved {
        user_id: g.user_id.clone(),
        project_id: g.project_id.clone(),
        project_grant_id: g.project_grant_id.clone(),
    }
}

pub async fn remove(st: &St, ctx: &Ctx, user_id: &str, id: &str) -> R<ObjectDetails> {
    change(st, ctx, user_id, id, |_, g| Ok(vec![removed(g)])).await
}

/// BulkRemoveUserGrant: removes grants of the context organisation, all or none.
pub async fn bulk_remove(st: &St, ctx: &Ctx, ids: Vec<String>) -> R<()> {
    let mut uniq: Vec<String> = Vec::with_capacity(ids.len());
    for id in &ids {
        let id = required_id("grantId", id)?;
        if !uniq.contains(&id) {
            uniq.push(id);
        }
    }
    let Some(key) = uniq.first().cloned() else {
        return Err(invalid("grantId must contain at least one id"));
    };
    let org = ctx.org_id.clone();
    st.db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let mut out = Vec::new();
            for id in &uniq {
                let r = tx.conn.one(
                    &format!("SELECT {COLS} FROM {FROM} WHERE g.instance_id = ? AND g.id = ? AND g.org_id = ?"),
                    &params![&inst, id, &org],
                )?;
                let g = r
                    .as_ref()
                    .map(UserGrantRow::from_row)
                    .transpose()?
                    .ok_or_else(|| not_found().with(format!("grant \"{id}\"")))?;
                out.extend(tx.push(agg::USER_GRANT, &g.id, &g.org_id, vec![removed(&g)])?);
            }
            Ok(out)
        })
        .await?;
    Ok(())
}

/// The events that take role `key` out of user grants: every grant on `project_id` holding it
/// (a role of the project removed), or only those through `project_grant_id`. Pushed on each
/// user grant's aggregate within the caller's transaction.
pub fn cascade_role_removal(
    tx: &mut Tx<'_>,
    project_id: &str,
    project_grant_id: Option<&str>,
    removed_keys: &[String],
) -> Result<()> {
    if removed_keys.is_empty() {
        return Ok(());
    }
    let inst = tx.instance().to_string();
    let (cond, mut p) = match project_grant_id {
        Some(g) => ("r.project_grant_id = ?", params![&inst, g]),
        None => ("r.project_id = ?", params![&inst, project_id]),
    };
    let (in_sql, in_params) = super::query::in_list("r.key", removed_keys);
    p.extend(in_params);
    let rows = tx.query(
        &format!(
            "SELECT DISTINCT g.id, g.org_id, g.role_keys FROM user_grants g JOIN user_grant_roles r \
             ON r.instance_id = g.instance_id AND r.grant_id = g.id \
             WHERE r.instance_id = ? AND {cond} AND {in_sql} ORDER BY g.id"
        ),
        &p,
    )?;
    for r in &rows {
        let keys: Vec<String> = keys_of_json(&r.text(2)?)
            .into_iter()
            .filter(|k| !removed_keys.contains(k))
            .collect();
        tx.push(
            agg::USER_GRANT,
            &r.text(0)?,
            &r.text(1)?,
            vec![Payload::UserGrantCascadeChanged { role_keys: keys }],
        )?;
    }
    Ok(())
}

/// A grant of a user owned by the context organisation.
pub async fn get(st: &St, ctx: &Ctx, user_id: &str, id: &str) -> R<UserGrantRow> {
    let (inst, org, uid, id) = (
        ctx.instance_id.clone(),
        ctx.org_id.clone(),
        user_id.to_string(),
        id.to_string(),
    );
    Ok(st.db.read(move |c| load(c, &inst, &org, &uid, &id)).await?)
}

/// ListUserGrants: grants owned by the context organisation (with `with_granted`, also those
/// other organisations gave on its projects), filtered by the queries.
pub async fn list(
    st: &St,
    ctx: &Ctx,
    page: Page,
    queries: &[pb::UserGrantQuery],
) -> R<(i64, i64, Vec<UserGrantRow>)> {
    use pb::user_grant_query::Query as Q;
    let mut f = Filter::new();
    let with_granted = queries
        .iter()
        .any(|q| matches!(&q.query, Some(Q::WithGrantedQuery(x)) if x.with_granted));
    if with_granted {
        f.and(
            "g.instance_id = ? AND (g.org_id = ? OR p.org_id = ?)",
            params![&ctx.instance_id, &ctx.org_id, &ctx.org_id],
        );
    } else {
        f.and(
            "g.instance_id = ? AND g.org_id = ?",
            params![&ctx.instance_id, &ctx.org_id],
        );
    }
    for q in queries {
        let q = q
            .query
            .as_ref()
            .ok_or_else(|| invalid("a query must set one of its fields"))?;
        let (col, method, value) = match q {
            Q::WithGrantedQuery(_) => continue,
            Q::ProjectIdQuery(x) => {
                f.and("g.project_id = ?", params![x.project_id.trim()]);
                continue;
            }
            Q::UserIdQuery(x) => {
                f.and("g.user_id = ?", params![x.user_id.trim()]);
                continue;
            }
            Q::ProjectGrantIdQuery(x) => {
                f.and("g.project_grant_id = ?", params![x.project_grant_id.trim()]);
                continue;
            }
            Q::RoleKeyQuery(x) => {
                let (sql, v) = text("r.key", x.method, &x.role_key)?;
                f.and(
                    format!("EXISTS (SELECT 1 FROM user_grant_roles r WHERE r.instance_id = g.instance_id AND r.grant_id = g.id AND {sql})"),
                    vec![v],
                );
                continue;
            }
            Q::UserNameQuery(x) => ("u.username", x.method, &x.user_name),
            Q::FirstNameQuery(x) => ("u.first_name", x.method, &x.first_name),
            Q::LastNameQuery(x) => ("u.last_name", x.method, &x.last_name),
            Q::EmailQuery(x) => ("u.email", x.method, &x.email),
            Q::OrgNameQuery(x) => ("o.name", x.method, &x.org_name),
            Q::OrgDomainQuery(x) => ("o.primary_domain", x.method, &x.org_domain),
            Q::ProjectNameQuery(x) => ("p.name", x.method, &x.project_name),
            Q::DisplayNameQuery(x) => ("u.display_name", x.method, &x.display_name),
        };
        let (sql, v) = text(col, method, value)?;
        f.and(sql, vec![v]);
    }
    let tail = page.tail("g.created_at", "g.id");
    Ok(st
        .db
        .read(move |c| {
            let (total, pos, rows) = super::query::page_rows(c, COLS, FROM, &f, &tail)?;
            let out = rows
                .iter()
                .map(UserGrantRow::from_row)
                .collect::<Result<Vec<_>>>()?;
            Ok((total, pos, out))
        })
        .await?)
}

/// ListMyUserGrants: the grants of the calling user, whichever organisation owns them.
pub async fn list_mine(st: &St, ctx: &Ctx, page: Page) -> R<(i64, i64, Vec<UserGrantRow>)> {
    let me = ctx.caller()?.user_id.clone();
    let mut f = Filter::new();
    f.and(
        "g.instance_id = ? AND g.user_id = ?",
        params![&ctx.instance_id, &me],
    );
    let tail = page.tail("g.created_at", "g.id");
    Ok(st
        .db
        .read(move |c| {
            let (total, pos, rows) = super::query::page_rows(c, COLS, FROM, &f, &tail)?;
            let out = rows
                .iter()
                .map(UserGrantRow::from_row)
                .collect::<Result<Vec<_>>>()?;
            Ok((total, pos, out))
        })
        .await?)
}
