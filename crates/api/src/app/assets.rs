//! Uploaded files: commands that store the bytes together with the event recording them (one
//! transaction, so nothing is half-written), and the queries the downloads use.

use super::label::{self, Scope};
use crate::ctx::Ctx;
use crate::error::R;
use crate::state::St;
use castellan_domain::assets::{Asset, LabelSlot};
use castellan_domain::events::{agg, Payload};
use castellan_domain::{Error, Result};
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::projection::HUMAN;
use castellan_store::{params, Conn, Tx};
use std::sync::Arc;

/// A checked upload: the bytes and their sniffed content type.
#[derive(Debug, Clone)]
pub struct Upload {
    pub bytes: Arc<Vec<u8>>,
    pub content_type: &'static str,
}

/// A stored file.
#[derive(Debug, Clone)]
pub struct Blob {
    pub content_type: String,
    /// SHA-256 of the bytes, hex.
    pub hash: String,
    pub data: Vec<u8>,
}

/// SHA-256 of `bytes`, hex.
pub fn hash(bytes: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the bytes of `up` under (owner, key) and returns the event payload describing them.
fn store(tx: &mut Tx<'_>, owner: &str, key: &str, up: &Upload) -> Result<Asset> {
    let asset = Asset {
        store_key: key.to_string(),
        content_type: up.content_type.to_string(),
        hash: hash(&up.bytes),
        size: up.bytes.len() as i64,
    };
    let inst = tx.instance().to_string();
    tx.exec(
        "INSERT INTO assets (instance_id, owner, key, content_type, hash, size, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &params![&inst, owner, key, &asset.content_type, &asset.hash, asset.size, up.bytes.to_vec(), tx.now],
    )?;
    Ok(asset)
}

/// Puts a file into the preview of the scope's label policy. The instance default gets a
/// preview if it has none; an organisation must have its own policy (as in ZITADEL).
pub async fn add_label_file(
    st: &St,
    ctx: &Ctx,
    scope: Scope,
    slot: LabelSlot,
    up: Upload,
) -> R<ObjectDetails> {
    let key = format!("{}{}", slot.store_prefix(), st.ids.next());
    label::command(st, ctx, scope, true, move |tx, org, preview| {
        if preview.is_none() {
            return Err(label::no_own_policy());
        }
        let owner = match scope {
            Scope::Instance => tx.instance().to_string(),
            Scope::Org => org.to_string(),
        };
        let asset = store(tx, &owner, &key, &up)?;
        let ev = Payload::label_asset_event(scope == Scope::Org, slot, Some(asset), &key);
        let evs = label::push(tx, scope, org, vec![ev])?;
        Ok(crate::convert::mutation(&evs, false).unwrap_or_default())
    })
    .await
}

/// (org, avatar key) of a human user of the instance.
fn human(c: &mut dyn Conn, inst: &str, user: &str) -> Result<(String, String)> {
    let r = c
        .one(
            "SELECT org_id, kind, avatar_key FROM users WHERE instance_id = ? AND id = ?",
            &params![inst, user],
        )?
        .ok_or_else(|| Error::not_found("QUERY-Dfbg2", "Errors.User.NotFound"))?;
    if r.int(1)? != HUMAN {
        return Err(Error::precondition("USER-hum4n", "Errors.User.NotHuman"));
    }
    Ok((r.text(0)?, r.text(2)?))
}

/// Sets the calling user's avatar (`POST /assets/v1/users/me/avatar`).
pub async fn set_my_avatar(st: &St, ctx: &Ctx, up: Upload) -> R<ObjectDetails> {
    let user = ctx.caller()?.user_id.clone();
    let key = format!("users/{user}/avatar-{}", st.ids.next());
    let evs = st
        .db
        .command(&user.clone(), ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let (org, _) = human(tx.conn, &inst, &user)?;
            let asset = store(tx, &org, &key, &up)?;
            tx.push(
                agg::USER,
                &user,
                &org,
                vec![Payload::HumanAvatarAdded(asset)],
            )
        })
        .await?;
    Ok(crate::convert::mutation(&evs, false).unwrap_or_default())
}

/// Removes the avatar of `user` (the caller's own, or a user of `org` for management).
pub async fn remove_avatar(st: &St, ctx: &Ctx, user: &str, org: Option<&str>) -> R<ObjectDetails> {
    let (user, org) = (user.to_string(), org.map(str::to_string));
    let evs = st
        .db
        .command(&user.clone(), ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let (owner, key) = human(tx.conn, &inst, &user)?;
            if org.as_ref().is_some_and(|o| *o != owner) {
                return Err(Error::not_found("QUERY-Dfbg2", "Errors.User.NotFound"));
            }
            if key.is_empty() {
                return Err(Error::not_found("ASSET-n0Av4", "Errors.Assets.NotFound")
                    .with("the user has no avatar"));
            }
            tx.push(
                agg::USER,
                &user,
                &owner,
                vec![Payload::HumanAvatarRemoved { store_key: key }],
            )
        })
        .await?;
    Ok(crate::convert::mutation(&evs, false).unwrap_or_default())
}

fn load_blob(c: &mut dyn Conn, inst: &str, owner: &str, key: &str) -> Result<Option<Blob>> {
    let Some(r) = c.one(
        "SELECT content_type, hash, data FROM assets WHERE instance_id = ? AND owner = ? AND key = ?",
        &params![inst, owner, key],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(Blob {
        content_type: r.text(0)?,
        hash: r.text(1)?,
        data: r.blob(2)?,
    }))
}

/// The file stored under (owner, key) in the instance.
pub async fn blob(st: &St, inst: &str, owner: &str, key: &str) -> R<Option<Blob>> {
    let (inst, owner, key) = (inst.to_string(), owner.to_string(), key.to_string());
    Ok(st
        .db
        .read(move |c| load_blob(c, &inst, &owner, &key))
        .await?)
}

/// The file in `slot` of the label policy in force for the context (`instance`: the
/// instance default), active or preview.
pub async fn label_file(
    st: &St,
    ctx: &Ctx,
    instance: bool,
    preview: bool,
    slot: LabelSlot,
) -> R<Option<Blob>> {
    let inst = ctx.instance_id.clone();
    let org = if instance {
        String::new()
    } else {
        ctx.org_id.clone()
    };
    Ok(st
        .db
        .read(move |c| {
            let v = label::view(c, &inst, &org, preview)?;
            match v.file(slot) {
                Some(key) => load_blob(c, &inst, &v.owner, key),
                None => Ok(None),
            }
        })
        .await?)
}

/// The calling user's avatar.
pub async fn my_avatar(st: &St, ctx: &Ctx) -> R<Option<Blob>> {
    let inst = ctx.instance_id.clone();
    let user = ctx.caller()?.user_id.clone();
    Ok(st
        .db
        .read(move |c| {
            let (org, key) = human(c, &inst, &user)?;
            if key.is_empty() {
                return Ok(None);
            }
            load_blob(c, &inst, &org, &key)
        })
        .await?)
}
