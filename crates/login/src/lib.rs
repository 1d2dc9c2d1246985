//! The hosted login (`/ui/login`): server-rendered pages that sign a user in for an
//! authorization request of the OpenID provider: login name, password, password change,
//! account selection, registration. Browser sessions and requests live in `castellan_oidc`.
#![deny(clippy::unwrap_used)]

pub mod csrf;
pub mod device;
pub mod first_page;
pub mod flow;
pub mod frame;
pub mod i18n;
pub mod login_name;
pub mod page;
pub mod palette;
pub mod password;
pub mod rate_limit;
pub mod rebrand;
pub mod register;
pub mod select;
pub mod users;

use axum::response::Response;
use axum::routing::{any, get, post};
use axum::Router;
use castellan_api::state::St;
use http::StatusCode;
use std::sync::Arc;

/// What the login's handlers share.
#[derive(Clone)]
pub struct Login {
    pub st: St,
    /// A hash of a random password with this server's parameters, verified against when a
    /// login name names nobody.
    pub dummy_hash: Arc<tokio::sync::OnceCell<String>>,
}

impl Login {
    /// The client's address (the TCP peer, or behind trusted proxies the one
    /// `X-Forwarded-For` names), for the rate limits.
    pub fn client_address(
        &self,
        extensions: &http::Extensions,
        headers: &http::HeaderMap,
    ) -> String {
        extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| {
                self.st
                    .cfg
                    .trusted_proxies
                    .client(c.0.ip(), headers)
                    .to_string()
            })
            .unwrap_or_default()
    }

    /// Spends the time of one password verification.
    pub async fn waste_a_hash(&self, password: &str) {
        let st = self.st.clone();
        let hash = self
            .dummy_hash
            .get_or_try_init(|| st.hash_password(castellan_api::app::tokens::random_token()))
            .await;
        if let Ok(h) = hash {
            let _ = self
                .st
                .verify_password(password.to_string(), h.clone())
                .await;
        }
    }
}

/// The login's routes, with the OpenID provider's: `frame::headers` sets every page's framing
/// headers, and the provider's authorization endpoint serves the first login page itself
/// ([`first_page`]).
pub fn router(st: St) -> Router {
    let l = Login {
        st: st.clone(),
        dummy_hash: Arc::default(),
    };
    let first = l.clone();
    let rebrand = axum::middleware::from_fn_with_state(l.clone(), rebrand::pages);
    let provider = castellan_oidc::router(
        st,
        move |arrivals| {
            arrivals.layer(axum::middleware::from_fn_with_state(
                first,
                first_page::serve,
            ))
        },
        |pages| pages.layer(rebrand.clone()),
    );
    let pages = Router::new()
        .route("/device", get(device::page).post(device::submit))
        .route("/ui/login/login", get(login_name::page))
        .route("/ui/login/loginname", post(login_name::submit))
        .route("/ui/login/password", post(password::submit))
        .route("/ui/login/password/change", post(password::change))
        .route("/ui/login/select", get(select::page).post(select::submit))
        .route(
            "/ui/login/register",
            get(register::page).post(register::submit),
        )
        .route("/ui/login", any(no_page))
        .route("/ui/login/{*rest}", any(no_page))
        .method_not_allowed_fallback(wrong_method)
        .layer(rebrand)
        .layer(axum::middleware::from_fn_with_state(
            l.clone(),
            frame::headers,
        ))
        .with_state(l);
    provider.merge(pages)
}

/// A path under the login that names no page: a page that says so (404).
async fn no_page() -> Response {
    flow::stop(StatusCode::NOT_FOUND, "", "error.page")
}

/// A page asked for with a method it does not take (a form's address opened as a link): a page
/// that says so (405; the `Allow` header lists the methods it takes).
async fn wrong_method() -> Response {
    flow::stop(StatusCode::METHOD_NOT_ALLOWED, "", "error.method")
}
