//! ListMyUserSessions: the calling user's sessions of the hosted login (`login_sessions`,
//! written by the OIDC provider's front channel). Tokens do not name their browser here, so the
//! answer lists every browser where the caller is signed in, newest first.

use crate::convert::details;
use crate::ctx::Ctx;
use crate::error::R;
use crate::state::St;
use castellan_proto::zitadel::user::v1 as pb;
use castellan_store::params;

/// `SessionState` numbers.
const ACTIVE: i32 = 1;

pub async fn list(st: &St, ctx: &Ctx) -> R<Vec<pb::Session>> {
    let me = ctx.caller()?;
    let (inst, uid) = (ctx.instance_id.clone(), me.user_id.clone());
    let rows = st
        .db
        .read(move |c| {
            let rows = c.query(
                "SELECT s.id, s.user_agent_id, s.created_at, s.updated_at, u.username, u.login_name, u.display_name, u.org_id, u.avatar_key \
                 FROM login_sessions s JOIN users u ON u.instance_id = s.instance_id AND u.id = s.user_id \
                 WHERE s.instance_id = ? AND s.user_id = ? AND s.terminated_at = 0 ORDER BY s.updated_at DESC",
                &params![&inst, &uid],
            )?;
            let mut out = Vec::new();
            for r in rows {
                out.push((
                    r.text(0)?,
                    r.text(1)?,
                    r.int(2)?,
                    r.int(3)?,
                    r.text(4)?,
                    r.text(5)?,
                    r.text(6)?,
                    r.text(7)?,
                    r.text(8)?,
                ));
            }
            Ok(out)
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, agent, created, changed, user_name, login_name, display_name, org, avatar)| {
                pb::Session {
                    session_id: id,
                    // The stored (hashed) browser id: it names the browser without revealing its cookie.
                    agent_id: agent,
                    auth_state: ACTIVE,
                    user_id: me.user_id.clone(),
                    user_name,
                    login_name,
                    display_name,
                    details: details(0, created, changed, &org),
                    avatar_url: crate::assets::url(&org, &avatar),
                }
            },
        )
        .collect())
}
