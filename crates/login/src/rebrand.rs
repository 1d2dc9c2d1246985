//! Pages drawn before the instance was known (the provider's error and signed-out pages, the
//! login's stops) carry what they say ([`PlainPage`]); this layer draws them again in the
//! branding of the instance the request's host names, so that every page a user meets looks
//! like the login, and in the language the login would pick (the browser's, else the
//! instance's). A host that names no instance keeps the plain page.

use crate::{i18n, page, Login};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use castellan_oidc::authorize_response::PlainPage;
use http::header;

/// The layer's function (`axum::middleware::from_fn_with_state`).
pub async fn pages(State(l): State<Login>, req: Request, next: Next) -> Response {
    let host = castellan_api::gate::host(&l.st, req.headers(), req.uri());
    let accept = i18n::accept_language(req.headers()).to_string();
    let mut r = next.run(req).await;
    let Some(mut p) = r.extensions_mut().remove::<PlainPage>() else {
        return r;
    };
    let Ok(instance) = castellan_api::authn::instance_by_host(&l.st.db, &l.st.cache, &host).await
    else {
        return r;
    };
    if !p.lang_chosen {
        let lang = i18n::pick(&l.st, &instance, "", &accept).await;
        if !p.key.is_empty() {
            p.title = i18n::text(lang, "error.title").into();
            p.error = i18n::text(lang, &p.key).into();
            p.lang = lang.into();
        } else if let Some(title) = i18n::provider_text(lang, &p.title) {
            let own = |t: &mut String| {
                if let Some(x) = i18n::provider_text(lang, t) {
                    *t = x.into();
                }
            };
            own(&mut p.description);
            own(&mut p.error);
            p.title = title.into();
            p.lang = lang.into();
        }
    }
    let brand = page::brand(&l.st, &instance, "", &host).await;
    let html = page::render(&brand, &p.lang, &p.title, &p.description, &p.error, &p.body);
    r.headers_mut().remove(header::CONTENT_LENGTH);
    *r.body_mut() = Body::from(html);
    r
}
