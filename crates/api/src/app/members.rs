//! Manager memberships on the instance, on organisations and on projects.

use super::query::{text, Filter, Page};
use crate::convert::{details, mutation};
use crate::ctx::Ctx;
use crate::error::{invalid, R};
use crate::state::St;
use castellan_domain::events::{agg, Payload};
use castellan_domain::roles::{self, Level};
use castellan_domain::{Error, Result};
use castellan_proto::zitadel::member::v1 as pb;
use castellan_proto::zitadel::user::v1 as upb;
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::{params, Conn, Row};

/// Where a membership lives: the instance, one organisation, or one project (of the context
/// organisation: projects of other organisations are not found).
#[derive(Debug, Clone)]
pub enum Scope {
    Instance,
    Org(String),
    Project(String),
    /// A grant (second) of a project (first) of the context organisation, or granted to it.
    ProjectGrant(String, String),
}

impl Scope {
    fn level(&self) -> Level {
        match self {
            Scope::Instance => Level::Instance,
            Scope::Org(_) => Level::Org,
            Scope::Project(_) => Level::Project,
            Scope::ProjectGrant(..) => Level::ProjectGrant,
        }
    }
    fn object(&self, instance: &str) -> String {
        match self {
            Scope::Instance => instance.to_string(),
            Scope::Org(o) => o.clone(),
            Scope::Project(p) => p.trim().to_string(),
            Scope::ProjectGrant(_, g) => g.trim().to_string(),
        }
    }
    /// The aggregate the membership's events go to (a grant's are on its project).
    fn aggregate(&self, instance: &str) -> String {
        match self {
            Scope::ProjectGrant(p, _) => p.trim().to_string(),
            _ => self.object(instance),
        }
    }
    /// Checks that the scope's object exists (a project in the context organisation `org`);
    /// returns the owner of the events on it.
    fn owner(&self, c: &mut dyn Conn, inst: &str, org: &str) -> Result<String> {
        Ok(match self {
            Scope::Instance => inst.to_string(),
            Scope::Org(o) => super::orgs::load(c, inst, o)?.id,
            Scope::Project(p) => super::projects::load(c, inst, org, p.trim())?.org_id,
            Scope::ProjectGrant(p, g) => {
                super::grants::load(c, inst, org, super::grants::Side::Any, p, g)?.org_id
            }
        })
    }
}

/// Checks that `roles` is non-empty, without duplicates and all of the scope's level.
pub fn check_roles(level: Level, roles: &[String]) -> Result<Vec<String>> {
    if roles.is_empty() {
        return Err(Error::invalid(
            "MEMBER-3m9ds",
            "Errors.Member.Invalid",
            "roles must contain at least one role",
        ));
    }
    let allowed = roles::roles_of_level(level);
    let mut out: Vec<String> = Vec::new();
    for r in roles {
        let r = r.trim().to_string();
        if !allowed.contains(&r.as_str()) {
            return Err(Error::invalid(
                "MEMBER-4m0fS",
                "Errors.Member.Invalid",
                format!(
                    "role \"{r}\" does not exist on this level; allowed: {}",
                    allowed.join(", ")
                ),
            ));
        }
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

fn payload(scope: &Scope, user_id: String, roles: Option<Vec<String>>, added: bool) -> Payload {
    match (scope, roles, added) {
        (Scope::Instance, Some(roles), true) => Payload::InstanceMemberAdded { user_id, roles },
        (Scope::Instance, Some(roles), false) => Payload::InstanceMemberChanged { user_id, roles },
        (Scope::Instance, None, _) => Payload::InstanceMemberRemoved { user_id },
        (Scope::Org(_), Some(roles), true) => Payload::OrgMemberAdded { user_id, roles },
        (Scope::Org(_), Some(roles), false) => Payload::OrgMemberChanged { user_id, roles },
        (Scope::Org(_), None, _) => Payload::OrgMemberRemoved { user_id },
        (Scope::Project(_), Some(roles), true) => Payload::ProjectMemberAdded { user_id, roles },
        (Scope::Project(_), Some(roles), false) => Payload::ProjectMemberChanged { user_id, roles },
        (Scope::Project(_), None, _) => Payload::ProjectMemberRemoved { user_id },
        (Scope::ProjectGrant(_, g), Some(roles), true) => Payload::ProjectGrantMemberAdded {
            grant_id: g.trim().to_string(),
            user_id,
            roles,
        },
        (Scope::ProjectGrant(_, g), Some(roles), false) => Payload::ProjectGrantMemberChanged {
            grant_id: g.trim().to_string(),
            user_id,
            roles,
        },
        (Scope::ProjectGrant(_, g), None, _) => Payload::ProjectGrantMemberRemoved {
            grant_id: g.trim().to_string(),
            user_id,
        },
    }
}

/// Adds (`Some(roles)`, new), changes (`Some(roles)`, existing) or removes (`None`) a member.
pub async fn write(
    st: &St,
    ctx: &Ctx,
    scope: Scope,
    user_id: &str,
    roles: Option<Vec<String>>,
    add: bool,
) -> R<ObjectDetails> {
    let user_id = user_id.trim().to_string();
    if let Scope::Project(p) | Scope::ProjectGrant(p, _) = &scope {
        if p.trim().is_empty() {
            return Err(invalid("projectId must not be empty"));
        }
    }
    if let Scope::ProjectGrant(_, g) = &scope {
        if g.trim().is_empty() {
            return Err(invalid("grantId must not be empty"));
        }
    }
    if user_id.is_empty() {
        return Err(invalid("userId must not be empty"));
    }
    let roles = roles.map(|r| check_roles(scope.level(), &r)).transpose()?;
    let key = scope.aggregate(&ctx.instance_id);
    let org = ctx.org_id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let object = scope.object(&inst);
            let aggregate = scope.aggregate(&inst);
            let owner = scope.owner(tx.conn, &inst, &org)?;
            let agg_type = match &scope {
                Scope::Instance => agg::INSTANCE,
                Scope::Org(_) => agg::ORG,
                Scope::Project(_) | Scope::ProjectGrant(..) => agg::PROJECT,
            };
            super::users::load(tx.conn, &inst, &user_id, None)?;
            let current = tx
                .one("SELECT roles FROM members WHERE instance_id = ? AND level = ? AND object_id = ? AND user_id = ?", &params![&inst, scope.level().as_str(), &object, &user_id])?
                .map(|r| r.text(0))
                .transpose()?;
            match (&current, &roles, add) {
                (Some(_), Some(_), true) => return Err(Error::exists("MEMBER-ad2fs", "Errors.Member.AlreadyExists")),
                (None, _, false) => return Err(Error::not_found("MEMBER-fs8dn", "Errors.Member.NotFound")),
                (Some(cur), Some(new), false) if cur == &new.join(",") => return Err(Error::precondition("MEMBER-LiaZi", "Errors.Member.RolesNotChanged")),
                _ => {}
            }
            tx.push(agg_type, &aggregate, &owner, vec![payload(&scope, user_id.clone(), roles.clone(), add)])
        })
        .await?;
    Ok(mutation(&evs, add).unwrap_or_default())
}

const MEMBER_COLS: &str = "m.user_id, m.roles, m.seq, m.created_at, m.changed_at, m.owner, u.login_name, u.email, u.first_name, u.last_name, u.display_name, u.kind, u.org_id, u.machine_name, u.avatar_key";

fn member_pb(r: &Row, assets: &str) -> Result<pb::Member> {
    let display = {
        let d = r.text(10)?;
        if d.is_empty() {
            r.text(13)?
        } else {
            d
        }
    };
    Ok(pb::Member {
        user_id: r.text(0)?,
        details: details(r.int(2)?, r.int(3)?, r.int(4)?, &r.text(5)?),
        roles: r
            .text(1)?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        preferred_login_name: r.text(6)?,
        email: r.text(7)?,
        first_name: r.text(8)?,
        last_name: r.text(9)?,
        display_name: display,
        avatar_url: crate::assets::url_in(assets, &r.text(12)?, &r.text(14)?),
        user_type: r.int(11)? as i32,
        user_resource_owner: r.text(12)?,
    })
}

/// Lists the members of a scope.
pub async fn list(
    st: &St,
    ctx: &Ctx,
    scope: Scope,
    page: Page,
    queries: &[pb::SearchQuery],
) -> R<(i64, i64, Vec<pb::Member>)> {
    use pb::search_query::Query as Q;
    let mut f = Filter::new();
    f.and(
        "m.instance_id = ? AND m.level = ? AND m.object_id = ?",
        params![
            &ctx.instance_id,
            scope.level().as_str(),
            scope.object(&ctx.instance_id)
        ],
    );
    for q in queries {
        let (sql, v) = match q
            .query
            .as_ref()
            .ok_or_else(|| invalid("a query must set one of its fields"))?
        {
            Q::FirstNameQuery(x) => text("u.first_name", x.method, &x.first_name)?,
            Q::LastNameQuery(x) => text("u.last_name", x.method, &x.last_name)?,
            Q::EmailQuery(x) => text("u.email", x.method, &x.email)?,
            Q::UserIdQuery(x) => ("m.user_id = ?".to_string(), x.user_id.clone().into()),
        };
        f.and(sql, vec![v]);
    }
    let (inst, org) = (ctx.instance_id.clone(), ctx.org_id.clone());
    let assets = crate::assets::prefix();
    let tail = page.tail("m.created_at", "m.user_id");
    Ok(st
        .db
        .read(move |c| {
            scope.owner(c, &inst, &org)?;
            let from =
                "members m JOIN users u ON u.instance_id = m.instance_id AND u.id = m.user_id";
            let clause = f.clause();
            let total = c.scalar(
                &format!("SELECT COUNT(*) FROM {from} WHERE {clause}"),
                &f.params,
            )?;
            let rows = c.query(
                &format!("SELECT {MEMBER_COLS} FROM {from} WHERE {clause}{tail}"),
                &f.params,
            )?;
            let out = rows
                .iter()
                .map(|r| member_pb(r, &assets))
                .collect::<Result<Vec<_>>>()?;
            let pos = c.scalar("SELECT COALESCE(MAX(position), 0) FROM events", &[])?;
            Ok((total, pos, out))
        })
        .await?)
}

/// Lists the memberships a user holds (instance, organisations and projects).
pub async fn memberships(
    st: &St,
    ctx: &Ctx,
    user_id: &str,
    page: Page,
    queries: &[upb::MembershipQuery],
) -> R<(i64, i64, Vec<upb::Membership>)> {
    use upb::membership_query::Query as Q;
    let mut f = Filter::new();
    f.and(
        "m.instance_id = ? AND m.user_id = ? AND m.level IN ('instance', 'org', 'project', 'project_grant')",
        params![&ctx.instance_id, user_id],
    );
    for q in queries {
        match q
            .query
            .as_ref()
            .ok_or_else(|| invalid("a query must set one of its fields"))?
        {
            Q::OrgQuery(x) => f.and("m.level = 'org' AND m.object_id = ?", params![&x.org_id]),
            Q::IamQuery(_) => f.and("m.level = 'instance'", vec![]),
            Q::ProjectQuery(x) => f.and(
                "m.level = 'project' AND m.object_id = ?",
                params![&x.project_id],
            ),
            Q::ProjectGrantQuery(x) => f.and(
                "m.level = 'project_grant' AND m.object_id = ?",
                params![&x.project_grant_id],
            ),
        };
    }
    let tail = page.tail("m.created_at", "m.object_id");
    Ok(st
        .db
        .read(move |c| {
            let from = "members m LEFT JOIN orgs o ON o.instance_id = m.instance_id AND o.id = m.object_id AND m.level = 'org' \
                LEFT JOIN instances i ON i.id = m.object_id AND m.level = 'instance' \
                LEFT JOIN project_grants g ON g.instance_id = m.instance_id AND g.id = m.object_id AND m.level = 'project_grant' \
                LEFT JOIN projects p ON p.instance_id = m.instance_id AND ((p.id = m.object_id AND m.level = 'project') OR p.id = g.project_id)";
            let clause = f.clause();
            let total = c.scalar(&format!("SELECT COUNT(*) FROM {from} WHERE {clause}"), &f.params)?;
            let rows = c.query(
                &format!("SELECT m.user_id, m.roles, m.seq, m.created_at, m.changed_at, m.owner, m.level, m.object_id, o.name, i.name, p.name FROM {from} WHERE {clause}{tail}"),
                &f.params,
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let level = r.text(6)?;
                let (r#type, display) = match level.as_str() {
                    "instance" => (upb::membership::Type::Iam(true), r.text(9)?),
                    "project" => (upb::membership::Type::ProjectId(r.text(7)?), r.text(10)?),
                    "project_grant" => (upb::membership::Type::ProjectGrantId(r.text(7)?), r.text(10)?),
                    _ => (upb::membership::Type::OrgId(r.text(7)?), r.text(8)?),
                };
                out.push(upb::Membership {
                    user_id: r.text(0)?,
                    details: details(r.int(2)?, r.int(3)?, r.int(4)?, &r.text(5)?),
                    roles: r.text(1)?.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
                    display_name: display,
                    r#type: Some(r#type),
                });
            }
            let pos = c.scalar("SELECT COALESCE(MAX(position), 0) FROM events", &[])?;
            Ok((total, pos, out))
        })
        .await?)
}
