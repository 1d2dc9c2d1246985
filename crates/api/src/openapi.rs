//! Swagger 2.0 (`OpenAPI` v2) documents generated from the service descriptors, shaped like
//! grpc-gateway's `protoc-gen-openapiv2` output that ZITADEL serves at
//! `/openapi/v2/swagger/<service>.swagger.json`.
//!
//! Routes come from the `google.api.http` annotations, permissions from
//! `zitadel.v1.auth_option`, and schemas follow the proto3 JSON mapping.

use std::collections::{BTreeMap, BTreeSet};

use prost_reflect::{
    DescriptorPool, DynamicMessage, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor,
    MethodDescriptor, ServiceDescriptor,
};
use serde_json::{json, Map, Value};

/// Definition name of the error body (`google.rpc.Status`).
const STATUS_DEF: &str = "rpcStatus";
/// Definition name of `google.protobuf.Any`.
const ANY_DEF: &str = "protobufAny";
/// Name of the security definition every authenticated operation requires.
const SECURITY_NAME: &str = "BearerAuth";
/// Permission value of RPCs callable without authentication.
const NO_PERMISSION: &str = "none";
/// HTTP verbs of `google.api.http` that map onto Swagger operations.
const VERBS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// Builds the Swagger 2.0 document of `service` (full name, e.g. "zitadel.management.v1.ManagementService"),
/// whose REST routes are served under `base_path` (e.g. "/management/v1").
#[must_use]
pub fn swagger(pool: &DescriptorPool, service: &str, base_path: &str) -> Option<Value> {
    let service = pool.get_service_by_name(service)?;
    let routes = routes(pool, &service);
    let messages = reachable_messages(&routes);
    let names = Names::assign(&messages);
    let mut definitions = definitions(&messages, &names);
    let paths = paths(&service, &routes, &names, &mut definitions);
    let title = service.name();
    Some(json!({
        "swagger": "2.0",
        "info": { "title": title, "version": "1.0" },
        "tags": [{ "name": title }],
        "basePath": base_path,
        "schemes": ["https", "http"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": paths,
        "definitions": definitions,
        "securityDefinitions": {
            SECURITY_NAME: {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "description": "OAuth2 access token: `Bearer <token>`",
            }
        },
    }))
}

// ---------------------------------------------------------------------------------------------
// Annotations
// ---------------------------------------------------------------------------------------------

/// One REST binding of an RPC (`google.api.http` rule or one of its additional bindings).
struct Binding {
    verb: String,
    path: String,
    body: String,
    response_body: String,
}

/// The `zitadel.v1.auth_option` of an RPC.
struct AuthOption {
    permission: String,
    check_field: String,
}

/// An RPC together with its REST bindings and authorization requirement.
struct Route {
    method: MethodDescriptor,
    bindings: Vec<Binding>,
    auth: Option<AuthOption>,
}

/// Every RPC of `service` that has at least one REST binding, in declaration order.
fn routes(pool: &DescriptorPool, service: &ServiceDescriptor) -> Vec<Route> {
    service
        .methods()
        .map(|method| Route {
            bindings: http_bindings(pool, &method),
            auth: auth_option(pool, &method),
            method,
        })
        .filter(|route| !route.bindings.is_empty())
        .collect()
}

/// Reads the message-valued extension `name` from the options of `method`, if set.
fn method_extension(
    pool: &DescriptorPool,
    method: &MethodDescriptor,
    name: &str,
) -> Option<DynamicMessage> {
    let extension = pool.get_extension_by_name(name)?;
    let options = method.options();
    if !options.has_extension(&extension) {
        return None;
    }
    options.get_extension(&extension).as_message().cloned()
}

/// The string field `name` of `message`, or "" when absent.
fn string_field(message: &DynamicMessage, name: &str) -> String {
    message
        .get_field_by_name(name)
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The `zitadel.v1.auth_option` of `method`, if annotated.
fn auth_option(pool: &DescriptorPool, method: &MethodDescriptor) -> Option<AuthOption> {
    let option = method_extension(pool, method, "zitadel.v1.auth_option")?;
    Some(AuthOption {
        permission: string_field(&option, "permission"),
        check_field: string_field(&option, "check_field_name"),
    })
}

/// The `google.api.http` bindings of `method`, additional bindings included.
fn http_bindings(pool: &DescriptorPool, method: &MethodDescriptor) -> Vec<Binding> {
    let mut bindings = Vec::new();
    if let Some(rule) = method_extension(pool, method, "google.api.http") {
        collect_bindings(&rule, &mut bindings);
    }
    bindings
}

/// Appends the binding of `rule` and those of its `additional_bindings` to `out`.
fn collect_bindings(rule: &DynamicMessage, out: &mut Vec<Binding>) {
    if let Some((verb, path)) = rule_pattern(rule) {
        out.push(Binding {
            verb,
            path,
            body: string_field(rule, "body"),
            response_body: string_field(rule, "response_body"),
        });
    }
    let Some(additional) = rule.get_field_by_name("additional_bindings") else {
        return;
    };
    for nested in additional.as_list().unwrap_or_default() {
        if let Some(nested) = nested.as_message() {
            collect_bindings(nested, out);
        }
    }
}

/// The (lower-case verb, path template) of an `HttpRule`, if it has a usable pattern.
fn rule_pattern(rule: &DynamicMessage) -> Option<(String, String)> {
    for verb in VERBS {
        let path = string_field(rule, verb);
        if !path.is_empty() {
            return Some((verb.to_owned(), path));
        }
    }
    let custom = rule.get_field_by_name("custom")?;
    let custom = custom.as_message()?;
    let kind = string_field(custom, "kind").to_ascii_lowercase();
    let path = string_field(custom, "path");
    let usable = VERBS.contains(&kind.as_str()) || kind == "head" || kind == "options";
    (usable && !path.is_empty()).then_some((kind, path))
}

/// Converts a path template to a Swagger path and the field paths it binds:
/// `/a/{x.y=**}/b` becomes (`/a/{x.y}/b`, [`x.y`]).
fn parse_template(template: &str) -> (String, Vec<String>) {
    let mut path = String::with_capacity(template.len());
    let mut fields = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|i| open + i) else {
            break;
        };
        let field = rest[open + 1..close]
            .split('=')
            .next()
            .unwrap_or_default()
            .trim();
        path.push_str(&rest[..open]);
        path.push('{');
        path.push_str(field);
        path.push('}');
        fields.push(field.to_owned());
        rest = &rest[close + 1..];
    }
    path.push_str(rest);
    (path, fields)
}

// ---------------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------------

/// Every non-well-known message reachable from the requests and responses of `routes`,
/// keyed by full name.
fn reachable_messages(routes: &[Route]) -> BTreeMap<String, MessageDescriptor> {
    let mut found = BTreeMap::new();
    let mut pending: Vec<MessageDescriptor> = routes
        .iter()
        .flat_map(|route| [route.method.input(), route.method.output()])
        .collect();
    while let Some(message) = pending.pop() {
        if well_known(&message).is_some() || found.contains_key(message.full_name()) {
            continue;
        }
        for field in message.fields() {
            if let Kind::Message(nested) = value_kind(&field) {
                pending.push(nested);
            }
        }
        found.insert(message.full_name().to_owned(), message);
    }
    found
}

/// The kind of a field's JSON value: the value type for maps, the field kind otherwise.
fn value_kind(field: &FieldDescriptor) -> Kind {
    match field.kind() {
        Kind::Message(entry) if field.is_map() => entry.map_entry_value_field().kind(),
        kind => kind,
    }
}

/// Definition names of messages, grpc-gateway style: `<last package part><Message>`
/// (e.g. `v1ListUsersRequest`), using more package parts where names would collide.
struct Names(BTreeMap<String, String>);

impl Names {
    /// Assigns unique, JSON-pointer-safe names to `messages`.
    fn assign(messages: &BTreeMap<String, MessageDescriptor>) -> Self {
        let mut depth: BTreeMap<&str, usize> = messages.keys().map(|k| (k.as_str(), 1)).collect();
        let max_depth = messages
            .values()
            .map(|m| package_parts(m).len())
            .max()
            .unwrap_or(0);
        for _ in 0..=max_depth {
            let names = Self::candidates(messages, &depth);
            let clashing = clashing_names(&names);
            let mut changed = false;
            for (full_name, name) in &names {
                let parts = messages
                    .get(full_name)
                    .map_or(0, |m| package_parts(m).len());
                if let Some(level) = depth.get_mut(full_name.as_str()) {
                    if clashing.contains(name) && *level < parts {
                        *level += 1;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        Self(dedupe(Self::candidates(messages, &depth)))
    }

    /// The names of `messages` when using `depth` package parts for each.
    fn candidates(
        messages: &BTreeMap<String, MessageDescriptor>,
        depth: &BTreeMap<&str, usize>,
    ) -> BTreeMap<String, String> {
        messages
            .iter()
            .map(|(full_name, message)| {
                let level = depth.get(full_name.as_str()).copied().unwrap_or(1);
                (full_name.clone(), candidate_name(message, level))
            })
            .collect()
    }

    /// The definition name of `message`.
    fn get(&self, message: &MessageDescriptor) -> String {
        self.0
            .get(message.full_name())
            .cloned()
            .unwrap_or_else(|| message.full_name().replace('.', ""))
    }

    /// A `$ref` to the definition of `message`.
    fn reference(&self, message: &MessageDescriptor) -> Value {
        json!({ "$ref": format!("#/definitions/{}", self.get(message)) })
    }
}

/// The non-empty parts of the package of `message`.
fn package_parts(message: &MessageDescriptor) -> Vec<&str> {
    message
        .package_name()
        .split('.')
        .filter(|part| !part.is_empty())
        .collect()
}

/// The last `level` package parts of `message` followed by its (nested) name, without dots.
fn candidate_name(message: &MessageDescriptor, level: usize) -> String {
    let parts = package_parts(message);
    let prefix = parts[parts.len().saturating_sub(level)..].concat();
    let local = message
        .full_name()
        .strip_prefix(message.package_name())
        .unwrap_or(message.full_name())
        .replace('.', "");
    format!("{prefix}{local}")
}

/// Names used more than once, or used by a fixed definition.
fn clashing_names(names: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for name in names
        .values()
        .map(String::as_str)
        .chain([STATUS_DEF, ANY_DEF])
    {
        *counts.entry(name).or_default() += 1;
    }
    counts
        .into_iter()
        .filter(|(_, count)| *count > 1)
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// Makes any remaining clashes unique with a numeric suffix (in full-name order).
fn dedupe(names: BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut used: BTreeSet<String> = [STATUS_DEF, ANY_DEF].map(str::to_owned).into();
    names
        .into_iter()
        .map(|(full_name, name)| {
            let mut unique = name.clone();
            let mut n = 2;
            while used.contains(&unique) {
                unique = format!("{name}{n}");
                n += 1;
            }
            used.insert(unique.clone());
            (full_name, unique)
        })
        .collect()
}

/// The definitions of `messages` plus the fixed `rpcStatus` and `protobufAny`.
fn definitions(
    messages: &BTreeMap<String, MessageDescriptor>,
    names: &Names,
) -> Map<String, Value> {
    let mut definitions = Map::new();
    for message in messages.values() {
        definitions.insert(
            names.get(message),
            object_schema(message, names, &BTreeSet::new()),
        );
    }
    definitions.insert(
        ANY_DEF.to_owned(),
        json!({
            "type": "object",
            "properties": { "@type": { "type": "string" } },
            "additionalProperties": {},
        }),
    );
    definitions.insert(
        STATUS_DEF.to_owned(),
        json!({
            "type": "object",
            "properties": {
                "code": { "type": "integer", "format": "int32" },
                "message": { "type": "string" },
                "details": {
                    "type": "array",
                    "items": { "$ref": format!("#/definitions/{ANY_DEF}") },
                },
            },
        }),
    );
    definitions
}

/// The object schema of `message`, leaving out the fields named in `skip`.
fn object_schema(message: &MessageDescriptor, names: &Names, skip: &BTreeSet<String>) -> Value {
    let properties: Map<String, Value> = message
        .fields()
        .filter(|field| !skip.contains(field.name()))
        .map(|field| (field.json_name().to_owned(), field_schema(&field, names)))
        .collect();
    if properties.is_empty() {
        json!({ "type": "object" })
    } else {
        json!({ "type": "object", "properties": properties })
    }
}

/// The schema of a field: arrays for repeated fields, objects for maps.
fn field_schema(field: &FieldDescriptor, names: &Names) -> Value {
    let value = kind_schema(&value_kind(field), names);
    if field.is_map() {
        json!({ "type": "object", "additionalProperties": value })
    } else if field.is_list() {
        json!({ "type": "array", "items": value })
    } else {
        value
    }
}

/// The schema of a single value of `kind`.
fn kind_schema(kind: &Kind, names: &Names) -> Value {
    match kind {
        Kind::Message(message) => message_schema(message, names),
        Kind::Enum(enumeration) => enum_schema(enumeration),
        scalar => scalar_schema(scalar),
    }
}

/// The schema of a message value: inline for well-known types, a `$ref` otherwise.
fn message_schema(message: &MessageDescriptor, names: &Names) -> Value {
    well_known(message).unwrap_or_else(|| names.reference(message))
}

/// A string schema listing the value names of `enumeration`.
fn enum_schema(enumeration: &EnumDescriptor) -> Value {
    let values: Vec<String> = enumeration.values().map(|v| v.name().to_owned()).collect();
    match values.first() {
        Some(first) => json!({ "type": "string", "enum": values, "default": first }),
        None => json!({ "type": "string" }),
    }
}

/// The proto3 JSON schema of a scalar kind (64-bit integers are strings).
fn scalar_schema(kind: &Kind) -> Value {
    let (ty, format) = match kind {
        Kind::Double => ("number", "double"),
        Kind::Float => ("number", "float"),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => ("integer", "int32"),
        Kind::Uint32 | Kind::Fixed32 => ("integer", "int64"),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => ("string", "int64"),
        Kind::Uint64 | Kind::Fixed64 => ("string", "uint64"),
        Kind::Bool => ("boolean", ""),
        Kind::Bytes => ("string", "byte"),
        Kind::String | Kind::Message(_) | Kind::Enum(_) => ("string", ""),
    };
    if format.is_empty() {
        json!({ "type": ty })
    } else {
        json!({ "type": ty, "format": format })
    }
}

/// The inline schema of a well-known type, `None` for other messages.
fn well_known(message: &MessageDescriptor) -> Option<Value> {
    let schema = match message.full_name() {
        "google.protobuf.Timestamp" => json!({ "type": "string", "format": "date-time" }),
        "google.protobuf.Duration" | "google.protobuf.FieldMask" => json!({ "type": "string" }),
        "google.protobuf.Struct" | "google.protobuf.Empty" => json!({ "type": "object" }),
        "google.protobuf.Value" => json!({}),
        "google.protobuf.ListValue" => json!({ "type": "array", "items": {} }),
        "google.protobuf.Any" => json!({ "$ref": format!("#/definitions/{ANY_DEF}") }),
        "google.protobuf.DoubleValue" => scalar_schema(&Kind::Double),
        "google.protobuf.FloatValue" => scalar_schema(&Kind::Float),
        "google.protobuf.Int64Value" => scalar_schema(&Kind::Int64),
        "google.protobuf.UInt64Value" => scalar_schema(&Kind::Uint64),
        "google.protobuf.Int32Value" => scalar_schema(&Kind::Int32),
        "google.protobuf.UInt32Value" => scalar_schema(&Kind::Uint32),
        "google.protobuf.BoolValue" => scalar_schema(&Kind::Bool),
        "google.protobuf.StringValue" => scalar_schema(&Kind::String),
        "google.protobuf.BytesValue" => scalar_schema(&Kind::Bytes),
        _ => return None,
    };
    Some(schema)
}

// ---------------------------------------------------------------------------------------------
// Paths and operations
// ---------------------------------------------------------------------------------------------

/// The `paths` object: one operation per binding; the first RPC wins a (path, verb) clash.
fn paths(
    service: &ServiceDescriptor,
    routes: &[Route],
    names: &Names,
    definitions: &mut Map<String, Value>,
) -> Map<String, Value> {
    let mut paths = Map::new();
    for route in routes {
        for (index, binding) in route.bindings.iter().enumerate() {
            let (path, bound) = parse_template(&binding.path);
            let item = paths.entry(path).or_insert_with(|| json!({}));
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            if item.contains_key(&binding.verb) {
                continue;
            }
            let op = Operation {
                service,
                route,
                binding,
                index,
                bound: &bound,
            };
            item.insert(binding.verb.clone(), op.build(names, definitions));
        }
    }
    paths
}

/// Inputs of one Swagger operation.
struct Operation<'a> {
    service: &'a ServiceDescriptor,
    route: &'a Route,
    binding: &'a Binding,
    /// Position of the binding within the RPC's bindings (0 = main rule).
    index: usize,
    /// Field paths bound by the path template.
    bound: &'a [String],
}

impl Operation<'_> {
    /// The Swagger operation object.
    fn build(&self, names: &Names, definitions: &mut Map<String, Value>) -> Value {
        let method = &self.route.method;
        let mut op = Map::new();
        op.insert("operationId".into(), json!(self.operation_id()));
        op.insert("summary".into(), json!(method.name()));
        op.insert("tags".into(), json!([self.service.name()]));
        let parameters = self.parameters(names, definitions);
        if !parameters.is_empty() {
            op.insert("parameters".into(), Value::Array(parameters));
        }
        op.insert("responses".into(), self.responses(names));
        self.insert_auth(&mut op);
        Value::Object(op)
    }

    /// The method name, suffixed with the binding number for additional bindings.
    fn operation_id(&self) -> String {
        match self.index {
            0 => self.route.method.name().to_owned(),
            n => format!("{}{}", self.route.method.name(), n + 1),
        }
    }

    /// Adds `security`, `description`, `x-permission` and `x-check-field`.
    fn insert_auth(&self, op: &mut Map<String, Value>) {
        let Some(auth) = &self.route.auth else {
            op.insert("security".into(), json!([{ SECURITY_NAME: [] }]));
            return;
        };
        if auth.permission == NO_PERMISSION {
            op.insert("description".into(), json!("No authentication required."));
        } else {
            let text = format!("Required permission: `{}`.", auth.permission);
            op.insert("description".into(), json!(text));
            op.insert("security".into(), json!([{ SECURITY_NAME: [] }]));
        }
        op.insert("x-permission".into(), json!(auth.permission));
        if !auth.check_field.is_empty() {
            op.insert("x-check-field".into(), json!(auth.check_field));
        }
    }

    /// The `200` (response message) and `default` (`rpcStatus`) responses.
    fn responses(&self, names: &Names) -> Value {
        let output = self.route.method.output();
        let schema = match output.get_field_by_name(&self.binding.response_body) {
            Some(field) if !self.binding.response_body.is_empty() => field_schema(&field, names),
            _ => message_schema(&output, names),
        };
        json!({
            "200": { "description": "A successful response.", "schema": schema },
            "default": {
                "description": "An unexpected error response.",
                "schema": { "$ref": format!("#/definitions/{STATUS_DEF}") },
            },
        })
    }

    /// Path parameters, then the body parameter or query parameters.
    fn parameters(&self, names: &Names, definitions: &mut Map<String, Value>) -> Vec<Value> {
        let input = self.route.method.input();
        let mut params: Vec<Value> = self.bound.iter().map(|p| path_param(&input, p)).collect();
        let mut skip: BTreeSet<String> = self.bound.iter().cloned().collect();
        match self.binding.body.as_str() {
            "" => {}
            "*" => {
                let schema = self.whole_body_schema(&skip, names, definitions);
                params.push(body_param("body", schema));
                return params;
            }
            field_name => {
                if let Some(field) = input.get_field_by_name(field_name) {
                    params.push(body_param(field_name, field_schema(&field, names)));
                }
                skip.insert(field_name.to_owned());
            }
        }
        params.extend(query_params(&input, &skip));
        params
    }

    /// The schema of a `body: "*"` request: the request message, minus path-bound fields
    /// (as a derived `<Service><Method>Body` definition) when there are any.
    fn whole_body_schema(
        &self,
        skip: &BTreeSet<String>,
        names: &Names,
        definitions: &mut Map<String, Value>,
    ) -> Value {
        let input = self.route.method.input();
        let bound_top_level = input.fields().any(|field| skip.contains(field.name()));
        if !bound_top_level || well_known(&input).is_some() {
            return message_schema(&input, names);
        }
        let name = format!("{}{}Body", self.service.name(), self.operation_id());
        let schema = object_schema(&input, names, skip);
        definitions.insert(name.clone(), schema);
        json!({ "$ref": format!("#/definitions/{name}") })
    }
}

/// A required `body` parameter named `name` with `schema`.
fn body_param(name: &str, schema: Value) -> Value {
    let mut param = Map::new();
    param.insert("name".into(), json!(name));
    param.insert("in".into(), json!("body"));
    param.insert("required".into(), json!(true));
    param.insert("schema".into(), schema);
    Value::Object(param)
}

/// A required path parameter for the (possibly dotted) field path `path` of `input`.
fn path_param(input: &MessageDescriptor, path: &str) -> Value {
    let schema = resolve_field(input, path)
        .filter(|field| !field.is_list() && !field.is_map())
        .map(|field| kind_schema(&field.kind(), &Names(BTreeMap::new())))
        .filter(is_primitive)
        .unwrap_or_else(|| json!({ "type": "string" }));
    parameter(path, "path", true, schema)
}

/// Follows a dotted field path (`user.id`) from `message`.
fn resolve_field(message: &MessageDescriptor, path: &str) -> Option<FieldDescriptor> {
    let mut current = message.clone();
    let mut found = None;
    for part in path.split('.') {
        let field = current.get_field_by_name(part)?;
        if let Kind::Message(next) = field.kind() {
            current = next;
        }
        found = Some(field);
    }
    found
}

/// Query parameters for the fields of `input` not named in `skip`: scalars, enums, repeated
/// scalars, and one level of sub-fields of message fields (as `field.sub`).
fn query_params(input: &MessageDescriptor, skip: &BTreeSet<String>) -> Vec<Value> {
    let mut params = Vec::new();
    for field in input
        .fields()
        .filter(|f| !skip.contains(f.name()) && !f.is_map())
    {
        if let Some(param) = query_param(&field, field.json_name()) {
            params.push(param);
            continue;
        }
        let Kind::Message(nested) = field.kind() else {
            continue;
        };
        if field.is_list() {
            continue;
        }
        for sub in nested.fields() {
            let dotted = format!("{}.{}", field.name(), sub.name());
            if skip.contains(&dotted) || sub.is_map() {
                continue;
            }
            let name = format!("{}.{}", field.json_name(), sub.json_name());
            params.extend(query_param(&sub, &name));
        }
    }
    params
}

/// A query parameter for `field` when its value is primitive (or an array of primitives).
fn query_param(field: &FieldDescriptor, name: &str) -> Option<Value> {
    let schema = kind_schema(&field.kind(), &Names(BTreeMap::new()));
    if !is_primitive(&schema) {
        return None;
    }
    if field.is_list() {
        let mut param = parameter(name, "query", false, json!({ "type": "array" }));
        if let Some(param) = param.as_object_mut() {
            param.insert("items".into(), schema);
            param.insert("collectionFormat".into(), json!("multi"));
        }
        return Some(param);
    }
    Some(parameter(name, "query", false, schema))
}

/// Whether `schema` is a primitive Swagger type usable in non-body parameters.
fn is_primitive(schema: &Value) -> bool {
    matches!(
        schema.get("type").and_then(Value::as_str),
        Some("string" | "integer" | "number" | "boolean")
    )
}

/// A non-body parameter: `schema`'s keywords merged with name, location and `required`.
fn parameter(name: &str, location: &str, required: bool, schema: Value) -> Value {
    let mut param = Map::new();
    param.insert("name".into(), json!(name));
    param.insert("in".into(), json!(location));
    param.insert("required".into(), json!(required));
    if let Value::Object(keywords) = schema {
        param.extend(keywords);
    }
    Value::Object(param)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SERVICES: [(&str, &str); 4] = [
        ("zitadel.auth.v1.AuthService", "/auth/v1"),
        ("zitadel.management.v1.ManagementService", "/management/v1"),
        ("zitadel.admin.v1.AdminService", "/admin/v1"),
        ("zitadel.system.v1.SystemService", "/system/v1"),
    ];

    fn pool() -> DescriptorPool {
        DescriptorPool::decode(castellan_proto::DESCRIPTOR_SET).unwrap()
    }

    fn management() -> Value {
        swagger(&pool(), SERVICES[1].0, SERVICES[1].1).unwrap()
    }

    /// Every operation of `doc` as (path, verb, operation).
    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut ops = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (verb, op) in item.as_object().unwrap() {
                ops.push((path.clone(), verb.clone(), op.clone()));
            }
        }
        ops
    }

    /// Every `$ref` string anywhere in `value`.
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    fn definition<'a>(doc: &'a Value, suffix: &str) -> &'a Value {
        let defs = doc["definitions"].as_object().unwrap();
        let (_, def) = defs
            .iter()
            .find(|(name, _)| name.ends_with(suffix))
            .unwrap();
        def
    }

    #[test]
    fn builds_every_service() {
        let pool = pool();
        for (service, base) in SERVICES {
            let doc = swagger(&pool, service, base).unwrap();
            assert_eq!(doc["swagger"], "2.0");
            assert_eq!(doc["basePath"], base);
            let ops = operations(&doc);
            assert!(!ops.is_empty(), "{service} has no operations");
            for (path, verb, op) in &ops {
                assert!(op["x-permission"].is_string(), "{service} {verb} {path}");
                assert!(op["operationId"].is_string());
                assert_eq!(
                    op["responses"]["default"]["schema"]["$ref"],
                    "#/definitions/rpcStatus"
                );
                assert!(op["responses"]["200"]["schema"].is_object());
                let public = op["x-permission"] == NO_PERMISSION;
                assert_eq!(op.get("security").is_none(), public, "{verb} {path}");
            }
            let text = serde_json::to_string_pretty(&doc).unwrap();
            let _: Value = serde_json::from_str(&text).unwrap();
        }
    }

    #[test]
    fn every_ref_resolves() {
        let pool = pool();
        for (service, base) in SERVICES {
            let doc = swagger(&pool, service, base).unwrap();
            let mut all = Vec::new();
            refs(&doc, &mut all);
            for r in all {
                let name = r.strip_prefix("#/definitions/").unwrap();
                assert!(
                    doc["definitions"].get(name).is_some(),
                    "{service}: dangling {r}"
                );
            }
        }
    }

    #[test]
    fn operation_ids_are_unique() {
        let pool = pool();
        for (service, base) in SERVICES {
            let doc = swagger(&pool, service, base).unwrap();
            let ids: Vec<String> = operations(&doc)
                .iter()
                .map(|(_, _, op)| op["operationId"].as_str().unwrap().to_owned())
                .collect();
            let unique: BTreeSet<&String> = ids.iter().collect();
            assert_eq!(unique.len(), ids.len(), "{service}");
        }
    }

    #[test]
    fn list_users_posts_the_request_as_body() {
        let doc = management();
        let op = &doc["paths"]["/users/_search"]["post"];
        assert_eq!(op["operationId"], "ListUsers");
        assert_eq!(op["x-permission"], "user.read");
        let body = &op["parameters"][0];
        assert_eq!(body["in"], "body");
        let target = body["schema"]["$ref"].as_str().unwrap();
        assert!(target.ends_with("ListUsersRequest"), "{target}");
        let name = target.strip_prefix("#/definitions/").unwrap();
        assert!(doc["definitions"][name]["properties"].is_object());
        let response = op["responses"]["200"]["schema"]["$ref"].as_str().unwrap();
        assert!(response.ends_with("ListUsersResponse"));
    }

    #[test]
    fn get_user_by_id_has_path_parameter() {
        let doc = management();
        let op = &doc["paths"]["/users/{id}"]["get"];
        assert_eq!(op["operationId"], "GetUserByID");
        let params = op["parameters"].as_array().unwrap();
        let id = params.iter().find(|p| p["name"] == "id").unwrap();
        assert_eq!(id["in"], "path");
        assert_eq!(id["required"], true);
        assert_eq!(id["type"], "string");
        assert!(params.iter().all(|p| p["in"] != "body"));
    }

    #[test]
    fn maps_scalars_per_proto3_json() {
        let doc = management();
        let details = &definition(&doc, "ObjectDetails")["properties"];
        assert_eq!(details["sequence"]["type"], "string");
        assert_eq!(details["sequence"]["format"], "uint64");
        assert_eq!(details["changeDate"]["format"], "date-time");
        assert_eq!(details["resourceOwner"]["type"], "string");
        let query = &definition(&doc, "v1ListQuery")["properties"];
        assert_eq!(query["limit"]["type"], "integer");
        assert_eq!(query["asc"]["type"], "boolean");
    }

    #[test]
    fn enums_are_strings_with_values() {
        let doc = management();
        let mut found = false;
        for def in doc["definitions"].as_object().unwrap().values() {
            for prop in def["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(_, p)| p)
            {
                if let Some(values) = prop["enum"].as_array() {
                    assert_eq!(prop["type"], "string");
                    assert_eq!(prop["default"], values[0]);
                    found = true;
                }
            }
        }
        assert!(found);
    }

    #[test]
    fn public_endpoints_have_no_security() {
        let doc = management();
        let op = &doc["paths"]["/healthz"]["get"];
        assert_eq!(op["x-permission"], "none");
        assert!(op.get("security").is_none());
        assert_eq!(doc["securityDefinitions"]["BearerAuth"]["in"], "header");
    }

    #[test]
    fn unknown_service_is_none() {
        assert!(swagger(&pool(), "zitadel.nope.v1.NopeService", "/nope").is_none());
    }

    #[test]
    fn output_is_deterministic() {
        let pool = pool();
        let a = swagger(&pool, SERVICES[1].0, SERVICES[1].1)
            .unwrap()
            .to_string();
        let b = swagger(&pool, SERVICES[1].0, SERVICES[1].1)
            .unwrap()
            .to_string();
        assert_eq!(a, b);
    }

    /// A pool with a synthetic `test.v1.TestService` exercising the less common annotations.
    fn synthetic() -> Value {
        let mut pool = pool();
        let file = json!({
            "name": "test/synthetic.proto",
            "package": "test.v1",
            "dependency": [
                "google/api/annotations.proto",
                "zitadel/options.proto",
                "google/protobuf/timestamp.proto",
                "google/protobuf/struct.proto",
            ],
            "syntax": "proto3",
            "enumType": [{ "name": "Color", "value": [
                { "name": "COLOR_UNSPECIFIED", "number": 0 },
                { "name": "COLOR_RED", "number": 1 },
            ]}],
            "messageType": [
                {
                    "name": "Inner",
                    "field": [
                        field("big", 1, "TYPE_INT64", None),
                        field("small", 2, "TYPE_SINT32", None),
                        field("f", 3, "TYPE_FIXED64", None),
                        field("data", 4, "TYPE_BYTES", None),
                        repeated(field("children", 5, "TYPE_MESSAGE", Some(".test.v1.Inner.ChildrenEntry"))),
                        field("color", 6, "TYPE_ENUM", Some(".test.v1.Color")),
                        field("attrs", 7, "TYPE_MESSAGE", Some(".google.protobuf.Struct")),
                    ],
                    "nestedType": [{
                        "name": "ChildrenEntry",
                        "field": [
                            field("key", 1, "TYPE_STRING", None),
                            field("value", 2, "TYPE_MESSAGE", Some(".test.v1.Inner")),
                        ],
                        "options": { "mapEntry": true },
                    }],
                },
                {
                    "name": "Req",
                    "field": [
                        field("id", 1, "TYPE_STRING", None),
                        field("inner", 2, "TYPE_MESSAGE", Some(".test.v1.Inner")),
                        repeated(field("tags", 3, "TYPE_STRING", None)),
                        field("color", 4, "TYPE_ENUM", Some(".test.v1.Color")),
                        oneof(field("a", 5, "TYPE_STRING", None)),
                        oneof(field("b", 6, "TYPE_INT32", None)),
                        field("at", 7, "TYPE_MESSAGE", Some(".google.protobuf.Timestamp")),
                    ],
                    "oneofDecl": [{ "name": "choice" }],
                },
                { "name": "Resp", "field": [field("inner", 1, "TYPE_MESSAGE", Some(".test.v1.Inner"))] },
            ],
            "service": [{ "name": "TestService", "method": [
                method("Get", json!({
                    "[google.api.http]": {
                        "get": "/things/{inner.big}",
                        "additionalBindings": [{ "get": "/things2/{id=**}" }],
                    },
                    "[zitadel.v1.auth_option]": { "permission": "thing.read", "checkFieldName": "id" },
                })),
                method("Put", json!({
                    "[google.api.http]": { "put": "/things/{id}", "body": "inner", "responseBody": "inner" },
                    "[zitadel.v1.auth_option]": { "permission": "thing.write" },
                })),
                method("Head", json!({
                    "[google.api.http]": { "custom": { "kind": "HEAD", "path": "/things" } },
                    "[zitadel.v1.auth_option]": { "permission": "none" },
                })),
                method("Clash", json!({ "[google.api.http]": { "post": "/things/{id}", "body": "*" } })),
                method("NoHttp", json!({})),
            ]}],
        });
        let desc = pool
            .get_message_by_name("google.protobuf.FileDescriptorProto")
            .unwrap();
        let file = DynamicMessage::deserialize(desc, file).unwrap();
        pool.decode_file_descriptor_proto(prost::Message::encode_to_vec(&file).as_slice())
            .unwrap();
        swagger(&pool, "test.v1.TestService", "/test").unwrap()
    }

    fn field(name: &str, number: i32, ty: &str, type_name: Option<&str>) -> Value {
        let mut field = json!({ "name": name, "number": number, "type": ty, "jsonName": name });
        field["label"] = json!("LABEL_OPTIONAL");
        if let Some(type_name) = type_name {
            field["typeName"] = json!(type_name);
        }
        field
    }

    fn repeated(mut field: Value) -> Value {
        field["label"] = json!("LABEL_REPEATED");
        field
    }

    fn oneof(mut field: Value) -> Value {
        field["oneofIndex"] = json!(0);
        field
    }

    fn method(name: &str, options: Value) -> Value {
        let mut method = json!({ "name": name, "inputType": ".test.v1.Req" });
        method["outputType"] = json!(".test.v1.Resp");
        method["options"] = options;
        method
    }

    fn param<'a>(op: &'a Value, name: &str) -> Option<&'a Value> {
        op["parameters"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == name)
    }

    #[test]
    fn synthetic_get_with_additional_binding_and_query() {
        let doc = synthetic();
        let op = &doc["paths"]["/things/{inner.big}"]["get"];
        assert_eq!(op["operationId"], "Get");
        assert_eq!(op["x-permission"], "thing.read");
        assert_eq!(op["x-check-field"], "id");
        let big = param(op, "inner.big").unwrap();
        assert_eq!(
            (&big["in"], &big["type"], &big["format"]),
            (&json!("path"), &json!("string"), &json!("int64"))
        );
        assert_eq!(param(op, "tags").unwrap()["type"], "array");
        assert_eq!(param(op, "tags").unwrap()["collectionFormat"], "multi");
        assert_eq!(param(op, "color").unwrap()["enum"][1], "COLOR_RED");
        assert_eq!(param(op, "at").unwrap()["format"], "date-time");
        assert!(param(op, "a").is_some() && param(op, "b").is_some());
        assert_eq!(param(op, "inner.small").unwrap()["type"], "integer");
        assert!(param(op, "inner.big").unwrap()["in"] == "path");
        assert!(param(op, "inner.children").is_none() && param(op, "inner.attrs").is_none());
        let second = &doc["paths"]["/things2/{id}"]["get"];
        assert_eq!(second["operationId"], "Get2");
        assert_eq!(param(second, "id").unwrap()["in"], "path");
        let ids: Vec<Value> = operations(&doc)
            .into_iter()
            .map(|(_, _, op)| op["operationId"].clone())
            .collect();
        assert_eq!(ids.len(), 5);
        assert!(!ids.contains(&json!("NoHttp")));
        assert_eq!(doc["paths"].as_object().unwrap().len(), 4);
    }

    #[test]
    fn synthetic_body_field_response_body_and_custom_verb() {
        let doc = synthetic();
        let put = &doc["paths"]["/things/{id}"]["put"];
        assert_eq!(
            param(put, "inner").unwrap()["schema"]["$ref"],
            "#/definitions/v1Inner"
        );
        assert_eq!(
            put["responses"]["200"]["schema"]["$ref"],
            "#/definitions/v1Inner"
        );
        assert!(param(put, "tags").is_some() && param(put, "inner.small").is_none());
        let head = &doc["paths"]["/things"]["head"];
        assert!(head.get("security").is_none());
        let clash = &doc["paths"]["/things/{id}"]["post"];
        assert!(clash.get("x-permission").is_none() && clash["security"].is_array());
        let body = &doc["definitions"]["TestServiceClashBody"]["properties"];
        assert!(body.get("id").is_none() && body.get("inner").is_some());
    }

    #[test]
    fn synthetic_definitions_follow_proto3_json() {
        let doc = synthetic();
        let inner = &doc["definitions"]["v1Inner"]["properties"];
        assert_eq!(inner["big"], json!({ "type": "string", "format": "int64" }));
        assert_eq!(
            inner["small"],
            json!({ "type": "integer", "format": "int32" })
        );
        assert_eq!(inner["f"], json!({ "type": "string", "format": "uint64" }));
        assert_eq!(inner["data"], json!({ "type": "string", "format": "byte" }));
        assert_eq!(
            inner["children"]["additionalProperties"]["$ref"],
            "#/definitions/v1Inner"
        );
        assert_eq!(inner["color"]["default"], "COLOR_UNSPECIFIED");
        assert_eq!(inner["attrs"], json!({ "type": "object" }));
        assert!(doc["definitions"].get("v1InnerChildrenEntry").is_none());
    }

    #[test]
    fn parses_path_templates() {
        assert_eq!(
            parse_template("/users/{id}"),
            ("/users/{id}".into(), vec!["id".into()])
        );
        assert_eq!(
            parse_template("/a/{user.id}/b/{name=projects/*/x/**}:do"),
            (
                "/a/{user.id}/b/{name}:do".into(),
                vec!["user.id".into(), "name".into()]
            )
        );
        assert_eq!(parse_template("/x/{broken"), ("/x/{broken".into(), vec![]));
    }
}
