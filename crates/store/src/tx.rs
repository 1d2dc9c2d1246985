//! A command's view of the open transaction: queries on the read models, and `push`, which
//! appends events (optimistic concurrency on the per-aggregate sequence) and applies them to
//! the read models in the same transaction.

use crate::conn::{Conn, DbError, Dialect};
use crate::value::{Row, Value};
use crate::{params, projection};
use castellan_domain::events::Payload;
use castellan_domain::{Error, Result};
use serde::Serialize;

/// A stored event.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub position: i64,
    pub instance_id: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub seq: i64,
    pub event_type: String,
    pub payload: serde_json::Value,
    pub creator: String,
    pub owner: String,
    pub created_at: i64,
}

impl Event {
    pub fn payload(&self) -> Result<Payload> {
        Payload::join(&self.event_type, &self.payload).map_err(|e| {
            Error::internal(
                "STORE-ev0De",
                format!("event {} cannot be decoded: {e}", self.event_type),
            )
        })
    }
}

/// Who is changing what, at which time.
#[derive(Debug, Clone)]
pub struct Author {
    pub instance_id: String,
    /// The calling user's id, or `SYSTEM`.
    pub creator: String,
}

/// The open transaction of one command.
pub struct Tx<'a> {
    pub conn: &'a mut dyn Conn,
    pub author: Author,
    pub now: i64,
    pub pushed: Vec<Event>,
    /// Whether this command already notified other nodes (auth caches, user caches).
    notified: (bool, bool),
    /// Whether a pushed event changed a read model (read-model caches must drop).
    changed: bool,
}

impl<'a> Tx<'a> {
    pub fn new(conn: &'a mut dyn Conn, author: Author) -> Self {
        let now = castellan_domain::id::now_micros();
        Tx {
            conn,
            author,
            now,
            pushed: Vec::new(),
            notified: (false, false),
            changed: false,
        }
    }

    pub fn instance(&self) -> &str {
        &self.author.instance_id
    }

    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        Ok(self.conn.query(sql, params)?)
    }
    pub fn one(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.conn.one(sql, params)?)
    }
    pub fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        Ok(self.conn.exec(sql, params)?)
    }

    /// Appends `payloads` to the aggregate and applies them to the read models.
    pub fn push(
        &mut self,
        aggregate_type: &str,
        aggregate_id: &str,
        owner: &str,
        payloads: Vec<Payload>,
    ) -> Result<Vec<Event>> {
        let inst = self.author.instance_id.clone();
        let mut out = Vec::with_capacity(payloads.len());
        for p in payloads {
            let (event_type, payload) = p.split();
            let text = payload.to_string();
            // The next sequence of the aggregate, computed in the insert itself; a concurrent
            // writer of the same aggregate hits the unique index and the command is retried.
            let row = self.conn.one(
                "INSERT INTO events (instance_id, aggregate_type, aggregate_id, seq, event_type, payload, creator, owner, created_at) \
                 SELECT ?, ?, ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, CAST(? AS BIGINT) FROM events \
                 WHERE instance_id = ? AND aggregate_type = ? AND aggregate_id = ? RETURNING position, seq",
                &params![&inst, aggregate_type, aggregate_id, &event_type, text, &self.author.creator, owner, self.now, &inst, aggregate_type, aggregate_id],
            )?;
            let seq = row.as_ref().map(|r| r.int(1)).transpose()?.unwrap_or(0);
            let position = row.map(|r| r.int(0)).transpose()?.unwrap_or(0);
            let ev = Event {
                position,
                instance_id: inst.clone(),
                aggregate_type: aggregate_type.to_string(),
                aggregate_id: aggregate_id.to_string(),
                seq,
                event_type,
                payload,
                creator: self.author.creator.clone(),
                owner: owner.to_string(),
                created_at: self.now,
            };
            let changed = projection::apply(self.conn, &ev, &p)?;
            self.changed |= changed;
            if self.conn.dialect() == Dialect::Postgres {
                // Other nodes drop their caches when this transaction commits.
                if p.affects_auth() && !self.notified.0 {
                    self.conn
                        .exec("SELECT pg_notify('castellan_auth', ?)", &params![&inst])
                        .map_err(|e: DbError| Error::from(e))?;
                    self.notified.0 = true;
                }
                // Other nodes' read-model caches (users, claims) follow every change but
                // signing keys'.
                if changed
                    && aggregate_type != castellan_domain::events::agg::KEY_PAIR
                    && !self.notified.1
                {
                    self.conn
                        .exec("SELECT pg_notify('castellan_data', ?)", &params![&inst])
                        .map_err(|e: DbError| Error::from(e))?;
                    self.notified.1 = true;
                }
            }
            out.push(ev.clone());
            self.pushed.push(ev);
        }
        Ok(out)
    }

    /// Whether anything pushed so far changed a read model.
    pub fn changes_data(&self) -> bool {
        self.changed
    }

    /// Whether anything pushed so far invalidates authentication caches.
    pub fn touches_auth(&self) -> bool {
        self.pushed
            .iter()
            .any(|e| e.payload().map(|p| p.affects_auth()).unwrap_or(true))
    }
}
