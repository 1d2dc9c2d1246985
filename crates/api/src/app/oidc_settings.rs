//! The instance's OIDC settings (admin API `GetOIDCSettings`, `AddOIDCSettings`,
//! `UpdateOIDCSettings`). An instance that never stored any has the defaults
//! (`castellan_domain::oidc_settings`). `of_instance` is on the hot path of every token the
//! provider issues: it is served from the node's read cache (`read_cache`), which every change
//! of the settings empties on every node.

use crate::convert::{details, mutation};
use crate::ctx::Ctx;
use crate::error::R;
use crate::state::St;
use castellan_domain::events::{agg, Payload};
use castellan_domain::oidc_settings::OidcSettings;
use castellan_domain::{Error, Result};
use castellan_proto::zitadel::settings::v1 as pb;
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::{params, Conn};
use std::time::Duration;

/// Stored settings with (seq, created, changed).
type Stored = (OidcSettings, i64, i64, i64);

fn load(c: &mut dyn Conn, inst: &str) -> Result<Option<Stored>> {
    let Some(r) = c.one(
        "SELECT access_token_lifetime, id_token_lifetime, refresh_token_idle_expiration, refresh_token_expiration, \
         flat_roles_claim, token_exchange_enabled, pkce_plain_allowed, seq, created_at, changed_at FROM oidc_settings WHERE instance_id = ?",
        &params![inst],
    )?
    else {
        return Ok(None);
    };
    let secs = |i: usize| -> Result<Duration> { Ok(Duration::from_secs(r.int(i)?.max(0) as u64)) };
    Ok(Some((
        OidcSettings {
            access_token_lifetime: secs(0)?,
            id_token_lifetime: secs(1)?,
            refresh_token_idle_expiration: secs(2)?,
            refresh_token_expiration: secs(3)?,
            flat_roles_claim: r.int(4)? != 0,
            token_exchange_enabled: r.int(5)? != 0,
            pkce_plain_allowed: r.int(6)? != 0,
        },
        r.int(7)?,
        r.int(8)?,
        r.int(9)?,
    )))
}

fn duration(d: Duration) -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: d.as_secs() as i64,
        nanos: 0,
    })
}

/// The settings in force, as the admin API shows them (defaults with empty details when none
/// were stored).
pub async fn get(st: &St, ctx: &Ctx) -> R<pb::OidcSettings> {
    let inst = ctx.instance_id.clone();
    let stored = st.db.read_point(move |c| load(c, &inst)).await?;
    let (s, seq, created, changed) = stored.unwrap_or((OidcSettings::default(), 0, 0, 0));
    Ok(pb::OidcSettings {
        details: details(seq, created, changed, &ctx.instance_id),
        access_token_lifetime: duration(s.access_token_lifetime),
        id_token_lifetime: duration(s.id_token_lifetime),
        refresh_token_idle_expiration: duration(s.refresh_token_idle_expiration),
        refresh_token_expiration: duration(s.refresh_token_expiration),
        flat_roles_claim: s.flat_roles_claim,
        token_exchange_enabled: s.token_exchange_enabled,
        pkce_plain_allowed: s.pkce_plain_allowed,
    })
}

/// Stores the first settings of the instance; ALREADY_EXISTS once some are stored.
pub async fn add(st: &St, ctx: &Ctx, s: OidcSettings) -> R<ObjectDetails> {
    write(st, ctx, s, true).await
}

/// Replaces the settings (stores them when the instance had none).
pub async fn update(st: &St, ctx: &Ctx, s: OidcSettings) -> R<ObjectDetails> {
    write(st, ctx, s, false).await
}

async fn write(st: &St, ctx: &Ctx, s: OidcSettings, adding: bool) -> R<ObjectDetails> {
    s.validate()?;
    let key = ctx.instance_id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let cur = load(tx.conn, &inst)?;
            let p = match cur {
                Some(_) if adding => {
                    return Err(Error::exists(
                        "OIDC-3x1st",
                        "Errors.OIDCSettings.AlreadyExists",
                    ))
                }
                Some((c, ..)) if c == s => {
                    return Err(Error::precondition("OIDC-n0chg", "Errors.NoChangesFound"))
                }
                Some(_) => Payload::OidcSettingsChanged(s.to_event()),
                None => Payload::OidcSettingsAdded(s.to_event()),
            };
            tx.push(agg::INSTANCE, &inst, &inst, vec![p])
        })
        .await?;
    Ok(mutation(&evs, adding).unwrap_or_default())
}

/// The settings in force for `instance` (through the node's read cache).
pub async fn of_instance(st: &St, instance: &str) -> R<OidcSettings> {
    let inst = instance.to_string();
    let key = format!("oidc_settings\0{instance}");
    let s = st
        .read_cache
        .get(st, key, move |c| {
            Ok(load(c, &inst)?.map_or_else(OidcSettings::default, |(s, ..)| s))
        })
        .await?;
    Ok(*s)
}
