//! The OpenID Connect / OAuth 2.0 provider: signing keys and their JWK set so far; the
//! authorization, token, introspection and userinfo endpoints build on them.
#![deny(clippy::unwrap_used)]

pub mod error;
pub mod jwks;
pub mod keys;

use axum::routing::get;
use axum::Router;
use castellan_api::state::St;
use std::sync::Arc;

/// What the provider's handlers share.
#[derive(Clone)]
pub struct Oidc {
    pub st: St,
    pub keys: Arc<keys::KeyRing>,
}

/// The provider's routes.
pub fn router(st: St, key_config: keys::KeyConfig) -> Router {
    let o = Oidc {
        st,
        keys: Arc::new(keys::KeyRing::new(key_config)),
    };
    Router::new()
        .route("/oauth/v2/keys", get(jwks::keys))
        .with_state(o)
}
