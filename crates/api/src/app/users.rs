//! Users: commands and queries for human and machine users.

use super::query::{in_list, text, Filter, Page};
use crate::convert::{details, mutation, ts};
use crate::ctx::Ctx;
use crate::error::{invalid, R};
use crate::state::St;
use castellan_domain::events::{agg, HumanAdded, Payload, Profile};
use castellan_domain::{validate, Error, Kind, Result};
use castellan_proto::zitadel::user::v1 as pb;
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::projection::{user_state, HUMAN, MACHINE};
use castellan_store::{params, Conn, Row, Tx, Value};

/// A user as stored in the read model.
#[derive(Debug, Clone, Default)]
pub struct UserRow {
    pub id: String,
    pub org_id: String,
    pub kind: i64,
    pub state: i64,
    pub username: String,
    pub login_name: String,
    pub profile: Profile,
    pub email: String,
    pub email_verified: bool,
    pub phone: String,
    pub phone_verified: bool,
    pub password_hash: String,
    pub password_change_required: bool,
    pub password_changed_at: i64,
    pub machine_name: String,
    pub machine_description: String,
    pub access_token_type: i64,
    pub has_secret: bool,
    /// Store key of the avatar (assets API), empty without one.
    pub avatar_key: String,
    pub created_at: i64,
    pub changed_at: i64,
    pub seq: i64,
}

/// Columns selected for a `UserRow`, in `from_row` order.
pub const COLS: &str = "id, org_id, kind, state, username, login_name, first_name, last_name, nick_name, display_name, preferred_language, \
    gender, email, email_verified, phone, phone_verified, password_hash, password_change_required, password_changed_at, machine_name, \
    machine_description, access_token_type, secret_hash, created_at, changed_at, seq, avatar_key";

impl UserRow {
    pub fn from_row(r: &Row) -> Result<Self> {
        Ok(UserRow {
            id: r.text(0)?,
            org_id: r.text(1)?,
            kind: r.int(2)?,
            state: r.int(3)?,
            username: r.text(4)?,
            login_name: r.text(5)?,
            profile: Profile {
                first_name: r.text(6)?,
                last_name: r.text(7)?,
                nick_name: r.text(8)?,
                display_name: r.text(9)?,
                preferred_language: r.text(10)?,
                gender: r.int(11)? as i32,
            },
            email: r.text(12)?,
            email_verified: r.bool(13)?,
            phone: r.text(14)?,
            phone_verified: r.bool(15)?,
            password_hash: r.text(16)?,
            password_change_required: r.bool(17)?,
            password_changed_at: r.int(18)?,
            machine_name: r.text(19)?,
            machine_description: r.text(20)?,
            access_token_type: r.int(21)?,
            has_secret: !r.text(22)?.is_empty(),
            created_at: r.int(23)?,
            changed_at: r.int(24)?,
            seq: r.int(25)?,
            avatar_key: r.text(26)?,
        })
    }

    pub fn details(&self) -> Option<ObjectDetails> {
        details(self.seq, self.created_at, self.changed_at, &self.org_id)
    }

    /// Display name for member lists and change logs.
    pub fn display(&self) -> String {
        if self.kind == MACHINE {
            return self.machine_name.clone();
        }
        if !self.profile.display_name.is_empty() {
            return self.profile.display_name.clone();
        }
        format!("{} {}", self.profile.first_name, self.profile.last_name)
            .trim()
            .to_string()
    }

    pub fn to_pb(&self) -> pb::User {
        let r#type = if self.kind == HUMAN {
            pb::user::Type::Human(pb::Human {
                profile: Some(self.profile_pb()),
                email: Some(pb::Email {
                    email: self.email.clone(),
                    is_email_verified: self.email_verified,
                }),
                phone: Some(pb::Phone {
                    phone: self.phone.clone(),
                    is_phone_verified: self.phone_verified,
                }),
                password_changed: ts(self.password_changed_at),
            })
        } else {
            pb::user::Type::Machine(pb::Machine {
                name: self.machine_name.clone(),
                description: self.machine_description.clone(),
                has_secret: self.has_secret,
                access_token_type: self.access_token_type as i32,
            })
        };
        pb::User {
            id: self.id.clone(),
            details: self.details(),
            state: self.state as i32,
            user_name: self.username.clone(),
            login_names: vec![self.login_name.clone()],
            preferred_login_name: self.login_name.clone(),
            r#type: Some(r#type),
        }
    }

    pub fn profile_pb(&self) -> pb::Profile {
        let p = &self.profile;
        pb::Profile {
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            nick_name: p.nick_name.clone(),
            display_name: p.display_name.clone(),
            preferred_language: p.preferred_language.clone(),
            gender: p.gender,
            avatar_url: crate::assets::url(&self.org_id, &self.avatar_key),
        }
    }
}

fn not_found() -> Error {
    Error::not_found("QUERY-Dfbg2", "Errors.User.NotFound")
}

/// Loads a user of the instance, optionally only if it belongs to `org`.
pub fn load(c: &mut dyn Conn, instance: &str, id: &str, org: Option<&str>) -> Result<UserRow> {
    let row = match org {
        Some(o) => c.one(
            &format!("SELECT {COLS} FROM users WHERE instance_id = ? AND id = ? AND org_id = ?"),
            &params![instance, id, o],
        )?,
        None => c.one(
            &format!("SELECT {COLS} FROM users WHERE instance_id = ? AND id = ?"),
            &params![instance, id],
        )?,
    };
    row.as_ref()
        .map(UserRow::from_row)
        .transpose()?
        .ok_or_else(not_found)
}

fn load_tx(tx: &mut Tx<'_>, id: &str, org: &str) -> Result<UserRow> {
    let inst = tx.instance().to_string();
    load(tx.conn, &inst, id, Some(org))
}

fn human(u: UserRow) -> Result<UserRow> {
    if u.kind != HUMAN {
        return Err(Error::precondition("USER-hum4n", "Errors.User.NotHuman"));
    }
    Ok(u)
}

fn machine(u: UserRow) -> Result<UserRow> {
    if u.kind != MACHINE {
        return Err(Error::precondition("USER-m4ch1", "Errors.User.NotMachine"));
    }
    Ok(u)
}

/// The login name of `username` in `org` under the domain policy in force there: with
/// `userLoginMustBeDomain` false (the default) the user name itself, unique in the instance;
/// with it true `username@<org primary domain>`, with user names unique per organisation.
pub fn login_name(c: &mut dyn Conn, instance: &str, org: &str, username: &str) -> Result<String> {
    if !castellan_store::projection::login_must_be_domain(c, instance, org)? {
        return Ok(username.to_string());
    }
    let domain = c
        .one(
            "SELECT primary_domain FROM orgs WHERE instance_id = ? AND id = ?",
            &params![instance, org],
        )?
        .map(|r| r.text(0))
        .transpose()?
        .unwrap_or_default();
    Ok(format!("{username}@{domain}"))
}

fn ensure_unique(
    c: &mut dyn Conn,
    instance: &str,
    org: &str,
    username: &str,
    login: &str,
) -> Result<()> {
    let key = castellan_store::projection::login_key(username, login, org);
    if c.one(
        "SELECT 1 FROM users WHERE instance_id = ? AND login_key = ?",
        &params![instance, &key],
    )?
    .is_some()
    {
        return Err(Error::exists("COMMAND-CxF3h", "Errors.User.AlreadyExists")
            .with(format!("the user name \"{username}\" is taken")));
    }
    Ok(())
}

/// Validated input of a new human user.
#[derive(Debug, Clone, Default)]
pub struct NewHuman {
    pub username: String,
    pub profile: Profile,
    pub email: String,
    pub email_verified: bool,
    pub phone: String,
    pub phone_verified: bool,
    /// Plain password to check and hash, if any.
    pub password: String,
    /// Already hashed password (import), if any.
    pub hashed_password: String,
    pub password_change_required: bool,
    pub user_id: Option<String>,
}

/// How the profile fields are named in error messages.
pub struct ProfileFields {
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub nick_name: &'static str,
    pub display_name: &'static str,
    pub preferred_language: &'static str,
    pub gender: &'static str,
}

/// Fields nested in a `profile` object (AddHumanUser, UpdateHumanProfile).
pub const PROFILE_NESTED: ProfileFields = ProfileFields {
    first_name: "profile.firstName",
    last_name: "profile.lastName",
    nick_name: "profile.nickName",
    display_name: "profile.displayName",
    preferred_language: "profile.preferredLanguage",
    gender: "profile.gender",
};

/// Fields at the top of the request (UpdateMyProfile).
pub const PROFILE_FLAT: ProfileFields = ProfileFields {
    first_name: "firstName",
    last_name: "lastName",
    nick_name: "nickName",
    display_name: "displayName",
    preferred_language: "preferredLanguage",
    gender: "gender",
};

/// Validates and normalises the profile fields.
pub fn check_profile(p: &Profile) -> Result<Profile> {
    check_profile_as(p, &PROFILE_NESTED)
}

/// Validates and normalises the profile fields, naming them as `f` says.
pub fn check_profile_as(p: &Profile, f: &ProfileFields) -> Result<Profile> {
    Ok(Profile {
        first_name: validate::required(f.first_name, &p.first_name, validate::MAX_NAME)?,
        last_name: validate::required(f.last_name, &p.last_name, validate::MAX_NAME)?,
        nick_name: validate::optional(f.nick_name, &p.nick_name, validate::MAX_NAME)?,
        display_name: validate::optional(f.display_name, &p.display_name, validate::MAX_NAME)?,
        preferred_language: validate::optional(f.preferred_language, &p.preferred_language, 35)?,
        gender: if (0..=3).contains(&p.gender) {
            p.gender
        } else {
            return Err(Error::invalid(
                "USER-g3nd3",
                "Errors.Invalid.Argument",
                format!("{} is unknown", f.gender),
            ));
        },
    })
}

/// Validates a new human and hashes its password (outside any transaction).
/// The password is checked against the complexity policy in force in `org` of `inst` (the
/// instance default for an empty `org`).
pub async fn prepare_human(
    st: &St,
    inst: &str,
    org: &str,
    mut h: NewHuman,
) -> R<(NewHuman, String)> {
    h.username = validate::username("userName", &h.username)?;
    h.profile = check_profile(&h.profile)?;
    if h.profile.display_name.is_empty() {
        h.profile.display_name = format!("{} {}", h.profile.first_name, h.profile.last_name);
    }
    h.email = validate::email("email.email", &h.email)?;
    if !h.phone.trim().is_empty() {
        h.phone = validate::phone("phone.phone", &h.phone)?;
    } else {
        h.phone = String::new();
        h.phone_verified = false;
    }
    let hash = if !h.hashed_password.is_empty() {
        castellan_domain::password::check_importable(&h.hashed_password)?;
        h.hashed_password.clone()
    } else if !h.password.is_empty() {
        super::policies::complexity(st, inst, org)
            .await?
            .check(&h.password)?;
        st.hash_password(std::mem::take(&mut h.password)).await?
    } else {
        String::new()
    };
    if let Some(id) = &h.user_id {
        if id.trim().is_empty() {
            h.user_id = None;
        } else {
            h.user_id = Some(validate::required("userId", id, validate::MAX_NAME)?);
        }
    }
    Ok((h, hash))
}

/// Writes a prepared human user inside an open command.
pub fn push_human(
    tx: &mut Tx<'_>,
    id: &str,
    org: &str,
    h: &NewHuman,
    hash: &str,
) -> Result<Vec<castellan_store::Event>> {
    let inst = tx.instance().to_string();
    super::orgs::load(tx.conn, &inst, org)?;
    if tx
        .one(
            "SELECT 1 FROM users WHERE instance_id = ? AND id = ?",
            &params![&inst, id],
        )?
        .is_some()
    {
        return Err(Error::exists("COMMAND-k2unb", "Errors.User.AlreadyExists")
            .with("the user id is taken"));
    }
    let login = login_name(tx.conn, &inst, org, &h.username)?;
    ensure_unique(tx.conn, &inst, org, &h.username, &login)?;
    let ev = Payload::HumanAdded(HumanAdded {
        user_name: h.username.clone(),
        login_name: login,
        profile: h.profile.clone(),
        email: h.email.clone(),
        email_verified: h.email_verified,
        phone: h.phone.clone(),
        phone_verified: h.phone_verified,
        password_hash: hash.to_string(),
        password_change_required: h.password_change_required,
    });
    tx.push(agg::USER, id, org, vec![ev])
}

/// Adds a human user to `org`; returns (user id, details).
pub async fn add_human(st: &St, ctx: &Ctx, org: String, h: NewHuman) -> R<(String, ObjectDetails)> {
    let (h, hash) = prepare_human(st, &ctx.instance_id, &org, h).await?;
    let id = h.user_id.clone().unwrap_or_else(|| st.ids.next());
    let uid = id.clone();
    let key = id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            push_human(tx, &uid, &org, &h, &hash)
        })
        .await?;
    Ok((id, mutation(&evs, true).unwrap_or_default()))
}

/// Input of a new machine user.
#[derive(Debug, Clone, Default)]
pub struct NewMachine {
    pub username: String,
    pub name: String,
    pub description: String,
    pub access_token_type: i32,
    pub user_id: Option<String>,
}

/// Adds a machine user to `org`.
pub async fn add_machine(
    st: &St,
    ctx: &Ctx,
    org: String,
    m: NewMachine,
) -> R<(String, ObjectDetails)> {
    let NewMachine {
        username,
        name,
        description,
        access_token_type: token_type,
        user_id,
    } = m;
    let username = validate::username("userName", &username)?;
    let name = validate::required("name", &name, validate::MAX_NAME)?;
    let description = validate::optional("description", &description, 500)?;
    if !(0..=1).contains(&token_type) {
        return Err(invalid("accessTokenType is unknown"));
    }
    let id = match user_id {
        Some(id) if !id.trim().is_empty() => validate::required("userId", &id, validate::MAX_NAME)?,
        _ => st.ids.next(),
    };
    let uid = id.clone();
    let key = id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            super::orgs::load(tx.conn, &inst, &org)?;
            if tx
                .one(
                    "SELECT 1 FROM users WHERE instance_id = ? AND id = ?",
                    &params![&inst, &uid],
                )?
                .is_some()
            {
                return Err(Error::exists("COMMAND-k2unb", "Errors.User.AlreadyExists")
                    .with("the user id is taken"));
            }
            let login = login_name(tx.conn, &inst, &org, &username)?;
            ensure_unique(tx.conn, &inst, &org, &username, &login)?;
            let ev = Payload::MachineAdded {
                user_name: username.clone(),
                login_name: login,
                name: name.clone(),
                description: description.clone(),
                access_token_type: token_type,
            };
            tx.push(agg::USER, &uid, &org, vec![ev])
        })
        .await?;
    Ok((id, mutation(&evs, true).unwrap_or_default()))
}

/// Reads a user of the context organisation.
pub async fn get(st: &St, ctx: &Ctx, id: &str) -> R<UserRow> {
    let (inst, id, org) = (ctx.instance_id.clone(), id.to_string(), ctx.org_id.clone());
    Ok(st
        .db
        .read_point(move |c| load(c, &inst, &id, Some(&org)))
        .await?)
}

/// Reads any user of the instance by id (through the node's user cache where it is exact).
pub async fn get_any(st: &St, instance: &str, id: &str) -> R<UserRow> {
    let epoch = st.db.data_epoch();
    if let Some(u) = st.user_cache.get(instance, id, epoch) {
        return Ok(u);
    }
    let (inst, uid) = (instance.to_string(), id.to_string());
    let u = st
        .db
        .read_point(move |c| load(c, &inst, &uid, None))
        .await?;
    st.user_cache.put(instance, id, epoch, u.clone());
    Ok(u)
}

/// Finds a user of the instance by login name (case-insensitive).
pub async fn by_login_name(st: &St, ctx: &Ctx, login: &str) -> R<UserRow> {
    let (inst, login) = (ctx.instance_id.clone(), login.trim().to_lowercase());
    Ok(st
        .db
        .read(move |c| {
            let r = c.one(
                &format!(
                    "SELECT {COLS} FROM users WHERE instance_id = ? AND lower(login_name) = ?"
                ),
                &params![&inst, &login],
            )?;
            r.as_ref()
                .map(UserRow::from_row)
                .transpose()?
                .ok_or_else(not_found)
        })
        .await?)
}

/// Whether neither the user name nor (if given) the email is taken in the instance.
pub async fn is_unique(st: &St, ctx: &Ctx, username: &str, email: &str) -> R<bool> {
    let (inst, u, e) = (
        ctx.instance_id.clone(),
        username.trim().to_lowercase(),
        email.trim().to_lowercase(),
    );
    Ok(st
        .db
        .read(move |c| {
            let taken_name = !u.is_empty() && c.one("SELECT 1 FROM users WHERE instance_id = ? AND (login_key = ? OR lower(username) = ?)", &params![&inst, &u, &u])?.is_some();
            let taken_mail = !e.is_empty() && c.one("SELECT 1 FROM users WHERE instance_id = ? AND lower(email) = ?", &params![&inst, &e])?.is_some();
            Ok(!taken_name && !taken_mail)
        })
        .await?)
}

fn query_sql(q: &pb::SearchQuery, f: &mut Vec<String>, p: &mut Vec<Value>, depth: u32) -> R<()> {
    use pb::search_query::Query as Q;
    if depth > 10 {
        return Err(invalid("queries are nested too deeply (at most 10 levels)"));
    }
    let Some(q) = &q.query else {
        return Err(invalid("a query must set one of its fields"));
    };
    let mut push = |(sql, v): (String, Value)| {
        f.push(sql);
        p.push(v);
    };
    match q {
        Q::UserNameQuery(x) => push(text("username", x.method, &x.user_name)?),
        Q::FirstNameQuery(x) => push(text("first_name", x.method, &x.first_name)?),
        Q::LastNameQuery(x) => push(text("last_name", x.method, &x.last_name)?),
        Q::NickNameQuery(x) => push(text("nick_name", x.method, &x.nick_name)?),
        Q::DisplayNameQuery(x) => push(text("display_name", x.method, &x.display_name)?),
        Q::EmailQuery(x) => push(text("email", x.method, &x.email_address)?),
        Q::LoginNameQuery(x) => push(text("login_name", x.method, &x.login_name)?),
        Q::StateQuery(x) => push(("state = ?".into(), i64::from(x.state).into())),
        Q::TypeQuery(x) => push(("kind = ?".into(), i64::from(x.r#type).into())),
        Q::InUserIdsQuery(x) => {
            let (sql, vals) = in_list("id", &x.user_ids);
            f.push(sql);
            p.extend(vals);
        }
        Q::InUserEmailsQuery(x) => {
            let lowered: Vec<String> = x.user_emails.iter().map(|e| e.to_lowercase()).collect();
            let (sql, vals) = in_list("lower(email)", &lowered);
            f.push(sql);
            p.extend(vals);
        }
        Q::OrQuery(x) => nested(&x.queries, " OR ", f, p, depth)?,
        Q::AndQuery(x) => nested(&x.queries, " AND ", f, p, depth)?,
        Q::NotQuery(x) => {
            let inner = x
                .query
                .as_deref()
                .ok_or_else(|| invalid("notQuery.query is required"))?;
            let mut sub = Vec::new();
            query_sql(inner, &mut sub, p, depth + 1)?;
            f.push(format!("NOT ({})", sub.join(" AND ")));
        }
    }
    Ok(())
}

fn nested(
    qs: &[pb::SearchQuery],
    op: &str,
    f: &mut Vec<String>,
    p: &mut Vec<Value>,
    depth: u32,
) -> R<()> {
    if qs.is_empty() {
        return Err(invalid("orQuery/andQuery needs at least one query"));
    }
    let mut parts = Vec::new();
    for q in qs {
        let mut sub = Vec::new();
        query_sql(q, &mut sub, p, depth + 1)?;
        parts.push(format!("({})", sub.join(" AND ")));
    }
    f.push(format!("({})", parts.join(op)));
    Ok(())
}

fn sort_column(c: i32) -> R<&'static str> {
    Ok(match c {
        0 | 9 => "created_at",
        1 => "username",
        2 => "first_name",
        3 => "last_name",
        4 => "nick_name",
        5 => "display_name",
        6 => "email",
        7 => "state",
        8 => "kind",
        _ => return Err(invalid("sortingColumn is unknown")),
    })
}

/// Lists users of `org` matching `queries`. Returns (total, processed position, users).
pub async fn list(
    st: &St,
    ctx: &Ctx,
    org: Option<String>,
    page: Page,
    sorting: i32,
    queries: &[pb::SearchQuery],
) -> R<(i64, i64, Vec<UserRow>)> {
    let mut f = Filter::new();
    f.and("instance_id = ?", params![&ctx.instance_id]);
    if let Some(o) = org {
        f.and("org_id = ?", params![o]);
    }
    for q in queries {
        let (mut sql, mut p) = (Vec::new(), Vec::new());
        query_sql(q, &mut sql, &mut p, 0)?;
        f.and(sql.join(" AND "), p);
    }
    let order = sort_column(sorting)?;
    let tail = page.tail(order, "id");
    Ok(st
        .db
        .read(move |c| {
            let (total, pos, rows) = super::query::page_rows(c, COLS, "users", &f, &tail)?;
            let users = rows
                .iter()
                .map(UserRow::from_row)
                .collect::<Result<Vec<_>>>()?;
            Ok((total, pos, users))
        })
        .await?)
}

/// Runs a state change on a user of the context organisation after `check` accepts it.
pub async fn change<F>(st: &St, ctx: &Ctx, id: &str, check: F) -> R<ObjectDetails>
where
    F: Fn(&UserRow) -> Result<Vec<Payload>> + Send + Sync + 'static,
{
    let (id, org) = (id.to_string(), ctx.org_id.clone());
    if id.trim().is_empty() {
        return Err(invalid("the user id is required"));
    }
    let key = id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let u = load_tx(tx, &id, &org)?;
            let payloads = check(&u)?;
            tx.push(agg::USER, &id, &u.org_id, payloads)
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

pub async fn deactivate(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    change(st, ctx, id, |u| match u.state {
        user_state::INACTIVE => Err(Error::precondition(
            "USER-s4M4w",
            "Errors.User.AlreadyInactive",
        )),
        user_state::INITIAL => Err(Error::precondition(
            "USER-ke0fw",
            "Errors.User.ShouldBeActiveOrInitial",
        )
        .with("users in the initial state cannot be deactivated")),
        _ => Ok(vec![Payload::UserDeactivated {}]),
    })
    .await
}

pub async fn reactivate(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    change(st, ctx, id, |u| match u.state {
        user_state::INACTIVE => Ok(vec![Payload::UserReactivated {}]),
        _ => Err(Error::precondition("USER-6M0sf", "Errors.User.NotInactive")),
    })
    .await
}

pub async fn lock(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    change(st, ctx, id, |u| match u.state {
        user_state::LOCKED => Err(Error::precondition(
            "USER-s4Lo2",
            "Errors.User.AlreadyLocked",
        )),
        user_state::ACTIVE | user_state::INITIAL => Ok(vec![Payload::UserLocked {}]),
        _ => Err(Error::precondition(
            "USER-3NNeg",
            "Errors.User.ShouldBeActiveOrInitial",
        )),
    })
    .await
}

pub async fn unlock(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    change(st, ctx, id, |u| match u.state {
        user_state::LOCKED => Ok(vec![Payload::UserUnlocked {}]),
        _ => Err(Error::precondition("USER-4M0ds", "Errors.User.NotLocked")),
    })
    .await
}

pub async fn remove(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    change(st, ctx, id, |u| {
        Ok(vec![Payload::UserRemoved {
            user_name: u.username.clone(),
        }])
    })
    .await
}

pub async fn update_username(st: &St, ctx: &Ctx, id: &str, username: &str) -> R<ObjectDetails> {
    let username = validate::username("userName", username)?;
    let (id, org) = (id.to_string(), ctx.org_id.clone());
    let key = id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let u = load_tx(tx, &id, &org)?;
            if u.username == username {
                return Err(Error::precondition(
                    "USER-Sxcd3",
                    "Errors.User.UsernameNotChanged",
                ));
            }
            let inst = tx.instance().to_string();
            let login = login_name(tx.conn, &inst, &u.org_id, &username)?;
            if u.username.to_lowercase() != username.to_lowercase() {
                ensure_unique(tx.conn, &inst, &u.org_id, &username, &login)?;
            }
            tx.push(
                agg::USER,
                &id,
                &u.org_id,
                vec![Payload::UsernameChanged {
                    user_name: username.clone(),
                    login_name: login,
                }],
            )
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

pub async fn update_profile(st: &St, ctx: &Ctx, id: &str, p: Profile) -> R<ObjectDetails> {
    update_profile_as(st, ctx, id, p, &PROFILE_NESTED).await
}

/// UpdateHumanProfile with the fields named as `f` says in errors.
pub async fn update_profile_as(
    st: &St,
    ctx: &Ctx,
    id: &str,
    p: Profile,
    f: &ProfileFields,
) -> R<ObjectDetails> {
    let mut p = check_profile_as(&p, f)?;
    if p.display_name.is_empty() {
        p.display_name = format!("{} {}", p.first_name, p.last_name);
    }
    change(st, ctx, id, move |u| {
        let u = human(u.clone())?;
        if u.profile == p {
            return Err(Error::precondition(
                "USER-2M0fs",
                "Errors.User.Profile.NotChanged",
            ));
        }
        Ok(vec![Payload::ProfileChanged(p.clone())])
    })
    .await
}

pub async fn update_email(
    st: &St,
    ctx: &Ctx,
    id: &str,
    email: &str,
    verified: bool,
) -> R<ObjectDetails> {
    let email = validate::email("email", email)?;
    change(st, ctx, id, move |u| {
        let u = human(u.clone())?;
        if u.email == email && u.email_verified == verified {
            return Err(Error::precondition(
                "USER-2b7fM",
                "Errors.User.Email.NotChanged",
            ));
        }
        Ok(vec![Payload::EmailChanged {
            email: email.clone(),
            verified,
        }])
    })
    .await
}

pub async fn update_phone(
    st: &St,
    ctx: &Ctx,
    id: &str,
    phone: &str,
    verified: bool,
) -> R<ObjectDetails> {
    let phone = validate::phone("phone", phone)?;
    change(st, ctx, id, move |u| {
        let u = human(u.clone())?;
        if u.phone == phone && u.phone_verified == verified {
            return Err(Error::precondition(
                "USER-Wlf4Y",
                "Errors.User.Phone.NotChanged",
            ));
        }
        Ok(vec![Payload::PhoneChanged {
            phone: phone.clone(),
            verified,
        }])
    })
    .await
}

pub async fn remove_phone(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    change(st, ctx, id, |u| {
        let u = human(u.clone())?;
        if u.phone.is_empty() {
            return Err(Error::not_found("USER-p6rsc", "Errors.User.Phone.NotFound"));
        }
        Ok(vec![Payload::PhoneRemoved {}])
    })
    .await
}

/// Sets a password after checking the complexity policy. `initial` only works for users
/// still in the initial state.
pub async fn set_password(
    st: &St,
    ctx: &Ctx,
    id: &str,
    pw: &str,
    change_required: bool,
    initial: bool,
) -> R<ObjectDetails> {
    if pw.is_empty() {
        return Err(invalid("password must not be empty"));
    }
    // Check the user exists before paying for the hash.
    let u = human(get(st, ctx, id).await?)?;
    super::policies::complexity(st, &ctx.instance_id, &u.org_id)
        .await?
        .check(pw)?;
    let hash = st.hash_password(pw.to_string()).await?;
    change(st, ctx, id, move |u| {
        let u = human(u.clone())?;
        if initial && u.state != user_state::INITIAL {
            return Err(
                Error::precondition("USER-S0m3s", "Errors.User.Password.Invalid")
                    .with("the user already has a password; use SetHumanPassword"),
            );
        }
        Ok(vec![Payload::PasswordChanged {
            hash: hash.clone(),
            change_required,
        }])
    })
    .await
}

pub async fn update_machine(
    st: &St,
    ctx: &Ctx,
    id: &str,
    name: &str,
    description: &str,
    token_type: i32,
) -> R<ObjectDetails> {
    let name = validate::required("name", name, validate::MAX_NAME)?;
    let description = validate::optional("description", description, 500)?;
    if !(0..=1).contains(&token_type) {
        return Err(invalid("accessTokenType is unknown"));
    }
    change(st, ctx, id, move |u| {
        let u = machine(u.clone())?;
        if u.machine_name == name
            && u.machine_description == description
            && u.access_token_type == i64::from(token_type)
        {
            return Err(Error::precondition(
                "USER-2n8vs",
                "Errors.User.Machine.NotChanged",
            ));
        }
        Ok(vec![Payload::MachineChanged {
            name: name.clone(),
            description: description.clone(),
            access_token_type: token_type,
        }])
    })
    .await
}

/// Generates a client secret for a machine user; returns (client id, secret, details).
pub async fn generate_secret(st: &St, ctx: &Ctx, id: &str) -> R<(String, String, ObjectDetails)> {
    let secret = super::tokens::random_token();
    let hash = crate::authn::hash_secret(&secret);
    let u = get(st, ctx, id).await?;
    let client_id = u.username.clone();
    let d = change(st, ctx, id, move |u| {
        machine(u.clone())?;
        Ok(vec![Payload::MachineSecretSet { hash: hash.clone() }])
    })
    .await?;
    Ok((client_id, secret, d))
}

pub async fn remove_secret(st: &St, ctx: &Ctx, id: &str) -> R<ObjectDetails> {
    change(st, ctx, id, |u| {
        let u = machine(u.clone())?;
        if !u.has_secret {
            return Err(Error::not_found(
                "USER-s3cr3",
                "Errors.User.Machine.Secret.NotExisting",
            ));
        }
        Ok(vec![Payload::MachineSecretRemoved {}])
    })
    .await
}

/// Errors a handler raises when the body lacks a required object.
pub fn required<T>(v: Option<T>, field: &'static str) -> R<T> {
    v.ok_or_else(|| {
        crate::error::ApiErr(
            Error::new(
                Kind::InvalidArgument,
                "USER-r3q1r",
                "Errors.Invalid.Argument",
            )
            .with(format!("{field} is required")),
        )
    })
}
