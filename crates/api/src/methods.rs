//! The method table, read once from the embedded descriptor set: for every RPC its gRPC path,
//! its declared permission (custom option `zitadel.v1.auth_option`) and its REST bindings
//! (`google.api.http`). The REST router, the authorisation layer and OpenAPI all use it.

use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, MethodDescriptor, Value};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Which API a method belongs to; decides how its permission is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Auth,
    Management,
    Admin,
    System,
}

impl Api {
    /// Full proto service name and REST base path.
    pub const ALL: [(Api, &'static str, &'static str, &'static str); 4] = [
        (Api::Auth, "zitadel.auth.v1.AuthService", "/auth/v1", "auth"),
        (
            Api::Management,
            "zitadel.management.v1.ManagementService",
            "/management/v1",
            "management",
        ),
        (
            Api::Admin,
            "zitadel.admin.v1.AdminService",
            "/admin/v1",
            "admin",
        ),
        (
            Api::System,
            "zitadel.system.v1.SystemService",
            "/system/v1",
            "system",
        ),
    ];
}

/// One REST binding of a method.
#[derive(Debug, Clone)]
pub struct Binding {
    pub verb: http::Method,
    /// Full path template including the service base, e.g. `/management/v1/users/{id}`.
    pub template: String,
    /// `""` (no body), `"*"` or a field name.
    pub body: String,
}

/// Everything the transports need to know about one RPC.
#[derive(Debug, Clone)]
pub struct Method {
    pub api: Api,
    pub name: String,
    /// `/zitadel.management.v1.ManagementService/ListUsers`
    pub grpc_path: String,
    /// The declared permission; `none` = no token needed, `authenticated` = any valid token.
    pub permission: String,
    pub check_field: String,
    pub input: MessageDescriptor,
    pub output: MessageDescriptor,
    pub bindings: Vec<Binding>,
}

/// The method table.
pub struct Methods {
    pub pool: DescriptorPool,
    pub all: Vec<Arc<Method>>,
    by_path: HashMap<String, Arc<Method>>,
}

impl Methods {
    /// The process-wide table (the descriptor set is compiled in and validated by tests).
    pub fn get() -> &'static Methods {
        static M: OnceLock<Methods> = OnceLock::new();
        M.get_or_init(|| {
            Methods::load(castellan_proto::DESCRIPTOR_SET)
                .unwrap_or_else(|e| panic!("embedded descriptor set is invalid: {e}"))
        })
    }

    /// Reads the table from an encoded descriptor set.
    pub fn load(bytes: &[u8]) -> Result<Methods, String> {
        let pool = DescriptorPool::decode(bytes).map_err(|e| e.to_string())?;
        let http_ext = pool
            .get_extension_by_name("google.api.http")
            .ok_or("google.api.http missing")?;
        let auth_ext = pool
            .get_extension_by_name("zitadel.v1.auth_option")
            .ok_or("zitadel.v1.auth_option missing")?;
        let mut all = Vec::new();
        for (api, svc_name, base, _) in Api::ALL {
            let svc = pool
                .get_service_by_name(svc_name)
                .ok_or_else(|| format!("service {svc_name} missing"))?;
            for m in svc.methods() {
                let opts = m.options();
                let (permission, check_field) = if opts.has_extension(&auth_ext) {
                    let v = opts.get_extension(&auth_ext);
                    let msg = v.as_message().cloned();
                    (
                        field_str(msg.as_ref(), "permission"),
                        field_str(msg.as_ref(), "check_field_name"),
                    )
                } else {
                    (String::new(), String::new())
                };
                let mut bindings = Vec::new();
                if opts.has_extension(&http_ext) {
                    if let Some(rule) = opts.get_extension(&http_ext).as_message() {
                        collect_bindings(rule, base, &mut bindings);
                    }
                }
                all.push(Arc::new(method(api, &m, permission, check_field, bindings)));
            }
        }
        let by_path = all
            .iter()
            .map(|m| (m.grpc_path.clone(), m.clone()))
            .collect();
        Ok(Methods { pool, all, by_path })
    }

    /// Looks a method up by its gRPC path.
    pub fn by_path(&self, path: &str) -> Option<&Arc<Method>> {
        self.by_path.get(path)
    }
}

fn method(
    api: Api,
    m: &MethodDescriptor,
    permission: String,
    check_field: String,
    bindings: Vec<Binding>,
) -> Method {
    Method {
        api,
        name: m.name().to_string(),
        grpc_path: format!("/{}/{}", m.parent_service().full_name(), m.name()),
        permission,
        check_field,
        input: m.input(),
        output: m.output(),
        bindings,
    }
}

fn field_str(msg: Option<&DynamicMessage>, name: &str) -> String {
    msg.and_then(|m| m.get_field_by_name(name))
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn collect_bindings(rule: &DynamicMessage, base: &str, out: &mut Vec<Binding>) {
    let body = field_str(Some(rule), "body");
    for (verb, field) in [
        (http::Method::GET, "get"),
        (http::Method::PUT, "put"),
        (http::Method::POST, "post"),
        (http::Method::DELETE, "delete"),
        (http::Method::PATCH, "patch"),
    ] {
        let path = field_str(Some(rule), field);
        if !path.is_empty() {
            out.push(Binding {
                verb,
                template: format!("{base}{path}"),
                body: body.clone(),
            });
        }
    }
    if let Some(Value::List(extra)) = rule
        .get_field_by_name("additional_bindings")
        .map(|c| c.into_owned())
    {
        for b in extra.iter().filter_map(Value::as_message) {
            collect_bindings(b, base, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rpc_declares_a_permission_and_a_route() {
        let m = Methods::get();
        assert!(m.all.len() > 50);
        for x in &m.all {
            assert!(
                !x.permission.is_empty(),
                "{} declares no permission",
                x.grpc_path
            );
            assert!(
                !x.bindings.is_empty(),
                "{} has no REST binding",
                x.grpc_path
            );
        }
        let get_user = m
            .by_path("/zitadel.management.v1.ManagementService/GetUserByID")
            .expect("GetUserByID");
        assert_eq!(get_user.permission, "user.read");
        assert_eq!(get_user.bindings[0].template, "/management/v1/users/{id}");
    }
}
