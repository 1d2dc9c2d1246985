//! The first login page served by `/oauth/v2/authorize` itself (and by `/authorize/resume`, where
//! a posted request continues). When the authorization request needs the login name page,
//! `/authorize` would redirect the browser there; this layer serves
//! that page in the same answer instead (as Keycloak's authorization endpoint does), which
//! spares the browser a round trip. The page's forms post to `/ui/login/*` as before, and the
//! page carries the login pages' framing headers.

use crate::{frame, login_name, Login};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use castellan_oidc::authorize::LOGIN_PATH;
use http::{header, StatusCode, Uri};

/// The layer's function (`axum::middleware::from_fn_with_state`) over the provider's
/// `/authorize` and `/authorize/resume`.
pub async fn serve(State(l): State<Login>, req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let host = castellan_api::gate::host(&l.st, &headers, req.uri());
    let answer = next.run(req).await;
    let Some(page) = login_page(&answer) else {
        return answer;
    };
    let mut r = login_name::page(State(l.clone()), headers, page).await;
    frame::set(&l, &host, &mut r).await;
    r
}

/// The login name page `answer` redirects to, if it does.
fn login_page(answer: &Response) -> Option<Uri> {
    if answer.status() != StatusCode::FOUND {
        return None;
    }
    let to = answer.headers().get(header::LOCATION)?.to_str().ok()?;
    let query = to.strip_prefix(LOGIN_PATH)?.strip_prefix('?')?;
    if !query.starts_with("authRequestID=") {
        return None;
    }
    to.parse().ok()
}
