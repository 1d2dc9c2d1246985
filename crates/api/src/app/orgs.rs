//! Organisations: commands and queries.

use super::query::{text, Filter, Page};
use crate::convert::{details, mutation};
use crate::ctx::Ctx;
use crate::error::{invalid, R};
use crate::state::St;
use castellan_domain::events::{agg, Payload};
use castellan_domain::{validate, Error, Result};
use castellan_proto::zitadel::org::v1 as pb;
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::projection::org_state;
use castellan_store::{params, Conn, Event, Row, Tx};

/// An organisation as stored.
#[derive(Debug, Clone)]
pub struct OrgRow {
    pub id: String,
    pub name: String,
    pub state: i64,
    pub primary_domain: String,
    pub created_at: i64,
    pub changed_at: i64,
    pub seq: i64,
}

const COLS: &str = "id, name, state, primary_domain, created_at, changed_at, seq";

impl OrgRow {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(OrgRow {
            id: r.text(0)?,
            name: r.text(1)?,
            state: r.int(2)?,
            primary_domain: r.text(3)?,
            created_at: r.int(4)?,
            changed_at: r.int(5)?,
            seq: r.int(6)?,
        })
    }
    pub fn to_pb(&self) -> pb::Org {
        pb::Org {
            id: self.id.clone(),
            details: details(self.seq, self.created_at, self.changed_at, &self.id),
            state: self.state as i32,
            name: self.name.clone(),
            primary_domain: self.primary_domain.clone(),
        }
    }
}

fn not_found() -> Error {
    Error::not_found("QUERY-Mmb3e", "Errors.Org.NotFound")
}

/// Loads an organisation of the instance.
pub fn load(c: &mut dyn Conn, instance: &str, id: &str) -> Result<OrgRow> {
    let r = c.one(
        &format!("SELECT {COLS} FROM orgs WHERE instance_id = ? AND id = ?"),
        &params![instance, id],
    )?;
    r.as_ref()
        .map(OrgRow::from_row)
        .transpose()?
        .ok_or_else(not_found)
}

/// The generated primary domain of an organisation: `<name>.<external domain>`, with the
/// name lower-cased, whitespace turned into dashes and other characters dropped. Like
/// ZITADEL's, the result is one DNS label: no dots (an org named `a.b` must not get a
/// subdomain of org `b`'s domain) and at most 63 characters.
pub fn generated_domain(name: &str, external: &str) -> String {
    format!("{}.{external}", dns_label(name, 63, "org"))
}

/// `name` as one DNS label of at most `max` characters: lower case, spaces as dashes, only
/// ASCII letters, digits and dashes; `fallback` when nothing is left.
pub fn dns_label(name: &str, max: usize, fallback: &str) -> String {
    let label: String = name
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_whitespace() { '-' } else { c })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(max)
        .collect();
    let label = label.trim_matches('-');
    if label.is_empty() {
        fallback.to_string()
    } else {
        label.to_string()
    }
}

fn ensure_name_free(c: &mut dyn Conn, instance: &str, name: &str, domain: &str) -> Result<()> {
    if c.one(
        "SELECT 1 FROM orgs WHERE instance_id = ? AND name_lower = ?",
        &params![instance, name.to_lowercase()],
    )?
    .is_some()
    {
        return Err(Error::exists("ORG-lapo2n", "Errors.Org.AlreadyExists")
            .with(format!("an organisation named \"{name}\" exists")));
    }
    if c.one(
        "SELECT 1 FROM org_domains WHERE instance_id = ? AND domain = ? AND is_verified = 1",
        &params![instance, domain],
    )?
    .is_some()
    {
        return Err(
            Error::exists("ORG-dom41n", "Errors.Org.Domain.AlreadyExists")
                .with(format!("the domain {domain} is taken")),
        );
    }
    Ok(())
}

/// Creates an organisation inside an open command; `owner` (if any) becomes its ORG_OWNER
/// (or gets `owner_roles`).
pub fn create(
    tx: &mut Tx<'_>,
    id: &str,
    name: &str,
    external_domain: &str,
    owner: Option<(&str, Vec<String>)>,
) -> Result<Vec<Event>> {
    let inst = tx.instance().to_string();
    if tx
        .one(
            "SELECT 1 FROM orgs WHERE instance_id = ? AND id = ?",
            &params![&inst, id],
        )?
        .is_some()
    {
        return Err(Error::exists("ORG-1d3x1", "Errors.Org.IDAlreadyExists")
            .with(format!("an organisation with the id {id} exists")));
    }
    let domain = generated_domain(name, external_domain);
    ensure_name_free(tx.conn, &inst, name, &domain)?;
    let mut evs = vec![
        Payload::OrgAdded {
            name: name.to_string(),
        },
        Payload::OrgDomainAdded {
            domain: domain.clone(),
            generated: true,
        },
        Payload::OrgDomainPrimarySet { domain },
    ];
    if let Some((user, roles)) = owner {
        evs.push(Payload::OrgMemberAdded {
            user_id: user.to_string(),
            roles,
        });
    }
    tx.push(agg::ORG, id, id, evs)
}

/// AddOrg: a new organisation with the caller as ORG_OWNER.
pub async fn add(st: &St, ctx: &Ctx, name: &str) -> R<(String, ObjectDetails)> {
    add_with_id(st, ctx, None, name).await
}

/// AddOrg keeping a given id (ImportData); the id must be free.
pub async fn add_with_id(
    st: &St,
    ctx: &Ctx,
    id: Option<&str>,
    name: &str,
) -> R<(String, ObjectDetails)> {
    let name = validate::required("name", name, validate::MAX_NAME)?;
    let id = match id {
        Some(id) => validate::required("orgId", id, validate::MAX_NAME)?,
        None => st.ids.next(),
    };
    let caller = ctx.caller()?.user_id.clone();
    let (oid, ext) = (id.clone(), st.cfg.external_domain.clone());
    let key = id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            create(
                tx,
                &oid,
                &name,
                &ext,
                Some((&caller, vec!["ORG_OWNER".into()])),
            )
        })
        .await?;
    Ok((id, mutation(&evs, true).unwrap_or_default()))
}

async fn change<F>(st: &St, ctx: &Ctx, id: &str, f: F) -> R<ObjectDetails>
where
    F: Fn(&mut Tx<'_>, &OrgRow) -> Result<Vec<Payload>> + Send + Sync + 'static,
{
    let id = id.to_string();
    let key = id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let o = load(tx.conn, &inst, &id)?;
            let payloads = f(tx, &o)?;
            tx.push(agg::ORG, &id, &id, payloads)
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

pub async fn update(st: &St, ctx: &Ctx, id: &str, name: &str) -> R<ObjectDetails> {
    let name = validate::required("name", name, validate::MAX_NAME)?;
    let ext = st.cfg.external_domain.clone();
    change(st, ctx, id, move |tx, o| {
        if o.name == name {
            return Err(Error::precondition("ORG-4M9fs", "Errors.Org.NotChanged")
                .with("the name is unchanged"));
        }
        let inst = tx.instance().to_string();
        let old_generated = generated_domain(&o.name, &ext);
        let new_domain = generated_domain(&name, &ext);
        if o.name.to_lowercase() != name.to_lowercase() {
            let domain_check = if new_domain == old_generated {
                String::new()
            } else {
                new_domain.clone()
            };
            ensure_name_free(tx.conn, &inst, &name, &domain_check)?;
        }
        let mut evs = vec![Payload::OrgChanged { name: name.clone() }];
        if new_domain != old_generated {
            evs.push(Payload::OrgDomainAdded {
                domain: new_domain.clone(),
                generated: true,
            });
            if o.primary_domain == old_generated {
                evs.push(Payload::OrgDomainPrimarySet { domain: new_domain });
            }
            evs.push(Payload::OrgDomainRemoved {
                domain: old_generated,
            });
        }
        Ok(evs)
    })
    .await
}

pub async fn deactivate(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    change(st, ctx, id, |_, o| match o.state {
        org_state::ACTIVE => Ok(vec![Payload::OrgDeactivated {}]),
        _ => Err(Error::precondition("ORG-Dbs2g", "Errors.Org.NotActive")),
    })
    .await
}

pub async fn reactivate(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    change(st, ctx, id, |_, o| match o.state {
        org_state::INACTIVE => Ok(vec![Payload::OrgReactivated {}]),
        _ => Err(Error::precondition("ORG-bqXmf", "Errors.Org.NotInactive")),
    })
    .await
}

pub async fn remove(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    change(st, ctx, id, |tx, o| {
        let inst = tx.instance().to_string();
        let default = tx
            .one(
                "SELECT default_org_id FROM instances WHERE id = ?",
                &params![&inst],
            )?
            .map(|r| r.text(0))
            .transpose()?;
        if default.as_deref() == Some(o.id.as_str()) {
            return Err(Error::precondition(
                "ORG-wG9p1",
                "Errors.Org.DefaultOrgNotDeletable",
            ));
        }
        Ok(vec![Payload::OrgRemoved {
            name: o.name.clone(),
        }])
    })
    .await
}

pub async fn get(st: &St, instance: &str, id: &str) -> R<OrgRow> {
    let (inst, id) = (instance.to_string(), id.to_string());
    Ok(st.db.read(move |c| load(c, &inst, &id)).await?)
}

/// The organisation owning the verified domain `domain`.
pub async fn by_domain(st: &St, ctx: &Ctx, domain: &str) -> R<OrgRow> {
    let (inst, domain) = (ctx.instance_id.clone(), domain.trim().to_lowercase());
    if domain.is_empty() {
        return Err(invalid("domain must not be empty"));
    }
    Ok(st
        .db
        .read(move |c| {
            let r = c.one(
                &format!("SELECT {} FROM orgs o JOIN org_domains d ON d.instance_id = o.instance_id AND d.org_id = o.id WHERE o.instance_id = ? AND d.domain = ? AND d.is_verified = 1", COLS.split(", ").map(|c| format!("o.{c}")).collect::<Vec<_>>().join(", ")),
                &params![&inst, &domain],
            )?;
            r.as_ref().map(OrgRow::from_row).transpose()?.ok_or_else(not_found)
        })
        .await?)
}

/// Lists organisations of the instance.
pub async fn list(
    st: &St,
    ctx: &Ctx,
    page: Page,
    sorting: i32,
    queries: &[pb::OrgQuery],
) -> R<(i64, i64, Vec<OrgRow>)> {
    list_in(st, ctx, page, sorting, queries, None).await
}

/// Lists organisations of the instance, only those of `ids` when given.
pub async fn list_in(
    st: &St,
    ctx: &Ctx,
    page: Page,
    sorting: i32,
    queries: &[pb::OrgQuery],
    ids: Option<&[String]>,
) -> R<(i64, i64, Vec<OrgRow>)> {
    use pb::org_query::Query as Q;
    let mut f = Filter::new();
    f.and("instance_id = ?", params![&ctx.instance_id]);
    if let Some(ids) = ids {
        let (sql, vals) = super::query::in_list("id", ids);
        f.and(sql, vals);
    }
    for q in queries {
        match q
            .query
            .as_ref()
            .ok_or_else(|| invalid("a query must set one of its fields"))?
        {
            Q::NameQuery(x) => {
                let (sql, v) = text("name", x.method, &x.name)?;
                f.and(sql, vec![v]);
            }
            Q::DomainQuery(x) => {
                let (sql, v) = text("d.domain", x.method, &x.domain)?;
                f.and(format!("EXISTS (SELECT 1 FROM org_domains d WHERE d.instance_id = orgs.instance_id AND d.org_id = orgs.id AND {sql})"), vec![v]);
            }
            Q::StateQuery(x) => {
                f.and("state = ?", params![x.state]);
            }
            Q::IdQuery(x) => {
                f.and("id = ?", params![&x.id]);
            }
        }
    }
    let order = match sorting {
        0 => "created_at",
        1 => "name",
        _ => return Err(invalid("sortingColumn is unknown")),
    };
    let tail = page.tail(order, "id");
    Ok(st
        .db
        .read(move |c| {
            let (total, pos, rows) = super::query::page_rows(c, COLS, "orgs", &f, &tail)?;
            let orgs = rows
                .iter()
                .map(OrgRow::from_row)
                .collect::<Result<Vec<_>>>()?;
            Ok((total, pos, orgs))
        })
        .await?)
}

/// Whether no organisation has this name and no organisation has verified this domain.
pub async fn is_unique(st: &St, ctx: &Ctx, name: &str, domain: &str) -> R<bool> {
    let (inst, name, domain) = (
        ctx.instance_id.clone(),
        name.trim().to_lowercase(),
        domain.trim().to_lowercase(),
    );
    if name.is_empty() && domain.is_empty() {
        return Err(invalid("name or domain must be set"));
    }
    Ok(st
        .db
        .read(move |c| {
            let n = !name.is_empty() && c.one("SELECT 1 FROM orgs WHERE instance_id = ? AND name_lower = ?", &params![&inst, &name])?.is_some();
            let d = !domain.is_empty() && c.one("SELECT 1 FROM org_domains WHERE instance_id = ? AND domain = ? AND is_verified = 1", &params![&inst, &domain])?.is_some();
            Ok(!n && !d)
        })
        .await?)
}

/// The instance's default organisation.
pub async fn default_org(st: &St, ctx: &Ctx) -> R<OrgRow> {
    let inst = ctx.instance_id.clone();
    Ok(st
        .db
        .read(move |c| {
            let id = c
                .one(
                    "SELECT default_org_id FROM instances WHERE id = ?",
                    &params![&inst],
                )?
                .map(|r| r.text(0))
                .transpose()?
                .unwrap_or_default();
            load(c, &inst, &id)
        })
        .await?)
}

pub async fn set_default(st: &St, ctx: &Ctx, org_id: &str) -> R<ObjectDetails> {
    let org_id = validate::required("orgId", org_id, validate::MAX_NAME)?;
    let key = ctx.instance_id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let o = load(tx.conn, &inst, &org_id)?;
            tx.push(
                agg::INSTANCE,
                &inst,
                &inst,
                vec![Payload::InstanceDefaultOrgSet { org_id: o.id }],
            )
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

// ---- organisation domains ----

pub(crate) fn domain_not_found(domain: &str) -> Error {
    Error::not_found("ORG-Dfd3x", "Errors.Org.Domain.NotFound").with(format!(
        "the domain {domain} is not a domain of the organisation"
    ))
}

/// A domain of an organisation as stored: (verified, primary).
fn load_domain(c: &mut dyn Conn, inst: &str, org: &str, domain: &str) -> Result<(bool, bool)> {
    let r = c
        .one(
            "SELECT is_verified, is_primary FROM org_domains WHERE instance_id = ? AND org_id = ? AND domain = ?",
            &params![inst, org, domain],
        )?
        .ok_or_else(|| domain_not_found(domain))?;
    Ok((r.int(0)? != 0, r.int(1)? != 0))
}

/// The domain named in a path or request: lower-cased and trimmed, must not be empty.
pub(crate) fn domain_arg(domain: &str) -> R<String> {
    Ok(validate::required("domain", &domain.to_lowercase(), 253)?)
}

/// AddOrgDomain: verified at once unless the instance validates org domains.
pub async fn add_domain(st: &St, ctx: &Ctx, org: &str, domain: &str) -> R<ObjectDetails> {
    let domain = validate::domain("domain", domain)?;
    change(st, ctx, org, move |tx, o| {
        let inst = tx.instance().to_string();
        if tx
            .one(
                "SELECT 1 FROM org_domains WHERE instance_id = ? AND domain = ? AND (is_verified = 1 OR org_id = ?)",
                &params![&inst, &domain, &o.id],
            )?
            .is_some()
        {
            return Err(
                Error::exists("ORG-dom41n", "Errors.Org.Domain.AlreadyExists")
                    .with(format!("the domain {domain} is taken")),
            );
        }
        let validate = super::policies::effective::<castellan_domain::policy::Domain>(
            tx.conn, &inst, &o.id,
        )?
        .settings
        .validate_org_domains;
        let mut evs = vec![Payload::OrgDomainAdded {
            domain: domain.clone(),
            generated: false,
        }];
        if !validate {
            evs.push(Payload::OrgDomainVerified {
                domain: domain.clone(),
            });
        }
        Ok(evs)
    })
    .await
}

/// Adds a domain as exported (ImportData): verified when it was, whatever the domain policy
/// says (the export vouches for the validation); the same checks as AddOrgDomain otherwise.
pub async fn import_domain(
    st: &St,
    ctx: &Ctx,
    org: &str,
    domain: &str,
    verified: bool,
) -> R<ObjectDetails> {
    let domain = validate::domain("domain", domain)?;
    change(st, ctx, org, move |tx, o| {
        let inst = tx.instance().to_string();
        if tx
            .one(
                "SELECT 1 FROM org_domains WHERE instance_id = ? AND domain = ? AND (is_verified = 1 OR org_id = ?)",
                &params![&inst, &domain, &o.id],
            )?
            .is_some()
        {
            return Err(
                Error::exists("ORG-dom41n", "Errors.Org.Domain.AlreadyExists")
                    .with(format!("the domain {domain} is taken")),
            );
        }
        let mut evs = vec![Payload::OrgDomainAdded {
            domain: domain.clone(),
            generated: false,
        }];
        if verified {
            evs.push(Payload::OrgDomainVerified {
                domain: domain.clone(),
            });
        }
        Ok(evs)
    })
    .await
}

/// RemoveOrgDomain: any domain but the primary one.
pub async fn remove_domain(st: &St, ctx: &Ctx, org: &str, domain: &str) -> R<ObjectDetails> {
    let domain = domain_arg(domain)?;
    change(st, ctx, org, move |tx, o| {
        let inst = tx.instance().to_string();
        let (_, primary) = load_domain(tx.conn, &inst, &o.id, &domain)?;
        if primary {
            return Err(
                Error::precondition("ORG-Sjdi3", "Errors.Org.Domain.PrimaryNotDeletable")
                    .with(format!("{domain} is the primary domain")),
            );
        }
        Ok(vec![Payload::OrgDomainRemoved {
            domain: domain.clone(),
        }])
    })
    .await
}

/// SetPrimaryOrgDomain: only a verified domain.
pub async fn set_primary_domain(st: &St, ctx: &Ctx, org: &str, domain: &str) -> R<ObjectDetails> {
    let domain = domain_arg(domain)?;
    change(st, ctx, org, move |tx, o| {
        let inst = tx.instance().to_string();
        let (verified, _) = load_domain(tx.conn, &inst, &o.id, &domain)?;
        if !verified {
            return Err(
                Error::precondition("ORG-Ggd32", "Errors.Org.Domain.NotVerified")
                    .with(format!("the domain {domain} is not verified")),
            );
        }
        Ok(vec![Payload::OrgDomainPrimarySet {
            domain: domain.clone(),
        }])
    })
    .await
}

/// ListOrgDomains: the domains of an organisation, by name.
pub async fn list_domains(
    st: &St,
    ctx: &Ctx,
    org: &str,
    page: Page,
    queries: &[pb::DomainSearchQuery],
) -> R<(i64, i64, Vec<pb::Domain>)> {
    use pb::domain_search_query::Query as Q;
    let mut f = Filter::new();
    f.and(
        "d.instance_id = ? AND d.org_id = ?",
        params![&ctx.instance_id, org],
    );
    for q in queries {
        match q
            .query
            .as_ref()
            .ok_or_else(|| invalid("a query must set one of its fields"))?
        {
            Q::DomainNameQuery(x) => {
                let (sql, v) = text("d.domain", x.method, &x.name)?;
                f.and(sql, vec![v]);
            }
        }
    }
    let tail = page.tail("d.domain", "d.domain");
    let (inst, org) = (ctx.instance_id.clone(), org.to_string());
    Ok(st
        .db
        .read(move |c| {
            load(c, &inst, &org)?;
            let (total, pos, rows) = super::query::page_rows(
                c,
                "d.org_id, d.domain, d.is_verified, d.is_primary, d.created_at, d.changed_at, o.seq, d.validation_type",
                "org_domains d JOIN orgs o ON o.instance_id = d.instance_id AND o.id = d.org_id",
                &f,
                &tail,
            )?;
            let out = rows
                .iter()
                .map(|r| {
                    let org_id = r.text(0)?;
                    Ok(pb::Domain {
                        details: details(r.int(6)?, r.int(4)?, r.int(5)?, &org_id),
                        org_id,
                        domain_name: r.text(1)?,
                        is_verified: r.int(2)? != 0,
                        is_primary: r.int(3)? != 0,
                        validation_type: r.int(7)? as i32,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((total, pos, out))
        })
        .await?)
}
