//! The OpenID Connect / OAuth 2.0 provider: signing keys and their JWK set so far; the
//! authorization, token, introspection and userinfo endpoints build on them.
#![deny(clippy::unwrap_used)]

pub mod claims;
pub mod error;
pub mod jwks;
pub mod settings;
pub mod userinfo;

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
        .route("/oauth/v2/keys", get(jwks::keys))
        .route(
            "/oidc/v1/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .with_state(o)
}
