//! Finding the user behind a login name, the policies in force, and recording password checks
//! (lockout policy).

use crate::flow::SignInWrites;
use crate::rate_limit::{hits_sql, password_ip_key, password_user_prefix, window_start, Keys};
use castellan_api::app::policies;
use castellan_api::app::users::{UserRow, COLS};
use castellan_api::state::St;
use castellan_domain::events::{agg, Payload};
use castellan_domain::policy::{Lockout, Login, PolicySettings};
use castellan_domain::Result;
use castellan_oidc::auth_request::AuthRequest;
use castellan_store::projection::{user_state, HUMAN};
use castellan_store::{params, Author, Conn};
use std::sync::LazyLock;

/// The organisation a request is restricted to by its scopes, else the instance's default.
pub async fn org_of_request(st: &St, instance: &str, r: &AuthRequest) -> String {
    if let Some(id) = r.org_id_scope() {
        return id.to_string();
    }
    let inst = instance.to_string();
    let by_domain = r.org_domain_scope().map(str::to_lowercase);
    let key = format!(
        "org_of_request\0{instance}\0{}",
        by_domain.as_deref().unwrap_or_default()
    );
    st.read_cache
        .get(st, key, move |c| {
            if let Some(d) = by_domain {
                if let Some(r) = c.one(
                    "SELECT org_id FROM org_domains WHERE instance_id = ? AND domain = ? AND is_verified = 1",
                    &params![&inst, &d],
                )? {
                    return r.text(0);
                }
            }
            c.one("SELECT default_org_id FROM instances WHERE id = ?", &params![&inst])?
                .map(|r| r.text(0))
                .transpose()
                .map(Option::unwrap_or_default)
        })
        .await
        .map(|o| o.as_ref().clone())
        .unwrap_or_default()
}

/// The effective policy of kind `T` in `org`.
pub async fn policy<T: PolicySettings + Clone + Send + Sync + 'static>(
    st: &St,
    instance: &str,
    org: &str,
) -> T {
    policies::cached::<T>(st, instance, org)
        .await
        .map(|p| p.as_ref().clone())
        .unwrap_or_default()
}

fn one_user(c: &mut dyn Conn, sql: &str, p: &[castellan_store::Value]) -> Result<Option<UserRow>> {
    let rows = c.query(&format!("SELECT {COLS} FROM users WHERE {sql}"), p)?;
    if rows.len() != 1 {
        return Ok(None);
    }
    rows.first().map(UserRow::from_row).transpose()
}

/// What a password form needs before the hash, from one fresh read (the check uses the row):
/// the human user a login name names (the full login name, else, by domain discovery, the
/// user name in the organisation owning the verified domain after `@`, else the user name in
/// the request's organisation, else a verified email when the login policy allows; `org_only`
/// restricts to one organisation, the request's scopes), the rate-limit counters of a check
/// for it from `ip`, and whether they allow one.
pub struct Candidate {
    pub user: Option<UserRow>,
    pub keys: Keys,
    pub allowed: bool,
}

/// [`Candidate`] of login name `name` from address `ip`.
pub async fn candidate(
    st: &St,
    instance: &str,
    name: &str,
    context_org: &str,
    org_only: bool,
    ip: &str,
) -> Result<Candidate> {
    let q = Lookup::new(st, instance, name, context_org, org_only).await;
    let (inst, ip, name) = (instance.to_string(), ip.to_string(), name.to_string());
    st.db
        .read_point(move |c| {
            if let Some(found) = q
                .as_ref()
                .map(|q| q.by_login_name(c, &ip))
                .transpose()?
                .flatten()
            {
                return Ok(found);
            }
            let user = match &q {
                Some(q) => q.run(c)?,
                None => None,
            };
            let keys = Keys::password(&inst, &ip, user.as_ref().map_or(&name, |u| &u.id));
            let allowed = keys.allow_in(c)?;
            Ok(Candidate {
                user,
                keys,
                allowed,
            })
        })
        .await
}

/// The user of [`candidate`]'s lookup through the node's read cache (valid while the data
/// epoch stands still): for the login name step, which only decides the next page.
pub async fn find_cached(
    st: &St,
    instance: &str,
    name: &str,
    context_org: &str,
    org_only: bool,
) -> Option<UserRow> {
    let q = Lookup::new(st, instance, name, context_org, org_only).await?;
    let key = format!(
        "login_user\0{}\0{}\0{}\0{}\0{}",
        q.instance, q.context_org, q.org_only, q.allow_email, q.name
    );
    st.read_cache
        .get(st, key, move |c| q.run(c))
        .await
        .ok()?
        .as_ref()
        .clone()
}

/// One login-name lookup ([`candidate`], [`find_cached`]).
struct Lookup {
    instance: String,
    name: String,
    context_org: String,
    org_only: bool,
    allow_email: bool,
}

impl Lookup {
    async fn new(
        st: &St,
        instance: &str,
        name: &str,
        context_org: &str,
        org_only: bool,
    ) -> Option<Lookup> {
        let name = name.trim().to_lowercase();
        if name.is_empty() {
            return None;
        }
        let allow_email = !policy::<Login>(st, instance, context_org)
            .await
            .disable_login_with_email;
        Some(Lookup {
            instance: instance.to_string(),
            name,
            context_org: context_org.to_string(),
            org_only,
            allow_email,
        })
    }

    /// [`candidate`] in one statement for the usual form of the name, the full login name of
    /// one human (of the request's organisation when `org_only`), with the failures counted
    /// against a check of it from `ip`. `None` for any other name: its forms are then tried
    /// one by one.
    fn by_login_name(&self, c: &mut dyn Conn, ip: &str) -> Result<Option<Candidate>> {
        // The statement, and the column of its first counter (after the user's columns).
        static SQL: LazyLock<(String, usize)> = LazyLock::new(|| {
            let sql = format!(
                "SELECT {COLS}, {}, {} FROM users WHERE instance_id = ? AND lower(login_name) = ?",
                hits_sql("?", "?"),
                hits_sql("? || users.id", "?"),
            );
            (sql, COLS.split(',').count())
        });
        let (sql, at) = (&SQL.0, SQL.1);
        let since = window_start();
        let rows = c.query(
            sql,
            &params![
                &password_ip_key(&self.instance, ip),
                since,
                &password_user_prefix(&self.instance),
                since,
                &self.instance,
                &self.name
            ],
        )?;
        let [r] = rows.as_slice() else {
            return Ok(None);
        };
        let user = UserRow::from_row(r)?;
        // A user id with capitals is counted under its lower-case spelling: the slow way.
        if user.kind != HUMAN
            || (self.org_only && user.org_id != self.context_org)
            || user.id != user.id.to_lowercase()
        {
            return Ok(None);
        }
        let hits = [r.int(at)?, r.int(at + 1)?];
        let keys = Keys::password(&self.instance, ip, &user.id);
        Ok(Some(Candidate {
            allowed: keys.allow_hits(&hits),
            user: Some(user),
            keys,
        }))
    }

    /// The human user the name names.
    fn run(&self, c: &mut dyn Conn) -> Result<Option<UserRow>> {
        Ok(self.any(c)?.filter(|u| u.kind == HUMAN))
    }

    fn any(&self, c: &mut dyn Conn) -> Result<Option<UserRow>> {
        let (inst, name, ctx_org) = (&self.instance, &self.name, &self.context_org);
        let restrict = |u: Option<UserRow>| u.filter(|u| !self.org_only || &u.org_id == ctx_org);
        if let Some(u) = restrict(one_user(
            c,
            "instance_id = ? AND lower(login_name) = ?",
            &params![inst, name],
        )?) {
            return Ok(Some(u));
        }
        if let Some((user, domain)) = name.rsplit_once('@') {
            if let Some(r) = c.one(
                "SELECT org_id FROM org_domains WHERE instance_id = ? AND domain = ? AND is_verified = 1",
                &params![inst, domain],
            )? {
                let org = r.text(0)?;
                if let Some(u) = restrict(one_user(
                    c,
                    "instance_id = ? AND org_id = ? AND lower(username) = ?",
                    &params![inst, &org, user],
                )?) {
                    return Ok(Some(u));
                }
            }
        }
        if let Some(u) = one_user(
            c,
            "instance_id = ? AND org_id = ? AND lower(username) = ?",
            &params![inst, ctx_org, name],
        )? {
            return Ok(Some(u));
        }
        if self.allow_email && name.contains('@') {
            return Ok(restrict(one_user(
                c,
                "instance_id = ? AND lower(email) = ? AND email_verified = 1",
                &params![inst, name],
            )?));
        }
        Ok(None)
    }
}

/// How a password check ended.
pub enum Check {
    Ok,
    Wrong,
    Locked,
    Inactive,
}

/// Checks `password` of `user`, records the outcome as an event, locks the user when the
/// lockout policy's limit is reached, and re-hashes imported (non-argon2id) hashes. A wrong
/// password counts against the rate limits' `keys` in the same commit; on success, `then`
/// (the writes that finish the login) goes into it.
pub async fn check_password(
    st: &St,
    instance: &str,
    user: &UserRow,
    password: &str,
    keys: &Keys,
    mut then: Option<SignInWrites>,
) -> Result<Check> {
    match user.state {
        user_state::LOCKED => return Ok(Check::Locked),
        user_state::ACTIVE | user_state::INITIAL => {}
        _ => return Ok(Check::Inactive),
    }
    if user.password_hash.is_empty() {
        keys.hit(st).await?;
        return Ok(Check::Wrong);
    }
    let ok = st
        .verify_password(password.to_string(), user.password_hash.clone())
        .await?;
    let author = Author {
        instance_id: instance.to_string(),
        creator: user.id.clone(),
    };
    let (uid, org) = (user.id.clone(), user.org_id.clone());
    if !ok {
        let max = policy::<Lockout>(st, instance, &user.org_id)
            .await
            .max_password_attempts;
        let (inst, keys) = (instance.to_string(), keys.clone());
        st.db
            .command(&uid.clone(), author, move |tx| {
                keys.hit_in(&mut *tx.conn)?;
                let failures = tx
                    .one(
                        "SELECT password_failures FROM users WHERE instance_id = ? AND id = ?",
                        &params![&inst, &uid],
                    )?
                    .map(|r| r.int(0))
                    .transpose()?
                    .unwrap_or(0);
                let mut evs = vec![Payload::PasswordCheckFailed {}];
                if max > 0 && (failures + 1) as u64 >= max {
                    evs.push(Payload::UserLocked {});
                }
                tx.push(agg::USER, &uid, &org, evs)
            })
            .await?;
        return Ok(Check::Wrong);
    }
    let mut evs = vec![Payload::PasswordCheckSucceeded {}];
    if !user.password_hash.starts_with("$argon2id$") {
        let hash = st.hash_password(password.to_string()).await?;
        evs.push(Payload::PasswordChanged {
            hash,
            change_required: user.password_change_required,
        });
    }
    st.db
        .command(&uid.clone(), author, move |tx| {
            tx.push(agg::USER, &uid, &org, evs.clone())?;
            match then.as_mut() {
                Some(writes) => writes(&mut *tx.conn),
                None => Ok(()),
            }
        })
        .await?;
    Ok(Check::Ok)
}
