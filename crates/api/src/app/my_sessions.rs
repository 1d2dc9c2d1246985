//! ListMyUserSessions: the sessions of the hosted login (`login_sessions`, written by the OIDC
//! provider's front channel) in the browser the caller's token was issued in, as ZITADEL: every
//! user signed in there, newest first. The token names its browser through its login session
//! (`sid`, `Principal::session_id`); a PAT or a machine's token has none and gets an empty list.

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
    let Some(sid) = me.session_id.clone() else {
        return Ok(Vec::new());
    };
    let inst = ctx.instance_id.clone();
    let rows = st
        .db
        .read(move |c| {
            let rows = c.query(
                "SELECT s.id, s.user_agent_id, s.created_at, s.updated_at, u.username, u.login_name, u.display_name, u.org_id, u.avatar_key, u.id \
                 FROM login_sessions s JOIN users u ON u.instance_id = s.instance_id AND u.id = s.user_id \
                 WHERE s.instance_id = ? AND s.terminated_at = 0 AND s.user_agent_id = \
                 (SELECT t.user_agent_id FROM login_sessions t WHERE t.instance_id = ? AND t.id = ?) \
                 ORDER BY s.updated_at DESC",
                &params![&inst, &inst, &sid],
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
                    r.text(9)?,
                ));
            }
            Ok(out)
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                agent,
                created,
                changed,
                user_name,
                login_name,
                display_name,
                org,
                avatar,
                user_id,
            )| {
                pb::Session {
                    session_id: id,
                    // The stored (hashed) browser id: it names the browser without revealing its cookie.
                    agent_id: agent,
                    auth_state: ACTIVE,
                    user_id,
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
