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

/// The policy of kind `T` in force in `org` of `inst`, through the node's read cache.
pub async fn cached<T: PolicySettings + Send + Sync + 'static>(
    st: &St,
    inst: &str,
    org: &str,
) -> Result<std::sync::Arc<T>> {
    let key = format!("policy\0{}\0{inst}\0{org}", T::KIND.key());
    let (inst, org) = (inst.to_string(), org.to_string());
    st.read_cache
        .get(st, key, move |c| {
            effective::<T>(c, &inst, &org).map(|p| p.settings)
        })
        .await
}

/// The password complexity policy in force in `org` of `inst`.
pub async fn complexity(st: &St, inst: &str, org: &str) -> R<Complexity> {
    Ok(cached::<Complexity>(st, inst, org).await?.as_ref().clone())
}

/// The policy event of `settings` (instance or org, added/changed/removed).
pub fn event<T: PolicySettings>(org: bool, op: PolicyOp, settings: &T) -> Result<Payload> {
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
            let mut settings = settings.clone();
            settings.carry_over(&current);
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
        let mut settings = settings.clone();
        settings.carry_over(&own);
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

/// The factor lists of the login policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factors {
    /// Second factors (`SecondFactorType`).
    Second,
    /// Multi factors (`MultiFactorType`).
    Multi,
}

impl Factors {
    fn list(self, l: &castellan_domain::policy::Login) -> &Vec<i32> {
        match self {
            Factors::Second => &l.second_factors,
            Factors::Multi => &l.multi_factors,
        }
    }

    fn payload(self, org: bool, add: bool, mfa_type: i32) -> Payload {
        use Payload::*;
        match (self, org, add) {
            (Factors::Second, false, true) => InstanceSecondFactorAdded { mfa_type },
            (Factors::Second, false, false) => InstanceSecondFactorRemoved { mfa_type },
            (Factors::Multi, false, true) => InstanceMultiFactorAdded { mfa_type },
            (Factors::Multi, false, false) => InstanceMultiFactorRemoved { mfa_type },
            (Factors::Second, true, true) => OrgSecondFactorAdded { mfa_type },
            (Factors::Second, true, false) => OrgSecondFactorRemoved { mfa_type },
            (Factors::Multi, true, true) => OrgMultiFactorAdded { mfa_type },
            (Factors::Multi, true, false) => OrgMultiFactorRemoved { mfa_type },
        }
    }
}

/// The factors of `which` in the login policy of the context organisation (`org`) or of the
/// instance.
pub async fn factors(st: &St, ctx: &Ctx, org: bool, which: Factors) -> R<Vec<i32>> {
    let p = if org {
        get::<castellan_domain::policy::Login>(st, ctx).await?
    } else {
        get_default::<castellan_domain::policy::Login>(st, ctx).await?
    };
    Ok(which.list(&p.settings).clone())
}

/// Adds (`add`) or removes a factor type in the login policy of the context organisation
/// (`org`; it must have its own policy) or of the instance.
pub async fn change_factor(
    st: &St,
    ctx: &Ctx,
    org: bool,
    which: Factors,
    mfa_type: i32,
    add: bool,
) -> R<ObjectDetails> {
    use castellan_domain::policy::{is_multi_factor, is_second_factor, Login};
    let known = match which {
        Factors::Second => is_second_factor(mfa_type),
        Factors::Multi => is_multi_factor(mfa_type),
    };
    if !known {
        return Err(crate::error::invalid(format!(
            "type {mfa_type} is not a known factor type"
        )));
    }
    let (key, org_id) = if org {
        (ctx.org_id.clone(), ctx.org_id.clone())
    } else {
        (ctx.instance_id.clone(), String::new())
    };
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let current = if org {
                super::orgs::load(tx.conn, &inst, &org_id)?;
                row::<Login>(tx.conn, &inst, &org_id)?
                    .map(|(s, _)| s)
                    .ok_or_else(|| {
                        Error::not_found("POLICY-l0g1n", PolicyKind::Login.error_keys().0)
                            .with("the organisation has no login policy of its own")
                    })?
            } else {
                instance_default::<Login>(tx.conn, &inst)?.settings
            };
            let present = which.list(&current).contains(&mfa_type);
            if add && present {
                return Err(
                    Error::exists("POLICY-mf4x1", "Errors.LoginPolicy.MFA.AlreadyExists")
                        .with(format!("type {mfa_type} is already allowed")),
                );
            }
            if !add && !present {
                return Err(
                    Error::not_found("POLICY-mf4n0", "Errors.LoginPolicy.MFA.NotExisting")
                        .with(format!("type {mfa_type} is not allowed")),
                );
            }
            let (agg_type, id) = if org {
                (agg::ORG, org_id.clone())
            } else {
                (agg::INSTANCE, inst.clone())
            };
            tx.push(agg_type, &id, &id, vec![which.payload(org, add, mfa_type)])
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

/// Runs a policy operation on the organisation `org_id` (admin's `…CustomDomainPolicy`): the
/// context is the instance's with that organisation.
pub fn for_org(ctx: &Ctx, org_id: &str) -> R<Ctx> {
    let org_id = castellan_domain::validate::required("orgId", org_id, 200)?;
    Ok(Ctx {
        org_id,
        ..ctx.clone()
    })
}

/// Adds the instance default of a kind that has none yet (admin `Add…Policy`).
pub async fn add_default<T: PolicySettings>(st: &St, ctx: &Ctx, settings: T) -> R<ObjectDetails> {
    let inst = ctx.instance_id.clone();
    let exists = st
        .db
        .read(move |c| Ok(row::<T>(c, &inst, "")?.is_some()))
        .await?;
    if exists {
        return Err(Error::exists("POLICY-3x1s2", T::KIND.error_keys().1)
            .with("the instance already has this policy; update it")
            .into());
    }
    set_default(st, ctx, settings).await
}
