//! Small conversions between stored values and API messages.

use castellan_proto::zitadel::v1 as pb;
use castellan_store::Event;

/// Microseconds since the epoch → protobuf timestamp.
pub fn ts(micros: i64) -> Option<prost_types::Timestamp> {
    (micros > 0).then(|| prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1000) as i32,
    })
}

/// Protobuf timestamp → microseconds since the epoch.
pub fn micros(t: &prost_types::Timestamp) -> i64 {
    t.seconds
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(t.nanos) / 1000)
}

/// Details of an object read from a read model.
pub fn details(seq: i64, created: i64, changed: i64, owner: &str) -> Option<pb::ObjectDetails> {
    Some(pb::ObjectDetails {
        sequence: seq.max(0) as u64,
        creation_date: ts(created),
        change_date: ts(changed),
        resource_owner: owner.to_string(),
    })
}

/// Details of a mutation: the last event it wrote (`created` marks additions).
pub fn mutation(events: &[Event], created: bool) -> Option<pb::ObjectDetails> {
    let e = events.last()?;
    Some(pb::ObjectDetails {
        sequence: e.seq as u64,
        creation_date: if created { ts(e.created_at) } else { None },
        change_date: ts(e.created_at),
        resource_owner: e.owner.clone(),
    })
}

/// List details: total, the newest event position and the time of the read.
pub fn list_details(total: i64, processed: i64) -> Option<pb::ListDetails> {
    Some(pb::ListDetails {
        total_result: total.max(0) as u64,
        processed_sequence: processed.max(0) as u64,
        view_timestamp: ts(castellan_domain::id::now_micros()),
    })
}
