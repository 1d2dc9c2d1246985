//! The label policy (branding) with ZITADEL's preview/activate cycle: every change (settings
//! and files) lands in the preview; activation copies the preview to the active policy. The
//! effective policy of an organisation is its own, else the instance default, else the
//! built-in default. Files are uploaded through the assets API (`app::assets`).

use super::policies::Policy;
use crate::convert::{details, mutation};
use crate::ctx::Ctx;
use crate::error::R;
use crate::state::St;
use castellan_domain::assets::LabelSlot;
use castellan_domain::events::{agg, Payload, PolicyOp};
use castellan_domain::policy::{Label, PolicyKind, PolicySettings};
use castellan_domain::{Error, Result};
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::assets::{LABEL_ACTIVE, LABEL_PREVIEW};
use castellan_store::{params, Conn, Event, Tx};

/// Store keys of a policy's files by slot.
pub type Files = serde_json::Map<String, serde_json::Value>;

/// A label policy as read: settings, files and the owner of both (an org or the instance).
#[derive(Debug, Clone)]
pub struct LabelView {
    pub policy: Policy<Label>,
    pub files: Files,
    pub owner: String,
}

impl LabelView {
    /// The store key of `slot`, if the policy has that file.
    pub fn file(&self, slot: LabelSlot) -> Option<&str> {
        self.files.get(slot.key()).and_then(|v| v.as_str())
    }
}

/// The row of (instance, org or '' for the instance, kind).
fn row(c: &mut dyn Conn, inst: &str, org: &str, kind: &str) -> Result<Option<LabelView>> {
    let Some(r) = c.one(
        "SELECT settings, created_at, changed_at, seq, assets FROM policies WHERE instance_id = ? AND org_id = ? AND kind = ?",
        &params![inst, org, kind],
    )?
    else {
        return Ok(None);
    };
    let settings: Label = serde_json::from_str(&r.text(0)?)
        .map_err(|e| Error::internal("LABEL-r34d0", e.to_string()))?;
    let files: serde_json::Value = serde_json::from_str(&r.text(4)?)
        .map_err(|e| Error::internal("LABEL-r34d1", e.to_string()))?;
    let owner = if org.is_empty() { inst } else { org };
    Ok(Some(LabelView {
        policy: Policy {
            settings,
            is_default: org.is_empty(),
            details: details(r.int(3)?, r.int(1)?, r.int(2)?, owner),
        },
        files: files.as_object().cloned().unwrap_or_default(),
        owner: owner.to_string(),
    }))
}

fn built_in(inst: &str) -> LabelView {
    LabelView {
        policy: Policy {
            settings: Label::default(),
            is_default: true,
            details: Some(ObjectDetails {
                resource_owner: inst.to_string(),
                ..Default::default()
            }),
        },
        files: Files::new(),
        owner: inst.to_string(),
    }
}

/// The label policy of `org` ('' = the instance default), active or preview, falling back
/// to the instance's and then to the built-in default.
pub fn view(c: &mut dyn Conn, inst: &str, org: &str, preview: bool) -> Result<LabelView> {
    let kind = if preview { LABEL_PREVIEW } else { LABEL_ACTIVE };
    if !org.is_empty() {
        if let Some(v) = row(c, inst, org, kind)? {
            return Ok(v);
        }
    }
    Ok(row(c, inst, "", kind)?.unwrap_or_else(|| built_in(inst)))
}

/// Reads the label policy of the context organisation (`instance` = the instance default).
pub async fn get(st: &St, ctx: &Ctx, instance: bool, preview: bool) -> R<LabelView> {
    let inst = ctx.instance_id.clone();
    let org = if instance {
        String::new()
    } else {
        ctx.org_id.clone()
    };
    Ok(st.db.read(move |c| view(c, &inst, &org, preview)).await?)
}

fn event(org: bool, op: PolicyOp, settings: &Label) -> Result<Payload> {
    let v = if op == PolicyOp::Removed {
        serde_json::json!({})
    } else {
        serde_json::to_value(settings).map_err(|e| Error::internal("LABEL-j50n0", e.to_string()))?
    };
    Payload::policy_event(PolicyKind::Label, org, op, v)
        .ok_or_else(|| Error::internal("LABEL-3v3nt", "no such policy event"))
}

fn not_changed() -> Error {
    Error::precondition("LABEL-n0Ch6", PolicyKind::Label.error_keys().2)
        .with("the policy has not been changed")
}

/// The organisation has no label policy of its own.
pub fn no_own_policy() -> Error {
    Error::not_found("LABEL-n0tF0", PolicyKind::Label.error_keys().0)
        .with("the organisation has no label policy of its own; add one first")
}

/// Where a command acts: the instance default or the context organisation's own policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Instance,
    Org,
}

/// Runs `f` with `(tx, org id or '' for the instance, the scope's own preview if any)`.
/// The organisation must exist; the instance's preview is created with the built-in default
/// when `create` is set and it has none.
pub async fn command<T: Send + 'static>(
    st: &St,
    ctx: &Ctx,
    scope: Scope,
    create: bool,
    f: impl Fn(&mut Tx<'_>, &str, Option<LabelView>) -> Result<T> + Send + 'static,
) -> R<T> {
    let org = ctx.org_id.clone();
    let key = match scope {
        Scope::Instance => ctx.instance_id.clone(),
        Scope::Org => org.clone(),
    };
    Ok(st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let org_id = match scope {
                Scope::Instance => String::new(),
                Scope::Org => super::orgs::load(tx.conn, &inst, &org)?.id,
            };
            let mut preview = row(tx.conn, &inst, &org_id, LABEL_PREVIEW)?;
            if preview.is_none() && create && scope == Scope::Instance {
                push(
                    tx,
                    scope,
                    &org_id,
                    vec![event(false, PolicyOp::Added, &Label::default())?],
                )?;
                preview = row(tx.conn, &inst, "", LABEL_PREVIEW)?;
            }
            f(tx, &org_id, preview)
        })
        .await?)
}

/// Pushes label events on the scope's aggregate.
pub fn push(tx: &mut Tx<'_>, scope: Scope, org: &str, evs: Vec<Payload>) -> Result<Vec<Event>> {
    match scope {
        Scope::Instance => {
            let inst = tx.instance().to_string();
            tx.push(agg::INSTANCE, &inst, &inst, evs)
        }
        Scope::Org => tx.push(agg::ORG, org, org, evs),
    }
}

fn done(evs: Vec<Event>) -> ObjectDetails {
    mutation(&evs, false).unwrap_or_default()
}

/// Changes the instance default's preview (admin `UpdateLabelPolicy`).
pub async fn update_default(st: &St, ctx: &Ctx, settings: Label) -> R<ObjectDetails> {
    settings.validate()?;
    command(st, ctx, Scope::Instance, false, move |tx, org, preview| {
        let (current, op) = match preview {
            Some(p) => (p.policy.settings, PolicyOp::Changed),
            None => (Label::default(), PolicyOp::Added),
        };
        if current == settings {
            return Err(not_changed());
        }
        push(tx, Scope::Instance, org, vec![event(false, op, &settings)?]).map(done)
    })
    .await
}

/// Gives the context organisation its own (preview) label policy (`AddCustomLabelPolicy`).
pub async fn add_custom(st: &St, ctx: &Ctx, settings: Label) -> R<ObjectDetails> {
    settings.validate()?;
    command(st, ctx, Scope::Org, false, move |tx, org, preview| {
        if preview.is_some() {
            return Err(
                Error::exists("LABEL-3x1st", PolicyKind::Label.error_keys().1)
                    .with("the organisation already has its own label policy; update it"),
            );
        }
        push(
            tx,
            Scope::Org,
            org,
            vec![event(true, PolicyOp::Added, &settings)?],
        )
        .map(done)
    })
    .await
}

/// Changes the preview of the context organisation's own policy (`UpdateCustomLabelPolicy`).
pub async fn update_custom(st: &St, ctx: &Ctx, settings: Label) -> R<ObjectDetails> {
    settings.validate()?;
    command(st, ctx, Scope::Org, false, move |tx, org, preview| {
        let Some(p) = preview else {
            return Err(no_own_policy());
        };
        if p.policy.settings == settings {
            return Err(not_changed());
        }
        push(
            tx,
            Scope::Org,
            org,
            vec![event(true, PolicyOp::Changed, &settings)?],
        )
        .map(done)
    })
    .await
}

/// Makes the preview the active policy (`ActivateLabelPolicy`, `ActivateCustomLabelPolicy`).
pub async fn activate(st: &St, ctx: &Ctx, scope: Scope) -> R<ObjectDetails> {
    command(st, ctx, scope, true, move |tx, org, preview| {
        if preview.is_none() {
            return Err(no_own_policy());
        }
        let ev = match scope {
            Scope::Instance => Payload::InstanceLabelPolicyActivated {},
            Scope::Org => Payload::OrgLabelPolicyActivated {},
        };
        push(tx, scope, org, vec![ev]).map(done)
    })
    .await
}

/// Removes a file from the preview (`RemoveLabelPolicyLogo`, ...).
pub async fn remove_file(st: &St, ctx: &Ctx, scope: Scope, slot: LabelSlot) -> R<ObjectDetails> {
    command(st, ctx, scope, false, move |tx, org, preview| {
        let Some(p) = preview else {
            return Err(no_own_policy());
        };
        let Some(key) = p.file(slot) else {
            return Err(Error::not_found("LABEL-f1l30", "Errors.Assets.NotFound")
                .with(format!("the preview has no {}", slot.key())));
        };
        let ev = Payload::label_asset_event(scope == Scope::Org, slot, None, key);
        push(tx, scope, org, vec![ev]).map(done)
    })
    .await
}

/// Drops the context organisation's own policy, preview, active and files
/// (`ResetLabelPolicyToDefault`).
pub async fn reset(st: &St, ctx: &Ctx) -> R<ObjectDetails> {
    command(st, ctx, Scope::Org, false, move |tx, org, preview| {
        let Some(p) = preview else {
            return Err(no_own_policy());
        };
        push(
            tx,
            Scope::Org,
            org,
            vec![event(true, PolicyOp::Removed, &p.policy.settings)?],
        )
        .map(done)
    })
    .await
}
