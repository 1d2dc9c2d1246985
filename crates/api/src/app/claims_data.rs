//! What the provider's user claims are made of, read from the read models: the user with its
//! organisation, metadata and user grants, and the client app with its project's flags.
//! Kept in memory under the data epoch, which every commit moves, on this node at once and on
//! the other PostgreSQL nodes through `castellan_data`.

use crate::app::users::{self, UserRow};
use crate::error::R;
use crate::state::St;
use castellan_domain::Result;
use castellan_store::projection::{app_kind, user_grant_state};
use castellan_store::{params, Conn};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A user with everything its claims may name.
#[derive(Debug, Clone)]
pub struct UserData {
    pub user: UserRow,
    pub org_name: String,
    pub org_primary_domain: String,
    /// Metadata (key, value) ordered by key.
    pub metadata: Vec<(String, Vec<u8>)>,
    /// Active user grants.
    pub grants: Vec<GrantData>,
}

/// One user grant: the project, the granting organisation (with its primary domain) and the
/// role keys.
#[derive(Debug, Clone)]
pub struct GrantData {
    pub project_id: String,
    pub org_id: String,
    pub org_primary_domain: String,
    pub role_keys: Vec<String>,
}

/// The flags of a client app and its project that decide role and profile claims.
#[derive(Debug, Clone, Default)]
pub struct ClientData {
    pub project_id: String,
    pub project_org_id: String,
    pub project_role_assertion: bool,
    pub project_role_check: bool,
    pub has_project_check: bool,
    pub access_token_role_assertion: bool,
    pub id_token_role_assertion: bool,
    pub id_token_userinfo_assertion: bool,
}

/// Entries keyed by (instance, id), stamped with the data epoch.
type EpochMap<V> = RwLock<HashMap<(String, String), (u64, V)>>;

/// The caches of this module.
#[derive(Default)]
pub struct Cache {
    users: EpochMap<Arc<UserData>>,
    clients: EpochMap<Arc<Option<ClientData>>>,
}

fn cached<V: Clone>(m: &EpochMap<V>, k: &(String, String), epoch: u64) -> Option<V> {
    let m = m.read().unwrap_or_else(|e| e.into_inner());
    m.get(k)
        .filter(|(e, _)| *e == epoch)
        .map(|(_, v)| v.clone())
}

fn store<V>(m: &EpochMap<V>, k: (String, String), epoch: u64, v: V) {
    let mut m = m.write().unwrap_or_else(|e| e.into_inner());
    if m.len() >= 50_000 {
        m.clear();
    }
    m.insert(k, (epoch, v));
}

/// The user `user_id` of `instance` with organisation, metadata and grants; NOT_FOUND when
/// it does not exist.
pub async fn user(st: &St, instance: &str, user_id: &str) -> R<Arc<UserData>> {
    let epoch = st.db.data_epoch();
    let key = (instance.to_string(), user_id.to_string());
    if let Some(u) = cached(&st.claims_data.users, &key, epoch) {
        return Ok(u);
    }
    let (inst, uid) = key.clone();
    let u = Arc::new(st.db.read_point(move |c| load_user(c, &inst, &uid)).await?);
    store(&st.claims_data.users, key, epoch, u.clone());
    Ok(u)
}

fn load_user(c: &mut dyn Conn, inst: &str, id: &str) -> Result<UserData> {
    let user = users::load(c, inst, id, None)?;
    let (org_name, org_primary_domain) = c
        .one(
            "SELECT name, primary_domain FROM orgs WHERE instance_id = ? AND id = ?",
            &params![inst, &user.org_id],
        )?
        .map(|r| Ok::<_, castellan_domain::Error>((r.text(0)?, r.text(1)?)))
        .transpose()?
        .unwrap_or_default();
    let metadata = c
        .query(
            "SELECT key, value FROM metadata WHERE instance_id = ? AND aggregate_id = ? ORDER BY key",
            &params![inst, id],
        )?
        .iter()
        .map(|r| Ok((r.text(0)?, r.blob(1)?)))
        .collect::<Result<Vec<_>>>()?;
    let grants = c
        .query(
            "SELECT g.project_id, g.org_id, COALESCE(o.primary_domain, ''), g.role_keys FROM user_grants g \
             LEFT JOIN orgs o ON o.instance_id = g.instance_id AND o.id = g.org_id \
             WHERE g.instance_id = ? AND g.user_id = ? AND g.state = ? ORDER BY g.created_at",
            &params![inst, id, user_grant_state::ACTIVE],
        )?
        .iter()
        .map(|r| {
            Ok(GrantData {
                project_id: r.text(0)?,
                org_id: r.text(1)?,
                org_primary_domain: r.text(2)?,
                role_keys: serde_json::from_str(&r.text(3)?).unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(UserData {
        user,
        org_name,
        org_primary_domain,
        metadata,
        grants,
    })
}

/// The app with client id `client_id` and its project's flags; `None` for client ids that are
/// no app's (machine users' own grants).
pub async fn client(st: &St, instance: &str, client_id: &str) -> R<Arc<Option<ClientData>>> {
    let epoch = st.db.data_epoch();
    let key = (instance.to_string(), client_id.to_string());
    if let Some(c) = cached(&st.claims_data.clients, &key, epoch) {
        return Ok(c);
    }
    let (inst, cid) = key.clone();
    let c = Arc::new(
        st.db
            .read_point(move |c| load_client(c, &inst, &cid))
            .await?,
    );
    store(&st.claims_data.clients, key, epoch, c.clone());
    Ok(c)
}

fn load_client(c: &mut dyn Conn, inst: &str, client_id: &str) -> Result<Option<ClientData>> {
    if client_id.is_empty() {
        return Ok(None);
    }
    let Some(app) = crate::app::apps::by_client_id(c, inst, client_id)? else {
        return Ok(None);
    };
    let mut d = project(c, inst, &app.project_id)?.unwrap_or_default();
    if app.kind == app_kind::OIDC {
        if let Some(o) = &app.oidc {
            d.access_token_role_assertion = o.access_token_role_assertion;
            d.id_token_role_assertion = o.id_token_role_assertion;
            d.id_token_userinfo_assertion = o.id_token_userinfo_assertion;
        }
    }
    Ok(Some(d))
}

/// A project's flags (no app flags set); `None` when it does not exist.
pub fn project(c: &mut dyn Conn, inst: &str, project_id: &str) -> Result<Option<ClientData>> {
    c.one(
        "SELECT org_id, project_role_assertion, project_role_check, has_project_check FROM projects WHERE instance_id = ? AND id = ?",
        &params![inst, project_id],
    )?
    .map(|r| {
        Ok(ClientData {
            project_id: project_id.to_string(),
            project_org_id: r.text(0)?,
            project_role_assertion: r.int(1)? != 0,
            project_role_check: r.int(2)? != 0,
            has_project_check: r.int(3)? != 0,
            ..ClientData::default()
        })
    })
    .transpose()
}

/// Whether `user_id` may get tokens for `project_id`: with `project_role_check`, the user
/// needs a role on the project; with `has_project_check`, the user's organisation must own
/// the project or hold an active grant of it. `Err(reason)` names the failed check.
pub async fn project_access(
    st: &St,
    instance: &str,
    user_id: &str,
    project_id: &str,
) -> R<std::result::Result<(), &'static str>> {
    let (inst, uid, pid) = (
        instance.to_string(),
        user_id.to_string(),
        project_id.to_string(),
    );
    Ok(st
        .db
        .read_point(move |c| {
            let Some(p) = project(c, &inst, &pid)? else {
                return Ok(Err("the project does not exist"));
            };
            if p.project_role_check
                && c.one(
                    "SELECT 1 FROM user_grants g JOIN user_grant_roles r ON r.instance_id = g.instance_id AND r.grant_id = g.id \
                     WHERE g.instance_id = ? AND g.user_id = ? AND g.project_id = ? AND g.state = ?",
                    &params![&inst, &uid, &pid, user_grant_state::ACTIVE],
                )?
                .is_none()
            {
                return Ok(Err("the user has no role on the project (project role check)"));
            }
            if p.has_project_check {
                let org = c
                    .one(
                        "SELECT org_id FROM users WHERE instance_id = ? AND id = ?",
                        &params![&inst, &uid],
                    )?
                    .map(|r| r.text(0))
                    .transpose()?
                    .unwrap_or_default();
                let granted = org == p.project_org_id
                    || c.one(
                        "SELECT 1 FROM project_grants WHERE instance_id = ? AND project_id = ? AND granted_org_id = ? AND state = ?",
                        &params![&inst, &pid, &org, castellan_store::projection::project_grant_state::ACTIVE],
                    )?
                    .is_some();
                if !granted {
                    return Ok(Err(
                        "the user's organisation neither owns nor was granted the project (has project check)",
                    ));
                }
            }
            Ok(Ok(()))
        })
        .await?)
}
