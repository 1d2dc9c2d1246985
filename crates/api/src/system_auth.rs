//! System users (`SystemAPIUsers`): callers of the system API who authenticate with a JWT they
//! sign themselves (`iss` = `sub` = the user's name, `aud` = the external origin) with the key
//! whose public half is in the configuration.

use crate::ctx::Principal;
use crate::error::{ApiErr, R};
use castellan_domain::jwt::{Jwt, VerifyingKey};
use castellan_domain::{Error, Kind};
use std::collections::HashMap;
use std::sync::Arc;

/// A configured system user.
#[derive(Debug, Clone)]
pub struct SystemUser {
    pub name: String,
    pub key: VerifyingKey,
    /// System roles (SYSTEM_OWNER, SYSTEM_OWNER_VIEWER); SYSTEM_OWNER when none are configured.
    pub roles: Vec<String>,
}

/// Tolerated clock difference, seconds.
const SKEW: i64 = 60;
/// Tokens older than this (by `iat`) are refused, seconds.
const MAX_AGE: i64 = 3600;

fn unauthenticated(id: &'static str, detail: impl Into<std::borrow::Cow<'static, str>>) -> ApiErr {
    ApiErr(Error::new(Kind::Unauthenticated, id, "Errors.Token.Invalid").with(detail))
}

/// Verifies a system user's bearer JWT; `audiences` are the origins it may be addressed to.
pub fn authenticate(
    users: &[SystemUser],
    audiences: &[String],
    header: Option<&str>,
) -> R<Arc<Principal>> {
    let header = header.ok_or_else(|| {
        ApiErr(Error::new(
            Kind::Unauthenticated,
            "SYSAUTH-m1ss1",
            "Errors.Token.Missing",
        ))
    })?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(|| unauthenticated("SYSAUTH-b3ar1", "expected a Bearer token"))?;
    let jwt = Jwt::parse(token).map_err(ApiErr)?;
    let iss = jwt.claim("iss").unwrap_or_default().to_string();
    let user = users.iter().find(|u| u.name == iss).ok_or_else(|| {
        ApiErr(
            Error::new(
                Kind::Unauthenticated,
                "SYSAUTH-us3r1",
                "Errors.System.User.Unknown",
            )
            .with(format!("no system user named \"{iss}\"")),
        )
    })?;
    jwt.verify(&user.key).map_err(ApiErr)?;
    if jwt.claim("sub") != Some(iss.as_str()) {
        return Err(unauthenticated("SYSAUTH-sub01", "sub must equal iss"));
    }
    let now = castellan_domain::id::now_micros() / 1_000_000;
    jwt.check_times(now, SKEW, Some(MAX_AGE)).map_err(ApiErr)?;
    if !jwt.audience_contains(audiences) {
        return Err(unauthenticated(
            "SYSAUTH-aud01",
            format!("aud must contain {}", audiences.join(" or ")),
        ));
    }
    let exp = jwt
        .claims
        .get("exp")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(now);
    Ok(Arc::new(Principal {
        instance_id: String::new(),
        user_id: user.name.clone(),
        org_id: String::new(),
        login_name: user.name.clone(),
        display_name: user.name.clone(),
        instance_roles: Vec::new(),
        org_roles: HashMap::new(),
        project_roles: HashMap::new(),
        grant_roles: HashMap::new(),
        system_roles: user.roles.clone(),
        expires: exp.saturating_mul(1_000_000),
        session_id: None,
    }))
}
