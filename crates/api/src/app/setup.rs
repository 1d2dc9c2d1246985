//! Setting up organisations with their first owner (admin `SetUpOrg`) and the first instance.

use super::users::{push_human, NewHuman};
use crate::convert::mutation;
use crate::ctx::Ctx;
use crate::error::R;
use crate::state::St;
use castellan_domain::events::{agg, Payload, Profile};
use castellan_domain::{validate, Error};
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::{params, Author};

/// SetUpOrg: an organisation and its first human owner in one transaction.
pub async fn setup_org(
    st: &St,
    ctx: &Ctx,
    org_name: &str,
    human: NewHuman,
    roles: Vec<String>,
) -> R<(String, String, ObjectDetails)> {
    let name = validate::required("org.name", org_name, validate::MAX_NAME)?;
    let roles = if roles.is_empty() {
        vec!["ORG_OWNER".to_string()]
    } else {
        roles
    };
    let roles = super::members::check_roles(castellan_domain::roles::Level::Org, &roles)?;
    // A new organisation has no policy of its own: the instance default applies.
    let (h, hash) = super::users::prepare_human(st, &ctx.instance_id, "", human).await?;
    let (org_id, user_id) = (
        st.ids.next(),
        h.user_id.clone().unwrap_or_else(|| st.ids.next()),
    );
    let (oid, uid, ext) = (
        org_id.clone(),
        user_id.clone(),
        st.cfg.external_domain.clone(),
    );
    let key = org_id.clone();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let mut evs = super::orgs::create(tx, &oid, &name, &ext, None)?;
            evs.extend(push_human(tx, &uid, &oid, &h, &hash)?);
            evs.extend(tx.push(
                agg::ORG,
                &oid,
                &oid,
                vec![Payload::OrgMemberAdded {
                    user_id: uid.clone(),
                    roles: roles.clone(),
                }],
            )?);
            Ok(evs)
        })
        .await?;
    Ok((org_id, user_id, mutation(&evs, true).unwrap_or_default()))
}

/// What the first instance is made of (`FirstInstance` in the configuration).
#[derive(Debug, Clone)]
pub struct FirstInstance {
    pub instance_name: String,
    pub org_name: String,
    pub human_username: String,
    /// Empty: a random password is generated (and must be changed at first login).
    pub human_password: String,
    pub human_first_name: String,
    pub human_last_name: String,
    pub human_email: String,
    pub password_change_required: bool,
    /// A machine user with IAM_OWNER and a PAT is created when set.
    pub machine_username: Option<String>,
    pub machine_name: String,
    /// The default domain policy: login names are `username@<org primary domain>`.
    pub user_login_must_be_domain: bool,
    /// The default domain policy: domains added to organisations need validation.
    pub validate_org_domains: bool,
}

/// The result of initialisation.
#[derive(Debug, Clone)]
pub struct InitOutcome {
    pub instance_id: String,
    pub admin_login: String,
    /// Set when the password was generated: show it once.
    pub generated_password: Option<String>,
    /// The machine user's PAT, when a machine user was requested.
    pub pat: Option<String>,
}

/// A random password that satisfies the default complexity policy.
pub fn random_password() -> String {
    let core = super::tokens::random_token();
    format!("{}Aa1!", &core[..16])
}

/// Whether the first instance exists.
pub async fn initialised(st: &St) -> R<bool> {
    Ok(st
        .db
        .read(|c| {
            Ok(c.one(
                "SELECT 1 FROM system_settings WHERE key = 'first_instance'",
                &[],
            )?
            .is_some())
        })
        .await?)
}

/// Creates the first instance, its organisation, the instance administrator and (optionally)
/// an IAM_OWNER machine user with a PAT, in one transaction. Returns `None` when already done.
pub async fn init_first_instance(st: &St, fi: FirstInstance) -> R<Option<InitOutcome>> {
    if initialised(st).await? {
        return Ok(None);
    }
    let generated = fi.human_password.is_empty().then(random_password);
    let password = generated
        .clone()
        .unwrap_or_else(|| fi.human_password.clone());
    let human = NewHuman {
        username: fi.human_username.clone(),
        profile: Profile {
            first_name: fi.human_first_name.clone(),
            last_name: fi.human_last_name.clone(),
            ..Default::default()
        },
        email: fi.human_email.clone(),
        email_verified: true,
        password,
        password_change_required: fi.password_change_required || generated.is_some(),
        ..Default::default()
    };
    // The instance does not exist yet: the built-in default applies.
    let (h, hash) = super::users::prepare_human(st, "", "", human).await?;
    let machine = match &fi.machine_username {
        Some(u) => Some((
            validate::username("FirstInstance.Org.Machine.Machine.Username", u)?,
            validate::required(
                "FirstInstance.Org.Machine.Machine.Name",
                &fi.machine_name,
                validate::MAX_NAME,
            )?,
        )),
        None => None,
    };
    let ids = super::instances::Created {
        instance_id: st.ids.next(),
        org_id: st.ids.next(),
        human_id: st.ids.next(),
        machine_id: st.ids.next(),
        pat_id: st.ids.next(),
        pat: machine.as_ref().map(|_| super::tokens::random_token()),
        ..Default::default()
    };
    let ext = st.cfg.external_domain.to_lowercase();
    let admin_login = h.username.clone();
    let spec = super::instances::InstanceSpec {
        name: fi.instance_name.clone(),
        org_name: fi.org_name.clone(),
        generated_domain: ext.clone(),
        custom_domain: None,
        default_language: "en".into(),
        human: Some((h, hash)),
        machine: machine.map(|(username, name)| super::instances::MachineOwner {
            username,
            name,
            pat_expiry: Some(crate::authn::NO_EXPIRY),
            key_expiry: None,
        }),
        user_login_must_be_domain: fi.user_login_must_be_domain,
        validate_org_domains: fi.validate_org_domains,
    };
    let author = Author {
        instance_id: ids.instance_id.clone(),
        creator: "SYSTEM".into(),
    };
    let key = ids.instance_id.clone();
    let ids2 = ids.clone();
    let created = st
        .db
        .command(&key, author, move |tx| {
            if tx
                .one(
                    "SELECT 1 FROM system_settings WHERE key = 'first_instance'",
                    &[],
                )?
                .is_some()
            {
                return Ok(false);
            }
            tx.exec(
                "INSERT INTO system_settings (key, value) VALUES ('first_instance', ?)",
                &params![&ids2.instance_id],
            )?;
            super::instances::push_instance(tx, &ids2, &spec, &ext, None)?;
            Ok(true)
        })
        .await?;
    if !created {
        return Ok(None);
    }
    Ok(Some(InitOutcome {
        instance_id: ids.instance_id,
        admin_login,
        generated_password: generated,
        pat: ids.pat,
    }))
}

/// Error for a first-instance configuration that cannot work.
pub fn config_error(detail: String) -> Error {
    Error::invalid("SETUP-c0nf1", "Errors.Invalid.Argument", detail)
}
