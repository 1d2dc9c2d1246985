//! Policies with an instance default and organisation overrides, for every kind at once: the
//! effective policy of an organisation is its own row if any, else the instance's row, else the
//! built-in default of the kind (`castellan_domain::policy`).

use crate::convert::{details, mutation};
use crate::ctx::Ctx;
use crate::error::R;
use crate::state::St;
use castellan_domain::events::{agg, Payload, PolicyOp};
use castellan_domain::password::Complexity;
use castellan_domain::policy::{PolicyKind, PolicySettings};
use castellan_domain::{Error, Result};
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::{params, Conn, Tx};

/// A policy as read: its settings, whether it is the instance default and its details.
#[derive(Debug, Clone)]
pub struct Policy<T> {
    pub settings: T,
    pub is_default: bool,
    pub details: Option<ObjectDetails>,
}

/// The stored row of (instance, org or '' for the default, kind).
fn row<T: PolicySettings>(
    c: &mut dyn Conn,
    inst: &str,
    org: &str,
) -> Result<Option<(T, Option<ObjectDetails>)>> {
    let r = c.one(
        "SELECT settings, created_at, changed_at, seq FROM policies WHERE instance_id = ? AND org_id = ? AND kind = ?",
        &params![inst, org, T::KIND.key()],
    )?;
    let Some(r) = r else { return Ok(None) };
    let settings: T = serde_json::from_str(&r.text(0)?)
        .map_err(|e| Error::internal("POLICY-r34d0", e.to_string()))?;
    let owner = if org.is_empty() { inst } else { org };
    Ok(Some((
        settings,
        details(r.int(3)?, r.int(1)?, r.int(2)?, owner),
    )))
}

/// The instance default (its row, else the built-in default).
pub fn instance_default<T: PolicySettings>(c: &mut dyn Conn, inst: &str) -> Result<Policy<T>> {
    Ok(match row::<T>(c, inst, "")? {
        Some((settings, details)) => Policy {
            settings,
            is_default: true,
            details,
        },
        None => Policy {
            settings: T::default(),
            is_default: true,
            details: Some(ObjectDetails {
                resource_owner: inst.to_string(),
                ..Default::default()
            }),
        },
    })
}

/// The policy in force in `org`.
pub fn effective<T: PolicySettings>(c: &mut dyn Conn, inst: &str, org: &str) -> Result<Policy<T>> {
    if !org.is_empty() {
        if let Some((settings, details)) = row::<T>(c, inst, org)? {
            return Ok(Policy {
                settings,
                is_default: false,
                details,
            });
        }
    }
    instance_default(c, inst)
}

/// The effective policy of the context organisation.
pub async fn get<T: PolicySettings>(st: &St, ctx: &Ctx) -> R<Policy<T>> {
    let (inst, org) = (ctx.instance_id.clone(), ctx.org_id.clone());
    Ok(st.db.read(move |c| effective::<T>(c, &inst, &org)).await?)
}

/// The instance default.
pub async fn get_default<T: PolicySettings>(st: &St, ctx: &Ctx) -> R<Policy<T>> {
    let inst = ctx.instance_id.clone();
    Ok(st.db.read(move |c| instance_default::<T>(c, &inst)).await?)
}

/// The password complexity policy in force in `org` of `inst`.
pub async fn complexity(st: &St, inst: &str, org: &str) -> R<Complexity> {
    let (inst, org) = (inst.to_string(), org.to_string());
    Ok(st
        .db
        .read(move |c| effective::<Complexity>(c, &inst, &org).map(|p| p.settings))
        .await?)
}

fn event<T: PolicySettings>(org: bool, op: PolicyOp, settings: &T) -> Result<Payload> {
    let v = if op == PolicyOp::Removed {
        serde_json::json!({})
    } else {
        serde_json::to_value(settings)
            .map_err(|e| Error::internal("POLICY-j50n0", e.to_string()))?
    };
    Payload::policy_event(T::KIND, org, op, v)
        .ok_or_else(|| Error::internal("POLICY-3v3nt", "no such policy event"))
}

fn not_changed(kind: PolicyKind) -> Error {
    Error::precondition("POLICY-n0Ch6", kind.error_keys().2).with("the policy has not been changed")
}

/// Sets the instance default (admin `Update…Policy`).
pub async fn set_default<T: PolicySettings>(st: &St, ctx: &Ctx, settings: T) -> R<ObjectDetails> {
    settings.validate()?;
    let key = ctx.instance_id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let (current, op) = match row::<T>(tx.conn, &inst, "")? {
                Some((s, _)) => (s, PolicyOp::Changed),
                None => (T::default(), PolicyOp::Added),
            };
            if current == settings {
                return Err(not_changed(T::KIND));
            }
            tx.push(
                agg::INSTANCE,
                &inst,
                &inst,
                vec![event(false, op, &settings)?],
            )
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

/// Runs `f` on the context organisation's own policy row (checking the org exists).
async fn org_command<T: PolicySettings>(
    st: &St,
    ctx: &Ctx,
    f: impl Fn(&mut Tx<'_>, &str, Option<T>) -> Result<Vec<castellan_store::Event>> + Send + 'static,
) -> R<ObjectDetails> {
    let org = ctx.org_id.clone();
    let key = org.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let o = super::orgs::load(tx.conn, &inst, &org)?;
            let own = row::<T>(tx.conn, &inst, &o.id)?.map(|(s, _)| s);
            f(tx, &o.id, own)
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

/// Gives the context organisation its own policy (management `AddCustom…Policy`).
pub async fn add_custom<T: PolicySettings>(st: &St, ctx: &Ctx, settings: T) -> R<ObjectDetails> {
    settings.validate()?;
    org_command::<T>(st, ctx, move |tx, org, own| {
        if own.is_some() {
            return Err(Error::exists("POLICY-3x1st", T::KIND.error_keys().1)
                .with("the organisation already has its own policy; update it"));
        }
        tx.push(
            agg::ORG,
            org,
            org,
            vec![event(true, PolicyOp::Added, &settings)?],
        )
    })
    .await
}

/// Changes the context organisation's own policy (management `UpdateCustom…Policy`).
pub async fn update_custom<T: PolicySettings>(st: &St, ctx: &Ctx, settings: T) -> R<ObjectDetails> {
    settings.validate()?;
    org_command::<T>(st, ctx, move |tx, org, own| {
        let Some(own) = own else {
            return Err(Error::not_found("POLICY-n0tF0", T::KIND.error_keys().0)
                .with("the organisation has no policy of its own"));
        };
        if own == settings {
            return Err(not_changed(T::KIND));
        }
        tx.push(
            agg::ORG,
            org,
            org,
            vec![event(true, PolicyOp::Changed, &settings)?],
        )
    })
    .await
}

/// Drops the context organisation's own policy (management `Reset…PolicyToDefault`).
pub async fn reset<T: PolicySettings>(st: &St, ctx: &Ctx) -> R<ObjectDetails> {
    org_command::<T>(st, ctx, move |tx, org, own| {
        let Some(own) = own else {
            return Err(Error::not_found("POLICY-n0tF1", T::KIND.error_keys().0)
                .with("the organisation has no policy of its own"));
        };
        tx.push(
            agg::ORG,
            org,
            org,
            vec![event(true, PolicyOp::Removed, &own)?],
        )
    })
    .await
}
