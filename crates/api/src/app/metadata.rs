//! Metadata of users and organisations: key → bytes.

use super::query::{text, Filter, Page};
use crate::convert::{details, mutation};
use crate::ctx::Ctx;
use crate::error::{invalid, R};
use crate::state::St;
use base64::Engine;
use castellan_domain::events::{agg, Payload};
use castellan_domain::{validate, Error, Result};
use castellan_proto::zitadel::metadata::v1 as pb;
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::{params, Tx};

/// Whose metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    User,
    Org,
}

fn set_payload(owner: Owner, key: String, value: &[u8]) -> Payload {
    let value = base64::engine::general_purpose::STANDARD.encode(value);
    match owner {
        Owner::User => Payload::UserMetadataSet { key, value },
        Owner::Org => Payload::OrgMetadataSet { key, value },
    }
}

fn remove_payload(owner: Owner, key: String) -> Payload {
    match owner {
        Owner::User => Payload::UserMetadataRemoved { key },
        Owner::Org => Payload::OrgMetadataRemoved { key },
    }
}

/// Checks the aggregate exists in the context organisation; returns its resource owner.
fn target(tx: &mut Tx<'_>, owner: Owner, id: &str, org: &str) -> Result<String> {
    let inst = tx.instance().to_string();
    match owner {
        Owner::User => Ok(super::users::load(tx.conn, &inst, id, Some(org))?.org_id),
        Owner::Org => Ok(super::orgs::load(tx.conn, &inst, id)?.id),
    }
}

fn agg_type(owner: Owner) -> &'static str {
    match owner {
        Owner::User => agg::USER,
        Owner::Org => agg::ORG,
    }
}

/// Sets several keys at once (one event per key, one transaction).
pub async fn set(
    st: &St,
    ctx: &Ctx,
    owner: Owner,
    id: &str,
    entries: Vec<(String, Vec<u8>)>,
) -> R<ObjectDetails> {
    if entries.is_empty() {
        return Err(invalid("metadata must contain at least one entry"));
    }
    let mut payloads = Vec::with_capacity(entries.len());
    for (k, v) in &entries {
        let k = validate::metadata_key(k)?;
        validate::metadata_value(v)?;
        payloads.push(set_payload(owner, k, v));
    }
    let (id, org) = (id.to_string(), ctx.org_id.clone());
    let key = id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let ro = target(tx, owner, &id, &org)?;
            tx.push(agg_type(owner), &id, &ro, payloads.clone())
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

/// Removes several keys at once; every key must exist.
pub async fn remove(
    st: &St,
    ctx: &Ctx,
    owner: Owner,
    id: &str,
    keys: Vec<String>,
) -> R<ObjectDetails> {
    if keys.is_empty() {
        return Err(invalid("keys must contain at least one key"));
    }
    let (id, org) = (id.to_string(), ctx.org_id.clone());
    let key = id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let ro = target(tx, owner, &id, &org)?;
            let inst = tx.instance().to_string();
            let mut payloads = Vec::new();
            for k in &keys {
                if tx.one("SELECT 1 FROM metadata WHERE instance_id = ? AND aggregate_id = ? AND key = ?", &params![&inst, &id, k])?.is_none() {
                    return Err(Error::not_found("META-ncnw3", "Errors.Metadata.NotFound").with(format!("key \"{k}\"")));
                }
                payloads.push(remove_payload(owner, k.clone()));
            }
            tx.push(agg_type(owner), &id, &ro, payloads)
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

fn row_pb(r: &castellan_store::Row) -> Result<pb::Metadata> {
    Ok(pb::Metadata {
        details: details(r.int(3)?, r.int(4)?, r.int(5)?, &r.text(2)?),
        key: r.text(0)?,
        value: r.blob(1)?,
    })
}

/// Reads one key.
pub async fn get(st: &St, ctx: &Ctx, owner: Owner, id: &str, key: &str) -> R<pb::Metadata> {
    let key = validate::metadata_key(key)?;
    let (inst, id, org) = (
        ctx.instance_id.clone(),
        id.to_string(),
        visible_in(ctx, owner, id),
    );
    Ok(st
        .db
        .read(move |c| {
            check_visible(c, &inst, owner, &id, &org)?;
            let r = c.one("SELECT key, value, owner, seq, created_at, changed_at FROM metadata WHERE instance_id = ? AND aggregate_id = ? AND key = ?", &params![&inst, &id, &key])?;
            r.as_ref().map(row_pb).transpose()?.ok_or_else(|| Error::not_found("META-ph7s2", "Errors.Metadata.NotFound").with(format!("key \"{key}\"")))
        })
        .await?)
}

/// The organisation a user must belong to for its metadata to be read: the caller's own
/// organisation for the caller's own metadata (the auth API's "me", whatever `x-zitadel-orgid`
/// selects), else the context organisation.
fn visible_in(ctx: &Ctx, owner: Owner, id: &str) -> String {
    match ctx.caller() {
        Ok(p) if owner == Owner::User && p.user_id == id => p.org_id.clone(),
        _ => ctx.org_id.clone(),
    }
}

fn check_visible(
    c: &mut dyn castellan_store::Conn,
    inst: &str,
    owner: Owner,
    id: &str,
    org: &str,
) -> Result<()> {
    match owner {
        Owner::User => super::users::load(c, inst, id, Some(org)).map(|_| ()),
        Owner::Org => super::orgs::load(c, inst, id).map(|_| ()),
    }
}

/// Lists keys matching the key queries.
pub async fn list(
    st: &St,
    ctx: &Ctx,
    owner: Owner,
    id: &str,
    page: Page,
    queries: &[pb::MetadataQuery],
) -> R<(i64, i64, Vec<pb::Metadata>)> {
    let mut f = Filter::new();
    f.and(
        "instance_id = ? AND aggregate_id = ?",
        params![&ctx.instance_id, id],
    );
    for q in queries {
        match &q.query {
            Some(pb::metadata_query::Query::KeyQuery(k)) => {
                let (sql, v) = text("key", k.method, &k.key)?;
                f.and(sql, vec![v]);
            }
            None => return Err(invalid("a query must set one of its fields")),
        }
    }
    let tail = page.tail("key", "key");
    let (inst, id, org) = (
        ctx.instance_id.clone(),
        id.to_string(),
        visible_in(ctx, owner, id),
    );
    Ok(st
        .db
        .read(move |c| {
            check_visible(c, &inst, owner, &id, &org)?;
            let clause = f.clause();
            let total = c.scalar(&format!("SELECT COUNT(*) FROM metadata WHERE {clause}"), &f.params)?;
            let rows = c.query(&format!("SELECT key, value, owner, seq, created_at, changed_at FROM metadata WHERE {clause}{tail}"), &f.params)?;
            let out = rows.iter().map(row_pb).collect::<Result<Vec<_>>>()?;
            let pos = c.scalar("SELECT COALESCE(MAX(position), 0) FROM events", &[])?;
            Ok((total, pos, out))
        })
        .await?)
}
