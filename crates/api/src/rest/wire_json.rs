//! Proto3 JSON straight from protobuf wire bytes and the message descriptor, without building a
//! `DynamicMessage`: REST answers (lists of a hundred rows) are written in one pass with few
//! allocations. The output equals prost-reflect's serialisation (checked by a randomised test
//! over every message of the API); anything it does not handle is an error, and the caller
//! falls back to prost-reflect.

use base64::Engine;
use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use std::fmt::Write;

/// Why the fast path gave up (the caller falls back).
#[derive(Debug)]
pub struct Unsupported(pub &'static str);

type Res<T> = Result<T, Unsupported>;

#[derive(Clone, Copy)]
enum Raw<'a> {
    Varint(u64),
    I64(u64),
    I32(u32),
    Len(&'a [u8]),
}

fn varint(b: &[u8], pos: &mut usize) -> Res<u64> {
    let mut v = 0u64;
    for shift in (0..70).step_by(7) {
        let byte = *b.get(*pos).ok_or(Unsupported("truncated varint"))?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(Unsupported("varint too long"))
}

/// Every field of a message in wire order: (field number, raw value).
fn fields(b: &[u8]) -> Res<Vec<(u32, Raw<'_>)>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let key = varint(b, &mut pos)?;
        let number = u32::try_from(key >> 3).map_err(|_| Unsupported("field number"))?;
        let raw = match key & 7 {
            0 => Raw::Varint(varint(b, &mut pos)?),
            1 => {
                let s = b
                    .get(pos..pos + 8)
                    .ok_or(Unsupported("truncated fixed64"))?;
                pos += 8;
                Raw::I64(u64::from_le_bytes(
                    s.try_into().map_err(|_| Unsupported("fixed64"))?,
                ))
            }
            2 => {
                let len = usize::try_from(varint(b, &mut pos)?).map_err(|_| Unsupported("len"))?;
                let end = pos.checked_add(len).ok_or(Unsupported("len"))?;
                let s = b.get(pos..end).ok_or(Unsupported("truncated bytes"))?;
                pos = end;
                Raw::Len(s)
            }
            5 => {
                let s = b
                    .get(pos..pos + 4)
                    .ok_or(Unsupported("truncated fixed32"))?;
                pos += 4;
                Raw::I32(u32::from_le_bytes(
                    s.try_into().map_err(|_| Unsupported("fixed32"))?,
                ))
            }
            _ => return Err(Unsupported("group wire type")),
        };
        out.push((number, raw));
    }
    Ok(out)
}

/// A JSON string with serde_json's escaping (as prost-reflect's output has it).
fn string(out: &mut String, s: &str) {
    let _ = serde_json::to_writer(StringWriter(out), s);
}

/// A `std::io::Write` that appends UTF-8 to a `String` (serde_json only writes UTF-8).
struct StringWriter<'a>(&'a mut String);

impl std::io::Write for StringWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let s = std::str::from_utf8(buf)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        self.0.push_str(s);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn float(out: &mut String, v: f64, single: bool) {
    if v.is_nan() {
        out.push_str("\"NaN\"");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        });
    } else if single {
        let _ = serde_json::to_writer(StringWriter(out), &(v as f32));
    } else {
        let _ = serde_json::to_writer(StringWriter(out), &v);
    }
}

/// Fractional seconds as protobuf JSON writes them: none, or 3, 6 or 9 digits.
fn fraction(out: &mut String, nanos: u32) {
    if nanos == 0 {
        // no fraction
    } else if nanos.is_multiple_of(1_000_000) {
        let _ = write!(out, ".{:03}", nanos / 1_000_000);
    } else if nanos.is_multiple_of(1_000) {
        let _ = write!(out, ".{:06}", nanos / 1_000);
    } else {
        let _ = write!(out, ".{nanos:09}");
    }
}

fn int_of(raw: Raw<'_>) -> Res<u64> {
    match raw {
        Raw::Varint(v) | Raw::I64(v) => Ok(v),
        Raw::I32(v) => Ok(u64::from(v)),
        Raw::Len(_) => Err(Unsupported("length-delimited scalar")),
    }
}

/// One scalar value of `kind` (not a message).
fn scalar(out: &mut String, kind: &Kind, raw: Raw<'_>) -> Res<()> {
    match kind {
        Kind::Double => float(out, f64::from_bits(int_of(raw)?), false),
        Kind::Float => float(out, f64::from(f32::from_bits(int_of(raw)? as u32)), true),
        Kind::Int32 | Kind::Sfixed32 => {
            let _ = write!(out, "{}", int_of(raw)? as i64 as i32);
        }
        Kind::Sint32 => {
            let v = int_of(raw)? as u32;
            let _ = write!(out, "{}", ((v >> 1) as i32) ^ -((v & 1) as i32));
        }
        Kind::Uint32 | Kind::Fixed32 => {
            let _ = write!(out, "{}", int_of(raw)? as u32);
        }
        Kind::Int64 | Kind::Sfixed64 => {
            let _ = write!(out, "\"{}\"", int_of(raw)? as i64);
        }
        Kind::Sint64 => {
            let v = int_of(raw)?;
            let _ = write!(out, "\"{}\"", ((v >> 1) as i64) ^ -((v & 1) as i64));
        }
        Kind::Uint64 | Kind::Fixed64 => {
            let _ = write!(out, "\"{}\"", int_of(raw)?);
        }
        Kind::Bool => out.push_str(if int_of(raw)? != 0 { "true" } else { "false" }),
        Kind::String => match raw {
            Raw::Len(b) => string(
                out,
                std::str::from_utf8(b).map_err(|_| Unsupported("invalid UTF-8"))?,
            ),
            _ => return Err(Unsupported("string wire type")),
        },
        Kind::Bytes => match raw {
            Raw::Len(b) => {
                out.push('"');
                out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
                out.push('"');
            }
            _ => return Err(Unsupported("bytes wire type")),
        },
        Kind::Enum(e) => {
            let n = int_of(raw)? as i64 as i32;
            match e.get_value(n) {
                Some(v) => string(out, v.name()),
                None => {
                    let _ = write!(out, "{n}");
                }
            }
        }
        Kind::Message(m) => match raw {
            Raw::Len(b) => message(out, m, b)?,
            _ => return Err(Unsupported("message wire type")),
        },
    }
    Ok(())
}

/// The JSON of a value that is absent on the wire (a map entry without its value).
fn default(out: &mut String, kind: &Kind) -> Res<()> {
    match kind {
        Kind::Message(m) => message(out, m, &[]),
        Kind::String => {
            out.push_str("\"\"");
            Ok(())
        }
        Kind::Bytes => {
            out.push_str("\"\"");
            Ok(())
        }
        other => scalar(out, other, Raw::Varint(0)),
    }
}

/// Whether packed encoding applies to `kind`.
fn packable(kind: &Kind) -> bool {
    !matches!(kind, Kind::String | Kind::Bytes | Kind::Message(_))
}

fn repeated(out: &mut String, f: &FieldDescriptor, raws: &[Raw<'_>]) -> Res<()> {
    let kind = f.kind();
    out.push('[');
    let mut first = true;
    let mut item = |out: &mut String, raw: Raw<'_>| -> Res<()> {
        if !first {
            out.push(',');
        }
        first = false;
        scalar(out, &kind, raw)
    };
    for raw in raws {
        match (*raw, packable(&kind)) {
            (Raw::Len(b), true) => {
                let mut pos = 0;
                while pos < b.len() {
                    let v = match kind {
                        Kind::Double | Kind::Fixed64 | Kind::Sfixed64 => {
                            let s = b.get(pos..pos + 8).ok_or(Unsupported("packed"))?;
                            pos += 8;
                            Raw::I64(u64::from_le_bytes(
                                s.try_into().map_err(|_| Unsupported("packed"))?,
                            ))
                        }
                        Kind::Float | Kind::Fixed32 | Kind::Sfixed32 => {
                            let s = b.get(pos..pos + 4).ok_or(Unsupported("packed"))?;
                            pos += 4;
                            Raw::I32(u32::from_le_bytes(
                                s.try_into().map_err(|_| Unsupported("packed"))?,
                            ))
                        }
                        _ => Raw::Varint(varint(b, &mut pos)?),
                    };
                    item(out, v)?;
                }
            }
            (raw, _) => item(out, raw)?,
        }
    }
    out.push(']');
    Ok(())
}

fn map(out: &mut String, f: &FieldDescriptor, raws: &[Raw<'_>]) -> Res<()> {
    let Kind::Message(entry) = f.kind() else {
        return Err(Unsupported("map entry"));
    };
    let (Some(kf), Some(vf)) = (entry.get_field(1), entry.get_field(2)) else {
        return Err(Unsupported("map entry fields"));
    };
    out.push('{');
    let mut first = true;
    for raw in raws {
        let Raw::Len(b) = raw else {
            return Err(Unsupported("map entry wire type"));
        };
        let (mut key, mut value) = (None, None);
        for (n, r) in fields(b)? {
            match n {
                1 => key = Some(r),
                2 => value = Some(r),
                _ => {}
            }
        }
        if !first {
            out.push(',');
        }
        first = false;
        let mut k = String::new();
        match key {
            Some(r) => scalar(&mut k, &kf.kind(), r)?,
            None => default(&mut k, &kf.kind())?,
        }
        if k.starts_with('"') {
            out.push_str(&k);
        } else {
            out.push('"');
            out.push_str(&k);
            out.push('"');
        }
        out.push(':');
        match value {
            Some(r) => scalar(out, &vf.kind(), r)?,
            None => default(out, &vf.kind())?,
        }
    }
    out.push('}');
    Ok(())
}

/// Well-known types with a JSON form of their own; `false` when `m` is not one of them.
fn well_known(out: &mut String, m: &MessageDescriptor, b: &[u8]) -> Res<bool> {
    let (mut secs, mut nanos) = (0i64, 0i32);
    match m.full_name() {
        "google.protobuf.Timestamp" => {
            for (n, r) in fields(b)? {
                match n {
                    1 => secs = int_of(r)? as i64,
                    2 => nanos = int_of(r)? as i64 as i32,
                    _ => {}
                }
            }
            let t = time::OffsetDateTime::from_unix_timestamp(secs)
                .map_err(|_| Unsupported("timestamp range"))?;
            if !(0..1_000_000_000).contains(&nanos) || !(1..=9999).contains(&t.year()) {
                return Err(Unsupported("timestamp range"));
            }
            let _ = write!(
                out,
                "\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            );
            fraction(out, nanos as u32);
            out.push_str("Z\"");
            Ok(true)
        }
        "google.protobuf.Duration" => {
            for (n, r) in fields(b)? {
                match n {
                    1 => secs = int_of(r)? as i64,
                    2 => nanos = int_of(r)? as i64 as i32,
                    _ => {}
                }
            }
            if (secs > 0 && nanos < 0) || (secs < 0 && nanos > 0) || nanos.abs() >= 1_000_000_000 {
                return Err(Unsupported("duration range"));
            }
            out.push('"');
            if secs < 0 || nanos < 0 {
                out.push('-');
            }
            let _ = write!(out, "{}", secs.unsigned_abs());
            fraction(out, nanos.unsigned_abs());
            out.push_str("s\"");
            Ok(true)
        }
        n if n.starts_with("google.protobuf.") && n != "google.protobuf.Empty" => {
            Err(Unsupported("well-known type"))
        }
        _ => Ok(false),
    }
}

/// Writes the JSON object of message `m` encoded in `b`.
pub fn message(out: &mut String, m: &MessageDescriptor, b: &[u8]) -> Res<()> {
    if well_known(out, m, b)? {
        return Ok(());
    }
    let raws = fields(b)?;
    out.push('{');
    let mut first = true;
    let mut group: Vec<Raw<'_>> = Vec::new();
    for f in m.fields() {
        let n = f.number();
        group.clear();
        group.extend(raws.iter().filter(|(k, _)| *k == n).map(|(_, r)| *r));
        if group.is_empty() {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        string(out, f.json_name());
        out.push(':');
        if f.is_map() {
            map(out, &f, &group)?;
        } else if f.is_list() {
            repeated(out, &f, &group)?;
        } else if let Some(last) = group.last() {
            match (f.kind(), *last) {
                // A message field may be split over several occurrences: they merge.
                (Kind::Message(mm), Raw::Len(_)) if group.len() > 1 => {
                    let mut joined = Vec::new();
                    for r in &group {
                        if let Raw::Len(b) = r {
                            joined.extend_from_slice(b);
                        }
                    }
                    message(out, &mm, &joined)?;
                }
                (kind, raw) => scalar(out, &kind, raw)?,
            }
        }
    }
    out.push('}');
    Ok(())
}

/// The proto3 JSON of `b`, a message of type `m`.
pub fn to_json(m: &MessageDescriptor, b: &[u8]) -> Res<Vec<u8>> {
    let mut out = String::with_capacity(b.len() * 2 + 16);
    message(&mut out, m, b)?;
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use prost_reflect::{DynamicMessage, MapKey, Value};
    use std::collections::HashMap;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn text(r: &mut Rng) -> String {
        ["", "a", "Zürich \"q\" \\ \n\t", "日本", "x\u{1}y", "<&>"][r.below(6) as usize].to_string()
    }

    fn scalar_value(r: &mut Rng, kind: &Kind, depth: u32) -> Option<Value> {
        Some(match kind {
            Kind::Double => Value::F64(match r.below(5) {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => 2.0,
                _ => (r.next() as f64) / 7.0 - 1e15,
            }),
            Kind::Float => Value::F32(match r.below(4) {
                0 => f32::NEG_INFINITY,
                1 => 0.1,
                _ => (r.next() % 100_000) as f32 / 3.0,
            }),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(r.next() as i32),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(r.next() as i64),
            Kind::Uint32 | Kind::Fixed32 => Value::U32(r.next() as u32),
            Kind::Uint64 | Kind::Fixed64 => Value::U64(r.next()),
            Kind::Bool => Value::Bool(r.below(2) == 1),
            Kind::String => Value::String(text(r)),
            Kind::Bytes => {
                Value::Bytes(vec![0u8, 255, 7, 42][..r.below(5) as usize].to_vec().into())
            }
            Kind::Enum(e) => Value::EnumNumber(if r.below(8) == 0 {
                999
            } else {
                let vals: Vec<i32> = e.values().map(|v| v.number()).collect();
                vals[r.below(vals.len() as u64) as usize]
            }),
            Kind::Message(m) => Value::Message(message_value(r, m, depth + 1)?),
        })
    }

    fn message_value(r: &mut Rng, m: &MessageDescriptor, depth: u32) -> Option<DynamicMessage> {
        let mut dm = DynamicMessage::new(m.clone());
        match m.full_name() {
            "google.protobuf.Timestamp" => {
                dm.set_field_by_name("seconds", Value::I64((r.next() % 4_000_000_000) as i64));
                let nanos = [0, 123_000_000, 456_000, 789, 999_999_999][r.below(5) as usize];
                dm.set_field_by_name("nanos", Value::I32(nanos));
                return Some(dm);
            }
            "google.protobuf.Duration" => {
                let secs = (r.next() % 2_000_000) as i64 - 1_000_000;
                let nanos = [0, 500_000_000, 1_000, 7][r.below(4) as usize];
                dm.set_field_by_name("seconds", Value::I64(secs));
                dm.set_field_by_name("nanos", Value::I32(if secs < 0 { -nanos } else { nanos }));
                return Some(dm);
            }
            n if n.starts_with("google.protobuf.") => return None,
            _ => {}
        }
        if depth > 3 {
            return Some(dm);
        }
        for f in m.fields() {
            if r.below(3) == 0 {
                continue;
            }
            let kind = f.kind();
            let v = if f.is_map() {
                let Kind::Message(entry) = &kind else {
                    continue;
                };
                let (Some(kf), Some(vf)) = (entry.get_field(1), entry.get_field(2)) else {
                    continue;
                };
                let mut map = HashMap::new();
                for _ in 0..r.below(3) {
                    let key = match kf.kind() {
                        Kind::String => MapKey::String(text(r)),
                        Kind::Bool => MapKey::Bool(r.below(2) == 1),
                        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => MapKey::I64(r.next() as i64),
                        Kind::Uint64 | Kind::Fixed64 => MapKey::U64(r.next()),
                        Kind::Uint32 | Kind::Fixed32 => MapKey::U32(r.next() as u32),
                        _ => MapKey::I32(r.next() as i32),
                    };
                    let Some(val) = scalar_value(r, &vf.kind(), depth) else {
                        continue;
                    };
                    map.insert(key, val);
                }
                Value::Map(map)
            } else if f.is_list() {
                let mut items = Vec::new();
                for _ in 0..r.below(4) {
                    if let Some(v) = scalar_value(r, &kind, depth) {
                        items.push(v);
                    }
                }
                Value::List(items)
            } else {
                match scalar_value(r, &kind, depth) {
                    Some(v) => v,
                    None => continue,
                }
            };
            dm.set_field(&f, v);
        }
        Some(dm)
    }

    #[test]
    fn equals_prost_reflect_for_random_messages_of_every_type() {
        let pool = &crate::methods::Methods::get().pool;
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut fast, mut fell_back) = (0, 0);
        for m in pool.all_messages() {
            for _ in 0..30 {
                let Some(dm) = message_value(&mut r, &m, 0) else {
                    continue;
                };
                let bytes = dm.encode_to_vec();
                let reference = crate::rest::transcode::to_json(
                    &DynamicMessage::decode(m.clone(), bytes.as_slice()).expect("decode"),
                )
                .expect("reference");
                match to_json(&m, &bytes) {
                    Ok(ours) => {
                        fast += 1;
                        let a: serde_json::Value =
                            serde_json::from_slice(&ours).unwrap_or_else(|e| {
                                panic!(
                                    "{}: invalid JSON {e}: {}",
                                    m.full_name(),
                                    String::from_utf8_lossy(&ours)
                                )
                            });
                        let b: serde_json::Value =
                            serde_json::from_slice(&reference).expect("json");
                        assert_eq!(a, b, "{}", m.full_name());
                    }
                    Err(_) => fell_back += 1,
                }
            }
        }
        eprintln!("wire_json: {fast} fast, {fell_back} fell back");
        assert!(
            fast > 1000 && fell_back * 20 < fast,
            "fast {fast}, fell back {fell_back}"
        );
    }

    #[test]
    fn garbage_is_refused_not_misread() {
        let pool = &crate::methods::Methods::get().pool;
        let m = pool
            .get_message_by_name("zitadel.user.v1.User")
            .expect("User");
        for b in [
            &[0xffu8][..],
            &[0x0a, 0x05, 0x61],
            &[0x0b],
            &[0x08, 0x80, 0x80],
        ] {
            assert!(to_json(&m, b).is_err(), "{b:?}");
        }
    }
}
