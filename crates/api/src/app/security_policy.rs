//! The instance's security policy (admin `GetSecurityPolicy` / `SetSecurityPolicy`): iframe
//! embedding of the login with its allowed origins, and impersonation by token exchange. An
//! instance that never set one has everything off. `of_instance` serves the login's page
//! headers and the token endpoint from the node's read cache (`read_cache`), which every
//! `instance.policy.security.set` event empties on every node.

use crate::convert::{details, mutation};
use crate::ctx::Ctx;
use crate::error::R;
use crate::state::St;
use castellan_domain::events::{agg, Payload};
use castellan_domain::security_policy::SecurityPolicy;
use castellan_domain::{Error, Result};
use castellan_proto::zitadel::settings::v1 as pb;
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::{params, Conn};
use std::sync::Arc;

/// The stored policy with (seq, created, changed).
type Stored = (SecurityPolicy, i64, i64, i64);

fn load(c: &mut dyn Conn, inst: &str) -> Result<Option<Stored>> {
    let Some(r) = c.one(
        "SELECT enable_iframe_embedding, allowed_origins, enable_impersonation, seq, created_at, changed_at \
         FROM security_policies WHERE instance_id = ?",
        &params![inst],
    )?
    else {
        return Ok(None);
    };
    let allowed_origins: Vec<String> = serde_json::from_str(&r.text(1)?)
        .map_err(|e| Error::internal("SECPOL-r34d0", e.to_string()))?;
    Ok(Some((
        SecurityPolicy {
            enable_iframe_embedding: r.int(0)? != 0,
            allowed_origins,
            enable_impersonation: r.int(2)? != 0,
        },
        r.int(3)?,
        r.int(4)?,
        r.int(5)?,
    )))
}

/// The policy in force, as the admin API shows it (everything off, empty details but the
/// owner, when none was set).
pub async fn get(st: &St, ctx: &Ctx) -> R<pb::SecurityPolicy> {
    let inst = ctx.instance_id.clone();
    let stored = st.db.read_point(move |c| load(c, &inst)).await?;
    let (p, seq, created, changed) = stored.unwrap_or_default();
    Ok(pb::SecurityPolicy {
        details: details(seq, created, changed, &ctx.instance_id),
        enable_iframe_embedding: p.enable_iframe_embedding,
        allowed_origins: p.allowed_origins,
        enable_impersonation: p.enable_impersonation,
    })
}

/// Replaces the policy. Setting what is already in force writes nothing and answers the
/// current details (as ZITADEL).
pub async fn set(st: &St, ctx: &Ctx, p: SecurityPolicy) -> R<ObjectDetails> {
    let p = p.normalized()?;
    let key = ctx.instance_id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let cur = load(tx.conn, &inst)?;
            if cur.as_ref().map(|c| &c.0) == Some(&p)
                || (cur.is_none() && p == SecurityPolicy::default())
            {
                return Ok(Vec::new());
            }
            tx.push(
                agg::INSTANCE,
                &inst,
                &inst,
                vec![Payload::SecurityPolicySet(p.clone())],
            )
        })
        .await?;
    if let Some(d) = mutation(&evs, false) {
        return Ok(d);
    }
    Ok(get(st, ctx).await?.details.unwrap_or_default())
}

/// The policy in force for `instance` (through the node's read cache).
pub async fn of_instance(st: &St, instance: &str) -> R<Arc<SecurityPolicy>> {
    let inst = instance.to_string();
    let key = format!("security_policy\0{instance}");
    Ok(st
        .read_cache
        .get(st, key, move |c| {
            Ok(load(c, &inst)?.map(|s| s.0).unwrap_or_default())
        })
        .await?)
}
