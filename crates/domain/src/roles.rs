//! The declarative table of manager roles and the permissions each grants.
//!
//! The prefix of a role names the level of the membership that holds it: `IAM_*` on the
//! instance, `ORG_*` on an organisation, `PROJECT_*` on a project and `PROJECT_GRANT_*` on a
//! project grant. The mapping mirrors ZITADEL's default `RolePermissionMappings`.

/// Level of a membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Instance,
    Org,
    Project,
    ProjectGrant,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Instance => "instance",
            Level::Org => "org",
            Level::Project => "project",
            Level::ProjectGrant => "project_grant",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "instance" => Level::Instance,
            "org" => Level::Org,
            "project" => Level::Project,
            "project_grant" => Level::ProjectGrant,
            _ => return None,
        })
    }
    /// The role name prefix that roles of this level carry.
    pub fn prefix(self) -> &'static str {
        match self {
            Level::Instance => "IAM_",
            Level::Org => "ORG_",
            Level::Project => "PROJECT_",
            Level::ProjectGrant => "PROJECT_GRANT_",
        }
    }
}

const ORG_ALL: &[&str] = &[
    "org.read",
    "org.global.read",
    "org.write",
    "org.delete",
    "org.member.read",
    "org.member.write",
    "org.member.delete",
    "org.idp.read",
    "org.idp.write",
    "org.idp.delete",
    "org.action.read",
    "org.action.write",
    "org.action.delete",
    "org.flow.read",
    "org.flow.write",
    "org.flow.delete",
    "org.feature.read",
    "org.feature.write",
    "org.feature.delete",
];
const USER_ALL: &[&str] = &[
    "user.read",
    "user.global.read",
    "user.write",
    "user.delete",
    "user.grant.read",
    "user.grant.write",
    "user.grant.delete",
    "user.membership.read",
    "user.credential.write",
    "user.passkey.write",
    "user.feature.read",
    "user.feature.write",
    "user.feature.delete",
];
const POLICY_ALL: &[&str] = &["policy.read", "policy.write", "policy.delete"];
/// Everything on projects except creating them (what a project owner may do).
const PROJECT_MANAGE: &[&str] = &[
    "project.read",
    "project.write",
    "project.delete",
    "project.member.read",
    "project.member.write",
    "project.member.delete",
    "project.role.read",
    "project.role.write",
    "project.role.delete",
    "project.app.read",
    "project.app.write",
    "project.app.delete",
    "project.grant.read",
    "project.grant.write",
    "project.grant.delete",
    "project.grant.member.read",
    "project.grant.member.write",
    "project.grant.member.delete",
];
const IAM_ALL: &[&str] = &[
    "iam.read",
    "iam.write",
    "iam.policy.read",
    "iam.policy.write",
    "iam.policy.delete",
    "iam.member.read",
    "iam.member.write",
    "iam.member.delete",
    "iam.idp.read",
    "iam.idp.write",
    "iam.idp.delete",
    "iam.action.read",
    "iam.action.write",
    "iam.action.delete",
    "iam.flow.read",
    "iam.flow.write",
    "iam.flow.delete",
    "iam.feature.read",
    "iam.feature.write",
    "iam.feature.delete",
    "iam.restrictions.read",
    "iam.restrictions.write",
    "iam.web_key.read",
    "iam.web_key.write",
    "iam.web_key.delete",
    "iam.debug.read",
    "iam.debug.write",
];
const IAM_OWNER_EXTRA: &[&str] = &[
    "org.create",
    "events.read",
    "milestones.read",
    "session.read",
    "session.write",
    "session.delete",
    "action.target.read",
    "action.target.write",
    "action.target.delete",
    "action.execution.read",
    "action.execution.write",
    "userschema.read",
    "userschema.write",
    "userschema.delete",
];
const IAM_OWNER_VIEWER: &[&str] = &[
    "iam.read",
    "iam.policy.read",
    "iam.member.read",
    "iam.idp.read",
    "iam.action.read",
    "iam.flow.read",
    "iam.restrictions.read",
    "iam.feature.read",
    "iam.web_key.read",
    "iam.debug.read",
    "org.read",
    "org.member.read",
    "org.idp.read",
    "org.action.read",
    "org.flow.read",
    "org.feature.read",
    "user.read",
    "user.global.read",
    "user.grant.read",
    "user.membership.read",
    "user.feature.read",
    "policy.read",
    "project.read",
    "project.member.read",
    "project.role.read",
    "project.app.read",
    "project.grant.read",
    "project.grant.member.read",
    "events.read",
    "milestones.read",
    "action.target.read",
    "action.execution.read",
    "userschema.read",
    "session.read",
];
const IAM_USER_MANAGER: &[&str] = &[
    "org.read",
    "org.global.read",
    "org.member.read",
    "org.member.delete",
    "user.read",
    "user.global.read",
    "user.write",
    "user.delete",
    "user.grant.read",
    "user.grant.write",
    "user.grant.delete",
    "user.membership.read",
    "user.passkey.write",
    "user.feature.read",
    "user.feature.write",
    "user.feature.delete",
    "project.read",
    "project.member.read",
    "project.role.read",
    "project.app.read",
    "project.grant.read",
    "project.grant.write",
    "project.grant.delete",
    "project.grant.member.read",
    "session.read",
    "session.delete",
];
const IAM_LOGIN_CLIENT: &[&str] = &[
    "iam.read",
    "iam.policy.read",
    "iam.member.read",
    "iam.member.write",
    "iam.idp.read",
    "iam.feature.read",
    "iam.restrictions.read",
    "org.read",
    "org.member.read",
    "org.member.write",
    "org.idp.read",
    "org.feature.read",
    "user.read",
    "user.write",
    "user.grant.read",
    "user.grant.write",
    "user.membership.read",
    "user.credential.write",
    "user.passkey.write",
    "user.feature.read",
    "policy.read",
    "project.read",
    "project.member.read",
    "project.member.write",
    "project.role.read",
    "project.app.read",
    "project.grant.read",
    "project.grant.member.read",
    "project.grant.member.write",
    "session.read",
    "session.write",
    "session.link",
    "session.delete",
    "userschema.read",
];
const ORG_OWNER_EXTRA: &[&str] = &["session.read", "session.delete"];
const ORG_USER_MANAGER: &[&str] = &[
    "org.read",
    "user.read",
    "user.global.read",
    "user.write",
    "user.delete",
    "user.grant.read",
    "user.grant.write",
    "user.grant.delete",
    "user.membership.read",
    "user.feature.read",
    "user.feature.write",
    "user.feature.delete",
    "policy.read",
    "project.read",
    "project.role.read",
    "session.read",
    "session.delete",
];
const ORG_OWNER_VIEWER: &[&str] = &[
    "org.read",
    "org.member.read",
    "org.idp.read",
    "org.action.read",
    "org.flow.read",
    "org.feature.read",
    "user.read",
    "user.global.read",
    "user.grant.read",
    "user.membership.read",
    "user.feature.read",
    "policy.read",
    "project.read",
    "project.member.read",
    "project.role.read",
    "project.app.read",
    "project.grant.read",
    "project.grant.member.read",
    "project.grant.user.grant.read",
];
const ORG_SETTINGS_MANAGER: &[&str] = &[
    "org.read",
    "org.write",
    "org.member.read",
    "org.idp.read",
    "org.idp.write",
    "org.idp.delete",
    "org.feature.read",
    "org.feature.write",
    "org.feature.delete",
    "policy.read",
    "policy.write",
    "policy.delete",
];
const ORG_USER_PERMISSION_EDITOR: &[&str] = &[
    "org.read",
    "org.member.read",
    "user.read",
    "user.global.read",
    "user.grant.read",
    "user.grant.write",
    "user.grant.delete",
    "policy.read",
    "project.read",
    "project.member.read",
    "project.role.read",
    "project.app.read",
    "project.grant.read",
    "project.grant.member.read",
];
const ORG_PROJECT_PERMISSION_EDITOR: &[&str] = &[
    "org.read",
    "org.member.read",
    "user.read",
    "user.global.read",
    "user.grant.read",
    "user.grant.write",
    "user.grant.delete",
    "policy.read",
    "project.read",
    "project.member.read",
    "project.role.read",
    "project.app.read",
    "project.grant.read",
    "project.grant.write",
    "project.grant.delete",
    "project.grant.member.read",
];
const ORG_PROJECT_CREATOR: &[&str] = &[
    "user.global.read",
    "policy.read",
    "project.read:self",
    "project.create",
];
/// What a project owner may do with the users of its project.
const PROJECT_OWNER_USERS: &[&str] = &[
    "user.read",
    "user.global.read",
    "user.grant.read",
    "user.grant.write",
    "user.grant.delete",
    "user.membership.read",
];
const PROJECT_OWNER_VIEWER: &[&str] = &[
    "policy.read",
    "project.read",
    "project.member.read",
    "project.role.read",
    "project.app.read",
    "project.grant.read",
    "project.grant.member.read",
    "user.read",
    "user.global.read",
    "user.grant.read",
    "user.membership.read",
];
const PROJECT_OWNER_GLOBAL: &[&str] = &[
    "org.global.read",
    "policy.read",
    "project.read",
    "project.write",
    "project.delete",
    "project.member.read",
    "project.member.write",
    "project.member.delete",
    "project.role.read",
    "project.role.write",
    "project.role.delete",
    "project.app.read",
    "project.app.write",
    "project.app.delete",
    "user.global.read",
    "user.grant.read",
    "user.grant.write",
    "user.grant.delete",
    "user.membership.read",
];
const PROJECT_OWNER_VIEWER_GLOBAL: &[&str] = &[
    "policy.read",
    "project.read",
    "project.member.read",
    "project.role.read",
    "project.app.read",
    "project.grant.read",
    "project.grant.member.read",
    "user.global.read",
    "user.grant.read",
    "user.membership.read",
];
const PROJECT_GRANT_OWNER: &[&str] = &[
    "policy.read",
    "org.global.read",
    "project.read",
    "project.grant.read",
    "project.grant.member.read",
    "project.grant.member.write",
    "project.grant.member.delete",
    "user.read",
    "user.global.read",
    "user.grant.read",
    "user.grant.write",
    "user.grant.delete",
    "user.membership.read",
];
const PROJECT_GRANT_OWNER_VIEWER: &[&str] = &[
    "policy.read",
    "project.read",
    "project.grant.read",
    "project.grant.member.read",
    "user.read",
    "user.global.read",
    "user.grant.read",
    "user.membership.read",
];

/// One role: its name, and the permission groups it grants (concatenated).
pub struct Role {
    pub name: &'static str,
    pub groups: &'static [&'static [&'static str]],
}

/// Every manager role Castellan knows, with its permissions.
pub static ROLES: &[Role] = &[
    Role {
        name: "IAM_OWNER",
        groups: &[
            IAM_ALL,
            ORG_ALL,
            USER_ALL,
            POLICY_ALL,
            &["project.create"],
            PROJECT_MANAGE,
            IAM_OWNER_EXTRA,
        ],
    },
    Role {
        name: "IAM_OWNER_VIEWER",
        groups: &[IAM_OWNER_VIEWER],
    },
    Role {
        name: "IAM_ORG_MANAGER",
        groups: &[
            ORG_ALL,
            &["org.create"],
            USER_ALL,
            POLICY_ALL,
            &["project.create"],
            PROJECT_MANAGE,
            ORG_OWNER_EXTRA,
        ],
    },
    Role {
        name: "IAM_USER_MANAGER",
        groups: &[IAM_USER_MANAGER],
    },
    Role {
        name: "IAM_LOGIN_CLIENT",
        groups: &[IAM_LOGIN_CLIENT],
    },
    Role {
        name: "IAM_ADMIN_IMPERSONATOR",
        groups: &[&["admin.impersonation", "impersonation"]],
    },
    Role {
        name: "IAM_END_USER_IMPERSONATOR",
        groups: &[&["impersonation"]],
    },
    Role {
        name: "ORG_OWNER",
        groups: &[
            ORG_ALL,
            USER_ALL,
            POLICY_ALL,
            &["project.create"],
            PROJECT_MANAGE,
            ORG_OWNER_EXTRA,
        ],
    },
    Role {
        name: "ORG_OWNER_VIEWER",
        groups: &[ORG_OWNER_VIEWER],
    },
    Role {
        name: "ORG_USER_MANAGER",
        groups: &[ORG_USER_MANAGER],
    },
    Role {
        name: "ORG_SETTINGS_MANAGER",
        groups: &[ORG_SETTINGS_MANAGER],
    },
    Role {
        name: "ORG_USER_PERMISSION_EDITOR",
        groups: &[ORG_USER_PERMISSION_EDITOR],
    },
    Role {
        name: "ORG_PROJECT_PERMISSION_EDITOR",
        groups: &[ORG_PROJECT_PERMISSION_EDITOR],
    },
    Role {
        name: "ORG_PROJECT_CREATOR",
        groups: &[ORG_PROJECT_CREATOR],
    },
    Role {
        name: "ORG_ADMIN_IMPERSONATOR",
        groups: &[&["admin.impersonation", "impersonation"]],
    },
    Role {
        name: "ORG_END_USER_IMPERSONATOR",
        groups: &[&["impersonation"]],
    },
    Role {
        name: "ORG_USER_SELF_MANAGER",
        groups: &[&["policy.read", "user.self.delete"]],
    },
    Role {
        name: "SELF_MANAGEMENT_GLOBAL",
        groups: &[&["org.create", "policy.read", "user.self.delete"]],
    },
    Role {
        name: "PROJECT_OWNER",
        groups: &[
            &["org.global.read", "policy.read"],
            PROJECT_MANAGE,
            PROJECT_OWNER_USERS,
        ],
    },
    Role {
        name: "PROJECT_OWNER_VIEWER",
        groups: &[PROJECT_OWNER_VIEWER],
    },
    Role {
        name: "PROJECT_OWNER_GLOBAL",
        groups: &[PROJECT_OWNER_GLOBAL],
    },
    Role {
        name: "PROJECT_OWNER_VIEWER_GLOBAL",
        groups: &[PROJECT_OWNER_VIEWER_GLOBAL],
    },
    Role {
        name: "PROJECT_GRANT_OWNER",
        groups: &[PROJECT_GRANT_OWNER],
    },
    Role {
        name: "PROJECT_GRANT_OWNER_VIEWER",
        groups: &[PROJECT_GRANT_OWNER_VIEWER],
    },
];

/// Finds a role by name.
pub fn role(name: &str) -> Option<&'static Role> {
    ROLES.iter().find(|r| r.name == name)
}

impl Role {
    /// Whether this role grants `permission`.
    pub fn grants(&self, permission: &str) -> bool {
        self.groups.iter().any(|g| g.contains(&permission))
    }
    /// All permissions of this role, without duplicates, in table order.
    pub fn permissions(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for p in self.groups.iter().flat_map(|g| g.iter()) {
            if !out.contains(p) {
                out.push(p);
            }
        }
        out
    }
    /// The membership level this role belongs to (by its prefix).
    pub fn level(&self) -> Level {
        if self.name.starts_with("PROJECT_GRANT_") {
            Level::ProjectGrant
        } else if self.name.starts_with("PROJECT_") {
            Level::Project
        } else if self.name.starts_with("IAM_") {
            Level::Instance
        } else {
            Level::Org
        }
    }
}

/// Roles assignable on a level, for `List*MemberRoles`.
pub fn roles_of_level(level: Level) -> Vec<&'static str> {
    ROLES
        .iter()
        .filter(|r| {
            r.level() == level && !(level == Level::Org && r.name == "SELF_MANAGEMENT_GLOBAL")
        })
        .map(|r| r.name)
        .collect()
}

/// Whether any of `roles` grants `permission`.
pub fn any_grants<'a>(roles: impl IntoIterator<Item = &'a str>, permission: &str) -> bool {
    roles
        .into_iter()
        .filter_map(role)
        .any(|r| r.grants(permission))
}

/// Roles of system users (`SystemAPIUsers`), checked by the system API only; they are never
/// assigned through members and so stay out of [`ROLES`].
pub static SYSTEM_ROLES: &[Role] = &[
    Role {
        name: "SYSTEM_OWNER",
        groups: &[&[
            "system.instance.read",
            "system.instance.write",
            "system.instance.delete",
            "system.domain.read",
            "system.domain.write",
            "system.domain.delete",
            "system.debug.read",
            "system.debug.write",
            "system.debug.delete",
            "system.feature.read",
            "system.feature.write",
            "system.feature.delete",
            "system.limits.write",
            "system.limits.delete",
            "system.quota.write",
            "system.quota.delete",
            "system.iam.member.read",
        ]],
    },
    Role {
        name: "SYSTEM_OWNER_VIEWER",
        groups: &[&[
            "system.instance.read",
            "system.domain.read",
            "system.debug.read",
            "system.feature.read",
            "system.iam.member.read",
        ]],
    },
];

/// Whether any of the system `roles` grants `permission`.
pub fn system_grants<'a>(roles: impl IntoIterator<Item = &'a str>, permission: &str) -> bool {
    roles
        .into_iter()
        .filter_map(|n| SYSTEM_ROLES.iter().find(|r| r.name == n))
        .any(|r| r.grants(permission))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_grants_everything_a_viewer_does() {
        let owner = role("IAM_OWNER").expect("role");
        for p in role("IAM_OWNER_VIEWER").expect("role").permissions() {
            assert!(owner.grants(p), "IAM_OWNER lacks {p}");
        }
    }

    #[test]
    fn levels_follow_prefixes() {
        assert_eq!(
            role("PROJECT_GRANT_OWNER").map(Role::level),
            Some(Level::ProjectGrant)
        );
        assert_eq!(role("ORG_OWNER").map(Role::level), Some(Level::Org));
        assert!(roles_of_level(Level::Org).contains(&"ORG_PROJECT_CREATOR"));
        assert!(!role("ORG_OWNER_VIEWER").expect("role").grants("org.write"));
    }

    #[test]
    fn system_roles_are_separate() {
        assert!(system_grants(["SYSTEM_OWNER"], "system.instance.delete"));
        assert!(!system_grants(
            ["SYSTEM_OWNER_VIEWER"],
            "system.instance.write"
        ));
        assert!(!system_grants(["IAM_OWNER"], "system.instance.read"));
        assert!(role("SYSTEM_OWNER").is_none());
    }
}
