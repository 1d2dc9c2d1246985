//! The OpenID Connect / OAuth 2.0 provider: signing keys and their JWK set so far; the
//! authorization, token, introspection and userinfo endpoints build on them.
#![deny(clippy::unwrap_used)]

pub mod auth_request;
pub mod authorize;
pub mod claims;
pub mod end_session;
pub mod error;
pub mod jwks;
pub mod session;
pub mod settings;

use axum::routing::get;
use axum::Router;
use castellan_api::state::St;

/// What the provider's handlers share.
#[derive(Clone)]
pub struct Oidc {
    pub st: St,
}

/// The provider's routes.
pub fn router(st: St) -> Router {
    let o = Oidc { st };
    Router::new()
        .route(
            "/oauth/v2/authorize",
            get(authorize::get).post(authorize::post),
        )
        .route("/oauth/v2/authorize/callback", get(authorize::callback))
        .route("/oauth/v2/authorize/resume", get(authorize::resume))
        .route(
            "/oidc/v1/end_session",
            get(end_session::get).post(end_session::post),
        )
        .route("/oauth/v2/keys", get(jwks::keys))
        .with_state(o)
}
