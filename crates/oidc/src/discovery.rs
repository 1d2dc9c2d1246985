//! `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0): what this provider
//! really supports, every URL under the issuer the request came to.

use crate::Oidc;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::header;
use serde_json::json;

const MAX_AGE: &str = "max-age=300";

/// Claims the provider may put into ID tokens, userinfo and introspection answers.
const CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "azp",
    "at_hash",
    "c_hash",
    "sid",
    "client_id",
    "name",
    "given_name",
    "family_name",
    "nickname",
    "preferred_username",
    "gender",
    "locale",
    "updated_at",
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
    "urn:zitadel:iam:org:project:roles",
    "urn:zitadel:iam:user:metadata",
    "urn:zitadel:iam:user:resourceowner:id",
    "urn:zitadel:iam:user:resourceowner:name",
    "urn:zitadel:iam:user:resourceowner:primary_domain",
];

pub async fn configuration(State(o): State<Oidc>, req: Request) -> Response {
    let c = match crate::token::call(&o, req.headers(), req.uri()).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let alg = match o.st.keys.get(&o.st, &c.instance).await {
        Ok(k) => k.signer.alg.name(),
        Err(e) => return crate::error::json(e),
    };
    let pkce: &[&str] = match crate::settings::of_instance(&o.st, &c.instance).await {
        Ok(s) if s.pkce_plain_allowed => &["S256", "plain"],
        Ok(_) => &["S256"],
        Err(e) => return crate::error::json(e),
    };
    let client_auth = [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    ];
    let doc = json!({
        "issuer": c.issuer,
        "authorization_endpoint": c.url("/oauth/v2/authorize"),
        "token_endpoint": c.url("/oauth/v2/token"),
        "device_authorization_endpoint": c.url(crate::device_authorization::PATH),
        "introspection_endpoint": c.url("/oauth/v2/introspect"),
        "userinfo_endpoint": c.url("/oidc/v1/userinfo"),
        "revocation_endpoint": c.url("/oauth/v2/revoke"),
        "end_session_endpoint": c.url("/oidc/v1/end_session"),
        "jwks_uri": c.url("/oauth/v2/keys"),
        "scopes_supported": crate::scopes::SUPPORTED,
        "response_types_supported": ["code", "id_token", "id_token token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "authorization_response_iss_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent", "select_account", "create"],
        "grant_types_supported": [
            "authorization_code",
            "implicit",
            "refresh_token",
            "client_credentials",
            crate::grant_token_exchange::GRANT,
            crate::token::JWT_BEARER,
            crate::grant_device::DEVICE_CODE,
        ],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [alg],
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "token_endpoint_auth_methods_supported": client_auth,
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "introspection_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "revocation_endpoint_auth_methods_supported": client_auth,
        "revocation_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "code_challenge_methods_supported": pkce,
        "claims_supported": CLAIMS,
        "claims_parameter_supported": false,
        "ui_locales_supported": castellan_api::app::instance::SUPPORTED_LANGUAGES,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    });
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, MAX_AGE),
        ],
        doc.to_string(),
    )
        .into_response()
}
