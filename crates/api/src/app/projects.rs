//! Projects of an organisation and their roles: commands and queries.

use super::query::{text, Filter, Page};
use crate::convert::{details, mutation};
use crate::ctx::Ctx;
use crate::error::{invalid, R};
use crate::state::St;
use castellan_domain::events::{agg, Payload, ProjectSettings};
use castellan_domain::{validate, Error, Result};
use castellan_proto::zitadel::project::v1 as pb;
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::projection::project_state;
use castellan_store::{params, Conn, Row, Tx};

/// A project as stored.
#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub id: String,
    pub org_id: String,
    pub state: i64,
    pub settings: ProjectSettings,
    pub created_at: i64,
    pub changed_at: i64,
    pub seq: i64,
}

const COLS: &str = "id, org_id, name, state, project_role_assertion, project_role_check, has_project_check, private_labeling_setting, created_at, changed_at, seq";

impl ProjectRow {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(ProjectRow {
            id: r.text(0)?,
            org_id: r.text(1)?,
            settings: ProjectSettings {
                name: r.text(2)?,
                project_role_assertion: r.bool(4)?,
                project_role_check: r.bool(5)?,
                has_project_check: r.bool(6)?,
                private_labeling_setting: r.int(7)? as i32,
            },
            state: r.int(3)?,
            created_at: r.int(8)?,
            changed_at: r.int(9)?,
            seq: r.int(10)?,
        })
    }

    pub fn to_pb(&self) -> pb::Project {
        pb::Project {
            id: self.id.clone(),
            details: details(self.seq, self.created_at, self.changed_at, &self.org_id),
            name: self.settings.name.clone(),
            state: self.state as i32,
            project_role_assertion: self.settings.project_role_assertion,
            project_role_check: self.settings.project_role_check,
            has_project_check: self.settings.has_project_check,
            private_labeling_setting: self.settings.private_labeling_setting,
        }
    }
}

fn not_found() -> Error {
    Error::not_found("PROJECT-3M9sd", "Errors.Project.NotFound")
}

fn role_not_found(key: &str) -> Error {
    Error::not_found("PROJECT-Mdj2s", "Errors.Project.Role.NotFound").with(format!("key \"{key}\""))
}

/// Loads a project of the organisation `org`; projects of other organisations are not found.
pub fn load(c: &mut dyn Conn, instance: &str, org: &str, id: &str) -> Result<ProjectRow> {
    let r = c.one(
        &format!("SELECT {COLS} FROM projects WHERE instance_id = ? AND org_id = ? AND id = ?"),
        &params![instance, org, id],
    )?;
    r.as_ref()
        .map(ProjectRow::from_row)
        .transpose()?
        .ok_or_else(not_found)
}

/// Validates the settable fields of a project.
pub fn settings(
    name: &str,
    role_assertion: bool,
    role_check: bool,
    has_project_check: bool,
    private_labeling: i32,
) -> R<ProjectSettings> {
    let name = validate::required("name", name, validate::MAX_NAME)?;
    if pb::PrivateLabelingSetting::try_from(private_labeling).is_err() {
        return Err(invalid(format!(
            "privateLabelingSetting {private_labeling} is unknown"
        )));
    }
    Ok(ProjectSettings {
        name,
        project_role_assertion: role_assertion,
        project_role_check: role_check,
        has_project_check,
        private_labeling_setting: private_labeling,
    })
}

fn ensure_name_free(tx: &mut Tx<'_>, org: &str, name: &str) -> Result<()> {
    let inst = tx.instance().to_string();
    if tx
        .one(
            "SELECT 1 FROM projects WHERE instance_id = ? AND org_id = ? AND name_lower = ?",
            &params![&inst, org, name.to_lowercase()],
        )?
        .is_some()
    {
        return Err(
            Error::exists("PROJECT-3N8fs", "Errors.Project.AlreadyExists").with(format!(
                "a project named \"{name}\" exists in the organisation"
            )),
        );
    }
    Ok(())
}

/// AddProject: a new active project in the context organisation.
pub async fn add(st: &St, ctx: &Ctx, s: ProjectSettings) -> R<(String, ObjectDetails)> {
    add_with_id(st, ctx, None, s).await
}

/// AddProject keeping a given id (ImportData); the id must be free.
pub async fn add_with_id(
    st: &St,
    ctx: &Ctx,
    id: Option<&str>,
    s: ProjectSettings,
) -> R<(String, ObjectDetails)> {
    let id = match id {
        Some(id) => validate::required("projectId", id, validate::MAX_NAME)?,
        None => st.ids.next(),
    };
    let (pid, org) = (id.clone(), ctx.org_id.clone());
    let evs = st
        .db
        .command(&id, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            super::orgs::load(tx.conn, &inst, &org)?;
            if tx
                .one(
                    "SELECT 1 FROM projects WHERE instance_id = ? AND id = ?",
                    &params![&inst, &pid],
                )?
                .is_some()
            {
                return Err(
                    Error::exists("PROJECT-1d3x1", "Errors.Project.AlreadyExists")
                        .with(format!("a project with the id {pid} exists")),
                );
            }
            ensure_name_free(tx, &org, &s.name)?;
            tx.push(
                agg::PROJECT,
                &pid,
                &org,
                vec![Payload::ProjectAdded(s.clone())],
            )
        })
        .await?;
    Ok((id, mutation(&evs, true).unwrap_or_default()))
}

/// Runs a command on one project of the context organisation.
async fn change<F>(st: &St, ctx: &Ctx, id: &str, f: F) -> R<ObjectDetails>
where
    F: Fn(&mut Tx<'_>, &ProjectRow) -> Result<Vec<Payload>> + Send + Sync + 'static,
{
    let (id, org) = (id.trim().to_string(), ctx.org_id.clone());
    if id.is_empty() {
        return Err(invalid("id must not be empty"));
    }
    let key = id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let p = load(tx.conn, &inst, &org, &id)?;
            let payloads = f(tx, &p)?;
            tx.push(agg::PROJECT, &id, &org, payloads)
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

pub async fn update(st: &St, ctx: &Ctx, id: &str, s: ProjectSettings) -> R<ObjectDetails> {
    change(st, ctx, id, move |tx, p| {
        if p.settings == s {
            return Err(
                Error::precondition("PROJECT-1m9ds", "Errors.Project.NotChanged")
                    .with("nothing changed"),
            );
        }
        if p.settings.name.to_lowercase() != s.name.to_lowercase() {
            ensure_name_free(tx, &p.org_id, &s.name)?;
        }
        Ok(vec![Payload::ProjectChanged(s.clone())])
    })
    .await
}

pub async fn deactivate(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    change(st, ctx, id, |_, p| match p.state {
        project_state::ACTIVE => Ok(vec![Payload::ProjectDeactivated {}]),
        _ => Err(Error::precondition(
            "PROJECT-37Bsd",
            "Errors.Project.NotActive",
        )),
    })
    .await
}

pub async fn reactivate(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    change(st, ctx, id, |_, p| match p.state {
        project_state::INACTIVE => Ok(vec![Payload::ProjectReactivated {}]),
        _ => Err(Error::precondition(
            "PROJECT-93Jsd",
            "Errors.Project.NotInactive",
        )),
    })
    .await
}

pub async fn remove(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    change(st, ctx, id, |_, p| {
        Ok(vec![Payload::ProjectRemoved {
            name: p.settings.name.clone(),
        }])
    })
    .await
}

/// A project of the context organisation.
pub async fn get(st: &St, ctx: &Ctx, id: &str) -> R<ProjectRow> {
    let (inst, org, id) = (ctx.instance_id.clone(), ctx.org_id.clone(), id.to_string());
    Ok(st.db.read(move |c| load(c, &inst, &org, &id)).await?)
}

/// Lists projects of the context organisation.
pub async fn list(
    st: &St,
    ctx: &Ctx,
    page: Page,
    queries: &[pb::ProjectQuery],
) -> R<(i64, i64, Vec<ProjectRow>)> {
    use pb::project_query::Query as Q;
    let mut f = Filter::new();
    f.and(
        "instance_id = ? AND org_id = ?",
        params![&ctx.instance_id, &ctx.org_id],
    );
    for q in queries {
        match q
            .query
            .as_ref()
            .ok_or_else(|| invalid("a query must set one of its fields"))?
        {
            Q::NameQuery(x) => {
                let (sql, v) = text("name", x.method, &x.name)?;
                f.and(sql, vec![v]);
            }
            Q::ProjectResourceOwnerQuery(x) => {
                f.and("org_id = ?", params![&x.resource_owner]);
            }
        }
    }
    if let Some(ids) = &ctx.scope {
        let (sql, v) = super::query::in_list("id", ids);
        f.and(sql, v);
    }
    let tail = page.tail("created_at", "id");
    Ok(st
        .db
        .read(move |c| {
            let (total, pos, rows) = super::query::page_rows(c, COLS, "projects", &f, &tail)?;
            let out = rows
                .iter()
                .map(ProjectRow::from_row)
                .collect::<Result<Vec<_>>>()?;
            Ok((total, pos, out))
        })
        .await?)
}

/// A role to add or change, validated.
#[derive(Debug, Clone)]
pub struct NewRole {
    pub key: String,
    pub display_name: String,
    pub group: String,
}

impl NewRole {
    /// Validates a role; `key_field` is the name of the key field in the request.
    pub fn new(key_field: &'static str, key: &str, display_name: &str, group: &str) -> R<NewRole> {
        Ok(NewRole {
            key: validate::required(key_field, key, validate::MAX_NAME)?,
            display_name: validate::required("displayName", display_name, validate::MAX_NAME)?,
            group: validate::optional("group", group, validate::MAX_NAME)?,
        })
    }
}

fn role_exists(tx: &mut Tx<'_>, project: &str, key: &str) -> Result<Option<Row>> {
    let inst = tx.instance().to_string();
    tx.one(
        "SELECT display_name, group_name FROM project_roles WHERE instance_id = ? AND project_id = ? AND key = ?",
        &params![&inst, project, key],
    )
}

/// Adds roles to a project in one transaction: all or nothing.
pub async fn add_roles(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    roles: Vec<NewRole>,
) -> R<ObjectDetails> {
    if roles.is_empty() {
        return Err(invalid("roles must contain at least one role"));
    }
    let mut seen = std::collections::HashSet::new();
    for r in &roles {
        if !seen.insert(r.key.clone()) {
            return Err(crate::error::ApiErr(
                Error::exists("PROJECT-5Mds2", "Errors.Project.Role.AlreadyExists")
                    .with(format!("key \"{}\" is given twice", r.key)),
            ));
        }
    }
    change(st, ctx, project_id, move |tx, p| {
        let mut evs = Vec::with_capacity(roles.len());
        for r in &roles {
            if role_exists(tx, &p.id, &r.key)?.is_some() {
                return Err(
                    Error::exists("PROJECT-8d0sf", "Errors.Project.Role.AlreadyExists")
                        .with(format!("key \"{}\" exists", r.key)),
                );
            }
            evs.push(Payload::ProjectRoleAdded {
                key: r.key.clone(),
                display_name: r.display_name.clone(),
                group: r.group.clone(),
            });
        }
        Ok(evs)
    })
    .await
}

pub async fn update_role(st: &St, ctx: &Ctx, project_id: &str, r: NewRole) -> R<ObjectDetails> {
    change(st, ctx, project_id, move |tx, p| {
        let cur = role_exists(tx, &p.id, &r.key)?.ok_or_else(|| role_not_found(&r.key))?;
        if cur.text(0)? == r.display_name && cur.text(1)? == r.group {
            return Err(
                Error::precondition("PROJECT-fd9sd", "Errors.Project.Role.NotChanged")
                    .with("nothing changed"),
            );
        }
        Ok(vec![Payload::ProjectRoleChanged {
            key: r.key.clone(),
            display_name: r.display_name.clone(),
            group: r.group.clone(),
        }])
    })
    .await
}

pub async fn remove_role(st: &St, ctx: &Ctx, project_id: &str, key: &str) -> R<ObjectDetails> {
    let key = validate::required("roleKey", key, validate::MAX_NAME)?;
    change(st, ctx, project_id, move |tx, p| {
        role_exists(tx, &p.id, &key)?.ok_or_else(|| role_not_found(&key))?;
        // The key also leaves every grant of the project that hands it over.
        let mut evs = vec![Payload::ProjectRoleRemoved { key: key.clone() }];
        evs.extend(super::grants::cascade_role_removal(tx, &p.id, &key)?);
        // And every user grant on the project holding it (direct or through a grant).
        super::user_grants::cascade_role_removal(tx, &p.id, None, std::slice::from_ref(&key))?;
        Ok(evs)
    })
    .await
}

/// Lists roles of a project of the context organisation.
pub async fn list_roles(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    page: Page,
    queries: &[pb::RoleQuery],
) -> R<(i64, i64, Vec<pb::Role>)> {
    use pb::role_query::Query as Q;
    let mut f = Filter::new();
    f.and(
        "instance_id = ? AND project_id = ?",
        params![&ctx.instance_id, project_id],
    );
    for q in queries {
        match q
            .query
            .as_ref()
            .ok_or_else(|| invalid("a query must set one of its fields"))?
        {
            Q::KeyQuery(x) => {
                let (sql, v) = text("key", x.method, &x.key)?;
                f.and(sql, vec![v]);
            }
            Q::DisplayNameQuery(x) => {
                let (sql, v) = text("display_name", x.method, &x.display_name)?;
                f.and(sql, vec![v]);
            }
        }
    }
    let tail = page.tail("created_at", "key");
    let (inst, org, pid) = (
        ctx.instance_id.clone(),
        ctx.org_id.clone(),
        project_id.to_string(),
    );
    Ok(st
        .db
        .read(move |c| {
            load(c, &inst, &org, &pid)?;
            let (total, pos, rows) = super::query::page_rows(
                c,
                "key, display_name, group_name, org_id, seq, created_at, changed_at",
                "project_roles",
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
