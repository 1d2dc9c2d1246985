//! Regenerates every read model from the events, in one transaction.

use crate::conn::Conn;
use crate::migrate::READ_MODELS;
use crate::params;
use crate::tx::Event;
use castellan_domain::Result;

/// Reads events in position order, `limit` at a time, starting after `after`.
pub fn events_page(c: &mut dyn Conn, after: i64, limit: i64) -> Result<Vec<Event>> {
    let rows = c.query(
        "SELECT position, instance_id, aggregate_type, aggregate_id, seq, event_type, payload, creator, owner, created_at \
         FROM events WHERE position > ? ORDER BY position LIMIT ?",
        &params![after, limit],
    )?;
    rows.iter().map(event_from_row).collect()
}

/// Decodes an event row selected in the column order of `events_page`.
pub fn event_from_row(r: &crate::Row) -> Result<Event> {
    Ok(Event {
        position: r.int(0)?,
        instance_id: r.text(1)?,
        aggregate_type: r.text(2)?,
        aggregate_id: r.text(3)?,
        seq: r.int(4)?,
        event_type: r.text(5)?,
        payload: serde_json::from_str(&r.text(6)?).unwrap_or(serde_json::Value::Null),
        creator: r.text(7)?,
        owner: r.text(8)?,
        created_at: r.int(9)?,
    })
}

/// Empties the read models and replays every event. Returns the number of events applied.
pub fn rebuild(c: &mut dyn Conn) -> Result<u64> {
    for t in READ_MODELS {
        c.exec(&format!("DELETE FROM {t}"), &[])?;
    }
    let mut after = 0;
    let mut n = 0u64;
    loop {
        let page = events_page(c, after, 5000)?;
        if page.is_empty() {
            break;
        }
        for e in &page {
            crate::projection::apply(c, e, &e.payload()?)?;
            after = e.position;
            n += 1;
        }
    }
    Ok(n)
}
