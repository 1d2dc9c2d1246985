//! Instances as the system API sees them: creating one with its first organisation and
//! administrator, listing, renaming, removing, and their domains. The first instance is made
//! the same way (`setup::init_first_instance`).

use super::query::{in_list, Filter, Page};
use super::users::{push_human, NewHuman};
use crate::convert::{details, mutation};
use crate::ctx::Ctx;
use crate::error::{invalid, R};
use crate::state::St;
use castellan_domain::events::{agg, Payload, PolicyOp};
use castellan_domain::{validate, Error, Result};
use castellan_proto::zitadel::instance::v1 as pb;
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::{params, Author, Conn, Event, Tx};

/// A machine administrator of a new instance.
#[derive(Debug, Clone)]
pub struct MachineOwner {
    pub username: String,
    pub name: String,
    /// A personal access token with this expiry (microseconds) is created when set.
    pub pat_expiry: Option<i64>,
    /// A JSON key with this expiry (microseconds) is created when set.
    pub key_expiry: Option<i64>,
}

/// Everything a new instance is made of.
#[derive(Debug, Clone)]
pub struct InstanceSpec {
    pub name: String,
    pub org_name: String,
    /// The generated domain (the external domain itself for the first instance).
    pub generated_domain: String,
    /// A further domain, made primary.
    pub custom_domain: Option<String>,
    pub default_language: String,
    /// The human administrator (validated, with its password hash).
    pub human: Option<(NewHuman, String)>,
    pub machine: Option<MachineOwner>,
    pub user_login_must_be_domain: bool,
    pub validate_org_domains: bool,
}

/// What creating an instance hands back once.
#[derive(Debug, Clone, Default)]
pub struct Created {
    pub instance_id: String,
    pub org_id: String,
    pub human_id: String,
    pub machine_id: String,
    pub pat_id: String,
    pub pat: Option<String>,
    /// The JSON key file of the machine administrator.
    pub key_file: Option<Vec<u8>>,
    pub details: ObjectDetails,
}

fn not_found(id: &str) -> Error {
    Error::not_found("INST-n0tF1", "Errors.Instance.NotFound").with(format!("instance {id}"))
}

/// A generated instance domain: `<name>-<6 random characters>.<external domain>`.
pub fn generated_domain(name: &str, external: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let label = super::orgs::dns_label(name, 40, "instance");
    let suffix: String = castellan_domain::id::random_bytes::<6>()
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("{label}-{suffix}.{external}")
}

fn domain_taken(c: &mut dyn Conn, domain: &str) -> Result<bool> {
    Ok(c.one(
        "SELECT 1 FROM instance_domains WHERE domain = ?",
        &params![domain],
    )?
    .is_some())
}

fn ensure_domain_free(c: &mut dyn Conn, domain: &str) -> Result<()> {
    if domain_taken(c, domain)? {
        return Err(
            Error::exists("INST-d0m3x", "Errors.Instance.Domain.AlreadyExists")
                .with(format!("the domain {domain} already serves an instance")),
        );
    }
    Ok(())
}

/// Creates an instance inside an open command: the instance, its domains and domain policy,
/// the first organisation, and the administrators with their credentials.
pub fn push_instance(
    tx: &mut Tx<'_>,
    ids: &Created,
    spec: &InstanceSpec,
    external_domain: &str,
    key: Option<(&str, &str)>,
) -> Result<Vec<Event>> {
    let iid = ids.instance_id.clone();
    let mut domains = vec![spec.generated_domain.clone()];
    domains.extend(spec.custom_domain.clone());
    for d in &domains {
        ensure_domain_free(tx.conn, d)?;
    }
    let mut payloads = vec![Payload::InstanceAdded {
        name: spec.name.clone(),
    }];
    for (i, d) in domains.iter().enumerate() {
        payloads.push(Payload::InstanceDomainAdded {
            domain: d.clone(),
            generated: i == 0,
        });
    }
    let domain_policy = castellan_domain::policy::Domain {
        user_login_must_be_domain: spec.user_login_must_be_domain,
        validate_org_domains: spec.validate_org_domains,
        smtp_sender_address_matches_instance_domain: true,
    };
    payloads.push(super::policies::event(
        false,
        PolicyOp::Added,
        &domain_policy,
    )?);
    payloads.push(Payload::InstanceDomainPrimarySet {
        domain: domains.last().cloned().unwrap_or_default(),
    });
    if spec.default_language != "en" {
        payloads.push(Payload::InstanceDefaultLanguageSet {
            language: spec.default_language.clone(),
        });
    }
    let mut evs = tx.push(agg::INSTANCE, &iid, &iid, payloads)?;
    let org = ids.org_id.clone();
    evs.extend(super::orgs::create(
        tx,
        &org,
        &spec.org_name,
        external_domain,
        None,
    )?);
    evs.extend(tx.push(
        agg::INSTANCE,
        &iid,
        &iid,
        vec![Payload::InstanceDefaultOrgSet {
            org_id: org.clone(),
        }],
    )?);
    let mut owners = Vec::new();
    if let Some((h, hash)) = &spec.human {
        evs.extend(push_human(tx, &ids.human_id, &org, h, hash)?);
        owners.push(ids.human_id.clone());
    }
    if let Some(m) = &spec.machine {
        let login = super::users::login_name(tx.conn, &iid, &org, &m.username)?;
        evs.extend(tx.push(
            agg::USER,
            &ids.machine_id,
            &org,
            vec![Payload::MachineAdded {
                user_name: m.username.clone(),
                login_name: login,
                name: m.name.clone(),
                description: String::new(),
                access_token_type: 0,
            }],
        )?);
        if let (Some(token), Some(exp)) = (&ids.pat, m.pat_expiry) {
            evs.extend(super::tokens::push_pat(
                tx,
                &ids.pat_id,
                token,
                &ids.machine_id,
                &org,
                exp,
            )?);
        }
        if let (Some((key_id, public)), Some(exp)) = (key, m.key_expiry) {
            evs.extend(tx.push(
                agg::USER,
                &ids.machine_id,
                &org,
                vec![Payload::MachineKeyAdded {
                    key_id: key_id.to_string(),
                    key_type: 1,
                    expiration: exp,
                    public_key: public.to_string(),
                }],
            )?);
        }
        owners.push(ids.machine_id.clone());
    }
    for user in owners {
        evs.extend(tx.push(
            agg::INSTANCE,
            &iid,
            &iid,
            vec![Payload::InstanceMemberAdded {
                user_id: user.clone(),
                roles: vec!["IAM_OWNER".into()],
            }],
        )?);
        evs.extend(tx.push(
            agg::ORG,
            &org,
            &org,
            vec![Payload::OrgMemberAdded {
                user_id: user,
                roles: vec!["ORG_OWNER".into()],
            }],
        )?);
    }
    Ok(evs)
}

/// Creates an instance (system API AddInstance / CreateInstance).
pub async fn create(st: &St, creator: &str, spec: InstanceSpec) -> R<Created> {
    let mut ids = Created {
        instance_id: st.ids.next(),
        org_id: st.ids.next(),
        human_id: spec
            .human
            .as_ref()
            .and_then(|(h, _)| h.user_id.clone())
            .unwrap_or_else(|| st.ids.next()),
        machine_id: st.ids.next(),
        pat_id: st.ids.next(),
        ..Default::default()
    };
    let machine = spec.machine.clone();
    ids.pat = machine
        .as_ref()
        .and_then(|m| m.pat_expiry)
        .map(|_| super::tokens::random_token());
    let mut key: Option<(String, String)> = None;
    if let Some(exp) = machine.as_ref().and_then(|m| m.key_expiry) {
        let (private, public) = tokio::task::spawn_blocking(super::tokens::generate_rsa)
            .await
            .map_err(|e| Error::internal("INST-k3y01", e.to_string()))??;
        let key_id = st.ids.next();
        ids.key_file = Some(super::tokens::key_file(
            &key_id,
            &ids.machine_id,
            exp,
            &private,
        ));
        key = Some((key_id, public));
    }
    let author = Author {
        instance_id: ids.instance_id.clone(),
        creator: creator.to_string(),
    };
    let ext = st.cfg.external_domain.clone();
    let ids2 = ids.clone();
    let evs = st
        .db
        .command(&ids.instance_id.clone(), author, move |tx| {
            let k = key.as_ref().map(|(a, b)| (a.as_str(), b.as_str()));
            push_instance(tx, &ids2, &spec, &ext, k)
        })
        .await?;
    ids.details = mutation(&evs, true).unwrap_or_default();
    Ok(ids)
}

/// Validates an instance name.
pub fn name(field: &'static str, name: &str) -> Result<String> {
    validate::required(field, name, validate::MAX_NAME)
}

/// Loads the domains of `instance` as messages.
fn domains_of(c: &mut dyn Conn, instance: &str, seq: i64) -> Result<Vec<pb::Domain>> {
    c.query(
        "SELECT domain, is_primary, is_generated, created_at FROM instance_domains WHERE instance_id = ? ORDER BY domain",
        &params![instance],
    )?
    .iter()
    .map(|d| {
        Ok(pb::Domain {
            details: details(seq, d.int(3)?, d.int(3)?, instance),
            domain: d.text(0)?,
            primary: d.bool(1)?,
            generated: d.bool(2)?,
        })
    })
    .collect()
}

fn sort_col(col: i32) -> &'static str {
    match col {
        1 => "id",
        2 => "name",
        _ => "created_at",
    }
}

/// ListInstances: every instance of the installation, filtered and paged.
pub async fn list(
    st: &St,
    page: Page,
    sorting: i32,
    queries: &[pb::Query],
) -> R<(i64, i64, Vec<pb::Instance>)> {
    use pb::query::Query as Q;
    let mut f = Filter::new();
    for q in queries {
        match q
            .query
            .as_ref()
            .ok_or_else(|| invalid("a query must set one of its fields"))?
        {
            Q::IdQuery(x) => {
                let (sql, v) = in_list("id", &x.ids);
                f.and(sql, v);
            }
            Q::DomainQuery(x) => {
                let domains: Vec<String> = x.domains.iter().map(|d| d.to_lowercase()).collect();
                let (sql, v) = in_list("domain", &domains);
                f.and(
                    format!("id IN (SELECT instance_id FROM instance_domains WHERE {sql})"),
                    v,
                );
            }
        }
    }
    let tail = page.tail(sort_col(sorting), "id");
    Ok(st
        .db
        .read(move |c| {
            let (total, pos, rows) = super::query::page_rows(
                c,
                "id, name, created_at, changed_at, seq",
                "instances",
                &f,
                &tail,
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let id = r.text(0)?;
                let seq = r.int(4)?;
                out.push(pb::Instance {
                    details: details(seq, r.int(2)?, r.int(3)?, &id),
                    name: r.text(1)?,
                    state: pb::State::Running as i32,
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    domains: domains_of(c, &id, seq)?,
                    id,
                });
            }
            Ok((total, pos, out))
        })
        .await?)
}

/// Checks that `id` names an existing instance.
pub async fn exists(st: &St, id: &str) -> R<()> {
    let id = id.trim().to_string();
    if id.is_empty() {
        return Err(invalid("instanceId is required"));
    }
    let i = id.clone();
    let found = st
        .db
        .read(move |c| {
            Ok(c.one("SELECT 1 FROM instances WHERE id = ?", &params![&i])?
                .is_some())
        })
        .await?;
    if found {
        Ok(())
    } else {
        Err(not_found(&id).into())
    }
}

/// A context acting on instance `id` as the system user of `ctx`.
pub fn on_instance(ctx: &Ctx, id: &str) -> Ctx {
    Ctx {
        instance_id: id.trim().to_string(),
        ..ctx.clone()
    }
}

/// Runs a command on the aggregate of instance `id` (which must exist).
async fn change<F>(st: &St, ctx: &Ctx, id: &str, f: F) -> R<Vec<Event>>
where
    F: Fn(&mut Tx<'_>) -> Result<Vec<Payload>> + Send + Sync + 'static,
{
    exists(st, id).await?;
    let ctx = on_instance(ctx, id);
    let iid = ctx.instance_id.clone();
    Ok(st
        .db
        .command(&iid.clone(), ctx.author(), move |tx| {
            if tx
                .one("SELECT 1 FROM instances WHERE id = ?", &params![&iid])?
                .is_none()
            {
                return Err(not_found(&iid));
            }
            let payloads = f(tx)?;
            tx.push(agg::INSTANCE, &iid, &iid, payloads)
        })
        .await?)
}

/// UpdateInstance: renames the instance.
pub async fn update(st: &St, ctx: &Ctx, id: &str, new_name: &str) -> R<ObjectDetails> {
    let n = name("instanceName", new_name)?;
    let evs = change(st, ctx, id, move |_| {
        Ok(vec![Payload::InstanceChanged { name: n.clone() }])
    })
    .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

/// RemoveInstance: the instance and everything in it; its domains are free again.
pub async fn remove(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    let evs = change(st, ctx, id, move |tx| {
        let iid = tx.instance().to_string();
        let name = tx
            .one("SELECT name FROM instances WHERE id = ?", &params![&iid])?
            .map(|r| r.text(0))
            .transpose()?
            .unwrap_or_default();
        Ok(vec![Payload::InstanceRemoved { name }])
    })
    .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

fn domain_row(c: &mut dyn Conn, inst: &str, domain: &str) -> Result<Option<(bool, bool)>> {
    c.one(
        "SELECT is_primary, is_generated FROM instance_domains WHERE instance_id = ? AND domain = ?",
        &params![inst, domain],
    )?
    .map(|r| Ok((r.bool(0)?, r.bool(1)?)))
    .transpose()
}

fn domain_not_found(domain: &str) -> Error {
    Error::not_found("INST-d0m4n", "Errors.Instance.Domain.NotFound")
        .with(format!("the instance has no domain {domain}"))
}

/// AddDomain: a further domain the instance answers on (unique across all instances).
pub async fn add_domain(st: &St, ctx: &Ctx, id: &str, domain: &str) -> R<ObjectDetails> {
    let domain = validate::domain("domain", domain)?;
    let evs = change(st, ctx, id, move |tx| {
        ensure_domain_free(tx.conn, &domain)?;
        Ok(vec![Payload::InstanceDomainAdded {
            domain: domain.clone(),
            generated: false,
        }])
    })
    .await?;
    Ok(mutation(&evs, true).unwrap_or_default())
}

/// RemoveDomain: neither the generated nor the primary domain can go.
pub async fn remove_domain(st: &St, ctx: &Ctx, id: &str, domain: &str) -> R<ObjectDetails> {
    let domain = validate::required("domain", &domain.trim().to_lowercase(), 253)?;
    let evs = change(st, ctx, id, move |tx| {
        let iid = tx.instance().to_string();
        match domain_row(tx.conn, &iid, &domain)? {
            None => Err(domain_not_found(&domain)),
            Some((_, true)) => Err(Error::precondition(
                "INST-g3n01",
                "Errors.Instance.Domain.GeneratedNotRemovable",
            )
            .with(format!("{domain} is the generated domain"))),
            Some((true, _)) => Err(Error::precondition(
                "INST-pr1m1",
                "Errors.Instance.Domain.PrimaryNotRemovable",
            )
            .with(format!("{domain} is the primary domain"))),
            Some(_) => Ok(vec![Payload::InstanceDomainRemoved {
                domain: domain.clone(),
            }]),
        }
    })
    .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

/// SetPrimaryDomain: one of the instance's domains becomes primary.
pub async fn set_primary_domain(st: &St, ctx: &Ctx, id: &str, domain: &str) -> R<ObjectDetails> {
    let domain = validate::required("domain", &domain.trim().to_lowercase(), 253)?;
    let evs = change(st, ctx, id, move |tx| {
        let iid = tx.instance().to_string();
        if domain_row(tx.conn, &iid, &domain)?.is_none() {
            return Err(domain_not_found(&domain));
        }
        Ok(vec![Payload::InstanceDomainPrimarySet {
            domain: domain.clone(),
        }])
    })
    .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

/// ExistsDomain: whether any instance serves `domain`.
pub async fn domain_exists(st: &St, domain: &str) -> R<bool> {
    let domain = validate::required("domain", &domain.trim().to_lowercase(), 253)?;
    Ok(st.db.read(move |c| domain_taken(c, &domain)).await?)
}

/// The administrator of a new instance as requested (before validation).
#[derive(Debug, Clone, Default)]
pub struct OwnerInput {
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub first_name: String,
    pub last_name: String,
    pub preferred_language: String,
    pub password: String,
    pub password_change_required: bool,
}

/// The parts of a new instance as requested (before validation).
#[derive(Debug, Clone, Default)]
pub struct InstanceInput {
    pub name: String,
    pub org_name: String,
    pub custom_domain: String,
    pub default_language: String,
    pub human: Option<OwnerInput>,
    pub machine: Option<MachineOwner>,
}

/// Validates a requested instance: names, domain, language, and the administrator, whose
/// password (generated when none is given, to be changed at first login) is hashed here.
pub async fn spec(st: &St, i: InstanceInput) -> R<InstanceSpec> {
    let name = name("instanceName", &i.name)?;
    let org_name = if i.org_name.trim().is_empty() {
        "ZITADEL".to_string()
    } else {
        validate::required("firstOrgName", &i.org_name, validate::MAX_NAME)?
    };
    let custom_domain = if i.custom_domain.trim().is_empty() {
        None
    } else {
        Some(validate::domain("customDomain", &i.custom_domain)?)
    };
    let default_language = if i.default_language.trim().is_empty() {
        "en".to_string()
    } else {
        let l = i.default_language.trim().to_lowercase();
        if !super::instance::SUPPORTED_LANGUAGES.contains(&l.as_str()) {
            return Err(Error::invalid(
                "INST-LANG2",
                "Errors.Language.NotSupported",
                format!(
                    "defaultLanguage {l} is not supported (supported: {})",
                    super::instance::SUPPORTED_LANGUAGES.join(", ")
                ),
            )
            .into());
        }
        l
    };
    let human = match i.human {
        None => None,
        Some(o) => {
            let generated = o.password.is_empty();
            let password = if generated {
                super::setup::random_password()
            } else {
                o.password.clone()
            };
            let or = |v: &str, d: &str| {
                if v.trim().is_empty() {
                    d.to_string()
                } else {
                    v.to_string()
                }
            };
            let h = NewHuman {
                username: or(&o.username, &o.email),
                profile: castellan_domain::events::Profile {
                    first_name: or(&o.first_name, "ZITADEL"),
                    last_name: or(&o.last_name, "Admin"),
                    preferred_language: o.preferred_language.clone(),
                    ..Default::default()
                },
                email: o.email.clone(),
                email_verified: o.email_verified,
                password,
                password_change_required: o.password_change_required || generated,
                ..Default::default()
            };
            Some(super::users::prepare_human(st, "", "", h).await?)
        }
    };
    let machine = match i.machine {
        None => None,
        Some(mut m) => {
            if m.username.trim().is_empty() {
                m.username = "zitadel-admin-sa".into();
            }
            m.username = validate::username("machine.userName", &m.username)?;
            m.name = if m.name.trim().is_empty() {
                m.username.clone()
            } else {
                validate::required("machine.name", &m.name, validate::MAX_NAME)?
            };
            Some(m)
        }
    };
    if human.is_none() && machine.is_none() {
        return Err(invalid("an owner (human or machine) is required"));
    }
    Ok(InstanceSpec {
        generated_domain: generated_domain(&name, &st.cfg.external_domain),
        name,
        org_name,
        custom_domain,
        default_language,
        human,
        machine,
        user_login_must_be_domain: st.cfg.user_login_must_be_domain,
        validate_org_domains: st.cfg.validate_org_domains,
    })
}
