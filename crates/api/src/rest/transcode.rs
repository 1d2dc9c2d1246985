//! proto3 JSON ↔ protobuf for REST: request JSON, path variables and query parameters become
//! the RPC's request message; the response message becomes JSON.

use crate::error::{invalid, R};
use base64::Engine;
use prost_reflect::{
    DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage,
    SerializeOptions, Value,
};

/// Parses a JSON body into a message: unknown fields are ignored, JSON and proto field names
/// are both accepted, but unknown enum names are rejected with the field named.
pub fn from_json(desc: &MessageDescriptor, body: &[u8]) -> R<DynamicMessage> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DynamicMessage::new(desc.clone()));
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("request body is not valid JSON: {e}")))?;
    check_enums(desc, &value, "")?;
    let opts = DeserializeOptions::new().deny_unknown_fields(false);
    DynamicMessage::deserialize_with_options(desc.clone(), value, &opts)
        .map_err(|e| invalid(format!("request body: {e}")))
}

/// Rejects enum values that name no value of their enum (prost-reflect would drop them).
fn check_enums(desc: &MessageDescriptor, v: &serde_json::Value, prefix: &str) -> R<()> {
    let Some(obj) = v.as_object() else {
        return Ok(());
    };
    for (k, val) in obj {
        let Some(f) = field_by_any_name(desc, k) else {
            continue;
        };
        let path = if prefix.is_empty() {
            f.json_name().to_string()
        } else {
            format!("{prefix}.{}", f.json_name())
        };
        let items: Vec<&serde_json::Value> = match val {
            serde_json::Value::Array(a) if f.is_list() => a.iter().collect(),
            serde_json::Value::Object(m) if f.is_map() => m.values().collect(),
            other => vec![other],
        };
        let kind = if f.is_map() {
            match f.kind() {
                Kind::Message(entry) => entry.map_entry_value_field().kind(),
                k => k,
            }
        } else {
            f.kind()
        };
        for item in items {
            match (&kind, item) {
                (Kind::Enum(e), serde_json::Value::String(name))
                    if e.get_value_by_name(name).is_none() =>
                {
                    let known: Vec<String> = e.values().map(|v| v.name().to_string()).collect();
                    return Err(invalid(format!(
                        "request body: {path} has no value \"{name}\" (known: {})",
                        known.join(", ")
                    )));
                }
                (Kind::Message(m), serde_json::Value::Object(_)) => check_enums(m, item, &path)?,
                _ => {}
            }
        }
    }
    Ok(())
}

/// Renders a message as proto3 JSON (lowerCamelCase, 64-bit integers as strings, enum names).
pub fn to_json(msg: &DynamicMessage) -> R<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::new(&mut out);
    msg.serialize_with_options(&mut ser, &SerializeOptions::new())
        .map_err(|e| {
            crate::error::ApiErr(castellan_domain::Error::internal(
                "REST-s3r1a",
                e.to_string(),
            ))
        })?;
    Ok(out)
}

fn field_by_any_name(desc: &MessageDescriptor, name: &str) -> Option<FieldDescriptor> {
    desc.get_field_by_name(name)
        .or_else(|| desc.get_field_by_json_name(name))
}

/// Sets the (possibly dotted) field `path` of `msg` from a text value (path variables and
/// query parameters). Repeated fields append. Unknown query parameters are ignored when
/// `ignore_unknown`.
pub fn set_text(msg: &mut DynamicMessage, path: &str, text: &str, ignore_unknown: bool) -> R<()> {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let Some(field) = field_by_any_name(&msg.descriptor(), head) else {
        return if ignore_unknown {
            Ok(())
        } else {
            Err(invalid(format!("unknown field {head}")))
        };
    };
    if let Some(rest) = rest {
        let Kind::Message(_) = field.kind() else {
            return Err(invalid(format!("{head} has no sub-fields")));
        };
        let sub = msg.get_field_mut(&field);
        return match sub {
            Value::Message(m) => set_text(m, rest, text, ignore_unknown),
            _ => Err(invalid(format!("{head} has no sub-fields"))),
        };
    }
    let v = scalar(&field, text)?;
    if field.is_list() {
        if let Value::List(l) = msg.get_field_mut(&field) {
            l.push(v);
        }
    } else {
        msg.set_field(&field, v);
    }
    Ok(())
}

fn scalar(f: &FieldDescriptor, t: &str) -> R<Value> {
    let bad = |what: &str| invalid(format!("{} must be {what}", f.json_name()));
    Ok(match f.kind() {
        Kind::String => Value::String(t.to_string()),
        Kind::Bool => Value::Bool(t.parse().map_err(|_| bad("true or false"))?),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            Value::I32(t.parse().map_err(|_| bad("a 32-bit integer"))?)
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            Value::I64(t.parse().map_err(|_| bad("a 64-bit integer"))?)
        }
        Kind::Uint32 | Kind::Fixed32 => {
            Value::U32(t.parse().map_err(|_| bad("an unsigned 32-bit integer"))?)
        }
        Kind::Uint64 | Kind::Fixed64 => {
            Value::U64(t.parse().map_err(|_| bad("an unsigned 64-bit integer"))?)
        }
        Kind::Float => Value::F32(t.parse().map_err(|_| bad("a number"))?),
        Kind::Double => Value::F64(t.parse().map_err(|_| bad("a number"))?),
        Kind::Bytes => Value::Bytes(
            base64::engine::general_purpose::STANDARD
                .decode(t)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t))
                .map_err(|_| bad("base64"))?
                .into(),
        ),
        Kind::Enum(e) => match e.get_value_by_name(t) {
            Some(v) => Value::EnumNumber(v.number()),
            None => Value::EnumNumber(
                t.parse()
                    .ok()
                    .filter(|n| e.get_value(*n).is_some())
                    .ok_or_else(|| bad("a known enum value"))?,
            ),
        },
        Kind::Message(m) if m.full_name() == "google.protobuf.Timestamp" => {
            let ts = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map_err(|_| bad("an RFC 3339 timestamp"))?;
            let mut dm = DynamicMessage::new(m);
            dm.set_field_by_name("seconds", Value::I64(ts.unix_timestamp()));
            dm.set_field_by_name("nanos", Value::I32(ts.nanosecond() as i32));
            Value::Message(dm)
        }
        Kind::Message(_) => return Err(bad("an object (send it in the body)")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::Methods;

    fn desc(name: &str) -> MessageDescriptor {
        Methods::get()
            .pool
            .get_message_by_name(name)
            .expect("message")
    }

    #[test]
    fn camel_and_snake_case_and_unknown_fields() {
        let d = desc("zitadel.management.v1.AddMachineUserRequest");
        let a = from_json(&d, br#"{"userName":"a","name":"n","whatever":1}"#).expect("camel");
        let b = from_json(&d, br#"{"user_name":"a","name":"n"}"#).expect("snake");
        assert_eq!(a, b);
        assert!(from_json(&d, br#"{"userName": 5}"#).is_err());
        assert!(from_json(&d, b"{").is_err());
        assert!(from_json(&d, br#"{"accessTokenType":"NOPE"}"#).is_err());
    }

    #[test]
    fn path_and_query_values() {
        let d = desc("zitadel.management.v1.GetUserByIDRequest");
        let mut m = DynamicMessage::new(d);
        set_text(&mut m, "id", "42", false).expect("id");
        assert_eq!(
            String::from_utf8(to_json(&m).expect("json")).expect("utf8"),
            r#"{"id":"42"}"#
        );
        assert!(set_text(&mut m, "nope", "1", false).is_err());
        assert!(set_text(&mut m, "nope", "1", true).is_ok());
    }
}
