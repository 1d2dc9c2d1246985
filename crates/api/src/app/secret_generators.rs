//! Secret generator settings of the instance (admin API). A type the instance never changed
//! has ZITADEL's default (`secret_generator::GeneratorType::default_config`); the first update
//! writes `instance.secret.generator.added`, later ones `...changed`.

use super::query::Page;
use crate::convert::{details, mutation};
use crate::ctx::Ctx;
use crate::error::R;
use crate::state::St;
use castellan_domain::events::{agg, Payload, SecretGenerator};
use castellan_domain::secret_generator::{GeneratorConfig, GeneratorType};
use castellan_domain::{Error, Result};
use castellan_proto::zitadel::settings::v1 as pb;
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::{params, Conn};

/// A generator's effective settings and, when stored, (seq, created, changed).
#[derive(Debug, Clone, Copy)]
struct Effective {
    t: GeneratorType,
    cfg: GeneratorConfig,
    stored: Option<(i64, i64, i64)>,
}

fn load_all(c: &mut dyn Conn, inst: &str) -> Result<Vec<Effective>> {
    let rows = c.query(
        "SELECT generator_type, length, expiry_secs, include_lower_letters, include_upper_letters, include_digits, include_symbols, seq, created_at, changed_at \
         FROM secret_generators WHERE instance_id = ?",
        &params![inst],
    )?;
    let mut out: Vec<Effective> = GeneratorType::ALL
        .iter()
        .map(|t| Effective {
            t: *t,
            cfg: t.default_config(),
            stored: None,
        })
        .collect();
    for r in rows {
        let n = r.int(0)? as i32;
        if let Some(e) = out.iter_mut().find(|e| e.t as i32 == n) {
            e.cfg = GeneratorConfig {
                length: r.int(1)?.clamp(0, u32::MAX as i64) as u32,
                expiry_secs: r.int(2)?,
                include_lower_letters: r.int(3)? != 0,
                include_upper_letters: r.int(4)? != 0,
                include_digits: r.int(5)? != 0,
                include_symbols: r.int(6)? != 0,
            };
            e.stored = Some((r.int(7)?, r.int(8)?, r.int(9)?));
        }
    }
    Ok(out)
}

fn to_pb(e: &Effective, inst: &str) -> pb::SecretGenerator {
    let (seq, created, changed) = e.stored.unwrap_or((0, 0, 0));
    pb::SecretGenerator {
        generator_type: e.t as i32,
        details: details(seq, created, changed, inst),
        length: e.cfg.length,
        expiry: Some(prost_types::Duration {
            seconds: e.cfg.expiry_secs,
            nanos: 0,
        }),
        include_lower_letters: e.cfg.include_lower_letters,
        include_upper_letters: e.cfg.include_upper_letters,
        include_digits: e.cfg.include_digits,
        include_symbols: e.cfg.include_symbols,
    }
}

async fn effective(st: &St, ctx: &Ctx) -> R<Vec<Effective>> {
    let inst = ctx.instance_id.clone();
    Ok(st.db.read(move |c| load_all(c, &inst)).await?)
}

/// The settings of one generator type.
pub async fn get(st: &St, ctx: &Ctx, generator_type: i32) -> R<pb::SecretGenerator> {
    let t = GeneratorType::from_i32(generator_type)?;
    let all = effective(st, ctx).await?;
    let e = all
        .iter()
        .find(|e| e.t == t)
        .ok_or_else(|| Error::not_found("QUERY-sn9kd", "Errors.SecretGenerator.NotFound"))?;
    Ok(to_pb(e, &ctx.instance_id))
}

/// The settings of every type (or of the types asked for), ordered by type.
pub async fn list(
    st: &St,
    ctx: &Ctx,
    page: Page,
    types: &[i32],
) -> R<(i64, Vec<pb::SecretGenerator>)> {
    let wanted = types
        .iter()
        .map(|n| GeneratorType::from_i32(*n))
        .collect::<Result<Vec<_>>>()?;
    let mut all: Vec<Effective> = effective(st, ctx)
        .await?
        .into_iter()
        .filter(|e| wanted.is_empty() || wanted.contains(&e.t))
        .collect();
    all.sort_by_key(|e| e.t as i32);
    let total = all.len() as i64;
    let out = all
        .iter()
        .skip(page.offset.max(0) as usize)
        .take(page.limit.max(0) as usize)
        .map(|e| to_pb(e, &ctx.instance_id))
        .collect();
    Ok((total, out))
}

/// Replaces the settings of one generator type.
pub async fn update(
    st: &St,
    ctx: &Ctx,
    generator_type: i32,
    cfg: GeneratorConfig,
) -> R<ObjectDetails> {
    let t = GeneratorType::from_i32(generator_type)?;
    cfg.validate()?;
    let key = ctx.instance_id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let all = load_all(tx.conn, &inst)?;
            let cur = all.iter().find(|e| e.t == t).copied();
            if cur.is_some_and(|c| c.cfg == cfg) {
                return Err(Error::precondition(
                    "COMMAND-m0o3f",
                    "Errors.NoChangesFound",
                ));
            }
            let g = SecretGenerator {
                generator_type: t as i32,
                length: cfg.length,
                expiry_secs: cfg.expiry_secs,
                include_lower_letters: cfg.include_lower_letters,
                include_upper_letters: cfg.include_upper_letters,
                include_digits: cfg.include_digits,
                include_symbols: cfg.include_symbols,
            };
            let p = if cur.is_some_and(|c| c.stored.is_some()) {
                Payload::SecretGeneratorChanged(g)
            } else {
                Payload::SecretGeneratorAdded(g)
            };
            tx.push(agg::INSTANCE, &inst, &inst, vec![p])
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

/// The generator settings in force for `t` (for code generation by other services).
pub async fn config_of(st: &St, ctx: &Ctx, t: GeneratorType) -> R<GeneratorConfig> {
    Ok(effective(st, ctx)
        .await?
        .into_iter()
        .find(|e| e.t == t)
        .map_or_else(|| t.default_config(), |e| e.cfg))
}
