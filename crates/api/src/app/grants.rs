//! Project grants: a project of the context organisation shared with another organisation of
//! the instance with a subset of its roles; and the receiving organisation's view of them.

use super::query::{text, Filter, Page};
use crate::convert::{details, mutation};
use crate::ctx::Ctx;
use crate::error::{invalid, R};
use crate::state::St;
use castellan_domain::events::{agg, Payload};
use castellan_domain::{validate, Error, Result};
use castellan_proto::zitadel::project::v1 as pb;
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::projection::{keys_of_json, project_grant_state};
use castellan_store::{params, Conn, Row, Tx};

/// A project grant as stored, with the names of the project and both organisations.
#[derive(Debug, Clone)]
pub struct GrantRow {
    pub id: String,
    pub project_id: String,
    pub project_name: String,
    pub org_id: String,
    pub org_name: String,
    pub granted_org_id: String,
    pub granted_org_name: String,
    pub role_keys: Vec<String>,
    pub state: i64,
    pub created_at: i64,
    pub changed_at: i64,
    pub seq: i64,
}

const COLS: &str = "g.id, g.project_id, p.name, g.org_id, o.name, g.granted_org_id, go.name, g.role_keys, g.state, g.created_at, g.changed_at, g.seq";

const FROM: &str = "project_grants g \
    JOIN projects p ON p.instance_id = g.instance_id AND p.id = g.project_id \
    JOIN orgs o ON o.instance_id = g.instance_id AND o.id = g.org_id \
    JOIN orgs go ON go.instance_id = g.instance_id AND go.id = g.granted_org_id";

impl GrantRow {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(GrantRow {
            id: r.text(0)?,
            project_id: r.text(1)?,
            project_name: r.text(2)?,
            org_id: r.text(3)?,
            org_name: r.text(4)?,
            granted_org_id: r.text(5)?,
            granted_org_name: r.text(6)?,
            role_keys: keys_of_json(&r.text(7)?),
            state: r.int(8)?,
            created_at: r.int(9)?,
            changed_at: r.int(10)?,
            seq: r.int(11)?,
        })
    }

    pub fn to_pb(&self) -> pb::GrantedProject {
        pb::GrantedProject {
            grant_id: self.id.clone(),
            granted_org_id: self.granted_org_id.clone(),
            granted_org_name: self.granted_org_name.clone(),
            granted_role_keys: self.role_keys.clone(),
            state: self.state as i32,
            project_id: self.project_id.clone(),
            project_name: self.project_name.clone(),
            project_owner_id: self.org_id.clone(),
            project_owner_name: self.org_name.clone(),
            details: details(self.seq, self.created_at, self.changed_at, &self.org_id),
        }
    }
}

fn not_found() -> Error {
    Error::not_found("PROJECT-D8JxR", "Errors.Project.Grant.NotFound")
}

/// Which side of a grant the context organisation is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The organisation owning the project.
    Granting,
    /// The organisation the project is granted to.
    Granted,
    /// Either.
    Any,
}

/// Loads a grant of `project_id` seen from `org` on `side`; others are not found.
pub fn load(
    c: &mut dyn Conn,
    instance: &str,
    org: &str,
    side: Side,
    project_id: &str,
    grant_id: &str,
) -> Result<GrantRow> {
    let cond = match side {
        Side::Granting => "g.org_id = ?",
        Side::Granted => "g.granted_org_id = ?",
        Side::Any => "(g.org_id = ? OR g.granted_org_id = ?)",
    };
    let mut p = params![instance, project_id.trim(), grant_id.trim(), org];
    if side == Side::Any {
        p.extend(params![org]);
    }
    let r = c.one(
        &format!(
            "SELECT {COLS} FROM {FROM} WHERE g.instance_id = ? AND g.project_id = ? AND g.id = ? AND {cond}"
        ),
        &p,
    )?;
    r.as_ref()
        .map(GrantRow::from_row)
        .transpose()?
        .ok_or_else(not_found)
}

/// Checks the role keys of a grant: each a role of the project, duplicates dropped.
fn check_keys(tx: &mut Tx<'_>, project_id: &str, keys: &[String]) -> Result<Vec<String>> {
    let inst = tx.instance().to_string();
    let mut out: Vec<String> = Vec::with_capacity(keys.len());
    for k in keys {
        let k = k.trim().to_string();
        if out.contains(&k) {
            continue;
        }
        let found = tx
            .one(
                "SELECT 1 FROM project_roles WHERE instance_id = ? AND project_id = ? AND key = ?",
                &params![&inst, project_id, &k],
            )?
            .is_some();
        if !found {
            return Err(
                Error::precondition("PROJECT-6m9gd", "Errors.Project.Role.NotFound")
                    .with(format!("role key \"{k}\" is not a role of the project")),
            );
        }
        out.push(k);
    }
    Ok(out)
}

fn required_id(field: &'static str, v: &str) -> R<String> {
    Ok(validate::required(field, v, validate::MAX_NAME)?)
}

/// AddProjectGrant: shares a project of the context organisation with `granted_org_id`.
pub async fn add(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    granted_org_id: &str,
    role_keys: Vec<String>,
) -> R<(String, ObjectDetails)> {
    add_with_id(st, ctx, None, project_id, granted_org_id, role_keys).await
}

/// AddProjectGrant keeping a given grant id (ImportData); the id must be free.
pub async fn add_with_id(
    st: &St,
    ctx: &Ctx,
    grant_id: Option<&str>,
    project_id: &str,
    granted_org_id: &str,
    role_keys: Vec<String>,
) -> R<(String, ObjectDetails)> {
    let project_id = required_id("projectId", project_id)?;
    let granted = required_id("grantedOrgId", granted_org_id)?;
    if granted == ctx.org_id {
        return Err(crate::error::ApiErr(Error::invalid(
            "PROJECT-3m9fS",
            "Errors.Project.Grant.Invalid",
            "grantedOrgId must name another organisation than the project's",
        )));
    }
    let grant_id = match grant_id {
        Some(id) => required_id("grantId", id)?,
        None => st.ids.next(),
    };
    let (gid, org, key) = (grant_id.clone(), ctx.org_id.clone(), project_id.clone());
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let p = super::projects::load(tx.conn, &inst, &org, &project_id)?;
            super::orgs::load(tx.conn, &inst, &granted)?;
            if tx
                .one(
                    "SELECT 1 FROM project_grants WHERE instance_id = ? AND id = ?",
                    &params![&inst, &gid],
                )?
                .is_some()
            {
                return Err(Error::exists("PROJECT-1d3x2", "Errors.Project.Grant.AlreadyExists")
                    .with(format!("a project grant with the id {gid} exists")));
            }
            if tx
                .one(
                    "SELECT 1 FROM project_grants WHERE instance_id = ? AND project_id = ? AND granted_org_id = ?",
                    &params![&inst, &p.id, &granted],
                )?
                .is_some()
            {
                return Err(Error::exists("PROJECT-8fg4s", "Errors.Project.Grant.AlreadyExists")
                    .with("the project is already granted to this organisation"));
            }
            let keys = check_keys(tx, &p.id, &role_keys)?;
            tx.push(
                agg::PROJECT,
                &p.id,
                &org,
                vec![Payload::ProjectGrantAdded {
                    grant_id: gid.clone(),
                    granted_org_id: granted.clone(),
                    role_keys: keys,
                }],
            )
        })
        .await?;
    Ok((grant_id, mutation(&evs, true).unwrap_or_default()))
}

/// Runs a command on one grant of a project of the context organisation.
async fn change<F>(st: &St, ctx: &Ctx, project_id: &str, grant_id: &str, f: F) -> R<ObjectDetails>
where
    F: Fn(&mut Tx<'_>, &GrantRow) -> Result<Vec<Payload>> + Send + Sync + 'static,
{
    let project_id = required_id("projectId", project_id)?;
    let grant_id = required_id("grantId", grant_id)?;
    let (org, key) = (ctx.org_id.clone(), project_id.clone());
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let g = load(tx.conn, &inst, &org, Side::Granting, &project_id, &grant_id)?;
            let payloads = f(tx, &g)?;
            tx.push(agg::PROJECT, &g.project_id, &g.org_id, payloads)
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

pub async fn update(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    grant_id: &str,
    role_keys: Vec<String>,
) -> R<ObjectDetails> {
    change(st, ctx, project_id, grant_id, move |tx, g| {
        let keys = check_keys(tx, &g.project_id, &role_keys)?;
        if keys == g.role_keys {
            return Err(
                Error::precondition("PROJECT-0o0pL", "Errors.Project.Grant.NotChanged")
                    .with("nothing changed"),
            );
        }
        // Roles taken from the grant also leave the user grants given through it.
        let dropped: Vec<String> = g
            .role_keys
            .iter()
            .filter(|k| !keys.contains(k))
            .cloned()
            .collect();
        super::user_grants::cascade_role_removal(tx, &g.project_id, Some(&g.id), &dropped)?;
        Ok(vec![Payload::ProjectGrantChanged {
            grant_id: g.id.clone(),
            role_keys: keys,
        }])
    })
    .await
}

pub async fn deactivate(st: &St, ctx: &Ctx, project_id: &str, grant_id: &str) -> R<ObjectDetails> {
    change(st, ctx, project_id, grant_id, |_, g| match g.state {
        project_grant_state::ACTIVE => Ok(vec![Payload::ProjectGrantDeactivated {
            grant_id: g.id.clone(),
        }]),
        _ => Err(Error::precondition(
            "PROJECT-47fu8",
            "Errors.Project.Grant.NotActive",
        )),
    })
    .await
}

pub async fn reactivate(st: &St, ctx: &Ctx, project_id: &str, grant_id: &str) -> R<ObjectDetails> {
    change(st, ctx, project_id, grant_id, |_, g| match g.state {
        project_grant_state::INACTIVE => Ok(vec![Payload::ProjectGrantReactivated {
            grant_id: g.id.clone(),
        }]),
        _ => Err(Error::precondition(
            "PROJECT-2n8fs",
            "Errors.Project.Grant.NotInactive",
        )),
    })
    .await
}

pub async fn remove(st: &St, ctx: &Ctx, project_id: &str, grant_id: &str) -> R<ObjectDetails> {
    change(st, ctx, project_id, grant_id, |_, g| {
        Ok(vec![Payload::ProjectGrantRemoved {
            grant_id: g.id.clone(),
            granted_org_id: g.granted_org_id.clone(),
        }])
    })
    .await
}

/// The events that take `key` out of every grant of `project_id` holding it (RemoveProjectRole).
pub fn cascade_role_removal(tx: &mut Tx<'_>, project_id: &str, key: &str) -> Result<Vec<Payload>> {
    let inst = tx.instance().to_string();
    let rows = tx.conn.query(
        "SELECT g.id, g.role_keys FROM project_grants g JOIN project_grant_roles r \
         ON r.instance_id = g.instance_id AND r.grant_id = g.id \
         WHERE g.instance_id = ? AND g.project_id = ? AND r.key = ? ORDER BY g.id",
        &params![&inst, project_id, key],
    )?;
    rows.iter()
        .map(|r| {
            let keys = keys_of_json(&r.text(1)?)
                .into_iter()
                .filter(|k| k != key)
                .collect();
            Ok(Payload::ProjectGrantCascadeChanged {
                grant_id: r.text(0)?,
                role_keys: keys,
            })
        })
        .collect()
}

/// One grant seen from the context organisation on `side`.
pub async fn get(st: &St, ctx: &Ctx, side: Side, project_id: &str, grant_id: &str) -> R<GrantRow> {
    let (inst, org, pid, gid) = (
        ctx.instance_id.clone(),
        ctx.org_id.clone(),
        project_id.to_string(),
        grant_id.to_string(),
    );
    Ok(st
        .db
        .read(move |c| load(c, &inst, &org, side, &pid, &gid))
        .await?)
}

async fn list_rows(st: &St, f: Filter, page: Page) -> R<(i64, i64, Vec<GrantRow>)> {
    let tail = page.tail("g.created_at", "g.id");
    Ok(st
        .db
        .read(move |c| {
            let (total, pos, rows) = super::query::page_rows(c, COLS, FROM, &f, &tail)?;
            let out = rows
                .iter()
                .map(GrantRow::from_row)
                .collect::<Result<Vec<_>>>()?;
            Ok((total, pos, out))
        })
        .await?)
}

/// ListProjectGrants: the grants of one project of the context organisation.
pub async fn list(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    page: Page,
    queries: &[pb::ProjectGrantQuery],
) -> R<(i64, i64, Vec<GrantRow>)> {
    use pb::project_grant_query::Query as Q;
    let project_id = required_id("projectId", project_id)?;
    let (inst, org, pid) = (
        ctx.instance_id.clone(),
        ctx.org_id.clone(),
        project_id.clone(),
    );
    st.db
        .read(move |c| super::projects::load(c, &inst, &org, &pid).map(|_| ()))
        .await?;
    let mut f = Filter::new();
    f.and(
        "g.instance_id = ? AND g.org_id = ? AND g.project_id = ?",
        params![&ctx.instance_id, &ctx.org_id, &project_id],
    );
    for q in queries {
        match q
            .query
            .as_ref()
            .ok_or_else(|| invalid("a query must set one of its fields"))?
        {
            Q::ProjectNameQuery(x) => {
                let (sql, v) = text("p.name", x.method, &x.name)?;
                f.and(sql, vec![v]);
            }
            Q::RoleKeyQuery(x) => {
                let (sql, v) = text("r.key", x.method, &x.role_key)?;
                f.and(
                    format!("EXISTS (SELECT 1 FROM project_grant_roles r WHERE r.instance_id = g.instance_id AND r.grant_id = g.id AND {sql})"),
                    vec![v],
                );
            }
        }
    }
    list_rows(st, f, page).await
}

/// ListGrantedProjects: the grants the context organisation received.
pub async fn list_granted(
    st: &St,
    ctx: &Ctx,
    page: Page,
    queries: &[pb::ProjectQuery],
) -> R<(i64, i64, Vec<GrantRow>)> {
    use pb::project_query::Query as Q;
    let mut f = Filter::new();
    f.and(
        "g.instance_id = ? AND g.granted_org_id = ?",
        params![&ctx.instance_id, &ctx.org_id],
    );
    for q in queries {
        match q
            .query
            .as_ref()
            .ok_or_else(|| invalid("a query must set one of its fields"))?
        {
            Q::NameQuery(x) => {
                let (sql, v) = text("p.name", x.method, &x.name)?;
                f.and(sql, vec![v]);
            }
            Q::ProjectResourceOwnerQuery(x) => {
                f.and("g.org_id = ?", params![&x.resource_owner]);
            }
        }
    }
    if let Some(ids) = &ctx.scope {
        let (sql, v) = super::query::in_list("g.id", ids);
        f.and(sql, v);
    }
    list_rows(st, f, page).await
}

/// ListGrantedProjectRoles: the roles of a project granted to the context organisation, only
/// those handed over by the grant.
pub async fn list_granted_roles(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    grant_id: &str,
    page: Page,
    queries: &[pb::RoleQuery],
) -> R<(i64, i64, Vec<pb::Role>)> {
    use pb::role_query::Query as Q;
    let mut f = Filter::new();
    f.and(
        "r.instance_id = ? AND r.project_id = ? AND gr.grant_id = ?",
        params![&ctx.instance_id, project_id.trim(), grant_id.trim()],
    );
    for q in queries {
        match q
            .query
            .as_ref()
            .ok_or_else(|| invalid("a query must set one of its fields"))?
        {
            Q::KeyQuery(x) => {
                let (sql, v) = text("r.key", x.method, &x.key)?;
                f.and(sql, vec![v]);
            }
            Q::DisplayNameQuery(x) => {
                let (sql, v) = text("r.display_name", x.method, &x.display_name)?;
                f.and(sql, vec![v]);
            }
        }
    }
    let tail = page.tail("r.created_at", "r.key");
    let (inst, org, pid, gid) = (
        ctx.instance_id.clone(),
        ctx.org_id.clone(),
        project_id.to_string(),
        grant_id.to_string(),
    );
    Ok(st
        .db
        .read(move |c| {
            load(c, &inst, &org, Side::Granted, &pid, &gid)?;
            let (total, pos, rows) = super::query::page_rows(
                c,
                "r.key, r.display_name, r.group_name, r.org_id, r.seq, r.created_at, r.changed_at",
                "project_roles r JOIN project_grant_roles gr ON gr.instance_id = r.instance_id \
                 AND gr.project_id = r.project_id AND gr.key = r.key",
                &f,
                &tail,
            )?;
            let out = rows
                .iter()
                .map(|r| {
                    Ok(pb::Role {
                        key: r.text(0)?,
                        details: details(r.int(4)?, r.int(5)?, r.int(6)?, &r.text(3)?),
                        display_name: r.text(1)?,
                        group: r.text(2)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((total, pos, out))
        })
        .await?)
}
