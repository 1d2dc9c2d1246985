//! Read-model projections: a pure function from one event to SQL on the read-model tables.
//! Used for every live push and for `castellan projections rebuild`, so both give the same rows.

use crate::conn::Conn;
use crate::params;
use crate::tx::Event;
use crate::value::Value;
use base64::Engine;
use castellan_domain::events::{Payload, PolicyOp};
use castellan_domain::policy::PolicyKind;
use castellan_domain::{Error, Result};

/// User kinds as stored.
pub const HUMAN: i64 = 1;
pub const MACHINE: i64 = 2;

/// User states (numbers of `zitadel.user.v1.UserState`).
pub mod user_state {
    pub const ACTIVE: i64 = 1;
    pub const INACTIVE: i64 = 2;
    pub const LOCKED: i64 = 4;
    pub const INITIAL: i64 = 6;
}

/// Project states (numbers of `zitadel.project.v1.ProjectState`).
pub mod project_state {
    pub const ACTIVE: i64 = 1;
    pub const INACTIVE: i64 = 2;
}

/// Project grant states (numbers of `zitadel.project.v1.ProjectGrantState`).
pub mod project_grant_state {
    pub const ACTIVE: i64 = 1;
    pub const INACTIVE: i64 = 2;
}

/// User grant states (numbers of `zitadel.user.v1.UserGrantState`).
pub mod user_grant_state {
    pub const ACTIVE: i64 = 1;
    pub const INACTIVE: i64 = 2;
}

/// Application states (numbers of `zitadel.app.v1.AppState`).
pub mod app_state {
    pub const ACTIVE: i64 = 1;
    pub const INACTIVE: i64 = 2;
}

/// SMTP configuration states (numbers of `zitadel.settings.v1.SMTPConfigState`).
pub mod smtp_state {
    pub const ACTIVE: i64 = 1;
    pub const INACTIVE: i64 = 2;
}

/// Application kinds as stored in `apps.kind`.
pub mod app_kind {
    pub const OIDC: i64 = 1;
    pub const API: i64 = 2;
    pub const SAML: i64 = 3;
}

/// Organisation states (numbers of `zitadel.org.v1.OrgState`).
pub mod org_state {
    pub const ACTIVE: i64 = 1;
    pub const INACTIVE: i64 = 2;
}

fn roles_text(roles: &[String]) -> String {
    roles.join(",")
}

/// Policy events: upsert or delete the row of (instance, org or '' for the default, kind).
fn apply_policy(
    c: &mut dyn Conn,
    e: &Event,
    kind: PolicyKind,
    org: bool,
    op: PolicyOp,
    settings: &serde_json::Value,
) -> Result<()> {
    let org_id = if org { e.aggregate_id.as_str() } else { "" };
    let (i, t, s) = (e.instance_id.as_str(), e.created_at, e.seq);
    match op {
        PolicyOp::Added | PolicyOp::Changed => {
            c.exec(
                "INSERT INTO policies (instance_id, org_id, kind, settings, created_at, changed_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (instance_id, org_id, kind) DO UPDATE SET settings = excluded.settings, changed_at = excluded.changed_at, seq = excluded.seq",
                &params![i, org_id, kind.key(), settings.to_string(), t, t, s],
            )?;
        }
        PolicyOp::Removed => {
            c.exec(
                "DELETE FROM policies WHERE instance_id = ? AND org_id = ? AND kind = ?",
                &params![i, org_id, kind.key()],
            )?;
        }
    }
    Ok(())
}

/// Whether login names in `org` carry the org domain: the org's own domain policy, else the
/// instance's.
pub fn login_must_be_domain(c: &mut dyn Conn, instance: &str, org: &str) -> Result<bool> {
    if let Some(r) = c.one(
        "SELECT settings FROM policies WHERE instance_id = ? AND org_id = ? AND kind = 'domain'",
        &params![instance, org],
    )? {
        let v: serde_json::Value = serde_json::from_str(&r.text(0)?)
            .map_err(|e| Error::internal("PROJ-d0m01", e.to_string()))?;
        return Ok(v["user_login_must_be_domain"].as_bool().unwrap_or(false));
    }
    Ok(c.one(
        "SELECT user_login_must_be_domain FROM instances WHERE id = ?",
        &params![instance],
    )?
    .map(|r| r.bool(0))
    .transpose()?
    .unwrap_or(false))
}

/// The organisations a domain policy event affects, as a condition on `{alias}.org_id`.
enum Scope<'a> {
    /// One organisation (its own policy changed).
    Org(&'a str),
    /// Every organisation without a policy of its own (the default changed).
    Defaulted,
}

impl Scope<'_> {
    fn cond(&self, alias: &str) -> String {
        match self {
            Scope::Org(_) => format!("{alias}.org_id = ?"),
            Scope::Defaulted => format!(
                "{alias}.org_id NOT IN (SELECT p.org_id FROM policies p WHERE p.instance_id = ? AND p.kind = 'domain' AND p.org_id <> '')"
            ),
        }
    }
    fn param(&self, instance: &str) -> Value {
        match self {
            Scope::Org(o) => Value::from(o.to_string()),
            Scope::Defaulted => Value::from(instance.to_string()),
        }
    }
}

/// Recomputes the login names (and their uniqueness keys) of the users in `scope`. Making
/// user names unique in the instance fails, naming a user name, when two users would clash.
fn relogin(c: &mut dyn Conn, instance: &str, must: bool, scope: Scope<'_>) -> Result<()> {
    let p = scope.param(instance);
    if must {
        let sql = format!(
            "UPDATE users SET login_name = username || '@' || (SELECT o.primary_domain FROM orgs o WHERE o.instance_id = users.instance_id AND o.id = users.org_id), \
             login_key = lower(username) || '@' || org_id WHERE instance_id = ? AND {}",
            scope.cond("users")
        );
        c.exec(&sql, &params![instance, p])?;
        return Ok(());
    }
    let clash = format!(
        "SELECT u.username FROM users u WHERE u.instance_id = ? AND {} AND EXISTS (SELECT 1 FROM users v WHERE v.instance_id = u.instance_id AND v.id <> u.id \
         AND (v.login_key = lower(u.username) OR (lower(v.username) = lower(u.username) AND {}))) LIMIT 1",
        scope.cond("u"),
        scope.cond("v")
    );
    if let Some(r) = c.one(&clash, &params![instance, p.clone(), p.clone()])? {
        return Err(Error::precondition("PROJ-l0g1n", "Errors.Policy.Domain.UserNamesNotUnique").with(format!(
            "the user name \"{}\" is used in several organisations; login names without the org domain need user names unique in the instance",
            r.text(0)?
        )));
    }
    let sql = format!(
        "UPDATE users SET login_name = username, login_key = lower(username) WHERE instance_id = ? AND {}",
        scope.cond("users")
    );
    c.exec(&sql, &params![instance, p])?;
    Ok(())
}

/// A domain policy event: the instance columns follow the default, and login names follow the
/// policy in force in every organisation it affects.
fn apply_domain_policy(c: &mut dyn Conn, e: &Event, org: bool) -> Result<()> {
    let i = e.instance_id.as_str();
    if org {
        let must = login_must_be_domain(c, i, &e.aggregate_id)?;
        return relogin(c, i, must, Scope::Org(&e.aggregate_id));
    }
    let r = c.one(
        "SELECT settings FROM policies WHERE instance_id = ? AND org_id = '' AND kind = 'domain'",
        &params![i],
    )?;
    let v: serde_json::Value = match r {
        Some(r) => serde_json::from_str(&r.text(0)?)
            .map_err(|e| Error::internal("PROJ-d0m02", e.to_string()))?,
        None => serde_json::Value::Null,
    };
    let flag = |k: &str| v[k].as_bool().unwrap_or(false);
    let must = flag("user_login_must_be_domain");
    c.exec(
        "UPDATE instances SET user_login_must_be_domain = ?, validate_org_domains = ?, smtp_sender_matches_domain = ?, changed_at = ?, seq = ? WHERE id = ?",
        &params![must, flag("validate_org_domains"), flag("smtp_sender_address_matches_instance_domain"), e.created_at, e.seq, i],
    )?;
    relogin(c, i, must, Scope::Defaulted)
}

/// Adds or removes a factor type in the login policy row of `org` ('' = the instance).
fn factor(c: &mut dyn Conn, e: &Event, org: &str, list: &str, t: i32, add: bool) -> Result<()> {
    let i = e.instance_id.as_str();
    let r = c.one(
        "SELECT settings FROM policies WHERE instance_id = ? AND org_id = ? AND kind = 'login'",
        &params![i, org],
    )?;
    let mut v: serde_json::Value = match r {
        Some(r) => serde_json::from_str(&r.text(0)?)
            .map_err(|e| Error::internal("PROJ-f4ct1", e.to_string()))?,
        // The instance has no row yet: start from the built-in default.
        None => serde_json::to_value(castellan_domain::policy::Login::default())
            .map_err(|e| Error::internal("PROJ-f4ct2", e.to_string()))?,
    };
    let mut types: Vec<i64> = v[list]
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_i64).collect())
        .unwrap_or_default();
    types.retain(|x| *x != i64::from(t));
    if add {
        types.push(i64::from(t));
    }
    v[list] = serde_json::json!(types);
    c.exec(
        "INSERT INTO policies (instance_id, org_id, kind, settings, created_at, changed_at, seq) VALUES (?, ?, 'login', ?, ?, ?, ?) \
         ON CONFLICT (instance_id, org_id, kind) DO UPDATE SET settings = excluded.settings, changed_at = excluded.changed_at, seq = excluded.seq",
        &params![i, org, v.to_string(), e.created_at, e.created_at, e.seq],
    )?;
    Ok(())
}

/// Applies one event to the read models.
/// Applies event `e` (payload `p`) to the read models. Returns whether any read model
/// changed: a successful password check of a user without failed checks changes nothing
/// (it is in the audit trail only), so read-model caches can keep their entries.
pub fn apply(c: &mut dyn Conn, e: &Event, p: &Payload) -> Result<bool> {
    if let Payload::PasswordCheckSucceeded {} = p {
        let n = c.exec(
            "UPDATE users SET password_failures = 0 WHERE instance_id = ? AND id = ? AND password_failures <> 0",
            &params![&e.instance_id, &e.aggregate_id],
        )?;
        return Ok(n > 0);
    }
    apply_changes(c, e, p)?;
    Ok(true)
}

fn apply_changes(c: &mut dyn Conn, e: &Event, p: &Payload) -> Result<()> {
    let i = e.instance_id.as_str();
    let id = e.aggregate_id.as_str();
    let (t, s) = (e.created_at, e.seq);
    if crate::assets::apply(c, e, p)? {
        return Ok(());
    }
    if let Some((kind, org, op, settings)) = p.policy() {
        apply_policy(c, e, kind, org, op, settings)?;
        if kind == PolicyKind::Domain {
            apply_domain_policy(c, e, org)?;
        }
        return Ok(());
    }
    use Payload::*;
    match p {
        InstanceAdded { name } => {
            c.exec("INSERT INTO instances (id, name, created_at, changed_at, seq) VALUES (?, ?, ?, ?, ?)", &params![id, name, t, t, s])?;
        }
        KeyPairAdded { algorithm, private_key, public_key, private_expiry, public_expiry } => {
            c.exec(
                "INSERT INTO signing_keys (instance_id, id, algorithm, private_key, public_key, private_expiry, public_expiry, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                &params![i, id, algorithm, private_key, public_key, *private_expiry, *public_expiry, t],
            )?;
        }
        InstanceChanged { name } => {
            c.exec("UPDATE instances SET name = ?, changed_at = ?, seq = ? WHERE id = ?", &params![name, t, s, id])?;
        }
        InstanceRemoved { .. } => {
            // Everything of the instance goes; its events stay as the audit trail.
            for table in crate::migrate::READ_MODELS
                .iter()
                .chain(crate::migrate::BLOB_TABLES)
                .chain(crate::migrate::RUNTIME_TABLES) {
                let col = if *table == "instances" { "id" } else { "instance_id" };
                c.exec(&format!("DELETE FROM {table} WHERE {col} = ?"), &params![i])?;
            }
        }
        InstanceDomainRemoved { domain } => {
            c.exec("DELETE FROM instance_domains WHERE instance_id = ? AND domain = ?", &params![i, domain])?;
            touch_instance(c, id, t, s)?;
        }
        InstanceDomainAdded { domain, generated } => {
            c.exec("INSERT INTO instance_domains (instance_id, domain, is_generated, created_at) VALUES (?, ?, ?, ?)", &params![i, domain, *generated, t])?;
            touch_instance(c, id, t, s)?;
        }
        InstanceDomainPrimarySet { domain } => {
            c.exec("UPDATE instance_domains SET is_primary = CASE WHEN domain = ? THEN 1 ELSE 0 END WHERE instance_id = ?", &params![domain, i])?;
            c.exec("UPDATE instances SET primary_domain = ?, changed_at = ?, seq = ? WHERE id = ?", &params![domain, t, s, id])?;
        }
        InstanceTrustedDomainAdded { domain } => {
            c.exec("INSERT INTO instance_trusted_domains (instance_id, domain, created_at, seq) VALUES (?, ?, ?, ?)", &params![i, domain, t, s])?;
            touch_instance(c, id, t, s)?;
        }
        InstanceTrustedDomainRemoved { domain } => {
            c.exec("DELETE FROM instance_trusted_domains WHERE instance_id = ? AND domain = ?", &params![i, domain])?;
            touch_instance(c, id, t, s)?;
        }
        InstanceDefaultLanguageSet { language } => {
            c.exec("UPDATE instances SET default_language = ?, changed_at = ?, seq = ? WHERE id = ?", &params![language, t, s, id])?;
        }
        InstanceDefaultOrgSet { org_id } => {
            c.exec("UPDATE instances SET default_org_id = ?, changed_at = ?, seq = ? WHERE id = ?", &params![org_id, t, s, id])?;
        }
        InstanceSecondFactorAdded { mfa_type } => factor(c, e, "", "second_factors", *mfa_type, true)?,
        InstanceSecondFactorRemoved { mfa_type } => factor(c, e, "", "second_factors", *mfa_type, false)?,
        InstanceMultiFactorAdded { mfa_type } => factor(c, e, "", "multi_factors", *mfa_type, true)?,
        InstanceMultiFactorRemoved { mfa_type } => factor(c, e, "", "multi_factors", *mfa_type, false)?,
        OrgSecondFactorAdded { mfa_type } => factor(c, e, id, "second_factors", *mfa_type, true)?,
        OrgSecondFactorRemoved { mfa_type } => factor(c, e, id, "second_factors", *mfa_type, false)?,
        OrgMultiFactorAdded { mfa_type } => factor(c, e, id, "multi_factors", *mfa_type, true)?,
        OrgMultiFactorRemoved { mfa_type } => factor(c, e, id, "multi_factors", *mfa_type, false)?,
        InstanceMemberAdded { user_id, roles } => add_member(c, e, "instance", user_id, roles)?,
        InstanceMemberChanged { user_id, roles } => change_member(c, e, "instance", user_id, roles)?,
        InstanceMemberRemoved { user_id } => remove_member(c, e, "instance", user_id)?,
        SmtpConfigAdded(x) => {
            c.exec(
                "INSERT INTO smtp_configs (instance_id, id, description, sender_address, sender_name, reply_to_address, tls, host, smtp_user, password_sealed, state, created_at, changed_at, seq) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &params![i, &x.id, &x.description, &x.sender_address, &x.sender_name, &x.reply_to_address, x.tls, &x.host, &x.user, x.password.clone().unwrap_or_default(), smtp_state::INACTIVE, t, t, s],
            )?;
        }
        SmtpConfigChanged(x) => {
            c.exec(
                "UPDATE smtp_configs SET description = ?, sender_address = ?, sender_name = ?, reply_to_address = ?, tls = ?, host = ?, smtp_user = ?, changed_at = ?, seq = ? WHERE instance_id = ? AND id = ?",
                &params![&x.description, &x.sender_address, &x.sender_name, &x.reply_to_address, x.tls, &x.host, &x.user, t, s, i, &x.id],
            )?;
            if let Some(pw) = &x.password {
                c.exec("UPDATE smtp_configs SET password_sealed = ? WHERE instance_id = ? AND id = ?", &params![pw, i, &x.id])?;
            }
        }
        SmtpConfigPasswordChanged { id: cid, password } => {
            c.exec("UPDATE smtp_configs SET password_sealed = ?, changed_at = ?, seq = ? WHERE instance_id = ? AND id = ?", &params![password, t, s, i, cid])?;
        }
        SmtpConfigActivated { id: cid } => {
            c.exec("UPDATE smtp_configs SET state = ?, changed_at = ?, seq = ? WHERE instance_id = ? AND state = ? AND id <> ?", &params![smtp_state::INACTIVE, t, s, i, smtp_state::ACTIVE, cid])?;
            c.exec("UPDATE smtp_configs SET state = ?, changed_at = ?, seq = ? WHERE instance_id = ? AND id = ?", &params![smtp_state::ACTIVE, t, s, i, cid])?;
        }
        SmtpConfigDeactivated { id: cid } => {
            c.exec("UPDATE smtp_configs SET state = ?, changed_at = ?, seq = ? WHERE instance_id = ? AND id = ?", &params![smtp_state::INACTIVE, t, s, i, cid])?;
        }
        SmtpConfigRemoved { id: cid } => {
            c.exec("DELETE FROM smtp_configs WHERE instance_id = ? AND id = ?", &params![i, cid])?;
        }
        SecretGeneratorAdded(g) | SecretGeneratorChanged(g) => {
            c.exec(
                "INSERT INTO secret_generators (instance_id, generator_type, length, expiry_secs, include_lower_letters, include_upper_letters, include_digits, include_symbols, created_at, changed_at, seq) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id, generator_type) DO UPDATE SET length = excluded.length, expiry_secs = excluded.expiry_secs, \
                 include_lower_letters = excluded.include_lower_letters, include_upper_letters = excluded.include_upper_letters, include_digits = excluded.include_digits, \
                 include_symbols = excluded.include_symbols, changed_at = excluded.changed_at, seq = excluded.seq",
                &params![i, g.generator_type as i64, g.length as i64, g.expiry_secs, g.include_lower_letters, g.include_upper_letters, g.include_digits, g.include_symbols, t, t, s],
            )?;
        }
        OidcSettingsAdded(o) | OidcSettingsChanged(o) => {
            let secs = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
            c.exec(
                "INSERT INTO oidc_settings (instance_id, access_token_lifetime, id_token_lifetime, refresh_token_idle_expiration, refresh_token_expiration, flat_roles_claim, token_exchange_enabled, pkce_plain_allowed, created_at, changed_at, seq) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id) DO UPDATE SET access_token_lifetime = excluded.access_token_lifetime, id_token_lifetime = excluded.id_token_lifetime, \
                 refresh_token_idle_expiration = excluded.refresh_token_idle_expiration, refresh_token_expiration = excluded.refresh_token_expiration, \
                 flat_roles_claim = excluded.flat_roles_claim, token_exchange_enabled = excluded.token_exchange_enabled, pkce_plain_allowed = excluded.pkce_plain_allowed, changed_at = excluded.changed_at, seq = excluded.seq",
                &params![i, secs(o.access_token_lifetime_secs), secs(o.id_token_lifetime_secs), secs(o.refresh_token_idle_expiration_secs), secs(o.refresh_token_expiration_secs), o.flat_roles_claim, o.token_exchange_enabled, o.pkce_plain_allowed, t, t, s],
            )?;
        }
        SecurityPolicySet(sp) => {
            let origins = serde_json::to_string(&sp.allowed_origins)
                .map_err(|e| Error::internal("PROJ-s3cp0", e.to_string()))?;
            c.exec(
                "INSERT INTO security_policies (instance_id, enable_iframe_embedding, allowed_origins, enable_impersonation, created_at, changed_at, seq) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id) DO UPDATE SET enable_iframe_embedding = excluded.enable_iframe_embedding, \
                 allowed_origins = excluded.allowed_origins, enable_impersonation = excluded.enable_impersonation, changed_at = excluded.changed_at, seq = excluded.seq",
                &params![i, sp.enable_iframe_embedding, origins, sp.enable_impersonation, t, t, s],
            )?;
        }

        OrgAdded { name } => {
            c.exec(
                "INSERT INTO orgs (instance_id, id, name, name_lower, state, created_at, changed_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                &params![i, id, name, name.to_lowercase(), org_state::ACTIVE, t, t, s],
            )?;
        }
        OrgChanged { name } => {
            c.exec("UPDATE orgs SET name = ?, name_lower = ?, changed_at = ?, seq = ? WHERE instance_id = ? AND id = ?", &params![name, name.to_lowercase(), t, s, i, id])?;
        }
        OrgDeactivated {} => org_state(c, e, org_state::INACTIVE)?,
        OrgReactivated {} => org_state(c, e, org_state::ACTIVE)?,
        OrgRemoved { .. } => {
            // Grants of this org's projects and grants to this org, with their members.
            let grants = "SELECT id FROM project_grants WHERE instance_id = ? AND (org_id = ? OR granted_org_id = ?)";
            c.exec(&format!("DELETE FROM members WHERE instance_id = ? AND level = 'project_grant' AND object_id IN ({grants})"), &params![i, i, id, id])?;
            c.exec(&format!("DELETE FROM project_grant_roles WHERE instance_id = ? AND grant_id IN ({grants})"), &params![i, i, id, id])?;
            c.exec("DELETE FROM project_grants WHERE instance_id = ? AND (org_id = ? OR granted_org_id = ?)", &params![i, id, id])?;
            for sql in [
                "DELETE FROM app_keys WHERE instance_id = ? AND owner = ?",
                "DELETE FROM apps WHERE instance_id = ? AND org_id = ?",
                "DELETE FROM project_roles WHERE instance_id = ? AND org_id = ?",
                "DELETE FROM projects WHERE instance_id = ? AND org_id = ?",
                "DELETE FROM metadata WHERE instance_id = ? AND owner = ?",
                "DELETE FROM members WHERE instance_id = ? AND owner = ?",
                "DELETE FROM pats WHERE instance_id = ? AND owner = ?",
                "DELETE FROM machine_keys WHERE instance_id = ? AND owner = ?",
                "DELETE FROM users WHERE instance_id = ? AND org_id = ?",
                "DELETE FROM org_domains WHERE instance_id = ? AND org_id = ?",
                "DELETE FROM policies WHERE instance_id = ? AND org_id = ?",
                "DELETE FROM orgs WHERE instance_id = ? AND id = ?",
            ] {
                c.exec(sql, &params![i, id])?;
            }
            // Memberships of users of other orgs in this org, and of this org's users elsewhere.
            c.exec("DELETE FROM members WHERE instance_id = ? AND level = 'org' AND object_id = ?", &params![i, id])?;
            c.exec("DELETE FROM members WHERE instance_id = ? AND user_id NOT IN (SELECT id FROM users WHERE instance_id = ?)", &params![i, i])?;
            // User grants the org owned, of its users, on its projects or through its grants.
            c.exec(
                "DELETE FROM user_grants WHERE instance_id = ? AND (org_id = ? \
                 OR user_id NOT IN (SELECT id FROM users WHERE instance_id = ?) \
                 OR project_id NOT IN (SELECT id FROM projects WHERE instance_id = ?) \
                 OR (project_grant_id <> '' AND project_grant_id NOT IN (SELECT id FROM project_grants WHERE instance_id = ?)))",
                &params![i, id, i, i, i],
            )?;
            c.exec("DELETE FROM user_grant_roles WHERE instance_id = ? AND grant_id NOT IN (SELECT id FROM user_grants WHERE instance_id = ?)", &params![i, i])?;
        }
        OrgDomainAdded { domain, generated } => {
            c.exec(
                "INSERT INTO org_domains (instance_id, org_id, domain, is_verified, created_at, changed_at) VALUES (?, ?, ?, ?, ?, ?)",
                &params![i, id, domain, *generated, t, t],
            )?;
            touch_org(c, e)?;
        }
        OrgDomainVerified { domain } => {
            c.exec("UPDATE org_domains SET is_verified = 1, validation_code = '', changed_at = ? WHERE instance_id = ? AND org_id = ? AND domain = ?", &params![t, i, id, domain])?;
            touch_org(c, e)?;
        }
        OrgDomainVerificationAdded { domain, validation_type, validation_code } => {
            c.exec(
                "UPDATE org_domains SET validation_type = ?, validation_code = ?, changed_at = ? WHERE instance_id = ? AND org_id = ? AND domain = ?",
                &params![*validation_type, validation_code, t, i, id, domain],
            )?;
            touch_org(c, e)?;
        }
        OrgDomainVerificationFailed { .. } => touch_org(c, e)?,
        OrgDomainPrimarySet { domain } => {
            c.exec("UPDATE org_domains SET is_primary = CASE WHEN domain = ? THEN 1 ELSE 0 END, changed_at = ? WHERE instance_id = ? AND org_id = ?", &params![domain, t, i, id])?;
            c.exec("UPDATE orgs SET primary_domain = ?, changed_at = ?, seq = ? WHERE instance_id = ? AND id = ?", &params![domain, t, s, i, id])?;
            // Login names that carry the org domain follow the new primary domain.
            c.exec(
                "UPDATE users SET login_name = username || '@' || ? WHERE instance_id = ? AND org_id = ? AND login_name <> username",
                &params![domain, i, id],
            )?;
        }
        OrgDomainRemoved { domain } => {
            c.exec("DELETE FROM org_domains WHERE instance_id = ? AND org_id = ? AND domain = ?", &params![i, id, domain])?;
            touch_org(c, e)?;
        }
        OrgMemberAdded { user_id, roles } => add_member(c, e, "org", user_id, roles)?,
        OrgMemberChanged { user_id, roles } => change_member(c, e, "org", user_id, roles)?,
        OrgMemberRemoved { user_id } => remove_member(c, e, "org", user_id)?,
        OrgMetadataSet { key, value } | UserMetadataSet { key, value } => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value)
                .map_err(|e| Error::internal("PROJ-m3t4b", e.to_string()))?;
            c.exec(
                "INSERT INTO metadata (instance_id, aggregate_id, key, value, owner, created_at, changed_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (instance_id, aggregate_id, key) DO UPDATE SET value = excluded.value, changed_at = excluded.changed_at, seq = excluded.seq",
                &params![i, id, key, bytes, &e.owner, t, t, s],
            )?;
        }
        OrgMetadataRemoved { key } | UserMetadataRemoved { key } => {
            c.exec("DELETE FROM metadata WHERE instance_id = ? AND aggregate_id = ? AND key = ?", &params![i, id, key])?;
        }

        HumanAdded(h) => {
            let state = if h.password_hash.is_empty() { user_state::INITIAL } else { user_state::ACTIVE };
            c.exec(
                "INSERT INTO users (instance_id, id, org_id, kind, state, username, login_key, login_name, first_name, last_name, nick_name, display_name, \
                 preferred_language, gender, email, email_verified, phone, phone_verified, password_hash, password_change_required, password_changed_at, created_at, changed_at, seq) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &params![
                    i, id, &e.owner, HUMAN, state, &h.user_name, login_key(&h.user_name, &h.login_name, &e.owner), &h.login_name,
                    &h.profile.first_name, &h.profile.last_name, &h.profile.nick_name, &h.profile.display_name,
                    &h.profile.preferred_language, h.profile.gender, &h.email, h.email_verified, &h.phone, h.phone_verified,
                    &h.password_hash, h.password_change_required, if h.password_hash.is_empty() { 0 } else { t }, t, t, s
                ],
            )?;
        }
        MachineAdded { user_name, login_name, name, description, access_token_type } => {
            c.exec(
                "INSERT INTO users (instance_id, id, org_id, kind, state, username, login_key, login_name, machine_name, machine_description, access_token_type, created_at, changed_at, seq) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &params![i, id, &e.owner, MACHINE, user_state::ACTIVE, user_name, login_key(user_name, login_name, &e.owner), login_name, name, description, *access_token_type, t, t, s],
            )?;
        }
        UsernameChanged { user_name, login_name } | UserDomainClaimed { user_name, login_name, .. } => {
            user_update(c, e, "username = ?, login_key = ?, login_name = ?", params![user_name, login_key(user_name, login_name, &e.owner), login_name])?;
        }
        UserDeactivated {} => user_update(c, e, "state = ?", params![user_state::INACTIVE])?,
        UserReactivated {} => user_update(c, e, "state = ?", params![user_state::ACTIVE])?,
        UserUnlocked {} => user_update(c, e, "state = ?, password_failures = 0", params![user_state::ACTIVE])?,
        PasswordCheckFailed {} => user_update(c, e, "password_failures = password_failures + 1", params![])?,
        UserLocked {} => user_update(c, e, "state = ?", params![user_state::LOCKED])?,
        UserRemoved { .. } => {
            c.exec("DELETE FROM users WHERE instance_id = ? AND id = ?", &params![i, id])?;
            c.exec("DELETE FROM metadata WHERE instance_id = ? AND aggregate_id = ?", &params![i, id])?;
            c.exec("DELETE FROM members WHERE instance_id = ? AND user_id = ?", &params![i, id])?;
            c.exec("DELETE FROM pats WHERE instance_id = ? AND user_id = ?", &params![i, id])?;
            c.exec("DELETE FROM machine_keys WHERE instance_id = ? AND user_id = ?", &params![i, id])?;
            remove_user_grants(c, i, "user_id", id)?;
        }
        ProfileChanged(pr) => user_update(
            c,
            e,
            "first_name = ?, last_name = ?, nick_name = ?, display_name = ?, preferred_language = ?, gender = ?",
            params![&pr.first_name, &pr.last_name, &pr.nick_name, &pr.display_name, &pr.preferred_language, pr.gender],
        )?,
        EmailChanged { email, verified } => user_update(c, e, "email = ?, email_verified = ?", params![email, *verified])?,
        PhoneChanged { phone, verified } => user_update(c, e, "phone = ?, phone_verified = ?", params![phone, *verified])?,
        PhoneRemoved {} => user_update(c, e, "phone = '', phone_verified = 0", params![])?,
        PasswordChanged { hash, change_required } => user_update(
            c,
            e,
            "password_hash = ?, password_change_required = ?, password_changed_at = ?, password_failures = 0, state = CASE WHEN state = 6 THEN 1 ELSE state END",
            params![hash, *change_required, t],
        )?,
        MachineChanged { name, description, access_token_type } => user_update(
            c,
            e,
            "machine_name = ?, machine_description = ?, access_token_type = ?",
            params![name, description, *access_token_type],
        )?,
        MachineSecretSet { hash } => user_update(c, e, "secret_hash = ?", params![hash])?,
        MachineSecretRemoved {} => user_update(c, e, "secret_hash = ''", params![])?,
        PatAdded { token_id, token_hash, expiration, scopes } => {
            c.exec(
                "INSERT INTO pats (instance_id, id, user_id, token_hash, expiration, scopes, owner, created_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &params![i, token_id, id, token_hash, *expiration, scopes.join(" "), &e.owner, t, s],
            )?;
        }
        PatRemoved { token_id } => {
            c.exec("DELETE FROM pats WHERE instance_id = ? AND id = ? AND user_id = ?", &params![i, token_id, id])?;
        }
        MachineKeyAdded { key_id, key_type, expiration, public_key } => {
            c.exec(
                "INSERT INTO machine_keys (instance_id, id, user_id, key_type, expiration, public_key, owner, created_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &params![i, key_id, id, *key_type, *expiration, public_key, &e.owner, t, s],
            )?;
        }
        MachineKeyRemoved { key_id } => {
            c.exec("DELETE FROM machine_keys WHERE instance_id = ? AND id = ? AND user_id = ?", &params![i, key_id, id])?;
        }

        ProjectAdded(p) => {
            c.exec(
                "INSERT INTO projects (instance_id, id, org_id, name, name_lower, state, project_role_assertion, project_role_check, has_project_check, \
                 private_labeling_setting, created_at, changed_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &params![
                    i, id, &e.owner, &p.name, p.name.to_lowercase(), project_state::ACTIVE, p.project_role_assertion, p.project_role_check,
                    p.has_project_check, p.private_labeling_setting, t, t, s
                ],
            )?;
        }
        ProjectChanged(p) => {
            c.exec(
                "UPDATE projects SET name = ?, name_lower = ?, project_role_assertion = ?, project_role_check = ?, has_project_check = ?, \
                 private_labeling_setting = ?, changed_at = ?, seq = ? WHERE instance_id = ? AND id = ?",
                &params![
                    &p.name, p.name.to_lowercase(), p.project_role_assertion, p.project_role_check, p.has_project_check,
                    p.private_labeling_setting, t, s, i, id
                ],
            )?;
        }
        ProjectDeactivated {} => project_update(c, e, "state = ?", params![project_state::INACTIVE])?,
        ProjectReactivated {} => project_update(c, e, "state = ?", params![project_state::ACTIVE])?,
        ProjectRemoved { .. } => {
            c.exec(
                "DELETE FROM members WHERE instance_id = ? AND level = 'project_grant' AND object_id IN (SELECT id FROM project_grants WHERE instance_id = ? AND project_id = ?)",
                &params![i, i, id],
            )?;
            c.exec("DELETE FROM project_grant_roles WHERE instance_id = ? AND project_id = ?", &params![i, id])?;
            c.exec("DELETE FROM project_grants WHERE instance_id = ? AND project_id = ?", &params![i, id])?;
            c.exec("DELETE FROM project_roles WHERE instance_id = ? AND project_id = ?", &params![i, id])?;
            c.exec("DELETE FROM members WHERE instance_id = ? AND level = 'project' AND object_id = ?", &params![i, id])?;
            c.exec("DELETE FROM app_keys WHERE instance_id = ? AND project_id = ?", &params![i, id])?;
            c.exec("DELETE FROM apps WHERE instance_id = ? AND project_id = ?", &params![i, id])?;
            c.exec("DELETE FROM projects WHERE instance_id = ? AND id = ?", &params![i, id])?;
            remove_user_grants(c, i, "project_id", id)?;
        }
        ProjectRoleAdded { key, display_name, group } => {
            c.exec(
                "INSERT INTO project_roles (instance_id, project_id, key, display_name, group_name, org_id, created_at, changed_at, seq) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &params![i, id, key, display_name, group, &e.owner, t, t, s],
            )?;
            project_update(c, e, "state = state", params![])?;
        }
        ProjectRoleChanged { key, display_name, group } => {
            c.exec(
                "UPDATE project_roles SET display_name = ?, group_name = ?, changed_at = ?, seq = ? WHERE instance_id = ? AND project_id = ? AND key = ?",
                &params![display_name, group, t, s, i, id, key],
            )?;
            project_update(c, e, "state = state", params![])?;
        }
        ProjectRoleRemoved { key } => {
            c.exec("DELETE FROM project_roles WHERE instance_id = ? AND project_id = ? AND key = ?", &params![i, id, key])?;
            project_update(c, e, "state = state", params![])?;
        }
        ProjectMemberAdded { user_id, roles } => {
            add_member(c, e, "project", user_id, roles)?;
            project_update(c, e, "state = state", params![])?;
        }
        ProjectMemberChanged { user_id, roles } => {
            change_member(c, e, "project", user_id, roles)?;
            project_update(c, e, "state = state", params![])?;
        }
        ProjectMemberRemoved { user_id } => {
            remove_member(c, e, "project", user_id)?;
            project_update(c, e, "state = state", params![])?;
        }
        ProjectGrantAdded { grant_id, granted_org_id, role_keys } => {
            c.exec(
                "INSERT INTO project_grants (instance_id, id, project_id, org_id, granted_org_id, role_keys, state, created_at, changed_at, seq) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &params![i, grant_id, id, &e.owner, granted_org_id, keys_json(role_keys), project_grant_state::ACTIVE, t, t, s],
            )?;
            set_grant_roles(c, e, grant_id, role_keys)?;
            project_update(c, e, "state = state", params![])?;
        }
        ProjectGrantChanged { grant_id, role_keys } | ProjectGrantCascadeChanged { grant_id, role_keys } => {
            grant_update(c, e, grant_id, "role_keys = ?", params![keys_json(role_keys)])?;
            set_grant_roles(c, e, grant_id, role_keys)?;
            project_update(c, e, "state = state", params![])?;
        }
        ProjectGrantDeactivated { grant_id } => {
            grant_update(c, e, grant_id, "state = ?", params![project_grant_state::INACTIVE])?;
            project_update(c, e, "state = state", params![])?;
        }
        ProjectGrantReactivated { grant_id } => {
            grant_update(c, e, grant_id, "state = ?", params![project_grant_state::ACTIVE])?;
            project_update(c, e, "state = state", params![])?;
        }
        ProjectGrantRemoved { grant_id, .. } => {
            c.exec("DELETE FROM members WHERE instance_id = ? AND level = 'project_grant' AND object_id = ?", &params![i, grant_id])?;
            c.exec("DELETE FROM project_grant_roles WHERE instance_id = ? AND grant_id = ?", &params![i, grant_id])?;
            c.exec("DELETE FROM project_grants WHERE instance_id = ? AND id = ?", &params![i, grant_id])?;
            remove_user_grants(c, i, "project_grant_id", grant_id)?;
            project_update(c, e, "state = state", params![])?;
        }
        ProjectGrantMemberAdded { grant_id, user_id, roles } => {
            c.exec(
                "INSERT INTO members (instance_id, level, object_id, user_id, roles, owner, created_at, changed_at, seq) VALUES (?, 'project_grant', ?, ?, ?, ?, ?, ?, ?)",
                &params![i, grant_id, user_id, roles_text(roles), &e.owner, t, t, s],
            )?;
            grant_update(c, e, grant_id, "state = state", params![])?;
        }
        ProjectGrantMemberChanged { grant_id, user_id, roles } => {
            c.exec(
                "UPDATE members SET roles = ?, changed_at = ?, seq = ? WHERE instance_id = ? AND level = 'project_grant' AND object_id = ? AND user_id = ?",
                &params![roles_text(roles), t, s, i, grant_id, user_id],
            )?;
            grant_update(c, e, grant_id, "state = state", params![])?;
        }
        ProjectGrantMemberRemoved { grant_id, user_id } => {
            c.exec(
                "DELETE FROM members WHERE instance_id = ? AND level = 'project_grant' AND object_id = ? AND user_id = ?",
                &params![i, grant_id, user_id],
            )?;
            grant_update(c, e, grant_id, "state = state", params![])?;
        }

        AppAdded { app_id, name } => {
            c.exec(
                "INSERT INTO apps (instance_id, id, project_id, org_id, name, state, metadata, created_at, changed_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &params![i, app_id, id, &e.owner, name, app_state::ACTIVE, Vec::<u8>::new(), t, t, s],
            )?;
            project_update(c, e, "state = state", params![])?;
        }
        AppChanged { app_id, name } => app_update(c, e, app_id, "name = ?", params![name])?,
        AppDeactivated { app_id } => app_update(c, e, app_id, "state = ?", params![app_state::INACTIVE])?,
        AppReactivated { app_id } => app_update(c, e, app_id, "state = ?", params![app_state::ACTIVE])?,
        AppRemoved { app_id, .. } => {
            c.exec("DELETE FROM app_keys WHERE instance_id = ? AND app_id = ?", &params![i, app_id])?;
            c.exec("DELETE FROM apps WHERE instance_id = ? AND id = ? AND project_id = ?", &params![i, app_id, id])?;
            project_update(c, e, "state = state", params![])?;
        }
        OidcConfigAdded { app_id, client_id, hash, settings } => {
            let config = serde_json::to_string(settings).map_err(|e| Error::internal("PROJ-0idc1", e.to_string()))?;
            app_update(c, e, app_id, "kind = ?, client_id = ?, secret_hash = ?, config = ?", params![app_kind::OIDC, client_id, hash, config])?;
        }
        OidcConfigChanged { app_id, settings } => {
            let config = serde_json::to_string(settings).map_err(|e| Error::internal("PROJ-0idc2", e.to_string()))?;
            app_update(c, e, app_id, "config = ?", params![config])?;
        }
        OidcSecretChanged { app_id, hash } | ApiSecretChanged { app_id, hash } => {
            app_update(c, e, app_id, "secret_hash = ?", params![hash])?;
        }
        ApiConfigAdded { app_id, client_id, hash, auth_method_type } => {
            let config = serde_json::json!({ "auth_method_type": auth_method_type }).to_string();
            app_update(c, e, app_id, "kind = ?, client_id = ?, secret_hash = ?, config = ?", params![app_kind::API, client_id, hash, config])?;
        }
        ApiConfigChanged { app_id, auth_method_type } => {
            let config = serde_json::json!({ "auth_method_type": auth_method_type }).to_string();
            app_update(c, e, app_id, "config = ?", params![config])?;
        }
        SamlConfigAdded(sc) | SamlConfigChanged(sc) => {
            let metadata = base64::engine::general_purpose::STANDARD
                .decode(&sc.metadata)
                .map_err(|e| Error::internal("PROJ-s4ml1", e.to_string()))?;
            let config = serde_json::to_string(&sc.login).map_err(|e| Error::internal("PROJ-s4ml2", e.to_string()))?;
            app_update(
                c,
                e,
                &sc.app_id,
                "kind = ?, entity_id = ?, metadata = ?, metadata_url = ?, config = ?",
                params![app_kind::SAML, &sc.entity_id, metadata, &sc.metadata_url, config],
            )?;
        }
        AppKeyAdded { app_id, client_id, key_id, key_type, expiration, public_key } => {
            c.exec(
                "INSERT INTO app_keys (instance_id, id, app_id, project_id, client_id, key_type, expiration, public_key, owner, created_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &params![i, key_id, app_id, id, client_id, *key_type, *expiration, public_key, &e.owner, t, s],
            )?;
            app_update(c, e, app_id, "state = state", params![])?;
        }
        AppKeyRemoved { app_id, key_id } => {
            c.exec("DELETE FROM app_keys WHERE instance_id = ? AND id = ? AND app_id = ?", &params![i, key_id, app_id])?;
            app_update(c, e, app_id, "state = state", params![])?;
        }

        UserGrantAdded { user_id, project_id, project_grant_id, role_keys } => {
            c.exec(
                "INSERT INTO user_grants (instance_id, id, user_id, project_id, project_grant_id, org_id, role_keys, state, created_at, changed_at, seq) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &params![i, id, user_id, project_id, project_grant_id, &e.owner, keys_json(role_keys), user_grant_state::ACTIVE, t, t, s],
            )?;
            set_user_grant_roles(c, e, role_keys)?;
        }
        UserGrantChanged { role_keys } | UserGrantCascadeChanged { role_keys } => {
            user_grant_update(c, e, "role_keys = ?", params![keys_json(role_keys)])?;
            set_user_grant_roles(c, e, role_keys)?;
        }
        UserGrantDeactivated {} => user_grant_update(c, e, "state = ?", params![user_grant_state::INACTIVE])?,
        UserGrantReactivated {} => user_grant_update(c, e, "state = ?", params![user_grant_state::ACTIVE])?,
        UserGrantRemoved { .. } => {
            c.exec("DELETE FROM user_grant_roles WHERE instance_id = ? AND grant_id = ?", &params![i, id])?;
            c.exec("DELETE FROM user_grants WHERE instance_id = ? AND id = ?", &params![i, id])?;
        }
        PasswordCheckSucceeded {} => return Err(Error::internal("PROJ-pwch0", "applied by `apply`")),
        // Policy events were applied above (`Payload::policy`).
        InstancePasswordComplexityPolicyAdded(_) | InstancePasswordComplexityPolicyChanged(_) | OrgPasswordComplexityPolicyAdded(_) | OrgPasswordComplexityPolicyChanged(_) | OrgPasswordComplexityPolicyRemoved(_) | InstanceLockoutPolicyAdded(_) | InstanceLockoutPolicyChanged(_) | OrgLockoutPolicyAdded(_) | OrgLockoutPolicyChanged(_) | OrgLockoutPolicyRemoved(_) | InstancePasswordAgePolicyAdded(_) | InstancePasswordAgePolicyChanged(_) | OrgPasswordAgePolicyAdded(_) | OrgPasswordAgePolicyChanged(_) | OrgPasswordAgePolicyRemoved(_) | InstancePrivacyPolicyAdded(_) | InstancePrivacyPolicyChanged(_) | OrgPrivacyPolicyAdded(_) | OrgPrivacyPolicyChanged(_) | OrgPrivacyPolicyRemoved(_) | InstanceLoginPolicyAdded(_) | InstanceLoginPolicyChanged(_) | OrgLoginPolicyAdded(_) | OrgLoginPolicyChanged(_) | OrgLoginPolicyRemoved(_) | InstanceDomainPolicyAdded(_) | InstanceDomainPolicyChanged(_) | OrgDomainPolicyAdded(_) | OrgDomainPolicyChanged(_) | OrgDomainPolicyRemoved(_) | InstanceNotificationPolicyAdded(_) | InstanceNotificationPolicyChanged(_) | OrgNotificationPolicyAdded(_) | OrgNotificationPolicyChanged(_) | OrgNotificationPolicyRemoved(_) | InstanceLabelPolicyAdded(_) | InstanceLabelPolicyChanged(_) | OrgLabelPolicyAdded(_) | OrgLabelPolicyChanged(_) | OrgLabelPolicyRemoved(_) => return Err(Error::internal("PROJ-p0l1c", format!("unhandled event {}", p.event_type()))),
        // Label policy activation, label policy files and avatars were applied above (`assets::apply`).
        InstanceLabelPolicyActivated {} | OrgLabelPolicyActivated {} | HumanAvatarAdded(_) | HumanAvatarRemoved { .. } | InstanceLabelPolicyLogoAdded(_) | InstanceLabelPolicyLogoRemoved { .. } | InstanceLabelPolicyLogoDarkAdded(_) | InstanceLabelPolicyLogoDarkRemoved { .. } | InstanceLabelPolicyIconAdded(_) | InstanceLabelPolicyIconRemoved { .. } | InstanceLabelPolicyIconDarkAdded(_) | InstanceLabelPolicyIconDarkRemoved { .. } | InstanceLabelPolicyFontAdded(_) | InstanceLabelPolicyFontRemoved { .. } | OrgLabelPolicyLogoAdded(_) | OrgLabelPolicyLogoRemoved { .. } | OrgLabelPolicyLogoDarkAdded(_) | OrgLabelPolicyLogoDarkRemoved { .. } | OrgLabelPolicyIconAdded(_) | OrgLabelPolicyIconRemoved { .. } | OrgLabelPolicyIconDarkAdded(_) | OrgLabelPolicyIconDarkRemoved { .. } | OrgLabelPolicyFontAdded(_) | OrgLabelPolicyFontRemoved { .. } => return Err(Error::internal("PROJ-4ss3t", format!("unhandled event {}", p.event_type()))),
    }
    debug_assert!(castellan_domain::events::AGGREGATE_TYPES.contains(&e.aggregate_type.as_str()));
    Ok(())
}

/// The uniqueness key of a login: the login name when it carries an org domain (usernames are
/// then unique per organisation), else the user name (unique in the instance).
pub fn login_key(user_name: &str, login_name: &str, org_id: &str) -> String {
    if login_name != user_name {
        format!("{}@{org_id}", user_name.to_lowercase())
    } else {
        user_name.to_lowercase()
    }
}

fn user_update(c: &mut dyn Conn, e: &Event, set: &str, mut p: Vec<Value>) -> Result<()> {
    let sql =
        format!("UPDATE users SET {set}, changed_at = ?, seq = ? WHERE instance_id = ? AND id = ?");
    p.extend(params![
        e.created_at,
        e.seq,
        &e.instance_id,
        &e.aggregate_id
    ]);
    c.exec(&sql, &p)?;
    Ok(())
}

fn project_update(c: &mut dyn Conn, e: &Event, set: &str, mut p: Vec<Value>) -> Result<()> {
    let sql = format!(
        "UPDATE projects SET {set}, changed_at = ?, seq = ? WHERE instance_id = ? AND id = ?"
    );
    p.extend(params![
        e.created_at,
        e.seq,
        &e.instance_id,
        &e.aggregate_id
    ]);
    c.exec(&sql, &p)?;
    Ok(())
}

/// Updates one application of the event's project (and the project's sequence).
fn app_update(
    c: &mut dyn Conn,
    e: &Event,
    app_id: &str,
    set: &str,
    mut p: Vec<Value>,
) -> Result<()> {
    let sql = format!("UPDATE apps SET {set}, changed_at = ?, seq = ? WHERE instance_id = ? AND id = ? AND project_id = ?");
    p.extend(params![
        e.created_at,
        e.seq,
        &e.instance_id,
        app_id,
        &e.aggregate_id
    ]);
    c.exec(&sql, &p)?;
    project_update(c, e, "state = state", params![])
}

/// Role keys as stored in `project_grants.role_keys`: a JSON array.
pub fn keys_json(keys: &[String]) -> String {
    serde_json::to_string(keys).unwrap_or_else(|_| "[]".into())
}

/// Reads `project_grants.role_keys`.
pub fn keys_of_json(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn set_grant_roles(c: &mut dyn Conn, e: &Event, grant_id: &str, keys: &[String]) -> Result<()> {
    c.exec(
        "DELETE FROM project_grant_roles WHERE instance_id = ? AND grant_id = ?",
        &params![&e.instance_id, grant_id],
    )?;
    for k in keys {
        c.exec(
            "INSERT INTO project_grant_roles (instance_id, grant_id, project_id, key) VALUES (?, ?, ?, ?)",
            &params![&e.instance_id, grant_id, &e.aggregate_id, k],
        )?;
    }
    Ok(())
}

/// Removes the user grants whose `col` (`user_id`, `project_id`, `project_grant_id`) is `value`.
fn remove_user_grants(c: &mut dyn Conn, instance: &str, col: &str, value: &str) -> Result<()> {
    c.exec(
        &format!("DELETE FROM user_grant_roles WHERE instance_id = ? AND grant_id IN (SELECT id FROM user_grants WHERE instance_id = ? AND {col} = ?)"),
        &params![instance, instance, value],
    )?;
    c.exec(
        &format!("DELETE FROM user_grants WHERE instance_id = ? AND {col} = ?"),
        &params![instance, value],
    )?;
    Ok(())
}

fn set_user_grant_roles(c: &mut dyn Conn, e: &Event, keys: &[String]) -> Result<()> {
    c.exec(
        "DELETE FROM user_grant_roles WHERE instance_id = ? AND grant_id = ?",
        &params![&e.instance_id, &e.aggregate_id],
    )?;
    for k in keys {
        c.exec(
            "INSERT INTO user_grant_roles (instance_id, grant_id, project_id, project_grant_id, key) \
             SELECT instance_id, id, project_id, project_grant_id, ? FROM user_grants WHERE instance_id = ? AND id = ?",
            &params![k, &e.instance_id, &e.aggregate_id],
        )?;
    }
    Ok(())
}

fn user_grant_update(c: &mut dyn Conn, e: &Event, set: &str, mut p: Vec<Value>) -> Result<()> {
    let sql = format!(
        "UPDATE user_grants SET {set}, changed_at = ?, seq = ? WHERE instance_id = ? AND id = ?"
    );
    p.extend(params![
        e.created_at,
        e.seq,
        &e.instance_id,
        &e.aggregate_id
    ]);
    c.exec(&sql, &p)?;
    Ok(())
}

fn grant_update(
    c: &mut dyn Conn,
    e: &Event,
    grant_id: &str,
    set: &str,
    mut p: Vec<Value>,
) -> Result<()> {
    let sql = format!(
        "UPDATE project_grants SET {set}, changed_at = ?, seq = ? WHERE instance_id = ? AND id = ? AND project_id = ?"
    );
    p.extend(params![
        e.created_at,
        e.seq,
        &e.instance_id,
        grant_id,
        &e.aggregate_id
    ]);
    c.exec(&sql, &p)?;
    Ok(())
}

fn org_state(c: &mut dyn Conn, e: &Event, state: i64) -> Result<()> {
    c.exec(
        "UPDATE orgs SET state = ?, changed_at = ?, seq = ? WHERE instance_id = ? AND id = ?",
        &params![state, e.created_at, e.seq, &e.instance_id, &e.aggregate_id],
    )?;
    Ok(())
}

fn touch_org(c: &mut dyn Conn, e: &Event) -> Result<()> {
    c.exec(
        "UPDATE orgs SET changed_at = ?, seq = ? WHERE instance_id = ? AND id = ?",
        &params![e.created_at, e.seq, &e.instance_id, &e.aggregate_id],
    )?;
    Ok(())
}

fn touch_instance(c: &mut dyn Conn, id: &str, t: i64, s: i64) -> Result<()> {
    c.exec(
        "UPDATE instances SET changed_at = ?, seq = ? WHERE id = ?",
        &params![t, s, id],
    )?;
    Ok(())
}

fn add_member(
    c: &mut dyn Conn,
    e: &Event,
    level: &str,
    user_id: &str,
    roles: &[String],
) -> Result<()> {
    c.exec(
        "INSERT INTO members (instance_id, level, object_id, user_id, roles, owner, created_at, changed_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &params![&e.instance_id, level, &e.aggregate_id, user_id, roles_text(roles), &e.owner, e.created_at, e.created_at, e.seq],
    )?;
    Ok(())
}

fn change_member(
    c: &mut dyn Conn,
    e: &Event,
    level: &str,
    user_id: &str,
    roles: &[String],
) -> Result<()> {
    c.exec(
        "UPDATE members SET roles = ?, changed_at = ?, seq = ? WHERE instance_id = ? AND level = ? AND object_id = ? AND user_id = ?",
        &params![roles_text(roles), e.created_at, e.seq, &e.instance_id, level, &e.aggregate_id, user_id],
    )?;
    Ok(())
}

fn remove_member(c: &mut dyn Conn, e: &Event, level: &str, user_id: &str) -> Result<()> {
    c.exec(
        "DELETE FROM members WHERE instance_id = ? AND level = ? AND object_id = ? AND user_id = ?",
        &params![&e.instance_id, level, &e.aggregate_id, user_id],
    )?;
    Ok(())
}
