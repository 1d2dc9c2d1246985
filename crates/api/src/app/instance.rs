//! The instance itself: its details, domains and trusted domains, and the languages we support.

use super::query::{text, Filter, Page};
use crate::convert::{details, mutation};
use crate::ctx::Ctx;
use crate::error::{invalid, R};
use crate::state::St;
use castellan_domain::events::{agg, Payload};
use castellan_domain::{validate, Error};
use castellan_proto::zitadel::instance::v1 as pb;
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::params;

/// The languages we have texts for (the login's, `login/src/i18n.rs`).
pub const SUPPORTED_LANGUAGES: &[&str] = &["en", "de"];

fn instance_not_found() -> Error {
    Error::not_found("QUERY-1kIjX", "Errors.IAM.NotFound")
}

/// The instance of the request with all its domains.
pub async fn get(st: &St, ctx: &Ctx) -> R<pb::InstanceDetail> {
    let inst = ctx.instance_id.clone();
    Ok(st
        .db
        .read(move |c| {
            let r = c
                .one(
                    "SELECT id, name, created_at, changed_at, seq FROM instances WHERE id = ?",
                    &params![&inst],
                )?
                .ok_or_else(instance_not_found)?;
            let id = r.text(0)?;
            let (seq, created, changed) = (r.int(4)?, r.int(2)?, r.int(3)?);
            let rows = c.query(
                "SELECT domain, is_primary, is_generated, created_at FROM instance_domains WHERE instance_id = ? ORDER BY domain",
                &params![&inst],
            )?;
            let domains = rows
                .iter()
                .map(|d| {
                    Ok(pb::Domain {
                        details: details(seq, d.int(3)?, d.int(3)?, &id),
                        domain: d.text(0)?,
                        primary: d.int(1)? != 0,
                        generated: d.int(2)? != 0,
                    })
                })
                .collect::<castellan_domain::Result<Vec<_>>>()?;
            Ok(pb::InstanceDetail {
                details: details(seq, created, changed, &id),
                name: r.text(1)?,
                id,
                state: pb::State::Running as i32,
                version: env!("CARGO_PKG_VERSION").to_string(),
                domains,
            })
        })
        .await?)
}

fn sort_col(col: i32) -> &'static str {
    match col {
        2 => "is_primary",
        3 => "is_generated",
        4 => "created_at",
        _ => "domain",
    }
}

/// The instance's domains, filtered and paged.
pub async fn list_domains(
    st: &St,
    ctx: &Ctx,
    page: Page,
    sorting: i32,
    queries: &[pb::DomainSearchQuery],
) -> R<(i64, i64, Vec<pb::Domain>)> {
    use pb::domain_search_query::Query as Q;
    let mut f = Filter::new();
    f.and("instance_id = ?", params![&ctx.instance_id]);
    for q in queries {
        match q
            .query
            .as_ref()
            .ok_or_else(|| invalid("a query must set one of its fields"))?
        {
            Q::DomainQuery(x) => {
                let (sql, v) = text("domain", x.method, &x.domain)?;
                f.and(sql, vec![v]);
            }
            Q::GeneratedQuery(x) => {
                f.and("is_generated = ?", params![x.generated]);
            }
            Q::PrimaryQuery(x) => {
                f.and("is_primary = ?", params![x.primary]);
            }
        }
    }
    let tail = page.tail(sort_col(sorting), "domain");
    let inst = ctx.instance_id.clone();
    Ok(st
        .db
        .read(move |c| {
            let seq = c
                .one("SELECT seq FROM instances WHERE id = ?", &params![&inst])?
                .map(|r| r.int(0))
                .transpose()?
                .unwrap_or(0);
            let (total, pos, rows) = super::query::page_rows(
                c,
                "domain, is_primary, is_generated, created_at",
                "instance_domains",
                &f,
                &tail,
            )?;
            let out = rows
                .iter()
                .map(|r| {
                    Ok(pb::Domain {
                        details: details(seq, r.int(3)?, r.int(3)?, &inst),
                        domain: r.text(0)?,
                        primary: r.int(1)? != 0,
                        generated: r.int(2)? != 0,
                    })
                })
                .collect::<castellan_domain::Result<Vec<_>>>()?;
            Ok((total, pos, out))
        })
        .await?)
}

/// The instance's trusted domains, filtered and paged.
pub async fn list_trusted_domains(
    st: &St,
    ctx: &Ctx,
    page: Page,
    sorting: i32,
    queries: &[pb::TrustedDomainSearchQuery],
) -> R<(i64, i64, Vec<pb::TrustedDomain>)> {
    use pb::trusted_domain_search_query::Query as Q;
    let mut f = Filter::new();
    f.and("instance_id = ?", params![&ctx.instance_id]);
    for q in queries {
        match q
            .query
            .as_ref()
            .ok_or_else(|| invalid("a query must set one of its fields"))?
        {
            Q::DomainQuery(x) => {
                let (sql, v) = text("domain", x.method, &x.domain)?;
                f.and(sql, vec![v]);
            }
        }
    }
    let col = if sorting == 4 { "created_at" } else { "domain" };
    let tail = page.tail(col, "domain");
    let inst = ctx.instance_id.clone();
    Ok(st
        .db
        .read(move |c| {
            let (total, pos, rows) = super::query::page_rows(
                c,
                "domain, created_at, seq",
                "instance_trusted_domains",
                &f,
                &tail,
            )?;
            let out = rows
                .iter()
                .map(|r| {
                    Ok(pb::TrustedDomain {
                        details: details(r.int(2)?, r.int(1)?, r.int(1)?, &inst),
                        domain: r.text(0)?,
                    })
                })
                .collect::<castellan_domain::Result<Vec<_>>>()?;
            Ok((total, pos, out))
        })
        .await?)
}

fn trusted_exists(
    c: &mut dyn castellan_store::Conn,
    inst: &str,
    domain: &str,
) -> castellan_domain::Result<bool> {
    Ok(c.one(
        "SELECT 1 FROM instance_trusted_domains WHERE instance_id = ? AND domain = ?",
        &params![inst, domain],
    )?
    .is_some())
}

/// Adds a trusted domain to the instance.
pub async fn add_trusted_domain(st: &St, ctx: &Ctx, domain: &str) -> R<ObjectDetails> {
    let domain = validate::domain("domain", domain)?;
    let key = ctx.instance_id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            if trusted_exists(tx.conn, &inst, &domain)? {
                return Err(
                    Error::exists("COMMA-hg42a", "Errors.Instance.Domain.AlreadyExists")
                        .with(format!("the trusted domain {domain} already exists")),
                );
            }
            tx.push(
                agg::INSTANCE,
                &inst,
                &inst,
                vec![Payload::InstanceTrustedDomainAdded {
                    domain: domain.clone(),
                }],
            )
        })
        .await?;
    Ok(mutation(&evs, true).unwrap_or_default())
}

/// Removes a trusted domain from the instance.
pub async fn remove_trusted_domain(st: &St, ctx: &Ctx, domain: &str) -> R<ObjectDetails> {
    let domain = validate::required("domain", &domain.trim().to_lowercase(), 253)?;
    let key = ctx.instance_id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            if !trusted_exists(tx.conn, &inst, &domain)? {
                return Err(
                    Error::not_found("COMMA-de3z9", "Errors.Instance.Domain.NotFound")
                        .with(format!("the trusted domain {domain} does not exist")),
                );
            }
            tx.push(
                agg::INSTANCE,
                &inst,
                &inst,
                vec![Payload::InstanceTrustedDomainRemoved {
                    domain: domain.clone(),
                }],
            )
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

/// The instance's default language.
pub async fn default_language(st: &St, ctx: &Ctx) -> R<String> {
    Ok(default_language_of(st, &ctx.instance_id).await?)
}

/// The default language of `instance`, through the node's read cache (the login asks on
/// every page that names no language).
pub async fn default_language_of(st: &St, instance: &str) -> castellan_domain::Result<String> {
    let inst = instance.to_string();
    let key = format!("default_language\0{instance}");
    let lang = st
        .read_cache
        .get(st, key, move |c| {
            c.one(
                "SELECT default_language FROM instances WHERE id = ?",
                &params![&inst],
            )?
            .ok_or_else(instance_not_found)?
            .text(0)
        })
        .await?;
    Ok(lang.as_ref().clone())
}

/// Sets the instance's default language; it must be one we support.
pub async fn set_default_language(st: &St, ctx: &Ctx, language: &str) -> R<ObjectDetails> {
    let language = validate::required("language", &language.trim().to_lowercase(), 35)?;
    if !SUPPORTED_LANGUAGES.contains(&language.as_str()) {
        return Err(Error::invalid(
            "INST-LANG1",
            "Errors.Language.NotSupported",
            format!(
                "the language {language} is not supported (supported: {})",
                SUPPORTED_LANGUAGES.join(", ")
            ),
        )
        .into());
    }
    let key = ctx.instance_id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            tx.push(
                agg::INSTANCE,
                &inst,
                &inst,
                vec![Payload::InstanceDefaultLanguageSet {
                    language: language.clone(),
                }],
            )
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}
