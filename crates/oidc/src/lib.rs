//! The OpenID Connect / OAuth 2.0 provider: discovery, JWKS, authorize, token, introspection,
//! userinfo, revocation and end session, and the browser sessions and claims they share.
#![deny(clippy::unwrap_used)]

pub mod auth_request;
pub mod authorize;
pub mod authorize_callback;
pub mod authorize_response;
pub mod claims;
pub mod client_auth;
pub mod device_authorization;
pub mod discovery;
pub mod end_session;
pub mod error;
pub mod grant_client_credentials;
pub mod grant_code;
pub mod grant_device;
pub mod grant_jwt_profile;
pub mod grant_refresh;
pub mod grant_token_exchange;
pub mod introspect;
pub mod jwks;
pub mod login_grant;
pub mod mint;
pub mod oauth_error;
pub mod revoke;
pub mod scopes;
pub mod session;
pub mod settings;
pub mod token;
pub mod userinfo;

use axum::routing::{get, post};
use axum::Router;
use castellan_api::state::St;
use std::sync::Arc;

/// What the provider's handlers share.
#[derive(Clone)]
pub struct Oidc {
    pub st: St,
    /// Clients and machine users, kept parsed.
    pub clients: Arc<client_auth::Clients>,
}

/// The provider's routes. `wrap` layers the two routes where a browser arrives with an
/// authorization request (`/authorize` and `/authorize/resume`): the hosted login serves its
/// first page there. `pages` layers every route that answers a browser with a page (those
/// two, the callback and end session): the hosted login draws them in the instance's
/// branding ([`authorize_response::PlainPage`]).
pub fn router(
    st: St,
    wrap: impl FnOnce(Router) -> Router,
    pages: impl FnOnce(Router) -> Router,
) -> Router {
    let o = Oidc {
        st,
        clients: Arc::default(),
    };
    let arrivals = Router::new()
        .route(
            authorize::AUTHORIZE_PATH,
            get(authorize::get).post(authorize::post),
        )
        .route(authorize::RESUME_PATH, get(authorize::resume))
        .with_state(o.clone());
    let browser = Router::new()
        .route(authorize::CALLBACK_PATH, get(authorize::callback))
        .route(
            "/oidc/v1/end_session",
            get(end_session::get).post(end_session::post),
        )
        .with_state(o.clone())
        .merge(wrap(arrivals));
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::configuration),
        )
        .route("/oauth/v2/token", post(token::token))
        .route(
            device_authorization::PATH,
            post(device_authorization::device_authorization),
        )
        .route("/oauth/v2/introspect", post(introspect::introspect))
        .route("/oauth/v2/revoke", post(revoke::revoke))
        .route("/oauth/v2/keys", get(jwks::keys))
        .route(
            "/oidc/v1/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .with_state(o)
        .merge(pages(browser))
        .method_not_allowed_fallback(wrong_method)
}

/// The answer to a method an endpoint does not take: an OAuth error naming it.
async fn wrong_method(method: http::Method, uri: http::Uri) -> oauth_error::OAuthError {
    oauth_error::OAuthError::method_not_allowed(&method, uri.path())
}
