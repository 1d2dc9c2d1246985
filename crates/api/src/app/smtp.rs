//! SMTP configurations of the instance (admin API): add, change, activate (one at a time),
//! remove, and test by sending a real mail. Passwords are sealed with the masterkey before they
//! reach an event and are never returned.

use super::query::{page_rows, Filter, Page};
use crate::convert::{details, mutation};
use crate::ctx::Ctx;
use crate::error::R;
use crate::notify::{self, Mail, SmtpSettings};
use crate::state::St;
use castellan_domain::events::{agg, Payload, SmtpConfig};
use castellan_domain::{validate, Error, Result};
use castellan_proto::zitadel::settings::v1 as pb;
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::projection::smtp_state;
use castellan_store::{params, Conn, Row};

/// The settable fields of a configuration, as given by a request.
#[derive(Debug, Clone, Default)]
pub struct SmtpInput {
    pub sender_address: String,
    pub sender_name: String,
    pub reply_to_address: String,
    pub tls: bool,
    pub host: String,
    pub user: String,
    pub description: String,
}

const COLS: &str = "id, description, sender_address, sender_name, reply_to_address, tls, host, smtp_user, password_sealed, state, created_at, changed_at, seq";

fn not_found(id: &'static str) -> Error {
    Error::not_found(id, "Errors.SMTPConfig.NotFound")
}

/// Validates every field; errors name the field.
pub fn validated(i: &SmtpInput) -> Result<SmtpInput> {
    let sender_address = validate::email("sender_address", &i.sender_address)?;
    let reply_to_address = if i.reply_to_address.trim().is_empty() {
        String::new()
    } else {
        validate::email("reply_to_address", &i.reply_to_address)?
    };
    let host = validate::required("host", &i.host, 300)?;
    if notify::smtp::split_host(&host).is_none() {
        return Err(Error::invalid(
            "COMMAND-EvAtufIinh",
            "Errors.Invalid.Argument",
            format!("host must be host:port with a port from 1 to 65535 (got {host:?})"),
        ));
    }
    Ok(SmtpInput {
        sender_address,
        sender_name: validate::optional("sender_name", &i.sender_name, validate::MAX_NAME)?,
        reply_to_address,
        tls: i.tls,
        host,
        user: validate::optional("user", &i.user, 300)?,
        description: validate::optional("description", &i.description, validate::MAX_NAME)?,
    })
}

fn password(pw: &str) -> Result<&str> {
    if pw.chars().count() > 1000 {
        return Err(Error::invalid(
            "VALID-l3nG7",
            "Errors.Invalid.Argument",
            "password must be at most 1000 characters",
        ));
    }
    Ok(pw)
}

fn required_id(id: &str) -> Result<String> {
    validate::required("id", id, 200)
}

/// With the domain policy's `smtpSenderAddressMatchesInstanceDomain`, the sender's domain must
/// be a verified domain of an organisation of the instance (as ZITADEL).
fn check_sender(c: &mut dyn Conn, inst: &str, sender: &str) -> Result<()> {
    let on = c
        .one(
            "SELECT smtp_sender_matches_domain FROM instances WHERE id = ?",
            &params![inst],
        )?
        .map(|r| r.int(0))
        .transpose()?
        .unwrap_or(0);
    if on == 0 {
        return Ok(());
    }
    let domain = sender.rsplit_once('@').map(|x| x.1).unwrap_or_default();
    let verified = c
        .one(
            "SELECT 1 FROM org_domains WHERE instance_id = ? AND domain = ? AND is_verified = 1",
            &params![inst, domain],
        )?
        .is_some();
    if verified {
        Ok(())
    } else {
        Err(Error::invalid(
            "INST-xtWIiR2ZbR",
            "Errors.SMTPConfig.SenderAdressNotCustomDomain",
            format!("sender_address: {domain} is not a verified domain of an organisation of this instance"),
        ))
    }
}

/// A stored configuration with its sealed password.
#[derive(Debug, Clone)]
struct Stored {
    cfg: SmtpConfig,
    state: i64,
    created: i64,
    changed: i64,
    seq: i64,
}

fn stored(r: &Row) -> Result<Stored> {
    Ok(Stored {
        cfg: SmtpConfig {
            id: r.text(0)?,
            description: r.text(1)?,
            sender_address: r.text(2)?,
            sender_name: r.text(3)?,
            reply_to_address: r.text(4)?,
            tls: r.int(5)? != 0,
            host: r.text(6)?,
            user: r.text(7)?,
            password: Some(r.text(8)?),
        },
        state: r.int(9)?,
        created: r.int(10)?,
        changed: r.int(11)?,
        seq: r.int(12)?,
    })
}

fn load(c: &mut dyn Conn, inst: &str, id: &str) -> Result<Option<Stored>> {
    c.one(
        &format!("SELECT {COLS} FROM smtp_configs WHERE instance_id = ? AND id = ?"),
        &params![inst, id],
    )?
    .map(|r| stored(&r))
    .transpose()
}

fn to_pb(s: &Stored, inst: &str) -> pb::SmtpConfig {
    pb::SmtpConfig {
        details: details(s.seq, s.created, s.changed, inst),
        sender_address: s.cfg.sender_address.clone(),
        sender_name: s.cfg.sender_name.clone(),
        tls: s.cfg.tls,
        host: s.cfg.host.clone(),
        user: s.cfg.user.clone(),
        reply_to_address: s.cfg.reply_to_address.clone(),
        state: s.state as i32,
        description: s.cfg.description.clone(),
        id: s.cfg.id.clone(),
    }
}

fn seal(st: &St, pw: &str) -> Result<String> {
    if pw.is_empty() {
        return Ok(String::new());
    }
    st.smtp_cipher()?.encrypt(pw.as_bytes())
}

fn settings(i: &SmtpInput) -> SmtpConfig {
    SmtpConfig {
        id: String::new(),
        description: i.description.clone(),
        sender_address: i.sender_address.clone(),
        sender_name: i.sender_name.clone(),
        reply_to_address: i.reply_to_address.clone(),
        tls: i.tls,
        host: i.host.clone(),
        user: i.user.clone(),
        password: None,
    }
}

/// Adds an inactive configuration; returns its details and id.
pub async fn add(st: &St, ctx: &Ctx, input: &SmtpInput, pw: &str) -> R<(ObjectDetails, String)> {
    let i = validated(input)?;
    let sealed = seal(st, password(pw)?)?;
    let id = st.ids.next();
    let mut cfg = settings(&i);
    cfg.id = id.clone();
    cfg.password = Some(sealed);
    let key = ctx.instance_id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            check_sender(tx.conn, &inst, &cfg.sender_address)?;
            tx.push(
                agg::INSTANCE,
                &inst,
                &inst,
                vec![Payload::SmtpConfigAdded(cfg.clone())],
            )
        })
        .await?;
    Ok((mutation(&evs, true).unwrap_or_default(), id))
}

/// Replaces the settings of a configuration; a non-empty password replaces the stored one.
pub async fn update(st: &St, ctx: &Ctx, id: &str, input: &SmtpInput, pw: &str) -> R<ObjectDetails> {
    let id = required_id(id)?;
    let i = validated(input)?;
    let sealed = if pw.is_empty() {
        None
    } else {
        Some(seal(st, password(pw)?)?)
    };
    let mut cfg = settings(&i);
    cfg.id = id.clone();
    cfg.password = sealed;
    let key = ctx.instance_id.clone();
    let (evs, unchanged) = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let cur = load(tx.conn, &inst, &id)?.ok_or_else(|| not_found("COMMAND-j5IDFtt3T1"))?;
            check_sender(tx.conn, &inst, &cfg.sender_address)?;
            let mut same = cur.cfg.clone();
            same.password = None;
            if same == cfg {
                return Ok((
                    Vec::new(),
                    details(cur.seq, cur.created, cur.changed, &inst),
                ));
            }
            let evs = tx.push(
                agg::INSTANCE,
                &inst,
                &inst,
                vec![Payload::SmtpConfigChanged(cfg.clone())],
            )?;
            Ok((evs, None))
        })
        .await?;
    Ok(unchanged
        .or_else(|| mutation(&evs, false))
        .unwrap_or_default())
}

/// Replaces the password (an empty one removes it).
pub async fn update_password(st: &St, ctx: &Ctx, id: &str, pw: &str) -> R<ObjectDetails> {
    let id = required_id(id)?;
    let sealed = seal(st, password(pw)?)?;
    let key = ctx.instance_id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            load(tx.conn, &inst, &id)?.ok_or_else(|| not_found("COMMAND-rDHzqjGuKQ"))?;
            tx.push(
                agg::INSTANCE,
                &inst,
                &inst,
                vec![Payload::SmtpConfigPasswordChanged {
                    id: id.clone(),
                    password: sealed.clone(),
                }],
            )
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

/// What a state change wants.
#[derive(Clone, Copy)]
enum Op {
    Activate,
    Deactivate,
    Remove,
}

async fn state_change(st: &St, ctx: &Ctx, id: &str, op: Op) -> R<ObjectDetails> {
    let id = required_id(id)?;
    let key = ctx.instance_id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let missing = match op {
                Op::Activate => "COMMAND-E9K20hxOS9",
                Op::Deactivate => "COMMAND-k39PJ",
                Op::Remove => "COMMAND-09CXlTDL6w",
            };
            let cur = load(tx.conn, &inst, &id)?.ok_or_else(|| not_found(missing))?;
            let p = match op {
                Op::Activate if cur.state == smtp_state::ACTIVE => {
                    return Err(Error::precondition(
                        "COMMAND-vUHBSmBzaw",
                        "Errors.SMTPConfig.AlreadyActive",
                    ))
                }
                Op::Deactivate if cur.state != smtp_state::ACTIVE => {
                    return Err(Error::precondition(
                        "COMMAND-km8g3",
                        "Errors.SMTPConfig.AlreadyDeactivated",
                    ))
                }
                Op::Activate => Payload::SmtpConfigActivated { id: id.clone() },
                Op::Deactivate => Payload::SmtpConfigDeactivated { id: id.clone() },
                Op::Remove => Payload::SmtpConfigRemoved { id: id.clone() },
            };
            tx.push(agg::INSTANCE, &inst, &inst, vec![p])
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

/// Activates a configuration; the one active before becomes inactive.
pub async fn activate(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    state_change(st, ctx, id, Op::Activate).await
}

pub async fn deactivate(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    state_change(st, ctx, id, Op::Deactivate).await
}

pub async fn remove(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    state_change(st, ctx, id, Op::Remove).await
}

async fn read_one(st: &St, ctx: &Ctx, id: Option<String>) -> R<Option<Stored>> {
    let inst = ctx.instance_id.clone();
    Ok(st
        .db
        .read(move |c| match id {
            Some(id) => load(c, &inst, &id),
            None => c
                .one(
                    &format!("SELECT {COLS} FROM smtp_configs WHERE instance_id = ? AND state = ?"),
                    &params![&inst, smtp_state::ACTIVE],
                )?
                .map(|r| stored(&r))
                .transpose(),
        })
        .await?)
}

/// The active configuration.
pub async fn get_active(st: &St, ctx: &Ctx) -> R<pb::SmtpConfig> {
    let s = read_one(st, ctx, None)
        .await?
        .ok_or_else(|| not_found("QUERY-fwqws"))?;
    Ok(to_pb(&s, &ctx.instance_id))
}

pub async fn get(st: &St, ctx: &Ctx, id: &str) -> R<pb::SmtpConfig> {
    let id = required_id(id)?;
    let s = read_one(st, ctx, Some(id))
        .await?
        .ok_or_else(|| not_found("QUERY-8Jfk3"))?;
    Ok(to_pb(&s, &ctx.instance_id))
}

/// The instance's configurations, newest first unless `asc`.
pub async fn list(st: &St, ctx: &Ctx, page: Page) -> R<(i64, i64, Vec<pb::SmtpConfig>)> {
    let mut f = Filter::new();
    f.and("instance_id = ?", params![&ctx.instance_id]);
    let tail = page.tail("created_at", "id");
    let inst = ctx.instance_id.clone();
    Ok(st
        .db
        .read(move |c| {
            let (total, pos, rows) = page_rows(c, COLS, "smtp_configs", &f, &tail)?;
            let out = rows
                .iter()
                .map(|r| Ok(to_pb(&stored(r)?, &inst)))
                .collect::<Result<Vec<_>>>()?;
            Ok((total, pos, out))
        })
        .await?)
}

fn test_mail(receiver: &str) -> Result<Mail> {
    if receiver.trim().is_empty() {
        return Err(Error::invalid(
            "SMTP-p9uy",
            "Errors.SMTPConfig.TestEmailNotFound",
            "receiver_address must not be empty",
        ));
    }
    Ok(Mail {
        to: validate::email("receiver_address", receiver)?,
        subject: "SMTP configuration test".into(),
        body: "This is a test mail from Castellan: the SMTP configuration works.\r\n".into(),
    })
}

/// Sends a test mail with the given settings (nothing is stored). With `id` and an empty
/// password, the stored password of that configuration is used.
pub async fn test(
    st: &St,
    ctx: &Ctx,
    input: &SmtpInput,
    pw: &str,
    id: &str,
    receiver: &str,
) -> R<()> {
    let mail = test_mail(receiver)?;
    let i = validated(input)?;
    let mut pw = password(pw)?.to_string();
    if pw.is_empty() && !id.trim().is_empty() {
        if let Some(s) = read_one(st, ctx, Some(id.trim().to_string())).await? {
            pw = unseal(st, &s)?;
        }
    }
    let s = SmtpSettings {
        host: i.host,
        tls: i.tls,
        user: i.user,
        password: pw,
        sender_address: i.sender_address,
        sender_name: i.sender_name,
        reply_to_address: i.reply_to_address,
    };
    Ok(notify::send(&s, &mail, st.cfg.smtp_timeout).await?)
}

fn unseal(st: &St, s: &Stored) -> Result<String> {
    match s.cfg.password.as_deref() {
        None | Some("") => Ok(String::new()),
        Some(sealed) => st.smtp_cipher()?.decrypt_string(sealed),
    }
}

/// Sends a test mail with a stored configuration.
pub async fn test_by_id(st: &St, ctx: &Ctx, id: &str, receiver: &str) -> R<()> {
    let id = validate::required("id", id, 200).map_err(|e| Error {
        id: "SMTP-99oki",
        ..e
    })?;
    let mail = test_mail(receiver)?;
    let s = read_one(st, ctx, Some(id))
        .await?
        .ok_or_else(|| not_found("SMTP-99klw"))?;
    let settings = SmtpSettings {
        password: unseal(st, &s)?,
        host: s.cfg.host,
        tls: s.cfg.tls,
        user: s.cfg.user,
        sender_address: s.cfg.sender_address,
        sender_name: s.cfg.sender_name,
        reply_to_address: s.cfg.reply_to_address,
    };
    Ok(notify::send(&settings, &mail, st.cfg.smtp_timeout).await?)
}
