//! Versioned schema migrations, applied on start in one transaction each. DDL is written once;
//! `{blob}`, `{serial}` and `{pattern}` are the only dialect differences.

use crate::conn::{Conn, Dialect};
use crate::params;
use castellan_domain::{Error, Result};

/// (version, DDL). Append only: never edit a released migration.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("schema/001_init.sql")),
    (2, include_str!("schema/002_domain_policy.sql")),
    (3, include_str!("schema/003_projects.sql")),
    (4, include_str!("schema/004_project_grants.sql")),
    (5, include_str!("schema/005_user_grants.sql")),
    (6, include_str!("schema/006_policies.sql")),
    (7, include_str!("schema/007_instance_settings.sql")),
    (8, include_str!("schema/008_apps.sql")),
    (9, include_str!("schema/009_org_domain_validation.sql")),
    (10, include_str!("schema/010_smtp.sql")),
    (11, include_str!("schema/011_assets.sql")),
    (12, include_str!("schema/012_signing_keys.sql")),
    (13, include_str!("schema/013_oidc_runtime.sql")),
    (15, include_str!("schema/015_login.sql")),
    (16, include_str!("schema/016_oidc_settings.sql")),
    (17, include_str!("schema/017_device_pkce_security.sql")),
    (18, include_str!("schema/018_login_session_index.sql")),
    (19, include_str!("schema/019_login_session_live.sql")),
    (20, include_str!("schema/020_login_rate_limits.sql")),
];

fn render(sql: &str, d: Dialect) -> String {
    let (blob, serial, pattern) = match d {
        Dialect::Sqlite => ("BLOB", "INTEGER PRIMARY KEY AUTOINCREMENT", ""),
        Dialect::Postgres => ("BYTEA", "BIGSERIAL PRIMARY KEY", " text_pattern_ops"),
    };
    sql.replace("{blob}", blob)
        .replace("{serial}", serial)
        .replace("{pattern}", pattern)
}

/// Applies every migration not yet applied.
pub fn run(conn: &mut dyn Conn) -> Result<()> {
    let d = conn.dialect();
    if d == Dialect::Postgres {
        // Several nodes may start at once: one migrates, the others wait.
        conn.batch("SELECT pg_advisory_lock(7413001)")?;
    }
    let res = apply_all(conn, d);
    if d == Dialect::Postgres {
        let _ = conn.batch("SELECT pg_advisory_unlock(7413001)");
    }
    res
}

fn apply_all(conn: &mut dyn Conn, d: Dialect) -> Result<()> {
    conn.batch("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")?;
    // Every version not yet applied, not only those above the highest: branches merged in
    // another order than their migrations were numbered still get each one exactly once.
    let mut done = std::collections::HashSet::new();
    for r in conn.query("SELECT version FROM schema_migrations", &[])? {
        done.insert(r.int(0)?);
    }
    // Every migration not yet recorded, not only those above the highest: branches merge
    // migrations with numbers below one already applied (e.g. 8 after 10).
    let done = conn
        .query("SELECT version FROM schema_migrations", &[])?
        .iter()
        .map(|r| r.int(0))
        .collect::<Result<Vec<i64>>>()?;
    for (v, sql) in MIGRATIONS.iter().filter(|(v, _)| !done.contains(v)) {
        let body = render(sql, d);
        let res = (|| -> Result<()> {
            conn.batch("BEGIN")?;
            conn.batch(&body)?;
            conn.exec(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                &params![*v, castellan_domain::id::now_micros()],
            )?;
            conn.batch("COMMIT")?;
            Ok(())
        })();
        if let Err(e) = res {
            let _ = conn.batch("ROLLBACK");
            return Err(Error::internal(
                "STORE-m1gr8",
                format!("migration {v} failed: {}", e.text()),
            ));
        }
        tracing::info!(version = v, "applied migration");
    }
    Ok(())
}

/// The read-model tables, in the order a rebuild clears them.
pub const READ_MODELS: &[&str] = &[
    "instances",
    "instance_domains",
    "instance_trusted_domains",
    "orgs",
    "org_domains",
    "users",
    "metadata",
    "members",
    "pats",
    "machine_keys",
    "projects",
    "project_roles",
    "project_grants",
    "project_grant_roles",
    "user_grants",
    "user_grant_roles",
    "policies",
    "apps",
    "app_keys",
    "smtp_configs",
    "secret_generators",
    "oidc_settings",
    "security_policies",
    "signing_keys",
];

/// Tables of an instance that are not read models: their content (uploaded bytes) is not in
/// the events, so a rebuild keeps them, but removing the instance removes them.
pub const BLOB_TABLES: &[&str] = &["assets"];

/// Runtime state of the OpenID provider and the login (sessions, authorization requests,
/// refresh tokens, revocations, device grants): not derived from events, so a rebuild keeps
/// them; removing the instance removes them.
pub const RUNTIME_TABLES: &[&str] = &[
    "login_sessions",
    "oidc_auth_requests",
    "oidc_refresh_tokens",
    "oidc_revocations",
    "oidc_device_authorizations",
];
