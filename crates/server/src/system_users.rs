//! `SystemAPIUsers`: the system API's users and their public keys, as ZITADEL configures them:
//! a list (or map) of `name: {Path | KeyData, Memberships: [{MemberType: System, Roles}]}`,
//! `KeyData` being the base64 of a PEM public key. Also accepted as a JSON/YAML string (from
//! `CASTELLAN_SYSTEMAPIUSERS`).

use base64::Engine;
use castellan_api::system_auth::SystemUser;
use castellan_domain::jwt::VerifyingKey;
use serde_json::Value;

fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn one(name: &str, v: &Value) -> Result<SystemUser, String> {
    let pem = if let Some(path) = field(v, "Path")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
    {
        std::fs::read_to_string(path)
            .map_err(|e| format!("SystemAPIUsers.{name}.Path: cannot read {path}: {e}"))?
    } else if let Some(data) = field(v, "KeyData").and_then(Value::as_str) {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|_| format!("SystemAPIUsers.{name}.KeyData is not base64"))?;
        String::from_utf8(raw).map_err(|_| format!("SystemAPIUsers.{name}.KeyData is not PEM"))?
    } else {
        return Err(format!("SystemAPIUsers.{name} needs Path or KeyData"));
    };
    let key =
        VerifyingKey::from_pem(&pem).map_err(|e| format!("SystemAPIUsers.{name}: {}", e.text()))?;
    let mut roles = Vec::new();
    for m in field(v, "Memberships")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let kind = field(m, "MemberType")
            .and_then(Value::as_str)
            .unwrap_or("System");
        if !kind.eq_ignore_ascii_case("System") {
            return Err(format!(
                "SystemAPIUsers.{name}: MemberType {kind} is not supported (only System)"
            ));
        }
        for r in field(m, "Roles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap_or_default();
            if !castellan_domain::roles::SYSTEM_ROLES
                .iter()
                .any(|x| x.name == r)
            {
                return Err(format!("SystemAPIUsers.{name}: unknown role {r}"));
            }
            roles.push(r.to_string());
        }
    }
    if roles.is_empty() {
        roles.push("SYSTEM_OWNER".into());
    }
    Ok(SystemUser {
        name: name.to_string(),
        key,
        roles,
    })
}

/// Parses the `SystemAPIUsers` configuration value.
pub fn parse(v: &Value) -> Result<Vec<SystemUser>, String> {
    let parsed;
    let v = match v {
        Value::String(s) if s.trim().is_empty() => return Ok(Vec::new()),
        Value::String(s) => {
            parsed = serde_yaml_ng::from_str::<Value>(s)
                .map_err(|e| format!("SystemAPIUsers is not valid YAML/JSON: {e}"))?;
            &parsed
        }
        v => v,
    };
    let mut out = Vec::new();
    let mut add = |map: &serde_json::Map<String, Value>| -> Result<(), String> {
        for (name, u) in map {
            out.push(one(name, u)?);
        }
        Ok(())
    };
    match v {
        Value::Null => {}
        Value::Object(m) => add(m)?,
        Value::Array(items) => {
            for i in items {
                add(i
                    .as_object()
                    .ok_or("SystemAPIUsers entries must be `name: {...}` maps")?)?;
            }
        }
        _ => return Err("SystemAPIUsers must be a list or a map".into()),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";

    #[test]
    fn list_map_and_string_forms() {
        let data = base64::engine::general_purpose::STANDARD.encode(PEM);
        let list = serde_json::json!([{"super": {"KeyData": data, "Memberships": [{"MemberType": "System", "Roles": ["SYSTEM_OWNER_VIEWER"]}]}}]);
        let users = parse(&list).expect("list");
        assert_eq!(users[0].name, "super");
        assert_eq!(users[0].roles, vec!["SYSTEM_OWNER_VIEWER"]);
        let text = format!("{{\"other\": {{\"keydata\": \"{data}\"}}}}");
        let users = parse(&Value::String(text)).expect("string");
        assert_eq!(users[0].roles, vec!["SYSTEM_OWNER"]);
        assert!(parse(&serde_json::json!({"x": {}})).is_err());
        assert!(parse(&serde_json::json!({"x": {"KeyData": "!!"}})).is_err());
        let bad_role =
            serde_json::json!({"x": {"KeyData": data, "Memberships": [{"Roles": ["IAM_OWNER"]}]}});
        assert!(parse(&bad_role).is_err());
    }
}
