//! `GET /oauth/v2/keys`: the instance's published signing keys as a JWK set.

use crate::Oidc;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::header;

/// How long clients may cache the key set (ZITADEL: 5 minutes).
const MAX_AGE: &str = "max-age=300, must-revalidate";

pub async fn keys(State(o): State<Oidc>, req: Request) -> Response {
    let host = castellan_api::gate::host(&o.st, req.headers(), req.uri());
    let keys = match castellan_api::authn::instance_by_host(&o.st.db, &o.st.cache, &host).await {
        Ok(instance) => o.st.keys.get(&o.st, &instance).await,
        Err(e) => Err(e),
    };
    match keys {
        Ok(k) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, MAX_AGE),
            ],
            k.jwks.to_string(),
        )
            .into_response(),
        Err(e) => crate::error::json(e),
    }
}
