//! Machine credentials: personal access tokens and machine keys (JSON key files).

use super::query::Page;
use crate::authn::{hash_secret, NO_EXPIRY};
use crate::convert::{details, micros, mutation, ts};
use crate::ctx::Ctx;
use crate::error::{invalid, R};
use crate::state::St;
use base64::Engine;
use castellan_domain::events::{agg, Payload};
use castellan_domain::{Error, Result};
use castellan_proto::zitadel::authn::v1 as kpb;
use castellan_proto::zitadel::user::v1 as upb;
use castellan_proto::zitadel::v1::ObjectDetails;
use castellan_store::projection::MACHINE;
use castellan_store::{params, Row, Tx};

/// Scopes a personal access token carries (as ZITADEL's).
pub const PAT_SCOPES: [&str; 2] = ["openid", "urn:zitadel:iam:org:project:id:zitadel:aud"];

/// A new opaque secret: 32 random bytes (256 bits), base64url.
pub fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(castellan_domain::id::random_bytes::<32>())
}

/// A key's or token's expiration: in the future, or none (`NO_EXPIRY`) when not given.
pub fn expiration(t: Option<&prost_types::Timestamp>) -> Result<i64> {
    match t {
        None => Ok(NO_EXPIRY),
        Some(t) => {
            let m = micros(t);
            if m <= castellan_domain::id::now_micros() {
                return Err(Error::invalid(
                    "USER-d8f2s",
                    "Errors.Invalid.Argument",
                    "expirationDate must be in the future",
                ));
            }
            Ok(m)
        }
    }
}

fn machine_in_org(tx: &mut Tx<'_>, user_id: &str, org: &str) -> Result<String> {
    let inst = tx.instance().to_string();
    let u = super::users::load(tx.conn, &inst, user_id, Some(org))?;
    if u.kind != MACHINE {
        return Err(Error::precondition("USER-m4ch1", "Errors.User.NotMachine"));
    }
    Ok(u.org_id)
}

/// Writes a PAT inside an open command and returns (token id, token, events).
pub fn push_pat(
    tx: &mut Tx<'_>,
    token_id: &str,
    token: &str,
    user_id: &str,
    org: &str,
    exp: i64,
) -> Result<Vec<castellan_store::Event>> {
    let ro = machine_in_org(tx, user_id, org)?;
    let p = Payload::PatAdded {
        token_id: token_id.into(),
        token_hash: hash_secret(token),
        expiration: exp,
        scopes: PAT_SCOPES.iter().map(|s| s.to_string()).collect(),
    };
    tx.push(agg::USER, user_id, &ro, vec![p])
}

/// AddPersonalAccessToken; returns (token id, token, details). The token is shown once.
pub async fn add_pat(
    st: &St,
    ctx: &Ctx,
    user_id: &str,
    exp: Option<&prost_types::Timestamp>,
) -> R<(String, String, ObjectDetails)> {
    let exp = expiration(exp)?;
    let (token_id, token) = (st.ids.next(), random_token());
    let (tid, tok, uid, org) = (
        token_id.clone(),
        token.clone(),
        user_id.to_string(),
        ctx.org_id.clone(),
    );
    let key = user_id.to_string();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            push_pat(tx, &tid, &tok, &uid, &org, exp)
        })
        .await?;
    Ok((token_id, token, mutation(&evs, true).unwrap_or_default()))
}

fn pat_pb(r: &Row) -> Result<upb::PersonalAccessToken> {
    Ok(upb::PersonalAccessToken {
        id: r.text(0)?,
        details: details(r.int(4)?, r.int(3)?, r.int(3)?, &r.text(5)?),
        expiration_date: ts(r.int(1)?),
        scopes: r
            .text(2)?
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

const PAT_COLS: &str = "id, expiration, scopes, created_at, seq, owner";
pub(crate) const KEY_COLS: &str = "id, expiration, key_type, created_at, seq, owner";

pub(crate) fn key_pb(r: &Row) -> Result<kpb::Key> {
    Ok(kpb::Key {
        id: r.text(0)?,
        details: details(r.int(4)?, r.int(3)?, r.int(3)?, &r.text(5)?),
        r#type: r.int(2)? as i32,
        expiration_date: ts(r.int(1)?),
    })
}

/// Which credential table.
#[derive(Debug, Clone, Copy)]
pub enum Cred {
    Pat,
    Key,
}

impl Cred {
    fn table(self) -> &'static str {
        match self {
            Cred::Pat => "pats",
            Cred::Key => "machine_keys",
        }
    }
    fn cols(self) -> &'static str {
        match self {
            Cred::Pat => PAT_COLS,
            Cred::Key => KEY_COLS,
        }
    }
    fn not_found(self) -> Error {
        match self {
            Cred::Pat => Error::not_found("QUERY-4n8vs", "Errors.User.PAT.NotFound"),
            Cred::Key => Error::not_found("QUERY-3m9fs", "Errors.User.Key.NotFound"),
        }
    }
}

/// Lists a machine user's PATs or keys: (total, position, rows).
pub async fn list<T: Send + 'static>(
    st: &St,
    ctx: &Ctx,
    cred: Cred,
    user_id: &str,
    page: Page,
    conv: fn(&Row) -> Result<T>,
) -> R<(i64, i64, Vec<T>)> {
    let (inst, uid, org) = (
        ctx.instance_id.clone(),
        user_id.to_string(),
        ctx.org_id.clone(),
    );
    let tail = page.tail("created_at", "id");
    Ok(st
        .db
        .read(move |c| {
            super::users::load(c, &inst, &uid, Some(&org))?;
            let t = cred.table();
            let total = c.scalar(
                &format!("SELECT COUNT(*) FROM {t} WHERE instance_id = ? AND user_id = ?"),
                &params![&inst, &uid],
            )?;
            let rows = c.query(
                &format!(
                    "SELECT {} FROM {t} WHERE instance_id = ? AND user_id = ?{tail}",
                    cred.cols()
                ),
                &params![&inst, &uid],
            )?;
            let out = rows.iter().map(conv).collect::<Result<Vec<_>>>()?;
            let pos = c.scalar("SELECT COALESCE(MAX(position), 0) FROM events", &[])?;
            Ok((total, pos, out))
        })
        .await?)
}

pub async fn list_pats(
    st: &St,
    ctx: &Ctx,
    user_id: &str,
    page: Page,
) -> R<(i64, i64, Vec<upb::PersonalAccessToken>)> {
    list(st, ctx, Cred::Pat, user_id, page, pat_pb).await
}

pub async fn list_keys(
    st: &St,
    ctx: &Ctx,
    user_id: &str,
    page: Page,
) -> R<(i64, i64, Vec<kpb::Key>)> {
    list(st, ctx, Cred::Key, user_id, page, key_pb).await
}

async fn get_one<T: Send + 'static>(
    st: &St,
    ctx: &Ctx,
    cred: Cred,
    user_id: &str,
    id: &str,
    conv: fn(&Row) -> Result<T>,
) -> R<T> {
    let (inst, uid, id, org) = (
        ctx.instance_id.clone(),
        user_id.to_string(),
        id.to_string(),
        ctx.org_id.clone(),
    );
    Ok(st
        .db
        .read(move |c| {
            super::users::load(c, &inst, &uid, Some(&org))?;
            let r = c.one(
                &format!(
                    "SELECT {} FROM {} WHERE instance_id = ? AND user_id = ? AND id = ?",
                    cred.cols(),
                    cred.table()
                ),
                &params![&inst, &uid, &id],
            )?;
            r.as_ref()
                .map(conv)
                .transpose()?
                .ok_or_else(|| cred.not_found())
        })
        .await?)
}

pub async fn get_pat(st: &St, ctx: &Ctx, user_id: &str, id: &str) -> R<upb::PersonalAccessToken> {
    get_one(st, ctx, Cred::Pat, user_id, id, pat_pb).await
}

pub async fn get_key(st: &St, ctx: &Ctx, user_id: &str, id: &str) -> R<kpb::Key> {
    get_one(st, ctx, Cred::Key, user_id, id, key_pb).await
}

/// Removes a PAT or key of a machine user.
pub async fn remove(st: &St, ctx: &Ctx, cred: Cred, user_id: &str, id: &str) -> R<ObjectDetails> {
    let (uid, id, org) = (user_id.to_string(), id.to_string(), ctx.org_id.clone());
    let key = user_id.to_string();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let ro = machine_in_org(tx, &uid, &org)?;
            let inst = tx.instance().to_string();
            if tx
                .one(
                    &format!(
                        "SELECT 1 FROM {} WHERE instance_id = ? AND user_id = ? AND id = ?",
                        cred.table()
                    ),
                    &params![&inst, &uid, &id],
                )?
                .is_none()
            {
                return Err(cred.not_found());
            }
            let p = match cred {
                Cred::Pat => Payload::PatRemoved {
                    token_id: id.clone(),
                },
                Cred::Key => Payload::MachineKeyRemoved { key_id: id.clone() },
            };
            tx.push(agg::USER, &uid, &ro, vec![p])
        })
        .await?;
    Ok(mutation(&evs, false).unwrap_or_default())
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Extracts the PKCS#1 RSAPrivateKey from a PKCS#8 PrivateKeyInfo.
fn pkcs8_to_pkcs1(p8: &[u8]) -> Option<Vec<u8>> {
    use castellan_domain::jwt::der_tlv;
    let (_, seq_start, _) = der_tlv(p8, 0)?;
    let (_, _, ver_end) = der_tlv(p8, seq_start)?;
    let (_, _, alg_end) = der_tlv(p8, ver_end)?;
    let (tag, s, e) = der_tlv(p8, alg_end)?;
    (tag == 0x04).then(|| p8[s..e].to_vec())
}

/// Generates an RSA-2048 key pair: (PKCS#1 private PEM, SPKI public PEM).
pub fn generate_rsa() -> Result<(String, String)> {
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
    use aws_lc_rs::signature::KeyPair;
    let kp = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .map_err(|e| Error::internal("KEY-g3n01", e.to_string()))?;
    let p8: Pkcs8V1Der = kp
        .as_der()
        .map_err(|e| Error::internal("KEY-d3r01", e.to_string()))?;
    let p1 = pkcs8_to_pkcs1(p8.as_ref())
        .ok_or_else(|| Error::internal("KEY-p1c01", "cannot convert PKCS#8 to PKCS#1"))?;
    let spki: PublicKeyX509Der = kp
        .public_key()
        .as_der()
        .map_err(|e| Error::internal("KEY-d3r02", e.to_string()))?;
    Ok((
        pem("RSA PRIVATE KEY", &p1),
        pem("PUBLIC KEY", spki.as_ref()),
    ))
}

fn rfc3339(m: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(m / 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// The JSON key file of a machine key (`key` only when the private key was generated here).
pub fn key_file(key_id: &str, user_id: &str, exp: i64, private: &str) -> Vec<u8> {
    let mut file = serde_json::json!({"type": "serviceaccount", "keyId": key_id, "userId": user_id, "expirationDate": rfc3339(exp)});
    if !private.is_empty() {
        file["key"] = private.into();
    }
    file.to_string().into_bytes()
}

/// AddMachineKey: generates (or takes) an RSA key; returns (key id, JSON key file, details).
pub async fn add_key(
    st: &St,
    ctx: &Ctx,
    user_id: &str,
    key_type: i32,
    exp: Option<&prost_types::Timestamp>,
    public_key: &[u8],
) -> R<(String, Vec<u8>, ObjectDetails)> {
    add_key_with_id(st, ctx, None, user_id, key_type, exp, public_key).await
}

/// A PEM encoded public key as given by a caller.
pub fn public_pem(public_key: &[u8]) -> R<String> {
    let text = std::str::from_utf8(public_key)
        .map_err(|_| invalid("publicKey must be a PEM encoded public key"))?;
    if !text.contains("-----BEGIN PUBLIC KEY-----")
        && !text.contains("-----BEGIN RSA PUBLIC KEY-----")
    {
        return Err(invalid("publicKey must be a PEM encoded public key"));
    }
    Ok(text.to_string())
}

/// AddMachineKey keeping a given key id (ImportData); the id must be free.
pub async fn add_key_with_id(
    st: &St,
    ctx: &Ctx,
    key_id: Option<&str>,
    user_id: &str,
    key_type: i32,
    exp: Option<&prost_types::Timestamp>,
    public_key: &[u8],
) -> R<(String, Vec<u8>, ObjectDetails)> {
    if key_type != 1 {
        return Err(invalid("type must be KEY_TYPE_JSON"));
    }
    let exp = expiration(exp)?;
    let (private, public) = if public_key.is_empty() {
        tokio::task::spawn_blocking(generate_rsa)
            .await
            .map_err(|e| Error::internal("KEY-j01n0", e.to_string()))??
    } else {
        (String::new(), public_pem(public_key)?)
    };
    let key_id = match key_id {
        Some(id) => castellan_domain::validate::required("keyId", id, 200)?,
        None => st.ids.next(),
    };
    let (kid, uid, org) = (key_id.clone(), user_id.to_string(), ctx.org_id.clone());
    let key = user_id.to_string();
    let evs = st
        .db
        .command(&key, ctx.author(), move |tx| {
            let ro = machine_in_org(tx, &uid, &org)?;
            let inst = tx.instance().to_string();
            if tx
                .one(
                    "SELECT 1 FROM machine_keys WHERE instance_id = ? AND id = ?",
                    &params![&inst, &kid],
                )?
                .is_some()
            {
                return Err(
                    Error::exists("KEY-k3y1d", "Errors.User.Machine.Key.AlreadyExists")
                        .with(format!("a key with the id {kid} exists")),
                );
            }
            tx.push(
                agg::USER,
                &uid,
                &ro,
                vec![Payload::MachineKeyAdded {
                    key_id: kid.clone(),
                    key_type,
                    expiration: exp,
                    public_key: public.clone(),
                }],
            )
        })
        .await?;
    let file = key_file(&key_id, user_id, exp, &private);
    Ok((key_id, file, mutation(&evs, true).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn rsa_key_file_parts() {
        let (private, public) = super::generate_rsa().expect("rsa");
        assert!(private.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert_eq!(super::random_token().len(), 43);
    }
}
