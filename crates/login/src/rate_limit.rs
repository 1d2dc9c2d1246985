//! Rate limits on failed attempts at the login: password checks per client address and per
//! user (or per login name when it names nobody), and user codes typed on the device page per
//! client address (RFC 8628 5.1). A key with its limit of failures in the current and the
//! previous minute together gets no attempt at all, so a burst cannot pass a window boundary;
//! successes cost nothing (a user who signs in often is never stopped). The counters are rows
//! of `login_rate_limits` per key and minute, so every node of a cluster counts the same
//! failures; the lockout policy still bounds password guesses per user on top.

use castellan_api::state::St;
use castellan_domain::Result;
use castellan_store::{params, Conn, Value};

/// Failed password checks allowed from one client address in the current and previous minute.
pub const CHECKS_PER_IP: u32 = 60;
/// Failed password checks allowed for one user (or login name) in the current and previous
/// minute.
pub const CHECKS_PER_LOGIN_NAME: u32 = 10;
/// Unknown user codes allowed on the device page from one client address in the current and
/// previous minute.
pub const DEVICE_CODES_PER_IP: u32 = 20;

/// Of 256, how many hits also delete the counters of past minutes (1 in 64).
const PRUNE_SHARE: u8 = 4;

/// The counters an attempt is held against: keys with their limits.
#[derive(Clone, Debug)]
pub struct Keys(Vec<(String, u32)>);

impl Keys {
    /// The counters of a password check from address `ip` for `who` (a user id, or the login
    /// name when it names nobody: spellings of one user share the user's budget) in
    /// `instance`.
    pub fn password(instance: &str, ip: &str, who: &str) -> Keys {
        Keys(vec![
            (password_ip_key(instance, ip), CHECKS_PER_IP),
            (
                format!("{}{}", password_user_prefix(instance), who.to_lowercase()),
                CHECKS_PER_LOGIN_NAME,
            ),
        ])
    }

    /// Whether counters with these failures in the current and previous minute (in the
    /// order of the keys) allow an attempt.
    pub fn allow_hits(&self, hits: &[i64]) -> bool {
        self.0.len() == hits.len()
            && self
                .0
                .iter()
                .zip(hits)
                .all(|((_, limit), n)| *n < i64::from(*limit))
    }

    /// The counter of user codes typed on the device page from address `ip` in `instance`.
    pub fn device_code(instance: &str, ip: &str) -> Keys {
        Keys(vec![(
            format!("device/{instance}/{ip}"),
            DEVICE_CODES_PER_IP,
        )])
    }

    /// Whether an attempt may be made now: no counter is at its limit.
    pub async fn allow(&self, st: &St) -> Result<bool> {
        let keys = self.clone();
        st.db.read_point(move |c| keys.allow_in(c)).await
    }

    /// [`Keys::allow`] inside the caller's read.
    pub fn allow_in(&self, c: &mut dyn Conn) -> Result<bool> {
        let marks = vec!["?"; self.0.len()].join(", ");
        let mut p: Vec<Value> = self.0.iter().map(|(k, _)| Value::from(k)).collect();
        p.push(Value::from(window_start()));
        let rows = c.query(
            &format!(
                "SELECT key, CAST(SUM(hits) AS BIGINT) FROM login_rate_limits \
                 WHERE key IN ({marks}) AND minute >= ? GROUP BY key"
            ),
            &p,
        )?;
        let mut hits = vec![0; self.0.len()];
        for r in &rows {
            let key = r.text(0)?;
            if let Some(i) = self.0.iter().position(|(k, _)| *k == key) {
                hits[i] = r.int(1)?;
            }
        }
        Ok(self.allow_hits(&hits))
    }

    /// Counts a failed attempt against every counter, inside the caller's write.
    pub fn hit_in(&self, c: &mut dyn Conn) -> Result<()> {
        let minute = minute();
        for (key, _) in &self.0 {
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

    /// [`Keys::hit_in`] in a write of its own (an attempt that wrote nothing else).
    pub async fn hit(&self, st: &St) -> Result<()> {
        let keys = self.clone();
        let first = self.0.first().map(|(k, _)| k.clone()).unwrap_or_default();
        st.db.write(&first, move |c| keys.hit_in(c)).await
    }
}

/// The current one-minute window.
fn minute() -> i64 {
    castellan_domain::id::now_micros() / 60_000_000
}

/// The first minute whose failures count now (the previous one).
pub fn window_start() -> i64 {
    minute() - 1
}

/// The key of a password check's per-address counter.
pub fn password_ip_key(instance: &str, ip: &str) -> String {
    format!("ip/{instance}/{ip}")
}

/// What a password check's per-user counter key starts with: the user id follows.
pub fn password_user_prefix(instance: &str) -> String {
    format!("user/{instance}/")
}

/// An SQL expression of the failures counted under the key `key` (an SQL expression) since
/// the minute `since` (another).
pub fn hits_sql(key: &str, since: &str) -> String {
    format!(
        "(SELECT CAST(COALESCE(SUM(hits), 0) AS BIGINT) FROM login_rate_limits \
         WHERE key = {key} AND minute >= {since})"
    )
}
