//! Account selection: the users signed in on this browser, one button each (`userID`), and a
//! link to sign in with another one.

use crate::flow::Flow;
use crate::Login;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use castellan_oidc::authorize::{escape, session_serves};
use castellan_oidc::session;
use http::{HeaderMap, StatusCode, Uri};

pub async fn page(State(l): State<Login>, headers: HeaderMap, uri: Uri) -> Response {
    let f = match Flow::for_page(&l, &headers, &uri).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let sessions = session::of_agent(&f.st, &f.instance, &f.agent)
        .await
        .unwrap_or_default();
    let mut buttons = String::new();
    for s in &sessions {
        let Ok(u) = castellan_api::app::users::get_any(&f.st, &f.instance, &s.user_id).await else {
            continue;
        };
        buttons.push_str(&format!(
            "<button class=\"account\" type=\"submit\" name=\"userID\" value=\"{}\">{}<br><small>{}</small></button>",
            escape(&u.id),
            escape(&u.display()),
            escape(&u.login_name)
        ));
    }
    let body = format!(
        "<form method=\"post\" action=\"/ui/login/select\">{}{buttons}</form><p><a href=\"/ui/login/login?authRequestID={}\">{}</a></p>",
        f.hidden(),
        escape(&f.req.handle),
        escape(f.t("select.other")),
    );
    f.page(
        StatusCode::OK,
        "select.title",
        "select.description",
        "",
        &body,
    )
    .await
}

/// The chosen account continues without a login if its session still serves the request,
/// else on the password page.
pub async fn submit(State(l): State<Login>, headers: HeaderMap, uri: Uri, body: Bytes) -> Response {
    let f = match Flow::for_form(&l, &headers, &uri, &body).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let uid = f.field("userID");
    let sessions = session::of_agent(&f.st, &f.instance, &f.agent)
        .await
        .unwrap_or_default();
    let Some(s) = sessions.into_iter().find(|s| s.user_id == uid) else {
        return crate::login_name::render(&f, "", "").await;
    };
    let now = castellan_domain::id::now_micros();
    if session_serves(&f.st, &f.instance, &s, &f.req, now).await {
        return f.finish(castellan_oidc::authorize::finish(&f.st, &f.req, &s).await);
    }
    match castellan_api::app::users::get_any(&f.st, &f.instance, &uid).await {
        Ok(u) => crate::password::render(&f, &u.login_name, "").await,
        Err(_) => crate::login_name::render(&f, "", "").await,
    }
}
