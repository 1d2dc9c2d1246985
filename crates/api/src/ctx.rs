//! The per-request context the gate puts into every request: instance, caller and org.

use crate::error::{ApiErr, R};
use castellan_domain::{Error, Kind};
use castellan_store::Author;
use std::collections::HashMap;
use std::sync::Arc;

/// The caller's roles on one project.
#[derive(Debug, Clone, Default)]
pub struct ProjectRoles {
    /// The organisation the project belongs to.
    pub org_id: String,
    pub roles: Vec<String>,
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub instance_id: String,
    pub user_id: String,
    /// The caller's own organisation (resource owner).
    pub org_id: String,
    pub login_name: String,
    pub display_name: String,
    /// Roles on the instance.
    pub instance_roles: Vec<String>,
    /// Roles per organisation id.
    pub org_roles: HashMap<String, Vec<String>>,
    /// Roles per project id, with the organisation that owns the project.
    pub project_roles: HashMap<String, ProjectRoles>,
    /// Roles per project grant id, with the organisation the project is granted to.
    pub grant_roles: HashMap<String, ProjectRoles>,
    /// Roles of a system user (`SystemAPIUsers`); empty for everyone else.
    pub system_roles: Vec<String>,
    /// Expiry of the token, microseconds.
    pub expires: i64,
    /// The login session (`sid`) of an OIDC access token from a browser login: it names the
    /// browser (user agent) the token was issued in. `None` for PATs, machine grants, token
    /// exchange and system users.
    pub session_id: Option<String>,
}

impl Principal {
    /// Whether the caller holds `permission` on the instance.
    pub fn has_instance(&self, permission: &str) -> bool {
        castellan_domain::roles::any_grants(
            self.instance_roles.iter().map(String::as_str),
            permission,
        )
    }
    /// Whether the caller holds `permission` in `org` (directly or through the instance).
    pub fn has_in_org(&self, permission: &str, org: &str) -> bool {
        self.has_instance(permission)
            || self.org_roles.get(org).is_some_and(|r| {
                castellan_domain::roles::any_grants(r.iter().map(String::as_str), permission)
            })
    }
    /// Whether the caller's roles on `project`, a project of `org`, grant `permission`.
    pub fn has_in_project(&self, permission: &str, project: &str, org: &str) -> bool {
        self.project_roles.get(project).is_some_and(|p| {
            p.org_id == org
                && castellan_domain::roles::any_grants(
                    p.roles.iter().map(String::as_str),
                    permission,
                )
        })
    }
    /// Whether the caller's roles on the project grant `grant`, a grant to `org`, grant
    /// `permission`.
    pub fn has_in_grant(&self, permission: &str, grant: &str, org: &str) -> bool {
        self.grant_roles.get(grant).is_some_and(|g| {
            g.org_id == org
                && castellan_domain::roles::any_grants(
                    g.roles.iter().map(String::as_str),
                    permission,
                )
        })
    }
    /// Every permission the caller holds in `org`, as ZITADEL's ListMyZitadelPermissions lists
    /// them: those of instance and `org` memberships as they are, those of memberships on
    /// projects of `org` suffixed `:<project id>` and of grants to `org` `:<grant id>`.
    pub fn permissions_in(&self, org: &str) -> Vec<String> {
        fn add(out: &mut Vec<String>, roles: &[String], suffix: &str) {
            for r in roles
                .iter()
                .filter_map(|r| castellan_domain::roles::role(r))
            {
                for p in r.permissions() {
                    let p = if suffix.is_empty() {
                        p.to_string()
                    } else {
                        format!("{p}:{suffix}")
                    };
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
            }
        }
        let mut out: Vec<String> = Vec::new();
        add(&mut out, &self.instance_roles, "");
        if let Some(r) = self.org_roles.get(org) {
            add(&mut out, r, "");
        }
        for scoped in [&self.project_roles, &self.grant_roles] {
            let mut ids: Vec<&String> = scoped
                .iter()
                .filter(|(_, r)| r.org_id == org)
                .map(|(id, _)| id)
                .collect();
            ids.sort();
            for id in ids {
                if let Some(r) = scoped.get(id) {
                    add(&mut out, &r.roles, id);
                }
            }
        }
        out
    }
}

/// What a handler knows about its request.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub instance_id: String,
    pub principal: Option<Arc<Principal>>,
    /// The organisation in context: `x-zitadel-orgid`, else the caller's own.
    pub org_id: String,
    pub request_id: String,
    /// When the caller's permission comes from project (or project grant) roles only: the
    /// projects (or grants) a list call is limited to.
    pub scope: Option<Vec<String>>,
}

impl Ctx {
    /// The caller; handlers of methods with a permission always have one.
    pub fn caller(&self) -> R<&Principal> {
        self.principal.as_deref().ok_or_else(|| {
            ApiErr(Error::new(
                Kind::Unauthenticated,
                "AUTH-n0Pr1",
                "Errors.Token.Missing",
            ))
        })
    }
    /// The author of commands issued by this request.
    pub fn author(&self) -> Author {
        Author {
            instance_id: self.instance_id.clone(),
            creator: self
                .principal
                .as_ref()
                .map(|p| p.user_id.clone())
                .unwrap_or_else(|| "SYSTEM".into()),
        }
    }
    /// Checks `permission` in `org` for the caller.
    pub fn require_in_org(&self, permission: &str, org: &str) -> R<()> {
        if self.caller()?.has_in_org(permission, org) {
            Ok(())
        } else {
            Err(ApiErr(Error::denied()))
        }
    }
}

/// Reads the context from a tonic request.
pub fn of<T>(req: &tonic::Request<T>) -> R<Ctx> {
    req.extensions()
        .get::<Ctx>()
        .cloned()
        .ok_or_else(|| ApiErr(Error::internal("CTX-m1ss1", "request context missing")))
}
