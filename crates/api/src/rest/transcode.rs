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

    /// A small deterministic generator for the property tests below.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
            &v[(self.next() % v.len() as u64) as usize]
        }
    }

    fn random_json(r: &mut Rng, depth: u32, names: &[String]) -> serde_json::Value {
        use serde_json::Value as J;
        match r.next() % if depth > 3 { 6 } else { 8 } {
            0 => J::Null,
            1 => J::Bool(r.next().is_multiple_of(2)),
            2 => J::from((r.next() as i64).wrapping_sub(1 << 62)),
            3 => J::from(f64::from((r.next() % 1000) as u32) / 7.0),
            4 => J::String(
                r.pick(&[
                    "",
                    "x",
                    "TEXT_QUERY_METHOD_EQUALS",
                    "NOPE",
                    "2024-01-01T00:00:00Z",
                    "\u{0}",
                    "1e400",
                ])
                .to_string(),
            ),
            5 => J::String(r.pick(names).clone()),
            6 => J::Array(
                (0..r.next() % 4)
                    .map(|_| random_json(r, depth + 1, names))
                    .collect(),
            ),
            _ => {
                let mut m = serde_json::Map::new();
                for _ in 0..r.next() % 5 {
                    m.insert(r.pick(names).clone(), random_json(r, depth + 1, names));
                }
                J::Object(m)
            }
        }
    }

    /// Random JSON shaped like the request messages never panics the transcoder: it either
    /// decodes or yields an INVALID_ARGUMENT error.
    #[test]
    fn random_bodies_never_panic() {
        let methods = Methods::get();
        let mut names: Vec<String> = Vec::new();
        for m in &methods.all {
            for f in m.input.fields() {
                names.push(f.json_name().to_string());
                names.push(f.name().to_string());
            }
        }
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        for i in 0..20_000u32 {
            let m = r.pick(&methods.all).clone();
            let body = random_json(&mut r, 0, &names).to_string();
            let mut bytes = body.into_bytes();
            if i.is_multiple_of(5) && !bytes.is_empty() {
                let at = (r.next() % bytes.len() as u64) as usize;
                bytes[at] = (r.next() % 256) as u8;
            }
            if let Err(e) = from_json(&m.input, &bytes) {
                assert_eq!(e.0.kind, castellan_domain::Kind::InvalidArgument);
            }
        }
    }

    /// Random paths and query values never panic the router or the text setter.
    #[test]
    fn random_paths_never_panic() {
        let routes = crate::rest::route::Routes::new(Methods::get());
        let mut r = Rng(42);
        let segs = [
            "management",
            "v1",
            "users",
            "_search",
            "%",
            "%zz",
            "%41",
            "",
            "me",
            "orgs",
            "..",
            "123",
            "metadata",
            "{id}",
            "\u{0}",
        ];
        for _ in 0..20_000 {
            let n = 1 + r.next() % 7;
            let path: String = (0..n).map(|_| format!("/{}", r.pick(&segs))).collect();
            let verb = r
                .pick(&[
                    http::Method::GET,
                    http::Method::POST,
                    http::Method::PUT,
                    http::Method::DELETE,
                ])
                .clone();
            let _ = routes.find(&verb, &path);
        }
        let d = desc("zitadel.management.v1.ListUsersRequest");
        for _ in 0..5_000 {
            let mut m = DynamicMessage::new(d.clone());
            let key = r
                .pick(&[
                    "query.limit",
                    "query.offset",
                    "query.asc",
                    "sortingColumn",
                    "sorting_column",
                    "query",
                    "x.y.z",
                    "queries",
                ])
                .to_string();
            let val = r
                .pick(&[
                    "1",
                    "-1",
                    "true",
                    "USER_FIELD_NAME_EMAIL",
                    "99999999999999999999",
                    "",
                    "abc",
                ])
                .to_string();
            if let Err(e) = set_text(&mut m, &key, &val, r.next().is_multiple_of(2)) {
                assert_eq!(e.0.kind, castellan_domain::Kind::InvalidArgument);
            }
        }
    }
}
