//! Organisation domain validation: GenerateOrgDomainValidation issues a token to publish over
//! HTTP or DNS, ValidateOrgDomain checks it (network I/O outside any transaction) and verifies
//! the domain, claiming the user names of other organisations that end in `@<domain>`.

use super::domain_check::{DNS, HTTP};
use super::orgs::{domain_arg, domain_not_found, load};
use crate::convert::mutation;
use crate::ctx::Ctx;
use crate::error::R;
use crate::state::St;
use castellan_domain::events::{agg, Payload};
use castellan_domain::{Error, Result};
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::{params, Conn};

/// The validation state of a domain of an organisation.
struct Pending {
    verified: bool,
    kind: i32,
    token: String,
}

fn pending(c: &mut dyn Conn, inst: &str, org: &str, domain: &str) -> Result<Pending> {
    let r = c
        .one(
            "SELECT is_verified, validation_type, validation_code FROM org_domains WHERE instance_id = ? AND org_id = ? AND domain = ?",
            &params![inst, org, domain],
        )?
        .ok_or_else(|| domain_not_found(domain))?;
    Ok(Pending {
        verified: r.int(0)? != 0,
        kind: r.int(1)? as i32,
        token: r.text(2)?,
    })
}

fn already_verified(domain: &str) -> Error {
    Error::precondition("ORG-HGw21", "Errors.Org.DomainAlreadyVerified")
        .with(format!("{domain} is already verified"))
}

/// Fails when another organisation of the instance has verified `domain`.
fn ensure_unclaimed(c: &mut dyn Conn, inst: &str, org: &str, domain: &str) -> Result<()> {
    let taken = c
        .one(
            "SELECT 1 FROM org_domains WHERE instance_id = ? AND domain = ? AND is_verified = 1 AND org_id <> ?",
            &params![inst, domain, org],
        )?
        .is_some();
    if taken {
        return Err(
            Error::exists("ORG-dom41n", "Errors.Org.Domain.AlreadyExists")
                .with(format!("{domain} is verified by another organisation")),
        );
    }
    Ok(())
}

/// A token of 32 letters and digits (as ZITADEL's domain verification generator).
fn new_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    castellan_domain::id::random_bytes::<64>()
        .iter()
        // 248 = 4 × 62: rejecting larger bytes keeps the choice uniform.
        .filter(|b| **b < 248)
        .take(32)
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

/// GenerateOrgDomainValidation: a new token for an unverified domain of `org`, replacing any
/// earlier one; returns the token and where to publish it.
pub async fn generate(
    st: &St,
    ctx: &Ctx,
    org: &str,
    domain: &str,
    kind: i32,
) -> R<(String, String)> {
    let domain = domain_arg(domain)?;
    if kind != HTTP && kind != DNS {
        return Err(Error::invalid(
            "ORG-Gsw31",
            "Errors.Org.DomainVerificationTypeInvalid",
            "type must be DOMAIN_VALIDATION_TYPE_HTTP or DOMAIN_VALIDATION_TYPE_DNS",
        )
        .into());
    }
    // Retried commands reuse the token drawn once, so the caller gets the stored one.
    let mut token = new_token();
    while token.len() < 32 {
        token = new_token();
    }
    let (org_id, d, t) = (org.to_string(), domain.clone(), token.clone());
    st.db
        .command(org, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            load(tx.conn, &inst, &org_id)?;
            if pending(tx.conn, &inst, &org_id, &d)?.verified {
                return Err(already_verified(&d));
            }
            tx.push(
                agg::ORG,
                &org_id,
                &org_id,
                vec![Payload::OrgDomainVerificationAdded {
                    domain: d.clone(),
                    validation_type: kind,
                    validation_code: t.clone(),
                }],
            )
        })
        .await?;
    let url = st.domain_check.target(&domain, &token, kind);
    Ok((token, url))
}

/// ValidateOrgDomain: runs the pending check; on success the domain is verified and users of
/// other organisations named `…@<domain>` get temporary user names (`user.domain.claimed`);
/// on failure `org.domain.verification.failed` is recorded and the error says what was found.
pub async fn validate(st: &St, ctx: &Ctx, org: &str, domain: &str) -> R<ObjectDetails> {
    let domain = domain_arg(domain)?;
    let (inst, org_id, d) = (ctx.instance_id.clone(), org.to_string(), domain.clone());
    let p = st
        .db
        .read(move |c| {
            load(c, &inst, &org_id)?;
            let p = pending(c, &inst, &org_id, &d)?;
            if p.verified {
                return Err(already_verified(&d));
            }
            if p.token.is_empty() || (p.kind != HTTP && p.kind != DNS) {
                return Err(
                    Error::precondition("ORG-SFBB3", "Errors.Org.DomainVerificationMissing")
                        .with(format!(
                            "no validation token was generated for {d}; call GenerateOrgDomainValidation first"
                        )),
                );
            }
            ensure_unclaimed(c, &inst, &org_id, &d)?;
            Ok(p)
        })
        .await?;

    if let Err(failure) = st.domain_check.check(&domain, &p.token, p.kind).await {
        let (org_id, d) = (org.to_string(), domain.clone());
        st.db
            .command(org, ctx.author(), move |tx| {
                tx.push(
                    agg::ORG,
                    &org_id,
                    &org_id,
                    vec![Payload::OrgDomainVerificationFailed { domain: d.clone() }],
                )
            })
            .await?;
        return Err(failure.into());
    }

    let (org_id, d) = (org.to_string(), domain.clone());
    let temp_domain = st.cfg.external_domain.clone();
    let ids = st.clone();
    let evs = st
        .db
        .command(org, ctx.author(), move |tx| {
            let inst = tx.instance().to_string();
            let now = pending(tx.conn, &inst, &org_id, &d)?;
            if now.verified {
                return Err(already_verified(&d));
            }
            if now.token != p.token {
                return Err(
                    Error::precondition("ORG-GH3s", "Errors.Org.DomainVerificationFailed")
                        .with("a new token was generated during the check; validate again"),
                );
            }
            ensure_unclaimed(tx.conn, &inst, &org_id, &d)?;
            let evs = tx.push(
                agg::ORG,
                &org_id,
                &org_id,
                vec![Payload::OrgDomainVerified { domain: d.clone() }],
            )?;
            claim_user_names(tx, &inst, &org_id, &d, &temp_domain, &ids.ids)?;
            Ok(evs)
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

/// Gives users of other organisations whose user name ends in `@<domain>` the temporary user
/// name `<id>@temporary.<instance domain>`, as ZITADEL does.
fn claim_user_names(
    tx: &mut castellan_store::Tx<'_>,
    inst: &str,
    org: &str,
    domain: &str,
    external_domain: &str,
    ids: &castellan_domain::id::IdGenerator,
) -> Result<()> {
    let suffix = format!("@{domain}");
    let instance_domain = tx
        .one(
            "SELECT primary_domain FROM instances WHERE id = ?",
            &params![inst],
        )?
        .map(|r| r.text(0))
        .transpose()?
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| external_domain.to_string());
    let rows = tx.query(
        "SELECT id, org_id, username FROM users WHERE instance_id = ? AND org_id <> ? AND lower(username) LIKE ?",
        &params![inst, org, format!("%{suffix}")],
    )?;
    for r in rows {
        let (id, owner, old) = (r.text(0)?, r.text(1)?, r.text(2)?);
        // LIKE treats `_` as a wildcard: compare exactly.
        if !old.to_lowercase().ends_with(&suffix) {
            continue;
        }
        let user_name = format!("{}@temporary.{instance_domain}", ids.next());
        let login_name = super::users::login_name(tx.conn, inst, &owner, &user_name)?;
        tx.push(
            agg::USER,
            &id,
            &owner,
            vec![Payload::UserDomainClaimed {
                user_name,
                old_user_name: old,
                login_name,
            }],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens() {
        let t = super::new_token();
        assert!(t.len() <= 32 && t.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(super::new_token(), super::new_token());
    }
}
