//! Rate limits on failed password checks, per client address and per user (or per login name
//! when it names nobody): a key with its limit of failures in the current and the previous
//! minute together gets no password check at all, so a burst cannot pass a window boundary;
//! successful checks cost nothing (a user who signs in often is never stopped). The counters
//! are rows of `login_rate_limits` per key and minute, so every node of a cluster counts the
//! same failures; the lockout policy still bounds guesses per user on top.

use castellan_api::state::St;
use castellan_domain::Result;
use castellan_store::{params, Conn};

/// Failed password checks allowed from one client address in the current and previous minute.
pub const CHECKS_PER_IP: u32 = 60;
/// Failed password checks allowed for one user (or login name) in the current and previous
/// minute.
pub const CHECKS_PER_LOGIN_NAME: u32 = 10;

/// Of 256, how many hits also delete the counters of past minutes (1 in 64).
const PRUNE_SHARE: u8 = 4;

/// The two counters a password check is held against.
#[derive(Clone, Debug)]
pub struct Keys {
    ip: String,
    who: String,
}

impl Keys {
    /// The counters of a check from address `ip` for `who` (a user id, or the login name
    /// when it names nobody: spellings of one user share the user's budget) in `instance`.
    pub fn new(instance: &str, ip: &str, who: &str) -> Keys {
        Keys {
            ip: format!("ip/{instance}/{ip}"),
            who: format!("user/{instance}/{}", who.to_lowercase()),
        }
    }

    /// Whether a password check may run now: neither counter is at its limit.
    pub async fn allow(&self, st: &St) -> Result<bool> {
        let (ip, who, since) = (self.ip.clone(), self.who.clone(), minute() - 1);
        st.db
            .read_point(move |c| {
                let rows = c.query(
                    "SELECT key, CAST(SUM(hits) AS BIGINT) FROM login_rate_limits \
                     WHERE key IN (?, ?) AND minute >= ? GROUP BY key",
                    &params![&ip, &who, since],
                )?;
                for r in &rows {
                    let limit = if r.text(0)? == ip {
                        CHECKS_PER_IP
                    } else {
                        CHECKS_PER_LOGIN_NAME
                    };
                    if r.int(1)? >= i64::from(limit) {
                        return Ok(false);
                    }
                }
                Ok(true)
            })
            .await
    }

    /// Counts a failed check against both counters, inside the caller's write.
    pub fn hit_in(&self, c: &mut dyn Conn) -> Result<()> {
        let minute = minute();
        for key in [&self.ip, &self.who] {
            c.exec(
                "INSERT INTO login_rate_limits (key, minute, hits) VALUES (?, ?, 1) \
                 ON CONFLICT (key, minute) DO UPDATE SET hits = login_rate_limits.hits + 1",
                &params![key, minute],
            )?;
        }
        if castellan_domain::id::random_bytes::<1>()[0] < PRUNE_SHARE {
            c.exec(
                "DELETE FROM login_rate_limits WHERE minute < ?",
                &params![minute - 1],
            )?;
        }
        Ok(())
    }

    /// [`Keys::hit_in`] in a write of its own (a check that wrote nothing else).
    pub async fn hit(&self, st: &St) -> Result<()> {
        let keys = self.clone();
        st.db
            .write(&self.who.clone(), move |c| keys.hit_in(c))
            .await
    }
}

/// The current one-minute window.
fn minute() -> i64 {
    castellan_domain::id::now_micros() / 60_000_000
}
