//! Projection of the label policy's preview/active cycle and of uploaded files (label policy
//! files, avatars). The bytes of a file are written by its upload command; this module deletes
//! them once no row refers to their store key any more. Store keys are unique per upload, so
//! replaying the events (`rebuild`) deletes exactly what the live run deleted.

use crate::conn::Conn;
use crate::params;
use crate::tx::Event;
use castellan_domain::events::Payload;
use castellan_domain::{Error, Result};
use std::collections::BTreeSet;

/// Kind of the label policy's preview row (where every change lands).
pub const LABEL_PREVIEW: &str = "label";
/// Kind of the label policy's active row (a copy of the preview at its last activation).
pub const LABEL_ACTIVE: &str = "label_active";

/// The `assets` JSON of a label policy row (slot → store key); `None` without a row.
pub fn row_assets(
    c: &mut dyn Conn,
    instance: &str,
    org: &str,
    kind: &str,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>> {
    let Some(r) = c.one(
        "SELECT assets FROM policies WHERE instance_id = ? AND org_id = ? AND kind = ?",
        &params![instance, org, kind],
    )?
    else {
        return Ok(None);
    };
    let v: serde_json::Value = serde_json::from_str(&r.text(0)?)
        .map_err(|e| Error::internal("PROJ-4ss3j", e.to_string()))?;
    Ok(Some(v.as_object().cloned().unwrap_or_default()))
}

/// Every store key the preview and the active row of (instance, org) refer to.
fn referenced(c: &mut dyn Conn, instance: &str, org: &str) -> Result<BTreeSet<String>> {
    let mut keys = BTreeSet::new();
    for kind in [LABEL_PREVIEW, LABEL_ACTIVE] {
        for v in row_assets(c, instance, org, kind)?
            .unwrap_or_default()
            .values()
        {
            if let Some(k) = v.as_str() {
                keys.insert(k.to_string());
            }
        }
    }
    Ok(keys)
}

fn delete_blob(c: &mut dyn Conn, instance: &str, owner: &str, key: &str) -> Result<()> {
    c.exec(
        "DELETE FROM assets WHERE instance_id = ? AND owner = ? AND key = ?",
        &params![instance, owner, key],
    )?;
    Ok(())
}

/// Runs `change` on the label rows of (instance, org) and deletes the bytes of the keys it
/// released.
fn with_release(
    c: &mut dyn Conn,
    e: &Event,
    org: &str,
    change: impl FnOnce(&mut dyn Conn) -> Result<()>,
) -> Result<()> {
    let i = e.instance_id.as_str();
    let before = referenced(c, i, org)?;
    change(c)?;
    let after = referenced(c, i, org)?;
    for k in before.difference(&after) {
        delete_blob(c, i, &e.owner, k)?;
    }
    Ok(())
}

/// Applies `p` if it is a label policy activation, removal or file event, or an avatar event
/// (returns true); deletes the files of removed users and organisations (returns false: the
/// main projection goes on).
pub fn apply(c: &mut dyn Conn, e: &Event, p: &Payload) -> Result<bool> {
    let (i, t, s) = (e.instance_id.as_str(), e.created_at, e.seq);
    let id = e.aggregate_id.as_str();
    if let Some((org, slot, asset, key)) = p.label_asset() {
        let org_id = if org { id } else { "" };
        with_release(c, e, org_id, |c| {
            let mut m = row_assets(c, i, org_id, LABEL_PREVIEW)?.unwrap_or_default();
            match asset {
                Some(_) => m.insert(slot.key().into(), key.into()),
                None => m.remove(slot.key()),
            };
            c.exec(
                "UPDATE policies SET assets = ?, changed_at = ?, seq = ? WHERE instance_id = ? AND org_id = ? AND kind = ?",
                &params![serde_json::Value::Object(m).to_string(), t, s, i, org_id, LABEL_PREVIEW],
            )?;
            Ok(())
        })?;
        return Ok(true);
    }
    match p {
        Payload::InstanceLabelPolicyActivated {} | Payload::OrgLabelPolicyActivated {} => {
            let org_id = if matches!(p, Payload::OrgLabelPolicyActivated {}) {
                id
            } else {
                ""
            };
            with_release(c, e, org_id, |c| {
                c.exec(
                    "INSERT INTO policies (instance_id, org_id, kind, settings, assets, created_at, changed_at, seq) \
                     SELECT instance_id, org_id, ?, settings, assets, created_at, ?, ? FROM policies \
                     WHERE instance_id = ? AND org_id = ? AND kind = ? \
                     ON CONFLICT (instance_id, org_id, kind) DO UPDATE SET settings = excluded.settings, \
                     assets = excluded.assets, changed_at = excluded.changed_at, seq = excluded.seq",
                    &params![LABEL_ACTIVE, t, s, i, org_id, LABEL_PREVIEW],
                )?;
                Ok(())
            })?;
            Ok(true)
        }
        Payload::OrgLabelPolicyRemoved(_) => {
            with_release(c, e, id, |c| {
                c.exec(
                    "DELETE FROM policies WHERE instance_id = ? AND org_id = ? AND kind IN (?, ?)",
                    &params![i, id, LABEL_PREVIEW, LABEL_ACTIVE],
                )?;
                Ok(())
            })?;
            Ok(true)
        }
        Payload::HumanAvatarAdded(a) => {
            let old = avatar_key(c, i, id)?;
            c.exec(
                "UPDATE users SET avatar_key = ?, changed_at = ?, seq = ? WHERE instance_id = ? AND id = ?",
                &params![&a.store_key, t, s, i, id],
            )?;
            if !old.is_empty() && old != a.store_key {
                delete_blob(c, i, &e.owner, &old)?;
            }
            Ok(true)
        }
        Payload::HumanAvatarRemoved { store_key } => {
            c.exec(
                "UPDATE users SET avatar_key = '', changed_at = ?, seq = ? WHERE instance_id = ? AND id = ?",
                &params![t, s, i, id],
            )?;
            delete_blob(c, i, &e.owner, store_key)?;
            Ok(true)
        }
        Payload::UserRemoved { .. } => {
            let old = avatar_key(c, i, id)?;
            if !old.is_empty() {
                delete_blob(c, i, &e.owner, &old)?;
            }
            Ok(false)
        }
        Payload::OrgRemoved { .. } => {
            c.exec(
                "DELETE FROM assets WHERE instance_id = ? AND owner = ?",
                &params![i, id],
            )?;
            Ok(false)
        }
        _ => Ok(false),
    }
}

fn avatar_key(c: &mut dyn Conn, instance: &str, user: &str) -> Result<String> {
    Ok(c.one(
        "SELECT avatar_key FROM users WHERE instance_id = ? AND id = ?",
        &params![instance, user],
    )?
    .map(|r| r.text(0))
    .transpose()?
    .unwrap_or_default())
}
