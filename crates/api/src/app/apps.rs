//! Applications of projects (OIDC clients, APIs, SAML service providers) and their keys:
//! commands and queries. Every application event lives on its project's aggregate.

use super::query::{text, Filter, Page};
use crate::authn::hash_secret;
use crate::convert::{details, mutation};
use crate::ctx::Ctx;
use crate::error::{invalid, ApiErr, R};
use crate::state::St;
use castellan_domain::events::{agg, Payload, SamlConfig};
use castellan_domain::oidc_app::{self, api_auth_method, Compliance, Login, OidcSettings};
use castellan_domain::{saml_metadata, validate, Error, Result};
use castellan_proto::zitadel::app::v1 as apb;
use castellan_proto::zitadel::authn::v1 as kpb;
use castellan_proto::zitadel::v1::{LocalizedMessage, ObjectDetails};
use castellan_store::projection::{app_kind, app_state};
use castellan_store::{params, Conn, Row, Tx};

/// An application as stored.
#[derive(Debug, Clone)]
pub struct AppRow {
    pub id: String,
    pub project_id: String,
    pub org_id: String,
    pub name: String,
    pub state: i64,
    pub kind: i64,
    pub client_id: String,
    pub secret_hash: String,
    pub config: String,
    pub entity_id: String,
    pub metadata: Vec<u8>,
    pub metadata_url: String,
    pub created_at: i64,
    pub changed_at: i64,
    pub seq: i64,
}

pub const COLS: &str = "id, project_id, org_id, name, state, kind, client_id, secret_hash, config, entity_id, metadata, metadata_url, created_at, changed_at, seq";

impl AppRow {
    pub fn from_row(r: &Row) -> Result<Self> {
        Ok(AppRow {
            id: r.text(0)?,
            project_id: r.text(1)?,
            org_id: r.text(2)?,
            name: r.text(3)?,
            state: r.int(4)?,
            kind: r.int(5)?,
            client_id: r.text(6)?,
            secret_hash: r.text(7)?,
            config: r.text(8)?,
            entity_id: r.text(9)?,
            metadata: r.blob(10)?,
            metadata_url: r.text(11)?,
            created_at: r.int(12)?,
            changed_at: r.int(13)?,
            seq: r.int(14)?,
        })
    }

    /// The OIDC settings of an OIDC application.
    pub fn oidc(&self) -> Result<OidcSettings> {
        if self.kind != app_kind::OIDC {
            return Err(Error::precondition(
                "APP-n0t01",
                "Errors.Project.App.IsNotOIDC",
            ));
        }
        serde_json::from_str(&self.config).map_err(|e| Error::internal("APP-c0nf1", e.to_string()))
    }

    /// The auth method of an API application.
    pub fn api_auth_method(&self) -> Result<i32> {
        if self.kind != app_kind::API {
            return Err(Error::precondition(
                "APP-n0t02",
                "Errors.Project.App.IsNotAPI",
            ));
        }
        let v: serde_json::Value = serde_json::from_str(&self.config)
            .map_err(|e| Error::internal("APP-c0nf2", e.to_string()))?;
        Ok(v["auth_method_type"].as_i64().unwrap_or(0) as i32)
    }

    fn saml_login(&self) -> Login {
        serde_json::from_str(&self.config).unwrap_or_default()
    }

    /// The application as an API message; the client secret is never part of it.
    pub fn to_pb(&self) -> Result<apb::App> {
        use apb::app::Config;
        let config = match self.kind {
            app_kind::OIDC => {
                let s = self.oidc()?;
                let c = s.compliance();
                Some(Config::OidcConfig(apb::OidcConfig {
                    redirect_uris: s.redirect_uris.clone(),
                    response_types: s.response_types.clone(),
                    grant_types: s.grant_types.clone(),
                    app_type: s.app_type,
                    client_id: self.client_id.clone(),
                    auth_method_type: s.auth_method_type,
                    post_logout_redirect_uris: s.post_logout_redirect_uris.clone(),
                    version: s.version,
                    none_compliant: c.none_compliant,
                    compliance_problems: problems(&c),
                    dev_mode: s.dev_mode,
                    access_token_type: s.access_token_type,
                    access_token_role_assertion: s.access_token_role_assertion,
                    id_token_role_assertion: s.id_token_role_assertion,
                    id_token_userinfo_assertion: s.id_token_userinfo_assertion,
                    clock_skew: Some(prost_types::Duration {
                        seconds: s.clock_skew_nanos / 1_000_000_000,
                        nanos: (s.clock_skew_nanos % 1_000_000_000) as i32,
                    }),
                    additional_origins: s.additional_origins.clone(),
                    allowed_origins: s.allowed_origins(),
                    skip_native_app_success_page: s.skip_native_app_success_page,
                    back_channel_logout_uri: s.back_channel_logout_uri.clone(),
                    login_version: login_pb(&s.login),
                }))
            }
            app_kind::API => Some(Config::ApiConfig(apb::ApiConfig {
                client_id: self.client_id.clone(),
                auth_method_type: self.api_auth_method()?,
            })),
            app_kind::SAML => Some(Config::SamlConfig(apb::SamlConfig {
                metadata: Some(if self.metadata_url.is_empty() {
                    apb::saml_config::Metadata::MetadataXml(self.metadata.clone())
                } else {
                    apb::saml_config::Metadata::MetadataUrl(self.metadata_url.clone())
                }),
                login_version: login_pb(&self.saml_login()),
            })),
            _ => None,
        };
        Ok(apb::App {
            id: self.id.clone(),
            details: details(self.seq, self.created_at, self.changed_at, &self.org_id),
            state: self.state as i32,
            name: self.name.clone(),
            config,
        })
    }
}

/// Compliance problems as localized messages (key and English text).
pub fn problems(c: &Compliance) -> Vec<LocalizedMessage> {
    c.problems
        .iter()
        .map(|k| LocalizedMessage {
            key: (*k).to_string(),
            localized_message: castellan_domain::i18n::english(k).to_string(),
        })
        .collect()
}

/// `LoginVersion` → stored login choice.
pub fn login(v: Option<&apb::LoginVersion>) -> Login {
    use apb::login_version::Version;
    match v.and_then(|v| v.version.as_ref()) {
        Some(Version::LoginV1(_)) => Login {
            version: 1,
            base_uri: None,
        },
        Some(Version::LoginV2(l)) => Login {
            version: 2,
            base_uri: l.base_uri.as_ref().map(|u| u.trim().to_string()),
        },
        None => Login::default(),
    }
}

fn login_pb(l: &Login) -> Option<apb::LoginVersion> {
    use apb::login_version::Version;
    let version = match l.version {
        1 => Version::LoginV1(apb::LoginV1 {}),
        2 => Version::LoginV2(apb::LoginV2 {
            base_uri: l.base_uri.clone(),
        }),
        _ => return None,
    };
    Some(apb::LoginVersion {
        version: Some(version),
    })
}

/// `google.protobuf.Duration` → nanoseconds (out-of-range values stay out of range).
pub fn clock_skew(d: Option<&prost_types::Duration>) -> i64 {
    d.map_or(0, |d| {
        let n = i128::from(d.seconds) * 1_000_000_000 + i128::from(d.nanos);
        n.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    })
}

fn not_found() -> Error {
    Error::not_found("APP-3m9sd", "Errors.Project.App.NotFound")
}

fn key_not_found() -> Error {
    Error::not_found("APP-k3y0n", "Errors.Project.App.Key.NotFound")
}

/// Loads an application of a project of the organisation `org`; applications of other
/// organisations' projects are not found.
pub fn load(
    c: &mut dyn Conn,
    instance: &str,
    org: &str,
    project: &str,
    id: &str,
) -> Result<AppRow> {
    super::projects::load(c, instance, org, project)?;
    let r = c.one(
        &format!("SELECT {COLS} FROM apps WHERE instance_id = ? AND project_id = ? AND id = ?"),
        &params![instance, project, id],
    )?;
    r.as_ref()
        .map(AppRow::from_row)
        .transpose()?
        .ok_or_else(not_found)
}

/// What an OIDC provider needs to authenticate a client.
#[derive(Debug, Clone)]
pub struct Client {
    pub app_id: String,
    pub project_id: String,
    pub org_id: String,
    pub active: bool,
    /// `app_kind::OIDC` or `app_kind::API`.
    pub kind: i64,
    pub secret_hash: String,
    /// The OIDC settings (OIDC clients only).
    pub oidc: Option<OidcSettings>,
    /// The auth method number (`OIDCAuthMethodType` or `APIAuthMethodType`).
    pub auth_method_type: i32,
}

impl Client {
    /// Whether `secret` is this client's secret (compares the hashes in constant time).
    pub fn verify_secret(&self, secret: &str) -> bool {
        if self.secret_hash.is_empty() {
            return false;
        }
        let h = hash_secret(secret);
        aws_lc_rs::constant_time::verify_slices_are_equal(h.as_bytes(), self.secret_hash.as_bytes())
            .is_ok()
    }
}

/// Looks an OIDC or API client up by its client id (instance-wide).
pub fn by_client_id(c: &mut dyn Conn, instance: &str, client_id: &str) -> Result<Option<Client>> {
    let r = c.one(
        &format!(
            "SELECT {COLS} FROM apps WHERE instance_id = ? AND client_id = ? AND client_id <> ''"
        ),
        &params![instance, client_id],
    )?;
    let Some(row) = r.as_ref().map(AppRow::from_row).transpose()? else {
        return Ok(None);
    };
    let (oidc, auth_method_type) = match row.kind {
        app_kind::OIDC => {
            let s = row.oidc()?;
            let m = s.auth_method_type;
            (Some(s), m)
        }
        app_kind::API => (None, row.api_auth_method()?),
        _ => return Ok(None),
    };
    Ok(Some(Client {
        app_id: row.id,
        project_id: row.project_id,
        org_id: row.org_id,
        active: row.state == app_state::ACTIVE,
        kind: row.kind,
        secret_hash: row.secret_hash,
        oidc,
        auth_method_type,
    }))
}

fn ensure_client_id_free(tx: &mut Tx<'_>, client_id: &str) -> Result<()> {
    let inst = tx.instance().to_string();
    if tx
        .one(
            "SELECT 1 FROM apps WHERE instance_id = ? AND client_id = ? AND client_id <> ''",
            &params![&inst, client_id],
        )?
        .is_some()
    {
        return Err(
            Error::exists("APP-c1dEx", "Errors.Project.App.ClientIDAlreadyExists")
                .with(format!("client id \"{client_id}\"")),
        );
    }
    Ok(())
}

fn ensure_entity_id_free(tx: &mut Tx<'_>, entity_id: &str, except_app: &str) -> Result<()> {
    let inst = tx.instance().to_string();
    if tx
        .one(
            "SELECT 1 FROM apps WHERE instance_id = ? AND entity_id = ? AND entity_id <> '' AND id <> ?",
            &params![&inst, entity_id, except_app],
        )?
        .is_some()
    {
        return Err(
            Error::exists("APP-3nt1d", "Errors.Project.App.SAMLEntityIDAlreadyExists")
                .with(format!("entity ID \"{entity_id}\"")),
        );
    }
    Ok(())
}

/// Validates an application name.
pub fn name(n: &str) -> R<String> {
    Ok(validate::required("name", n, validate::MAX_NAME)?)
}

/// A new application's id, client id and (if asked for) secret with its hash.
struct NewClient {
    app_id: String,
    client_id: String,
    secret: String,
    hash: String,
}

fn new_client(st: &St, with_secret: bool, keep: &Keep) -> R<NewClient> {
    let (secret, hash) = if with_secret {
        let s = super::tokens::random_token();
        let h = hash_secret(&s);
        (s, h)
    } else {
        (String::new(), String::new())
    };
    let keep_or_new = |field: &'static str, v: &Option<String>| -> R<String> {
        Ok(match v {
            Some(v) if !v.trim().is_empty() => validate::required(field, v, validate::MAX_NAME)?,
            _ => st.ids.next(),
        })
    };
    Ok(NewClient {
        app_id: keep_or_new("appId", &keep.app_id)?,
        client_id: keep_or_new("clientId", &keep.client_id)?,
        secret,
        hash,
    })
}

/// Ids an imported application keeps (ImportData); new ones where `None`.
#[derive(Debug, Clone, Default)]
pub struct Keep {
    pub app_id: Option<String>,
    pub client_id: Option<String>,
}

/// The instance-wide unique key of a new application.
enum Unique {
    ClientId(String),
    EntityId(String),
}

/// Adds an application to a project of the context organisation: `added` then `config`.
async fn add(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    app_id: &str,
    name: String,
    unique: Unique,
    config: Payload,
) -> R<ObjectDetails> {
    let (pid, aid, org) = (
        project_id.trim().to_string(),
        app_id.to_string(),
        ctx.org_id.clone(),
    );
    if pid.is_empty() {
        return Err(invalid("projectId must not be empty"));
    }
    let key = pid.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            super::projects::load(tx.conn, &inst, &org, &pid)?;
            if tx
                .one(
                    "SELECT 1 FROM apps WHERE instance_id = ? AND id = ?",
                    &params![&inst, &aid],
                )?
                .is_some()
            {
                return Err(
                    Error::exists("APP-1d3x1", "Errors.Project.App.AlreadyExists")
                        .with(format!("an application with the id {aid} exists")),
                );
            }
            match &unique {
                Unique::ClientId(c) => ensure_client_id_free(tx, c)?,
                Unique::EntityId(e) => ensure_entity_id_free(tx, e, "")?,
            }
            tx.push(
                agg::PROJECT,
                &pid,
                &org,
                vec![
                    Payload::AppAdded {
                        app_id: aid.clone(),
                        name: name.clone(),
                    },
                    config.clone(),
                ],
            )
        })
        .await?;
    Ok(mutation(&evs, true).unwrap_or_default())
}

/// What AddOIDCApp answers.
pub struct AddedOidc {
    pub app_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub details: ObjectDetails,
    pub compliance: Compliance,
}

/// AddOIDCApp: the secret (auth methods BASIC and POST) is returned here only.
pub async fn add_oidc(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    name: String,
    s: OidcSettings,
) -> R<AddedOidc> {
    add_oidc_with_id(st, ctx, project_id, Keep::default(), name, s).await
}

/// AddOIDCApp keeping the ids in `keep` (ImportData).
pub async fn add_oidc_with_id(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    keep: Keep,
    name: String,
    s: OidcSettings,
) -> R<AddedOidc> {
    let s = oidc_app::validate(s)?;
    let n = new_client(st, s.needs_secret(), &keep)?;
    let compliance = s.compliance();
    let cfg = Payload::OidcConfigAdded {
        app_id: n.app_id.clone(),
        client_id: n.client_id.clone(),
        hash: n.hash.clone(),
        settings: s,
    };
    let details = add(
        st,
        ctx,
        project_id,
        &n.app_id,
        name,
        Unique::ClientId(n.client_id.clone()),
        cfg,
    )
    .await?;
    Ok(AddedOidc {
        app_id: n.app_id,
        client_id: n.client_id,
        client_secret: n.secret,
        details,
        compliance,
    })
}

/// AddAPIApp: (app id, client id, secret (BASIC only), details).
pub async fn add_api(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    name: String,
    auth_method_type: i32,
) -> R<(String, String, String, ObjectDetails)> {
    add_api_with_id(st, ctx, project_id, Keep::default(), name, auth_method_type).await
}

/// AddAPIApp keeping the ids in `keep` (ImportData).
pub async fn add_api_with_id(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    keep: Keep,
    name: String,
    auth_method_type: i32,
) -> R<(String, String, String, ObjectDetails)> {
    api_method(auth_method_type)?;
    let n = new_client(st, auth_method_type == api_auth_method::BASIC, &keep)?;
    let cfg = Payload::ApiConfigAdded {
        app_id: n.app_id.clone(),
        client_id: n.client_id.clone(),
        hash: n.hash.clone(),
        auth_method_type,
    };
    let details = add(
        st,
        ctx,
        project_id,
        &n.app_id,
        name,
        Unique::ClientId(n.client_id.clone()),
        cfg,
    )
    .await?;
    Ok((n.app_id, n.client_id, n.secret, details))
}

fn api_method(m: i32) -> R<()> {
    if !(0..=api_auth_method::MAX).contains(&m) {
        return Err(invalid(format!("authMethodType {m} is unknown")));
    }
    Ok(())
}

/// Where SAML metadata comes from.
pub enum SamlSource {
    Xml(Vec<u8>),
    Url(String),
}

/// SAML metadata checked: (entity id, document, url it came from).
pub struct SamlMetadata {
    entity_id: String,
    xml: Vec<u8>,
    url: String,
}

/// Reads SAML metadata: parses it, fetching it first when given as a URL.
pub async fn saml_metadata(src: Option<SamlSource>) -> R<SamlMetadata> {
    match src {
        None => Err(ApiErr(
            Error::new(
                castellan_domain::Kind::InvalidArgument,
                "APP-s4ml0",
                "Errors.Project.App.SAMLMetadataMissing",
            )
            .with("metadataXml or metadataUrl must be set"),
        )),
        Some(SamlSource::Xml(x)) => {
            if x.is_empty() {
                return Err(invalid("metadataXml must not be empty"));
            }
            let entity_id = saml_metadata::entity_id(&x, "metadataXml")?;
            Ok(SamlMetadata {
                entity_id,
                xml: x,
                url: String::new(),
            })
        }
        Some(SamlSource::Url(u)) => {
            let u = u.trim().to_string();
            if u.is_empty() || u.len() > 200 || !oidc_app::is_http_url(&u) {
                return Err(invalid(format!(
                    "metadataUrl {u:?} must be an http(s) URL of at most 200 characters"
                )));
            }
            let xml = super::fetch::metadata(&u).await?;
            let entity_id = saml_metadata::entity_id(&xml, &format!("the metadata at {u}"))?;
            Ok(SamlMetadata {
                entity_id,
                xml,
                url: u,
            })
        }
    }
}

fn saml_payload(app_id: &str, m: &SamlMetadata, login: Login) -> SamlConfig {
    use base64::Engine;
    SamlConfig {
        app_id: app_id.to_string(),
        entity_id: m.entity_id.clone(),
        metadata: base64::engine::general_purpose::STANDARD.encode(&m.xml),
        metadata_url: m.url.clone(),
        login,
    }
}

/// AddSAMLApp: the entity id of the metadata must be new in the instance.
pub async fn add_saml(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    name: String,
    src: Option<SamlSource>,
    login: Login,
) -> R<(String, ObjectDetails)> {
    check_login(&login)?;
    let m = saml_metadata(src).await?;
    let app_id = st.ids.next();
    let cfg = Payload::SamlConfigAdded(saml_payload(&app_id, &m, login));
    let details = add(
        st,
        ctx,
        project_id,
        &app_id,
        name,
        Unique::EntityId(m.entity_id.clone()),
        cfg,
    )
    .await?;
    Ok((app_id, details))
}

fn check_login(l: &Login) -> R<()> {
    if let Some(b) = &l.base_uri {
        if !oidc_app::is_http_url(b) {
            return Err(invalid(format!(
                "loginVersion.loginV2.baseUri {b:?} is not an http(s) URL"
            )));
        }
    }
    Ok(())
}

/// Runs a command on one application of a project of the context organisation.
async fn change<T, F>(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    app_id: &str,
    f: F,
) -> R<(ObjectDetails, T)>
where
    T: Send + 'static,
    F: Fn(&mut Tx<'_>, &AppRow) -> Result<(Vec<Payload>, T)> + Send + Sync + 'static,
{
    let (pid, aid, org) = (
        project_id.trim().to_string(),
        app_id.trim().to_string(),
        ctx.org_id.clone(),
    );
    if pid.is_empty() {
        return Err(invalid("projectId must not be empty"));
    }
    if aid.is_empty() {
        return Err(invalid("appId must not be empty"));
    }
    let key = pid.clone();
    let (evs, out) = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let a = load(tx.conn, &inst, &org, &pid, &aid)?;
            let (payloads, out) = f(tx, &a)?;
            Ok((tx.push(agg::PROJECT, &pid, &org, payloads)?, out))
        })
        .await?;
    Ok((mutation(&evs, false).unwrap_or_default(), out))
}

fn not_changed() -> Error {
    Error::precondition("APP-1m9ds", "Errors.Project.App.NotChanged").with("nothing changed")
}

/// UpdateApp: the name.
pub async fn rename(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    app_id: &str,
    name: String,
) -> R<ObjectDetails> {
    Ok(change(st, ctx, project_id, app_id, move |_, a| {
        if a.name == name {
            return Err(not_changed());
        }
        Ok((
            vec![Payload::AppChanged {
                app_id: a.id.clone(),
                name: name.clone(),
            }],
            (),
        ))
    })
    .await?
    .0)
}

/// UpdateOIDCAppConfig. The client secret stays as it is (RegenerateOIDCClientSecret sets one).
pub async fn update_oidc(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    app_id: &str,
    s: OidcSettings,
) -> R<ObjectDetails> {
    let s = oidc_app::validate(s)?;
    Ok(change(st, ctx, project_id, app_id, move |_, a| {
        if a.oidc()? == s {
            return Err(not_changed());
        }
        Ok((
            vec![Payload::OidcConfigChanged {
                app_id: a.id.clone(),
                settings: s.clone(),
            }],
            (),
        ))
    })
    .await?
    .0)
}

/// UpdateAPIAppConfig.
pub async fn update_api(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    app_id: &str,
    m: i32,
) -> R<ObjectDetails> {
    api_method(m)?;
    Ok(change(st, ctx, project_id, app_id, move |_, a| {
        if a.api_auth_method()? == m {
            return Err(not_changed());
        }
        Ok((
            vec![Payload::ApiConfigChanged {
                app_id: a.id.clone(),
                auth_method_type: m,
            }],
            (),
        ))
    })
    .await?
    .0)
}

/// UpdateSAMLAppConfig: new metadata (and login choice); the entity id must stay unique.
pub async fn update_saml(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    app_id: &str,
    src: Option<SamlSource>,
    login: Login,
) -> R<ObjectDetails> {
    check_login(&login)?;
    let m = saml_metadata(src).await?;
    Ok(change(st, ctx, project_id, app_id, move |tx, a| {
        if a.kind != app_kind::SAML {
            return Err(Error::precondition(
                "APP-n0t03",
                "Errors.Project.App.IsNotSAML",
            ));
        }
        if a.metadata == m.xml && a.metadata_url == m.url && a.saml_login() == login {
            return Err(not_changed());
        }
        ensure_entity_id_free(tx, &m.entity_id, &a.id)?;
        Ok((
            vec![Payload::SamlConfigChanged(saml_payload(
                &a.id,
                &m,
                login.clone(),
            ))],
            (),
        ))
    })
    .await?
    .0)
}

pub async fn deactivate(st: &St, ctx: &Ctx, project_id: &str, app_id: &str) -> R<ObjectDetails> {
    Ok(change(st, ctx, project_id, app_id, |_, a| match a.state {
        app_state::ACTIVE => Ok((
            vec![Payload::AppDeactivated {
                app_id: a.id.clone(),
            }],
            (),
        )),
        _ => Err(
            Error::precondition("APP-37Bsd", "Errors.Project.App.NotActive")
                .with("the application is already deactivated"),
        ),
    })
    .await?
    .0)
}

pub async fn reactivate(st: &St, ctx: &Ctx, project_id: &str, app_id: &str) -> R<ObjectDetails> {
    Ok(change(st, ctx, project_id, app_id, |_, a| match a.state {
        app_state::INACTIVE => Ok((
            vec![Payload::AppReactivated {
                app_id: a.id.clone(),
            }],
            (),
        )),
        _ => Err(
            Error::precondition("APP-93Jsd", "Errors.Project.App.NotInactive")
                .with("the application is active"),
        ),
    })
    .await?
    .0)
}

/// RemoveApp: the application and its keys.
pub async fn remove(st: &St, ctx: &Ctx, project_id: &str, app_id: &str) -> R<ObjectDetails> {
    Ok(change(st, ctx, project_id, app_id, |_, a| {
        Ok((
            vec![Payload::AppRemoved {
                app_id: a.id.clone(),
                name: a.name.clone(),
            }],
            (),
        ))
    })
    .await?
    .0)
}

/// Regenerate{OIDC,API}ClientSecret: a new secret replaces the old one; returned here only.
pub async fn regenerate_secret(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    app_id: &str,
    oidc: bool,
) -> R<(String, ObjectDetails)> {
    let secret = super::tokens::random_token();
    let hash = hash_secret(&secret);
    let (d, ()) = change(st, ctx, project_id, app_id, move |_, a| {
        let p = if oidc {
            if !a.oidc()?.needs_secret() {
                return Err(Error::precondition(
                    "APP-0s3cr",
                    "Errors.Project.App.OIDCAuthMethodNoSecret",
                )
                .with("the auth method is neither BASIC nor POST"));
            }
            Payload::OidcSecretChanged {
                app_id: a.id.clone(),
                hash: hash.clone(),
            }
        } else {
            if a.api_auth_method()? != api_auth_method::BASIC {
                return Err(Error::precondition(
                    "APP-4s3cr",
                    "Errors.Project.App.APIAuthMethodNoSecret",
                )
                .with("the auth method is not BASIC"));
            }
            Payload::ApiSecretChanged {
                app_id: a.id.clone(),
                hash: hash.clone(),
            }
        };
        Ok((vec![p], ()))
    })
    .await?;
    Ok((secret, d))
}

/// An application of a project of the context organisation.
pub async fn get(st: &St, ctx: &Ctx, project_id: &str, app_id: &str) -> R<AppRow> {
    let (inst, org, pid, aid) = (
        ctx.instance_id.clone(),
        ctx.org_id.clone(),
        project_id.to_string(),
        app_id.to_string(),
    );
    Ok(st
        .db
        .read(move |c| load(c, &inst, &org, &pid, &aid))
        .await?)
}

/// Lists the applications of a project of the context organisation.
pub async fn list(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    page: Page,
    queries: &[apb::AppQuery],
) -> R<(i64, i64, Vec<AppRow>)> {
    use apb::app_query::Query as Q;
    let mut f = Filter::new();
    f.and(
        "instance_id = ? AND project_id = ?",
        params![&ctx.instance_id, project_id],
    );
    for q in queries {
        match q
            .query
            .as_ref()
            .ok_or_else(|| invalid("a query must set one of its fields"))?
        {
            Q::NameQuery(x) => {
                if x.name.len() > 200 {
                    return Err(invalid("nameQuery.name must be at most 200 characters"));
                }
                let (sql, v) = text("name", x.method, &x.name)?;
                f.and(sql, vec![v]);
            }
        }
    }
    let tail = page.tail("created_at", "id");
    let (inst, org, pid) = (
        ctx.instance_id.clone(),
        ctx.org_id.clone(),
        project_id.to_string(),
    );
    Ok(st
        .db
        .read(move |c| {
            super::projects::load(c, &inst, &org, &pid)?;
            let (total, pos, rows) = super::query::page_rows(c, COLS, "apps", &f, &tail)?;
            let out = rows
                .iter()
                .map(AppRow::from_row)
                .collect::<Result<Vec<_>>>()?;
            Ok((total, pos, out))
        })
        .await?)
}

/// Whether an application may have keys: API or OIDC with the auth method private_key_jwt.
fn keys_allowed(a: &AppRow) -> Result<()> {
    let ok = match a.kind {
        app_kind::OIDC => a.oidc()?.auth_method_type == oidc_app::auth_method::PRIVATE_KEY_JWT,
        app_kind::API => a.api_auth_method()? == api_auth_method::PRIVATE_KEY_JWT,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::precondition(
            "APP-k3yjw",
            "Errors.Project.App.AuthMethodNoPrivateKeyJWT",
        ))
    }
}

/// AddAppKey: generates an RSA key, stores its public part; returns (key id, JSON key file,
/// details). The key file (with the private key) is shown here only.
pub async fn add_key(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    app_id: &str,
    key_type: i32,
    exp: Option<&prost_types::Timestamp>,
) -> R<(String, Vec<u8>, ObjectDetails)> {
    if key_type != kpb::KeyType::Json as i32 {
        return Err(invalid("type must be KEY_TYPE_JSON"));
    }
    let exp = super::tokens::expiration(exp)?;
    let (private, public) = tokio::task::spawn_blocking(super::tokens::generate_rsa)
        .await
        .map_err(|e| Error::internal("APP-j01n0", e.to_string()))??;
    let key_id = st.ids.next();
    let (d, client_id) =
        push_key(st, ctx, project_id, app_id, &key_id, key_type, exp, public).await?;
    let file = serde_json::json!({
        "type": "application",
        "keyId": key_id,
        "key": private,
        "appId": app_id.trim(),
        "clientId": client_id,
    });
    Ok((key_id, file.to_string().into_bytes(), d))
}

/// Adds an exported application key (ImportData): its id and public key (PEM) as given.
#[allow(clippy::too_many_arguments)]
pub async fn import_key(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    app_id: &str,
    key_id: &str,
    key_type: i32,
    exp: Option<&prost_types::Timestamp>,
    public_key: &[u8],
) -> R<ObjectDetails> {
    if key_type != kpb::KeyType::Json as i32 {
        return Err(invalid("type must be KEY_TYPE_JSON"));
    }
    let key_id = validate::required("id", key_id, validate::MAX_NAME)?;
    let exp = super::tokens::expiration(exp)?;
    let public = super::tokens::public_pem(public_key)?;
    Ok(
        push_key(st, ctx, project_id, app_id, &key_id, key_type, exp, public)
            .await?
            .0,
    )
}

/// Stores the public part of an application key; returns the details and the client id.
#[allow(clippy::too_many_arguments)]
async fn push_key(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    app_id: &str,
    key_id: &str,
    key_type: i32,
    exp: i64,
    public: String,
) -> R<(ObjectDetails, String)> {
    let kid = key_id.to_string();
    change(st, ctx, project_id, app_id, move |tx, a| {
        keys_allowed(a)?;
        let inst = tx.instance().to_string();
        if tx
            .one(
                "SELECT 1 FROM app_keys WHERE instance_id = ? AND id = ?",
                &params![&inst, &kid],
            )?
            .is_some()
        {
            return Err(
                Error::exists("APP-k3y1d", "Errors.Project.App.Key.AlreadyExists")
                    .with(format!("a key with the id {kid} exists")),
            );
        }
        Ok((
            vec![Payload::AppKeyAdded {
                app_id: a.id.clone(),
                client_id: a.client_id.clone(),
                key_id: kid.clone(),
                key_type,
                expiration: exp,
                public_key: public.clone(),
            }],
            a.client_id.clone(),
        ))
    })
    .await
}

/// RemoveAppKey.
pub async fn remove_key(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    app_id: &str,
    key_id: &str,
) -> R<ObjectDetails> {
    let kid = key_id.trim().to_string();
    Ok(change(st, ctx, project_id, app_id, move |tx, a| {
        let inst = tx.instance().to_string();
        tx.one(
            "SELECT 1 FROM app_keys WHERE instance_id = ? AND app_id = ? AND id = ?",
            &params![&inst, &a.id, &kid],
        )?
        .ok_or_else(key_not_found)?;
        Ok((
            vec![Payload::AppKeyRemoved {
                app_id: a.id.clone(),
                key_id: kid.clone(),
            }],
            (),
        ))
    })
    .await?
    .0)
}

/// GetAppKey.
pub async fn get_key(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    app_id: &str,
    key_id: &str,
) -> R<kpb::Key> {
    let (inst, org, pid, aid, kid) = (
        ctx.instance_id.clone(),
        ctx.org_id.clone(),
        project_id.to_string(),
        app_id.to_string(),
        key_id.to_string(),
    );
    Ok(st
        .db
        .read(move |c| {
            load(c, &inst, &org, &pid, &aid)?;
            let r = c.one(
                &format!(
                    "SELECT {} FROM app_keys WHERE instance_id = ? AND app_id = ? AND id = ?",
                    super::tokens::KEY_COLS
                ),
                &params![&inst, &aid, &kid],
            )?;
            r.as_ref()
                .map(super::tokens::key_pb)
                .transpose()?
                .ok_or_else(key_not_found)
        })
        .await?)
}

/// ListAppKeys: (total, position, keys).
pub async fn list_keys(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    app_id: &str,
    page: Page,
) -> R<(i64, i64, Vec<kpb::Key>)> {
    let (inst, org, pid, aid) = (
        ctx.instance_id.clone(),
        ctx.org_id.clone(),
        project_id.to_string(),
        app_id.to_string(),
    );
    let mut f = Filter::new();
    f.and("instance_id = ? AND app_id = ?", params![&inst, &aid]);
    let tail = page.tail("created_at", "id");
    Ok(st
        .db
        .read(move |c| {
            load(c, &inst, &org, &pid, &aid)?;
            let (total, pos, rows) =
                super::query::page_rows(c, super::tokens::KEY_COLS, "app_keys", &f, &tail)?;
            let out = rows
                .iter()
                .map(super::tokens::key_pb)
                .collect::<Result<Vec<_>>>()?;
            Ok((total, pos, out))
        })
        .await?)
}
