//! The audit trail: admin `ListEvents` and the `List*Changes` histories.

use super::query::{in_list, Filter};
use crate::convert::ts;
use crate::ctx::Ctx;
use crate::error::{invalid, R};
use crate::state::St;
use castellan_domain::Result;
use castellan_proto::zitadel::change::v1 as cpb;
use castellan_proto::zitadel::event::v1 as epb;
use castellan_proto::zitadel::v1::LocalizedMessage;
use castellan_store::rebuild::event_from_row;
use castellan_store::{params, Event, Row};

const EVENT_COLS: &str = "e.position, e.instance_id, e.aggregate_type, e.aggregate_id, e.seq, e.event_type, e.payload, e.creator, e.owner, e.created_at";

/// JSON → `google.protobuf.Value`.
pub fn json_value(v: &serde_json::Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match v {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(*b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Kind::StringValue(s.clone()),
        serde_json::Value::Array(a) => Kind::ListValue(prost_types::ListValue {
            values: a.iter().map(json_value).collect(),
        }),
        serde_json::Value::Object(o) => Kind::StructValue(json_struct(o)),
    };
    prost_types::Value { kind: Some(kind) }
}

fn json_struct(o: &serde_json::Map<String, serde_json::Value>) -> prost_types::Struct {
    prost_types::Struct {
        fields: o.iter().map(|(k, v)| (k.clone(), json_value(v))).collect(),
    }
}

/// Secrets never leave through the audit trail.
fn redact(mut p: serde_json::Value) -> serde_json::Value {
    if let Some(o) = p.as_object_mut() {
        for k in ["password_hash", "hash", "token_hash"] {
            if o.contains_key(k) {
                o.insert(k.into(), "[redacted]".into());
            }
        }
    }
    p
}

fn localized(s: &str) -> Option<LocalizedMessage> {
    Some(LocalizedMessage {
        key: s.to_string(),
        localized_message: s.to_string(),
    })
}

fn event_pb(e: &Event, editor: String) -> epb::Event {
    let payload = match redact(e.payload.clone()) {
        serde_json::Value::Object(o) => Some(json_struct(&o)),
        _ => None,
    };
    epb::Event {
        editor: Some(epb::Editor {
            user_id: e.creator.clone(),
            display_name: editor,
            service: String::new(),
        }),
        aggregate: Some(epb::Aggregate {
            id: e.aggregate_id.clone(),
            r#type: Some(epb::AggregateType {
                r#type: e.aggregate_type.clone(),
                localized: localized(&e.aggregate_type),
            }),
            resource_owner: e.owner.clone(),
        }),
        sequence: e.position as u64,
        creation_date: ts(e.created_at),
        payload,
        r#type: Some(epb::EventType {
            r#type: e.event_type.clone(),
            localized: localized(&e.event_type),
        }),
    }
}

/// Filters of `ListEvents`.
#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    pub after_position: i64,
    pub limit: u64,
    pub asc: bool,
    pub editor: String,
    pub event_types: Vec<String>,
    pub aggregate_id: String,
    pub aggregate_types: Vec<String>,
    pub resource_owner: String,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

fn editor_name(r: &Row, base: usize) -> Result<String> {
    let d = r.text(base)?;
    Ok(if d.is_empty() { r.text(base + 1)? } else { d })
}

/// Lists events of the instance.
pub async fn list(st: &St, ctx: &Ctx, q: EventFilter) -> R<Vec<epb::Event>> {
    if q.limit > st.cfg.max_query_limit {
        return Err(crate::error::ApiErr(
            castellan_domain::Error::new(
                castellan_domain::Kind::InvalidArgument,
                "QUERY-4M0fs",
                "Errors.Query.LimitExceeded",
            )
            .with(format!("limit must be at most {}", st.cfg.max_query_limit)),
        ));
    }
    let limit = if q.limit == 0 {
        st.cfg.default_query_limit
    } else {
        q.limit
    };
    let mut f = Filter::new();
    f.and("e.instance_id = ?", params![&ctx.instance_id]);
    if q.after_position > 0 {
        f.and(
            if q.asc {
                "e.position > ?"
            } else {
                "e.position < ?"
            },
            params![q.after_position],
        );
    }
    if !q.editor.is_empty() {
        f.and("e.creator = ?", params![&q.editor]);
    }
    if !q.event_types.is_empty() {
        let (sql, p) = in_list("e.event_type", &q.event_types);
        f.and(sql, p);
    }
    if !q.aggregate_types.is_empty() {
        let (sql, p) = in_list("e.aggregate_type", &q.aggregate_types);
        f.and(sql, p);
    }
    if !q.aggregate_id.is_empty() {
        f.and("e.aggregate_id = ?", params![&q.aggregate_id]);
    }
    if !q.resource_owner.is_empty() {
        f.and("e.owner = ?", params![&q.resource_owner]);
    }
    if let Some(s) = q.since {
        f.and("e.created_at >= ?", params![s]);
    }
    if let Some(u) = q.until {
        f.and("e.created_at <= ?", params![u]);
    }
    let dir = if q.asc { "ASC" } else { "DESC" };
    Ok(st
        .db
        .read(move |c| {
            let sql = format!(
                "SELECT {EVENT_COLS}, u.display_name, u.machine_name FROM events e LEFT JOIN users u ON u.instance_id = e.instance_id AND u.id = e.creator \
                 WHERE {} ORDER BY e.position {dir} LIMIT {limit}",
                f.clause()
            );
            let rows = c.query(&sql, &f.params)?;
            rows.iter().map(|r| Ok(event_pb(&event_from_row(r)?, editor_name(r, 10)?))).collect()
        })
        .await?)
}

/// The change history of one aggregate.
pub async fn changes(
    st: &St,
    ctx: &Ctx,
    aggregate_type: &'static str,
    id: &str,
    q: Option<&cpb::ChangeQuery>,
) -> R<Vec<cpb::Change>> {
    history(st, ctx, aggregate_type, id, None, q).await
}

/// The change history of one application: the events of its project that carry its id.
pub async fn app_changes(
    st: &St,
    ctx: &Ctx,
    project_id: &str,
    app_id: &str,
    q: Option<&cpb::ChangeQuery>,
) -> R<Vec<cpb::Change>> {
    history(
        st,
        ctx,
        castellan_domain::events::agg::PROJECT,
        project_id,
        Some(app_id),
        q,
    )
    .await
}

async fn history(
    st: &St,
    ctx: &Ctx,
    aggregate_type: &'static str,
    id: &str,
    app_id: Option<&str>,
    q: Option<&cpb::ChangeQuery>,
) -> R<Vec<cpb::Change>> {
    let (seq, limit, asc) = q.map_or((0, 0, false), |q| (q.sequence, u64::from(q.limit), q.asc));
    if limit > st.cfg.max_query_limit {
        return Err(invalid(format!(
            "limit must be at most {}",
            st.cfg.max_query_limit
        )));
    }
    let limit = if limit == 0 {
        st.cfg.default_query_limit
    } else {
        limit
    };
    let (inst, id) = (ctx.instance_id.clone(), id.to_string());
    // Application events carry the application id in their (compact JSON) payload.
    let app_like = app_id.map(|a| format!("%\"app_id\":\"{a}\"%"));
    let assets = crate::assets::prefix();
    let dir = if asc { "ASC" } else { "DESC" };
    let cmp = if asc { ">" } else { "<" };
    Ok(st
        .db
        .read(move |c| {
            let mut p = params![&inst, aggregate_type, &id];
            let mut cond = String::new();
            if seq > 0 {
                cond = format!(" AND e.seq {cmp} ?");
                p.push((seq as i64).into());
            }
            if let Some(like) = &app_like {
                cond.push_str(" AND e.event_type LIKE 'project.application.%' AND e.payload LIKE ?");
                p.push(like.as_str().into());
            }
            let rows = c.query(
                &format!(
                    "SELECT e.seq, e.event_type, e.creator, e.owner, e.created_at, u.display_name, u.machine_name, u.login_name, u.org_id, u.avatar_key FROM events e \
                     LEFT JOIN users u ON u.instance_id = e.instance_id AND u.id = e.creator \
                     WHERE e.instance_id = ? AND e.aggregate_type = ? AND e.aggregate_id = ?{cond} ORDER BY e.seq {dir} LIMIT {limit}"
                ),
                &p,
            )?;
            rows.iter()
                .map(|r| {
                    Ok(cpb::Change {
                        change_date: ts(r.int(4)?),
                        event_type: localized(&r.text(1)?),
                        sequence: r.int(0)? as u64,
                        editor_id: r.text(2)?,
                        editor_display_name: editor_name(r, 5)?,
                        resource_owner_id: r.text(3)?,
                        editor_preferred_login_name: r.text(7)?,
                        editor_avatar_url: crate::assets::url_in(
                            &assets,
                            &r.text(8).unwrap_or_default(),
                            &r.text(9).unwrap_or_default(),
                        ),
                    })
                })
                .collect()
        })
        .await?)
}
